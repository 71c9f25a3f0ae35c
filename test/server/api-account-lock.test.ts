import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT_LOCK } from '../../accounts/index.ts';
import { ManualClock } from '../../clock/index.ts';
import { queryRows } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// Sign-in throttled per account (issue 16), whatever the address: 10 failures in 15 minutes
// (since the last successful sign-in) lock the account, 429 with Retry-After and a clear
// message, recorded as login_locked; it opens again when the oldest failure leaves the window
// (on the injected clock). Each attempt here comes from its own address, so the per-address
// limit never answers first.

const SIGN_IN = '/api/v1/auth/sign-in/email';

describe.each(testDrivers)('the account lock on %s', (driver) => {
  let api: ApiFixture;
  const clock = new ManualClock(Date.parse('2026-11-02T12:00:00Z'));
  let nextIp = 1;
  const attempt = (email: string, password: string) =>
    api.request(SIGN_IN, { method: 'POST', body: JSON.stringify({ email, password }), ip: `198.18.0.${nextIp++}` });
  /** The API's events of one person (the demo's simulated history has no channel). */
  const userEvents = (email: string, type: string) =>
    queryRows<{ details: Record<string, unknown>; occurred_at: Date }>(
      api.test.handle.db,
      sql`select e.details, e.occurred_at from security_events e join users u on u.id = e.user_id
          where lower(u.email) = lower(${email}) and e.type = ${type} and e.details ->> 'channel' = 'api' order by e.occurred_at`,
    );

  beforeAll(async () => {
    api = await apiFixture(driver, { clock });
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('is 10 failures in 15 minutes by default', () => {
    expect(DEFAULT_ACCOUNT_LOCK).toEqual({ window: 900, maxFailures: 10 });
  });

  it('locks an account after 10 failed sign-ins from 10 addresses: even the right password gets 429, Retry-After and login_locked', async () => {
    const trader = api.signIns[1]!;
    for (let i = 0; i < 10; i++) {
      expect((await attempt(trader.email, `wrong-password-${i}`)).status).toBe(401);
      await clock.advance(30_000); // 10 failures over 5 minutes
    }
    const locked = await attempt(trader.email, trader.password);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('set-cookie')).toBeNull();
    // The oldest failure was 5 minutes ago: it leaves the 15-minute window in 10 minutes.
    expect(locked.headers.get('retry-after')).toBe('600');
    expect(await locked.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: 'This account is locked after 10 failed sign-ins in 15 minutes; try again in 10 minutes (Retry-After).',
      },
    });
    expect(await userEvents(trader.email, 'login_locked')).toHaveLength(1);
    expect(await userEvents(trader.email, 'login_failed')).toHaveLength(10);

    // Another account is not locked by it.
    expect((await attempt(api.signIns[2]!.email, api.signIns[2]!.password)).status).toBe(200);

    // One second before the oldest failure leaves the window: still locked; then open.
    await clock.advance(599_000);
    const stillLocked = await attempt(trader.email, trader.password);
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.headers.get('retry-after')).toBe('1');
    await clock.advance(1_000);
    expect((await attempt(trader.email, trader.password)).status).toBe(200);
  });

  it('counts failures since the last successful sign-in only', async () => {
    const trader = api.signIns[3]!;
    for (let i = 0; i < 9; i++) expect((await attempt(trader.email, 'wrong-password')).status).toBe(401);
    await clock.advance(1_000);
    expect((await attempt(trader.email, trader.password)).status).toBe(200);
    await clock.advance(1_000);
    for (let i = 0; i < 9; i++) expect((await attempt(trader.email, 'wrong-password')).status).toBe(401);
    await clock.advance(1_000);
    expect((await attempt(trader.email, trader.password)).status).toBe(200);
    expect(await userEvents(trader.email, 'login_locked')).toHaveLength(0);
  });
});
