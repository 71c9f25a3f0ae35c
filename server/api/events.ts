import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { departments } from '../../db/index.ts';
import { payloadSchemas } from '../../notifications/index.ts';
import type { Metrics } from '../../observability/index.ts';
import { mayDecide } from '../../tools/index.ts';
import type { ApiEnv } from './app.ts';
import { SESSION_OR_KEY } from './account-security.ts';
import { errorResponses } from './errors.ts';
import { markEventStream } from '../http.ts';
import type { LiveEvent, LiveEvents, Subscriber, Watch } from './live-events.ts';

// GET /api/v1/events: the signed-in person's own live events as Server-Sent Events (issue 16,
// item 3). The events come from the LiveEvents hub (./live-events.ts: the notification outbox
// every producer writes, read as it is queued, and the candle cache for watched pairs); this
// file is the HTTP side: who is asking, what they watch, where they resume, and the stream.

const WATCH_ITEM = String.raw`(?:[a-z0-9]{2,20}:)?[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}:[1-9]\d{0,2}[mhdw]`;
const WATCH_LIST = new RegExp(`^${WATCH_ITEM}(?:,${WATCH_ITEM}){0,9}$`);
const EVENT_ID = /^\d{1,16}$/;

const eventsQuery = z.object({
  watch: z
    .string()
    .regex(WATCH_LIST, { error: 'expected up to 10 pairs such as BTC/USDT:5m or binance:ETH/USDT:1h, comma-separated' })
    .optional()
    .openapi({
      description:
        'New closed candles of these pairs (`[exchange:]BASE/QUOTE:timeframe`, comma-separated, at most 10; exchange binance by default)',
      example: 'BTC/USDT:5m',
    }),
  lastEventId: z
    .string()
    .regex(EVENT_ID, { error: 'expected the id of an event this stream sent (digits)' })
    .optional()
    .openapi({ description: 'Resume after this event (for clients that cannot send the Last-Event-ID header); the header wins' }),
});
const eventsHeaders = z.object({
  'last-event-id': z
    .string()
    .regex(EVENT_ID, { error: 'expected the id of an event this stream sent (digits)' })
    .optional()
    .openapi({ description: "Resume after this event (a browser's EventSource sends it when it reconnects)" }),
});

/** Each event's bytes on the wire, made once however many clients it goes to. */
const frames = new WeakMap<LiveEvent, Uint8Array>();
/** The event being fanned out now (the hub sends one event to all its clients in a row): no map lookup per client. */
let lastEvent: LiveEvent | undefined;
let lastFrame: Uint8Array | undefined;
function frameOf(event: LiveEvent): Uint8Array {
  if (event === lastEvent) return lastFrame!;
  let frame = frames.get(event);
  if (!frame) {
    // JSON has no raw line breaks, so the data is one `data:` line.
    frame = sseFrame(event.type, event.id, JSON.stringify(event.data));
    frames.set(event, frame);
  }
  lastEvent = event;
  lastFrame = frame;
  return frame;
}
function sseFrame(type: string, id: number, json: string): Uint8Array {
  return Buffer.from(`event: ${type}\nid: ${id}\ndata: ${json}\n\n`);
}
const comments = new Map<string, Uint8Array>();
/** A comment line (`: connected`, `: heartbeat`), made once. */
function commentFrame(text: string): Uint8Array {
  let frame = comments.get(text);
  if (!frame) {
    frame = Buffer.from(`: ${text}\n\n`);
    comments.set(text, frame);
  }
  return frame;
}

/** A `[exchange:]BASE/QUOTE:timeframe` list (already checked by the query's pattern) as watches, each once. */
export function parseWatches(list: string | undefined): Watch[] {
  if (!list) return [];
  const watches = new Map<string, Watch>();
  for (const item of list.split(',')) {
    const parts = item.split(':');
    const [exchange, symbol, timeframe] = parts.length === 3 ? parts : ['binance', ...parts];
    watches.set(`${exchange}:${symbol}:${timeframe}`, { exchange: exchange!, symbol: symbol!, timeframe: timeframe! });
  }
  return [...watches.values()];
}

