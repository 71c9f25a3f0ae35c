import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { calendarMonths, DAY_MS, lastDays, type FigureDefinition, type Window } from '../figures/window.ts';

// The company's finance figures: ONE function and ONE definition each. Every surface (the
// `billing mrr` command, the agents' tools, the executive report, Telegram, the offline
// templates) gets its figures from here and prints the window next to each one, so the same
// figure over the same window has the same value everywhere. `FINANCE_FIGURES` below is the
// written definition of each (formula and window), for people and for surfaces to print.
//
// Money is in integer centavos (BRL cents), computed in SQL over the billing mirror.
// Windows are half-open, [from, to): a change, payment or invoice at `to` belongs to the
// next window. A figure "at" an instant t counts what is in effect just before t, which is
// the state at the end of every window that ends at t.

export { calendarMonths, DAY_MS, lastDays, type FigureDefinition, type Window } from '../figures/window.ts';

/**
 * The standard windows. A surface that shows another window (the daily report's 24 h, a
 * month of the movements table) says so and calls the same function with that window.
 */
export const FINANCE_WINDOWS = {
  /** Customer churn, revenue churn and net new MRR. */
  churnDays: 30,
  /** The churn LTV divides by (a monthly rate: the 90-day churn ÷ 3). */
  ltvChurnDays: 90,
  /** Failed payments. */
  failedPaymentsDays: 30,
} as const;

export const FINANCE_FIGURES: readonly FigureDefinition[] = [
  {
    id: 'mrr',
    label: 'MRR',
    formula:
      'sum of the monthly price of every subscription that is active or past_due (Stripe still retrying); yearly prices ÷ 12, rounded to the centavo; trials count once they convert',
    window: 'now (at the instant)',
    source: 'mrrAt',
  },
  { id: 'arr', label: 'ARR', formula: '12 × MRR', window: 'now (at the instant)', source: 'arrCents' },
  {
    id: 'paying_customers',
    label: 'Paying customers',
    formula: 'customers (tenants) whose MRR is above zero',
    window: 'now (at the instant)',
    source: 'mrrAt',
  },
  {
    id: 'arpu',
    label: 'ARPU',
    formula: 'MRR ÷ paying customers, rounded to the centavo',
    window: 'now (at the instant)',
    source: 'arpuCents',
  },
  {
    id: 'customer_churn',
    label: 'Customer churn',
    formula: 'customers paying at the start of the window and not at its end ÷ customers paying at its start',
    window: `last ${FINANCE_WINDOWS.churnDays} days; the movements table: each calendar month`,
    source: 'mrrMovements → customerChurnPct',
  },
  {
    id: 'revenue_churn',
    label: 'Revenue churn',
    formula: '(churned MRR + contraction MRR in the window) ÷ MRR at its start',
    window: `last ${FINANCE_WINDOWS.churnDays} days`,
    source: 'mrrMovements → revenueChurnPct',
  },
  {
    id: 'ltv',
    label: 'LTV',
    formula: `ARPU ÷ monthly customer churn, the monthly churn being the customer churn of the last ${FINANCE_WINDOWS.ltvChurnDays} days ÷ 3; none when nobody churned`,
    window: `ARPU now; churn of the last ${FINANCE_WINDOWS.ltvChurnDays} days`,
    source: 'ltvCents',
  },
  {
    id: 'net_new_mrr',
    label: 'Net new MRR',
    formula:
      'new + expansion − contraction − churned MRR of the subscription changes in the window (each change by its MRR before → after: 0 → > 0 new, up expansion, down but > 0 contraction, > 0 → 0 churned); equals MRR at the end − MRR at the start',
    window: `last ${FINANCE_WINDOWS.churnDays} days; the executive report: its period (24 h or 7 days); the movements table: each calendar month`,
    source: 'mrrMovements → netNewMrrCents',
  },
  {
    id: 'failed_payments',
    label: 'Failed payments',
    formula: 'payments that failed in the window (count and amount)',
    window: `last ${FINANCE_WINDOWS.failedPaymentsDays} days; the executive report: its period (24 h or 7 days)`,
    source: 'paymentRisk',
  },
  {
    id: 'at_risk',
    label: 'Amount at risk',
    formula: 'still due on open invoices whose payment failed at least once',
    window: 'now',
    source: 'amountAtRisk',
  },
  {
    id: 'past_due',
    label: 'Past-due subscriptions',
    formula: 'subscriptions in past_due (Stripe retrying)',
    window: 'now',
    source: 'paymentRisk',
  },
  {
    id: 'revenue',
    label: 'Revenue (cash)',
    formula: 'invoices paid in the window, by the plan on the invoice',
    window: 'each calendar month (UTC)',
    source: 'revenueByPlan',
  },
  {
    id: 'refunds',
    label: 'Refunds',
    formula: 'refunds by the refund’s date (count and amount)',
    window: 'the months shown',
    source: 'refundTotals',
  },
];

