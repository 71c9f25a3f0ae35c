import type { Mastra } from '@mastra/core';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { appendAuditOnce } from '../audit/index.ts';
import { downgradeToFree, failedInvoicesWithoutRun, formatBrlCents, getInvoice, queuePaymentFailedNotices } from '../billing/index.ts';
import { tenantScope, type Database } from '../db/index.ts';
import { traderUser } from '../identity/index.ts';
import type { WorkflowDeps } from './deps.ts';
import { companyPeople, notify } from './notify.ts';
import { resumeDueRuns, runOnce, wokenSchema, type RunOutcome } from './runs.ts';

// dunning: a failed payment → the trader and Finance told → Stripe's retries followed (the run
// sleeps, suspended in storage, until the next retry date the webhook stored) → after the last
// failure, the trader moved to Free; a late payment ends it as recovered.
//
//   load-invoice ─ notify-failure ─ follow-retries (suspends until each retry) ─ downgrade ─ close
//
// The Stripe webhook (billing/stripe-mirror.ts) reacts to each event at once with the same
// functions (billing/dunning.ts): notices are keyed by invoice and attempt and the downgrade
// changes nothing twice, so whichever comes first does the work and nothing is repeated.

export const DUNNING = 'dunning';

/** After a retry date, how long to wait for its outcome before looking again. */
const RETRY_GRACE_MS = 60 * 60_000;
/** A retry date this far in the past with no news: the webhooks are probably not arriving. */
const STALLED_AFTER_MS = 3 * 86_400_000;

const invoiceState = z.object({
  invoiceId: z.string(),
  /** The id notices use: Stripe's invoice id, ours when it never went through Stripe. */
  ref: z.string(),
  tenantId: z.string(),
  subscriptionId: z.string().nullable(),
  number: z.string().nullable(),
  amountDueCents: z.number().int(),
  currency: z.string(),
  status: z.string(),
  attempt: z.number().int(),
  nextPaymentAttemptAt: z.string().nullable(),
});
type InvoiceState = z.infer<typeof invoiceState>;

const outcomeSchema = z.object({
  outcome: z.enum(['recovered', 'final', 'void']),
  invoice: invoiceState,
});

async function loadInvoice(db: Database, invoiceId: string): Promise<InvoiceState> {
  const row = await getInvoice(db, invoiceId);
  if (!row) throw new Error(`no invoice ${invoiceId}`);
  return {
    invoiceId: row.id,
    ref: row.stripeInvoiceId ?? row.id,
    tenantId: row.tenantId,
    subscriptionId: row.subscriptionId,
    number: row.number,
    amountDueCents: row.amountDueCents,
    currency: row.currency,
    status: row.status,
    attempt: row.attemptCount,
    nextPaymentAttemptAt: row.nextPaymentAttemptAt?.toISOString() ?? null,
  };
}

/** No retry left: Stripe gave up (uncollectible), or the last attempt failed with no next date. */
function isFinal(invoice: InvoiceState): boolean {
  return invoice.status === 'uncollectible' || (invoice.status === 'open' && invoice.attempt > 0 && invoice.nextPaymentAttemptAt === null);
}

function noticeOf(invoice: InvoiceState) {
  return {
    invoiceId: invoice.ref,
    number: invoice.number,
    amountDueCents: invoice.amountDueCents,
    currency: invoice.currency,
    attempt: invoice.attempt,
    nextPaymentAttemptAt: invoice.nextPaymentAttemptAt,
    final: isFinal(invoice),
  };
}

