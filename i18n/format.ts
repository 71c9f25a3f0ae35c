// Figures for people, written without floating point: money arrives as integer cents or as
// exact decimal strings (the database's numeric columns), and Intl.NumberFormat formats a
// decimal string exactly (it parses it as a decimal, not as a double).
import { intlLocale, type Locale } from './locale.ts';

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Integer cents as an exact decimal string: 9990 → "99.90", -5 → "-0.05". */
export function centsToDecimal(cents: number | bigint): string {
  const value = BigInt(cents);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  return `${negative ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

const asIntlInput = (decimal: string) => decimal as unknown as number; // Intl takes decimal strings exactly

/** Integer cents in a currency (ISO code, any case): 9990, 'brl' → "R$ 99,90" (pt-BR) / "R$99.90" (en). */
export function formatMoneyCents(cents: number | bigint, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(intlLocale(locale), { style: 'currency', currency: currency.toUpperCase() }).format(
    asIntlInput(centsToDecimal(cents)),
  );
}

/** A decimal string with a fixed number of decimals, grouped the locale's way. */
export function formatDecimal(
  decimal: string,
  locale: Locale,
  options: { minDecimals?: number; maxDecimals?: number; signed?: boolean } = {},
): string {
  if (!DECIMAL.test(decimal)) return decimal;
  return new Intl.NumberFormat(intlLocale(locale), {
    minimumFractionDigits: options.minDecimals ?? 2,
    maximumFractionDigits: options.maxDecimals ?? options.minDecimals ?? 2,
    signDisplay: options.signed ? 'exceptZero' : 'auto',
  }).format(asIntlInput(decimal));
}

/** An amount in a quote currency (USDT): two decimals, signed when asked: "+12,34 USDT". */
export function formatQuote(decimal: string, quote: string, locale: Locale, signed = false): string {
  return `${formatDecimal(decimal, locale, { minDecimals: 2, maxDecimals: 2, signed })} ${quote}`;
}

/** A price: two decimals from 1 up, more significant digits below 1 (POL, small caps). */
export function formatPrice(decimal: string, quote: string, locale: Locale): string {
  if (!DECIMAL.test(decimal)) return `${decimal} ${quote}`;
  const integerPart = decimal.replace('-', '').split('.')[0]!;
  const below1 = /^0+$/.test(integerPart);
  return `${formatDecimal(decimal, locale, { minDecimals: below1 ? 4 : 2, maxDecimals: below1 ? 6 : 2 })} ${quote}`;
}

/** A quantity of a base asset, up to 8 decimals, trailing zeros dropped. */
export function formatBase(decimal: string, base: string, locale: Locale): string {
  return `${formatDecimal(decimal, locale, { minDecimals: 0, maxDecimals: 8 })} ${base}`;
}

/** A percentage from a decimal string: "4.3219" → "+4,32 %" (pt-BR) / "+4.32%" (en). */
export function formatPct(decimal: string, locale: Locale, signed = true): string {
  const text = formatDecimal(decimal, locale, { minDecimals: 2, maxDecimals: 2, signed });
  return locale === 'en' ? `${text}%` : `${text} %`;
}

/** Date (and time) in Brasília time, the company's. */
export function formatDateTime(iso: string | Date, locale: Locale, withTime = false): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(intlLocale(locale), {
    timeZone: 'America/Sao_Paulo',
    day: '2-digit',
    month: locale === 'en' ? 'short' : '2-digit',
    year: 'numeric',
    ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
  }).format(date);
}

/** A float from the trading engine as an exact-enough decimal string (for payloads). */
export function numberToDecimal(value: number, maxDecimals = 8): string {
  if (!Number.isFinite(value)) return '0';
  const fixed = value.toFixed(maxDecimals);
  const trimmed = fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
  return trimmed === '-0' ? '0' : trimmed;
}