// --- MRR, ARR, paying customers and ARPU at an instant -------------------------------------------

export interface MrrSnapshot {
  readonly mrrCents: number;
  readonly arrCents: number;
  readonly payingCustomers: number;
  /** MRR per paying customer, rounded to the centavo; 0 without customers. */
  readonly arpuCents: number;
  readonly byPlan: readonly { readonly planId: string; readonly mrrCents: number; readonly customers: number }[];
}

/** A subscription's MRR: yearly prices ÷ 12 rounded to the centavo (the same rule as `monthlyRecurringCents`). */
const MRR_EXPR = sql`case when s.interval = 'year' then round(s.amount_cents / 12.0) else s.amount_cents end`;

/** ARR = 12 × MRR. */
export function arrCents(mrrCents: number): number {
  return mrrCents * 12;
}

/** ARPU = MRR ÷ paying customers, rounded to the centavo; 0 without customers. */
export function arpuCents(mrrCents: number, payingCustomers: number): number {
  return payingCustomers > 0 ? Math.round(mrrCents / payingCustomers) : 0;
}

/**
 * MRR, ARR, paying customers and ARPU at `at`, from the subscriptions in effect just before it
 * (started before `at`, not ended before it). Instants go to SQL as ISO strings: drizzle's
 * postgres.js driver takes no Date in raw SQL.
 */
export async function mrrAt(db: Database, at: Date = new Date()): Promise<MrrSnapshot> {
  // Per plan, and (the grouping set with no plan) over all plans: a customer paying for two
  // plans counts once there.
  const rows = await queryRows<{ plan_id: string | null; mrr: string; customers: string }>(
    db,
    sql`select s.plan_id, sum(${MRR_EXPR})::bigint as mrr, count(distinct s.tenant_id)::bigint as customers
        from subscriptions s
        where s.status in ('active', 'past_due') and s.started_at < ${at.toISOString()} and (s.ended_at is null or s.ended_at >= ${at.toISOString()})
          and s.amount_cents > 0
        group by grouping sets ((s.plan_id), ()) order by s.plan_id nulls last`,
  );
  const paying = rows.find((row) => row.plan_id === null);
  const byPlan = rows
    .filter((row) => row.plan_id !== null)
    .map((row) => ({ planId: row.plan_id!, mrrCents: Number(row.mrr), customers: Number(row.customers) }));
  const mrrCents = byPlan.reduce((sum, plan) => sum + plan.mrrCents, 0);
  const payingCustomers = Number(paying?.customers ?? 0);
  return { mrrCents, arrCents: arrCents(mrrCents), payingCustomers, arpuCents: arpuCents(mrrCents, payingCustomers), byPlan };
}

// --- Movements, churn and net new MRR over a window ----------------------------------------------