// --- the events' documented shapes -----------------------------------------------------------

/** A notification payload's schema with `.openapi` (built before @hono/zod-openapi extended zod, it may have none; see app.ts's withOpenApi). */
function documented<T extends z.ZodType>(schema: T): T {
  if (typeof (schema as { openapi?: unknown }).openapi === 'function') return schema;
  return new (schema.constructor as new (def: unknown) => T)(schema._zod.def);
}

const decimal = z.string().openapi({ description: 'an exact decimal', example: '0.00153' });
const eventData = {
  trade: z
    .object({
      kind: z.enum(['opened', 'closed', 'stop_loss']),
      botId: z.string(),
      botName: z.string().optional(),
      tradeId: z.string().optional(),
      symbol: z.string(),
      amountBase: decimal,
      priceQuote: decimal.optional().openapi({ description: 'opened: the entry price' }),
      openPriceQuote: decimal.optional(),
      closePriceQuote: decimal.optional(),
      profitQuote: decimal.optional(),
      profitPct: decimal.optional(),
      reason: z.string().optional().openapi({ description: 'closed: signal, take_profit, stop_loss or forced' }),
      at: z.iso.datetime().openapi({
        description:
          'When the runner reported it (the notification queued right after the trade row was written): a chart can place the marker at once, before reading the trade',
      }),
    })
    .openapi('LiveTrade', { description: 'One of your bots opened or closed a trade.' }),
  bot_status: z
    .object({
      botId: z.string(),
      botName: z.string().optional(),
      status: z.string().openapi({ description: 'running, stopped or paused (by the runner: see reason)' }),
      previousStatus: z.string().optional(),
      reason: z.string().optional(),
    })
    .openapi('LiveBotStatus', { description: 'One of your bots started, stopped or was paused.' }),
  backtest_finished: documented(payloadSchemas.backtest_finished).openapi('LiveBacktestFinished', {
    description: 'A backtest you queued (POST /backtests) finished: GET /backtests/{backtestId} has its result.',
  }),
  approval_requested: z
    .object({
      approvalId: z.string(),
      tool: z.string(),
      summary: z.string(),
      approverDepartment: z.string(),
      requestedBy: z.string().optional(),
      expiresAt: z.string().openapi({ description: 'ISO 8601' }),
    })
    .openapi('LiveApprovalRequested', {
      description:
        'Staff who may decide it (its department head, the CEO, admins; not who asked): an approval waits (POST /approvals/{approvalId}/approve|reject).',
    }),
  approval_decided: documented(payloadSchemas.approval_decided).openapi('LiveApprovalDecided', {
    description: 'Staff who may decide it, and who asked for it: an approval was decided, or its action executed or failed.',
  }),
  candle: z
    .object({
      exchange: z.string(),
      symbol: z.string(),
      timeframe: z.string(),
      openTime: z.string().openapi({ description: 'ISO 8601, UTC' }),
      open: decimal,
      high: decimal,
      low: decimal,
      close: decimal,
      volumeBase: decimal,
    })
    .openapi('LiveCandle', { description: 'A new closed candle of a pair you watch (`?watch=`).' }),
  notification: z.object({ type: z.string(), payload: z.record(z.string(), z.unknown()) }).openapi('LiveNotification', {
    description: 'Any other notice for you (a risk refusal, a security alert, a report, …): its type and payload.',
  }),
  reset: z.object({ reason: z.string(), lastEventId: z.string() }).openapi('LiveReset', {
    description:
      'The events after your Last-Event-ID cannot be replayed (older than 10 minutes, or from another server): refetch what you show, then keep reading.',
  }),
} as const;

