import os from 'node:os';
import { z } from 'zod';
import { checkBacktestQuota } from '../../billing/index.ts';
import type { TenantScope } from '../../db/index.ts';
import {
  BotVersionError,
  changeBotParameters,
  getBot,
  getStrategy,
  listBotVersions,
  neighbourhoodGrid,
  parseStrategyParameters,
  rollbackBotVersion,
  StrategyError,
  walkForward,
  type BotVersion,
} from '../../trading/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';
import { recentCandles } from './trading.ts';

// The trader's assistant's review of a running bot (issue 22, "melhore meu robô"): a walk-forward
// search around the bot's parameters on the last year of its own pair and timeframe, proposing a
// change only when it beat the current parameters out of sample; applying it (or rolling back)
// only with the trader's own confirmation (ctx.personConfirmed: a button), as a new bot version.
// Traders only, on their own bots.

/** Days of candles a review walks forward over: the last year. */
export const IMPROVEMENT_DAYS = 365;
const FOLDS = 5;
/** The timeframes recent candles are fetched for (recentCandles' own). */
const reviewTimeframe = z.enum(['5m', '15m', '1h', '4h', '1d']);

const traderOnly = { departments: [], traders: true } as const;
const email = z.email().optional().describe("the trader's email (traders act on their own account)");
const parameters = z.record(z.string(), z.number());

const windowFigures = z.object({
  totalReturnPct: z.number(),
  trades: z.number(),
  maxDrawdownPct: z.number(),
  winRatePct: z.number().nullable(),
});
const foldCard = z.object({
  fold: z.number(),
  inSample: z.object({ from: z.string(), to: z.string(), candles: z.number() }),
  outOfSample: z.object({ from: z.string(), to: z.string(), candles: z.number() }),
  chosen: z.object({ parameters, inSample: windowFigures, outOfSample: windowFigures }).nullable(),
  current: z.object({ inSample: windowFigures, outOfSample: windowFigures }),
});
const versionCard = z.object({ version: z.number(), parameters, reason: z.string(), at: z.string() });

const round2 = (value: number) => Math.round(value * 100) / 100;
const roundFigures = (w: z.infer<typeof windowFigures>) => ({
  totalReturnPct: round2(w.totalReturnPct),
  trades: w.trades,
  maxDrawdownPct: round2(w.maxDrawdownPct),
  winRatePct: w.winRatePct === null ? null : round2(w.winRatePct),
});

async function ownBot(ctx: ToolContext, scope: TenantScope, botId: string) {
  const bot = await getBot(ctx.db, scope, botId);
  // Another tenant's bot and a missing one answer alike: its existence is not theirs to learn.
  if (!bot) throw new ToolRefusal('not_found', `No bot ${botId} in this account.`);
  return bot;
}

const versionsOf = async (ctx: ToolContext, scope: TenantScope, botId: string) =>
  (await listBotVersions(ctx.db, scope, botId)).map((v: BotVersion) => ({
    version: v.version,
    parameters: v.parameters,
    reason: v.reason,
    at: v.createdAt.toISOString(),
  }));

const applyNote = (status: string) =>
  status === 'running'
    ? 'The bot is running: it trades with these parameters from its next tick (its indicators recomputed on recent candles); open positions keep their stops.'
    : 'The bot trades with these parameters from its next start.';

const versionWritten = z.object({
  botId: z.string(),
  version: z.number(),
  parameters,
  botRunning: z.boolean(),
  note: z.string(),
  versions: z.array(versionCard),
});

/**
 * A new version of the trader's own bot written by `write` — only when the trader confirmed it
 * (ctx.personConfirmed: the door sets it after a button press; a model's tool call never carries
 * it) — with the bot's versions after it.
 */
async function writeVersion(
  ctx: ToolContext,
  input: { botId: string; email?: string | undefined },
  unconfirmed: string,
  write: (scope: TenantScope, userId: string | null) => Promise<{ version: number; parameters: Record<string, number> }>,
): Promise<z.infer<typeof versionWritten>> {
  if (!ctx.personConfirmed) throw new ToolRefusal('forbidden', unconfirmed);
  const scope = await traderScope(ctx, input.email);
  const bot = await ownBot(ctx, scope, input.botId);
  try {
    const written = await write(scope, ctx.actor.kind === 'trader' ? ctx.actor.userId : null);
    return {
      botId: bot.id,
      version: written.version,
      parameters: written.parameters,
      botRunning: bot.status === 'running',
      note: applyNote(bot.status),
      versions: await versionsOf(ctx, scope, bot.id),
    };
  } catch (error) {
    if (error instanceof StrategyError) throw new ToolRefusal('forbidden', error.message);
    if (error instanceof BotVersionError) throw new ToolRefusal('not_found', error.message);
    throw error;
  }
}