/** MRR movements and customer churn over one window, from the change log (`subscription_changes`). */
export interface MrrMovement {
  /** ISO instants of the window [from, to). */
  readonly from: string;
  readonly to: string;
  readonly newCents: number;
  readonly expansionCents: number;
  /** Reported as a positive amount lost. */
  readonly contractionCents: number;
  /** Reported as a positive amount lost. */
  readonly churnedCents: number;
  /** new + expansion − contraction − churned (= MRR at the end − MRR at the start). */
  readonly netNewCents: number;
  readonly mrrAtStartCents: number;
  readonly mrrAtEndCents: number;
  readonly payingAtStart: number;
  readonly payingAtEnd: number;
  /** Paying at the start, not paying at the end. */
  readonly customersLost: number;
  /** Not paying at the start, paying at the end. */
  readonly customersWon: number;
  /** customersLost ÷ payingAtStart, in percent to 0.01; null when nobody was paying at the start. */
  readonly customerChurnPct: number | null;
  /** (churned + contraction) ÷ MRR at the start, in percent to 0.01; null without MRR at the start. */
  readonly revenueChurnPct: number | null;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Customer churn of a window: customers lost ÷ customers paying at its start, in percent (0.01). */
export function customerChurnPct(m: { readonly customersLost: number; readonly payingAtStart: number }): number | null {
  return m.payingAtStart > 0 ? round2((m.customersLost / m.payingAtStart) * 100) : null;
}

/** Revenue churn of a window: (churned + contraction MRR) ÷ MRR at its start, in percent (0.01). */
export function revenueChurnPct(m: {
  readonly churnedCents: number;
  readonly contractionCents: number;
  readonly mrrAtStartCents: number;
}): number | null {
  return m.mrrAtStartCents > 0 ? round2(((m.churnedCents + m.contractionCents) / m.mrrAtStartCents) * 100) : null;
}

/** Net new MRR of a window: new + expansion − contraction − churned. */
export function netNewMrrCents(m: {
  readonly newCents: number;
  readonly expansionCents: number;
  readonly contractionCents: number;
  readonly churnedCents: number;
}): number {
  return m.newCents + m.expansionCents - m.contractionCents - m.churnedCents;
}

/**
 * LTV = ARPU ÷ monthly customer churn, the monthly churn being the churn of a 90-day window ÷ 3
 * (computed from the counts, so no rounded rate goes into it); null when nobody churned.
 */
export function ltvCents(arpu: number, churnWindow: Pick<MrrMovement, 'customersLost' | 'payingAtStart' | 'from' | 'to'>): number | null {
  if (churnWindow.customersLost === 0 || churnWindow.payingAtStart === 0) return null;
  const months = (Date.parse(churnWindow.to) - Date.parse(churnWindow.from)) / (30 * DAY_MS);
  return Math.round((arpu * months * churnWindow.payingAtStart) / churnWindow.customersLost);
}

/** The monthly customer churn LTV divides by: the window's churn ÷ its length in 30-day months, in percent (0.01). */
export function monthlyChurnPct(churnWindow: Pick<MrrMovement, 'customersLost' | 'payingAtStart' | 'from' | 'to'>): number | null {
  if (churnWindow.payingAtStart === 0) return null;
  const months = (Date.parse(churnWindow.to) - Date.parse(churnWindow.from)) / (30 * DAY_MS);
  return round2((churnWindow.customersLost / churnWindow.payingAtStart / months) * 100);
}

/**
 * MRR movements, MRR and paying customers at the start and end, customers lost and won, and
 * customer and revenue churn, for each window (any number, any lengths, overlapping or not),
 * in one statement over the change log. A customer's MRR at an instant is the sum of the MRR
 * changes of all their subscriptions before it; they are paying when it is above zero.
 */
export async function mrrMovements(db: Database, windows: readonly Window[]): Promise<MrrMovement[]> {
  if (windows.length === 0) return [];
  const instants = [...new Set(windows.flatMap((w) => [w.from.getTime(), w.to.getTime()]))].sort((a, b) => a - b);
  const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;
  const col = (name: string) => sql.raw(`"${name}"`);
  const k = (ms: number) => instants.indexOf(ms);
  const delta = sql`(mrr_after_cents - mrr_before_cents)`;
  // Each customer's MRR at every instant the windows start or end.
  const perCustomer = sql.join(
    instants.map((ms, i) => sql`coalesce(sum(${delta}) filter (where occurred_at < ${at(ms)}), 0) as ${col(`s${i}`)}`),
    sql`, `,
  );
  const stateColumns: SQL[] = [];
  for (let i = 0; i < instants.length; i++) {
    stateColumns.push(
      sql`count(*) filter (where ${col(`s${i}`)} > 0) as ${col(`paying${i}`)}`,
      sql`coalesce(sum(${col(`s${i}`)}), 0)::bigint as ${col(`mrr${i}`)}`,
    );
  }
  windows.forEach((w, j) => {
    const s = col(`s${k(w.from.getTime())}`);
    const e = col(`s${k(w.to.getTime())}`);
    stateColumns.push(
      sql`count(*) filter (where ${s} > 0 and ${e} <= 0) as ${col(`lost${j}`)}`,
      sql`count(*) filter (where ${s} <= 0 and ${e} > 0) as ${col(`won${j}`)}`,
    );
  });
  // Each change by its MRR before → after, summed per window.
  const movementColumns = windows.flatMap((w, j) => {
    const inWindow = sql`occurred_at >= ${at(w.from.getTime())} and occurred_at < ${at(w.to.getTime())}`;
    return [
      sql`coalesce(sum(mrr_after_cents - mrr_before_cents) filter (where ${inWindow} and mrr_before_cents = 0 and mrr_after_cents > 0), 0)::bigint as ${col(`new${j}`)}`,
      sql`coalesce(sum(mrr_after_cents - mrr_before_cents) filter (where ${inWindow} and mrr_before_cents > 0 and mrr_after_cents > mrr_before_cents), 0)::bigint as ${col(`expansion${j}`)}`,
      sql`coalesce(sum(mrr_before_cents - mrr_after_cents) filter (where ${inWindow} and mrr_after_cents > 0 and mrr_after_cents < mrr_before_cents), 0)::bigint as ${col(`contraction${j}`)}`,
      sql`coalesce(sum(mrr_before_cents) filter (where ${inWindow} and mrr_before_cents > 0 and mrr_after_cents = 0), 0)::bigint as ${col(`churned${j}`)}`,
    ];
  });
  const first = instants[0]!;
  const last = instants[instants.length - 1]!;
  const [row] = await queryRows<Record<string, string | number>>(
    db,
    sql`select * from
          (select ${sql.join(stateColumns, sql`, `)}
           from (select tenant_id, ${perCustomer} from subscription_changes where occurred_at < ${at(last)} group by tenant_id) customers) states,
          (select ${sql.join(movementColumns, sql`, `)}
           from subscription_changes where occurred_at >= ${at(first)} and occurred_at < ${at(last)}) movements`,
  );
  const n = (name: string) => Number(row?.[name] ?? 0);
  return windows.map((w, j) => {
    const start = k(w.from.getTime());
    const end = k(w.to.getTime());
    const counts = {
      newCents: n(`new${j}`),
      expansionCents: n(`expansion${j}`),
      contractionCents: n(`contraction${j}`),
      churnedCents: n(`churned${j}`),
      mrrAtStartCents: n(`mrr${start}`),
      mrrAtEndCents: n(`mrr${end}`),
      payingAtStart: n(`paying${start}`),
      payingAtEnd: n(`paying${end}`),
      customersLost: n(`lost${j}`),
      customersWon: n(`won${j}`),
    };
    return {
      from: w.from.toISOString(),
      to: w.to.toISOString(),
      ...counts,
      netNewCents: netNewMrrCents(counts),
      customerChurnPct: customerChurnPct(counts),
      revenueChurnPct: revenueChurnPct(counts),
    };
  });
}

// --- Payments, revenue and refunds ----------------------------------------------------------------

export interface PaymentRisk {
  readonly failedPayments: number;
  readonly failedAmountCents: number;
  /** Still due on open invoices whose payment failed at least once. */
  readonly atRiskCents: number;
  readonly invoicesAtRisk: number;
  readonly pastDueSubscriptions: number;
}

/** Still due on open invoices whose payment failed at least once, and how many they are (now). */
export async function amountAtRisk(db: Database): Promise<{ atRiskCents: number; invoicesAtRisk: number }> {
  const [risk] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_due_cents - amount_paid_cents), 0)::bigint as amount from invoices
        where status = 'open' and attempt_count > 0 and exists (select 1 from payments p where p.invoice_id = invoices.id and p.status = 'failed')`,
  );
  return { atRiskCents: Number(risk?.amount ?? 0), invoicesAtRisk: Number(risk?.n ?? 0) };
}

/** Payments that failed in the window (count and amount); the amount at risk and past-due subscriptions now. */
export async function paymentRisk(db: Database, window: Window): Promise<PaymentRisk> {
  const [failed] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_cents), 0)::bigint as amount from payments
        where status = 'failed' and created_at >= ${window.from.toISOString()} and created_at < ${window.to.toISOString()}`,
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

