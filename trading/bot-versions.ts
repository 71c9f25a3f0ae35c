import { and, desc, eq, max } from 'drizzle-orm';
import { assertTenantScope, botVersions, bots, type Database, type TenantScope } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';
import { getStrategy, parseStrategyParameters } from './strategies/index.ts';

// A bot's parameters change only through here, so every change is a numbered version and the
// parameters it replaced are kept for rollback.

export class BotVersionError extends ProductError {
  readonly category = 'not_found' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BotVersionError';
  }
}

export type BotVersion = typeof botVersions.$inferSelect;

export interface BotParametersChange {
  readonly botId: string;
  readonly parameters: Record<string, number>;
  readonly reason: string;
  readonly userId: string | null;
}

/**
 * Validates the new parameters against the bot's strategy, writes them as the next version and
 * sets them on the bot, in one transaction (the bot row locked, so two changes cannot take the
 * same number). A bot without versions gets its parameters before the change as version 1.
 * A running bot's runner keeps the parameters it was built with: they apply from its next start.
 */
export async function changeBotParameters(db: Database, scope: TenantScope, change: BotParametersChange): Promise<BotVersion> {
  assertTenantScope(scope);
  return db.transaction(async (tx) => {
    const [bot] = await tx
      .select()
      .from(bots)
      .where(and(eq(bots.id, change.botId), eq(bots.tenantId, scope.tenantId)))
      .for('update');
    if (!bot) throw new BotVersionError(`No bot ${change.botId} in this account.`);
    const parameters = parseStrategyParameters(getStrategy(bot.strategyName), change.parameters);
    const [latest] = await tx
      .select({ version: max(botVersions.version) })
      .from(botVersions)
      .where(eq(botVersions.botId, bot.id));
    let version = latest?.version ?? 0;
    if (version === 0) {
      version = 1;
      await tx.insert(botVersions).values({
        tenantId: scope.tenantId,
        botId: bot.id,
        version,
        parameters: bot.parameters as Record<string, number>,
        reason: 'parameters before the first change',
        createdByUserId: null,
      });
    }
    const [written] = await tx
      .insert(botVersions)
      .values({
        tenantId: scope.tenantId,
        botId: bot.id,
        version: version + 1,
        parameters,
        reason: change.reason,
        createdByUserId: change.userId,
      })
      .returning();
    await tx.update(bots).set({ parameters, updatedAt: new Date() }).where(eq(bots.id, bot.id));
    return written!;
  });
}

/** The bot's versions, newest first; empty when its parameters never changed. */
export async function listBotVersions(db: Database, scope: TenantScope, botId: string): Promise<BotVersion[]> {
  assertTenantScope(scope);
  return db
    .select()
    .from(botVersions)
    .where(and(eq(botVersions.botId, botId), eq(botVersions.tenantId, scope.tenantId)))
    .orderBy(desc(botVersions.version));
}

/** Restores an earlier version's parameters as a new version (history is never rewritten). */
export async function rollbackBotVersion(
  db: Database,
  scope: TenantScope,
  input: { readonly botId: string; readonly version: number; readonly userId: string | null },
): Promise<BotVersion> {
  assertTenantScope(scope);
  const [target] = await db
    .select()
    .from(botVersions)
    .where(and(eq(botVersions.botId, input.botId), eq(botVersions.tenantId, scope.tenantId), eq(botVersions.version, input.version)));
  if (!target) throw new BotVersionError(`Bot ${input.botId} has no version ${input.version} in this account.`);
  return changeBotParameters(db, scope, {
    botId: input.botId,
    parameters: target.parameters,
    reason: `rollback to version ${input.version}`,
    userId: input.userId,
  });
}
