import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';

// Finance figures, all computed in SQL from the mirrored billing data. Money is in integer
// centavos (BRL cents). Definitions, so every figure can be checked by hand:
// - MRR of a subscription: its price per interval, yearly prices divided by 12 (rounded to
//   the centavo). MRR counts subscriptions that are `active` or `past_due` (Stripe still
//   retrying); trials count only once they convert. ARR = 12 × MRR.
// - Movements come from `subscription_changes` (MRR before → after each change), classified
//   per change: new (0 → > 0), expansion (up, was > 0), contraction (down, stays > 0),
//   churned (> 0 → 0). Ending MRR of a month = the sum of every change up to its end.
// - Paying customer: a tenant whose MRR is above zero at a month's end. Customer churn rate
//   of a month = changes that took a paying subscription to 0 in it ÷ paying customers at
//   its start.
// - ARPU = MRR ÷ paying customers. LTV estimate = ARPU ÷ average monthly customer churn
//   rate of the last (up to) 6 months; none when nobody churned.
// - Revenue is cash: invoices paid in the month, by the plan on the invoice. Refunds by the
//   refund's date. At risk = amount still due on open invoices whose payment has failed.

export interface MrrSnapshot {
  readonly mrrCents: number;
  readonly arrCents: number;
  readonly payingCustomers: number;
  /** MRR per paying customer, rounded to the centavo; 0 without customers. */
  readonly arpuCents: number;
  readonly byPlan: readonly { readonly planId: string; readonly mrrCents: number; readonly customers: number }[];
}

// Instants go to SQL as ISO strings: drizzle's postgres.js driver takes no Date in raw SQL.
const MRR_EXPR = sql`case when s.interval = 'year' then round(s.amount_cents / 12.0) else s.amount_cents end`;

/** MRR now, from the current state of each subscription. */
export async function mrrSnapshot(db: Database, at: Date = new Date()): Promise<MrrSnapshot> {
  // Per plan, and (the grouping set with no plan) over all plans: a customer paying for two
  // plans counts once there.
  const rows = await queryRows<{ plan_id: string | null; mrr: string; customers: string }>(
    db,
    sql`select s.plan_id, sum(${MRR_EXPR})::bigint as mrr, count(distinct s.tenant_id)::bigint as customers
        from subscriptions s
        where s.status in ('active', 'past_due') and s.started_at <= ${at.toISOString()} and (s.ended_at is null or s.ended_at > ${at.toISOString()})
          and s.amount_cents > 0
        group by grouping sets ((s.plan_id), ()) order by s.plan_id nulls last`,
  );
  const paying = rows.find((row) => row.plan_id === null);
  const byPlan = rows.filter((row) => row.plan_id !== null).map((row) => ({ planId: row.plan_id!, mrrCents: Number(row.mrr), customers: Number(row.customers) }));
  const mrrCents = byPlan.reduce((sum, plan) => sum + plan.mrrCents, 0);
  const payingCustomers = Number(paying?.customers ?? 0);
  return { mrrCents, arrCents: mrrCents * 12, payingCustomers, arpuCents: payingCustomers ? Math.round(mrrCents / payingCustomers) : 0, byPlan };
}

export interface MonthMovement {
  /** 'YYYY-MM' (UTC). */
  readonly month: string;
  readonly newCents: number;
  readonly expansionCents: number;
  /** Reported as a positive amount lost. */
  readonly contractionCents: number;
  /** Reported as a positive amount lost. */
  readonly churnedCents: number;
  readonly netCents: number;
  readonly endingMrrCents: number;
  readonly payingAtStart: number;
  readonly payingAtEnd: number;
  readonly churnedCustomers: number;
  /** Null when nobody was paying at the start of the month. */
  readonly customerChurnRatePct: number | null;
}

