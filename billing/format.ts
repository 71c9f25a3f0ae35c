/** An amount in centavos as Brazilian reais, written the way the reader's locale writes money. */
export function formatBrlCents(cents: number, locale: 'pt-BR' | 'en' = 'pt-BR'): string {
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR', { style: 'currency', currency: 'BRL' }).format(cents / 100);
}
