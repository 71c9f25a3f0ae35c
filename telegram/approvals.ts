import type { Telegram } from 'telegraf';
import { z } from 'zod';
import type { Database } from '../db/index.ts';
import { linkedDeciders, linkedUsers, userNames, type LinkedPerson } from '../identity/index.ts';
import { formatMoneyCents, formatQuote, readerError, statusWord, type Locale } from '../i18n/index.ts';
import type { Logger } from '../observability/index.ts';
import {
  announcedApprovalKeys,
  approvalFacts,
  decideApproval,
  deliveredApprovalRequests,
  fourEyesApplies,
  getApproval,
  listPendingApprovals,
  mayDecide,
  pendingApprovalsFor,
  TOOLS,
  type ApprovalFacts,
  type ApprovalRow,
  type ToolContext,
} from '../tools/index.ts';
import { enqueueNotification, renderNotification } from './outbox/index.ts';
import { departmentName, t } from './texts.ts';

// Risky tool calls wait in `approvals`; here they reach the people who may decide them (the
// department's head, the CEO, admins) as outbox notifications with Approve/Reject buttons,
// once per approval and person (dedupe key `approval:<id>:<userId>`). A press decides through
// decideApproval, which executes at most once however many presses race.

export interface ApprovalServices {
  readonly db: Database;
  readonly telegram: Telegram;
  readonly logger: Logger;
  /** Everything a decided tool needs to run (billing, trading, market data), without an actor. */
  readonly toolContext: Omit<ToolContext, 'actor'>;
  /** Tells the outbox there is something to send now (skips its poll interval). */
  readonly wakeOutbox?: () => void;
}

/** `approval:<uuid>:approve|reject`, as the outbox's approval_requested message writes it. */
export const approvalButton = z
  .string()
  .max(64)
  .regex(/^approval:[0-9a-f-]{36}:(approve|reject)$/)
  .transform((data) => {
    const [, approvalId, decision] = data.split(':') as [string, string, 'approve' | 'reject'];
    return { approvalId, decision };
  })
  .pipe(z.object({ approvalId: z.uuid(), decision: z.enum(['approve', 'reject']) }));

const announcementKey = (approvalId: string, userId: string) => `approval:${approvalId}:${userId}`;

/**
 * Queues an approval_requested message for every linked person allowed to decide each pending
 * approval (all of them, or those in `onlyIds`) who has not been sent one yet. Returns how
 * many messages were queued. Safe to run from any number of processes at once.
 */
export async function announcePendingApprovals(services: ApprovalServices, onlyIds?: readonly string[]): Promise<number> {
  const { db } = services;
  const now = services.toolContext.now();
  let pending = await listPendingApprovals(db, now);
  if (onlyIds) pending = pending.filter((a) => onlyIds.includes(a.id));
  let queued = 0;
  if (pending.length === 0) return 0;
  // Who was already asked (one query), so a periodic run over many pending approvals stays cheap.
  const asked = await announcedApprovalKeys(
    db,
    pending.map((a) => a.id),
  );
  const requesters = await userNames(
    db,
    pending.flatMap((a) => (a.requestedByUserId ? [a.requestedByUserId] : [])),
  );
  const decidersByDepartment = new Map<string, LinkedPerson[]>();
  for (const approval of pending) {
    const facts = await approvalFacts(TOOLS, services.toolContext, approval);
    let deciders = decidersByDepartment.get(approval.approverDepartment);
    if (!deciders) {
      deciders = (await linkedDeciders(db, approval.approverDepartment)).filter((p) => mayDecide(p.actor, approval.approverDepartment));
      decidersByDepartment.set(approval.approverDepartment, deciders);
    }
    // Four-eyes: the requester is not asked to decide their own request.
    const barred = approval.requestedByUserId && (await fourEyesApplies(db, TOOLS, approval.tool)) ? approval.requestedByUserId : undefined;
    for (const decider of deciders) {
      if (decider.userId === barred) continue;
      if (asked.has(announcementKey(approval.id, decider.userId))) continue;
      const requestedBy = approval.requestedByUserId
        ? requesters.get(approval.requestedByUserId)
        : approval.agent
          ? `${approval.agent} agent`
          : undefined;
      const { created } = await enqueueNotification(db, {
        tenantId: approval.tenantId,
        to: { userId: decider.userId },
        type: 'approval_requested',
        payload: {
          approvalId: approval.id,
          tool: approval.tool,
          summary: cardSummary(approval, facts, decider.locale),
          ...(requestedBy ? { requestedBy } : {}),
          expiresAt: approval.expiresAt.toISOString(),
        },
        dedupeKey: announcementKey(approval.id, decider.userId),
      });
      if (created) queued++;
    }
  }
  if (queued > 0) services.wakeOutbox?.();
  return queued;
}

