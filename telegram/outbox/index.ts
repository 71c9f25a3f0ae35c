import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { RateLimiter } from './limiter.ts';
import { OutboxSender, type OutboxSenderOptions } from './outbox.ts';
import { TelegramSender } from './telegram-sender.ts';

export { RateLimiter, LimiterAbortedError, LimiterDeadlineError, type RateLimiterOptions, type AcquireOptions } from './limiter.ts';
export { TelegramSender, TelegramSendError, classifyTelegramError, chatIdParam, type SendFailure, type SendOptions, type ChatId, type TelegramSenderOptions } from './telegram-sender.ts';
export { createDeliveryJournal, FileDeliveryJournal, RedisDeliveryJournal, type Delivery, type DeliveryJournal } from './delivery-journal.ts';
export { OutboxSender, type OutboxSenderOptions, type OutboxReport, type ClaimedNotification, type Outcome } from './outbox.ts';
export { enqueueNotification, setNotificationPreference, getNotificationPreferences, notifyBotEvent, preferenceTypeSchema, type EnqueueNotificationInput } from './enqueue.ts';
export {
  renderNotification,
  parsePayload,
  payloadSchemas,
  notificationTypes,
  isNotificationType,
  approvalCallbackData,
  InvalidNotificationError,
  type NotificationType,
  type NotificationPayload,
  type RenderedMessage,
} from './templates.ts';
export * from './format.ts';

export interface TelegramDelivery {
  /** Every outgoing message of the bot goes through it (one limiter per bot token and process). */
  readonly sender: TelegramSender;
  readonly outbox: OutboxSender;
  /** Stops delivery (finishing the sends in flight) and closes the delivery journal. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The limiter, the rate-limited Telegram client and the outbox sender for this process,
 * from `config.telegram`. Returns undefined without a bot token (the Telegram door is off).
 * Start delivery with `outbox.start()`, stop it with `await outbox.stop()`.
 */
export function createTelegramDelivery(
  telegram: Config['telegram'],
  db: Database,
  options: { logger?: Logger; metricsRegistry?: Registry } & Partial<Omit<OutboxSenderOptions, 'db' | 'sender'>> = {},
): TelegramDelivery | undefined {
  if (!telegram.botToken) return undefined;
  const limiter = new RateLimiter({ ratePerS: telegram.ratePerS, chatRatePerS: telegram.chatRatePerS });
  const sender = new TelegramSender({ botToken: telegram.botToken, apiRoot: telegram.apiRoot, limiter });
  const outbox = new OutboxSender({ ...options, db, sender });
  return {
    sender,
    outbox,
    async stop(stopOptions) {
      await outbox.stop(stopOptions);
      await options.journal?.close();
    },
  };
}
