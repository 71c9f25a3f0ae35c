import { TelegramError, type Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { Logger } from '../observability/index.ts';
import { sleepUnlessAborted } from '../clock/index.ts';

export interface PollerOptions {
  /** Seconds Telegram holds a getUpdates open when there is nothing new. */
  readonly longPollS?: number;
  /**
   * A server that answers an empty getUpdates at once (an emulator) would be asked again in a
   * tight loop: after a quick empty answer the poller waits this long.
   */
  readonly idleMs?: number;
  readonly allowedUpdates?: readonly string[];
}

/**
 * Long polling, with telegraf's client: one getUpdates at a time; each update is handed to
 * `accept`, which may wait (back-pressure) but not for the update's handling, so a slow agent
 * turn in one chat never holds up the others. The offset (what Telegram may forget) only
 * moves past updates that were taken. Network failures and 5xx back off and retry; a
 * 429 waits retry_after; 409 (a webhook is set, or another poller runs) waits and retries; a
 * rejected token (401) stops polling with one error line.
 */
export class Poller {
  private readonly telegram: Telegram;
  private readonly logger: Logger;
  private readonly accept: (update: Update) => Promise<boolean>;
  private readonly options: Required<PollerOptions>;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** The next update id to ask for (everything before it is confirmed to Telegram on the next call). */
  offset = 0;

  constructor(telegram: Telegram, logger: Logger, accept: (update: Update) => Promise<boolean>, options: PollerOptions = {}) {
    this.telegram = telegram;
    this.logger = logger;
    this.accept = accept;
    this.options = {
      longPollS: 25,
      idleMs: 50,
      allowedUpdates: ['message', 'edited_message', 'callback_query', 'my_chat_member'],
      ...options,
    };
  }

  start(): void {
    this.loop ??= this.run();
  }

  get running(): boolean {
    return this.loop !== undefined && !this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const started = performance.now();
      let updates: Update[];
      try {
        updates = (await this.telegram.callApi(
          'getUpdates',
          { offset: this.offset, timeout: this.options.longPollS, allowed_updates: [...this.options.allowedUpdates] } as never,
          { signal: signal as never },
        )) as Update[];
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        if (error instanceof TelegramError && error.code === 401) {
          this.logger.error('Telegram rejected the bot token (401): the Telegram door stops; check TELEGRAM_BOT_TOKEN');
          break;
        }
        const retryAfter =
          error instanceof TelegramError && error.code === 429 ? Number(error.parameters?.retry_after ?? 1) * 1000 : undefined;
        const wait =
          retryAfter ??
          (error instanceof TelegramError && error.code === 409 ? 5_000 : Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6)));
        this.logger.warn({ reason: describe(error), retryInMs: wait }, 'Telegram getUpdates failed; retrying');
        await sleepUnlessAborted(wait, signal);
        continue;
      }
      for (const update of updates) {
        // Not taken (stopping): left unconfirmed, so Telegram hands it out again after a restart.
        if (!(await this.accept(update))) break;
        if (update.update_id >= this.offset) this.offset = update.update_id + 1;
      }
      if (updates.length === 0 && performance.now() - started < this.options.idleMs) await sleepUnlessAborted(this.options.idleMs, signal);
    }
  }

  /** Stops asking for updates (the call in progress is abandoned). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** Tells Telegram that everything up to `offset` was handled, so a restart does not see it again. */
  async confirm(): Promise<void> {
    if (this.offset === 0) return;
    await this.telegram.callApi('getUpdates', { offset: this.offset, limit: 1, timeout: 0 } as never).catch(() => {});
  }
}

/** An error in one line, without the bot token (telegraf puts it in URLs). */
export function describe(error: unknown): string {
  if (error instanceof TelegramError) return `${error.code} ${error.description}`;
  const e = error as { code?: string; message?: string };
  return `${e.code ?? ''} ${e.message ?? String(error)}`
    .replace(/bot\d+:[A-Za-z0-9_-]+/g, 'bot[REDACTED]')
    .trim()
    .slice(0, 300);
}