/** Cash collected per calendar month (UTC) and plan in the window: paid invoices by payment date. */
export async function revenueByPlan(db: Database, window: Window): Promise<PlanRevenue[]> {
  const rows = await queryRows<{ month: string; plan_id: string; revenue: string; n: string }>(
    db,
    sql`select to_char(date_trunc('month', i.paid_at at time zone 'UTC'), 'YYYY-MM') as month,
               coalesce(i.plan_id, s.plan_id, 'unknown') as plan_id, sum(i.amount_paid_cents)::bigint as revenue, count(*)::bigint as n
        from invoices i left join subscriptions s on s.id = i.subscription_id
        where i.status = 'paid' and i.paid_at >= ${window.from.toISOString()} and i.paid_at < ${window.to.toISOString()}
        group by 1, 2 order by 1, 2`,
  );
  return rows.map((row) => ({ month: row.month, planId: row.plan_id, revenueCents: Number(row.revenue), invoices: Number(row.n) }));
}

/** Refunds in the window, by the refund's date. */
export async function refundTotals(db: Database, window: Window): Promise<{ count: number; amountCents: number }> {
  const [row] = await queryRows<{ n: string; amount: string }>(
    db,
    sql`select count(*)::bigint as n, coalesce(sum(amount_cents), 0)::bigint as amount from refunds where created_at >= ${window.from.toISOString()} and created_at < ${window.to.toISOString()}`,
  );
  return { count: Number(row?.n ?? 0), amountCents: Number(row?.amount ?? 0) };
}

