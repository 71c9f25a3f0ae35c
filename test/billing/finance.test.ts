import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  calendarMonths,
  financeSummary,
  lastDays,
  mrrAt,
  mrrMovements,
  paymentRisk,
  refundTotals,
  revenueByPlan,
} from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// A five-customer fixture whose figures are worked out by hand below.
//
// A  2026-01-05 new Pro monthly (0 → 9,990); 2026-02-10 upgrade to Enterprise (→ 49,990: +40,000 expansion)
// B  2026-01-20 new Pro yearly 99,900 → MRR 99,900 / 12 = 8,325
// C  2025-12-15 new Enterprise (49,990); 2026-02-28 downgrade to Pro (−40,000 contraction);
//    2026-03-15 cancels (9,990 churned), refunded 9,990 on 2026-03-16
// D  2026-03-03 new Pro monthly (9,990), first payment failed: past_due, invoice open
// E  2026-01-02 Free (0 → 0, no effect)
//
// MRR now = A 49,990 + B 8,325 + D 9,990 = 68,305; ARR = 819,660; paying = 3; ARPU = 22,768 (68,305 / 3 rounded)
// Jan: new 18,315 (A + B); MRR 49,990 → 68,305; paying 1 → 3 (won A, B); churn 0 %
// Feb: expansion 40,000, contraction 40,000; net 0; MRR 68,305 → 68,305; paying 3 → 3; churn 0 %;
//   revenue churn 40,000 / 68,305 = 58.56 %
// Mar (to the 31st, 23:59:59): new 9,990 (D), churned 9,990 (C); net 0; paying 3 → 3 (lost C, won D):
//   churn 1 / 3 = 33.33 %; revenue churn 9,990 / 68,305 = 14.63 %
// Last 30 days to Mar 31 23:59:59 (from Mar 1 23:59:59): the same as March (C lost of A, B, C)
// Last 90 days (from Dec 31 23:59:59): paying 1 (C) → 3; lost C: churn 100 %, monthly 33.33 %;
//   LTV = ARPU ÷ monthly churn = 22,768 × 3 × 1 / 1 = 68,304
// Failed payments Jan–Mar: A's first attempt 9,990 (then paid) and D's 9,990 = 2, 19,980; at risk: D's 9,990;
//   in the last 30 days only D's
// Revenue (paid invoices by date and invoiced plan): Jan Ent 49,990 (C), Pro 109,890 (A 9,990 + B 99,900);
//   Feb Ent 99,980 (A, C); Mar Ent 49,990 (A), Pro 9,990 (C)