const liveEventSchema = z
  .union(
    Object.entries(eventData).map(([event, data]) =>
      z.object({
        event: z.literal(event),
        id: z.string().openapi({ description: 'increasing; send it back as Last-Event-ID to resume' }),
        data: data as z.ZodType,
      }),
    ) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
  )
  .openapi('LiveEvent', {
    description:
      'One Server-Sent Event: `event: <event>`, `id: <id>`, `data: <the JSON of data>`, then a blank line. Lines starting with `:` are heartbeats.',
  });

// --- the route ---------------------------------------------------------------------------------

export function registerEventRoutes(kit: {
  readonly api: OpenAPIHono<ApiEnv>;
  readonly requirePerson: MiddlewareHandler<ApiEnv>;
  readonly hub: LiveEvents;
  /** The process's metrics: clients connected, events sent, clients cut off (absent: not counted). */
  readonly metrics?: Metrics | undefined;
}): void {
  const { api, requirePerson, hub, metrics } = kit;
  api.use('/events', requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags: ['events'],
      summary: 'Your live events (Server-Sent Events)',
      description:
        "A stream of the signed-in person's own events: their bots' trades and status changes, their backtests finishing, approvals to decide or decided (staff), and new candles of the pairs in `watch`. Each event has an increasing id; reconnecting with the Last-Event-ID header (or `lastEventId`) replays every event of yours after it from the last 10 minutes, and answers with a `reset` event when it cannot (older, or another server's id). A comment line (`: heartbeat`) comes every 15 s. Nobody else's events are ever sent: a trader sees only their own account's.",
      security: SESSION_OR_KEY,
      request: { query: eventsQuery, headers: eventsHeaders },
      responses: {
        200: {
          description: 'The event stream (text/event-stream); each event is one of LiveEvent.',
          content: { 'text/event-stream': { schema: liveEventSchema } },
        },
        ...errorResponses,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { query: z.infer<typeof eventsQuery>; header: z.infer<typeof eventsHeaders> } }>) => {
      const actor = c.get('actor');
      const person = c.get('person');
      const query = c.req.valid('query');
      const resumeFrom = c.req.valid('header')['last-event-id'] ?? query.lastEventId;
      // The readers start before the stream does, so a database that does not answer is an error status, not an empty stream.
      await hub.start();
      // Served by @hono/node-server: its response, which a closing server ends at once (server/http.ts).
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
      markEventStream(outgoing);
      // The headers Hono's streamSSE set; the route's middleware (secure headers, CORS, limits) adds its own as for any route.
      c.header('Transfer-Encoding', 'chunked');
      c.header('Content-Type', 'text/event-stream');
      c.header('Cache-Control', 'no-cache');
      c.header('Connection', 'keep-alive');
      return c.body(
        eventStreamBody({
          hub,
          metrics,
          outgoing,
          signal: c.req.raw.signal,
          resumeFrom: resumeFrom === undefined ? undefined : Number(resumeFrom),
          who: {
            userId: person.userId,
            staff: actor.kind === 'staff',
            department: actor.kind === 'staff' ? actor.department : null,
            approverOf: departments.filter((department) => mayDecide(actor, department)),
            watches: parseWatches(query.watch),
          },
        }),
      );
    }) as never,
  );
}

// --- the stream ------------------------------------------------------------------------------

/**
 * The body of one client's stream. Served by @hono/node-server, the bytes go straight into its
 * ServerResponse (`outgoing`): node-server writes the head (with every header the route and its
 * middleware set) and then asks for the body's first chunk, and from then on each event is one
 * `outgoing.write` of the frame made once for all clients, instead of a trip through a web
 * stream per client (Hono's streamSSE: a TransformStream whose chunks node-server copies to the
 * response, two promise hops a write per client). Measured with 1,000 clients (README, "Live
 * events"). Without a Node response (another runtime, `app.request`), the same bytes go
 * through this stream.
 */
