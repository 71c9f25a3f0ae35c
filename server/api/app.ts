import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { MIN_PASSWORD_LENGTH, type Accounts, type SessionPerson } from '../../accounts/index.ts';
import type { BillingService } from '../../billing/index.ts';
import type { Database } from '../../db/index.ts';
import { locales } from '../../i18n/index.ts';
import {
  TOOLS,
  TOOL_NAMES,
  actorForEmail,
  mayCall,
  mayDecide,
  forceExitResultSchema,
  invokeTool,
  type Actor,
  type ForceExitResult,
  type OperationsAccess,
  type ToolContext,
  type ToolName,
  type TradingAccess,
} from '../../tools/index.ts';
import { askableAgents, type AgentRuntime } from '../../agents/index.ts';
import { STRATEGIES, type MarketDataSource } from '../../trading/index.ts';
import type { Logger, Metrics } from '../../observability/index.ts';
import {
  apiError,
  apiErrorSchema,
  errorResponse,
  errorResponses,
  notFoundResponse,
  toolRefusalCategory,
  ToolCallRefused,
  validationError,
  type ApiErrorCategory,
} from './errors.ts';
import { SESSION_OR_KEY, apiKeySecurityScheme, registerAccountSecurityRoutes } from './account-security.ts';
import type { Jobs } from '../../jobs/index.ts';
import { apiHardening, type ApiLimits } from './hardening.ts';
import { idempotency, idempotencyHeaders } from './idempotency.ts';
import { registerDocumentRoutes } from './document-routes.ts';
import { registerPrivacyRoutes } from './privacy-routes.ts';
import { registerTraderRoutes } from './trader-routes.ts';
import { registerAssistantRoutes } from './assistant-routes.ts';
import { registerEventRoutes } from './events.ts';
import { LiveEvents } from './live-events.ts';
import { registerStaffRoutes } from './staff-routes.ts';

// /api/v1 (issue 16): every route declared with zod request and response schemas, from which
// the OpenAPI 3.1 document at /api/v1/openapi.json is generated. A route reads nothing itself:
// the signed-in person (Better-Auth's session cookie) becomes the tool layer's actor, and each
// answer is a tool call (invokeTool), so RBAC, trader scope and audit are the agents' and
// Telegram's code path. The only exceptions are facts that are code, not data: the strategy
// catalogue.

export const API_BASE_PATH = '/api/v1';
export const OPENAPI_PATH = `${API_BASE_PATH}/openapi.json`;

export interface ApiDependencies {
  readonly db: Database;
  readonly accounts: Accounts;
  readonly billing: BillingService;
  /** How force_exit and the like reach an exchange (not needed by the read routes). */
  readonly trading?: TradingAccess;
  readonly logger: Logger;
  /** The process's metrics (GET /events counts its clients and events); absent: not counted. */
  readonly metrics?: Metrics | undefined;
  readonly now?: () => Date;
  /** Rate limits, body cap, CORS origins (defaults in server/api/hardening.ts). */
  readonly limits?: ApiLimits | undefined;
  /** Where POST /backtests runs its jobs (the `backtests` queue); absent: a job runner in this process. */
  readonly jobs?: Jobs | undefined;
  /** What GET /events streams (server/api/live-events.ts); absent: a hub on this database and the system clock. */
  readonly liveEvents?: LiveEvents | undefined;
  /**
   * Takes what must run when the process stops, before its database closes (the live events'
   * readers); `start` calls them after the HTTP server closed. Absent: nothing is handed over.
   */
  readonly onShutdown?: ((stop: () => Promise<void>) => void) | undefined;
  /** The database's notice that another process queued a notification (PostgreSQL LISTEN); absent: GET /events polls for them. */
  readonly listenForQueuedNotifications?: ((onQueued: () => void) => Promise<() => Promise<void>>) | undefined;
  /** The agents (POST /agents/{agent}/ask) and their Mastra (the executive report's workflow); absent: those routes answer 503. */
  readonly agents?: AgentRuntime | undefined;
  /** The deployment's status for the system_status tool (GET /status); absent: 503. */
  readonly operations?: OperationsAccess | undefined;
  /**
   * Where backtests (POST /backtests, a draft's backtest, an agent's run_backtest) download the
   * candles the cache lacks, within the plan's limits as the tools apply them; absent: the cache alone.
   */
  readonly marketData?: MarketDataSource | undefined;
}

interface PendingApproval {
  readonly id: string;
  readonly summary: string;
  readonly approverDepartment: string;
  readonly message: string;
}

export interface ApiEnv {
  Variables: { person: SessionPerson; actor: Exclude<Actor, { kind: 'system' }> };
}

