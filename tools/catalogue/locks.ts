import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { bots } from '../../db/index.ts';
import { activePairLocks, lockPair, unlockPairs, type PairLockRow } from '../../trading/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';

// freqtrade's pair locks (/locks, /unlock, the API's POST /locks) as a trader's own tools:
// while a lock holds, the trader's bot (or every bot) opens nothing in the pair; exits still run.

const traderEmail = z.email().optional().describe("the trader's email (staff only; traders see their own account)");
const pair = z.string().regex(/^([A-Z0-9]{2,12}\/[A-Z0-9]{2,12}|\*)$/, { error: 'expected a pair such as BTC/USDT, or * for every pair' });
/** The longest lock: 30 days. */
const MAX_LOCK_MINUTES = 30 * 24 * 60;

const lockRow = z.object({
  id: z.string(),
  /** The bot it holds, or null: every bot of the account. */
  botId: z.string().nullable(),
  botName: z.string().nullable(),
  /** A pair, or `*`: every pair. */
  symbol: z.string(),
  /** The trader's words, or `stop_loss_cooldown` for the engine's lock after a stop loss. */
  reason: z.string(),
  lockedAt: z.string(),
  lockedUntil: z.string(),
  /** `person`: someone locked it (the trader or staff); `engine`: the stop-loss cooldown. */
  lockedBy: z.enum(['person', 'engine']),
});

async function described(ctx: ToolContext, rows: readonly PairLockRow[]): Promise<z.infer<typeof lockRow>[]> {
  const botIds = [...new Set(rows.flatMap((r) => (r.botId ? [r.botId] : [])))];
  const names = new Map(
    botIds.length === 0
      ? []
      : (await ctx.db.select({ id: bots.id, name: bots.name }).from(bots).where(inArray(bots.id, botIds))).map((b) => [b.id, b.name]),
  );
  return rows.map((r) => ({
    id: r.id,
    botId: r.botId,
    botName: r.botId ? (names.get(r.botId) ?? null) : null,
    symbol: r.symbol,
    reason: r.reason,
    lockedAt: r.lockedAt.toISOString(),
    lockedUntil: r.lockedUntil.toISOString(),
    lockedBy: r.createdByUserId === null ? ('engine' as const) : ('person' as const),
  }));
}

export const pairLockTools = [
  defineTool({
    name: 'list_pair_locks',
    description: "A trader's pair locks that hold now: which pair, which bot (or all), until when and why.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['security', 'support'], traders: true },
    input: z.strictObject({ email: traderEmail }),
    output: z.object({ locks: z.array(lockRow) }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      return { locks: await described(ctx, await activePairLocks(ctx.db, scope.tenantId, ctx.now())) };
    },
  }),
  defineTool({
    name: 'lock_pair',
    description: "Lock a pair (or *) for a while, for one of a trader's bots or all: no new entries there; exits still run.",
    domain: 'trading',
    effect: 'write',
    access: { departments: ['security', 'support'], traders: true },
    input: z
      .strictObject({
        symbol: pair,
        minutes: z.number().int().min(1).max(MAX_LOCK_MINUTES).optional().describe('how long, in minutes (or give until)'),
        until: z.iso.datetime({ offset: true }).optional().describe('until when (ISO 8601), instead of minutes'),
        botId: z.uuid().optional().describe('one bot; every bot of the trader when left out'),
        reason: z.string().trim().min(1).max(200).optional(),
        email: traderEmail,
      })
      .refine((i) => (i.minutes === undefined) !== (i.until === undefined), { error: 'give either minutes or until' }),
    output: lockRow,
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const now = ctx.now();
      const until = input.until ? new Date(input.until) : new Date(now.getTime() + input.minutes! * 60_000);
      if (until.getTime() <= now.getTime()) throw new ToolRefusal('forbidden', 'A lock must end in the future.');
      if (until.getTime() - now.getTime() > MAX_LOCK_MINUTES * 60_000)
        throw new ToolRefusal('forbidden', 'A lock may last 30 days at most; stop the bot instead.');
      const row = await lockPair(ctx.db, {
        tenantId: scope.tenantId,
        botId: input.botId ?? null,
        symbol: input.symbol,
        until,
        reason: input.reason ?? 'manual',
        createdByUserId: ctx.actor.kind === 'system' ? null : ctx.actor.userId,
        now,
      });
      if (!row) throw new ToolRefusal('not_found', `No bot ${input.botId} in this account.`);
      const [shown] = await described(ctx, [row]);
      return shown!;
    },
  }),
  defineTool({
    name: 'unlock_pair',
    description: "Lift a trader's pair lock by its id, or every lock on a pair (* for the all-pairs ones): entries resume.",
    domain: 'trading',
    effect: 'write',
    access: { departments: ['security', 'support'], traders: true },
    input: z
      .strictObject({ lockId: z.uuid().optional(), symbol: pair.optional(), email: traderEmail })
      .refine((i) => (i.lockId === undefined) !== (i.symbol === undefined), { error: 'give either lockId or symbol' }),
    output: z.object({ unlocked: z.array(lockRow) }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await unlockPairs(ctx.db, scope.tenantId, input.lockId ? { id: input.lockId } : { symbol: input.symbol! }, {
        userId: ctx.actor.kind === 'system' ? null : ctx.actor.userId,
        now: ctx.now(),
      });
      if (rows.length === 0)
        throw new ToolRefusal(
          'not_found',
          input.lockId ? `No lock ${input.lockId} holds in this account.` : `No lock holds on ${input.symbol} in this account.`,
        );
      return { unlocked: await described(ctx, rows) };
    },
  }),
];