export function createDunningWorkflow(deps: WorkflowDeps) {
  const input = z.object({ invoiceId: z.string() });

  const load = createStep({
    id: 'load-invoice',
    description: 'the invoice as mirrored from Stripe: status, attempts, next retry',
    inputSchema: input,
    outputSchema: invoiceState,
    execute: async ({ inputData }) => loadInvoice(deps.db, inputData.invoiceId),
  });

  const notifyFailure = createStep({
    id: 'notify-failure',
    description: 'tell the trader and Finance about the failed attempt (once per invoice and attempt)',
    inputSchema: invoiceState,
    outputSchema: invoiceState,
    execute: async ({ inputData }) => {
      if (inputData.attempt > 0 && inputData.status !== 'paid')
        await queuePaymentFailedNotices(deps.db, inputData.tenantId, noticeOf(inputData));
      return inputData;
    },
  });

  const followRetries = createStep({
    id: 'follow-retries',
    description: "wait for each of Stripe's retries until the invoice is paid or the last attempt fails",
    inputSchema: invoiceState,
    outputSchema: outcomeSchema,
    resumeSchema: wokenSchema,
    suspendSchema: z.object({ wake: z.object({ at: z.string(), reason: z.string() }), attempt: z.number().int() }),
    execute: async ({ inputData, suspend, runId }) => {
      const invoice = await loadInvoice(deps.db, inputData.invoiceId);
      // A new failed attempt since the run began (the webhook has normally told them already).
      if (invoice.attempt > inputData.attempt && invoice.status !== 'paid')
        await queuePaymentFailedNotices(deps.db, invoice.tenantId, noticeOf(invoice));
      if (invoice.status === 'paid') return { outcome: 'recovered' as const, invoice };
      if (invoice.status === 'void') return { outcome: 'void' as const, invoice };
      if (isFinal(invoice)) return { outcome: 'final' as const, invoice };
      const now = deps.now().getTime();
      const next = invoice.nextPaymentAttemptAt ? new Date(invoice.nextPaymentAttemptAt).getTime() : now;
      if (now - next > STALLED_AFTER_MS) {
        // The retry date is long past and nothing came: tell Finance once, keep watching daily.
        const { companyTenantId } = await companyPeople(deps.db);
        await notify(deps.db, {
          tenantId: companyTenantId,
          to: { department: 'finance' },
          type: 'message',
          dedupeKey: `dunning:${invoice.ref}:stalled:${invoice.attempt}`,
          payload: {
            text: `Cobrança parada: a fatura ${invoice.number ?? invoice.ref} (${formatBrlCents(invoice.amountDueCents)}) devia ter sido tentada de novo em ${invoice.nextPaymentAttemptAt?.slice(0, 10)} e nenhum resultado chegou do Stripe. Verifique os webhooks (execução ${runId}).`,
          },
        });
        return suspend({
          wake: { at: new Date(now + 86_400_000).toISOString(), reason: 'no news of the last retry; looking again in a day' },
          attempt: invoice.attempt,
        });
      }
      return suspend({
        wake: { at: new Date(Math.max(next, now) + RETRY_GRACE_MS).toISOString(), reason: `Stripe's retry ${invoice.attempt + 1}` },
        attempt: invoice.attempt,
      });
    },
  });

  const downgrade = createStep({
    id: 'downgrade',
    description: 'after the last failed attempt, move the trader to Free (nothing when already done)',
    inputSchema: outcomeSchema,
    outputSchema: outcomeSchema.extend({ downgraded: z.boolean() }),
    execute: async ({ inputData }) => {
      if (inputData.outcome !== 'final') return { ...inputData, downgraded: false };
      const { invoice } = inputData;
      const downgraded = await deps.db.transaction((tx) =>
        downgradeToFree(tx, {
          tenantId: invoice.tenantId,
          subscriptionId: invoice.subscriptionId,
          when: deps.now(),
          invoiceId: invoice.ref,
          by: `workflow:${DUNNING}`,
        }),
      );
      return { ...inputData, downgraded };
    },
  });

  const close = createStep({
    id: 'close',
    description: 'tell the trader and Finance how it ended, and audit it (once)',
    inputSchema: outcomeSchema.extend({ downgraded: z.boolean() }),
    outputSchema: outcomeSchema.extend({ downgraded: z.boolean() }),
    execute: async ({ inputData, runId }) => {
      const { invoice, outcome } = inputData;
      const { companyTenantId } = await companyPeople(deps.db);
      const amount = formatBrlCents(invoice.amountDueCents);
      const label = invoice.number ?? invoice.ref;
      const trader = await traderUser(deps.db, tenantScope(invoice.tenantId));
      if (outcome === 'recovered' && trader) {
        await notify(deps.db, {
          tenantId: invoice.tenantId,
          to: { userId: trader.userId },
          type: 'message',
          dedupeKey: `dunning:${invoice.ref}:outcome:trader`,
          payload: {
            text:
              trader.locale === 'en'
                ? `Payment received for invoice ${label} (${formatBrlCents(invoice.amountDueCents, 'en')}). Thank you — your plan stays as it is.`
                : `Pagamento da fatura ${label} (${amount}) confirmado. Obrigado — seu plano continua como está.`,
          },
        });
      }
      const financeText = {
        recovered: `Cobrança recuperada: fatura ${label} (${amount}) paga depois de falhar.`,
        final: `Cobrança encerrada sem pagamento: fatura ${label} (${amount}) após ${invoice.attempt} tentativas; ${trader?.email ?? 'o trader'} ${inputData.downgraded ? 'foi movido' : 'já estava'} no plano Free.`,
        void: `Cobrança encerrada: a fatura ${label} (${amount}) foi anulada.`,
      }[outcome];
      await notify(deps.db, {
        tenantId: companyTenantId,
        to: { department: 'finance' },
        type: 'message',
        dedupeKey: `dunning:${invoice.ref}:outcome:finance`,
        payload: { text: financeText },
      });
      await appendAuditOnce(deps.db, `${DUNNING}:${runId}`, {
        tenantId: invoice.tenantId,
        actorKind: 'system',
        actorId: `workflow:${DUNNING}`,
        action: 'workflow.dunning_closed',
        outcome: 'ok',
        args: { invoiceId: invoice.ref, outcome, attempts: invoice.attempt, downgraded: inputData.downgraded },
      });
      return inputData;
    },
  });

  return createWorkflow({
    id: DUNNING,
    description: "Failed payment → trader and Finance told → Stripe's retries followed → Free after the last failure",
    inputSchema: input,
    outputSchema: outcomeSchema.extend({ downgraded: z.boolean() }),
  })
    .then(load)
    .then(notifyFailure)
    .then(followRetries)
    .then(downgrade)
    .then(close)
    .commit();
}

/** Starts (once) the dunning of one invoice: run id `dunning:<invoice id>`. */
export function startDunning(mastra: Mastra, invoiceId: string): Promise<RunOutcome> {
  return runOnce(mastra, DUNNING, { runId: `${DUNNING}:${invoiceId}`, inputData: { invoiceId } });
}

/**
 * The dunning check the job layer schedules: starts a run for every open invoice with a failed
 * attempt that has none yet, and wakes the runs whose retry date has passed.
 */
export async function dunningCheck(
  mastra: Mastra,
  deps: Pick<WorkflowDeps, 'db' | 'now' | 'logger'>,
): Promise<{ started: RunOutcome[]; resumed: RunOutcome[] }> {
  const pending = await failedInvoicesWithoutRun(deps.db, DUNNING);
  const started: RunOutcome[] = [];
  for (const id of pending) started.push(await startDunning(mastra, id));
  const resumed = await resumeDueRuns(mastra, deps, [DUNNING]);
  return { started, resumed };
}
