/**
 * Text folded for matching what people type: accents and case gone ("Lançamento" →
 * "lancamento"), so a word is found however it was written. The one rule for every matcher
 * (the offline router, the answer gate, the catalogue searches and their SQL twin).
 */
export const foldText = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
