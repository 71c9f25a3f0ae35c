import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { InProcessJobs, type Jobs } from '../../jobs/index.ts';
import { resultJson, type ToolName } from '../../tools/index.ts';
import { runQueuedBacktest } from '../../trading/index.ts';
import { API_BASE_PATH, type ApiDependencies, type ApiEnv } from './app.ts';
import { registerBillingRoutes } from './billing-routes.ts';
import { apiError, apiErrorSchema, errorResponses, notFoundResponse } from './errors.ts';
import { DEFAULT_API_LIMITS } from './hardening.ts';
import { idempotencyHeaders } from './idempotency.ts';

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
  // A CSV of the trader's own candles instead of the cache: multipart/form-data with the file.
  const backtestUpload = z
    .object({
      file: z.instanceof(File, { error: 'expected a file: the candles as CSV' }).openapi({
        type: 'string',
        format: 'binary',
        description:
          'The candles as CSV: `timestamp,open,high,low,close,volume` (timestamp in ms UTC, the bar’s open; the header line optional), times strictly increasing. A bad line is answered 422 naming it.',
      }),
      strategy: z.string().openapi({ description: 'a strategy (GET /strategies)', example: 'rsi' }),
      parameters: z.string().optional().openapi({
        description: "the strategy's parameters as a JSON object of numbers (its defaults for any left out)",
        example: '{"rsiPeriod":14}',
      }),
      symbol: z.string().optional().openapi({ description: 'what the candles are of, a label such as BTC/USDT (default UPLOAD/CSV)' }),
      timeframe: z.string().optional().openapi({ description: "the bars' length such as 1h (default: read from the timestamps)" }),
      feeRate: z.coerce.number().optional().openapi({ description: 'fee per side, a fraction (default 0.001)' }),
      startingCashQuote: z.coerce.number().optional().openapi({ description: 'default 10000' }),
      email: z.string().optional().openapi({ description: "staff: the trader whose backtest it is (a trader's is always their own)" }),
    })
    .openapi('NewBacktestUpload', {
      description: `The same backtest on candles you upload (at most ${DEFAULT_API_LIMITS.maxUploadBytes / 1024 / 1024} MiB unless the server says otherwise); only you (and staff who may) can read it.`,
    });
  api.use('/backtests', kit.requirePerson);
  api.use('/backtests/*', kit.requirePerson);
  api.openapi(
    createRoute({
      method: 'post',
      path: '/backtests',
      tags: ['trading'],
      summary: 'Queue a backtest on cached candles or on an uploaded CSV (plan quota applies); 202 with its id',
      description:
        "JSON: the submit_backtest tool on the candle cache (within the plan's quota, what it lacks of the range is downloaded first when the server reads the exchange, as for Telegram's /backtest). multipart/form-data with a `file`: the submit_backtest_csv tool on the CSV's candles, read by the engine's own loader and kept beside the backtest in the trader's account (never in the shared cache; nobody else can read them or the backtest). Either is stored queued (counted against the plan's backtests a day at once) and a job runs it. Poll GET /backtests/{id} until `status` is succeeded or failed. A JSON body is capped at the API's body limit; an upload has its own (50 MiB by default), 413 beyond it.",
      security: [{ session: [] }],
      request: {
        headers: idempotencyHeaders,
        body: {
          content: {
            'application/json': { schema: newBacktestBody },
            'multipart/form-data': { schema: backtestUpload },
          },
          // One of the two; each is validated when it is the request's Content-Type.
          required: false,
        },
      },
      responses: {
        202: {
          description: 'Queued; Location names where its result will be.',
          headers: { Location: { schema: { type: 'string' }, description: '/api/v1/backtests/{id}' } },
          content: {
            'application/json': {
              schema: z.union([
                queuedBacktest.openapi('QueuedBacktest'),
                toolOutput('submit_backtest_csv').openapi('QueuedUploadBacktest'),
              ]),
            },
          },
        },
        ...errorResponses,
        404: { description: 'Not enough cached candles for the range.', content: { 'application/json': { schema: apiErrorSchema } } },
        409: {
          description: "The plan's backtests a day are used up (the message names the plan that allows more).",
          content: { 'application/json': { schema: apiErrorSchema } },
        },
        413: { description: 'The upload (or the JSON body) is over its cap.', content: { 'application/json': { schema: apiErrorSchema } } },
        422: {
          description:
            "The uploaded CSV is not candles the engine accepts (the message names the file's line), or too few for the strategy.",
          content: { 'application/json': { schema: apiErrorSchema } },
        },
      },
    }),
    (async (
      c: Context<ApiEnv, string, { out: { json: Record<string, unknown>; form: z.infer<typeof backtestUpload> | Record<string, never> } }>,
    ) => {
      const contentType = c.req.header('content-type') ?? '';
      let queued: { backtestId: string };
      if (/^multipart\/form-data/i.test(contentType)) {
        const { file, parameters, ...fields } = c.req.valid('form') as z.infer<typeof backtestUpload>;
        let parsedParameters: unknown;
        try {
          parsedParameters = parameters === undefined ? undefined : JSON.parse(parameters);
        } catch {
          parsedParameters = parameters;
        }
        if (
          parsedParameters !== undefined &&
          (typeof parsedParameters !== 'object' || parsedParameters === null || Array.isArray(parsedParameters))
        )
          return apiError(c, 'usage', 'Invalid form: parameters: expected a JSON object of numbers, such as {"rsiPeriod":14}', [
            { field: 'parameters', message: 'expected a JSON object of numbers' },
          ]);
        const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''));
        queued = await callTool(c, 'submit_backtest_csv', {
          ...defined,
          ...(parsedParameters === undefined ? {} : { parameters: parsedParameters }),
          csv: await file.text(),
          ...(file.name ? { fileName: file.name.slice(0, 200) } : {}),
        });
      } else if (/^application\/([a-z-.]+\+)?json/i.test(contentType)) {
        queued = await callTool(c, 'submit_backtest', c.req.valid('json'));
      } else {
        return apiError(
          c,
          'usage',
          'Send the backtest as application/json (cached candles) or as multipart/form-data with a CSV `file` (your own candles).',
        );
      }
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
      const answer = await callTool(c, 'market_candles', { ...query, indicators: indicators ? indicators.split(',') : [] });
      // A chart kept in memory is the same answer each time: its JSON is written once.
      return c.body(resultJson(answer), 200, { 'content-type': 'application/json' });
    }) as never,
  );
  // POST /billing/checkout and /billing/portal (server/api/billing-routes.ts).
  registerBillingRoutes(kit);
  return { jobs };
}
