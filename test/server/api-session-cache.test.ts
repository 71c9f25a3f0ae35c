import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_CACHE_MS } from '../../accounts/index.ts';
import { queryRows } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';

// A session cookie the API checked lately is trusted for SESSION_CACHE_MS (accounts/auth.ts):
// what this process changes shows at once, what another process changes within that time.
describe('checked sessions', () => {
  let api: ApiFixture;
  let aheadMs = 0;
  beforeAll(async () => {
    api = await apiFixture('pglite', { traders: 4, clock: { now: () => Date.now() + aheadMs } });
  }, 180_000);
  afterAll(async () => {
    await api?.dispose();
  });

  const me = async (cookie: string) => (await api.request('/api/v1/me', { cookie })).status;

  it('answers a checked cookie without reading its session again, until SESSION_CACHE_MS has passed', async () => {
    const trader = api.signIns.find((s) => s.who === 'trader')!;
    const cookie = await api.signIn(trader.email, trader.password);
    expect(await me(cookie)).toBe(200);
    // Ended by another process (or an erasure): this process still trusts what it checked...
    await queryRows(
      api.test.handle.db,
      sql`delete from auth_sessions where user_id = (select id from users where email = ${trader.email})`,
    );
    expect(await me(cookie)).toBe(200);
    aheadMs += SESSION_CACHE_MS - 1_000;
    expect(await me(cookie)).toBe(200);
    // ...for SESSION_CACHE_MS at most.
    aheadMs += 1_000;
    expect(await me(cookie)).toBe(401);
  });

  it('forgets a cookie signed out here at once, and a cookie it never saw is checked', async () => {
    const trader = api.signIns.filter((s) => s.who === 'trader')[1]!;
    const cookie = await api.signIn(trader.email, trader.password);
    const other = await api.signIn(trader.email, trader.password);
    expect(await me(cookie)).toBe(200);
    expect(await me(other)).toBe(200);
    const out = await api.request('/api/v1/auth/sign-out', { method: 'POST', cookie, body: '{}' });
    expect(out.status).toBe(200);
    expect(await me(cookie)).toBe(401);
    // The person's other session is theirs to keep.
    expect(await me(other)).toBe(200);
    const [name, value] = cookie.split('=');
    expect(await me(`${name}=${value!.slice(0, -3)}abc`)).toBe(401);
  });
});