// --- The figures together ---------------------------------------------------------------------

/** One calendar month of the movements table (the last one: month to date). */
export interface MonthMovement extends MrrMovement {
  /** 'YYYY-MM' (UTC). */
  readonly month: string;
  /** MRR at the month's end (at `asOf` for the current month). */
  readonly endingMrrCents: number;
}

export interface FinanceFigures extends MrrSnapshot {
  readonly asOf: string;
  /** Customer churn, revenue churn and net new MRR: the last 30 days. */
  readonly last30d: MrrMovement;
  /** The churn under LTV: the last 90 days. */
  readonly last90d: MrrMovement;
  /** Customer churn of the last 30 days (= last30d.customerChurnPct). */
  readonly customerChurnPct: number | null;
  /** Revenue churn of the last 30 days (= last30d.revenueChurnPct). */
  readonly revenueChurnPct: number | null;
  /** Net new MRR of the last 30 days (= last30d.netNewCents). */
  readonly netNewMrrCents: number;
  /** The last 90 days' customer churn ÷ 3. */
  readonly monthlyChurn90dPct: number | null;
  /** ARPU ÷ monthlyChurn90dPct; null when nobody churned in 90 days. */
  readonly ltvCents: number | null;
  /** Movements and churn per calendar month, oldest first (the last one: month to date). */
  readonly months: readonly MonthMovement[];
  /** Movements over extra windows a caller asked for (the executive report's period), in order. */
  readonly extra: readonly MrrMovement[];
}

