/** The languages the product speaks: what a person's `locale` column holds. */
export const locales = ['pt-BR', 'en'] as const;
export type Locale = (typeof locales)[number];

/** The Intl locale for a product language (numbers, dates, currency). */
export function intlLocale(locale: Locale): 'pt-BR' | 'en-US' {
  return locale === 'en' ? 'en-US' : 'pt-BR';
}
