import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  assistantCall,
  assistantModel,
  detectLocale,
  draftBacktestCurves,
  draftFromWords,
  notADescriptionHint,
  routeTraderWords,
  type AssistantRuntime,
  type AssistantTool,
} from '../../agents/index.ts';
import type { ToolOutcome } from '../../tools/index.ts';
import type { ApiEnv } from './app.ts';
import { idempotencyHeaders } from './idempotency.ts';
import { apiErrorSchema, errorResponses, notFoundResponse, ToolCallRefused, toolRefusalCategory } from './errors.ts';
import type { ApiRouteKit } from './trader-routes.ts';

// The trader's assistant on the web (issue 22): the same agent as on Telegram
// (agents/assistant.ts), behind HTTP. A trader's words go through the same routing as
// Telegram's free text (routeTraderWords → draftRoute: a new draft, a change to the open one,
// or not a bot), and every action is one of the assistant's tools called as the signed-in
// trader, so the rules (ranges, plan limits, the backtest before the start, paper only) are
// the tools' and nothing here restates them. The assistant serves traders only: staff get 403
// from the assistant itself (AssistantError). "Start on paper" passes `confirmed` only when the
// body says `{"confirm": true}` — the person's button press in the dashboard.

const draftParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "the draft's id" }) });
const wordsBody = z
  .object({
    text: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .openapi({ description: "the trader's words", example: 'quero um robô RSI no BTC de 1h com 100 USDT' }),
  })
  .openapi('AssistantWords');
const startBody = z
  .object({
    confirm: z.boolean().optional().openapi({
      description:
        'true: the trader pressed "Start on paper" themselves. Without it nothing starts (403). The bot is created in paper mode (simulated money), never live.',
    }),
  })
  .openapi('StartDraftOnPaper');

