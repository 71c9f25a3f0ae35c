import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateDemoCompany, type DemoCompany } from '../../demo/index.ts';
import type { SecretBox } from '../../secrets/index.ts';

// The demo company is a function of its seed, date and size: the same inputs give the same
// rows, byte for byte. These digests were recorded from the generator before it was split into
// one function per section (issue 20), and again when the replayed market its trades are priced
// on became one four-week window for every timeframe (the rows' counts unchanged, their prices
// new); a change to any row, its order or a random draw shows.
// The candle cache `seed --demo` fills (demo/candles.ts) is not in the digest: those bars are the
// bundled files laid on the wall clock at seeding time, not a function of the seed, and
// test/demo/candles.test.ts checks them bar for bar against the replayed market.
const sealing: SecretBox = {
  seal: (plaintext, context) => `sealed:${context}:${plaintext}`,
  open: () => {
    throw new Error('not used');
  },
};

function digest(company: DemoCompany): { counts: Record<string, number>; sha256: string } {
  const counts: Record<string, number> = {};
  const hash = crypto.createHash('sha256');
  for (const [key, rows] of (Object.entries(company) as [string, unknown[]][]).sort(([a], [b]) => (a < b ? -1 : 1))) {
    counts[key] = rows.length;
    hash.update(`${key}\n`);
    for (const row of rows)
      hash.update(`${JSON.stringify(row, (_k, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))}\n`);
  }
  return { counts, sha256: hash.digest('hex') };
}

const CASES = [
  { seed: 20_240_601, asOf: '2026-11-01T00:00:00Z', traders: 320 },
  { seed: 7, asOf: '2026-11-01T00:00:00Z', traders: 40 },
  { seed: 42, asOf: '2025-03-15T00:00:00Z', traders: 3 },
] as const;

describe('the demo company is deterministic', () => {
  for (const input of CASES) {
    it(`seed ${input.seed}, ${input.traders} traders, as of ${input.asOf}`, () => {
      const company = generateDemoCompany({ seed: input.seed, asOf: new Date(input.asOf), traders: input.traders, secretBox: sealing });
      const result = digest(company);
      expect(result).toEqual(EXPECTED[`${input.seed}/${input.traders}`]);
    });
  }
});

const EXPECTED: Record<string, { counts: Record<string, number>; sha256: string }> = {
  '20240601/320': {
    counts: {
      approvals: 4,
      bots: 274,
      campaigns: 24,
      configEntries: 15,
      configEntryVersions: 22,
      customers: 320,
      documentVersions: 35,
      documents: 16,
      exchangeAccounts: 43,
      influencers: 12,
      invoices: 1026,
      leads: 260,
      orders: 9436,
      paperBalances: 332,
      payments: 1052,
      plans: 3,
      positions: 58,
      refunds: 6,
      securityEvents: 614,
      staff: 37,
      strategies: 5,
      subscriptionChanges: 512,
      subscriptions: 380,
      supportTickets: 220,
      tenants: 333,
      ticketMessages: 440,
      trades: 4747,
      users: 369,
    },
    sha256: 'bf674320923d0c05ceb67ccdf43ac5d164ae7f9b7be34d77c5e750229e2a8fdf',
  },
  '7/40': {
    counts: {
      approvals: 4,
      bots: 48,
      campaigns: 24,
      configEntries: 15,
      configEntryVersions: 22,
      customers: 40,
      documentVersions: 37,
      documents: 16,
      exchangeAccounts: 6,
      influencers: 12,
      invoices: 125,
      leads: 260,
      orders: 1837,
      paperBalances: 59,
      payments: 134,
      plans: 3,
      positions: 11,
      refunds: 1,
      securityEvents: 614,
      staff: 34,
      strategies: 5,
      subscriptionChanges: 66,
      subscriptions: 48,
      supportTickets: 220,
      tenants: 53,
      ticketMessages: 438,
      trades: 924,
      users: 86,
    },
    sha256: '5dd35e9b7c3319f91b2d5ac94b2529f3777e66ef85069b1e5a765b2c0e490aa0',
  },
  '42/3': {
    counts: {
      approvals: 4,
      bots: 1,
      campaigns: 24,
      configEntries: 15,
      configEntryVersions: 22,
      customers: 3,
      documentVersions: 41,
      documents: 16,
      exchangeAccounts: 1,
      influencers: 12,
      invoices: 3,
      leads: 260,
      orders: 73,
      paperBalances: 2,
      payments: 3,
      plans: 3,
      positions: 1,
      refunds: 0,
      securityEvents: 614,
      staff: 34,
      strategies: 5,
      subscriptionChanges: 3,
      subscriptions: 3,
      supportTickets: 220,
      tenants: 16,
      ticketMessages: 440,
      trades: 37,
      users: 49,
    },
    sha256: '0c2e2c12f29ba017735b8c84141481cf5cec9f9cbcf73f21c1d81517c9c1b7bf',
  },
};