export interface ButtonPress {
  /** Who pressed, when linked. */
  readonly person: LinkedPerson | undefined;
  readonly locale: Locale;
  /** The message that carried the button. */
  readonly chatId: number | undefined;
  readonly messageId: number | undefined;
  /** Answers the press (the small notice on the presser's screen). */
  answer(text: string, alert?: boolean): Promise<void>;
}

/**
 * An Approve or Reject press. Only a linked person whom the policy lets decide may; the
 * decision is taken once (a second press, or a second person, is told who decided); the
 * message, and every other decider's copy, is edited to show the decision; the requester
 * is told through the outbox.
 */
export async function onApprovalButton(
  services: ApprovalServices,
  press: ButtonPress,
  choice: { approvalId: string; decision: 'approve' | 'reject' },
): Promise<void> {
  const { db, logger } = services;
  const { locale, person } = press;
  if (person?.actor.kind !== 'staff') {
    await press.answer(t(locale, 'Você não pode decidir aprovações.', 'You may not decide approvals.'), true);
    return;
  }
  if (choice.decision === 'approve') {
    // One that cannot run as things stand is not approved into a failure: the decider is told why (they may reject it).
    const waiting = await getApproval(db, choice.approvalId);
    const blocked = waiting?.status === 'pending' ? (await approvalFacts(TOOLS, services.toolContext, waiting)).blocked : undefined;
    if (blocked) {
      logger.info({ approvalId: choice.approvalId, reason: blocked }, 'an approval that cannot run was not approved');
      await press.answer(
        t(
          locale,
          `Não pode ser executada agora: ${readerError({ message: blocked }, locale)}`,
          `It cannot run now: ${readerError({ message: blocked }, locale)}`,
        ),
        true,
      );
      return;
    }
  }
  const result = await decideApproval(TOOLS, services.toolContext, person.actor, choice.approvalId, choice.decision);
  const approval = await getApproval(db, choice.approvalId);
  if (!approval) {
    await press.answer(t(locale, 'Esta aprovação não existe mais.', 'This approval no longer exists.'), true);
    return;
  }
  if (!result.decided) {
    if (result.fourEyes) {
      // Said to the presser only; the request stays for another decider.
      await press.answer(
        t(
          locale,
          'Você mesmo pediu isto: outra pessoa que pode decidir precisa aprovar (regra dos quatro olhos).',
          'You asked for this yourself: another person who may decide it must approve it (four-eyes rule).',
        ),
        true,
      );
      return;
    }
    if (result.status === undefined) {
      // Not allowed to decide: said to the presser only; the message stays as it is.
      await press.answer(
        t(
          locale,
          `Não: só o responsável de ${departmentName(approval.approverDepartment, 'pt-BR')} ou o CEO pode decidir esta aprovação.`,
          `No: only the ${departmentName(approval.approverDepartment, 'en')} head or the CEO may decide this approval.`,
        ),
        true,
      );
      return;
    }
    const decidedBy = approval.decidedByUserId ? await nameOf(db, approval.decidedByUserId) : undefined;
    await press.answer(
      decidedBy
        ? t(
            locale,
            `Já decidida por ${decidedBy} (${statusWord(approval.status, 'pt-BR')}).`,
            `Already decided by ${decidedBy} (${statusWord(approval.status, 'en')}).`,
          )
        : t(
            locale,
            `Esta aprovação já está ${statusWord(result.status, 'pt-BR')}.`,
            `This approval is already ${statusWord(result.status, 'en')}.`,
          ),
    );
    await showDecision(services, approval, press, decidedBy);
    return;
  }
  // What went wrong, as a sentence for the people who read it; the technical reason stays in the log and the approval's row.
  const technical = result.outcome && !result.outcome.ok ? result.outcome : undefined;
  if (technical) logger.warn({ approvalId: approval.id, tool: approval.tool, reason: technical.message }, 'an approved action failed');
  const failureFor = (reader: Locale) => (technical ? readerError(technical, reader) : undefined);
  const failure = failureFor(locale);
  await press.answer(
    result.status === 'executed'
      ? t(locale, 'Aprovada e executada.', 'Approved and executed.')
      : result.status === 'rejected'
        ? t(locale, 'Rejeitada.', 'Rejected.')
        : t(locale, `Aprovada, mas a execução falhou: ${failure ?? ''}`, `Approved, but it failed: ${failure ?? ''}`),
    result.status === 'failed',
  );
  await showDecision(services, approval, press, person.actor.name, failureFor);
  if (approval.requestedByUserId && approval.requestedByUserId !== person.userId) {
    const requesterLocale = (await linkedUsers(db, [approval.requestedByUserId]))[0]?.locale ?? locale;
    await enqueueNotification(db, {
      tenantId: approval.tenantId,
      to: { userId: approval.requestedByUserId },
      type: 'approval_decided',
      payload: {
        approvalId: approval.id,
        summary: summaryIn(approval, requesterLocale),
        decision: result.status,
        decidedBy: person.actor.name,
        ...(technical ? { note: failureFor(requesterLocale)! } : {}),
      },
      dedupeKey: `approval:${approval.id}:decided`,
    });
    services.wakeOutbox?.();
  }
  logger.info({ approvalId: approval.id, status: result.status, decidedBy: person.userId }, 'approval decided on Telegram');
}

