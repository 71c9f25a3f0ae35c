import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock/index.ts';
import { queryRows } from '../../db/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { testDrivers } from '../support/databases.ts';

// Personal API keys through the HTTP API (issue 16): their owner creates, lists and revokes
// them with the session; only their SHA-256 is stored; `Authorization: Bearer` or `X-API-Key`
// authenticates /api/v1; a read key is refused on every mutating route; each creation,
// revocation and first use from an address is a security event.

interface Key {
  id: string;
  name: string;
  scope: 'read' | 'read_write';
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  key?: string;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { field: string }[] };
}

describe.each(testDrivers)('personal API keys on %s', (driver) => {
  let api: ApiFixture;
  const clock = new ManualClock(Date.parse('2026-11-02T12:00:00Z'));
  let traderA: string;
  let traderB: string;
  let readKey: Key & { key: string };
  let writeKey: Key & { key: string };

  const call = async <T>(method: string, path: string, auth: { cookie?: string; key?: string; header?: 'x-api-key' }, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (auth.key) headers[auth.header ?? 'authorization'] = auth.header ? auth.key : `Bearer ${auth.key}`;
    const response = await api.request(path, {
      method,
      headers,
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const events = (type: string) =>
    queryRows<{ user_id: string; ip: string; details: Record<string, unknown> }>(
      api.test.handle.db,
      sql`select user_id, ip, details from security_events where type = ${type} order by occurred_at`,
    );

  beforeAll(async () => {
    api = await apiFixture(driver, { clock });
    const [, a, b] = api.signIns;
    traderA = await api.signIn(a!.email, a!.password, '198.51.100.20');
    traderB = await api.signIn(b!.email, b!.password, '198.51.100.21');
  });
  afterAll(async () => {
    await api?.dispose();
  });

  it('creates a read and a read_write key (shown once), stores only their SHA-256, and records api_key_created', async () => {
    const read = await call<Key & { key: string }>('POST', '/api/v1/keys', { cookie: traderA }, { name: 'dashboard', scope: 'read' });
    expect(read.status).toBe(201);
    expect(read.body).toMatchObject({ name: 'dashboard', scope: 'read', expiresAt: null, lastUsedAt: null, revokedAt: null });
    expect(read.body.key).toMatch(/^bcf_[A-Za-z0-9_-]{43}$/);
    expect(read.body.key.startsWith(read.body.prefix)).toBe(true);
    const write = await call<Key & { key: string }>(
      'POST',
      '/api/v1/keys',
      { cookie: traderA },
      { name: 'my bot script', scope: 'read_write' },
    );
    expect(write.status).toBe(201);
    readKey = read.body;
    writeKey = write.body;

    const stored = await queryRows<{ key_hash: string; prefix: string; row: string }>(
      api.test.handle.db,
      sql`select key_hash, prefix, row_to_json(api_keys)::text as row from api_keys where id = ${readKey.id}`,
    );
    expect(stored[0]!.key_hash).toBe(crypto.createHash('sha256').update(readKey.key).digest('hex'));
    expect(stored[0]!.row).not.toContain(readKey.key);

    const listed = await call<{ keys: Key[] }>('GET', '/api/v1/keys', { cookie: traderA });
    expect(listed.status).toBe(200);
    expect(listed.body.keys.map((k) => k.name)).toEqual(expect.arrayContaining(['dashboard', 'my bot script']));
    for (const key of listed.body.keys) expect(key).not.toHaveProperty('key');

    const created = await events('api_key_created');
    expect(created.map((e) => e.details['keyId'])).toEqual([readKey.id, writeKey.id]);
    expect(created[0]).toMatchObject({ ip: '192.0.2.1', details: { channel: 'api', scope: 'read', name: 'dashboard' } });
    expect(JSON.stringify(created)).not.toContain(readKey.key);
  });

  it('authenticates /api/v1 with Authorization: Bearer or X-API-Key, as its owner, and records the first use from an address', async () => {
    const bySession = await call<{ bots: { id: string }[] }>('GET', '/api/v1/bots', { cookie: traderA });
    const byBearer = await call<{ bots: { id: string }[] }>('GET', '/api/v1/bots', { key: readKey.key });
    expect(byBearer.status).toBe(200);
    expect(byBearer.body.bots.map((b) => b.id)).toEqual(bySession.body.bots.map((b) => b.id));
    const me = await call<{ email: string; session: { via: string; scope: string; expiresAt: string | null } }>('GET', '/api/v1/me', {
      key: readKey.key,
      header: 'x-api-key',
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: api.signIns[1]!.email, session: { via: 'api_key', scope: 'read', expiresAt: null } });

    const used = (await events('api_key_used')).filter((e) => e.details['keyId'] === readKey.id);
    expect(used).toHaveLength(1); // three requests from one address: one event
    await call('GET', '/api/v1/me', { key: readKey.key, header: 'x-api-key' }).then(() => undefined);
    const listed = await call<{ keys: Key[] }>('GET', '/api/v1/keys', { cookie: traderA });
    expect(listed.body.keys.find((k) => k.id === readKey.id)?.lastUsedAt).toBe(new Date(clock.now()).toISOString());
  });

  it('refuses a read key on every mutating route (403, nothing changed); a read_write key acts', async () => {
    const { body: list } = await call<{ bots: { id: string; status: string }[] }>('GET', '/api/v1/bots', { cookie: traderA });
    const bot = list.bots[0]!;
    const newBot = { name: 'Key bot', strategy: 'rsi', symbols: ['BTC/USDT'], timeframe: '1h', stakeQuote: 250 };
    for (const [method, path, body] of [
      ['POST', '/api/v1/bots', newBot],
      ['POST', `/api/v1/bots/${bot.id}/start`, {}],
      ['POST', `/api/v1/bots/${bot.id}/stop`, undefined],
      ['POST', `/api/v1/bots/${bot.id}/forceexit`, {}],
      ['DELETE', `/api/v1/keys/${writeKey.id}`, undefined],
    ] as const) {
      const refused = await call<ErrorBody>(method, path, { key: readKey.key }, body);
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.error).toEqual({
        code: 'forbidden',
        message: `This API key is read-only: it may not ${method} ${path}. Use a read_write key or the session.`,
      });
    }
    const after = await call<{ bots: { id: string; status: string }[] }>('GET', '/api/v1/bots', { cookie: traderA });
    expect(after.body.bots.map((b) => [b.id, b.status])).toEqual(list.bots.map((b) => [b.id, b.status]));
    const keys = await call<{ keys: Key[] }>('GET', '/api/v1/keys', { cookie: traderA });
    expect(keys.body.keys.find((k) => k.id === writeKey.id)?.revokedAt).toBeNull();

    const created = await call<{ bot: { name: string; owner: string } }>('POST', '/api/v1/bots', { key: writeKey.key }, newBot);
    expect(created.status).toBe(201);
    expect(created.body.bot).toMatchObject({ name: 'Key bot', owner: api.signIns[1]!.email });
  });

  it('manages keys with the session only: a key cannot create or revoke one', async () => {
    const create = await call<ErrorBody>('POST', '/api/v1/keys', { key: writeKey.key }, { name: 'another', scope: 'read_write' });
    expect(create.status).toBe(403);
    expect(create.body.error.message).toBe('Creating an API key needs a signed-in session, not an API key.');
    const revoke = await call<ErrorBody>('DELETE', `/api/v1/keys/${readKey.id}`, { key: writeKey.key });
    expect(revoke.status).toBe(403);
    expect(revoke.body.error.message).toBe('Revoking an API key needs a signed-in session, not an API key.');
  });

  it("keeps each person's keys their own: another trader neither sees nor revokes them (404)", async () => {
    const theirs = await call<{ keys: Key[] }>('GET', '/api/v1/keys', { cookie: traderB });
    expect(theirs.body.keys).toEqual([]);
    const revoke = await call<ErrorBody>('DELETE', `/api/v1/keys/${readKey.id}`, { cookie: traderB });
    expect(revoke.status).toBe(404);
    expect(revoke.body.error).toEqual({ code: 'not_found', message: `You have no API key ${readKey.id}.` });
    expect((await call('GET', '/api/v1/me', { key: readKey.key })).status).toBe(200);
  });

  it('revokes a key: it stops working at once (401), recorded as api_key_revoked; revoking again answers it as it is', async () => {
    const revoked = await call<Key>('DELETE', `/api/v1/keys/${readKey.id}`, { cookie: traderA });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: readKey.id, revokedAt: new Date(clock.now()).toISOString() });
    const refused = await call<ErrorBody>('GET', '/api/v1/me', { key: readKey.key });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toEqual({ code: 'unauthorized', message: 'This API key is not valid (unknown, revoked or expired).' });
    // A revoked key with a valid session cookie beside it is still refused: a key is never ignored.
    expect((await call('GET', '/api/v1/me', { key: readKey.key, cookie: traderA })).status).toBe(401);
    const again = await call<Key>('DELETE', `/api/v1/keys/${readKey.id}`, { cookie: traderA });
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const events_ = await events('api_key_revoked');
    expect(events_).toHaveLength(1);
    expect(events_[0]).toMatchObject({ details: { keyId: readKey.id, name: 'dashboard' } });
  });

  it('a key with an expiry stops working after it (on the injected clock)', async () => {
    const short = await call<Key & { key: string }>(
      'POST',
      '/api/v1/keys',
      { cookie: traderA },
      { name: 'short', scope: 'read', expiresInDays: 1 },
    );
    expect(short.body.expiresAt).toBe(new Date(clock.now() + 86_400_000).toISOString());
    expect((await call('GET', '/api/v1/me', { key: short.body.key })).status).toBe(200);
    await clock.advance(86_400_000);
    expect((await call('GET', '/api/v1/me', { key: short.body.key })).status).toBe(401);
    expect((await call('GET', '/api/v1/me', { key: writeKey.key })).status).toBe(200);
  });

  it('allows 20 active keys per person: the 21st is 409 until one is revoked', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const created = await call<Key>('POST', '/api/v1/keys', { cookie: traderB }, { name: `key ${i}`, scope: 'read' });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const refused = await call<ErrorBody>('POST', '/api/v1/keys', { cookie: traderB }, { name: 'one too many', scope: 'read' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: 'conflict',
      message: 'You have 20 API keys already; revoke one first (DELETE /api/v1/keys/{id}).',
    });
    expect((await call('DELETE', `/api/v1/keys/${ids[0]}`, { cookie: traderB })).status).toBe(200);
    expect((await call('POST', '/api/v1/keys', { cookie: traderB }, { name: 'room again', scope: 'read' })).status).toBe(201);
  });

  it('refuses an unknown key (401) and a bad body naming the field (400)', async () => {
    expect((await call('GET', '/api/v1/bots', { key: `bcf_${'A'.repeat(43)}` })).status).toBe(401);
    expect((await call('GET', '/api/v1/bots', { key: 'not-a-key' })).status).toBe(401);
    const bad = await call<ErrorBody>('POST', '/api/v1/keys', { cookie: traderA }, { name: 'x', scope: 'admin' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details?.map((d) => d.field)).toEqual(['scope']);
    const notUuid = await call<ErrorBody>('DELETE', '/api/v1/keys/123', { cookie: traderA });
    expect(notUuid.status).toBe(400);
    expect((await call('GET', '/api/v1/keys', {})).status).toBe(401);
  });
});
