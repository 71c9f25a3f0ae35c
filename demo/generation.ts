import type * as schema from '../db/index.ts';
import type { Department, PlanId } from '../db/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { FIRST_NAMES, LAST_NAMES } from './content.ts';
import { SeededRandom } from './random.ts';

export type Insert<T extends { $inferInsert: unknown }> = T['$inferInsert'];

/** Every row of the demo company, in insertion order (parents before children). */
export interface DemoCompany {
  tenants: Insert<typeof schema.tenants>[];
  users: Insert<typeof schema.users>[];
  staff: Insert<typeof schema.staff>[];
  plans: Insert<typeof schema.plans>[];
  customers: Insert<typeof schema.customers>[];
  subscriptions: Insert<typeof schema.subscriptions>[];
  subscriptionChanges: Insert<typeof schema.subscriptionChanges>[];
  invoices: Insert<typeof schema.invoices>[];
  payments: Insert<typeof schema.payments>[];
  refunds: Insert<typeof schema.refunds>[];
  strategies: Insert<typeof schema.strategies>[];
  exchangeAccounts: Insert<typeof schema.exchangeAccounts>[];
  bots: Insert<typeof schema.bots>[];
  orders: Insert<typeof schema.orders>[];
  trades: Insert<typeof schema.trades>[];
  positions: Insert<typeof schema.positions>[];
  supportTickets: Insert<typeof schema.supportTickets>[];
  ticketMessages: Insert<typeof schema.ticketMessages>[];
  leads: Insert<typeof schema.leads>[];
  influencers: Insert<typeof schema.influencers>[];
  campaigns: Insert<typeof schema.campaigns>[];
  documents: Insert<typeof schema.documents>[];
  documentVersions: Insert<typeof schema.documentVersions>[];
  configEntries: Insert<typeof schema.configEntries>[];
  configEntryVersions: Insert<typeof schema.configEntryVersions>[];
  securityEvents: Insert<typeof schema.securityEvents>[];
  approvals: Insert<typeof schema.approvals>[];
  /** Each bot's paper wallet: its stake plus what its trades made, less what its open positions hold. */
  paperBalances: Insert<typeof schema.paperBalances>[];
}

export interface DemoOptions {
  /** Same seed and date, same company. */
  readonly seed: number;
  /** The demo's "today": history runs up to this instant. */
  readonly asOf: Date;
  readonly traders: number;
  /** Seals the demo exchange API keys of live bots. */
  readonly secretBox: SecretBox;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/**
 * What every section of the generator shares: the one random sequence (each section draws
 * from it in turn, so their order is part of the output), the rows so far, and the people's
 * e-mails already taken.
 */
export interface Generation {
  readonly options: DemoOptions;
  readonly rng: SeededRandom;
  /** The demo's "today", in ms. */
  readonly asOf: number;
  readonly data: DemoCompany;
  /** A new person with a name and an e-mail at `domain` nobody in the demo has yet. */
  person(domain: string): { name: string; email: string };
}

/** The company tenant and its staff, by department. */
export interface Company {
  readonly companyId: string;
  readonly createdAt: Date;
  readonly staffByDepartment: ReadonlyMap<Department, readonly { staffId: string; userId: string }[]>;
  readonly ceoUserId: string;
  /** One staff member of the department, drawn at random. */
  staffOf(department: Department): { staffId: string; userId: string };
}

/** A trader's account as the later sections need it. */
export interface Trader {
  readonly tenantId: string;
  readonly userId: string;
  readonly planId: PlanId;
  readonly name: string;
  readonly email: string;
}

export function startGeneration(options: DemoOptions): Generation {
  const rng = new SeededRandom(options.seed);
  const asOf = options.asOf.getTime();
  const data: DemoCompany = {
    tenants: [],
    users: [],
    staff: [],
    plans: [],
    customers: [],
    subscriptions: [],
    subscriptionChanges: [],
    invoices: [],
    payments: [],
    refunds: [],
    strategies: [],
    exchangeAccounts: [],
    bots: [],
    orders: [],
    trades: [],
    positions: [],
    supportTickets: [],
    ticketMessages: [],
    leads: [],
    influencers: [],
    campaigns: [],
    documents: [],
    documentVersions: [],
    configEntries: [],
    configEntryVersions: [],
    securityEvents: [],
    approvals: [],
    paperBalances: [],
  };
  const usedEmails = new Set<string>();
  const person = (domain: string) => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    let email = `${slugify(first)}.${slugify(last)}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${slugify(first)}.${slugify(last)}${n}@${domain}`;
    usedEmails.add(email);
    return { name: `${first} ${last}`, email };
  };
  return { options, rng, asOf, data, person };
}

export function addMonths(date: Date, months: number): Date {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
}

function slugify(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.');
}