async function nameOf(db: Database, userId: string): Promise<string | undefined> {
  return (await userNames(db, [userId])).get(userId);
}

/** Replaces the buttons of every copy of the request (each decider's, and the pressed one) with the decision. */
async function showDecision(
  services: ApprovalServices,
  approval: ApprovalRow,
  pressed: ButtonPress,
  decidedBy: string | undefined,
  note?: (reader: Locale) => string | undefined,
): Promise<void> {
  const { db, telegram, logger } = services;
  const decision =
    (['executed', 'failed', 'rejected', 'expired', 'approved'] as const).find((s) => s === approval.status) ??
    (approval.status === 'pending' ? 'expired' : 'approved');
  const copies = await deliveredApprovalRequests(db, approval.id);
  const people = new Map(
    (
      await linkedUsers(
        db,
        copies.flatMap((c) => (c.userId ? [c.userId] : [])),
      )
    ).map((p) => [p.userId, p]),
  );
  const targets: { chatId: number; messageId: number; locale: Locale }[] = [];
  for (const copy of copies) {
    const reader = copy.userId ? people.get(copy.userId) : undefined;
    if (reader && copy.messageId !== null) targets.push({ chatId: reader.chatId, messageId: copy.messageId, locale: reader.locale });
  }
  if (
    pressed.chatId !== undefined &&
    pressed.messageId !== undefined &&
    !targets.some((x) => x.chatId === pressed.chatId && x.messageId === pressed.messageId)
  ) {
    targets.push({ chatId: pressed.chatId, messageId: pressed.messageId, locale: pressed.person?.locale ?? pressed.locale });
  }
  for (const target of targets) {
    const message = renderNotification(
      'approval_decided',
      {
        approvalId: approval.id,
        summary: summaryIn(approval, target.locale),
        decision,
        ...(decidedBy ? { decidedBy } : {}),
        ...(note?.(target.locale) ? { note: note(target.locale)! } : {}),
      },
      target.locale,
    );
    await telegram
      .editMessageText(target.chatId, target.messageId, undefined, message.text, {
        parse_mode: 'HTML',
        reply_markup: { inline_keyboard: [] },
      })
      .catch((error: unknown) =>
        logger.debug(
          { err: error, approvalId: approval.id },
          'could not edit an approval message (deleted, or already showing the decision)',
        ),
      );
  }
}

