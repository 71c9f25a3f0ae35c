import { AsyncLocalStorage } from 'node:async_hooks';
import { TelegramError, type Telegram } from 'telegraf';
import type { Logger } from '../observability/index.ts';
import { markdownToPlainText, markdownToTelegramHtml } from './markdown.ts';
import { splitMessage } from './split.ts';

/** A button under a message: it sends `callback_data` back to the bot, or opens `url`. */
export type InlineButton = { readonly text: string; readonly callback_data: string } | { readonly text: string; readonly url: string };
export type InlineKeyboard = { readonly inline_keyboard: readonly (readonly InlineButton[])[] };
/** Telegram's reply keyboard: buttons in place of the phone's keyboard, each sending its text as a message. */
export type ReplyKeyboard = {
  readonly keyboard: readonly (readonly { readonly text: string }[])[];
  readonly resize_keyboard?: boolean;
  readonly is_persistent?: boolean;
  readonly input_field_placeholder?: string;
};
export type ReplyMarkup = InlineKeyboard | ReplyKeyboard;

/**
 * How the door's messages leave: telegraf's client by default (with a wait on 429), or the
 * outbox's shared sender, so replies and notifications share Telegram's rate limits.
 */
export interface OutgoingMessages {
  sendMessage(chatId: number, text: string, options: { parseMode?: 'HTML'; replyMarkup?: ReplyMarkup }): Promise<{ message_id: number }>;
  sendPhoto(chatId: number, png: Buffer, caption: string): Promise<{ message_id: number }>;
}

/** Per-update measurements (AsyncLocalStorage): when it arrived, when the last reply left, model time. */
export interface UpdateTiming {
  readonly updateId: number;
  readonly receivedAt: number;
  kind: string;
  repliedAt?: number;
  modelMs: number;
  replies: number;
}

export const updateTiming = new AsyncLocalStorage<UpdateTiming>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** telegraf's client, waiting out `retry_after` on a 429 (at most twice). */
export function telegrafOutgoing(telegram: Telegram): OutgoingMessages {
  const retrying = async <T>(send: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof TelegramError) || error.code !== 429 || attempt >= 3) throw error;
        await sleep(Math.min(60, Number(error.parameters?.retry_after ?? 1)) * 1000);
      }
    }
  };
  return {
    sendMessage: (chatId, text, options) =>
      retrying(() =>
        telegram.sendMessage(chatId, text, {
          ...(options.parseMode ? { parse_mode: options.parseMode } : {}),
          ...(options.replyMarkup ? { reply_markup: options.replyMarkup as never } : {}),
          link_preview_options: { is_disabled: true },
        }),
      ),
    sendPhoto: (chatId, png, caption) =>
      retrying(() => telegram.sendPhoto(chatId, { source: png, filename: 'chart.png' }, { caption: caption.slice(0, 1024) })),
  };
}

/** Telegram refused the markup itself (only then is the plain text sent instead). */
export function isEntityParseError(error: unknown): boolean {
  const e = error as { description?: string; message?: string; failure?: { description?: string } };
  return /can't parse entities|can't find end|unsupported start tag|unexpected end tag/i.test(
    `${e.description ?? ''} ${e.message ?? ''} ${e.failure?.description ?? ''}`,
  );
}

/**
 * Sends a Markdown text as one or more messages: split at 4,096 characters without breaking
 * words or entities, each part rendered as Telegram HTML; a part Telegram still refuses to
 * parse goes again as plain text. Buttons go on the last part. Returns the message ids.
 */
export async function sendMarkdown(
  out: OutgoingMessages,
  chatId: number,
  markdown: string,
  keyboard?: ReplyMarkup,
  logger?: Logger,
): Promise<number[]> {
  const parts = splitMessage(markdown);
  const ids: number[] = [];
  for (const [index, part] of parts.entries()) {
    const replyMarkup = keyboard && index === parts.length - 1 ? keyboard : undefined;
    let sent: { message_id: number };
    try {
      sent = await out.sendMessage(chatId, markdownToTelegramHtml(part), { parseMode: 'HTML', ...(replyMarkup ? { replyMarkup } : {}) });
    } catch (error) {
      if (!isEntityParseError(error)) throw error;
      logger?.warn({ chatId }, 'Telegram refused the rendered markup; sending plain text');
      sent = await out.sendMessage(chatId, markdownToPlainText(part), replyMarkup ? { replyMarkup } : {});
    }
    ids.push(sent.message_id);
    const timing = updateTiming.getStore();
    if (timing) {
      timing.repliedAt = performance.now();
      timing.replies += 1;
    }
  }
  return ids;
}

/** Sends a short, already rendered HTML message (a notification card), with optional buttons. */
export async function sendHtml(out: OutgoingMessages, chatId: number, html: string, keyboard?: InlineKeyboard): Promise<number> {
  const sent = await out.sendMessage(chatId, html, { parseMode: 'HTML', ...(keyboard ? { replyMarkup: keyboard } : {}) });
  const timing = updateTiming.getStore();
  if (timing) {
    timing.repliedAt = performance.now();
    timing.replies += 1;
  }
  return sent.message_id;
}

/** Sends a chart; counts as a reply for the update's timing. */
export async function sendPhoto(out: OutgoingMessages, chatId: number, png: Buffer, caption: string): Promise<void> {
  await out.sendPhoto(chatId, png, caption.slice(0, 1024));
  const timing = updateTiming.getStore();
  if (timing) {
    timing.repliedAt = performance.now();
    timing.replies += 1;
  }
}

/**
 * Shows "typing…" while `work` runs (Telegram shows it for 5 s; it is renewed every 4 s).
 * A failed chat action never fails the work.
 */
export async function withTyping<T>(telegram: Telegram, chatId: number, work: () => Promise<T>): Promise<T> {
  const send = () => telegram.sendChatAction(chatId, 'typing').catch(() => {});
  void send();
  const timer = setInterval(() => void send(), 4_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
