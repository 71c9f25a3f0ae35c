// People and the channels that reach them: linking a Telegram account to a staff member or a
// trader by one-time code, the groups registered for a department, and who a linked account
// is for the tool layer. Doors (Telegram, the CLI) call these functions; they read no table.
export {
  issueLinkCode,
  redeemLinkCode,
  linkCodeOwner,
  unlinkTelegram,
  linkedPerson,
  linkedUsers,
  linkedChats,
  actorOfPerson,
  linkedDeciders,
  userNames,
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
} from './telegram-links.ts';
export type { Actor } from './actor.ts';
export { traderUser, userByEmail, setPersonLocale, guessPersonLocale, type PersonOfEmail } from './users.ts';
