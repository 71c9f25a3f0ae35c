import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../accounts/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { STRATEGIES } from '../../trading/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// The first /api/v1 routes (issue 16): each a tool call as the signed-in person, so a trader
// sees their own account only and staff see what their department may.

interface BotList {
  bots: { id: string; owner: string | null }[];
  total: number;
  byStatus: Record<string, number>;
}

describe.each(testDrivers)('the first API routes on %s', (driver) => {
  let api: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;

  beforeAll(async () => {
    api = await apiFixture(driver);
    const [ceoSignIn, a, b] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
  });
  afterAll(async () => {
    await api?.dispose();
  });

  const get = async <T>(path: string, cookie?: string): Promise<{ status: number; body: T }> => {
    const response = await api.request(path, cookie ? { cookie } : {});
    return { status: response.status, body: (await response.json()) as T };
  };

  it('every route answers 401 without a session', async () => {
    for (const path of ['/api/v1/me', '/api/v1/strategies', '/api/v1/bots', `/api/v1/bots/${crypto.randomUUID()}`, '/api/v1/plan']) {
      const { status, body } = await get(path);
      expect(status, path).toBe(401);
      expect(body, path).toMatchObject({ error: { code: 'unauthorized' } });
    }
  });

  it('lists the strategies with their parameter schemas and defaults', async () => {
    const { status, body } = await get<{
      strategies: { name: string; parameters: { properties: Record<string, { default?: number }> }; defaults: Record<string, number> }[];
    }>('/api/v1/strategies', traderA);
    expect(status).toBe(200);
    expect(body.strategies.map((s) => s.name).sort()).toEqual([...STRATEGIES.keys()].sort());
    const rsi = body.strategies.find((s) => s.name === 'rsi')!;
    expect(rsi.defaults).toMatchObject({ rsiPeriod: 14, rsiBuy: 40, rsiSell: 60 });
    expect(rsi.parameters.properties['rsiPeriod']).toMatchObject({ type: 'integer', default: 14 });
  });

  it("a trader's bot list is their own, and each of their bots opens", async () => {
    const a = api.signIns[1]!;
    const { status, body } = await get<BotList>('/api/v1/bots', traderA);
    expect(status).toBe(200);
    expect(body.bots.length).toBeGreaterThan(0);
    expect(body.bots.every((bot) => bot.owner === a.email)).toBe(true);
    const [tenant] = await queryRows<{ n: number }>(
      api.test.handle.db,
      sql`select count(*)::int as n from bots b join users u on u.tenant_id = b.tenant_id where lower(u.email) = lower(${a.email})`,
    );
    expect(body.total).toBe(tenant!.n);
    const details = await get<{ bot: { id: string; owner: string } }>(`/api/v1/bots/${body.bots[0]!.id}`, traderA);
    expect(details.status).toBe(200);
    expect(details.body.bot).toMatchObject({ id: body.bots[0]!.id, owner: a.email });
  });

  it("another trader's bot is 404 (not 403: its existence is not told), and asking for their list by email is refused", async () => {
    const { body: bList } = await get<BotList>('/api/v1/bots', traderB);
    const someoneElses = bList.bots[0]!.id;
    const { status, body } = await get(`/api/v1/bots/${someoneElses}`, traderA);
    expect(status).toBe(404);
    expect(body).toMatchObject({ error: { code: 'not_found' } });
    expect(JSON.stringify(body)).not.toContain(api.signIns[2]!.email);
    const byEmail = await get(`/api/v1/bots?email=${encodeURIComponent(api.signIns[2]!.email)}`, traderA);
    expect(byEmail.status).toBe(403);
    expect(byEmail.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it("the CEO sees every trader's bots, and one trader's by email", async () => {
    const all = await get<BotList>('/api/v1/bots?limit=1000', ceo);
    expect(all.status).toBe(200);
    const [count] = await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from bots`);
    expect(all.body.total).toBe(count!.n);
    expect(new Set(all.body.bots.map((b) => b.owner)).size).toBeGreaterThan(1);
    const one = await get<BotList>(`/api/v1/bots?email=${encodeURIComponent(api.signIns[2]!.email)}`, ceo);
    expect(one.body.bots.every((b) => b.owner === api.signIns[2]!.email)).toBe(true);
  });

  it('refuses malformed input with 400 naming the field', async () => {
    const badId = await get<{ error: { code: string; details: { field: string }[] } }>('/api/v1/bots/not-a-uuid', traderA);
    expect(badId.status).toBe(400);
    expect(badId.body.error.details.map((d) => d.field)).toEqual(['id']);
    const badQuery = await get<{ error: { code: string; details: { field: string }[] } }>('/api/v1/bots?limit=0&status=flying', traderA);
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.code).toBe('usage');
    expect(badQuery.body.error.details.map((d) => d.field).sort()).toEqual(['limit', 'status']);
  });

  it("GET /plan: the trader's plan, its limits and subscription", async () => {
    const { status, body } = await get<{ subscription: { plan: string }; limits: { botsAllowed: number }; name: string }>(
      '/api/v1/plan',
      traderA,
    );
    expect(status).toBe(200);
    const me = await get<{ plan: string }>('/api/v1/me', traderA);
    expect(body.subscription.plan).toBe(me.body.plan);
    expect(body.limits.botsAllowed).toBeGreaterThan(0);
  });

  it("GET /plan as staff needs the trader's email", async () => {
    const without = await get('/api/v1/plan', ceo);
    expect(without.status).toBe(404);
    const withEmail = await get<{ subscription: { plan: string } }>(`/api/v1/plan?email=${encodeURIComponent(api.signIns[1]!.email)}`, ceo);
    expect(withEmail.status).toBe(200);
  });

  it('every call is audited as a tool call by the signed-in person', async () => {
    const rows = await queryRows<{ tool: string; actor_kind: string }>(
      api.test.handle.db,
      sql`select tool, actor_kind::text from audit_log where action = 'tool.call' and tool in ('list_bots', 'bot_details', 'subscription_status')`,
    );
    expect(rows.some((r) => r.tool === 'list_bots' && r.actor_kind === 'trader')).toBe(true);
    expect(rows.some((r) => r.tool === 'list_bots' && r.actor_kind === 'staff')).toBe(true);
    expect(rows.some((r) => r.tool === 'bot_details')).toBe(true);
  });

  it("staff outside the tool's departments are refused (403), as the agents and Telegram would be", async () => {
    const [marketer] = (await listStaff(api.test.handle.db)).filter((m) => m.department === 'marketing' && m.role === 'member');
    await setPassword(api.test.handle.db, marketer!.userId, 'marketing-password-1');
    const cookie = await api.signIn(marketer!.email, 'marketing-password-1');
    const me = await get('/api/v1/me', cookie);
    expect(me.body).toMatchObject({ kind: 'staff', department: 'marketing', role: 'member' });
    const bots = await get('/api/v1/bots', cookie);
    expect(bots.status).toBe(403);
    expect(bots.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('unknown /api paths answer 404 in the API error shape', async () => {
    const { status, body } = await get('/api/v1/nothing-here', traderA);
    expect(status).toBe(404);
    expect(body).toMatchObject({ error: { code: 'not_found' } });
  });
});
