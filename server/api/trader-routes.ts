import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { InProcessJobs, type Jobs } from '../../jobs/index.ts';
import type { ToolName } from '../../tools/index.ts';
import { runQueuedBacktest } from '../../trading/index.ts';
import { API_BASE_PATH, type ApiDependencies, type ApiEnv } from './app.ts';
import { registerBillingRoutes } from './billing-routes.ts';
import { apiErrorSchema, errorResponses, notFoundResponse } from './errors.ts';

// The trader routes added for issue 16's second half: a bot's trades, backtests as jobs,
// candles with indicators. Each answer is a tool call as the signed-in person, as in app.ts.

/** What app.ts's createApi hands the route groups declared in other files. */
export interface ApiRouteKit {
  readonly api: OpenAPIHono<ApiEnv>;
  readonly deps: ApiDependencies;
  readonly now: () => Date;
  readonly requirePerson: MiddlewareHandler<ApiEnv>;
  callTool<T>(c: Context<ApiEnv>, tool: ToolName, args: Record<string, unknown>): Promise<T>;
  toolOutput(tool: ToolName): z.ZodType;
  toolInput(tool: ToolName): z.ZodType;
}

const botParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "the bot's id" }) });

/** The job that runs a backtest queued by POST /backtests. */
export const BACKTEST_JOB = 'run-backtest';

/**
 * The trader routes. `jobs`: where queued backtests run (BullMQ with Redis, shared by the
 * workers); without it, a job runner in this process.
 */