const d = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe.each(testDrivers)('finance figures on %s (hand-computed fixture)', (driver) => {
  let test: TestDatabase;
  const ids = Object.fromEntries(
    ['A', 'B', 'C', 'D', 'E'].map((k) => [k, { tenant: crypto.randomUUID(), customer: crypto.randomUUID(), sub: crypto.randomUUID() }]),
  );

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    const x = test.handle.db;
    await x.insert(db.plans).values(
      (['free', 'pro', 'enterprise'] as const).map((id) => ({
        id,
        name: id,
        monthlyPriceCents: 0,
        yearlyPriceCents: 0,
        limits: { botsAllowed: 1, liveTradingAllowed: false, backtestsPerDay: 1, symbolsPerBot: 1, agentAccess: 'none' as const },
      })),
    );
    for (const [name, id] of Object.entries(ids)) {
      await x.insert(db.tenants).values({ id: id.tenant, kind: 'trader', name });
      await x.insert(db.customers).values({ id: id.customer, tenantId: id.tenant, email: `${name}@example.com`, name });
    }
    const sub = (
      k: string,
      planId: 'free' | 'pro' | 'enterprise',
      interval: 'month' | 'year',
      status: 'active' | 'past_due' | 'canceled',
      amountCents: number,
      start: string,
      end?: string,
    ) => ({
      id: ids[k]!.sub,
      tenantId: ids[k]!.tenant,
      customerId: ids[k]!.customer,
      planId,
      interval,
      status,
      amountCents,
      currentPeriodStart: d(start),
      currentPeriodEnd: d('2026-04-30'),
      startedAt: d(start),
      endedAt: end ? d(end) : null,
      canceledAt: end ? d(end) : null,
    });
    await x
      .insert(db.subscriptions)
      .values([
        sub('A', 'enterprise', 'month', 'active', 49_990, '2026-01-05'),
        sub('B', 'pro', 'year', 'active', 99_900, '2026-01-20'),
        sub('C', 'pro', 'month', 'canceled', 9_990, '2025-12-15', '2026-03-15'),
        sub('D', 'pro', 'month', 'past_due', 9_990, '2026-03-03'),
        sub('E', 'free', 'month', 'active', 0, '2026-01-02'),
      ]);
    const change = (k: string, kind: 'created' | 'upgraded' | 'downgraded' | 'canceled', before: number, after: number, at: string) => ({
      tenantId: ids[k]!.tenant,
      subscriptionId: ids[k]!.sub,
      kind,
      mrrBeforeCents: before,
      mrrAfterCents: after,
      occurredAt: d(at),
    });
    await x
      .insert(db.subscriptionChanges)
      .values([
        change('C', 'created', 0, 49_990, '2025-12-15'),
        change('E', 'created', 0, 0, '2026-01-02'),
        change('A', 'created', 0, 9_990, '2026-01-05'),
        change('B', 'created', 0, 8_325, '2026-01-20'),
        change('A', 'upgraded', 9_990, 49_990, '2026-02-10'),
        change('C', 'downgraded', 49_990, 9_990, '2026-02-28'),
        change('D', 'created', 0, 9_990, '2026-03-03'),
        change('C', 'canceled', 9_990, 0, '2026-03-15'),
      ]);
    const invoice = (k: string, planId: 'pro' | 'enterprise', amount: number, created: string, paid: string | null) => ({
      id: crypto.randomUUID(),
      tenantId: ids[k]!.tenant,
      customerId: ids[k]!.customer,
      subscriptionId: ids[k]!.sub,
      planId,
      status: paid ? ('paid' as const) : ('open' as const),
      amountDueCents: amount,
      amountPaidCents: paid ? amount : 0,
      periodStart: d(created),
      periodEnd: d(created),
      paidAt: paid ? d(paid) : null,
      attemptCount: 1,
      createdAt: d(created),
    });
    const invoices = [
      invoice('A', 'pro', 9_990, '2026-01-05', '2026-01-08'),
      invoice('A', 'enterprise', 49_990, '2026-02-10', '2026-02-10'),
      invoice('A', 'enterprise', 49_990, '2026-03-10', '2026-03-10'),
      invoice('B', 'pro', 99_900, '2026-01-20', '2026-01-20'),
      invoice('C', 'enterprise', 49_990, '2026-01-15', '2026-01-15'),
      invoice('C', 'enterprise', 49_990, '2026-02-15', '2026-02-15'),
      invoice('C', 'pro', 9_990, '2026-03-01', '2026-03-01'),
      invoice('D', 'pro', 9_990, '2026-03-03', null),
    ];
    await x.insert(db.invoices).values(invoices);
    const payment = (k: string, invoiceIndex: number, status: 'succeeded' | 'failed', amount: number, at: string) => ({
      id: crypto.randomUUID(),
      tenantId: ids[k]!.tenant,
      invoiceId: invoices[invoiceIndex]!.id,
      status,
      amountCents: amount,
      createdAt: d(at),
    });
    const payments = [
      payment('A', 0, 'failed', 9_990, '2026-01-05'),
      payment('A', 0, 'succeeded', 9_990, '2026-01-08'),
      payment('C', 6, 'succeeded', 9_990, '2026-03-01'),
      payment('D', 7, 'failed', 9_990, '2026-03-03'),
    ];
    await x.insert(db.payments).values(payments);
    await x
      .insert(db.refunds)
      .values({ tenantId: ids['C']!.tenant, paymentId: payments[2]!.id, amountCents: 9_990, createdAt: d('2026-03-16') });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  const quarter = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-03-31T23:59:59Z') };

  it('MRR, ARR, paying customers, ARPU and MRR by plan now', async () => {
    expect(await mrrAt(test.handle.db, quarter.to)).toEqual({
      mrrCents: 68_305,
      arrCents: 819_660,
      payingCustomers: 3,
      arpuCents: 22_768,
      byPlan: [
        { planId: 'enterprise', mrrCents: 49_990, customers: 1 },
        { planId: 'pro', mrrCents: 18_315, customers: 2 },
      ],
    });
  });

  it('new, expansion, contraction and churned MRR and customer and revenue churn per month', async () => {
    const months = await mrrMovements(test.handle.db, calendarMonths(quarter.to, 3));
    const iso = (s: string) => new Date(s).toISOString();
    expect(months).toEqual([
      {
        from: iso('2026-01-01T00:00:00Z'),
        to: iso('2026-02-01T00:00:00Z'),
        newCents: 18_315,
        expansionCents: 0,
        contractionCents: 0,
        churnedCents: 0,
        netNewCents: 18_315,
        mrrAtStartCents: 49_990,
        mrrAtEndCents: 68_305,
        payingAtStart: 1,
        payingAtEnd: 3,
        customersLost: 0,
        customersWon: 2,
        customerChurnPct: 0,
        revenueChurnPct: 0,
      },
      {
        from: iso('2026-02-01T00:00:00Z'),
        to: iso('2026-03-01T00:00:00Z'),
        newCents: 0,
        expansionCents: 40_000,
        contractionCents: 40_000,
        churnedCents: 0,
        netNewCents: 0,
        mrrAtStartCents: 68_305,
        mrrAtEndCents: 68_305,
        payingAtStart: 3,
        payingAtEnd: 3,
        customersLost: 0,
        customersWon: 0,
        customerChurnPct: 0,
        revenueChurnPct: 58.56,
      },
      {
        from: iso('2026-03-01T00:00:00Z'),
        to: quarter.to.toISOString(),
        newCents: 9_990,
        expansionCents: 0,
        contractionCents: 0,
        churnedCents: 9_990,
        netNewCents: 0,
        mrrAtStartCents: 68_305,
        mrrAtEndCents: 68_305,
        payingAtStart: 3,
        payingAtEnd: 3,
        customersLost: 1,
        customersWon: 1,
        customerChurnPct: 33.33,
        revenueChurnPct: 14.63,
      },
    ]);
    // Overlapping windows of any length in the same statement: the quarter as one window.
    const [whole] = await mrrMovements(test.handle.db, [quarter]);
    expect(whole).toMatchObject({
      newCents: 28_305,
      expansionCents: 40_000,
      contractionCents: 40_000,
      churnedCents: 9_990,
      netNewCents: 18_315,
      payingAtStart: 1,
      payingAtEnd: 3,
      customersLost: 1,
      customersWon: 3,
      customerChurnPct: 100,
    });
  });

  it('failed payments, amounts at risk, revenue by plan and refunds', async () => {
    expect(await paymentRisk(test.handle.db, quarter)).toEqual({
      failedPayments: 2,
      failedAmountCents: 19_980,
      atRiskCents: 9_990,
      invoicesAtRisk: 1,
      pastDueSubscriptions: 1,
    });
    expect(await revenueByPlan(test.handle.db, quarter)).toEqual([
      { month: '2026-01', planId: 'enterprise', revenueCents: 49_990, invoices: 1 },
      { month: '2026-01', planId: 'pro', revenueCents: 109_890, invoices: 2 },
      { month: '2026-02', planId: 'enterprise', revenueCents: 99_980, invoices: 2 },
      { month: '2026-03', planId: 'enterprise', revenueCents: 49_990, invoices: 1 },
      { month: '2026-03', planId: 'pro', revenueCents: 9_990, invoices: 1 },
    ]);
    expect(await refundTotals(test.handle.db, quarter)).toEqual({ count: 1, amountCents: 9_990 });
  });

  it('churn and net new MRR of the last 30 days, LTV from the last 90 days, failed payments of the last 30 days', async () => {
    const summary = await financeSummary(test.handle.db, { asOf: quarter.to, months: 3 });
    expect(summary.months.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(summary.months.map((m) => m.endingMrrCents)).toEqual([68_305, 68_305, 68_305]);
    expect(summary.last30d).toMatchObject({
      from: lastDays(quarter.to, 30).from.toISOString(),
      payingAtStart: 3,
      customersLost: 1,
      newCents: 9_990,
      churnedCents: 9_990,
    });
    expect(summary).toMatchObject({ customerChurnPct: 33.33, revenueChurnPct: 14.63, netNewMrrCents: 0 });
    expect(summary.last90d).toMatchObject({ payingAtStart: 1, customersLost: 1, customerChurnPct: 100 });
    expect(summary.monthlyChurn90dPct).toBe(33.33);
    expect(summary.ltvCents).toBe(68_304);
    expect(summary.payments).toEqual({
      failedPayments: 1,
      failedAmountCents: 9_990,
      atRiskCents: 9_990,
      invoicesAtRisk: 1,
      pastDueSubscriptions: 1,
    });
    expect(summary.refunds).toEqual({ count: 1, amountCents: 9_990 });
  });
});

describe('finance figures on the demo company', () => {
  it('agree with each other: MRR now equals the ending MRR of the change log, and paying counts match', async () => {
    const { seedDemoCompany } = await import('../../demo/index.ts');
    const { createSecretBox } = await import('../../secrets/index.ts');
    const test = await createTestDatabase('pglite');
    try {
      const asOf = new Date('2026-11-01T00:00:00Z');
      await seedDemoCompany(test.handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf });
      const summary = await financeSummary(test.handle.db, { asOf, months: 12 });
      const lastFullMonth = summary.months.at(-2)!;
      expect(summary.mrrCents).toBeGreaterThan(1_000_000);
      expect(lastFullMonth.endingMrrCents).toBe(summary.mrrCents);
      expect(lastFullMonth.payingAtEnd).toBe(summary.payingCustomers);
      // Each window's end is the next one's start; MRR at the end − at the start is the net new MRR.
      for (const m of summary.months) expect(m.mrrAtEndCents - m.mrrAtStartCents).toBe(m.netNewCents);
      for (const [a, b] of summary.months.slice(1).map((m, i) => [summary.months[i]!, m] as const))
        expect([b.mrrAtStartCents, b.payingAtStart]).toEqual([a.mrrAtEndCents, a.payingAtEnd]);
      expect(summary.last30d.mrrAtEndCents).toBe(summary.mrrCents);
      expect(summary.last30d.payingAtEnd).toBe(summary.payingCustomers);
      expect(summary.last30d.payingAtEnd).toBe(
        summary.last30d.payingAtStart - summary.last30d.customersLost + summary.last30d.customersWon,
      );
      expect(summary.months).toHaveLength(12);
      expect(summary.payments.failedPayments).toBeGreaterThan(0);
      expect(summary.revenue.length).toBeGreaterThan(12);
      expect(summary.ltvCents).toBeGreaterThan(summary.arpuCents);
    } finally {
      await test.dispose();
    }
  });
});
