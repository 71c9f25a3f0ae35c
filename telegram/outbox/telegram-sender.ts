import { Telegram, TelegramError } from 'telegraf';
import type { Message } from 'telegraf/types';
import type { RateLimiter, AcquireOptions } from './limiter.ts';
import { ProductError } from '../../errors/index.ts';

/**
 * What became of one call to Telegram, in the terms the outbox needs:
 * - `rate_limited`: a 429; nothing may go to that chat for `retryAfterS` (the limiter is
 *   already paused), and the message is to be sent again afterwards.
 * - `permanent`: Telegram refused this message for good (403 blocked by the user, 400 chat
 *   not found or a malformed message); retrying cannot help.
 * - `transient`: Telegram or the network is down or answered 5xx / timed out; retry later.
 *   `outage` when the whole API looks unreachable (every chat would fail alike).
 */
export type SendFailure =
  | { readonly kind: 'rate_limited'; readonly retryAfterS: number; readonly global: boolean; readonly description: string }
  | { readonly kind: 'permanent'; readonly code: number; readonly description: string }
  | {
      readonly kind: 'transient';
      readonly outage: boolean;
      /**
       * The request may have reached Telegram and been accepted before it failed here (it timed
       * out, or the connection was cut after it was written): sending again may duplicate it.
       */
      readonly maybeDelivered: boolean;
      readonly description: string;
    };

export class TelegramSendError extends ProductError {
  readonly category = 'unavailable' as const;
  readonly failure: SendFailure;
  constructor(failure: SendFailure, options?: { cause?: unknown }) {
    super(failure.description, options);
    this.name = 'TelegramSendError';
    this.failure = failure;
  }
}