export function registerAssistantRoutes(kit: ApiRouteKit): void {
  const { api, deps, now, toolOutput } = kit;
  api.use('/assistant/*', kit.requirePerson);

  /** The assistant as the signed-in person, with the model when one answers now (it only fills what the words left open). */
  async function runtime(withModel = false): Promise<AssistantRuntime> {
    const ctx = {
      db: deps.db,
      billing: deps.billing,
      now,
      trading: deps.trading,
      operations: deps.operations,
      marketData: deps.marketData,
    };
    return { ctx, model: withModel ? await assistantModel(deps.agents?.gateway) : undefined };
  }

  /** A tool's result, or its refusal as that kind of API error (as app.ts's actTool). */
  function resultOf<T>(outcome: ToolOutcome, tool: string): T {
    if (!outcome.ok) {
      const category = toolRefusalCategory(outcome);
      if (category === 'internal') throw new Error(`${tool}: ${outcome.message}`);
      throw new ToolCallRefused(category, outcome.message.replace(`${tool} failed: `, ''));
    }
    if (!('result' in outcome)) throw new ToolCallRefused('conflict', outcome.message);
    return outcome.result as T;
  }

  async function call<T>(c: Context<ApiEnv>, tool: AssistantTool, args: Record<string, unknown>, confirmed = false): Promise<T> {
    return resultOf<T>(await assistantCall(await runtime(), c.get('actor'), tool, args, { confirmed }), tool);
  }

  const draftResult = toolOutput('bot_draft');
  const card = (draftResult as unknown as z.ZodObject<{ draft: z.ZodNullable<z.ZodType> }>).shape.draft.unwrap();
  const draftAnswer = toolOutput('backtest_draft');

  // --- POST /assistant/messages ---------------------------------------------------------

  const replySchema = z
    .object({
      kind: z.enum(['new', 'change', 'none']).openapi({
        description: 'new: the words described a bot (a new draft); change: they changed the open draft; none: not a bot description',
      }),
      draft: card.nullable().openapi({ description: 'the draft card: fields, questions, assumptions, what may come next' }),
      hint: z.string().nullable().openapi({ description: 'kind none: what to write instead, in the words’ language' }),
    })
    .openapi('AssistantReply');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/assistant/messages',
      tags: ['assistant'],
      summary: "Words to the trader's assistant: a bot described becomes a draft, more words change the open one",
      description:
        'The routing Telegram uses for a linked trader\'s free text: a bot described ("quero um robô RSI no BTC de 1h com 100 USDT") becomes a new draft (draft_bot_from_text); an answer to the open draft\'s questions or a change ("stop de 2 %") changes it (change_bot_draft); anything else is `none` with a hint. Traders only.',
      security: [{ session: [] }],
      request: { body: { content: { 'application/json': { schema: wordsBody } }, required: true } },
      responses: {
        200: { description: 'What the assistant made of the words.', content: { 'application/json': { schema: replySchema } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof wordsBody> } }>) => {
      const { text } = c.req.valid('json');
      const actor = c.get('actor');
      const route = await routeTraderWords(await runtime(), actor, text);
      if (!route) return c.json({ kind: 'none' as const, draft: null, hint: notADescriptionHint(detectLocale(text)) });
      const outcome =
        route.kind === 'new'
          ? await draftFromWords(await runtime(true), actor, text)
          : await assistantCall(await runtime(), actor, 'change_bot_draft', { draftId: route.draftId, text: route.text });
      const tool = route.kind === 'new' ? 'draft_bot_from_text' : 'change_bot_draft';
      const { draft } = resultOf<{ draft: unknown }>(outcome, tool);
      return c.json({ kind: route.kind, draft, hint: null });
    }) as never,
  );

  // --- GET /assistant/draft, GET /assistant/drafts/{id} ----------------------------------

  api.openapi(
    createRoute({
      method: 'get',
      path: '/assistant/draft',
      tags: ['assistant'],
      summary: "The trader's newest open bot draft (null when none)",
      security: [{ session: [] }],
      responses: {
        200: { description: 'The open draft, or null.', content: { 'application/json': { schema: draftResult.openapi('OpenBotDraft') } } },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => c.json(await call(c, 'bot_draft', {}))) as never,
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/assistant/drafts/{id}',
      tags: ['assistant'],
      summary: 'One of the trader’s bot drafts: fields, questions, backtest figures',
      description: "The bot_draft tool; another trader's draft is not found.",
      security: [{ session: [] }],
      request: { params: draftParams },
      responses: {
        200: { description: 'The draft.', content: { 'application/json': { schema: draftAnswer.openapi('BotDraft') } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof draftParams> } }>) =>
      c.json(await call(c, 'bot_draft', { draftId: c.req.valid('param').id }))) as never,
  );

  // --- POST /assistant/drafts/{id}/change ------------------------------------------------

  api.openapi(
    createRoute({
      method: 'post',
      path: '/assistant/drafts/{id}/change',
      tags: ['assistant'],
      summary: 'Change an open draft with more words ("stop de 2 %", "200 USDT", "no ETH")',
      description:
        'The change_bot_draft tool (the card’s Change button): the words win over what the draft had; a changed draft needs a new backtest.',
      security: [{ session: [] }],
      request: { params: draftParams, body: { content: { 'application/json': { schema: wordsBody } }, required: true } },
      responses: {
        200: { description: 'The changed draft.', content: { 'application/json': { schema: draftAnswer } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof draftParams>; json: z.infer<typeof wordsBody> } }>) =>
      c.json(await call(c, 'change_bot_draft', { draftId: c.req.valid('param').id, text: c.req.valid('json').text }))) as never,
  );

  // --- POST /assistant/drafts/{id}/backtest, GET /assistant/drafts/{id}/curves -----------

  const point = z.object({ time: z.string(), equityQuote: z.number() });
  const curvesSchema = z
    .object({
      backtestId: z.string(),
      symbol: z.string(),
      timeframe: z.string(),
      quote: z.string(),
      startQuote: z.number().openapi({ description: 'the starting cash both lines start from' }),
      strategy: z.array(point).openapi({ description: "the backtest's equity (at most 500 points)" }),
      buyAndHold: z.array(point).openapi({ description: 'the same cash holding the coin from the first candle (no fees)' }),
    })
    .openapi('DraftBacktestCurves');
  const curvesList = z.array(curvesSchema).openapi({ description: 'per pair: equity beside buy-and-hold, as data for a chart' });
  const backtestAnswer = z.object({ draft: card, curves: curvesList }).openapi('DraftBacktest');

  /** The curves of the backtests a draft's card shows, read in the signed-in trader's scope. */
  async function curvesOf(c: Context<ApiEnv>, draft: { backtests: { backtestId: string }[] | null }) {
    const assistant = await runtime();
    const curves = [];
    for (const b of draft.backtests ?? []) curves.push(await draftBacktestCurves(assistant, c.get('actor'), b.backtestId));
    return curves;
  }

  api.openapi(
    createRoute({
      method: 'post',
      path: '/assistant/drafts/{id}/backtest',
      tags: ['assistant'],
      summary: 'Backtest a complete draft on the last year of cached candles, beside buy-and-hold',
      description:
        "The backtest_draft tool (counted against the plan's daily backtests): the figures in the card's `backtests`, and each pair's equity curve beside holding the coin. What the cache lacks of the year is downloaded first when the server reads the exchange; a cache still short of it runs what it holds and names what is missing.",
      security: [{ session: [] }],
      request: { params: draftParams, headers: idempotencyHeaders },
      responses: {
        200: { description: 'The draft with its backtest.', content: { 'application/json': { schema: backtestAnswer } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof draftParams> } }>) => {
      const result = await call<{ draft: { backtests: { backtestId: string }[] | null } }>(c, 'backtest_draft', {
        draftId: c.req.valid('param').id,
      });
      return c.json({ draft: result.draft, curves: await curvesOf(c, result.draft) });
    }) as never,
  );

  const curvesAnswer = z.object({ curves: curvesList }).openapi('BotDraftCurves');
  api.openapi(
    createRoute({
      method: 'get',
      path: '/assistant/drafts/{id}/curves',
      tags: ['assistant'],
      summary: 'The equity beside buy-and-hold of the backtests a draft’s card shows (nothing is run again)',
      description:
        "The curves POST /assistant/drafts/{id}/backtest answered, read again from the stored backtests (a page opened later draws the chart without spending a backtest); empty when the draft has none. Another trader's draft is not found.",
      security: [{ session: [] }],
      request: { params: draftParams },
      responses: {
        200: { description: "The draft's curves.", content: { 'application/json': { schema: curvesAnswer } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof draftParams> } }>) => {
      const { draft } = await call<{ draft: { backtests: { backtestId: string }[] | null } }>(c, 'bot_draft', {
        draftId: c.req.valid('param').id,
      });
      return c.json({ curves: await curvesOf(c, draft) });
    }) as never,
  );

  // --- POST /assistant/drafts/{id}/start -------------------------------------------------

  api.openapi(
    createRoute({
      method: 'post',
      path: '/assistant/drafts/{id}/start',
      tags: ['assistant'],
      summary: 'Start a backtested draft as a PAPER bot, on the trader’s own confirmation',
      description:
        'The start_draft_on_paper tool. Only with `{"confirm": true}` (the trader\'s press of "Start on paper"); without it 403 and nothing starts. After a backtest of the current settings, within the plan (running bots, pairs: the refusal names the plan that allows it) and a backtest drawdown of at most 30 %. Always paper mode; going live is a separate step. One bot per draft; send an Idempotency-Key to make a retry safe.',
      security: [{ session: [] }],
      request: {
        params: draftParams,
        headers: idempotencyHeaders,
        body: { content: { 'application/json': { schema: startBody } }, required: false },
      },
      responses: {
        200: {
          description: 'The paper bot, started.',
          content: { 'application/json': { schema: toolOutput('start_draft_on_paper').openapi('DraftStarted') } },
        },
        ...errorResponses,
        ...notFoundResponse,
        403: {
          description:
            'Not started: no `confirm`, no backtest of the current settings, a drawdown over 30 %, or the plan (its words name the plan that allows it); or not a trader.',
          content: { 'application/json': { schema: apiErrorSchema } },
        },
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof draftParams>; json: z.infer<typeof startBody> | undefined } }>) => {
      const confirmed = c.req.valid('json')?.confirm === true;
      return c.json(await call(c, 'start_draft_on_paper', { draftId: c.req.valid('param').id }, confirmed));
    }) as never,
  );

  // --- POST /assistant/drafts/{id}/discard -----------------------------------------------

  api.openapi(
    createRoute({
      method: 'post',
      path: '/assistant/drafts/{id}/discard',
      tags: ['assistant'],
      summary: 'Discard an open draft',
      security: [{ session: [] }],
      request: { params: draftParams },
      responses: {
        200: { description: 'The discarded draft.', content: { 'application/json': { schema: draftAnswer } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof draftParams> } }>) =>
      c.json(await call(c, 'discard_draft', { draftId: c.req.valid('param').id }))) as never,
  );
}
