import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { LANGUAGES, MESSAGES, type Language, type MessageKey } from './messages.ts';

// The person's language and time zone, and the formatting of money, numbers, percentages and
// times in them: pt-BR writes 1.234,56 and 14:05; English 1,234.56 and 2:05 PM. Quote amounts
// are USDT (not an ISO currency: the number and the unit), plan prices BRL (R$).

export const DEFAULT_TIME_ZONE = 'America/Sao_Paulo';

/**
 * The viewer's time zone: the one the browser runs in (Intl's, from the device's setting), so a
 * trader in Lisbon reads Lisbon times; São Paulo when the browser names none it can format in.
 */
export function viewerTimeZone(): string {
  let zone: string | undefined;
  try {
    zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {}
  return isTimeZone(zone) ? zone : DEFAULT_TIME_ZONE;
}
const STORAGE_KEY = 'botcriptofy.language';
const ZONE_KEY = 'botcriptofy.timeZone';

/** Whether Intl can format times in `zone` (an IANA name such as America/Sao_Paulo). */
export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The time zone the person chose in this browser, if any (otherwise times follow the browser's own). */
export function chosenTimeZone(): string | undefined {
  const stored = globalThis.localStorage?.getItem(ZONE_KEY);
  return isTimeZone(stored) ? stored : undefined;
}

/** Keeps the person's choice of time zone in this browser; undefined goes back to the browser's own. */
export function rememberTimeZone(zone: string | undefined): void {
  if (zone === undefined) globalThis.localStorage?.removeItem(ZONE_KEY);
  else globalThis.localStorage?.setItem(ZONE_KEY, zone);
}

/**
 * The zones offered in the choice: the browser's, São Paulo and UTC first, then every zone Intl
 * knows (Intl.supportedValuesOf where the runtime has it).
 */
export function timeZoneChoices(): string[] {
  const all = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return [...new Set([viewerTimeZone(), DEFAULT_TIME_ZONE, 'UTC', ...all])];
}

export interface Locale {
  readonly language: Language;
  readonly timeZone: string;
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** The language chosen in this browser before, else the browser's (Portuguese → pt-BR), else pt-BR. */
export function initialLanguage(): Language {
  const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (isLanguage(stored)) return stored;
  const browser = globalThis.navigator?.language ?? '';
  return browser.toLowerCase().startsWith('en') ? 'en' : 'pt-BR';
}

export function rememberLanguage(language: Language): void {
  globalThis.localStorage?.setItem(STORAGE_KEY, language);
}

export function translate(language: Language, key: MessageKey, values: Record<string, string | number> = {}): string {
  // A key not in the table (a status the API added later) is shown as itself.
  return (MESSAGES[language][key] ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

// Building an Intl formatter costs far more than formatting with one (a DateTimeFormat with a
// time zone: about a third of a millisecond on an idle core, against microseconds), and a page
// formats thousands of values (500 trades of a bot: dates, prices, amounts): each formatter is
// built once per language, zone and options, and kept.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(language: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${language}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(language, options);
    numberFormats.set(key, format);
  }
  return format;
}

export function dateFormat(language: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${language}|${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(language, options);
    dateFormats.set(key, format);
  }
  return format;
}

export function formatNumber(locale: Locale, value: number, digits = 2): string {
  return numberFormat(locale.language, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** An amount in USDT, 2 decimals ("1.234,56 USDT" / "1,234.56 USDT"); a string amount (exact decimal) is rounded for display only. */
export function formatQuote(locale: Locale, value: number | string | null | undefined, options: { signed?: boolean } = {}): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = typeof value === 'string' ? Number(value) : value;
  const text = numberFormat(locale.language, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    ...(options.signed ? { signDisplay: 'exceptZero' as const } : {}),
  }).format(n);
  return `${text} USDT`;
}

/** A price: as many decimals as it needs (0.5123 POL, 94.210,50 BTC). */
export function formatPrice(locale: Locale, value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = typeof value === 'string' ? Number(value) : value;
  const digits = Math.abs(n) >= 1000 ? 2 : Math.abs(n) >= 1 ? 4 : 6;
  return numberFormat(locale.language, { minimumFractionDigits: 2, maximumFractionDigits: digits }).format(n);
}

export function formatBrl(locale: Locale, cents: number): string {
  return numberFormat(locale.language, { style: 'currency', currency: 'BRL' }).format(cents / 100);
}

/** A percentage given in percent (12.5 → "12,50 %" / "12.50%"). */
export function formatPct(locale: Locale, pct: number | string | null | undefined, options: { signed?: boolean } = {}): string {
  if (pct === null || pct === undefined || pct === '') return '—';
  const n = typeof pct === 'string' ? Number(pct) : pct;
  return numberFormat(locale.language, {
    style: 'percent',
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    ...(options.signed ? { signDisplay: 'exceptZero' as const } : {}),
  }).format(n / 100);
}

export function formatDateTime(locale: Locale, iso: string | number | Date | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  return dateFormat(locale.language, { timeZone: locale.timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDate(locale: Locale, iso: string | number | Date | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  return dateFormat(locale.language, { timeZone: locale.timeZone, dateStyle: 'medium' }).format(new Date(iso));
}

/** A calendar day of the API's (YYYY-MM-DD, UTC periods) shown as that day, not shifted by the time zone. */
export function formatDay(locale: Locale, day: string): string {
  return dateFormat(locale.language, { timeZone: 'UTC', dateStyle: 'medium' }).format(new Date(`${day}T00:00:00Z`));
}

export interface I18n extends Locale {
  t(key: MessageKey, values?: Record<string, string | number>): string;
  setLanguage(language: Language): void;
  /** Whether the zone is the person's choice (false: the browser's own). */
  readonly timeZoneChosen: boolean;
  /** Times in this zone from now on (kept in the browser); undefined: the browser's own again. */
  setTimeZone(zone: string | undefined): void;
}

export const I18nContext = createContext<I18n>({
  language: 'pt-BR',
  timeZone: DEFAULT_TIME_ZONE,
  t: (key, values) => translate('pt-BR', key, values),
  setLanguage: () => {},
  timeZoneChosen: false,
  setTimeZone: () => {},
});

export const useI18n = (): I18n => useContext(I18nContext);
