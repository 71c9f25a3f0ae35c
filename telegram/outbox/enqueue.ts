// Moved to ../../notifications (enqueueNotification) and ../../trading (notifyBotEvent); this
// file only keeps the old import path working for code written against it. Import from
// notifications/index.ts instead; this file goes once nothing imports it.
export { enqueueNotification, type EnqueueNotificationInput } from '../../notifications/index.ts';
