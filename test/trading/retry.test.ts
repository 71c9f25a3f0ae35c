import { describe, expect, it } from 'vitest';
import { ExchangeRejectedError, ExchangeUnavailableError, withRetry } from '../../trading/index.ts';

describe('withRetry', () => {
  it('retries an unreachable exchange with backoff, and anything else not at all', async () => {
    let calls = 0;
    expect(
      await withRetry(async () => (++calls < 3 ? Promise.reject(new ExchangeUnavailableError('binance: timeout')) : 'ok'), {
        attempts: 4,
        initialDelayMs: 1,
      }),
    ).toBe('ok');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ExchangeRejectedError('bad symbol');
        },
        { attempts: 4, initialDelayMs: 1 },
      ),
    ).rejects.toThrow('bad symbol');
    expect(calls).toBe(1);
  });

  it('gives up at once when the process stops: no further attempt, the backoff not waited out', async () => {
    const stopping = new AbortController();
    let calls = 0;
    // An hour of backoff: the test would time out if withRetry waited for it.
    const retried = withRetry(
      async () => {
        calls++;
        if (calls === 1) setImmediate(() => stopping.abort());
        throw new ExchangeUnavailableError('binance: getaddrinfo ENOTFOUND api.binance.com');
      },
      { attempts: 4, initialDelayMs: 3_600_000, signal: stopping.signal },
    );
    await expect(retried).rejects.toThrow('ENOTFOUND');
    expect(calls).toBe(1);
    const already = new AbortController();
    already.abort();
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ExchangeUnavailableError('down');
        },
        {
          attempts: 4,
          initialDelayMs: 3_600_000,
          signal: already.signal,
        },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(1);
  });
});
