import crypto from 'node:crypto';
import type { Mastra } from '@mastra/core';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { appendAuditOnce } from '../audit/index.ts';
import { settingValue, tenantScope, type Database } from '../db/index.ts';
import { traderUser, userByEmail } from '../identity/index.ts';
import { anomalyFindingSchema, findFreezeRequest, invokeTool, TOOLS, type AnomalyFinding } from '../tools/index.ts';
import { botOwner, freezableCount, frozenExchangeAccountsMarked } from '../trading/index.ts';
import { toolContext, type WorkflowDeps } from './deps.ts';
import { companyPeople, notify } from './notify.ts';
import { approvalOutcome, resumeDueRuns, runOnce, waitForApprovalSchema, wokenSchema, type RunOutcome } from './runs.ts';

// incident-response: a security anomaly (what detect_anomalies finds) → containment → Security
// and the CEO told → the decision awaited → audited.
//
//   assess ─ contain ─ notify ─ await-decision (suspends while an approval is pending) ─ close
//
// Containment by kind:
// - order_burst: the bot is stopped at once (stop_bot is a plain write: stopping only halts
//   new orders; the trader can start it again).
// - withdrawal_attempt, api_key_new_country: the trader's exchange keys are frozen (and live
//   bots with them) through freeze_api_key, which is an approval tool: the workflow requests
//   it and waits for the Security head or the CEO. Only when the setting
//   `security.auto_freeze` is true are critical incidents (withdrawal attempts) frozen at once,
//   by the system with approved semantics; the audit log records it as the workflow's call.
// - brute_force, new_country: no account action (nothing says the account is taken over);
//   Security and the CEO are alerted and decide.
//
// Every side effect is keyed by the incident: the freeze request is found again by the
// incident key in its reason, notices have dedupe keys, the audit entry is written once.

export const INCIDENT_RESPONSE = 'incident-response';

export const findingSchema = anomalyFindingSchema;
export type Finding = AnomalyFinding;

const SEVERITY: Readonly<Record<Finding['kind'], 'medium' | 'high' | 'critical'>> = {
  brute_force: 'high',
  new_country: 'medium',
  api_key_new_country: 'high',
  withdrawal_attempt: 'critical',
  order_burst: 'high',
};

const assessment = z.object({
  key: z.string(),
  finding: findingSchema,
  severity: z.enum(['medium', 'high', 'critical']),
  tenantId: z.string().nullable(),
  email: z.string().nullable(),
  action: z.enum(['stop_bot', 'freeze_api_key', 'none']),
  automatic: z.boolean(),
  why: z.string(),
});
type Assessment = z.infer<typeof assessment>;

const containment = assessment.extend({
  status: z.enum(['done', 'awaiting_approval', 'not_needed', 'failed']),
  approvalId: z.string().nullable(),
  detail: z.string(),
});
type Containment = z.infer<typeof containment>;

const decided = containment.extend({ decision: z.enum(['done', 'approved', 'rejected', 'expired', 'failed', 'not_needed']) });

/** The incident's identity: the same finding seen by two scans is one incident. */
export function incidentKey(finding: Finding): string {
  const subject = finding.kind === 'order_burst' ? finding.botId : `${finding.email ?? ''}|${finding.ip ?? ''}`;
  return crypto.createHash('sha256').update(`${finding.kind}|${subject}|${finding.firstAt}`).digest('hex').slice(0, 16);
}

async function autoFreezeAllowed(db: Database): Promise<boolean> {
  return (await settingValue(db, 'security.auto_freeze')) === true;
}

const TITLES: Readonly<Record<Finding['kind'], string>> = {
  brute_force: 'Tentativas de login em massa (força bruta)',
  new_country: 'Login de um país novo',
  api_key_new_country: 'Chave de API usada de um país novo',
  withdrawal_attempt: 'Tentativa de saque',
  order_burst: 'Rajada de ordens de um robô',
};

