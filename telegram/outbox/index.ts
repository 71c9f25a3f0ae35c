import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../../config/index.ts';
import type { Database } from '../../db/index.ts';
import { RateLimiter } from './limiter.ts';
import { RedisSharedLimits } from './shared-limits.ts';
import { OutboxSender, type OutboxSenderOptions } from './telegram-channel.ts';
import { TelegramSender } from './telegram-sender.ts';

// Telegram's side of notifications: the rate limits (this process's and, with Redis, the
// deployment's), the bot's client, and the Telegram channel the outbox delivers through.
// The outbox protocol, the templates, preferences and enqueueing are ../../notifications;
// they are re-exported here for the door's files and tests that reach them through this index.

export { RateLimiter, LimiterAbortedError, LimiterDeadlineError, type RateLimiterOptions, type AcquireOptions } from './limiter.ts';
export {
  TelegramSender,
  TelegramSendError,
  classifyTelegramError,
  chatIdParam,
  type SendFailure,
  type SendOptions,
  type ChatId,
  type TelegramSenderOptions,
} from './telegram-sender.ts';
export { RedisSharedLimits, type SharedLimits, type WindowShape } from './shared-limits.ts';
export { OutboxSender, TelegramChannel, type OutboxSenderOptions } from './telegram-channel.ts';
export {
  createDeliveryJournal,
  FileDeliveryJournal,
  RedisDeliveryJournal,
  enqueueNotification,
  setNotificationPreference,
  getNotificationPreferences,
  preferenceTypeSchema,
  renderNotification,
  parsePayload,
  payloadSchemas,
  notificationTypes,
  isNotificationType,
  approvalCallbackData,
  InvalidNotificationError,
  splitPair,
  type Delivery,
  type DeliveryJournal,
  type OutboxReport,
  type ClaimedNotification,
  type Outcome,
  type EnqueueNotificationInput,
  type NotificationType,
  type NotificationPayload,
  type RenderedMessage,
} from '../../notifications/index.ts';

export interface TelegramDelivery {
  /** Every outgoing message of the bot goes through it: this process's limiter, and with REDIS_URL the deployment's. */
  readonly sender: TelegramSender;
  readonly outbox: OutboxSender;
  /** Stops delivery (finishing the sends in flight) and closes the delivery journal. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The limiter, the rate-limited Telegram client and the outbox sender for this process,
 * from `config.telegram`. Returns undefined without a bot token (the Telegram door is off).
 * With `redisUrl`, Telegram's limits are counted for every process of the deployment
 * together (workers and `start` alike). Start delivery with `outbox.start()`, stop it with
 * `await delivery.stop()`.
 */
export function createTelegramDelivery(
  telegram: Config['telegram'],
  db: Database,
  options: { logger?: Logger; metricsRegistry?: Registry; redisUrl?: string | undefined } & Partial<
    Omit<OutboxSenderOptions, 'db' | 'sender'>
  > = {},
): TelegramDelivery | undefined {
  if (!telegram.botToken) return undefined;
  const rates = { ratePerS: telegram.ratePerS, chatRatePerS: telegram.chatRatePerS };
  const shared = options.redisUrl
    ? new RedisSharedLimits({ url: options.redisUrl, botKey: telegram.botToken.split(':')[0]!, ...new RateLimiter(rates).shapes })
    : undefined;
  const logger = options.logger;
  const limiter = new RateLimiter({
    ...rates,
    ...(shared
      ? {
          shared,
          onSharedUnavailable: (error: unknown) =>
            logger?.warn(
              { err: error },
              "telegram: Redis did not answer; notifications wait for it, replies keep to this process's own limits",
            ),
        }
      : {}),
  });
  const sender = new TelegramSender({ botToken: telegram.botToken, apiRoot: telegram.apiRoot, limiter });
  const outbox = new OutboxSender({ ...options, db, sender });
  return {
    sender,
    outbox,
    async stop(stopOptions) {
      await outbox.stop(stopOptions);
      await options.journal?.close();
      await shared?.close();
    },
  };
}
