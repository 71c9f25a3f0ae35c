import crypto from 'node:crypto';
import { z } from 'zod';
import { BillingError, checkBacktestQuota } from '../../billing/index.ts';
import { ProductError } from '../../errors/index.ts';
import {
  getStrategy,
  inferTimeframeMs,
  msToTimeframe,
  parseCandleCsv,
  parseStrategyParameters,
  queueBacktest,
  storeBacktestUpload,
  STRATEGIES,
} from '../../trading/index.ts';
import { traderScope } from '../scope.ts';
import { defineTool } from '../types.ts';

// A backtest on candles the trader brings (the API's POST /backtests with a CSV file) instead of
// the candle cache: the CSV is read by the engine's own loader (a bad line is named, 422 at the
// API), stored beside the queued backtest in the trader's account, and run by the same job as a
// cached one. The plan's backtests a day apply as to any backtest.

/** Uploaded candles too few for the strategy: the data is the problem (422), not the request. */
class UploadTooShortError extends ProductError {
  readonly category = 'bad_data' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UploadTooShortError';
  }
}

/** The arguments as the audit log keeps them: the CSV's size and digest, not the candles. */
function auditedUploadArgs(args: unknown): unknown {
  if (typeof args !== 'object' || args === null || typeof (args as { csv?: unknown }).csv !== 'string') return args;
  const { csv, ...rest } = args as { csv: string } & Record<string, unknown>;
  const bytes = Buffer.from(csv, 'utf8');
  return { ...rest, csv: { bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') } };
}

export const backtestUploadTools = [
  defineTool({
    name: 'submit_backtest_csv',
    description: 'Queue a backtest of a strategy on candles the trader uploads as CSV (plan limits apply).',
    domain: 'trading',
    effect: 'write',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({
      strategy: z.string().refine((name) => STRATEGIES.has(name), { error: `a strategy: ${[...STRATEGIES.keys()].join(', ')}` }),
      /** The strategy's parameters (its defaults for any left out). */
      parameters: z.record(z.string(), z.number()).optional(),
      /** `timestamp,open,high,low,close,volume` rows (ms UTC, the bar's open), an optional header line. */
      csv: z.string().min(1, { error: 'the CSV is empty' }),
      fileName: z.string().max(200).optional().describe('the uploaded file’s name (errors name it)'),
      symbol: z
        .string()
        .regex(/^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/, { error: 'expected a symbol such as BTC/USDT' })
        .optional()
        .describe('what the candles are of, a label (default UPLOAD/CSV)'),
      timeframe: z
        .string()
        .regex(/^[1-9]\d*[mhdw]$/, { error: 'expected a timeframe such as 1m, 5m, 1h, 1d' })
        .optional()
        .describe("the bars' length (default: read from the timestamps)"),
      feeRate: z.number().min(0).max(0.01).default(0.001).describe('fee per side, a fraction (0.001 = 0.1 %)'),
      startingCashQuote: z.number().positive().max(1_000_000_000).default(10_000),
      email: z.email().optional().describe("the trader's email (staff only; traders see their own account)"),
    }),
    output: z.object({
      backtestId: z.string(),
      status: z.enum(['queued']),
      candles: z.number(),
      upload: z.object({ fileName: z.string().nullable(), sizeBytes: z.number(), sha256: z.string() }),
    }),
    auditedArgs: auditedUploadArgs,
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const now = ctx.now();
      const strategy = getStrategy(input.strategy);
      // A wrong parameter is the caller's usage error (StrategyError: usage, 400 at the API).
      const parameters = parseStrategyParameters(strategy, input.parameters ?? {});
      // The engine's loader: a bad line throws CandleDataError naming the file and the line (bad_data, 422).
      const source = input.fileName ?? 'the uploaded CSV';
      const series = parseCandleCsv(input.csv, source);
      const warmup = strategy.warmupBars(parameters);
      if (series.length <= warmup)
        throw new UploadTooShortError(
          `${source} has ${series.length} candles; ${input.strategy} with these parameters needs more than ${warmup}.`,
        );
      const barMs = inferTimeframeMs(series);
      const timeframe = input.timeframe ?? (barMs === undefined ? undefined : msToTimeframe(barMs)) ?? 'csv';
      const quota = await checkBacktestQuota(ctx.db, scope, now);
      // Over the plan's daily quota: a conflict with the plan (409 at the API), as submit_backtest.
      if (!quota.allowed) throw new BillingError(quota.reason);
      const { backtestId, stored } = await ctx.db.transaction(async (tx) => {
        const id = await queueBacktest(
          tx,
          scope,
          {
            strategy: input.strategy,
            parameters,
            symbol: input.symbol ?? 'UPLOAD/CSV',
            timeframe,
            rangeStart: new Date(series.time[0]!),
            rangeEnd: new Date(series.time[series.length - 1]!),
            feeRate: input.feeRate,
            startingCash: input.startingCashQuote,
            ...(ctx.actor.kind === 'system' ? {} : { requestedByUserId: ctx.actor.userId }),
          },
          now,
        );
        const upload = await storeBacktestUpload(tx, scope, id, { csv: input.csv, fileName: input.fileName, candles: series.length });
        return { backtestId: id, stored: upload };
      });
      return {
        backtestId,
        status: 'queued' as const,
        candles: series.length,
        upload: { fileName: input.fileName ?? null, ...stored },
      };
    },
  }),
];
