// The Telegram door: staff chat with their agents, traders control their bots, deciders
// approve with buttons. The outbox (notifications, limits) and charts live in ./outbox and ./charts.
export { TelegramDoor, parseCommand, type TelegramDoorOptions, type TelegramWebhook } from './door.ts';
export { createTelegramService, type TelegramService } from './service.ts';
export { mayAsk, askableAgents, homeAgent, type AskDecision } from './access.ts';
export {
  issueLinkCode,
  redeemLinkCode,
  unlinkTelegram,
  linkedPerson,
  linkedDeciders,
  registerGroup,
  unregisterGroup,
  groupDepartment,
  hashLinkCode,
  normalizeLinkCode,
  TelegramIdentityError,
  DEFAULT_LINK_CODE_TTL_HOURS,
  LINK_CODE_LENGTH,
  type IssuedLinkCode,
  type LinkedPerson,
  type RedeemResult,
} from './identity.ts';
export { announcePendingApprovals, approvalButton } from './approvals.ts';
export { splitMessage, TELEGRAM_TEXT_LIMIT } from './split.ts';
export { escapeHtml, escapeMarkdown, markdownToPlainText, markdownToTelegramHtml } from './markdown.ts';
export { sendMarkdown, type OutgoingMessages, type UpdateTiming, type InlineKeyboard } from './send.ts';
export * from './outbox/index.ts';
export * from './charts/index.ts';
