import { desc, eq, sql } from 'drizzle-orm';
import { currentPlan, financeSummary, formatBrlCents } from '../../billing/index.ts';
import { customers, invoices, payments, subscriptions, tenantScope, users } from '../../db/index.ts';
import { withRuntime } from '../runtime.ts';
import { UsageError } from './data.ts';
import { printTable } from '../table.ts';



export async function billingSyncCommand(): Promise<void> {
  await withRuntime(async ({ billing }) => {
    const report = await billing.syncCatalog();
    for (const product of report.products) console.log(`product ${product.planId}: ${product.productId}${product.created ? ' (created)' : ''}`);
    for (const price of report.prices) console.log(`price ${price.lookupKey}: ${price.priceId}${price.created ? ' (created)' : ''}`);
  });
}

export async function billingMrrCommand(options: { json?: boolean; months: number }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const started = performance.now();
    const summary = await financeSummary(database.db, { months: options.months });
    const elapsedMs = performance.now() - started;
    if (options.json) {
      console.log(JSON.stringify({ ...summary, elapsedMs: Number(elapsedMs.toFixed(1)) }));
      return;
    }
    const pct = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} %`);
    console.log(`MRR ${formatBrlCents(summary.mrrCents)} · ARR ${formatBrlCents(summary.arrCents)} · ${summary.payingCustomers} paying customers · ARPU ${formatBrlCents(summary.arpuCents)}`);
    console.log(`Average monthly churn ${pct(summary.averageChurnRatePct)} · LTV ${summary.ltvCents === null ? '–' : formatBrlCents(summary.ltvCents)}`);
    console.log(
      `Failed payments ${summary.payments.failedPayments} (${formatBrlCents(summary.payments.failedAmountCents)}) · at risk ${formatBrlCents(summary.payments.atRiskCents)} · past due ${summary.payments.pastDueSubscriptions} · refunds ${summary.refunds.count} (${formatBrlCents(summary.refunds.amountCents)})`,
    );
    console.log('');
    const header = ['month', 'new', 'expansion', 'contraction', 'churned', 'ending MRR', 'churn'];
    const rows = summary.months.map((m) => [m.month, formatBrlCents(m.newCents), formatBrlCents(m.expansionCents), formatBrlCents(m.contractionCents), formatBrlCents(m.churnedCents), formatBrlCents(m.endingMrrCents), pct(m.customerChurnRatePct)]);
    printTable(header, rows, (column) => column > 0);
  });
}

export async function billingCustomerCommand(email: string, options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const [user] = await database.db.select().from(users).where(sql`lower(${users.email}) = lower(${email})`);
    if (!user) throw new UsageError(`No user with the email ${email}.`);
    const scope = tenantScope(user.tenantId);
    const plan = await currentPlan(database.db, scope);
    const [customer] = await database.db.select().from(customers).where(eq(customers.tenantId, user.tenantId));
    const subs = await database.db.select().from(subscriptions).where(eq(subscriptions.tenantId, user.tenantId)).orderBy(desc(subscriptions.startedAt));
    const recentInvoices = await database.db.select().from(invoices).where(eq(invoices.tenantId, user.tenantId)).orderBy(desc(invoices.createdAt)).limit(6);
    const failed = await database.db.$count(payments, sql`${payments.tenantId} = ${user.tenantId} and ${payments.status} = 'failed'`);
    const view = {
      name: user.name,
      email: user.email,
      plan: plan.id,
      stripeCustomerId: customer?.stripeCustomerId ?? null,
      subscriptions: subs.map((s) => ({ planId: s.planId, interval: s.interval, status: s.status, amountCents: s.amountCents, startedAt: s.startedAt.toISOString(), endedAt: s.endedAt?.toISOString() ?? null, cancelAtPeriodEnd: s.cancelAtPeriodEnd })),
      invoices: recentInvoices.map((i) => ({ number: i.number, status: i.status, amountDueCents: i.amountDueCents, amountPaidCents: i.amountPaidCents, createdAt: i.createdAt.toISOString() })),
      failedPayments: failed,
    };
    if (options.json) {
      console.log(JSON.stringify(view));
      return;
    }
    console.log(`${view.name} <${view.email}> · plan ${plan.name} · Stripe customer ${view.stripeCustomerId ?? '(none, local mode)'} · failed payments ${failed}`);
    for (const s of view.subscriptions) console.log(`  subscription ${s.planId}/${s.interval} ${s.status} ${formatBrlCents(s.amountCents)} from ${s.startedAt.slice(0, 10)}${s.endedAt ? ` to ${s.endedAt.slice(0, 10)}` : ''}${s.cancelAtPeriodEnd ? ' (cancels at period end)' : ''}`);
    for (const i of view.invoices) console.log(`  invoice ${i.number ?? '-'} ${i.status} ${formatBrlCents(i.amountDueCents)} on ${i.createdAt.slice(0, 10)}`);
  });
}
