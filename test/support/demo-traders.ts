import { and, eq, sql } from 'drizzle-orm';
import * as db from '../../db/index.ts';
import type { Actor } from '../../tools/index.ts';

/** The first `count` traders of a seeded company who own a bot: as tool-layer actors, with their e-mails. */
export async function tradersWithBots(
  database: db.Database,
  count: number,
): Promise<{ actor: Actor & { kind: 'trader' }; email: string; tenantId: string }[]> {
  const rows = await database
    .select({ userId: db.users.id, tenantId: db.users.tenantId, email: db.users.email, name: db.users.name })
    .from(db.users)
    .innerJoin(db.tenants, eq(db.tenants.id, db.users.tenantId))
    .where(and(eq(db.tenants.kind, 'trader'), sql`exists (select 1 from bots b where b.tenant_id = ${db.users.tenantId})`))
    .limit(count);
  return rows.map((r) => ({
    actor: { kind: 'trader', userId: r.userId, tenantId: r.tenantId, name: r.name },
    email: r.email,
    tenantId: r.tenantId,
  }));
}
