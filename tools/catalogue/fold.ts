import { sql, type SQL } from 'drizzle-orm';

// Capitals too: lower() leaves them alone under the C locale (as on the embedded database).
const ACCENTED = 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ';
const PLAIN = 'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn';

/** Lower case without accents, in SQL, so "lancamento" finds "Lançamento" (Portuguese accents): i18n's foldText in SQL. */
export const foldSql = (expression: SQL) => sql`translate(lower(${expression}), ${ACCENTED}, ${PLAIN})`;

/** A LIKE pattern matching `text` anywhere, its wildcards escaped. */
export const containing = (text: string) => `%${text.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