/** Sorts an error from telegraf (or the network under it) into the three kinds above. */
export function classifyTelegramError(error: unknown): SendFailure {
  if (error instanceof TelegramError) {
    const code = error.code;
    const description = `${code} ${error.description ?? ''}`.trim();
    if (code === 429) {
      const retryAfterS = Math.max(1, Number(error.parameters?.retry_after ?? 1));
      return { kind: 'rate_limited', retryAfterS, global: false, description };
    }
    // 403: blocked by the user, user deactivated, bot kicked from the group.
    // 400: chat not found, peer invalid, malformed text: the same request would fail again.
    if (code === 403 || code === 400) return { kind: 'permanent', code, description };
    // 401/404 (bad token, wrong API root) are our configuration, not the message: keep it
    // and retry, like any 5xx.
    return { kind: 'transient', outage: code >= 500 || code === 401 || code === 404, maybeDelivered: false, description };
  }
  const err = error as { name?: string; code?: string; type?: string; message?: string };
  const text = `${err.code ?? err.type ?? err.name ?? 'error'}: ${err.message ?? String(error)}`.replace(
    /\/bot[^/\s]+\//g,
    '/bot[REDACTED]/',
  );
  const unreachable = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(
    err.code ?? '',
  );
  const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError' || err.type === 'aborted';
  // Refused or unresolvable connections never carried the request; a timeout or a connection
  // cut mid-request may have, after Telegram accepted it.
  const maybeDelivered = timedOut || ['ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(err.code ?? '');
  return { kind: 'transient', outage: unreachable || timedOut, maybeDelivered, description: text };
}

export interface TelegramSenderOptions {
  /** The bot token (never logged). */
  readonly botToken: string;
  /** Telegram's API root, or the emulator's in tests. */
  readonly apiRoot: string;
  /** Shared by everything that talks to this bot token in this process. */
  readonly limiter: RateLimiter;
  /** A request taking longer is abandoned (and counts as transient). Default 15 s. */
  readonly requestTimeoutMs?: number;
  /** A second 429 on another chat within this window makes the pause global. Default 1 s. */
  readonly globalFloodWindowMs?: number;
}

export interface SendOptions extends AcquireOptions {
  /** No sound on the phone (the "silent" preference). */
  readonly silent?: boolean;
  readonly parseMode?: 'HTML' | 'MarkdownV2';
  readonly replyMarkup?: unknown;
  /** Called the moment the slot is granted, just before the request leaves. */
  readonly onGranted?: () => void;
}

export type ChatId = number | string | bigint;

/** A chat id as the Bot API takes it: a number when it fits exactly, text otherwise. */
export function chatIdParam(chatId: ChatId): number | string {
  if (typeof chatId === 'bigint')
    return chatId >= BigInt(Number.MIN_SAFE_INTEGER) && chatId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(chatId) : chatId.toString();
  return chatId;
}

/**
 * Every outgoing message of this bot, through one rate limiter: the outbox's notifications,
 * and the bot's own photos (charts) or replies when it calls `sendMessage` / `sendPhoto`
 * here. A 429 pauses the chat in the limiter for `retry_after` (globally when a second chat
 * is throttled within `globalFloodWindowMs`: Telegram's flood limit then is the bot's, not
 * the chat's), and the call fails with `TelegramSendError` so the caller decides what to
 * retry. Use `withRetryOn429` for interactive sends that should simply wait and go again.
 */
export class TelegramSender {
  readonly telegram: Telegram;
  readonly limiter: RateLimiter;
  private readonly requestTimeoutMs: number;
  private readonly globalFloodWindowMs: number;
  private readonly recent429: { chat: string; at: number }[] = [];
  /** Seen since start (reports, benchmarks, metrics). */
  readonly stats = { sent: 0, rateLimited: 0, permanent: 0, transient: 0 };

  constructor(options: TelegramSenderOptions) {
    this.telegram = new Telegram(options.botToken, { apiRoot: options.apiRoot });
    this.limiter = options.limiter;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.globalFloodWindowMs = options.globalFloodWindowMs ?? 1_000;
  }

  /** Longest time one call may take once granted (the outbox keeps its lease clear of it). */
  get maxCallMs(): number {
    return this.requestTimeoutMs;
  }

  async sendMessage(chatId: ChatId, text: string, options: SendOptions = {}): Promise<Message.TextMessage> {
    const payload = {
      chat_id: chatIdParam(chatId),
      text,
      ...(options.parseMode ? { parse_mode: options.parseMode } : {}),
      ...(options.silent ? { disable_notification: true } : {}),
      ...(options.replyMarkup ? { reply_markup: options.replyMarkup } : {}),
      link_preview_options: { is_disabled: true },
    };
    return this.call(
      chatId,
      options,
      (signal) => this.telegram.callApi('sendMessage', payload as never, { signal: signal as never }) as Promise<Message.TextMessage>,
    );
  }

  /** A PNG (a chart) as a photo, with an optional caption, through the same limits. */
  async sendPhoto(
    chatId: ChatId,
    png: Buffer,
    options: SendOptions & { caption?: string; filename?: string } = {},
  ): Promise<Message.PhotoMessage> {
    const payload = {
      chat_id: chatIdParam(chatId),
      photo: { source: png, filename: options.filename ?? 'chart.png' },
      ...(options.caption ? { caption: options.caption } : {}),
      ...(options.parseMode ? { parse_mode: options.parseMode } : {}),
      ...(options.silent ? { disable_notification: true } : {}),
      ...(options.replyMarkup ? { reply_markup: options.replyMarkup } : {}),
    };
    return this.call(
      chatId,
      options,
      (signal) => this.telegram.callApi('sendPhoto', payload as never, { signal: signal as never }) as Promise<Message.PhotoMessage>,
    );
  }

  /**
   * Runs `send` again after each 429 (the limiter already waits out `retry_after`), up to
   * `attempts` times; other failures are thrown at once.
   */
  async withRetryOn429<T>(send: () => Promise<T>, attempts = 3): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof TelegramSendError) || error.failure.kind !== 'rate_limited' || attempt >= attempts) throw error;
      }
    }
  }

  private async call<T>(chatId: ChatId, options: SendOptions, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const chat = String(chatId);
    await this.limiter.acquire(chat, options);
    options.onGranted?.();
    try {
      const result = await request(AbortSignal.timeout(this.requestTimeoutMs));
      this.stats.sent++;
      return result;
    } catch (error) {
      const failure = this.onFailure(chat, classifyTelegramError(error));
      throw new TelegramSendError(failure, { cause: error });
    }
  }

  private onFailure(chat: string, failure: SendFailure): SendFailure {
    if (failure.kind === 'permanent') this.stats.permanent++;
    if (failure.kind === 'transient') this.stats.transient++;
    if (failure.kind !== 'rate_limited') return failure;
    this.stats.rateLimited++;
    const now = this.limiter.now();
    const until = now + failure.retryAfterS * 1000;
    this.limiter.pauseChat(chat, until);
    while (this.recent429.length > 0 && this.recent429[0]!.at < now - this.globalFloodWindowMs) this.recent429.shift();
    const global = this.recent429.some((entry) => entry.chat !== chat);
    this.recent429.push({ chat, at: now });
    if (global) this.limiter.pauseAll(until);
    return { ...failure, global };
  }
}
