// Notifications: what people are told, in their language, through whichever channel reaches
// them. Below the workflows, billing and trading (which produce notifications) and the doors
// (Telegram delivers them, the web events stream reads them as they are queued — web-events.ts —,
// e-mail later): this layer knows none of them. Producers queue with enqueueNotification
// (payloads checked against their type); a channel plugs into the outbox (claims, leases,
// retries, digests, preferences, the delivery journal) through the NotificationChannel interface.
export { enqueueNotification, type EnqueueNotificationInput } from './enqueue.ts';
export { queuedNotificationId, outboxCounts } from './status.ts';
export { setNotificationPreference, getNotificationPreferences, levelFor, preferenceTypeSchema } from './preferences.ts';
export {
  renderNotification,
  renderDigest,
  parsePayload,
  payloadSchemas,
  notificationTypes,
  isNotificationType,
  approvalCallbackData,
  botActionCallbackData,
  clipText,
  undigestibleTypes,
  streamOnlyTypes,
  InvalidNotificationError,
  type NotificationType,
  type NotificationPayload,
  type RenderedMessage,
} from './templates.ts';
export { escapeHtml, splitPair } from './format.ts';
export {
  notificationsQueuedAfter,
  outboxClock,
  onNotificationQueued,
  OUTBOX_QUEUED_CHANNEL,
  type QueuedNotification,
} from './web-events.ts';
export { NotificationOutbox, type NotificationOutboxOptions, type OutboxReport, type Outcome } from './outbox.ts';
export {
  registerChannel,
  deliveryChannels,
  setDeliveryChannels,
  registeredChannels,
  type NotificationChannel,
  type ClaimedNotification,
  type OutgoingNotification,
  type SendContext,
  type DeliveryFailure,
} from './channel.ts';
export {
  createDeliveryJournal,
  FileDeliveryJournal,
  RedisDeliveryJournal,
  type Delivery,
  type DeliveryJournal,
} from './delivery-journal.ts';
