// The two locales used, not the package's index: it loads all 16 (266 modules, 2–3 MB more heap in every process).
import * as chronoEn from 'chrono-node/en';
import * as chronoPt from 'chrono-node/pt';
import { foldText } from '../i18n/index.ts';

// Time in staff messages, read exactly: a window looked back over ("ontem", "last 6 months",
// "essa semana") and a day ahead ("na sexta", "in 2 weeks", "daqui a 3 dias"). Durations
// are parsed here (chrono-node reads dates and weekdays well, Portuguese durations poorly);
// weekdays and calendar dates go to chrono-node in the message's language.

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  um: 1,
  uma: 1,
  one: 1,
  a: 1,
  an: 1,
  dois: 2,
  duas: 2,
  two: 2,
  tres: 3,
  three: 3,
  quatro: 4,
  four: 4,
  cinco: 5,
  five: 5,
  seis: 6,
  six: 6,
  sete: 7,
  seven: 7,
  oito: 8,
  eight: 8,
  nove: 9,
  nine: 9,
  dez: 10,
  ten: 10,
  doze: 12,
  twelve: 12,
  quinze: 15,
  fifteen: 15,
  trinta: 30,
  thirty: 30,
};
/** A count before a unit: digits ("30 days", "6h") or a number word and a space ("duas semanas"). */
const COUNT = String.raw`(\d{1,4}(?=\s*[a-z])|(?:${Object.keys(NUMBER_WORDS).join('|')})(?=\s))`;
const countOf = (word: string) => (/^\d+$/.test(word) ? Number(word) : NUMBER_WORDS[word]!);

const UNIT_DAYS: readonly (readonly [RegExp, number])[] = [
  [/^(h|hs|hr|hrs|hora|horas|hour|hours)$/, 1 / 24],
  [/^(d|dia|dias|day|days)$/, 1],
  [/^(sem|semana|semanas|week|weeks|wk|wks)$/, 7],
  [/^(mes|meses|month|months|mo)$/, 30],
  [/^(ano|anos|year|years|yr|yrs)$/, 365],
];
const UNIT = '(h|hs|hrs?|horas?|hours?|d|dias?|days?|sem|semanas?|weeks?|wks?|mes|meses|months?|mo|anos?|years?|yrs?)';
const unitDays = (unit: string) => UNIT_DAYS.find(([pattern]) => pattern.test(unit))![1];

/** A period looked back over, in days (hours when it was said in hours). */
export interface Window {
  readonly days: number;
  /** Set when the message said hours ("últimas 6 horas"). */
  readonly hours?: number | undefined;
  /** Set when it said months ("last 6 months"), for tools that count in months. */
  readonly months?: number | undefined;
}

const NAMED_WINDOWS: readonly (readonly [RegExp, Window])[] = [
  [/\b(ontem|yesterday|anteontem)\b/, { days: 2, hours: 48 }], // yesterday is whole only in the last 48 h
  [/\b(hoje|today|hj|agora ha pouco|24 ?h|ultimo dia|last day|past day)\b/, { days: 1, hours: 24 }],
  [/\b(quinzena|fortnight)\b/, { days: 14 }],
  // "lately" is not "the last hour": a week, said in the answer.
  [/\b(lately|recently|recent|recentemente|ultimamente|ultimos tempos)\b/, { days: 7, hours: 168 }],
  [/\b(semestre|half.?year|meio ano)\b/, { days: 180, months: 6 }],
  [/\b(trimestre|quarter)\b/, { days: 90, months: 3 }],
  [/\b(semana|semanal|week|weekly|wk)\b/, { days: 7, hours: 168 }],
  [/\b(mes|mensal|month|monthly|mtd)\b/, { days: 30, months: 1 }],
  [/\b(ano|anual|year|yearly|annual|ytd)\b/, { days: 365, months: 12 }],
];

/** The window a message asks about, or undefined when it names none. */
export function windowIn(text: string): Window | undefined {
  const folded = foldText(text);
  const counted = new RegExp(String.raw`\b${COUNT}\s*${UNIT}\b`).exec(folded);
  if (counted) {
    const n = countOf(counted[1]!);
    const perUnit = unitDays(counted[2]!);
    if (perUnit < 1) return { days: Math.max(1, Math.ceil(n / 24)), hours: n };
    return {
      days: n * perUnit,
      ...(perUnit === 30 ? { months: n } : perUnit === 365 ? { months: n * 12 } : {}),
      ...(n * perUnit <= 30 ? { hours: n * perUnit * 24 } : {}),
    };
  }
  return NAMED_WINDOWS.find(([pattern]) => pattern.test(folded))?.[1];
}

const IN = '(?:daqui a|daqui|dentro de|em|in|within|after|depois de)';

/** How many days from `now` a day ahead named in the message is (0 today), or undefined. */
export function dueInDays(text: string, now: Date, locale: 'pt-BR' | 'en'): number | undefined {
  const folded = foldText(text);
  const counted = new RegExp(String.raw`\b${IN}\s+${COUNT}\s*${UNIT}\b`).exec(folded);
  if (counted) return Math.max(0, Math.round(countOf(counted[1]!) * unitDays(counted[2]!)));
  if (/\b(depois de amanha|day after tomorrow)\b/.test(folded)) return 2;
  if (/\b(amanha|tomorrow|tmrw|tmr)\b/.test(folded)) return 1;
  if (/\b(hoje|today|hj)\b/.test(folded)) return 0;
  if (/(semana que vem|proxima semana|next week|in a week)/.test(folded)) return 7;
  if (/(mes que vem|proximo mes|next month)/.test(folded)) return 30;
  // Weekdays and dates ("na sexta", "friday", "15/12", "December 15th"): the next one ahead.
  const parser = locale === 'en' ? chronoEn : chronoPt;
  const [found] = parser.parse(text, { instant: now, timezone: 'UTC' }, { forwardDate: true });
  if (!found) return undefined;
  const day = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const days = Math.round((day(found.start.date()) - day(now)) / 86_400_000);
  return days >= 0 && days <= 366 ? days : undefined;
}

/** An amount of money written in the message, in cents ("R$ 49,90", "50 reais", "R$1.250"). */
export function amountCentsIn(text: string): number | undefined {
  const match =
    /(?:r\$|brl)\s*(\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)|(\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s*(?:reais|real|brl)\b/i.exec(
      foldText(text),
    );
  const written = match?.[1] ?? match?.[2];
  if (!written) return undefined;
  // pt-BR thousands with dots and decimals with a comma; a lone dot before 1–2 digits is a decimal.
  const normal = /,\d{1,2}$/.test(written)
    ? written.replace(/\./g, '').replace(',', '.')
    : /\.\d{3}$/.test(written)
      ? written.replace(/\./g, '')
      : written;
  const reais = Number(normal);
  return Number.isFinite(reais) && reais > 0 ? Math.round(reais * 100) : undefined;
}
