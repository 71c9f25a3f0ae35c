import { setTimeout as sleep } from 'node:timers/promises';
import { ExchangeUnavailableError } from '../exchange/index.ts';

export interface RetryPolicy {
  readonly attempts: number;
  /** Delay before the second attempt; doubles each time. */
  readonly initialDelayMs: number;
  /** Aborted when the process stops: no further attempt, no waiting out the backoff. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 250 };

/** Retries transient exchange failures with exponential backoff; anything else fails at once. */
export async function withRetry<T>(work: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  let delay = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ExchangeUnavailableError) || attempt >= policy.attempts || policy.signal?.aborted) throw error;
      // An abort ends the wait at once (Node's abortable timer); the exchange's error is what the caller gets.
      await sleep(delay, undefined, policy.signal ? { signal: policy.signal } : {}).catch(() => {});
      if (policy.signal?.aborted) throw error;
      delay *= 2;
    }
  }
}
