import { eq, sql } from 'drizzle-orm';
import { bots, positions, queryRows, type Database } from '../../db/index.ts';

// The rows behind bot ownership across workers (workers/bot-worker.ts holds the locks and the
// schedule): which bots run, the epoch raised at each takeover, the once-per-slot tick claim.

/** A bot as the runner ticks it. */
export type RunningBot = typeof bots.$inferSelect;

export function runningBots(db: Database): Promise<RunningBot[]> {
  return db.select().from(bots).where(eq(bots.status, 'running'));
}

/** Raises the bot's owner epoch (fencing every earlier owner); undefined when the bot is gone. */
export async function takeOverBot(db: Database, botId: string): Promise<RunningBot | undefined> {
  const [taken] = await db
    .update(bots)
    .set({ ownerEpoch: sql`${bots.ownerEpoch} + 1` })
    .where(eq(bots.id, botId))
    .returning();
  return taken;
}

/**
 * Claims (bot, slot) for one tick, only while `epoch` still owns a running bot: false when
 * another owner took it over, it stopped, or the slot was already processed.
 */
export async function claimTickSlot(
  db: Database,
  claim: { readonly botId: string; readonly slotAt: Date; readonly workerId: string; readonly epoch: number },
): Promise<boolean> {
  const claimed = await queryRows<{ bot_id: string }>(
    db,
    sql`
    insert into bot_ticks (bot_id, slot_at, worker_id, owner_epoch)
    select ${claim.botId}::uuid, ${claim.slotAt.toISOString()}::timestamptz, ${claim.workerId}, ${claim.epoch}
    where exists (select 1 from bots where id = ${claim.botId}::uuid and owner_epoch = ${claim.epoch} and status = 'running')
    on conflict do nothing
    returning bot_id`,
  );
  return claimed.length > 0;
}

/**
 * claimTickSlot for many bots at once, in one statement: the ids of the bots whose (bot, slot)
 * this call claimed (the same condition per bot: `epoch` still owns it and it runs). The ids
 * and epochs travel as two text parameters, so the statement's text is the same for any number
 * of bots (prepared once per connection) and no query is built per bot.
 */
export async function claimTickSlots(
  db: Database,
  claims: readonly { readonly botId: string; readonly epoch: number }[],
  slot: { readonly slotAt: Date; readonly workerId: string },
): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  const ids = claims.map((claim) => claim.botId).join(',');
  const epochs = claims.map((claim) => claim.epoch).join(',');
  const claimed = await queryRows<{ bot_id: string }>(
    db,
    sql`
    insert into bot_ticks (bot_id, slot_at, worker_id, owner_epoch)
    select b.id, ${slot.slotAt.toISOString()}::timestamptz, ${slot.workerId}, b.owner_epoch
    from unnest(string_to_array(${ids}, ',')::uuid[], string_to_array(${epochs}, ',')::bigint[]) as c(bot_id, epoch)
    join bots b on b.id = c.bot_id and b.owner_epoch = c.epoch and b.status = 'running'
    on conflict do nothing
    returning bot_id`,
  );
  return new Set(claimed.map((row) => row.bot_id));
}

/** The open positions of many bots in one query, by bot id (a bot without one is absent). */
export async function openPositionsOf(db: Database, botIds: readonly string[]): Promise<Map<string, (typeof positions.$inferSelect)[]>> {
  const byBot = new Map<string, (typeof positions.$inferSelect)[]>();
  if (botIds.length === 0) return byBot;
  const rows = await db
    .select()
    .from(positions)
    .where(sql`${positions.botId} = any(string_to_array(${botIds.join(',')}, ',')::uuid[])`);
  for (const row of rows) {
    const held = byBot.get(row.botId);
    if (held) held.push(row);
    else byBot.set(row.botId, [row]);
  }
  return byBot;
}

export async function markBotsTicked(db: Database, botIds: readonly string[], at: Date): Promise<void> {
  if (botIds.length === 0) return;
  // One text parameter for the ids, not one parameter each (10,000 bots: one short statement).
  await db
    .update(bots)
    .set({ lastTickAt: at })
    .where(sql`${bots.id} = any(string_to_array(${botIds.join(',')}, ',')::uuid[])`);
}

/** What the tick table says about the fleet over the last three intervals. */
export interface TickActivity {
  /** Per worker: distinct bots ticked and its latest tick. */
  readonly byWorker: readonly { readonly workerId: string; readonly bots: number; readonly lastTickMs: number }[];
  readonly botsByStatus: Readonly<Record<string, number>>;
  /** Running bots not ticked in the last three intervals. */
  readonly runningNotTicked: number;
}

export async function readTickActivity(db: Database, tickIntervalS: number): Promise<TickActivity> {
  const window = tickIntervalS * 3;
  const ticking = await queryRows<{ worker_id: string; bots: number; last: string }>(
    db,
    sql`select worker_id, count(distinct bot_id)::int as bots, max(processed_at)::text as last from bot_ticks where processed_at > now() - make_interval(secs => ${window}) group by worker_id order by worker_id`,
  );
  const statuses = await queryRows<{ status: string; n: number }>(
    db,
    sql`select status::text, count(*)::int as n from bots group by status order by status`,
  );
  const [stale] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from bots where status = 'running' and (last_tick_at is null or last_tick_at < now() - make_interval(secs => ${window}))`,
  );
  return {
    byWorker: ticking.map((t) => ({ workerId: t.worker_id, bots: t.bots, lastTickMs: Date.parse(t.last) })),
    botsByStatus: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    runningNotTicked: stale?.n ?? 0,
  };
}
