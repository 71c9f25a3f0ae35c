import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { deliveryChannels, notificationsQueuedAfter } from '../../notifications/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// The outbox read back as events (the web events stream's reader): pages of rows queued in one
// transaction share one time to the microsecond, and a page boundary among them must neither
// repeat nor skip a row. (A burst of 1,000 in one transaction made the reader ask for the same
// page forever, and the events stream never opened.)

describe.each(testDrivers)('notificationsQueuedAfter on %s', (driver) => {
  let test: TestDatabase;
  let userId: string;
  const tenantId = crypto.randomUUID();

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'burst' });
    const [user] = await test.handle.db.insert(db.users).values({ tenantId, email: 'burst@example.com', name: 'Burst' }).returning();
    userId = user!.id;
  });
  afterAll(() => test?.dispose());

  it('pages through 2,500 rows queued in one transaction, each once, and leaves out the per-person copies', async () => {
    const before = new Date(Date.now() - 60_000);
    const channel = deliveryChannels()[0];
    // One statement: every row has the transaction's now().
    await test.handle.db.execute(sql`
      insert into notifications (tenant_id, recipient_user_id, type, payload, channel, dedupe_key)
      select ${tenantId}::uuid, ${userId}::uuid, 'bot_status', jsonb_build_object('n', i), ${channel}, 'burst:' || i
      from generate_series(1, 2500) i`);
    // A per-person copy of a department row (the outbox's fan-out) is not an event of its own.
    await test.handle.db.execute(sql`
      insert into notifications (tenant_id, recipient_user_id, type, payload, channel, dedupe_key)
      values (${tenantId}::uuid, ${userId}::uuid, 'bot_status', '{}'::jsonb, ${channel}, ${`dept:1:user:${userId}`})`);

    const seen: string[] = [];
    let after = before;
    let afterId: string | undefined;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(5);
      const rows = await notificationsQueuedAfter(test.handle.db, after, 1_000, afterId);
      seen.push(...rows.map((r) => r.id));
      if (rows.length < 1_000) break;
      after = rows.at(-1)!.createdAt;
      afterId = rows.at(-1)!.id;
    }
    expect(seen).toHaveLength(2_500);
    expect(new Set(seen).size).toBe(2_500);
  });
});
