import type { Mastra } from '@mastra/core';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { tenantScope } from '../db/index.ts';
import { traderUser } from '../identity/index.ts';
import { PAPER_PERIOD_DAYS, paperReady, reviewFlags, runningBotReviewFigures } from '../trading/index.ts';
import type { WorkflowDeps } from './deps.ts';
import { notify } from './notify.ts';
import { runOnce, type RunOutcome } from './runs.ts';

// bot-review (issue 22, items 3 and 4): once a day, every running bot's figures without a
// model — realised drawdown against its backtest's, losing streak, a stale market feed,
// repeated order failures, a last 30 days outside the range its backtest made over any 30 days
// (trading/review.ts) — and one digest per trader (`bot_review`, in their language), listing
// the flagged bots with a suggested action and counting the rest. A paper bot of the
// assistant's that ran its paper period (`paperDays`, default 7) with nothing flagged is listed
// with its results as a suggestion to go live — only a suggestion: live starts by the trader's
// own confirmation on the existing path. It changes nothing: any action is the trader's (the
// risk gate's own pauses stay its own).
//
//   figures ─ digest
//
// One run per UTC day (`bot-review:2026-11-01`); each digest has a dedupe key per day and
// trader, so a resumed or repeated run queues nothing twice.

export const BOT_REVIEW = 'bot-review';
/** A digest lists at most this many flagged bots (the payload's limit); the rest are counted. */
const MAX_LISTED = 100;
/** A digest suggests live for at most this many paper bots. */
const MAX_READY = 20;

const inputSchema = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  asOf: z.string(),
  /** Days on paper before live is suggested. */
  paperDays: z.number().int().min(1).max(365).default(PAPER_PERIOD_DAYS),
});
const flag = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('drawdown'), drawdownPct: z.number(), backtestDrawdownPct: z.number() }),
  z.object({ kind: z.literal('losing_streak'), trades: z.number() }),
  z.object({ kind: z.literal('stale_feed'), symbols: z.array(z.string()) }),
  z.object({ kind: z.literal('order_failures'), orders: z.number() }),
  z.object({ kind: z.literal('outside_backtest'), returnPct: z.number(), lowPct: z.number(), highPct: z.number() }),
]);
const reviewedBot = z.object({
  botId: z.string(),
  tenantId: z.string(),
  name: z.string(),
  flags: z.array(flag),
  paperReady: z
    .object({ days: z.number(), trades: z.number(), returnPct: z.number(), backtestReturnPct: z.number().nullable() })
    .nullable(),
});
const figuresSchema = inputSchema.extend({ bots: z.array(reviewedBot) });
const outputSchema = z.object({
  day: z.string(),
  reviewedBots: z.number(),
  flaggedBots: z.number(),
  digests: z.number(),
  /** Tenants whose trader could not be found (no user): nobody to tell. */
  unreachable: z.number(),
});
export type BotReviewOutput = z.infer<typeof outputSchema>;

export function createBotReviewWorkflow(deps: WorkflowDeps) {
  const figures = createStep({
    id: 'figures',
    description: "every running bot's figures and flags (no model)",
    inputSchema,
    outputSchema: figuresSchema,
    execute: async ({ inputData }) => {
      const all = await runningBotReviewFigures(deps.db, new Date(inputData.asOf));
      return {
        ...inputData,
        bots: all.map((f) => {
          const flags = reviewFlags(f);
          return {
            botId: f.botId,
            tenantId: f.tenantId,
            name: f.name,
            flags: flags.map((x) => (x.kind === 'stale_feed' ? { ...x, symbols: [...x.symbols] } : x)),
            paperReady: paperReady(f, flags, inputData.paperDays),
          };
        }),
      };
    },
  });

  const digest = createStep({
    id: 'digest',
    description: 'one digest per trader with running bots (once per day)',
    inputSchema: figuresSchema,
    outputSchema,
    execute: async ({ inputData }) => {
      const byTenant = new Map<string, z.infer<typeof reviewedBot>[]>();
      for (const bot of inputData.bots) byTenant.set(bot.tenantId, [...(byTenant.get(bot.tenantId) ?? []), bot]);
      let digests = 0;
      let unreachable = 0;
      for (const [tenantId, bots] of byTenant) {
        const trader = await traderUser(deps.db, tenantScope(tenantId));
        if (!trader) {
          unreachable++;
          continue;
        }
        const flagged = bots.filter((b) => b.flags.length > 0);
        const ready = bots.filter((b) => b.paperReady !== null);
        await notify(deps.db, {
          tenantId,
          to: { userId: trader.userId },
          type: 'bot_review',
          payload: {
            day: inputData.day,
            bots: flagged.slice(0, MAX_LISTED).map((b) => ({
              botId: b.botId,
              botName: b.name,
              flags: b.flags.map((f) =>
                f.kind === 'drawdown'
                  ? { ...f, drawdownPct: String(f.drawdownPct), backtestDrawdownPct: String(f.backtestDrawdownPct) }
                  : f.kind === 'outside_backtest'
                    ? { ...f, returnPct: String(f.returnPct), lowPct: String(f.lowPct), highPct: String(f.highPct) }
                    : f,
              ),
            })),
            fine: bots.length - Math.min(flagged.length, MAX_LISTED),
            ...(ready.length > 0
              ? {
                  paperReady: ready.slice(0, MAX_READY).map((b) => ({
                    botId: b.botId,
                    botName: b.name,
                    days: b.paperReady!.days,
                    trades: b.paperReady!.trades,
                    returnPct: String(b.paperReady!.returnPct),
                    ...(b.paperReady!.backtestReturnPct === null ? {} : { backtestReturnPct: String(b.paperReady!.backtestReturnPct) }),
                  })),
                }
              : {}),
          },
          dedupeKey: `${BOT_REVIEW}:${inputData.day}:${tenantId}`,
        });
        digests++;
      }
      return {
        day: inputData.day,
        reviewedBots: inputData.bots.length,
        flaggedBots: inputData.bots.filter((b) => b.flags.length > 0).length,
        digests,
        unreachable,
      };
    },
  });

  return createWorkflow({
    id: BOT_REVIEW,
    description: 'Daily review of running bots → one digest per trader (figures only, no model, no action taken)',
    inputSchema,
    outputSchema,
  })
    .then(figures)
    .then(digest)
    .commit();
}

/** Reviews the running bots of the UTC day of `asOf`, once per day; `paperDays` before live is suggested (default 7). */
export function runBotReview(mastra: Mastra, asOf: Date, options: { paperDays?: number } = {}): Promise<RunOutcome<BotReviewOutput>> {
  const day = asOf.toISOString().slice(0, 10);
  return runOnce<BotReviewOutput>(mastra, BOT_REVIEW, {
    runId: `${BOT_REVIEW}:${day}`,
    inputData: { day, asOf: asOf.toISOString(), paperDays: options.paperDays ?? PAPER_PERIOD_DAYS },
  });
}
