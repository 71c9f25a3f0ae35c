import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { AGENT_NAMES, agentByName, mayAsk, runTurn } from '../../agents/index.ts';
import { approvalSummary, pendingApprovalsFor, TOOLS } from '../../tools/index.ts';
import { REPORT_CHART_MONTHS, runExecutiveReport } from '../../workflows/index.ts';
import type { ApiEnv } from './app.ts';
import { apiErrorSchema, errorResponses, ToolCallRefused } from './errors.ts';
import { SESSION_OR_KEY } from './account-security.ts';
import type { ApiRouteKit } from './trader-routes.ts';

// The staff routes of issue 16: the approvals a person may decide, a turn with an agent, the
// executive report, the company's KPIs, the audit log and its verification, the deployment's
// status. Each is the tool layer's decision as the signed-in person — a tool call (callTool:
// policy, scope, audit), the tool layer's approvals list (pendingApprovalsFor, Telegram's
// /approvals) or an agent's turn (runTurn, whose tools go through invokeTool) — so a department
// the tool layer refuses gets 403 here as it gets a refusal from an agent or on Telegram.

const jsonError = (description: string) => ({ description, content: { 'application/json': { schema: apiErrorSchema } } });
const unavailable = { 503: jsonError('Not reachable from this server (the agents, the workflow run or the deployment status).') };

const approvalSchema = z
  .object({
    id: z.uuid(),
    status: z.string(),
    tool: z.string().openapi({ description: 'the action waiting for the decision' }),
    summary: z.string().openapi({ description: "what the action does, in English (the tool's summary of its arguments)" }),
    approverDepartment: z.string().openapi({ description: 'whose head (or the CEO, an admin) decides' }),
    requestedAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi('Approval');

const askParams = z.object({
  agent: z
    .string()
    .min(1)
    .max(40)
    .openapi({
      param: { name: 'agent', in: 'path' },
      description: `the department's agent: ${AGENT_NAMES.join(', ')} (pt-BR names work too: financeiro, vendas, sac, …)`,
      example: 'finance',
    }),
});
const askBody = z
  .object({
    message: z.string().trim().min(1).max(4_000).openapi({ example: 'qual o MRR?' }),
    offline: z
      .boolean()
      .optional()
      .openapi({ description: "true: the router and templates answer without asking the model (the CLI's --offline)" }),
  })
  .openapi('AskAgent');
/** `botcriptofy ask --json`, field for field. */
const turnSchema = z
  .object({
    agent: z.string(),
    answer: z.string(),
    toolCalls: z.array(z.object({ tool: z.string(), ok: z.boolean(), args: z.unknown().optional(), by: z.enum(['model', 'router']) })),
    mode: z.enum(['ollama', 'offline']).openapi({ description: 'offline: the model was down, slow, missing or not asked' }),
    grounded: z.boolean(),
    answerFrom: z.enum(['model', 'template']),
    rejectedBecause: z.string().nullable().openapi({ description: "the answer gate's rule, `ungrounded`, or null" }),
    actions: z.array(
      z.object({
        tool: z.string().nullable(),
        status: z.enum(['done', 'awaiting_approval', 'refused', 'not_done']),
        approvalId: z.string().nullable(),
      }),
    ),
    repeatedCalls: z.number(),
    modelCalls: z.number(),
    modelMs: z.number(),
    elapsedMs: z.number(),
  })
  .openapi('AgentTurn');

const reportQuery = z.object({
  period: z.enum(['daily', 'weekly']).default('daily'),
  offline: z
    .enum(['true', 'false'])
    .default('false')
    .openapi({ description: "true: the template's summary without asking the model (the CLI's --offline)" }),
  lang: z.enum(['pt-BR', 'en']).optional().openapi({ description: "the report's language (default: the CEO's)" }),
});
const reportSchema = z
  .object({
    period: z.enum(['daily', 'weekly']),
    asOf: z.string(),
    runId: z.string(),
    text: z.string(),
    figures: z.record(z.string(), z.unknown()).openapi({ description: "each department's tool results as computed" }),
    summaryFrom: z.enum(['model', 'template']).openapi({ description: "who wrote the summary: the CEO agent's model, or the template" }),
    fallback: z
      .enum(['offline', 'missing', 'timed out', 'not used', 'unverified', 'rejected'])
      .nullable()
      .openapi({ description: "why the template's summary was used, or null" }),
    grounded: z.boolean(),
    unsupported: z.array(z.string()).openapi({ description: "the model's figures no tool produced" }),
    modelCalls: z.number(),
    modelMs: z.number(),
    elapsedMs: z.number(),
    revenue: z
      .object({
        asOf: z.string(),
        months: z.array(
          z.object({
            month: z.string().openapi({ example: '2026-11' }),
            mrrCents: z.number().openapi({ description: "MRR at the month's end (the current month: now), BRL cents" }),
            revenueCents: z.number().openapi({ description: 'cash revenue collected in the month, BRL cents' }),
          }),
        ),
      })
      .openapi({
        description:
          "the revenue/MRR chart's series (the revenue_months tool; 6 months daily, 12 weekly — the chart Telegram sends with the report)",
      }),
  })
  .openapi('ExecutiveReport');

const auditQuery = z.object({
  tool: z.string().min(1).max(100).optional().openapi({ description: "only this tool's entries", example: 'refund_payment' }),
  outcome: z.enum(['ok', 'denied', 'error', 'pending_approval']).optional(),
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24)
    .openapi({ description: 'the last this many hours' }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'at most this many entries, newest first' }),
});

