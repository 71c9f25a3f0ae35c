import type { Database } from '../../db/index.ts';
import { linkedChats } from '../../identity/index.ts';
import type { Locale } from '../../i18n/index.ts';
import {
  InvalidNotificationError,
  NotificationOutbox,
  parsePayload,
  type DeliveryFailure,
  type NotificationChannel,
  type NotificationOutboxOptions,
  type OutgoingNotification,
  type SendContext,
} from '../../notifications/index.ts';
import { ChartDataError, renderChartRequest, type ChartRequest } from '../charts/index.ts';
import { LimiterAbortedError, LimiterDeadlineError } from './limiter.ts';
import { TelegramSendError, type TelegramSender } from './telegram-sender.ts';

/**
 * Telegram as a notification channel: people are reached at their linked chat, messages go
 * through the bot's rate-limited sender (this process's limits, and the deployment's with
 * Redis), Telegram's answers are sorted into the outbox's terms, and a `chart` row is drawn
 * here (from data read by the trading and billing domain functions) and sent as a photo.
 */
export class TelegramChannel implements NotificationChannel<bigint> {
  readonly name = 'telegram';
  readonly label = 'Telegram';
  readonly unreachable = {
    person: 'no linked Telegram chat',
    department: (department: string) => `nobody in ${department} has linked Telegram`,
  };
  readonly sender: TelegramSender;

  constructor(sender: TelegramSender) {
    this.sender = sender;
  }

  get ratePerS(): number {
    return this.sender.limiter.ratePerS;
  }

  get perReaderRatePerS(): number {
    return this.sender.limiter.chatRatePerS;
  }

  get maxCallMs(): number {
    return this.sender.maxCallMs;
  }

  get waiting(): number {
    return this.sender.limiter.waiting;
  }

  get pausedUntil(): number {
    return this.sender.limiter.pausedUntil;
  }

  now(): number {
    return this.sender.limiter.now();
  }

  pauseAll(untilMs: number): void {
    this.sender.limiter.pauseAll(untilMs);
  }

  /** The chat each person linked (and has not unlinked). */
  addresses(db: Database, userIds: readonly string[]): Promise<Map<string, bigint>> {
    return linkedChats(db, userIds);
  }

  /** A chart: drawn before a slot is taken (the rasterising runs off the event loop). */
  async prepare(
    row: { readonly type: string; readonly tenantId: string; readonly payload: Record<string, unknown> },
    context: { readonly db: Database; readonly locale: Locale },
  ): Promise<OutgoingNotification | undefined> {
    if (row.type !== 'chart') return undefined;
    try {
      const chart = await renderChartRequest(context.db, row.tenantId, parsePayload('chart', row.payload) as ChartRequest, {
        locale: context.locale,
      });
      return { kind: 'photo', png: chart.png, caption: chart.caption };
    } catch (error) {
      if (error instanceof ChartDataError) throw new InvalidNotificationError(error.message);
      throw error;
    }
  }

  async send(chatId: bigint, outgoing: OutgoingNotification, context: SendContext): Promise<{ messageId: number }> {
    const common = { silent: context.silent, deadline: context.deadline, signal: context.signal };
    const sent =
      outgoing.kind === 'photo'
        ? await this.sender.sendPhoto(chatId, outgoing.png, { ...common, caption: outgoing.caption.slice(0, 1024) })
        : await this.sender.sendMessage(chatId, outgoing.message.text, {
            ...common,
            parseMode: outgoing.message.parseMode,
            replyMarkup: outgoing.message.replyMarkup,
          });
    return { messageId: sent.message_id };
  }

  classify(error: unknown): DeliveryFailure | undefined {
    if (error instanceof LimiterDeadlineError)
      return { kind: 'released', retryInMs: Math.max(0, error.earliest - this.sender.limiter.now()) };
    if (error instanceof LimiterAbortedError) return { kind: 'released' };
    if (error instanceof TelegramSendError) return error.failure;
    return undefined;
  }
}

export interface OutboxSenderOptions extends Omit<NotificationOutboxOptions, 'channel'> {
  /** The bot's rate-limited client: the outbox's channel is Telegram through it. */
  readonly sender: TelegramSender;
}

/** The notifications outbox delivered to Telegram (NotificationOutbox with the TelegramChannel). */
export class OutboxSender extends NotificationOutbox {
  constructor(options: OutboxSenderOptions) {
    super({ ...options, channel: new TelegramChannel(options.sender) });
  }
}
