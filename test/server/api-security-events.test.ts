import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../accounts/index.ts';
import { listStaff, queryRows, type Department } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// GET /api/v1/security-events (server/api/staff-routes.ts, issue 17): the recent_security_events
// tool as the signed-in person, its filters as query parameters. Who may read it is the tool's
// policy (Security, Audit; the CEO's department may do everything): every other department 403,
// a trader 403, nobody signed in 401 — in the one error shape, as test/server/api-staff-routes.test.ts.

interface ErrorBody {
  error: { code: string; message: string };
}
interface Events {
  hours: number;
  total: number;
  byType: Record<string, number>;
  latest: { type: string; severity: string; ip: string | null; country: string | null; at: string }[];
}

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
const ALLOWED: readonly Department[] = ['ceo', 'security', 'audit'];
const AS_OF = new Date('2026-11-01T00:00:00Z');

describe.each(testDrivers)('GET /security-events on %s', (driver) => {
  let api: ApiFixture;
  let trader: string;
  const member = new Map<Department, string>();
  let nextIp = 10;

  beforeAll(async () => {
    // The API's clock at the demo's date: its security events fall in the windows asked for.
    api = await apiFixture(driver, { traders: 2, now: () => AS_OF });
    const db = api.test.handle.db;
    const traderSignIn = api.signIns.find((s) => s.who === 'trader')!;
    trader = await api.signIn(traderSignIn.email, traderSignIn.password, `198.51.100.${nextIp++}`);
    const staff = await listStaff(db);
    for (const department of DEPARTMENTS) {
      const person = staff.find((s) => s.department === department && s.role === (department === 'ceo' ? 'ceo' : 'member'))!;
      await setPassword(db, person.userId, `staff-password-${department}`);
      member.set(department, await api.signIn(person.email, `staff-password-${department}`, `198.51.100.${nextIp++}`));
    }
  });
  afterAll(async () => api?.dispose());

  const get = async <T>(path: string, cookie?: string): Promise<{ status: number; body: T }> => {
    const response = await api.request(path, { method: 'GET', ...(cookie ? { cookie } : {}) });
    return { status: response.status, body: (await response.json()) as T };
  };

  it("who may read them is the tool's policy: Security, Audit and the CEO; other staff and traders 403, nobody signed in 401", async () => {
    const seen = [];
    for (const department of DEPARTMENTS) {
      const answer = await get<ErrorBody>('/api/v1/security-events?hours=1', member.get(department));
      seen.push(`${department} ${answer.status}`);
      if (answer.status === 403) expect(answer.body.error.code).toBe('forbidden');
    }
    expect(seen).toEqual(DEPARTMENTS.map((d) => `${d} ${ALLOWED.includes(d) ? 200 : 403}`));
    const asTrader = await get<ErrorBody>('/api/v1/security-events', trader);
    expect(asTrader.status).toBe(403);
    expect(asTrader.body.error.code).toBe('forbidden');
    const anonymous = await get<ErrorBody>('/api/v1/security-events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
  });

  it('counts by type and the latest ten of the window, filtered by severity; bad filters are 400', async () => {
    const db = api.test.handle.db;
    const since = new Date(AS_OF.getTime() - 720 * 3_600_000);
    const counted = await queryRows<{ type: string; severity: string; n: number }>(
      db,
      sql`select type, severity, count(*)::int as n from security_events where occurred_at >= ${since.toISOString()}::timestamptz group by type, severity`,
    );
    const total = counted.reduce((sum, r) => sum + Number(r.n), 0);
    expect(total).toBeGreaterThan(10);
    const all = await get<Events>('/api/v1/security-events?hours=720', member.get('security'));
    expect(all.status).toBe(200);
    expect(all.body.hours).toBe(720);
    expect(all.body.total).toBe(total);
    const byType: Record<string, number> = {};
    for (const r of counted) byType[r.type] = (byType[r.type] ?? 0) + Number(r.n);
    expect(all.body.byType).toEqual(byType);
    expect(all.body.latest).toHaveLength(10);
    const times = all.body.latest.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const severity = counted.find((r) => r.severity !== 'info')!.severity;
    const only = await get<Events>(`/api/v1/security-events?hours=720&severity=${severity}`, member.get('audit'));
    expect(only.status).toBe(200);
    expect(only.body.total).toBe(counted.filter((r) => r.severity === severity).reduce((sum, r) => sum + Number(r.n), 0));
    for (const event of only.body.latest) expect(event.severity).toBe(severity);

    const type = Object.keys(byType).sort()[0]!;
    const ofType = await get<Events>(`/api/v1/security-events?hours=720&type=${type}`, member.get('ceo'));
    expect(ofType.status).toBe(200);
    expect(ofType.body.total).toBe(byType[type]);
    expect(Object.keys(ofType.body.byType)).toEqual([type]);
    for (const event of ofType.body.latest) expect(event.type).toBe(type);

    for (const query of ['hours=0', 'hours=721', 'severity=urgent', 'type=DROP%20TABLE']) {
      const refused = await get<ErrorBody>(`/api/v1/security-events?${query}`, member.get('security'));
      expect(refused.status, query).toBe(400);
    }
  });

  it('is in the OpenAPI document with its filters and answer', async () => {
    const doc = (await get<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>('/api/v1/openapi.json')).body;
    const route = doc.paths['/api/v1/security-events']?.get ?? doc.paths['/security-events']?.get;
    expect(route).toBeDefined();
    expect(route!.parameters!.map((p) => p.name).sort()).toEqual(['hours', 'severity', 'type']);
  });
});