function eventStreamBody(options: {
  readonly hub: LiveEvents;
  readonly metrics: Metrics | undefined;
  readonly outgoing: ServerResponse | undefined;
  readonly signal: AbortSignal;
  readonly resumeFrom: number | undefined;
  readonly who: Omit<Subscriber, 'send' | 'comment' | 'close'>;
}): ReadableStream<Uint8Array> {
  const { hub, metrics, resumeFrom, who } = options;
  let ended: () => void = () => {};
  const closed = new Promise<void>((resolve) => (ended = resolve));
  options.signal.addEventListener('abort', () => ended(), { once: true });
  let started = false;

  const run = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    // Straight to the response only once its head is written (node-server does it before its first
    // read of a chunked body); otherwise, everything through this stream, in order all the same.
    const outgoing = options.outgoing?.headersSent ? options.outgoing : undefined;
    let finished = false;
    // Writes not yet taken by the client: node-server's response calls back when a write has left
    // for the socket; this stream (no high-water mark) counts the chunks it holds.
    let pending = 0;
    const flushed = () => {
      pending--;
    };
    const waiting = outgoing ? () => pending : () => -(controller.desiredSize ?? 0);
    outgoing?.once('close', ended);
    const put = (bytes: Uint8Array): boolean => {
      if (finished) return false;
      if (outgoing && (outgoing.destroyed || outgoing.writableEnded)) return false;
      if (waiting() >= hub.maxPendingWrites) {
        // Its buffers are full: the connection goes (what waits in it with it), not just the
        // subscription; the client resumes with Last-Event-ID.
        finished = true;
        metrics?.liveEventClientsCutOff.inc();
        if (outgoing) outgoing.destroy();
        else controller.error(new Error(`the client did not read ${hub.maxPendingWrites} events`));
        ended();
        return false;
      }
      if (outgoing) {
        pending++;
        outgoing.write(bytes, flushed);
      } else controller.enqueue(bytes);
      return true;
    };
    // Written in the order they are made: the replay first, then what arrived meanwhile, then live events.
    let lastSent = resumeFrom ?? -1;
    const write = (event: LiveEvent) => {
      if (event.id <= lastSent) return;
      lastSent = event.id;
      if (put(frameOf(event))) metrics?.liveEventsSent.inc({ type: event.type });
    };
    let live = false;
    const arrived: LiveEvent[] = [];
    const subscriber: Subscriber = {
      ...who,
      send: (event) => (live ? write(event) : arrived.push(event)),
      comment: (text) => put(commentFrame(text)),
      close: ended,
    };
    metrics?.liveEventClients.inc();
    try {
      const { replay, unsubscribe } = await hub.subscribe(subscriber, resumeFrom);
      try {
        put(commentFrame('connected'));
        if (replay?.kind === 'reset') {
          lastSent = replay.lastEventId;
          if (
            put(sseFrame('reset', replay.lastEventId, JSON.stringify({ reason: replay.reason, lastEventId: String(replay.lastEventId) })))
          )
            metrics?.liveEventsSent.inc({ type: 'reset' });
        } else for (const event of replay?.events ?? []) write(event);
        live = true;
        for (const event of arrived.splice(0)) write(event);
        await closed;
      } finally {
        unsubscribe();
      }
    } finally {
      finished = true;
      metrics?.liveEventClients.dec();
      outgoing?.off('close', ended);
      try {
        // node-server's read of the body ends, and it ends the response.
        controller.close();
      } catch {
        // cancelled (the client left) or errored (cut off): nothing to end
      }
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      // No high-water mark: the first pull is node-server's first read, made after it wrote the head.
      pull: (controller) => {
        if (started) return;
        started = true;
        run(controller).catch((error: unknown) => {
          options.outgoing?.destroy();
          try {
            controller.error(error);
          } catch {
            // already closed
          }
        });
      },
      cancel: () => ended(),
    },
    { highWaterMark: 0 },
  );
}