export interface FinanceSummary extends FinanceFigures {
  /** Failed payments in the last 30 days; at risk and past due now. */
  readonly payments: PaymentRisk;
  /** Cash revenue per month and plan over the months shown. */
  readonly revenue: readonly PlanRevenue[];
  /** Refunds over the months shown. */
  readonly refunds: { readonly count: number; readonly amountCents: number };
}

/**
 * Every MRR figure as of `asOf`: MRR, ARR, paying customers and ARPU now; churn, revenue churn
 * and net new MRR over the last 30 days; LTV from the last 90 days' churn; the movements of the
 * last `months` calendar months; and movements over any `extraWindows` (one statement).
 */
export async function financeFigures(
  db: Database,
  options: { asOf?: Date; months?: number; extraWindows?: readonly Window[] } = {},
): Promise<FinanceFigures> {
  const asOf = options.asOf ?? new Date();
  const months = calendarMonths(asOf, options.months ?? 12);
  const standard = [lastDays(asOf, FINANCE_WINDOWS.churnDays), lastDays(asOf, FINANCE_WINDOWS.ltvChurnDays)];
  const extra = options.extraWindows ?? [];
  const [snapshot, movements] = await Promise.all([mrrAt(db, asOf), mrrMovements(db, [...standard, ...months, ...extra])]);
  const last30d = movements[0]!;
  const last90d = movements[1]!;
  return {
    ...snapshot,
    asOf: asOf.toISOString(),
    last30d,
    last90d,
    customerChurnPct: last30d.customerChurnPct,
    revenueChurnPct: last30d.revenueChurnPct,
    netNewMrrCents: last30d.netNewCents,
    monthlyChurn90dPct: monthlyChurnPct(last90d),
    ltvCents: ltvCents(snapshot.arpuCents, last90d),
    months: months.map((m, i) => ({ ...movements[2 + i]!, month: m.month, endingMrrCents: movements[2 + i]!.mrrAtEndCents })),
    extra: movements.slice(2 + months.length),
  };
}

/** The finance figures plus failed payments (last 30 days), revenue and refunds over the months shown (`billing mrr`). */
export async function financeSummary(db: Database, options: { asOf?: Date; months?: number } = {}): Promise<FinanceSummary> {
  const asOf = options.asOf ?? new Date();
  const shown = { from: calendarMonths(asOf, options.months ?? 12)[0]!.from, to: asOf };
  const [figures, payments, revenue, refunds] = await Promise.all([
    financeFigures(db, { asOf, months: options.months ?? 12 }),
    paymentRisk(db, lastDays(asOf, FINANCE_WINDOWS.failedPaymentsDays)),
    revenueByPlan(db, shown),
    refundTotals(db, shown),
  ]);
  return { ...figures, payments, revenue, refunds };
}

/**
 * Per calendar month: MRR at the month's end (the current month: at the summary's instant)
 * and cash revenue collected in it, in integer cents — the series of the revenue chart.
 */
export interface RevenueMonth {
  readonly month: string;
  readonly mrrCents: number;
  readonly revenueCents: number;
}

/** The summary's months as the revenue chart's series (revenue of every plan added up per month). */
export function revenueMonths(summary: FinanceSummary): RevenueMonth[] {
  const revenue = new Map<string, number>();
  for (const row of summary.revenue) revenue.set(row.month, (revenue.get(row.month) ?? 0) + row.revenueCents);
  return summary.months.map((m) => ({ month: m.month, mrrCents: m.endingMrrCents, revenueCents: revenue.get(m.month) ?? 0 }));
}
