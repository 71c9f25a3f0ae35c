import { bigint, numeric, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Random UUID primary key; the demo seed supplies its own deterministic ids. */
export const id = () => uuid().primaryKey().defaultRandom();

/** Instant in UTC; the database stores microseconds, JavaScript reads milliseconds. */
export const instant = () => timestamp({ withTimezone: true, mode: 'date' });

export const createdAt = () => instant().notNull().defaultNow();
export const updatedAt = () => instant().notNull().defaultNow();

/**
 * Exact decimal for prices and quantities. It is read back as a string so no precision is
 * lost on the way; convert deliberately where arithmetic happens.
 */
export const decimal = () => numeric();

/** Integer cents of the row's currency (BRL centavos unless the row says otherwise). */
export const cents = () => bigint({ mode: 'number' });