/** The client's address: the connection's; a request made inside this process (tests) may name one in X-Forwarded-For. */
function clientIp(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return c.req.header('x-forwarded-for')?.split(',')[0]?.trim() || undefined;
  }
}

const sessionCookie = {
  type: 'apiKey',
  in: 'cookie',
  name: 'botcriptofy.session_token',
  description:
    'The HTTP-only session cookie set by POST /api/v1/auth/sign-in/email (`__Secure-botcriptofy.session_token` when served off loopback).',
} as const;

/**
 * A tool's schema with `.openapi`: zod 4 gives a schema its methods when it is built, so one
 * built before @hono/zod-openapi extended zod (tools/ loaded earlier in the process) has none;
 * a copy built now has (test/server/api-load-order.test.ts).
 */
function withOpenApi(schema: z.ZodType): z.ZodType {
  if (typeof (schema as { openapi?: unknown }).openapi === 'function') return schema;
  return new (schema.constructor as new (def: unknown) => z.ZodType)(schema._zod.def);
}

export function createApi(deps: ApiDependencies): OpenAPIHono<ApiEnv> {
  const now = deps.now ?? (() => new Date());
  const api = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationError(c, result.error, result.target === 'json' ? 'body' : result.target);
    },
  }).basePath(API_BASE_PATH);

  api.openAPIRegistry.registerComponent('securitySchemes', 'session', sessionCookie);
  api.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', apiKeySecurityScheme);

  api.onError((error, c) => {
    return errorResponse(c, error, (err, category) => {
      if (category === 'internal') deps.logger.error({ err, path: c.req.path }, 'unhandled error in an API handler');
      // A refusal is the product working (a 403, a plan's 409): its reason, no stack. What the
      // operator must fix (configuration, a service down) is a warning.
      else
        deps.logger[category === 'config' || category === 'unavailable' ? 'warn' : 'info'](
          { path: c.req.path, method: c.req.method, code: category, reason: (err as Error).message },
          'API request refused',
        );
    });
  });

  /** The signed-in person (session cookie or personal API key); a `read` key only reads. */
  // Secure headers, CORS, rate limits and the body cap, before any route (server/api/hardening.ts).
  for (const middleware of apiHardening(deps.limits ?? {}, clientIp).middleware) api.use('*', middleware);
  // A repeated POST with the same Idempotency-Key gets the first answer (server/api/idempotency.ts).
  api.use(
    '*',
    idempotency({
      db: deps.db,
      now,
      principalOf: async (c) => {
        const authentication = await deps.accounts.authenticate(c.req.raw.headers, clientIp(c));
        return authentication.kind === 'person' ? authentication.person.userId : undefined;
      },
    }),
  );

  const actorsOfPeople = new WeakMap<SessionPerson, Actor>();
  /**
   * A trader's plan as GET /me last read it (an audited subscription_status call), kept as long
   * as the actor: for the accounts' checked session (SESSION_CACHE_MS), once per request for an
   * API key. Who-am-I is asked on every page of a client; reading and auditing the plan each
   * time was two thirds of its cost. Plan checks (bot starts, backtest quotas) and GET /plan
   * read the subscription at the time.
   */
  const plansOfPeople = new WeakMap<SessionPerson, string>();
  const requirePerson: MiddlewareHandler<ApiEnv> = async (c, next) => {
    // A route under two guards ('/bots' and '/bots/*', say) authenticates once.
    if (c.get('person')) return next();
    const authentication = await deps.accounts.authenticate(c.req.raw.headers, clientIp(c));
    if (authentication.kind === 'invalid_key')
      return apiError(c, 'unauthorized', 'This API key is not valid (unknown, revoked or expired).');
    if (authentication.kind === 'anonymous')
      return apiError(
        c,
        'unauthorized',
        'Sign in first (POST /api/v1/auth/sign-in/email); no valid session cookie or API key came with this request.',
      );
    const person = authentication.person;
    if (person.scope === 'read' && c.req.method !== 'GET' && c.req.method !== 'HEAD')
      return apiError(
        c,
        'forbidden',
        `This API key is read-only: it may not ${c.req.method} ${c.req.path}. Use a read_write key or the session.`,
      );
    // The actor lives as long as the accounts' checked session it was read for (the same
    // object while Better-Auth's answer is cached; an API key's person is new every request).
    let actor = actorsOfPeople.get(person);
    if (!actor) {
      actor = await actorForEmail(deps.db, person.email);
      if (actor) actorsOfPeople.set(person, actor);
    }
    if (!actor || actor.kind === 'system') return apiError(c, 'forbidden', 'This account is neither staff nor a trader.');
    c.set('person', person);
    c.set('actor', actor);
    await next();
  };

  /**
   * One tool call as the signed-in person: its result, or the approval it became (nothing done
   * yet; a person decides). A refusal becomes that kind of error. `liveTradingConfirmed` only
   * when the person confirmed live trading themselves in this request (`confirmLive`).
   */
  async function actTool<T>(
    c: Context<ApiEnv>,
    tool: ToolName,
    args: Record<string, unknown>,
    extra: { liveTradingConfirmed?: boolean } = {},
  ): Promise<{ done: true; result: T } | { done: false; approval: PendingApproval }> {
    const ctx: ToolContext = {
      db: deps.db,
      actor: c.get('actor'),
      billing: deps.billing,
      now,
      trading: deps.trading,
      operations: deps.operations,
      marketData: deps.marketData,
      ...(extra.liveTradingConfirmed ? { liveTradingConfirmed: true } : {}),
    };
    const outcome = await invokeTool(TOOLS, ctx, tool, args);
    if (!outcome.ok) {
      const category = toolRefusalCategory(outcome);
      // unknown_tool, or failed without a product error's category: a fault here, not the caller's; logged and answered 500.
      if (category === 'internal') throw new Error(`${tool}: ${outcome.message}`);
      // "start_bot failed: The Free plan allows …" reads better without the tool's name (as on Telegram).
      throw new ToolCallRefused(category, outcome.message.replace(`${tool} failed: `, ''));
    }
    if ('pendingApproval' in outcome) {
      const { id, summary, approverDepartment } = outcome.pendingApproval;
      return { done: false, approval: { id, summary, approverDepartment, message: outcome.message } };
    }
    return { done: true, result: outcome.result as T };
  }

  /** A tool call that must act now (a read): an approval instead is a conflict. */
  async function callTool<T>(c: Context<ApiEnv>, tool: ToolName, args: Record<string, unknown>): Promise<T> {
    const acted = await actTool<T>(c, tool, args);
    if (!acted.done) throw new ToolCallRefused('conflict', acted.approval.message);
    return acted.result;
  }

  const toolOutput = (tool: ToolName) => {
    const definition = TOOLS.get(tool);
    if (!definition) throw new Error(`no tool ${tool}`);
    return withOpenApi(definition.output as z.ZodType);
  };

  // --- sign-in, sign-out, session: Better-Auth's own endpoints, documented here ---------------

  const signInBody = z
    .object({
      email: z.email().openapi({ example: 'leonardo.silva@botcriptofy.com.br' }),
      password: z.string().min(1).openapi({ example: 'demo-ceo-2026' }),
      rememberMe: z.boolean().optional().openapi({ description: 'false: the cookie ends with the browser session' }),
    })
    .openapi('SignIn');
  const signedInPerson = z
    .union([
      z
        .object({
          token: z.string(),
          user: z.object({ id: z.string(), email: z.string(), name: z.string() }).loose(),
        })
        .loose(),
      z.object({ twoFactorRedirect: z.literal(true), twoFactorMethods: z.array(z.string()) }).loose(),
    ])
    .openapi('SignedIn');

  const throttledResponse = (description: string) => ({
    description,
    headers: { 'Retry-After': { schema: { type: 'integer' as const }, description: 'seconds' } },
    content: { 'application/json': { schema: apiErrorSchema } },
  });

  /**
   * Passes the request to Better-Auth; its own error bodies become the API's error shape. A 422
   * from it is a usage error (400) unless the route says what it is (sign-up: the email is taken, 409).
   */
  async function toAccounts(c: Context<ApiEnv>, request: Request, on422: ApiErrorCategory = 'usage'): Promise<Response> {
    const response = await deps.accounts.handle(request, clientIp(c));
    if (response.ok) return response;
    const body = (await response
      .clone()
      .json()
      .catch(() => ({}))) as { message?: string };
    const category: ApiErrorCategory =
      response.status === 429
        ? 'rate_limited'
        : response.status === 401
          ? 'unauthorized'
          : response.status === 403
            ? 'forbidden'
            : response.status === 422
              ? on422
              : 'usage';
    const answer = apiError(c, category, body.message ?? response.statusText);
    for (const name of ['retry-after', 'set-cookie']) {
      const value = response.headers.get(name);
      if (value) answer.headers.set(name, value);
    }
    return answer;
  }

  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/sign-in/email',
      tags: ['accounts'],
      summary: 'Sign in with email and password',
      description:
        'Sets the HTTP-only session cookie; for a person with a TOTP second factor it answers `twoFactorRedirect: true` and a short-lived `botcriptofy.two_factor` cookie instead, and POST /auth/two-factor/verify-totp with a code finishes the sign-in. Throttled per client IP, and per account: 10 failed attempts (password or code) in 15 minutes lock the account until the oldest leaves the window (429 with Retry-After). Every attempt, successful or not, is recorded as a security event. Staff get their accounts from the company; a trader may also create one (POST /auth/sign-up/email) where the server allows it.',
      request: { body: { content: { 'application/json': { schema: signInBody } }, required: true } },
      responses: {
        200: {
          description: 'Signed in; the session cookie is in Set-Cookie.',
          content: { 'application/json': { schema: signedInPerson } },
        },
        400: errorResponses[400],
        401: { description: 'Wrong email or password.', content: { 'application/json': { schema: apiErrorSchema } } },
        429: throttledResponse('Too many sign-in attempts from this address; try again after Retry-After seconds.'),
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof signInBody> } }>) => {
      const forwarded = new Request(c.req.url, {
        method: 'POST',
        headers: c.req.raw.headers,
        body: JSON.stringify(c.req.valid('json')),
      });
      return toAccounts(c, forwarded);
    }) as never,
  );

  const signUpBody = z
    .object({
      name: z.string().trim().min(1).max(100).openapi({ example: 'Maria Souza' }),
      email: z.email().max(320).openapi({ example: 'maria.souza@example.com' }),
      password: z.string().min(MIN_PASSWORD_LENGTH).max(128).openapi({ example: 'a long passphrase' }),
      locale: z
        .enum(locales)
        .optional()
        .openapi({ description: "the person's language for messages and reports (default pt-BR, changeable later)" }),
    })
    .openapi('SignUp');
  const signedUpPerson = z
    .object({
      token: z.string().nullable(),
      user: z.object({ id: z.string(), email: z.string(), name: z.string() }).loose(),
    })
    .loose()
    .openapi('SignedUp');

  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/sign-up/email',
      tags: ['accounts'],
      summary: 'Create a trader account (when the server allows sign-up)',
      description:
        'A new trader account: its own tenant, the Free plan, signed in at once (the session cookie is in Set-Cookie). Then accept the terms of use (GET/POST /consents) before trading. Refused with 403 when the server keeps sign-up closed (AUTH_SIGN_UP=closed: accounts come from the company). Throttled per client IP like sign-in. Every attempt with a well-formed body is recorded as a security event (account_created, sign_up_refused, sign_up_throttled).',
      request: { body: { content: { 'application/json': { schema: signUpBody } }, required: true } },
      responses: {
        200: { description: 'Created and signed in.', content: { 'application/json': { schema: signedUpPerson } } },
        400: errorResponses[400],
        403: { description: 'Sign-up is closed on this server.', content: { 'application/json': { schema: apiErrorSchema } } },
        409: { description: 'An account with this email already exists.', content: { 'application/json': { schema: apiErrorSchema } } },
        429: throttledResponse('Too many sign-ups from this address; try again after Retry-After seconds.'),
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<typeof signUpBody> } }>) => {
      if (!deps.accounts.signUpOpen)
        return apiError(c, 'forbidden', 'Sign-up is closed on this server (AUTH_SIGN_UP=closed): accounts come from the company.');
      const forwarded = new Request(c.req.url, {
        method: 'POST',
        headers: c.req.raw.headers,
        body: JSON.stringify(c.req.valid('json')),
      });
      return toAccounts(c, forwarded, 'conflict');
    }) as never,
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/sign-out',
      tags: ['accounts'],
      summary: 'Sign out (ends the session and clears the cookie)',
      security: [{ session: [] }],
      responses: {
        200: { description: 'Signed out.', content: { 'application/json': { schema: z.object({ success: z.boolean() }) } } },
        401: errorResponses[401],
      },
    }),
    (async (c: Context<ApiEnv>) => {
      const forwarded = new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body: '{}' });
      forwarded.headers.set('content-type', 'application/json');
      return toAccounts(c, forwarded);
    }) as never,
  );

  // --- who am I ---------------------------------------------------------------------------

  const meSchema = z
    .object({
      kind: z.enum(['staff', 'trader']),
      userId: z.uuid(),
      name: z.string(),
      email: z.string(),
      department: z.string().nullable().openapi({ description: 'staff only' }),
      role: z.string().nullable().openapi({ description: 'staff only: member, head, ceo or admin' }),
      plan: z.string().nullable().openapi({
        description:
          "traders only: the plan's id (free, pro, …), read once per checked session (so up to 5 s old, like the session itself); GET /plan reads it now",
      }),
      session: z.object({
        expiresAt: z.string().nullable().openapi({ description: 'when the session (or the API key) ends; null: a key without an expiry' }),
        via: z.enum(['session', 'api_key']),
        scope: z.enum(['read', 'read_write']).openapi({ description: 'read: an API key that may only GET' }),
      }),
      twoFactorEnabled: z.boolean().openapi({ description: 'a TOTP second factor is enrolled' }),
      access: z
        .object({
          tools: z.array(z.string()).openapi({ description: 'the tools the tool policy lets this person call (what the routes call)' }),
          agents: z.array(z.string()).openapi({ description: 'the agents this person may ask (POST /agents/{name}/ask)' }),
          decidesApprovals: z.boolean().openapi({ description: "decides approvals: a department's head, the CEO or an admin" }),
        })
        .openapi({ description: 'what the permission code allows this person, so a client shows only what it may use' }),
    })
    .openapi('Me');

  api.use('/me', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['accounts'],
      summary: 'Who is signed in',
      security: SESSION_OR_KEY,
      responses: {
        200: { description: 'The signed-in person.', content: { 'application/json': { schema: meSchema } } },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv>) => {
      const actor = c.get('actor');
      const person = c.get('person');
      let plan: string | null = null;
      if (actor.kind === 'trader') {
        plan = plansOfPeople.get(person) ?? null;
        if (plan === null) {
          plan = (await callTool<{ plan: string }>(c, 'subscription_status', {})).plan;
          plansOfPeople.set(person, plan);
        }
      }
      return c.json({
        kind: actor.kind,
        userId: person.userId,
        name: person.name,
        email: person.email,
        department: actor.kind === 'staff' ? actor.department : null,
        role: actor.kind === 'staff' ? actor.role : null,
        plan,
        session: { expiresAt: person.expiresAt?.toISOString() ?? null, via: person.via, scope: person.scope },
        twoFactorEnabled: person.twoFactorEnabled,
        access: {
          tools: TOOL_NAMES.filter((tool) => mayCall(actor, tool).allowed),
          agents: askableAgents(actor),
          decidesApprovals: actor.kind === 'staff' && mayDecide(actor, actor.department),
        },
      } satisfies z.infer<typeof meSchema>);
    }) as never,
  );

  // --- strategies -------------------------------------------------------------------------

  const strategySchema = z
    .object({
      name: z.string(),
      description: z.string(),
      parameters: z
        .record(z.string(), z.unknown())
        .openapi({ description: 'JSON Schema (draft 2020-12) of the parameters, with ranges and defaults' }),
      defaults: z.record(z.string(), z.number()),
    })
    .openapi('Strategy');
  const strategies = [...STRATEGIES.values()].map((strategy) => ({
    name: strategy.name,
    description: strategy.description,
    parameters: z.toJSONSchema(strategy.parameters, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    defaults: strategy.parameters.parse({}),
  }));

  api.use('/strategies', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/strategies',
      tags: ['trading'],
      summary: 'The strategies a bot or a backtest can run, with their parameters',
      security: [{ session: [] }],
      responses: {
        200: {
          description: 'Every strategy.',
          content: { 'application/json': { schema: z.object({ strategies: z.array(strategySchema) }).openapi('Strategies') } },
        },
        ...errorResponses,
      },
    }),
    ((c: Context<ApiEnv>) => c.json({ strategies })) as never,
  );

  // --- bots -------------------------------------------------------------------------------

  const botListQuery = z.object({
    status: z.enum(['stopped', 'running', 'paused', 'error']).optional().openapi({ description: 'only bots in this status' }),
    email: z.email().optional().openapi({ description: "staff: one trader's bots (a trader always gets their own)" }),
    limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'at most this many bots, oldest first' }),
  });
  api.use('/bots', requirePerson);
  api.use('/bots/*', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/bots',
      tags: ['trading'],
      summary: "The signed-in trader's bots (staff: every trader's, or one trader's by email)",
      security: [{ session: [] }],
      request: { query: botListQuery },
      responses: {
        200: {
          description: 'Bots, totals by status.',
          content: { 'application/json': { schema: toolOutput('list_bots').openapi('BotList') } },
        },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof botListQuery> } }>) => {
      const query = c.req.valid('query');
      return c.json(await callTool(c, 'list_bots', { ...query }));
    }) as never,
  );

  const botParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: "the bot's id" }) });
  api.openapi(
    createRoute({
      method: 'get',
      path: '/bots/{id}',
      tags: ['trading'],
      summary: 'One bot: strategy, parameters, positions and trade counts',
      security: [{ session: [] }],
      request: { params: botParams },
      responses: {
        200: { description: 'The bot.', content: { 'application/json': { schema: toolOutput('bot_details').openapi('BotDetails') } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof botParams> } }>) => {
      const { id } = c.req.valid('param');
      return c.json(await callTool(c, 'bot_details', { botId: id }));
    }) as never,
  );

  const planQuery = z.object({ email: z.email().optional().openapi({ description: "staff: the trader's email" }) });

  // --- bot actions: create, start, stop, force exit ----------------------------------------

  const toolInput = (tool: ToolName) => {
    const definition = TOOLS.get(tool);
    if (!definition) throw new Error(`no tool ${tool}`);
    return withOpenApi(definition.input as z.ZodType);
  };
  type BotDetails = {
    bot: { id: string; name: string; owner: string | null; mode: string; status: string };
    positions: unknown[];
  };
  /** Staff act on the bot's owner (the tools' `email`); a trader on their own account. */
  const ownerArg = (c: Context<ApiEnv>, details: BotDetails) =>
    c.get('actor').kind === 'staff' && details.bot.owner ? { email: details.bot.owner } : {};

  const pendingApprovalSchema = z
    .object({
      pendingApproval: z.object({
        id: z.uuid().openapi({ description: 'the approval (GET /approvals, decided by the approver department head or the CEO)' }),
        summary: z.string(),
        approverDepartment: z.string(),
      }),
      message: z.string(),
    })
    .openapi('PendingApproval');
  const accepted = (c: Context<ApiEnv>, approval: PendingApproval) => {
    const { id, summary, approverDepartment, message } = approval;
    return c.json({ pendingApproval: { id, summary, approverDepartment }, message } satisfies z.infer<typeof pendingApprovalSchema>, 202);
  };
  const conflictResponse = {
    409: {
      description: "Not in a state for this: a live bot without `confirmLive`, or the plan's running-bot limit reached.",
      content: { 'application/json': { schema: apiErrorSchema } },
    },
  } as const;
  const unavailableResponse = {
    503: {
      description: 'The trading engine or the exchange cannot be reached from here.',
      content: { 'application/json': { schema: apiErrorSchema } },
    },
  } as const;
  const botStatusChange = z
    .object({
      botId: z.string(),
      name: z.string(),
      mode: z.string(),
      previousStatus: z.string(),
      status: z.string(),
    })
    .openapi('BotStatusChange');

  const newBotBody = toolInput('create_bot').openapi('NewBot', {
    description: "The bot's name, strategy (GET /strategies), symbols, timeframe, stake and mode; staff name the trader by `email`.",
  });
  api.openapi(
    createRoute({
      method: 'post',
      path: '/bots',
      tags: ['trading'],
      summary: 'Create a bot, stopped (paper by default)',
      description:
        "The create_bot tool: a paper bot gets its paper wallet (its stake) at once; a live bot needs the trader's active exchange API key and the plan's live trading.",
      security: [{ session: [] }],
      request: { headers: idempotencyHeaders, body: { content: { 'application/json': { schema: newBotBody } }, required: true } },
      responses: {
        201: {
          description: 'The new bot.',
          content: { 'application/json': { schema: toolOutput('create_bot').openapi('NewBotCreated') } },
        },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: Record<string, unknown> } }>) => {
      return c.json(await callTool(c, 'create_bot', c.req.valid('json')), 201);
    }) as never,
  );

  const startBody = z
    .object({
      confirmLive: z.boolean().optional().openapi({
        description:
          "true: the person confirms a live bot may start trading on the trader's exchange account (real money when TRADING_MODE=live). Required for a live bot, every time; staff asking get an approval instead (202).",
      }),
    })
    .openapi('StartBot');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/bots/{id}/start',
      tags: ['trading'],
      summary: 'Start a bot (plan limits apply; a live bot needs confirmLive)',
      description:
        'The start_bot tool. A paper bot starts at once. A live bot never starts without a person\'s explicit confirmation: without `{"confirmLive": true}` the answer is 409 and nothing starts; with it, the trader\'s own bot starts, and staff get a pending approval for the Security head or the CEO (202).',
      security: [{ session: [] }],
      request: {
        params: botParams,
        headers: idempotencyHeaders,
        body: { content: { 'application/json': { schema: startBody } }, required: false },
      },
      responses: {
        200: { description: 'Started (or already running).', content: { 'application/json': { schema: botStatusChange } } },
        202: {
          description: 'Not started yet: an approval was requested.',
          content: { 'application/json': { schema: pendingApprovalSchema } },
        },
        ...errorResponses,
        ...notFoundResponse,
        ...conflictResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof botParams>; json: z.infer<typeof startBody> | undefined } }>) => {
      const { id } = c.req.valid('param');
      const confirmLive = c.req.valid('json')?.confirmLive === true;
      const details = await callTool<BotDetails>(c, 'bot_details', { botId: id });
      const { bot } = details;
      const live = bot.mode === 'live' && bot.status !== 'running';
      if (live && !confirmLive)
        throw new ToolCallRefused(
          'conflict',
          `Bot ${bot.id} "${bot.name}" is in live mode: starting it trades on ${bot.owner ?? 'the trader'}'s exchange account (real money when TRADING_MODE=live). Nothing was started; send {"confirmLive": true} to confirm (staff: that asks the Security head or the CEO to approve).`,
        );
      const acted = await actTool<{ botId: string; status: string }>(
        c,
        'start_bot',
        { botId: bot.id, ...ownerArg(c, details) },
        { liveTradingConfirmed: live && c.get('actor').kind === 'trader' },
      );
      if (!acted.done) return accepted(c, acted.approval);
      return c.json({
        botId: acted.result.botId,
        name: bot.name,
        mode: bot.mode,
        previousStatus: bot.status,
        status: acted.result.status,
      } satisfies z.infer<typeof botStatusChange>);
    }) as never,
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/bots/{id}/stop',
      tags: ['trading'],
      summary: 'Stop a bot (its open positions are kept; forceexit sells them)',
      security: [{ session: [] }],
      request: { params: botParams, headers: idempotencyHeaders },
      responses: {
        200: { description: 'Stopped.', content: { 'application/json': { schema: botStatusChange } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof botParams> } }>) => {
      const { id } = c.req.valid('param');
      const details = await callTool<BotDetails>(c, 'bot_details', { botId: id });
      const result = await callTool<{ botId: string; status: string }>(c, 'stop_bot', { botId: details.bot.id, ...ownerArg(c, details) });
      return c.json({
        botId: result.botId,
        name: details.bot.name,
        mode: details.bot.mode,
        previousStatus: details.bot.status,
        status: result.status,
      } satisfies z.infer<typeof botStatusChange>);
    }) as never,
  );

  const forceExitBody = z
    .object({
      symbol: z
        .string()
        .regex(/^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/, { error: 'expected a symbol such as BTC/USDT' })
        .optional()
        .openapi({ description: "only this symbol's position (default: all of the bot's)", example: 'BTC/USDT' }),
    })
    .openapi('ForceExit');
  api.openapi(
    createRoute({
      method: 'post',
      path: '/bots/{id}/forceexit',
      tags: ['trading'],
      summary: "Sell a bot's open positions now at market",
      description:
        "The force_exit tool: market sells through the risk gate, recorded like any order, placed once however often it is asked for. Each position's outcome is in `exits` (filled, already, open, refused, rejected).",
      security: [{ session: [] }],
      request: {
        params: botParams,
        headers: idempotencyHeaders,
        body: { content: { 'application/json': { schema: forceExitBody } }, required: false },
      },
      responses: {
        200: {
          description: 'What was sold.',
          content: { 'application/json': { schema: withOpenApi(forceExitResultSchema).openapi('ForceExitResult') } },
        },
        ...errorResponses,
        ...notFoundResponse,
        ...unavailableResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof botParams>; json: z.infer<typeof forceExitBody> | undefined } }>) => {
      const { id } = c.req.valid('param');
      const symbol = c.req.valid('json')?.symbol;
      const details = await callTool<BotDetails>(c, 'bot_details', { botId: id });
      if (!deps.trading) return apiError(c, 'unavailable', 'The trading engine is not reachable from this server; nothing was sold.');
      return c.json(
        await callTool<ForceExitResult>(c, 'force_exit', { botId: details.bot.id, ...(symbol ? { symbol } : {}), ...ownerArg(c, details) }),
      );
    }) as never,
  );

  // --- profit and balance -----------------------------------------------------------------

  const profitQuery = z.object({
    period: z.enum(['day', 'week', 'month']).default('day').openapi({ description: 'UTC days, weeks (from Monday) or months' }),
    count: z.coerce.number().int().min(1).max(60).default(7).openapi({ description: 'this many periods, the current one first' }),
    email: z.email().optional().openapi({ description: "staff: one trader's (without: the platform's)" }),
  });
  api.use('/profit', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/profit',
      tags: ['trading'],
      summary: "Closed trades' profit per day, week or month, newest first",
      description: "The pnl_by_period tool (the figure Telegram's /daily, /weekly and /monthly show).",
      security: [{ session: [] }],
      request: { query: profitQuery },
      responses: {
        200: {
          description: 'Profit per period.',
          content: { 'application/json': { schema: toolOutput('pnl_by_period').openapi('Profit') } },
        },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof profitQuery> } }>) => {
      return c.json(await callTool(c, 'pnl_by_period', { ...c.req.valid('query') }));
    }) as never,
  );

  api.use('/balance', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/balance',
      tags: ['trading'],
      summary: "The trader's wallet per bot",
      description:
        "The bot_balances tool (Telegram's /balance): a paper bot's paper wallet; a live bot's exchange account (a `note` says when it did not answer).",
      security: [{ session: [] }],
      request: { query: planQuery },
      responses: {
        200: {
          description: 'Wallets per bot.',
          content: { 'application/json': { schema: toolOutput('bot_balances').openapi('Balance') } },
        },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof planQuery> } }>) => {
      const { email } = c.req.valid('query');
      return c.json(await callTool(c, 'bot_balances', email ? { email } : {}));
    }) as never,
  );

  // --- plan -------------------------------------------------------------------------------

  const planSchema = z
    .object({
      subscription: toolOutput('subscription_status'),
      limits: z.object({
        botsAllowed: z.number(),
        liveTradingAllowed: z.boolean(),
        backtestsPerDay: z.number(),
        symbolsPerBot: z.number(),
      }),
      name: z.string(),
      monthlyPriceCents: z.number(),
      yearlyPriceCents: z.number(),
    })
    .openapi('Plan');
  api.use('/plan', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/plan',
      tags: ['billing'],
      summary: "The trader's plan, its limits and the subscription",
      security: [{ session: [] }],
      request: { query: planQuery },
      responses: {
        200: { description: 'The plan.', content: { 'application/json': { schema: planSchema } } },
        ...errorResponses,
        ...notFoundResponse,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof planQuery> } }>) => {
      const { email } = c.req.valid('query');
      const subscription = await callTool<{ plan: string }>(c, 'subscription_status', email ? { email } : {});
      const { plans } = await callTool<{
        plans: {
          id: string;
          name: string;
          monthlyPriceCents: number;
          yearlyPriceCents: number;
          botsAllowed: number;
          liveTradingAllowed: boolean;
          backtestsPerDay: number;
          symbolsPerBot: number;
        }[];
      }>(c, 'list_plans', {});
      const plan = plans.find((p) => p.id === subscription.plan);
      if (!plan) throw new Error(`The plan ${subscription.plan} is not in the catalogue.`);
      const { botsAllowed, liveTradingAllowed, backtestsPerDay, symbolsPerBot } = plan;
      return c.json({
        subscription,
        limits: { botsAllowed, liveTradingAllowed, backtestsPerDay, symbolsPerBot },
        name: plan.name,
        monthlyPriceCents: plan.monthlyPriceCents,
        yearlyPriceCents: plan.yearlyPriceCents,
      });
    }) as never,
  );

  // Route groups declared in their own files (bots' trades, backtests, candles, billing links).
  registerTraderRoutes({ api, deps, now, requirePerson, callTool, toolInput, toolOutput }, { jobs: deps.jobs });

  // The trader's assistant: words to a bot draft, its backtest, a paper start on confirmation (server/api/assistant-routes.ts).
  registerAssistantRoutes({ api, deps, now, requirePerson, callTool, toolInput, toolOutput });

  // The staff routes: approvals, asking an agent, the executive report, KPIs, audit, status (server/api/staff-routes.ts).
  registerStaffRoutes({ api, deps, now, requirePerson, callTool, toolInput, toolOutput });

  // Personal API keys, the TOTP second factor, deciding approvals (server/api/account-security.ts).
  registerAccountSecurityRoutes({ api, deps, now, requirePerson, toAccounts, clientIp });

  // The person's live events as Server-Sent Events (server/api/events.ts).
  const hub =
    deps.liveEvents ??
    new LiveEvents({
      db: deps.db,
      listen: deps.listenForQueuedNotifications,
      onError: (err, where) => deps.logger.warn({ err }, `live events: failed ${where}`),
    });
  registerEventRoutes({ api, requirePerson, hub, metrics: deps.metrics });
  deps.onShutdown?.(() => hub.stop());

  // A person's data exported and erased (issue 18; server/api/privacy-routes.ts).
  registerPrivacyRoutes({ api, deps, now, requirePerson, callTool, actTool, toolInput, toolOutput });

  // The terms of use and the privacy policy in full, as published now (server/api/document-routes.ts).
  registerDocumentRoutes({ api, deps, now, requirePerson, callTool, toolInput, toolOutput });

  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'BotCriptoFy API',
      version: '1',
      description:
        'Sign in with POST /api/v1/auth/sign-in/email (a trader new here: POST /api/v1/auth/sign-up/email, where the server allows it); the session cookie authenticates the rest, or a personal API key (POST /api/v1/keys) as `Authorization: Bearer bcf_…` (a `read` key: GET only). Errors: `{ "error": { "code", "message", "details"? } }`.',
    },
  });
  return api;
}