export function registerTraderRoutes(kit: ApiRouteKit, options: { jobs?: Jobs | undefined } = {}): { jobs: Jobs } {
  const { api, callTool, toolInput, toolOutput } = kit;
  const jobs = options.jobs ?? new InProcessJobs();
  jobs.work(
    'backtests',
    async (job) => {
      const { backtestId } = job.data as { backtestId: string };
      const outcome = await runQueuedBacktest(kit.deps.db, backtestId, kit.now);
      if (outcome === 'failed') kit.deps.logger.warn({ backtestId }, 'a queued backtest failed (its error is stored with it)');
    },
    { concurrency: 1 },
  );

  // --- GET /bots/{id}/trades (requirePerson: app.ts's /bots/* guard) ----------------------

  const tradesQuery = z.object({
    status: z.enum(['open', 'closed']).optional().openapi({ description: 'only open or only closed trades' }),
    limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ description: 'at most this many trades, newest first' }),
    before: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "only trades opened before this instant: the previous page's `nextBefore`" }),
  });
  api.openapi(
    createRoute({
      method: 'get',
      path: '/bots/{id}/trades',
      tags: ['trading'],
      summary: "One bot's trades, newest first (paged with `before`)",
      description: 'The list_bot_trades tool: only a bot of the signed-in trader (staff: any trader’s, by the policy).',
      security: [{ session: [] }],
      request: { params: botParams, query: tradesQuery },
      responses: {
        200: {
          description: "The bot's trades.",
          content: { 'application/json': { schema: toolOutput('list_bot_trades').openapi('BotTrades') } },
        },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof botParams>; query: z.infer<typeof tradesQuery> } }>) => {
      const { id } = c.req.valid('param');
      const query = c.req.valid('query');
      return c.json(await callTool(c, 'list_bot_trades', { botId: id, ...query }));
    }) as never,
  );

  // --- POST /backtests, GET /backtests/{id} ------------------------------------------------

  const newBacktestBody = toolInput('submit_backtest').openapi('NewBacktest', {
    description:
      'Strategy (GET /strategies) and its parameters, a symbol and timeframe in the candle cache, the range (default: the 30 days before `to`, which defaults to now).',
  });
  const queuedBacktest = toolOutput('submit_backtest');
  api.use('/backtests', kit.requirePerson);
  api.use('/backtests/*', kit.requirePerson);
  api.openapi(
    createRoute({
      method: 'post',
      path: '/backtests',
      tags: ['trading'],
      summary: 'Queue a backtest on cached candles (plan quota applies); 202 with its id',
      description:
        "The submit_backtest tool stores it queued (counted against the plan's backtests a day at once); a job runs it. Poll GET /backtests/{id} until `status` is succeeded or failed.",
      security: [{ session: [] }],
      request: { body: { content: { 'application/json': { schema: newBacktestBody } }, required: true } },
      responses: {
        202: {
          description: 'Queued; Location names where its result will be.',
          headers: { Location: { schema: { type: 'string' }, description: '/api/v1/backtests/{id}' } },
          content: { 'application/json': { schema: queuedBacktest.openapi('QueuedBacktest') } },
        },
        ...errorResponses,
        404: { description: 'Not enough cached candles for the range.', content: { 'application/json': { schema: apiErrorSchema } } },
        409: {
          description: "The plan's backtests a day are used up (the message names the plan that allows more).",
          content: { 'application/json': { schema: apiErrorSchema } },
        },
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: Record<string, unknown> } }>) => {
      const queued = await callTool<{ backtestId: string; status: 'queued'; candles: number }>(c, 'submit_backtest', c.req.valid('json'));
      await jobs.add('backtests', BACKTEST_JOB, { backtestId: queued.backtestId }, { jobId: `backtest-${queued.backtestId}` });
      c.header('Location', `${API_BASE_PATH}/backtests/${queued.backtestId}`);
      return c.json(queued, 202);
    }) as never,
  );

  const backtestParams = z.object({
    id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "the backtest's id (POST /backtests)" }),
  });
  api.openapi(
    createRoute({
      method: 'get',
      path: '/backtests/{id}',
      tags: ['trading'],
      summary: 'A backtest: status, and once it succeeded its metrics, trades and equity curve',
      security: [{ session: [] }],
      request: { params: backtestParams },
      responses: {
        200: {
          description: 'The backtest.',
          content: { 'application/json': { schema: toolOutput('backtest_result').openapi('Backtest') } },
        },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof backtestParams> } }>) => {
      return c.json(await callTool(c, 'backtest_result', { backtestId: c.req.valid('param').id }));
    }) as never,
  );

  // --- GET /candles ---------------------------------------------------------------------

  const candlesQuery = z.object({
    symbol: z
      .string()
      .regex(/^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/, { error: 'expected a symbol such as BTC/USDT' })
      .openapi({ example: 'BTC/USDT' }),
    timeframe: z.enum(['1m', '5m', '15m', '1h', '4h', '1d']),
    from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'first bar (default: 500 bars before `to`)' }),
    to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'last bar (default: now)' }),
    indicators: z
      .string()
      .regex(/^(rsi|macd|bollinger)(,(rsi|macd|bollinger))*$/, { error: 'a comma-separated list of rsi, macd, bollinger' })
      .optional()
      .openapi({
        description: 'RSI(14), MACD(12, 26, 9), Bollinger(20, 2), seeded on the 200 cached bars before the range',
        example: 'rsi,macd',
      }),
  });
  api.use('/candles', kit.requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/candles',
      tags: ['market data'],
      summary: 'Cached candles of a symbol over a range (at most 5,000), with RSI, MACD or Bollinger bands on request',
      description:
        'The market_candles tool, on the candle cache (`botcriptofy data download` fills it). An indicator value not yet defined is null.',
      security: [{ session: [] }],
      request: { query: candlesQuery },
      responses: {
        200: {
          description: 'Candles and indicators.',
          content: { 'application/json': { schema: toolOutput('market_candles').openapi('Candles') } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof candlesQuery> } }>) => {
      const { indicators, ...query } = c.req.valid('query');
      return c.json(await callTool(c, 'market_candles', { ...query, indicators: indicators ? indicators.split(',') : [] }));
    }) as never,
  );
  // POST /billing/checkout and /billing/portal (server/api/billing-routes.ts).
  registerBillingRoutes(kit);
  return { jobs };
}