/** MRR movements and customer churn per calendar month (UTC) from `from` to `to`. */
export async function mrrMovements(db: Database, range: { from: Date; to: Date }): Promise<MonthMovement[]> {
  // One pass over the change log per query; months without changes carry the totals over.
  const moves = await queryRows<{ month: string; new_cents: string; expansion_cents: string; contraction_cents: string; churned_cents: string; churned_customers: string }>(
    db,
    sql`select to_char(date_trunc('month', occurred_at at time zone 'UTC'), 'YYYY-MM') as month,
          coalesce(sum(mrr_after_cents - mrr_before_cents) filter (where mrr_before_cents = 0 and mrr_after_cents > 0), 0) as new_cents,
          coalesce(sum(mrr_after_cents - mrr_before_cents) filter (where mrr_before_cents > 0 and mrr_after_cents > mrr_before_cents), 0) as expansion_cents,
          coalesce(sum(mrr_before_cents - mrr_after_cents) filter (where mrr_after_cents > 0 and mrr_after_cents < mrr_before_cents), 0) as contraction_cents,
          coalesce(sum(mrr_before_cents) filter (where mrr_before_cents > 0 and mrr_after_cents = 0), 0) as churned_cents,
          count(*) filter (where mrr_before_cents > 0 and mrr_after_cents = 0) as churned_customers
        from subscription_changes
        where occurred_at >= ${range.from.toISOString()}::timestamptz - interval '1 month' and occurred_at < ${range.to.toISOString()}::timestamptz + interval '1 month'
        group by 1`,
  );
  // Running totals over all history: MRR at each month's end, and paying customers, counted as
  // tenants whose MRR crosses zero (+1 when they start paying, −1 when they stop).
  const totals = await queryRows<{ month: string; ending_mrr: string; paying_at_end: string }>(
    db,
    sql`with tenant_month as (
          select tenant_id, date_trunc('month', occurred_at at time zone 'UTC') as month, sum(mrr_after_cents - mrr_before_cents) as delta
          from subscription_changes group by 1, 2
        ),
        tenant_running as (
          select month, delta, sum(delta) over (partition by tenant_id order by month) as after_month from tenant_month
        ),
        monthly as (
          select month, sum(delta) as delta,
            sum(case when after_month - delta <= 0 and after_month > 0 then 1 when after_month - delta > 0 and after_month <= 0 then -1 else 0 end) as flips
          from tenant_running group by month
        )
        select to_char(month, 'YYYY-MM') as month, sum(delta) over (order by month) as ending_mrr, sum(flips) over (order by month) as paying_at_end
        from monthly order by month`,
  );
  const movesByMonth = new Map(moves.map((row) => [row.month, row]));
  const out: MonthMovement[] = [];
  let totalIndex = 0;
  let endingMrrCents = 0;
  let paying = 0;
  const advance = (untilMonth: string) => {
    while (totalIndex < totals.length && totals[totalIndex]!.month <= untilMonth) {
      endingMrrCents = Number(totals[totalIndex]!.ending_mrr);
      paying = Number(totals[totalIndex]!.paying_at_end);
      totalIndex++;
    }
  };
  const cursor = new Date(Date.UTC(range.from.getUTCFullYear(), range.from.getUTCMonth(), 1));
  const last = monthKey(range.to);
  advance(monthKey(new Date(Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() - 1, 1))));
  for (let month = monthKey(cursor); month <= last; cursor.setUTCMonth(cursor.getUTCMonth() + 1), month = monthKey(cursor)) {
    const payingAtStart = paying;
    advance(month);
    const row = movesByMonth.get(month);
    const newCents = Number(row?.new_cents ?? 0);
    const expansionCents = Number(row?.expansion_cents ?? 0);
    const contractionCents = Number(row?.contraction_cents ?? 0);
    const churnedCents = Number(row?.churned_cents ?? 0);
    const churnedCustomers = Number(row?.churned_customers ?? 0);
    out.push({
      month,
      newCents,
      expansionCents,
      contractionCents,
      churnedCents,
      netCents: newCents + expansionCents - contractionCents - churnedCents,
      endingMrrCents,
      payingAtStart,
      payingAtEnd: paying,
      churnedCustomers,
      customerChurnRatePct: payingAtStart > 0 ? (churnedCustomers / payingAtStart) * 100 : null,
    });
  }
  return out;
}

function monthKey(date: Date): string {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

export interface PaymentRisk {
  readonly failedPayments: number;
  readonly failedAmountCents: number;
  /** Still due on open invoices whose payment failed at least once. */
  readonly atRiskCents: number;
  readonly invoicesAtRisk: number;
  readonly pastDueSubscriptions: number;
}

/** Still due on open invoices whose payment failed at least once, and how many they are. */
export async function amountAtRisk(db: Database): Promise<{ atRiskCents: number; invoicesAtRisk: number }> {
  const [risk] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_due_cents - amount_paid_cents), 0)::bigint as amount from invoices
        where status = 'open' and attempt_count > 0 and exists (select 1 from payments p where p.invoice_id = invoices.id and p.status = 'failed')`,
  );
  return { atRiskCents: Number(risk?.amount ?? 0), invoicesAtRisk: Number(risk?.n ?? 0) };
}

export async function paymentRisk(db: Database, range: { from: Date; to: Date }): Promise<PaymentRisk> {
  const [failed] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_cents), 0)::bigint as amount from payments
        where status = 'failed' and created_at >= ${range.from.toISOString()} and created_at < ${range.to.toISOString()}`,
  );
  const risk = await amountAtRisk(db);
  const [pastDue] = await queryRows<{ n: string }>(db, sql`select count(*)::bigint as n from subscriptions where status = 'past_due'`);
  return {
    failedPayments: Number(failed?.n ?? 0),
    failedAmountCents: Number(failed?.amount ?? 0),
    atRiskCents: risk.atRiskCents,
    invoicesAtRisk: risk.invoicesAtRisk,
    pastDueSubscriptions: Number(pastDue?.n ?? 0),
  };
}

