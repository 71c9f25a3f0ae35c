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
// - Paying customer: a tenant whose MRR is above zero. Customer churn rate of a month =
//   customers who went from paying to 0 in it ÷ paying customers at its start.
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
  const rows = await queryRows<{ plan_id: string; mrr: string; customers: string }>(
    db,
    sql`select s.plan_id, sum(${MRR_EXPR})::bigint as mrr, count(distinct s.tenant_id)::bigint as customers
        from subscriptions s
        where s.status in ('active', 'past_due') and s.started_at <= ${at.toISOString()} and (s.ended_at is null or s.ended_at > ${at.toISOString()})
          and s.amount_cents > 0
        group by s.plan_id order by s.plan_id`,
  );
  const [paying] = await queryRows<{ n: string }>(
    db,
    sql`select count(distinct s.tenant_id)::bigint as n from subscriptions s
        where s.status in ('active', 'past_due') and s.started_at <= ${at.toISOString()} and (s.ended_at is null or s.ended_at > ${at.toISOString()}) and s.amount_cents > 0`,
  );
  const byPlan = rows.map((row) => ({ planId: row.plan_id, mrrCents: Number(row.mrr), customers: Number(row.customers) }));
  const mrrCents = byPlan.reduce((sum, plan) => sum + plan.mrrCents, 0);
  const payingCustomers = Number(paying?.n ?? 0);
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
  const rows = await queryRows<{
    month: string;
    new_cents: string;
    expansion_cents: string;
    contraction_cents: string;
    churned_cents: string;
    ending_mrr: string;
    paying_start: string;
    paying_end: string;
    churned_customers: string;
  }>(
    db,
    sql`with months as (
          select generate_series(date_trunc('month', ${range.from.toISOString()}::timestamptz at time zone 'UTC'),
                                 date_trunc('month', ${range.to.toISOString()}::timestamptz at time zone 'UTC'),
                                 interval '1 month') as month_start
        ),
        changes as (
          select tenant_id, occurred_at at time zone 'UTC' as at, mrr_before_cents as before, mrr_after_cents as after
          from subscription_changes
        ),
        -- A tenant pays at an instant when the sum of its MRR changes before it is above zero.
        paying as (
          select m.month_start,
            (select count(*) from (select tenant_id from changes where at < m.month_start
                                   group by tenant_id having sum(after - before) > 0) t) as paying_start,
            (select count(*) from (select tenant_id from changes where at < m.month_start + interval '1 month'
                                   group by tenant_id having sum(after - before) > 0) t) as paying_end
          from months m
        )
        select to_char(m.month_start, 'YYYY-MM') as month,
          coalesce(sum(c.after - c.before) filter (where c.before = 0 and c.after > 0), 0) as new_cents,
          coalesce(sum(c.after - c.before) filter (where c.before > 0 and c.after > c.before), 0) as expansion_cents,
          coalesce(sum(c.before - c.after) filter (where c.after > 0 and c.after < c.before), 0) as contraction_cents,
          coalesce(sum(c.before) filter (where c.before > 0 and c.after = 0), 0) as churned_cents,
          (select coalesce(sum(after - before), 0) from changes where at < m.month_start + interval '1 month') as ending_mrr,
          p.paying_start, p.paying_end,
          count(*) filter (where c.before > 0 and c.after = 0) as churned_customers
        from months m
        join paying p on p.month_start = m.month_start
        left join changes c on c.at >= m.month_start and c.at < m.month_start + interval '1 month'
        group by m.month_start, p.paying_start, p.paying_end
        order by m.month_start`,
  );
  return rows.map((row) => {
    const moves = {
      newCents: Number(row.new_cents),
      expansionCents: Number(row.expansion_cents),
      contractionCents: Number(row.contraction_cents),
      churnedCents: Number(row.churned_cents),
    };
    const payingAtStart = Number(row.paying_start);
    const churnedCustomers = Number(row.churned_customers);
    return {
      month: row.month,
      ...moves,
      netCents: moves.newCents + moves.expansionCents - moves.contractionCents - moves.churnedCents,
      endingMrrCents: Number(row.ending_mrr),
      payingAtStart,
      payingAtEnd: Number(row.paying_end),
      churnedCustomers,
      customerChurnRatePct: payingAtStart > 0 ? (churnedCustomers / payingAtStart) * 100 : null,
    };
  });
}

export interface PaymentRisk {
  readonly failedPayments: number;
  readonly failedAmountCents: number;
  /** Still due on open invoices whose payment failed at least once. */
  readonly atRiskCents: number;
  readonly invoicesAtRisk: number;
  readonly pastDueSubscriptions: number;
}

export async function paymentRisk(db: Database, range: { from: Date; to: Date }): Promise<PaymentRisk> {
  const [failed] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_cents), 0)::bigint as amount from payments
        where status = 'failed' and created_at >= ${range.from.toISOString()} and created_at < ${range.to.toISOString()}`,
  );
  const [risk] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_due_cents - amount_paid_cents), 0)::bigint as amount from invoices
        where status = 'open' and attempt_count > 0 and exists (select 1 from payments p where p.invoice_id = invoices.id and p.status = 'failed')`,
  );
  const [pastDue] = await queryRows<{ n: string }>(db, sql`select count(*)::bigint as n from subscriptions where status = 'past_due'`);
  return {
    failedPayments: Number(failed?.n ?? 0),
    failedAmountCents: Number(failed?.amount ?? 0),
    atRiskCents: Number(risk?.amount ?? 0),
    invoicesAtRisk: Number(risk?.n ?? 0),
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

export interface FinanceSummary extends MrrSnapshot {
  readonly asOf: string;
  readonly months: readonly MonthMovement[];
  /** Average monthly customer churn of the last (up to) 6 months with paying customers. */
  readonly averageChurnRatePct: number | null;
  /** ARPU ÷ average monthly churn rate; null when nobody churned. */
  readonly ltvCents: number | null;
  readonly payments: PaymentRisk;
  readonly revenue: readonly PlanRevenue[];
  readonly refunds: { readonly count: number; readonly amountCents: number };
}

/** Everything the finance, subscriptions and ceo agents report, for the last `months` months. */
export async function financeSummary(db: Database, options: { asOf?: Date; months?: number } = {}): Promise<FinanceSummary> {
  const asOf = options.asOf ?? new Date();
  const monthCount = options.months ?? 12;
  const from = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() - (monthCount - 1), 1));
  const range = { from, to: asOf };
  const [snapshot, months, payments, revenue, refunds] = await Promise.all([
    mrrSnapshot(db, asOf),
    mrrMovements(db, range),
    paymentRisk(db, range),
    revenueByPlan(db, range),
    refundTotals(db, range),
  ]);
  const rates = months.map((m) => m.customerChurnRatePct).filter((rate): rate is number => rate !== null).slice(-6);
  const averageChurnRatePct = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null;
  const ltvCents = averageChurnRatePct ? Math.round(snapshot.arpuCents / (averageChurnRatePct / 100)) : null;
  return { ...snapshot, asOf: asOf.toISOString(), months, averageChurnRatePct, ltvCents, payments, revenue, refunds };
}
