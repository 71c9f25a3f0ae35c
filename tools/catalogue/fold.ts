import { sql, type SQL } from 'drizzle-orm';

// Capitals too: lower() leaves them alone under the C locale (as on the embedded database).
const ACCENTED = 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ';
const PLAIN = 'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn';

/** Lower case without accents, in SQL, so "lancamento" finds "Lançamento" (Portuguese accents). */
export const foldSql = (expression: SQL) => sql`translate(lower(${expression}), ${ACCENTED}, ${PLAIN})`;

/** The same folding in JavaScript. */
export const fold = (text: string) => text.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');

/** A LIKE pattern matching `text` anywhere, its wildcards escaped. */
export const containing = (text: string) => `%${text.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