/** The pending approvals a person may decide, newest last (for /approvals). */
export async function pendingFor(services: ApprovalServices, person: LinkedPerson): Promise<ApprovalRow[]> {
  // Four-eyes: one's own request is not offered to decide (the tool layer's one list, as GET /api/v1/approvals).
  if (person.actor.kind !== 'staff') return [];
  return pendingApprovalsFor(services.db, TOOLS, person.actor, services.toolContext.now());
}

/** The approval_requested card (text and buttons) for one approval, in a reader's language. */
export async function approvalCard(services: ApprovalServices, approval: ApprovalRow, locale: Locale) {
  const requestedBy = approval.requestedByUserId ? await nameOf(services.db, approval.requestedByUserId) : undefined;
  const facts = await approvalFacts(TOOLS, services.toolContext, approval);
  return renderNotification(
    'approval_requested',
    {
      approvalId: approval.id,
      tool: approval.tool,
      summary: cardSummary(approval, facts, locale),
      ...(requestedBy ? { requestedBy } : {}),
      expiresAt: approval.expiresAt.toISOString(),
    },
    locale,
  );
}

/**
 * The approval's summary in a reader's language: the tool's own summary of the stored
 * arguments (the row keeps the English one written when it was asked for, for the audit).
 */
export function summaryIn(approval: ApprovalRow, locale: Locale): string {
  const tool = TOOLS.get(approval.tool);
  const parsed = tool?.input.safeParse(approval.args);
  const summary = tool?.summarize && parsed?.success ? tool.summarize(parsed.data, locale) : approval.summary;
  return summary.slice(0, 1000);
}

/**
 * The summary a decider reads on the card: the tool's summary, then what the tool's `explain`
 * found (amount with currency, customer, invoice, payment, bot, plan) and, when the action
 * cannot run as things stand, why — as a sentence for the reader.
 */
export function cardSummary(approval: ApprovalRow, facts: ApprovalFacts, locale: Locale): string {
  const lines = [summaryIn(approval, locale)];
  if (facts.amount) lines.push(`${t(locale, 'Valor', 'Amount')}: ${formatMoneyCents(facts.amount.cents, facts.amount.currency, locale)}`);
  if (facts.customer)
    lines.push(
      `${t(locale, 'Cliente', 'Customer')}: ${facts.customer.name ? `${facts.customer.name} <${facts.customer.email}>` : facts.customer.email}`,
    );
  if (facts.invoice) lines.push(`${t(locale, 'Fatura', 'Invoice')}: ${facts.invoice}`);
  if (facts.payment) lines.push(`${t(locale, 'Pagamento', 'Payment')}: ${facts.payment}`);
  if (facts.plan) lines.push(`${t(locale, 'Plano', 'Plan')}: ${facts.plan.from} → ${facts.plan.to}`);
  if (facts.bot)
    lines.push(
      `${t(locale, 'Robô', 'Bot')}: ${facts.bot.name} (${facts.bot.mode === 'live' ? t(locale, 'modo real', 'live mode') : t(locale, 'simulado', 'paper')}, ${t(locale, 'capital', 'stake')} ${formatQuote(facts.bot.stakeQuote, 'USDT', locale)})`,
    );
  if (facts.blocked)
    lines.push(`⚠️ ${t(locale, 'Não pode ser executada agora', 'It cannot run now')}: ${readerError({ message: facts.blocked }, locale)}`);
  return lines.join('\n').slice(0, 1000);
}