export const botImprovementTools = [
  defineTool({
    name: 'propose_bot_improvement',
    description: "Walk-forward review of a trader's bot on a year of its candles: a change only if it beat the current one out of sample.",
    domain: 'trading',
    effect: 'read',
    access: traderOnly,
    input: z.strictObject({ botId: z.uuid(), email }),
    output: z.object({
      botId: z.string(),
      name: z.string(),
      strategy: z.string(),
      symbol: z.string(),
      timeframe: z.string(),
      candles: z.number(),
      current: parameters,
      proposal: parameters.nullable(),
      reasons: z.array(z.string()),
      chosenOutOfSampleReturnPct: z.number(),
      currentOutOfSampleReturnPct: z.number(),
      foldsBeaten: z.number(),
      folds: z.array(foldCard),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const bot = await ownBot(ctx, scope, input.botId);
      // A review runs a thousand backtests: it counts against the plan's daily backtests like one.
      const quota = await checkBacktestQuota(ctx.db, scope, ctx.now());
      if (!quota.allowed) throw new ToolRefusal('forbidden', quota.reason);
      const timeframe = reviewTimeframe.safeParse(bot.timeframe);
      if (!timeframe.success) throw new ToolRefusal('forbidden', `The bot's timeframe ${bot.timeframe} cannot be reviewed.`);
      const symbol = bot.symbols[0]!;
      const series = await recentCandles(ctx, { symbol, timeframe: timeframe.data, days: IMPROVEMENT_DAYS });
      let current: Record<string, number>;
      try {
        current = parseStrategyParameters(getStrategy(bot.strategyName), bot.parameters);
      } catch (error) {
        if (error instanceof StrategyError) throw new ToolRefusal('forbidden', error.message);
        throw error;
      }
      let result: Awaited<ReturnType<typeof walkForward>>;
      try {
        result = await walkForward(series, {
          strategy: bot.strategyName,
          grid: neighbourhoodGrid(current),
          current,
          folds: FOLDS,
          workers: Math.max(1, Math.min(2, os.availableParallelism())),
        });
      } catch (error) {
        if (error instanceof RangeError)
          throw new ToolRefusal(
            'not_found',
            `Not enough ${bot.timeframe} candles of ${symbol} for a walk-forward review: ${error.message}`,
          );
        throw error;
      }
      const iso = (ms: number) => new Date(ms).toISOString();
      return {
        botId: bot.id,
        name: bot.name,
        strategy: bot.strategyName,
        symbol,
        timeframe: bot.timeframe,
        candles: series.length,
        current,
        proposal: result.proposal,
        reasons: result.reasons,
        chosenOutOfSampleReturnPct: round2(result.chosenOutOfSampleReturnPct),
        currentOutOfSampleReturnPct: round2(result.currentOutOfSampleReturnPct),
        foldsBeaten: result.foldsBeaten,
        folds: result.folds.map((fold) => ({
          fold: fold.fold,
          inSample: { from: iso(fold.inSample.fromMs), to: iso(fold.inSample.toMs), candles: fold.inSample.candles },
          outOfSample: { from: iso(fold.outOfSample.fromMs), to: iso(fold.outOfSample.toMs), candles: fold.outOfSample.candles },
          chosen: fold.chosen
            ? {
                parameters: fold.chosen.parameters,
                inSample: roundFigures(fold.chosen.inSample),
                outOfSample: roundFigures(fold.chosen.outOfSample),
              }
            : null,
          current: { inSample: roundFigures(fold.current.inSample), outOfSample: roundFigures(fold.current.outOfSample) },
        })),
      };
    },
  }),
  defineTool({
    name: 'apply_bot_improvement',
    description: "Set a trader's bot's parameters as a new version (old ones kept), only after the trader confirmed it.",
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({ botId: z.uuid(), parameters, email }),
    output: versionWritten,
    execute: (ctx, input) =>
      writeVersion(ctx, input, 'Changing a bot needs your own confirmation: press "apply".', (scope, userId) =>
        changeBotParameters(ctx.db, scope, {
          botId: input.botId,
          parameters: input.parameters,
          reason: 'walk-forward improvement',
          userId,
        }),
      ),
  }),
  defineTool({
    name: 'rollback_bot_version',
    description: "Restore an earlier version of a trader's bot's parameters as a new version, after the trader confirmed it.",
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({ botId: z.uuid(), version: z.number().int().min(1), email }),
    output: versionWritten,
    execute: (ctx, input) =>
      writeVersion(ctx, input, 'Rolling a bot back needs your own confirmation.', (scope, userId) =>
        rollbackBotVersion(ctx.db, scope, { botId: input.botId, version: input.version, userId }),
      ),
  }),
];