export function createIncidentResponseWorkflow(deps: WorkflowDeps) {
  const assess = createStep({
    id: 'assess',
    description: 'who is affected, how serious it is, and which containment applies',
    inputSchema: findingSchema,
    outputSchema: assessment,
    execute: async ({ inputData: finding }): Promise<Assessment> => {
      const key = incidentKey(finding);
      const severity = SEVERITY[finding.kind];
      let tenantId: string | null = null;
      let email = finding.email;
      if (finding.kind === 'order_burst' && finding.botId) {
        tenantId = (await botOwner(deps.db, finding.botId))?.tenantId ?? null;
      } else if (email) {
        tenantId = (await userByEmail(deps.db, email))?.tenantId ?? null;
      }
      if (tenantId && !email) email = (await traderUser(deps.db, tenantScope(tenantId)))?.email ?? null;
      const base = { key, finding, severity, tenantId, email, automatic: false };
      if (finding.kind === 'order_burst') {
        return finding.botId && tenantId
          ? {
              ...base,
              action: 'stop_bot',
              automatic: true,
              why: `${finding.count} orders within minutes: the bot is stopped until someone looks`,
            }
          : { ...base, action: 'none', why: 'the bot is gone' };
      }
      if (finding.kind === 'withdrawal_attempt' || finding.kind === 'api_key_new_country') {
        if (!tenantId || !email) return { ...base, action: 'none', why: 'no trader account behind it' };
        if ((await freezableCount(deps.db, tenantScope(tenantId))) === 0)
          return { ...base, action: 'none', why: 'no active exchange key or live bot to freeze' };
        const automatic = severity === 'critical' && (await autoFreezeAllowed(deps.db));
        return {
          ...base,
          action: 'freeze_api_key',
          automatic,
          why: automatic ? 'critical, and security.auto_freeze is on: frozen at once' : 'freezing keys needs the Security head or the CEO',
        };
      }
      return { ...base, action: 'none', why: 'no sign the account was taken over: alert only' };
    },
  });

  const contain = createStep({
    id: 'contain',
    description: 'stop the bot, or freeze the keys (at once when allowed, otherwise request the approval)',
    inputSchema: assessment,
    outputSchema: containment,
    execute: async ({ inputData: assessed }): Promise<Containment> => {
      const ctx = toolContext(deps, INCIDENT_RESPONSE, deps.now());
      if (assessed.action === 'none') return { ...assessed, status: 'not_needed', approvalId: null, detail: assessed.why };
      if (assessed.action === 'stop_bot') {
        const bot = await botOwner(deps.db, assessed.finding.botId!);
        if (bot && (bot.status === 'stopped' || bot.status === 'frozen'))
          return { ...assessed, status: 'done', approvalId: null, detail: `the bot is ${bot.status}` };
        const outcome = await invokeTool(TOOLS, ctx, 'stop_bot', { botId: assessed.finding.botId, email: assessed.email });
        return outcome.ok
          ? { ...assessed, status: 'done', approvalId: null, detail: 'bot stopped' }
          : { ...assessed, status: 'failed', approvalId: null, detail: 'message' in outcome ? outcome.message : 'stop failed' };
      }
      // freeze_api_key: the incident's request is found again (a resumed run asks once), or an
      // agent's pending request for the same trader is joined rather than doubled.
      const existing = await findFreezeRequest(deps.db, assessed.email, `[incident:${assessed.key}]`);
      if (existing)
        return {
          ...assessed,
          status: existing.status === 'executed' ? 'done' : 'awaiting_approval',
          approvalId: existing.id,
          detail: `freeze request ${existing.id} (${existing.status})`,
        };
      const args = {
        email: assessed.email,
        reason: `${TITLES[assessed.finding.kind]} de ${assessed.finding.ip ?? '?'} (${assessed.finding.count}×) [incident:${assessed.key}]`,
      };
      if (assessed.automatic) {
        if ((await frozenExchangeAccountsMarked(deps.db, tenantScope(assessed.tenantId!), `[incident:${assessed.key}]`)) > 0)
          return { ...assessed, status: 'done', approvalId: null, detail: 'keys already frozen for this incident' };
        const outcome = await invokeTool(TOOLS, ctx, 'freeze_api_key', args, { approved: true });
        return outcome.ok
          ? {
              ...assessed,
              status: 'done',
              approvalId: null,
              detail: `keys frozen: ${JSON.stringify('result' in outcome ? outcome.result : {})}`,
            }
          : { ...assessed, status: 'failed', approvalId: null, detail: 'message' in outcome ? outcome.message : 'freeze failed' };
      }
      const outcome = await invokeTool(TOOLS, ctx, 'freeze_api_key', args);
      if (outcome.ok && 'pendingApproval' in outcome)
        return { ...assessed, status: 'awaiting_approval', approvalId: outcome.pendingApproval.id, detail: outcome.message };
      return { ...assessed, status: 'failed', approvalId: null, detail: 'message' in outcome ? outcome.message : 'freeze request failed' };
    },
  });

  const notifyStep = createStep({
    id: 'notify',
    description: 'alert Security and the CEO (the approvers see a pending freeze in the alert and on Telegram)',
    inputSchema: containment,
    outputSchema: containment,
    execute: async ({ inputData: contained }) => {
      const { companyTenantId, ceo } = await companyPeople(deps.db);
      const containmentText = {
        done: `Contenção feita: ${contained.detail}.`,
        awaiting_approval: `Congelamento das chaves aguardando aprovação do chefe de Segurança ou do CEO (aprovação ${contained.approvalId}).`,
        not_needed: `Sem ação na conta: ${contained.detail}.`,
        failed: `A contenção falhou: ${contained.detail}.`,
      }[contained.status];
      const detail = [
        `${contained.email ?? 'conta desconhecida'}${contained.finding.ip ? `, IP ${contained.finding.ip}` : ''}${contained.finding.botId ? `, robô ${contained.finding.botId}` : ''}: ${contained.finding.count} ocorrências entre ${contained.finding.firstAt.slice(0, 16).replace('T', ' ')} e ${contained.finding.lastAt.slice(0, 16).replace('T', ' ')} UTC.`,
        containmentText,
        `Incidente ${contained.key}.`,
      ].join('\n');
      const alert = { severity: contained.severity, title: TITLES[contained.finding.kind], detail };
      const tenantId = contained.tenantId ?? companyTenantId;
      await notify(deps.db, {
        tenantId,
        to: { department: 'security' },
        type: 'security_alert',
        payload: alert,
        dedupeKey: `incident:${contained.key}:security`,
      });
      await notify(deps.db, {
        tenantId,
        to: ceo ? { userId: ceo.userId } : { department: 'ceo' },
        type: 'security_alert',
        payload: alert,
        dedupeKey: `incident:${contained.key}:ceo`,
      });
      return contained;
    },
  });

  const awaitDecision = createStep({
    id: 'await-decision',
    description: 'wait for the freeze approval to be decided (or to expire)',
    inputSchema: containment,
    outputSchema: decided,
    resumeSchema: wokenSchema,
    suspendSchema: waitForApprovalSchema,
    execute: async ({ inputData: contained, suspend }) => {
      if (contained.status !== 'awaiting_approval' || !contained.approvalId)
        return {
          ...contained,
          decision:
            contained.status === 'not_needed'
              ? ('not_needed' as const)
              : contained.status === 'failed'
                ? ('failed' as const)
                : ('done' as const),
        };
      const decision = await approvalOutcome(deps, contained.approvalId);
      if (decision === 'wait')
        return suspend({ wake: { approvalId: contained.approvalId, reason: 'the Security head or the CEO decides the freeze' } });
      return { ...contained, decision };
    },
  });

  const close = createStep({
    id: 'close',
    description: 'audit the incident and tell Security how it ended (once)',
    inputSchema: decided,
    outputSchema: decided,
    execute: async ({ inputData: resolved, runId }) => {
      const { companyTenantId } = await companyPeople(deps.db);
      await appendAuditOnce(deps.db, `${INCIDENT_RESPONSE}:${runId}`, {
        tenantId: resolved.tenantId,
        actorKind: 'system',
        actorId: `workflow:${INCIDENT_RESPONSE}`,
        action: 'security.incident',
        outcome: resolved.decision === 'failed' ? 'error' : 'ok',
        args: {
          incident: resolved.key,
          kind: resolved.finding.kind,
          severity: resolved.severity,
          email: resolved.email,
          ip: resolved.finding.ip,
          botId: resolved.finding.botId,
          action: resolved.action,
          automatic: resolved.automatic,
          decision: resolved.decision,
          approvalId: resolved.approvalId,
        },
      });
      if (resolved.approvalId) {
        const text = {
          approved: `Incidente ${resolved.key}: chaves de ${resolved.email} congeladas após aprovação.`,
          rejected: `Incidente ${resolved.key}: o congelamento das chaves de ${resolved.email} foi rejeitado; nada foi congelado.`,
          expired: `Incidente ${resolved.key}: a aprovação para congelar as chaves de ${resolved.email} expirou sem decisão; nada foi congelado. Reavalie.`,
          failed: `Incidente ${resolved.key}: o congelamento aprovado das chaves de ${resolved.email} falhou; verifique.`,
          done: `Incidente ${resolved.key}: chaves de ${resolved.email} congeladas.`,
          not_needed: `Incidente ${resolved.key} encerrado.`,
        }[resolved.decision];
        await notify(deps.db, {
          tenantId: resolved.tenantId ?? companyTenantId,
          to: { department: 'security' },
          type: 'message',
          payload: { text },
          dedupeKey: `incident:${resolved.key}:outcome`,
        });
      }
      return resolved;
    },
  });

  return createWorkflow({
    id: INCIDENT_RESPONSE,
    description: 'Security anomaly → containment (approval where configured) → Security and the CEO alerted → audit',
    inputSchema: findingSchema,
    outputSchema: decided,
  })
    .then(assess)
    .then(contain)
    .then(notifyStep)
    .then(awaitDecision)
    .then(close)
    .commit();
}

