// The Telegram door: staff chat with their agents, traders control their bots, deciders
// approve with buttons. ./outbox is Telegram as a notification channel (its limits, its client;
// the outbox itself is ../notifications) and ./charts draws the charts it is handed.
export { TelegramDoor, parseCommand, type TelegramDoorOptions, type TelegramWebhook } from './door.ts';
export { createTelegramService, type TelegramService } from './service.ts';
export { mayAsk, askableAgents, homeAgent, type AskDecision } from './access.ts';
export { announcePendingApprovals, approvalButton } from './approvals.ts';
export { splitMessage, TELEGRAM_TEXT_LIMIT } from './split.ts';
export { escapeHtml, escapeMarkdown, markdownToPlainText, markdownToTelegramHtml } from './markdown.ts';
export { sendMarkdown, type OutgoingMessages, type UpdateTiming, type InlineKeyboard } from './send.ts';
export * from './outbox/index.ts';
export * from './charts/index.ts';
