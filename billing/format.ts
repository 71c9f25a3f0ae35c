import { formatMoneyCents, type Locale } from '../i18n/index.ts';

/** An amount in centavos as Brazilian reais, written the way the reader's locale writes money (exactly: no float). */
export function formatBrlCents(cents: number, locale: Locale = 'pt-BR'): string {
  return formatMoneyCents(cents, 'BRL', locale);
}
