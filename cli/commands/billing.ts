import {
  customerBilling,
  FINANCE_FIGURES,
  FINANCE_WINDOWS,
  financeSummary,
  formatBrlCents,
  type FinanceSummary,
} from '../../billing/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { UsageError } from '../../errors/index.ts';
import { formatTable } from '../table.ts';

export async function billingSyncCommand(): Promise<void> {
  await withRuntime(async ({ billing }) => {
    const report = await billing.syncCatalog();
    for (const product of report.products)
      console.log(`product ${product.planId}: ${product.productId}${product.created ? ' (created)' : ''}`);
    for (const price of report.prices) console.log(`price ${price.lookupKey}: ${price.priceId}${price.created ? ' (created)' : ''}`);
  });
}

export async function billingMrrCommand(options: { json?: boolean; months: number }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const started = performance.now();
    const summary = await financeSummary(database.db, { months: options.months });
    const elapsedMs = performance.now() - started;
    if (options.json) {
      console.log(JSON.stringify({ ...summary, definitions: FINANCE_FIGURES, elapsedMs: Number(elapsedMs.toFixed(1)) }));
      return;
    }
    console.log(renderFinanceSummary(summary));
  });
}

/**
 * What `billing mrr` prints: every figure with its window ("now", "30 d", "90 d", each calendar
 * month), then the definitions (billing/figures.ts).
 */
export function renderFinanceSummary(summary: FinanceSummary): string {
  const pct = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} %`);
  const brl = (cents: number) => formatBrlCents(cents);
  const churn = FINANCE_WINDOWS.churnDays;
  const ltvDays = FINANCE_WINDOWS.ltvChurnDays;
  const m30 = summary.last30d;
  const m90 = summary.last90d;
  const lines = [
    `Finance figures as of ${summary.asOf.slice(0, 16).replace('T', ' ')} UTC`,
    `Now: MRR ${brl(summary.mrrCents)} · ARR ${brl(summary.arrCents)} · ${summary.payingCustomers} paying customers · ARPU ${brl(summary.arpuCents)}`,
    `Last ${churn} d: customer churn ${pct(summary.customerChurnPct)} (${m30.customersLost} of ${m30.payingAtStart} paying ${churn} d ago) · revenue churn ${pct(summary.revenueChurnPct)} · net new MRR ${brl(summary.netNewMrrCents)} (new ${brl(m30.newCents)}, expansion ${brl(m30.expansionCents)}, contraction ${brl(m30.contractionCents)}, churned ${brl(m30.churnedCents)})`,
    `LTV ${summary.ltvCents === null ? '– (nobody churned in 90 d)' : brl(summary.ltvCents)} = ARPU ÷ monthly churn ${pct(summary.monthlyChurn90dPct)} (churn ${ltvDays} d ${pct(m90.customerChurnPct)} ÷ 3: ${m90.customersLost} of ${m90.payingAtStart})`,
    `Failed payments, last ${FINANCE_WINDOWS.failedPaymentsDays} d: ${summary.payments.failedPayments} (${brl(summary.payments.failedAmountCents)}) · now: at risk ${brl(summary.payments.atRiskCents)}, past due ${summary.payments.pastDueSubscriptions} · refunds in the ${summary.months.length} months below: ${summary.refunds.count} (${brl(summary.refunds.amountCents)})`,
    '',
    `Per calendar month (UTC; ${summary.months.at(-1)?.month ?? 'the last'} to date): MRR movements, MRR at the month's end, customer churn of the month`,
  ];
  const header = ['month', 'new', 'expansion', 'contraction', 'churned', 'net new', 'ending MRR', 'churn'];
  const rows = summary.months.map((m) => [
    m.month,
    brl(m.newCents),
    brl(m.expansionCents),
    brl(m.contractionCents),
    brl(m.churnedCents),
    brl(m.netNewCents),
    brl(m.endingMrrCents),
    pct(m.customerChurnPct),
  ]);
  lines.push(
    formatTable(header, rows, (column) => column > 0),
    '',
    'Definitions (billing/figures.ts):',
  );
  for (const d of FINANCE_FIGURES) lines.push(`  ${d.label}: ${d.formula}. Window: ${d.window}.`);
  return lines.join('\n');
}

export async function billingCustomerCommand(email: string, options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const billing = await customerBilling(database.db, email);
    if (!billing) throw new UsageError(`No user with the email ${email}.`);
    const { name, plan, stripeCustomerId, subscriptions, invoices, failedPayments } = billing;
    const view = { name, email: billing.email, plan, stripeCustomerId, subscriptions, invoices, failedPayments };
    if (options.json) {
      console.log(JSON.stringify(view));
      return;
    }
    console.log(
      `${view.name} <${view.email}> · plan ${billing.planName} · Stripe customer ${view.stripeCustomerId ?? '(none, local mode)'} · failed payments ${failedPayments}`,
    );
    for (const s of view.subscriptions)
      console.log(
        `  subscription ${s.planId}/${s.interval} ${s.status} ${formatBrlCents(s.amountCents)} from ${s.startedAt.slice(0, 10)}${s.endedAt ? ` to ${s.endedAt.slice(0, 10)}` : ''}${s.cancelAtPeriodEnd ? ' (cancels at period end)' : ''}`,
      );
    for (const i of view.invoices)
      console.log(`  invoice ${i.number ?? '-'} ${i.status} ${formatBrlCents(i.amountDueCents)} on ${i.createdAt.slice(0, 10)}`);
  });
}
