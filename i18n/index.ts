// Language and figures for people, one place for every surface (agents, reports, Telegram,
// the API and the dashboard): the product's languages, the Intl mapping, and money (integer
// cents), decimals, percentages and dates written without floating point.
export { locales, intlLocale, type Locale } from './locale.ts';
export { foldText } from './fold.ts';
export {
  centsToDecimal,
  formatMoneyCents,
  formatDecimal,
  formatQuote,
  formatPrice,
  formatBase,
  formatPct,
  formatDateTime,
  numberToDecimal,
} from './format.ts';
export { detectLocale, localeScores } from './detect.ts';
export {
  pick,
  countOf,
  nounFor,
  statusWord,
  venueOf,
  venueWord,
  readerError,
  pauseReasonText,
  botStateText,
  parseLanguage,
  LANGUAGE_NAMES,
  draftCardLines,
  type DraftCardView,
  type CountedNoun,
  type Failure,
  type Venue,
} from './messages.ts';
