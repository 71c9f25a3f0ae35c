import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../accounts/index.ts';
import { ModelGateway, settleTurns, type AgentRuntime } from '../../agents/index.ts';
import { companyTenantId, listStaff, queryRows, type Database, type Department } from '../../db/index.ts';
import { createMastra } from '../../mastra.config.ts';
import { createLogger } from '../../observability/index.ts';
import { listPendingApprovals, requestApproval } from '../../tools/index.ts';
import { readDeploymentStatus } from '../../workers/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';
import { freePort } from '../support/ports.ts';

// The staff routes of issue 16 (server/api/staff-routes.ts): the approvals a person may decide,
// a turn with an agent (as `ask --json`), the executive report, KPIs, the audit log and its
// verification, the deployment's status. Each is the tool layer's decision as the signed-in
// person, so the matrix below — every department against every route — is the tools' policy
// seen through HTTP: what a department may not do is 403 in the one error shape. The model is
// down (Ollama on a closed port): the turn's offline router and the report's template answer.

interface ErrorBody {
  error: { code: string; message: string };
}

const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

/** Staff departments (the CEO's is the CEO alone). */
const DEPARTMENTS: readonly Department[] = [
  'ceo',
  'finance',
  'marketing',
  'sales',
  'security',
  'support',
  'audit',
  'documents',
  'settings',
  'subscriptions',
];

type RouteName = 'approvals' | 'askOwn' | 'askCeo' | 'report' | 'kpis' | 'audit' | 'verify' | 'status';

/** Which departments' members each route lets through (the tools' declared policy; the CEO's department may do everything). */
const ALLOWED: Record<RouteName, readonly Department[]> = {
  approvals: DEPARTMENTS,
  askOwn: DEPARTMENTS,
  askCeo: ['ceo'],
  report: ['ceo'], // company_kpis: the CEO and admins
  kpis: ['ceo'],
  audit: ['ceo', 'audit', 'security'], // query_audit_log
  verify: ['ceo', 'audit', 'security', 'settings'], // verify_audit_chain
  status: ['ceo', 'settings', 'security'], // system_status
};

const ROUTES: Record<RouteName, (department: Department) => { method: 'GET' | 'POST'; path: string; body?: unknown }> = {
  approvals: () => ({ method: 'GET', path: '/api/v1/approvals' }),
  askOwn: (d) => ({ method: 'POST', path: `/api/v1/agents/${d}/ask`, body: { message: 'resumo de hoje', offline: true } }),
  askCeo: () => ({ method: 'POST', path: '/api/v1/agents/ceo/ask', body: { message: 'como está a empresa?', offline: true } }),
  report: () => ({ method: 'GET', path: '/api/v1/reports/executive?period=daily&offline=true' }),
  kpis: () => ({ method: 'GET', path: '/api/v1/kpis' }),
  audit: () => ({ method: 'GET', path: '/api/v1/audit?hours=1&limit=5' }),
  verify: () => ({ method: 'POST', path: '/api/v1/audit/verify' }),
  status: () => ({ method: 'GET', path: '/api/v1/status' }),
};