export interface PlanRevenue {
  readonly month: string;
  readonly planId: string;
  readonly revenueCents: number;
  readonly invoices: number;
}

/** Cash collected per month and plan (paid invoices by payment date). */
export async function revenueByPlan(db: Database, range: { from: Date; to: Date }): Promise<PlanRevenue[]> {
  const rows = await queryRows<{ month: string; plan_id: string; revenue: string; n: string }>(
    db,
    sql`select to_char(date_trunc('month', i.paid_at at time zone 'UTC'), 'YYYY-MM') as month,
               coalesce(i.plan_id, s.plan_id, 'unknown') as plan_id, sum(i.amount_paid_cents)::bigint as revenue, count(*)::bigint as n
        from invoices i left join subscriptions s on s.id = i.subscription_id
        where i.status = 'paid' and i.paid_at >= ${range.from.toISOString()} and i.paid_at < ${range.to.toISOString()}
        group by 1, 2 order by 1, 2`,
  );
  return rows.map((row) => ({ month: row.month, planId: row.plan_id, revenueCents: Number(row.revenue), invoices: Number(row.n) }));
}

export async function refundTotals(db: Database, range: { from: Date; to: Date }): Promise<{ count: number; amountCents: number }> {
  const [row] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_cents), 0)::bigint as amount from refunds where created_at >= ${range.from.toISOString()} and created_at < ${range.to.toISOString()}`,
  );
  return { count: Number(row?.n ?? 0), amountCents: Number(row?.amount ?? 0) };
}

export interface MrrSummary extends MrrSnapshot {
  readonly asOf: string;
  readonly months: readonly MonthMovement[];
  /** Average monthly customer churn of the last (up to) 6 months with paying customers. */
  readonly averageChurnRatePct: number | null;
  /** ARPU ÷ average monthly churn rate; null when nobody churned. */
  readonly ltvCents: number | null;
}

export interface FinanceSummary extends MrrSummary {
  readonly payments: PaymentRisk;
  readonly revenue: readonly PlanRevenue[];
  readonly refunds: { readonly count: number; readonly amountCents: number };
}

const monthsRange = (asOf: Date, monthCount: number) => ({ from: new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - (monthCount - 1), 1)), to: asOf });

/** MRR now, its movements over the last `months` months, churn and LTV (what revenue_summary reports). */
export async function mrrSummary(db: Database, options: { asOf?: Date; months?: number } = {}): Promise<MrrSummary> {
  const asOf = options.asOf ?? new Date();
  const [snapshot, months] = await Promise.all([mrrSnapshot(db, asOf), mrrMovements(db, monthsRange(asOf, options.months ?? 12))]);
  const rates = months.map((m) => m.customerChurnRatePct).filter((rate): rate is number => rate !== null).slice(-6);
  const averageChurnRatePct = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
  const ltvCents = averageChurnRatePct ? Math.round(snapshot.arpuCents / (averageChurnRatePct / 100)) : null;
  return { ...snapshot, asOf: asOf.toISOString(), months, averageChurnRatePct, ltvCents };
}

/** Everything the finance, subscriptions and ceo agents report, for the last `months` months. */
export async function financeSummary(db: Database, options: { asOf?: Date; months?: number } = {}): Promise<FinanceSummary> {
  const asOf = options.asOf ?? new Date();
  const range = monthsRange(asOf, options.months ?? 12);
  const [summary, payments, revenue, refunds] = await Promise.all([
    mrrSummary(db, { asOf, months: options.months ?? 12 }),
    paymentRisk(db, range),
    revenueByPlan(db, range),
    refundTotals(db, range),
  ]);
  return { ...summary, payments, revenue, refunds };
}