const securityEventsQuery = z.object({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24)
    .openapi({ description: 'the last this many hours (at most 30 days)' }),
  severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional().openapi({ description: 'only events of this severity' }),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,59}$/)
    .optional()
    .openapi({ description: 'only events of this type', example: 'login_failed' }),
});

export function registerStaffRoutes(kit: ApiRouteKit): void {
  const { api, deps, now, requirePerson, callTool, toolOutput } = kit;
  for (const path of ['/approvals', '/agents/*', '/reports/*', '/kpis', '/audit', '/audit/*', '/status', '/security-events'])
    api.use(path, requirePerson);

  // --- GET /approvals -------------------------------------------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/approvals',
      tags: ['staff'],
      summary: 'The pending approvals the signed-in person may decide, oldest first',
      description:
        "The tool layer's list (Telegram's /approvals): every pending one for the CEO and admins, their department's for a head, none for other staff; not one they asked for themselves where four-eyes applies. Decide one with POST /approvals/{id}/approve or /reject. Traders: 403.",
      security: SESSION_OR_KEY,
      responses: {
        200: {
          description: 'Pending approvals.',
          content: { 'application/json': { schema: z.object({ approvals: z.array(approvalSchema) }).openapi('Approvals') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => {
      const rows = await pendingApprovalsFor(deps.db, TOOLS, c.get('actor'), now());
      return c.json({
        approvals: rows.map((a) => ({
          id: a.id,
          status: a.status,
          tool: a.tool,
          // In the API's language (English), whatever language the row's own summary was written in.
          summary: approvalSummary(TOOLS, a, 'en'),
          approverDepartment: a.approverDepartment,
          requestedAt: a.createdAt.toISOString(),
          expiresAt: a.expiresAt.toISOString(),
        })),
      });
    }) as never,
  );

  // --- POST /agents/{agent}/ask -----------------------------------------------------------

  api.openapi(
    createRoute({
      method: 'post',
      path: '/agents/{agent}/ask',
      tags: ['staff'],
      summary: "One turn with a department's agent (the CLI's `ask --json`)",
      description:
        "The same turn as `botcriptofy ask` and Telegram: the local model when Ollama answers, the offline router and templates otherwise (`mode: offline`). Every tool the turn calls goes through the tool layer as the signed-in person; an action that needs a person's decision becomes a pending approval (`actions`). Who may ask which agent is Telegram's rule: one's own department's agent, another's only for a tool one's own lacks, the CEO's for the CEO and admins. The conversation is remembered per person and agent on the `api` channel.",
      security: SESSION_OR_KEY,
      request: { params: askParams, body: { content: { 'application/json': { schema: askBody } }, required: true } },
      responses: {
        200: { description: "The agent's answer and what the turn did.", content: { 'application/json': { schema: turnSchema } } },
        ...errorResponses,
        404: jsonError('No agent by that name.'),
        ...unavailable,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof askParams>; json: z.infer<typeof askBody> } }>) => {
      const name = c.req.valid('param').agent;
      const agent = agentByName(name);
      if (!agent) throw new ToolCallRefused('not_found', `Unknown agent "${name}". Agents: ${AGENT_NAMES.join(', ')}.`);
      const actor = c.get('actor');
      const decision = mayAsk(actor, agent);
      if (!decision.allowed)
        throw new ToolCallRefused(
          'forbidden',
          decision.reason === 'not_staff'
            ? 'Asking an agent is for staff.'
            : decision.reason === 'ceo_only'
              ? 'The CEO agent serves only the CEO and admins.'
              : `The ${actor.kind === 'staff' ? actor.department : ''} department may not ask the ${agent} agent: it has no tool your own agent lacks that you may use.`,
        );
      if (!deps.agents) throw new ToolCallRefused('unavailable', 'The agents are not running in this server.');
      const { message, offline } = c.req.valid('json');
      const turn = await runTurn(deps.agents, {
        agent,
        message,
        ctx: {
          db: deps.db,
          actor,
          billing: deps.billing,
          now,
          trading: deps.trading,
          operations: deps.operations,
          marketData: deps.marketData,
        },
        channel: 'api',
        offline: offline ?? false,
      });
      return c.json({
        agent: turn.agent,
        answer: turn.answer,
        toolCalls: turn.toolCalls.map(({ tool, ok, args, by }) => ({ tool, ok, args, by })),
        mode: turn.mode,
        grounded: turn.grounded,
        answerFrom: turn.answerFrom,
        rejectedBecause: turn.rejectedBecause ?? null,
        actions: turn.actions.map(({ tool, status, approvalId }) => ({ tool: tool ?? null, status, approvalId: approvalId ?? null })),
        repeatedCalls: turn.repeatedCalls,
        modelCalls: turn.modelCalls,
        modelMs: turn.modelMs,
        elapsedMs: turn.elapsedMs,
      } satisfies z.infer<typeof turnSchema>);
    }) as never,
  );

  // --- GET /reports/executive ---------------------------------------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/reports/executive',
      tags: ['staff'],
      summary: 'The executive report now (the executive-report workflow), for the CEO and admins',
      description:
        "`botcriptofy report --json`: every department's figures from the tools, the CEO agent's summary, or the template's when the model is down, slow, not asked (`offline=true`) or states a figure no tool produced (`summaryFrom`, `fallback`). Not sent to anyone. Who may read it is the company_kpis tool's policy (the CEO and admins, as Telegram's /report), checked by calling it as the signed-in person.",
      security: SESSION_OR_KEY,
      request: { query: reportQuery },
      responses: {
        200: { description: 'The report.', content: { 'application/json': { schema: reportSchema } } },
        ...errorResponses,
        ...unavailable,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof reportQuery> } }>) => {
      const { period, offline, lang } = c.req.valid('query');
      // The tool layer decides who reads the company's figures (and audits the read).
      await callTool(c, 'company_kpis', {});
      if (!deps.agents) throw new ToolCallRefused('unavailable', 'The workflows are not running in this server.');
      const started = performance.now();
      const [report, revenue] = await Promise.all([
        runExecutiveReport(deps.agents.mastra, {
          period,
          asOf: now(),
          useModel: offline !== 'true',
          send: false,
          ...(lang ? { locale: lang } : {}),
        }),
        callTool<z.infer<typeof reportSchema>['revenue']>(c, 'revenue_months', { months: REPORT_CHART_MONTHS[period] }),
      ]);
      const { runId, asOf, text, figures, summaryFrom, fallback, grounded, unsupported, modelCalls, modelMs } = report;
      return c.json({
        period,
        asOf,
        runId,
        text,
        figures,
        summaryFrom,
        fallback,
        grounded,
        unsupported,
        modelCalls,
        modelMs,
        elapsedMs: Math.round(performance.now() - started),
        revenue,
      } satisfies z.infer<typeof reportSchema>);
    }) as never,
  );

  // --- GET /kpis ----------------------------------------------------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/kpis',
      tags: ['staff'],
      summary: "Every department's key figures now (the company_kpis tool: the CEO and admins)",
      security: SESSION_OR_KEY,
      responses: {
        200: {
          description: 'The KPIs, each with its window.',
          content: { 'application/json': { schema: toolOutput('company_kpis').openapi('Kpis') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => c.json(await callTool(c, 'company_kpis', {}))) as never,
  );

  // --- GET /audit, POST /audit/verify ---------------------------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['staff'],
      summary: 'Recent audit log entries, newest first (the query_audit_log tool: Audit, Security)',
      security: SESSION_OR_KEY,
      request: { query: auditQuery },
      responses: {
        200: {
          description: 'Audit entries.',
          content: { 'application/json': { schema: toolOutput('query_audit_log').openapi('AuditEntries') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof auditQuery> } }>) =>
      c.json(await callTool(c, 'query_audit_log', { ...c.req.valid('query') }))) as never,
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/audit/verify',
      tags: ['staff'],
      summary: 'Walk the whole audit chain (the verify_audit_chain tool: Audit, Security, Settings)',
      description:
        '`ok: false` names the first altered or missing row (`badRowId`), as `botcriptofy audit verify` does; the verification itself succeeded, so the status is 200.',
      security: SESSION_OR_KEY,
      responses: {
        200: {
          description: 'The verdict.',
          content: { 'application/json': { schema: toolOutput('verify_audit_chain').openapi('AuditVerification') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => c.json(await callTool(c, 'verify_audit_chain', {}))) as never,
  );

  // --- GET /security-events -------------------------------------------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/security-events',
      tags: ['staff'],
      summary:
        'Security events of the last hours, by severity and type: counts by type, the latest ten (the recent_security_events tool: Security, Audit)',
      description:
        "Sign-ins failed and succeeded, API key use, withdrawal attempts… as the Security department's agent reads them: `total`, `byType` (every type in the window), `latest` (the ten newest, newest first). Who may read them is the tool's policy (Security, Audit, the CEO and admins), checked by calling it as the signed-in person; audited. Traders: 403.",
      security: SESSION_OR_KEY,
      request: { query: securityEventsQuery },
      responses: {
        200: {
          description: 'The events.',
          content: { 'application/json': { schema: toolOutput('recent_security_events').openapi('SecurityEvents') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof securityEventsQuery> } }>) => {
      const { hours, severity, type } = c.req.valid('query');
      return c.json(await callTool(c, 'recent_security_events', { hours, ...(severity ? { severity } : {}), ...(type ? { type } : {}) }));
    }) as never,
  );

  // --- GET /status ----------------------------------------------------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/status',
      tags: ['staff'],
      summary: 'Workers, queues, bots and market feeds (the system_status tool: Settings, Security)',
      description:
        '`botcriptofy status --json`: `jobs`, `tickIntervalS`, `workers`, `queues` (null: in-process), `bots`, `runningBotsNotTicked`, `feeds`, `staleFeeds`.',
      security: SESSION_OR_KEY,
      responses: {
        200: {
          description: 'The deployment now.',
          content: { 'application/json': { schema: toolOutput('system_status').openapi('SystemStatus') } },
        },
        ...errorResponses,
        ...unavailable,
      },
    }),
    (async (c: Context<ApiEnv>) => c.json(await callTool(c, 'system_status', {}))) as never,
  );
}