describe.each(testDrivers)('staff routes on %s', (driver) => {
  let api: ApiFixture;
  let agents: AgentRuntime;
  let ceo: string;
  let trader: string;
  /** One member of each department (the CEO for the CEO's), signed in. */
  const member = new Map<Department, { cookie: string; userId: string; email: string }>();
  let financeHead: { cookie: string; userId: string };
  let nextIp = 10;

  beforeAll(async () => {
    // Ollama on a port nobody listens on: the model is down, as on a machine without it.
    const gateway = new ModelGateway({
      host: `http://127.0.0.1:${await freePort()}`,
      model: 'qwen3:0.6b',
      agentModels: {},
      timeoutMs: 2_000,
    });
    api = await apiFixture(driver, {
      traders: 4,
      agents: (db: Database) => {
        agents = { mastra: createMastra({ db, gateway, logger: silent }), gateway, logger: silent };
        return agents;
      },
      operations: (db: Database) => ({
        deploymentStatus: () => readDeploymentStatus(db, { tickIntervalS: 60, botLockTtlMs: 30_000 }),
      }),
    });
    const db = api.test.handle.db;
    const [ceoSignIn, traderSignIn] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password, `198.51.100.${nextIp++}`);
    trader = await api.signIn(traderSignIn!.email, traderSignIn!.password, `198.51.100.${nextIp++}`);
    const staff = await listStaff(db);
    for (const department of DEPARTMENTS) {
      const person = staff.find((s) => s.department === department && s.role === (department === 'ceo' ? 'ceo' : 'member'))!;
      await setPassword(db, person.userId, `staff-password-${department}`);
      const cookie = await api.signIn(person.email, `staff-password-${department}`, `198.51.100.${nextIp++}`);
      member.set(department, { cookie, userId: person.userId, email: person.email });
    }
    const head = staff.find((s) => s.department === 'finance' && s.role === 'head')!;
    await setPassword(db, head.userId, 'finance-head-password');
    financeHead = { cookie: await api.signIn(head.email, 'finance-head-password', `198.51.100.${nextIp++}`), userId: head.userId };
  });
  afterAll(async () => {
    if (agents) await settleTurns(agents);
    await api?.dispose();
  });

  const call = async <T>(
    method: string,
    path: string,
    auth: { cookie?: string; key?: string } = {},
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const response = await api.request(path, {
      method,
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(auth.key ? { headers: { authorization: `Bearer ${auth.key}` } } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  it('the authorisation matrix: each department against each staff route (refused: 403 in the one error shape)', async () => {
    const seen: string[] = [];
    const expected: string[] = [];
    for (const department of DEPARTMENTS) {
      const { cookie } = member.get(department)!;
      for (const [name, route] of Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][]) {
        const { method, path, body } = route(department);
        const answer = await call<ErrorBody>(method, path, { cookie }, body);
        seen.push(`${department} ${name} ${answer.status}`);
        expected.push(`${department} ${name} ${ALLOWED[name].includes(department) ? 200 : 403}`);
        if (answer.status === 403) {
          expect(Object.keys(answer.body)).toEqual(['error']);
          expect(answer.body.error.code).toBe('forbidden');
          expect(answer.body.error.message.length).toBeGreaterThan(10);
        }
      }
    }
    expect(seen).toEqual(expected);
    // A tool the policy refused is audited as denied, as an agent's refused call is.
    const denied = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from audit_log where tool in ('company_kpis', 'query_audit_log', 'system_status') and outcome = 'denied' and actor_kind = 'staff'`,
    );
    expect(Number(denied[0]!.n)).toBeGreaterThanOrEqual(9 * 2 + 7 + 7);
  });

  it('a trader gets 403 on every staff route, and nobody signed in gets 401', async () => {
    for (const [name, route] of Object.entries(ROUTES) as [RouteName, (typeof ROUTES)[RouteName]][]) {
      const { method, path, body } = route('support');
      const asTrader = await call<ErrorBody>(method, path, { cookie: trader }, body);
      expect(asTrader.status, name).toBe(403);
      expect(asTrader.body.error.code, name).toBe('forbidden');
      const anonymous = await call<ErrorBody>(method, path, {}, body);
      expect(anonymous.status, name).toBe(401);
      expect(anonymous.body.error.code, name).toBe('unauthorized');
    }
  });

  it('a read-only API key reads (GET) but may not POST; a read_write key may', async () => {
    const created = await call<{ key: string }>('POST', '/api/v1/keys', { cookie: ceo }, { name: 'reader', scope: 'read' });
    expect(created.status).toBe(201);
    const read = { key: created.body.key };
    for (const path of ['/api/v1/approvals', '/api/v1/kpis', '/api/v1/audit', '/api/v1/status', '/api/v1/reports/executive?offline=true'])
      expect((await call('GET', path, read)).status, path).toBe(200);
    for (const [path, body] of [
      ['/api/v1/audit/verify', undefined],
      ['/api/v1/agents/ceo/ask', { message: 'qual o MRR?', offline: true }],
    ] as const) {
      const refused = await call<ErrorBody>('POST', path, read, body);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.message).toContain('read-only');
    }
    const writer = await call<{ key: string }>('POST', '/api/v1/keys', { cookie: ceo }, { name: 'writer', scope: 'read_write' });
    expect((await call('POST', '/api/v1/audit/verify', { key: writer.body.key })).status).toBe(200);
  });

  it('GET /approvals: the ones the person may decide — all for the CEO, their department’s for a head, none for a member, not one’s own (four-eyes)', async () => {
    const db = api.test.handle.db;
    const tenantId = (await companyTenantId(db))!;
    const ceoUserId = (await listStaff(db)).find((s) => s.role === 'ceo')!.userId;
    const expiresAt = new Date(Date.now() + 3_600_000);
    // A refund the CEO asked for (billing: four-eyes), for Finance to decide…
    const refund = await requestApproval(db, {
      tenantId,
      requestedByUserId: ceoUserId,
      agent: 'finance',
      tool: 'refund_payment',
      args: { paymentId: crypto.randomUUID() },
      summary: 'Refund a payment',
      approverDepartment: 'finance',
      expiresAt,
    });
    // …and an agent's request to freeze a key, for Security.
    const freeze = await requestApproval(db, {
      tenantId,
      requestedByUserId: null,
      agent: 'security',
      tool: 'freeze_api_key',
      args: { email: api.signIns[1]!.email },
      summary: 'Freeze an exchange key',
      approverDepartment: 'security',
      expiresAt,
    });
    // …and a settings change whose summary was written in Portuguese (as the demo's are).
    const setting = await requestApproval(db, {
      tenantId,
      requestedByUserId: null,
      agent: 'settings',
      tool: 'set_config',
      args: { key: 'security.brute_force_threshold', value: 3, reason: 'ataque de força bruta' },
      summary: 'Mudar security.brute_force_threshold para 3: ataque de força bruta',
      approverDepartment: 'settings',
      expiresAt,
    });
    type Listed = { approvals: { id: string; approverDepartment: string; tool: string; summary: string; requestedAt: string }[] };
    const asCeo = await call<Listed>('GET', '/api/v1/approvals', { cookie: ceo });
    expect(asCeo.status).toBe(200);
    const ceoIds = asCeo.body.approvals.map((a) => a.id);
    expect(ceoIds).toContain(freeze);
    expect(ceoIds).not.toContain(refund);
    // Every pending approval but the CEO's own (four-eyes), and nothing else.
    const pending = await listPendingApprovals(db);
    expect(pending.map((a) => a.id)).toEqual(expect.arrayContaining(ceoIds));
    expect(ceoIds).toEqual(expect.arrayContaining(pending.filter((a) => a.requestedByUserId !== ceoUserId).map((a) => a.id)));
    expect(asCeo.body.approvals.find((a) => a.id === freeze)).toMatchObject({
      tool: 'freeze_api_key',
      approverDepartment: 'security',
      summary: 'Freeze an exchange key',
    });
    // The API reads each in English, from its tool's summary of the stored arguments (the
    // reason stays as its requester wrote it); one the tool cannot read keeps its own.
    expect(asCeo.body.approvals.find((a) => a.id === setting)?.summary).toBe(
      'Set security.brute_force_threshold to 3: ataque de força bruta',
    );

    const asHead = await call<Listed>('GET', '/api/v1/approvals', { cookie: financeHead.cookie });
    expect(asHead.body.approvals.map((a) => a.id)).toContain(refund);
    expect(asHead.body.approvals.every((a) => a.approverDepartment === 'finance')).toBe(true);
    const asMember = await call<Listed>('GET', '/api/v1/approvals', { cookie: member.get('finance')!.cookie });
    expect(asMember).toEqual({ status: 200, body: { approvals: [] } });
  });

  it('POST /approvals/{id}/approve|reject: 403 for whoever may not decide it (a member, another department, a trader), and it stays pending', async () => {
    const db = api.test.handle.db;
    const tenantId = (await companyTenantId(db))!;
    const refund = await requestApproval(db, {
      tenantId,
      requestedByUserId: null,
      agent: 'finance',
      tool: 'refund_payment',
      args: { paymentId: crypto.randomUUID() },
      summary: 'Refund a payment',
      approverDepartment: 'finance',
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const refusedBy = [
      ['the finance member', member.get('finance')!.cookie],
      ['the security member', member.get('security')!.cookie],
      ['the support member', member.get('support')!.cookie],
      ['a trader', trader],
    ] as const;
    for (const [who, cookie] of refusedBy)
      for (const decision of ['approve', 'reject']) {
        const answer = await call<ErrorBody>('POST', `/api/v1/approvals/${refund}/${decision}`, { cookie }, {});
        expect(answer.status, `${who} ${decision}`).toBe(403);
        expect(answer.body.error.code, `${who} ${decision}`).toBe('forbidden');
      }
    expect((await listPendingApprovals(db)).map((a) => a.id)).toContain(refund);
    // Each refusal is audited as denied (decideApproval's own record), none decided it.
    const [denied] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from audit_log where outcome = 'denied' and (details::text like ${`%${refund}%`} or args::text like ${`%${refund}%`})`,
    );
    expect(denied!.n).toBeGreaterThanOrEqual(refusedBy.length);
  });

  interface Turn {
    agent: string;
    answer: string;
    toolCalls: { tool: string; ok: boolean; by: string }[];
    mode: string;
    grounded: boolean;
    answerFrom: string;
    rejectedBecause: string | null;
    actions: unknown[];
    repeatedCalls: number;
    modelCalls: number;
    modelMs: number;
    elapsedMs: number;
  }

  it('POST /agents/{agent}/ask: the turn as `ask --json`, answered by the offline router while the model is down', async () => {
    const finance = member.get('finance')!;
    const revenueCalls = async () =>
      Number(
        (
          await queryRows<{ n: number }>(
            api.test.handle.db,
            sql`select count(*)::int as n from audit_log where tool = 'revenue_summary' and agent = 'finance' and actor_id = ${finance.userId} and outcome = 'ok'`,
          )
        )[0]!.n,
      );
    const before = await revenueCalls();
    for (const body of [{ message: 'qual o MRR?' }, { message: 'qual o MRR?', offline: true }]) {
      const turn = await call<Turn>('POST', '/api/v1/agents/financeiro/ask', { cookie: finance.cookie }, body);
      expect(turn.status).toBe(200);
      expect(Object.keys(turn.body).sort()).toEqual(
        [
          'agent',
          'answer',
          'toolCalls',
          'mode',
          'grounded',
          'answerFrom',
          'rejectedBecause',
          'actions',
          'repeatedCalls',
          'modelCalls',
          'modelMs',
          'elapsedMs',
        ].sort(),
      );
      expect(turn.body).toMatchObject({ agent: 'finance', mode: 'offline', answerFrom: 'template', modelCalls: 0, rejectedBecause: null });
      expect(turn.body.toolCalls).toEqual([expect.objectContaining({ tool: 'revenue_summary', ok: true, by: 'router' })]);
      expect(turn.body.answer).toMatch(/MRR/);
    }
    // The tool call was made as the person who asked, through the tool layer.
    expect((await revenueCalls()) - before).toBe(2);
  });

  it('POST /agents/{agent}/ask refuses: an unknown agent (404), another department’s agent without a reason to go there (403), bad input (400)', async () => {
    const marketing = member.get('marketing')!.cookie;
    const unknown = await call<ErrorBody>('POST', '/api/v1/agents/astrologer/ask', { cookie: marketing }, { message: 'oi' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('Unknown agent "astrologer"');
    // Marketing's only finance tool (campaign_performance) is on its own agent: not finance's door (Telegram's rule).
    const finance = await call<ErrorBody>('POST', '/api/v1/agents/finance/ask', { cookie: marketing }, { message: 'qual o MRR?' });
    expect(finance.status).toBe(403);
    expect(finance.body.error.message).toContain('may not ask the finance agent');
    // …but Documents carries get_document, which Marketing may use and its agent lacks.
    expect(
      (await call('POST', '/api/v1/agents/documents/ask', { cookie: marketing }, { message: 'política de reembolso', offline: true }))
        .status,
    ).toBe(200);
    const empty = await call<{ error: { code: string; details: { field: string }[] } }>(
      'POST',
      '/api/v1/agents/marketing/ask',
      { cookie: marketing },
      { message: '   ' },
    );
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.map((d) => d.field)).toEqual(['message']);
  });

  it('GET /reports/executive: the workflow’s report, with the template’s summary while the model is down (and says so)', async () => {
    type Report = {
      period: string;
      runId: string;
      text: string;
      figures: Record<string, unknown>;
      summaryFrom: string;
      fallback: string | null;
      grounded: boolean;
      modelCalls: number;
      revenue: { asOf: string; months: { month: string; mrrCents: number; revenueCents: number }[] };
    };
    const weekly = await call<Report>('GET', '/api/v1/reports/executive?period=weekly&lang=en', { cookie: ceo });
    expect(weekly.status).toBe(200);
    expect(weekly.body).toMatchObject({ period: 'weekly', summaryFrom: 'template', fallback: 'offline', modelCalls: 0 });
    expect(weekly.body.runId).toMatch(/^executive-report:weekly:/);
    expect(Object.keys(weekly.body.figures).sort()).toEqual([
      'audit',
      'finance',
      'marketing',
      'sales',
      'security',
      'support',
      'system',
      'trading',
    ]);
    expect(weekly.body.text.length).toBeGreaterThan(200);
    // The revenue/MRR chart's series (revenue_months: billing's MRR), 12 months weekly, 6 daily, the
    // current month last and its MRR the MRR now, as the KPIs say it.
    const months = weekly.body.revenue.months;
    expect(months).toHaveLength(12);
    expect(months.at(-1)!.month).toBe(weekly.body.revenue.asOf.slice(0, 7));
    const kpis = await call<{ finance: { mrrCents: number } }>('GET', '/api/v1/kpis', { cookie: ceo });
    expect(months.at(-1)!.mrrCents).toBe(kpis.body.finance.mrrCents);
    expect(months.some((m) => m.revenueCents > 0)).toBe(true);
    const offline = await call<Report>('GET', '/api/v1/reports/executive?offline=true', { cookie: ceo });
    expect(offline.body).toMatchObject({ period: 'daily', summaryFrom: 'template', fallback: 'not used' });
    expect(offline.body.revenue.months.map((m) => m.month)).toEqual(months.slice(-6).map((m) => m.month));
    const bad = await call<ErrorBody>('GET', '/api/v1/reports/executive?period=monthly', { cookie: ceo });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Invalid query: period/);
    // A finance head reads finance's figures, not the company's report.
    expect((await call('GET', '/api/v1/reports/executive', { cookie: financeHead.cookie })).status).toBe(403);
  });

  it('GET /kpis: the company_kpis tool’s snapshot', async () => {
    type Kpis = { windowDays: number; finance: { mrrCents: number; payingCustomers: number }; approvals: { pending: number } };
    const kpis = await call<Kpis>('GET', '/api/v1/kpis', { cookie: ceo });
    expect(kpis.status).toBe(200);
    expect(kpis.body.windowDays).toBe(30);
    expect(kpis.body.finance.payingCustomers).toBeGreaterThan(0);
    expect(kpis.body.approvals.pending).toBe((await listPendingApprovals(api.test.handle.db)).length);
  });

  it('GET /audit: query_audit_log with its filters as query parameters', async () => {
    const audit = member.get('audit')!.cookie;
    type Entries = { hours: number; entries: { id: number; tool: string | null; outcome: string }[] };
    const denied = await call<Entries>('GET', '/api/v1/audit?tool=company_kpis&outcome=denied&hours=2&limit=3', { cookie: audit });
    expect(denied.status).toBe(200);
    expect(denied.body.hours).toBe(2);
    expect(denied.body.entries).toHaveLength(3);
    expect(denied.body.entries.every((e) => e.tool === 'company_kpis' && e.outcome === 'denied')).toBe(true);
    const ids = denied.body.entries.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const bad = await call<{ error: { details: { field: string }[] } }>('GET', '/api/v1/audit?hours=0&outcome=maybe&limit=101', {
      cookie: audit,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.field).sort()).toEqual(['hours', 'limit', 'outcome']);
  });

  it('POST /audit/verify: the chain is intact, every row checked', async () => {
    const security = member.get('security')!.cookie;
    const verdict = await call<{ ok: boolean; rowsChecked: number; badRowId: number | null }>('POST', '/api/v1/audit/verify', {
      cookie: security,
    });
    expect(verdict.status).toBe(200);
    const [rows] = await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from audit_log`);
    expect(verdict.body).toMatchObject({ ok: true, badRowId: null });
    expect(verdict.body.rowsChecked).toBeGreaterThan(0);
    expect(verdict.body.rowsChecked).toBeLessThanOrEqual(Number(rows!.n));
  });

  it('GET /status: workers, queues and bots as `status --json`', async () => {
    type Status = {
      jobs: string;
      tickIntervalS: number;
      workers: unknown[];
      queues: Record<string, unknown>;
      bots: Record<string, number>;
      staleFeeds: number;
    };
    const status = await call<Status>('GET', '/api/v1/status', { cookie: member.get('settings')!.cookie });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ jobs: 'in-process', tickIntervalS: 60, workers: [], staleFeeds: 0 });
    expect(Object.values(status.body.queues).every((q) => q === null)).toBe(true);
    expect(Object.keys(status.body.queues)).toContain('bot-ticks');
    const byStatus = await queryRows<{ status: string; n: number }>(
      api.test.handle.db,
      sql`select status::text, count(*)::int as n from bots group by status`,
    );
    expect(status.body.bots).toEqual(Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])));
  });

  it('documents every staff route in the OpenAPI document, with its schemas', async () => {
    const document = (await (await api.request('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const [path, method] of [
      ['/api/v1/approvals', 'get'],
      ['/api/v1/agents/{agent}/ask', 'post'],
      ['/api/v1/reports/executive', 'get'],
      ['/api/v1/kpis', 'get'],
      ['/api/v1/audit', 'get'],
      ['/api/v1/audit/verify', 'post'],
      ['/api/v1/status', 'get'],
    ] as const) {
      const operation = document.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));
    }
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining([
        'Approvals',
        'AskAgent',
        'AgentTurn',
        'ExecutiveReport',
        'Kpis',
        'AuditEntries',
        'AuditVerification',
        'SystemStatus',
      ]),
    );
  });
});

describe('staff routes on a server without the agents or the deployment status', () => {
  let api: ApiFixture;
  let ceo: string;
  beforeAll(async () => {
    api = await apiFixture('pglite', { traders: 2 });
    ceo = await api.signIn(api.signIns[0]!.email, api.signIns[0]!.password);
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('answers 503 in the error shape, after the policy (a refused person still gets 403)', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/v1/agents/ceo/ask', { message: 'qual o MRR?' }],
      ['GET', '/api/v1/reports/executive', undefined],
      ['GET', '/api/v1/status', undefined],
    ] as const) {
      const response = await api.request(path, { method, cookie: ceo, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect(response.status, path).toBe(503);
      expect(((await response.json()) as ErrorBody).error.code, path).toBe('unavailable');
    }
    const trader = await api.signIn(api.signIns[1]!.email, api.signIns[1]!.password, '198.51.100.99');
    expect((await api.request('/api/v1/status', { cookie: trader })).status).toBe(403);
    // The routes that need neither still answer.
    expect((await api.request('/api/v1/kpis', { cookie: ceo })).status).toBe(200);
  });
});
