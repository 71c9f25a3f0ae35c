import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { changeBotParameters, listBotVersions, rollbackBotVersion } from '../../trading/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// A bot's parameter changes are numbered versions; the parameters before the first change are
// kept as version 1, a rollback is a new version, and another tenant reaches none of it.

describe.each(testDrivers)('bot versions (%s)', (driver) => {
  let test: TestDatabase;
  const tenants = { ana: crypto.randomUUID(), bob: crypto.randomUUID() };
  const anaUser = crypto.randomUUID();
  let botId: string;
  const original = { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };
  const improved = { rsiPeriod: 20, rsiBuy: 30, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    for (const [name, id] of Object.entries(tenants)) await test.handle.db.insert(db.tenants).values({ id, kind: 'trader', name });
    await test.handle.db
      .insert(db.users)
      .values({ id: anaUser, tenantId: tenants.ana, email: 'ana@example.com', name: 'ana', locale: 'pt-BR' });
    const [bot] = await test.handle.db
      .insert(db.bots)
      .values({
        tenantId: tenants.ana,
        name: 'ana-rsi',
        strategyName: 'rsi',
        parameters: original,
        symbols: ['BTC/USDT'],
        stakeQuote: '100',
      })
      .returning();
    botId = bot!.id;
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });
  const botParameters = async () => (await test.handle.db.select().from(db.bots).where(eq(db.bots.id, botId)))[0]!.parameters;

  it('keeps the parameters before the first change as version 1 and numbers each change', async () => {
    const ana = db.tenantScope(tenants.ana);
    const written = await changeBotParameters(test.handle.db, ana, {
      botId,
      parameters: improved,
      reason: 'walk-forward improvement',
      userId: anaUser,
    });
    expect(written).toMatchObject({ version: 2, parameters: improved, reason: 'walk-forward improvement', createdByUserId: anaUser });
    expect(await botParameters()).toEqual(improved);
    const versions = await listBotVersions(test.handle.db, ana, botId);
    expect(versions.map((v) => [v.version, v.parameters])).toEqual([
      [2, improved],
      [1, original],
    ]);
  });

  it('rolls back to an earlier version as a new version', async () => {
    const ana = db.tenantScope(tenants.ana);
    const rolled = await rollbackBotVersion(test.handle.db, ana, { botId, version: 1, userId: anaUser });
    expect(rolled).toMatchObject({ version: 3, parameters: original, reason: 'rollback to version 1' });
    expect(await botParameters()).toEqual(original);
    await expect(rollbackBotVersion(test.handle.db, ana, { botId, version: 9, userId: anaUser })).rejects.toThrow(/has no version 9/);
  });

  it('refuses parameters the strategy rejects, changing nothing', async () => {
    const ana = db.tenantScope(tenants.ana);
    await expect(
      changeBotParameters(test.handle.db, ana, { botId, parameters: { rsiBuy: 70, rsiSell: 60 }, reason: 'bad', userId: anaUser }),
    ).rejects.toThrow(/rsiBuy must be below rsiSell/);
    expect((await listBotVersions(test.handle.db, ana, botId)).length).toBe(3);
  });

  it('another tenant can neither change, list nor roll back the bot', async () => {
    const bob = db.tenantScope(tenants.bob);
    await expect(changeBotParameters(test.handle.db, bob, { botId, parameters: improved, reason: 'x', userId: null })).rejects.toThrow(
      /No bot/,
    );
    expect(await listBotVersions(test.handle.db, bob, botId)).toEqual([]);
    await expect(rollbackBotVersion(test.handle.db, bob, { botId, version: 2, userId: null })).rejects.toThrow(/has no version 2/);
    expect(await botParameters()).toEqual(original);
  });
});