/** Starts (once per incident) the response to one finding. */
export function respondToIncident(mastra: Mastra, finding: Finding): Promise<RunOutcome> {
  const parsed = findingSchema.parse(finding);
  return runOnce(mastra, INCIDENT_RESPONSE, { runId: `${INCIDENT_RESPONSE}:${parsed.kind}:${incidentKey(parsed)}`, inputData: parsed });
}

/**
 * The anomaly scan the job layer schedules: detect_anomalies over the last `hours` (as the
 * system, audited), one incident run per finding (a finding seen again joins its run), and
 * the runs whose approval was decided woken up.
 */
export async function scanForIncidents(
  mastra: Mastra,
  deps: WorkflowDeps,
  options: { hours?: number } = {},
): Promise<{ findings: number; runs: RunOutcome[]; resumed: RunOutcome[] }> {
  const threshold = await settingValue(deps.db, 'security.brute_force_threshold');
  const args = { hours: options.hours ?? 24, ...(typeof threshold === 'number' ? { bruteForceThreshold: threshold } : {}) };
  const outcome = await invokeTool(TOOLS, toolContext(deps, INCIDENT_RESPONSE, deps.now()), 'detect_anomalies', args);
  if (!outcome.ok || !('result' in outcome))
    throw new Error(`detect_anomalies failed: ${'message' in outcome ? outcome.message : 'no result'}`);
  const { findings } = outcome.result as { findings: Finding[] };
  const runs: RunOutcome[] = [];
  for (const finding of findings) runs.push(await respondToIncident(mastra, finding));
  const resumed = await resumeDueRuns(mastra, deps, [INCIDENT_RESPONSE]);
  return { findings: findings.length, runs, resumed };
}
