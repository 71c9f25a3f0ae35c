import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { appendAudit } from '../audit/index.ts';
import * as schema from '../db/index.ts';
import { analyzeDatabase, queryRows, type Database } from '../db/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { setDemoPasswords } from './accounts.ts';
import { generateDemoCompany, type DemoCompany } from './company.ts';
import { ProductError } from '../errors/index.ts';

export { generateDemoCompany, type DemoCompany, type DemoOptions } from './company.ts';
export { DEMO_CANDLE_EXCHANGE, DEMO_CANDLE_SYMBOL, DEMO_CANDLE_TIMEFRAMES, importDemoCandles, type DemoCandleImport } from './candles.ts';
export {
  DEMO_HEAD_PASSWORD,
  DEMO_STAFF_PASSWORD,
  DEMO_TRADER_PASSWORD,
  DEMO_TRADERS_WITH_PASSWORD,
  DEMO_PASSWORD_HASHES,
  demoHeadSignIns,
  demoSignIns,
  setDemoPasswords,
  type DemoHeadSignIn,
  type DemoSignIn,
} from './accounts.ts';

export const DEFAULT_DEMO_SEED = 20_240_601;
export const DEFAULT_DEMO_TRADERS = 320;

/** Table of each `DemoCompany` key, in an order that satisfies foreign keys. */
const insertionOrder: readonly (readonly [keyof DemoCompany, PgTable])[] = [
  ['tenants', schema.tenants],
  ['users', schema.users],
  ['staff', schema.staff],
  ['plans', schema.plans],
  ['customers', schema.customers],
  ['subscriptions', schema.subscriptions],
  ['subscriptionChanges', schema.subscriptionChanges],
  ['invoices', schema.invoices],
  ['payments', schema.payments],
  ['refunds', schema.refunds],
  ['strategies', schema.strategies],
  ['exchangeAccounts', schema.exchangeAccounts],
  ['bots', schema.bots],
  ['orders', schema.orders],
  ['trades', schema.trades],
  ['positions', schema.positions],
  ['paperBalances', schema.paperBalances],
  ['supportTickets', schema.supportTickets],
  ['ticketMessages', schema.ticketMessages],
  ['leads', schema.leads],
  ['influencers', schema.influencers],
  ['campaigns', schema.campaigns],
  ['documents', schema.documents],
  ['documentVersions', schema.documentVersions],
  ['configEntries', schema.configEntries],
  ['configEntryVersions', schema.configEntryVersions],
  ['securityEvents', schema.securityEvents],
  ['approvals', schema.approvals],
];

export class DatabaseNotEmptyError extends ProductError {
  readonly category = 'conflict' as const;
  constructor() {
    super('The database already has a company (tenants exist); the demo is only seeded into an empty database.');
    this.name = 'DatabaseNotEmptyError';
  }
}

/** True when no tenant exists yet: a database nobody has used. */
export async function isCompanyEmpty(db: Database): Promise<boolean> {
  const rows = await queryRows<{ present: boolean }>(db, sql`select exists (select 1 from tenants) as present`);
  return rows[0]?.present !== true;
}

export interface SeedDemoOptions {
  readonly secretBox: SecretBox;
  readonly seed?: number;
  readonly asOf?: Date;
  readonly traders?: number;
}

export type DemoCounts = Record<keyof DemoCompany, number>;

/**
 * Fills an empty database with the demo company, all in one transaction: it either
 * appears whole or not at all.
 */
export async function seedDemoCompany(db: Database, options: SeedDemoOptions): Promise<DemoCounts> {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const asOf = options.asOf ?? startOfUtcDay(new Date());
  const company = generateDemoCompany({
    seed,
    asOf,
    traders: options.traders ?? DEFAULT_DEMO_TRADERS,
    secretBox: options.secretBox,
  });
  const counts = {} as DemoCounts;
  await db.transaction(async (tx) => {
    if (!(await isCompanyEmpty(tx))) throw new DatabaseNotEmptyError();
    for (const [key, table] of insertionOrder) {
      const rows = company[key] as Record<string, unknown>[];
      counts[key] = rows.length;
      for (let start = 0; start < rows.length; start += 100) {
        // Plans may already be there (written from code at start); the rest must be new.
        const insert = tx.insert(table).values(rows.slice(start, start + 100) as never);
        await (key === 'plans' ? insert.onConflictDoNothing() : insert);
      }
    }
    await appendAudit(tx, {
      actorKind: 'system',
      action: 'demo.seed',
      outcome: 'ok',
      args: { seed, asOf: asOf.toISOString(), traders: options.traders ?? DEFAULT_DEMO_TRADERS },
      details: counts,
    });
    // The demo's sign-ins (the CEO and a few traders): Better-Auth credentials, same transaction.
    await setDemoPasswords(tx);
  });
  // Thousands of rows just arrived: the planner needs to know before the first question.
  await analyzeDatabase(db);
  return counts;
}

function startOfUtcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 86_400_000) * 86_400_000);
}
