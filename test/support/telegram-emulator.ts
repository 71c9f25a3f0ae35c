import http from 'node:http';
import type net from 'node:net';
import emulatorModule from 'telegram-test-api';
import { monotonicClock, type Clock } from '../../clock/index.ts';
import { freePort } from './ports.ts';
import type { TelegramServer as TelegramServerClass } from 'telegram-test-api/lib/telegramServer.js';

// The package sets module.exports to the class (its typings describe an ES default export).
const TelegramServer = ((emulatorModule as unknown as { default?: unknown }).default ?? emulatorModule) as typeof TelegramServerClass;

/**
 * The Bot API emulator (`telegram-test-api`) behind a small HTTP proxy that can play the
 * parts the emulator lacks: Telegram down (502 or a dropped connection), 429 with
 * `retry_after`, permanent refusals (403 blocked, 400 chat not found), Telegram's own rate
 * limits (a 429 for any request over N per second overall or per chat), and `sendPhoto`
 * (answered by the proxy, the PNG kept for inspection).
 */

export const TEST_BOT_TOKEN = '123456789:TEST-token_for-the-emulator';

export interface ProxiedRequest {
  readonly method: string;
  readonly chatId: string | null;
  /** Arrival, ms on the emulator's clock (the monotonic system clock unless a test gave one). */
  readonly at: number;
  readonly body: Record<string, unknown> | null;
  /** What the proxy answered (200 when forwarded and accepted). */
  status: number;
  retryAfter?: number;
}

/** A canned reply; 'reset' drops the connection; 'forward' is the default; `lateMs` forwards (Telegram accepts it) but answers that much later. */
export type Answer = { status: number; body: Record<string, unknown> } | 'reset' | 'forward' | { lateMs: number };
export type Behaviour = (request: {
  method: string;
  chatId: string | null;
  body: Record<string, unknown> | null;
  index: number;
}) => Answer | undefined;

export interface LimitsEnforced {
  readonly ratePerS: number;
  readonly chatRatePerS: number;
  /** Seconds in the 429s it sends. */
  readonly retryAfterS?: number;
  /** Windows are this much shorter than a second (network jitter between sender and proxy). */
  readonly toleranceMs?: number;
}

export interface TelegramEmulator {
  /** What to give telegraf as `apiRoot` (the proxy). */
  readonly apiRoot: string;
  readonly token: string;
  readonly server: TelegramServerClass;
  readonly requests: ProxiedRequest[];
  readonly photos: { chatId: string | null; png: Buffer; caption: string | undefined }[];
  behaviour: Behaviour | undefined;
  limits: LimitsEnforced | undefined;
  /** Messages the emulator stored for the bot (what reached "Telegram"). */
  delivered(): { chatId: string; text: string; disableNotification: boolean; replyMarkup: unknown }[];
  close(): Promise<void>;
}

function tooMany(retryAfter: number) {
  return {
    status: 429,
    body: {
      ok: false,
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    },
  };
}

export const answers = {
  tooMany,
  blocked: { status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } },
  chatNotFound: { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } },
  badGateway: { status: 502, body: { ok: false, error_code: 502, description: 'Bad Gateway' } },
} as const;

/** `clock`: arrivals are stamped, and Telegram's limits counted, on it (a test's ManualClock). */
export async function startTelegramEmulator(options: { limits?: LimitsEnforced; clock?: Clock } = {}): Promise<TelegramEmulator> {
  const clock = options.clock ?? monotonicClock;
  const emulatorPort = await freePort();
  const server = new TelegramServer({ port: emulatorPort, host: '127.0.0.1', storeTimeout: 24 * 3600 });
  await server.start();
  const requests: ProxiedRequest[] = [];
  const photos: TelegramEmulator['photos'] = [];
  const accepted: { at: number; chatId: string | null }[] = [];
  let photoSeq = 1_000_000;

  const emulator: TelegramEmulator = {
    apiRoot: '',
    token: TEST_BOT_TOKEN,
    server,
    requests,
    photos,
    behaviour: undefined,
    limits: options.limits,
    delivered() {
      return server.storage.botMessages
        .filter((update) => update.botToken === TEST_BOT_TOKEN)
        .map((update) => {
          const message = update.message as unknown as Record<string, unknown>;
          return {
            chatId: String(message.chat_id),
            text: String(message.text),
            disableNotification: message.disable_notification === true,
            replyMarkup: message.reply_markup,
          };
        });
    },
    async close() {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      await server.stop();
    },
  };

  const overLimit = (at: number, chatId: string | null): boolean => {
    const limits = emulator.limits;
    if (!limits) return false;
    const windowMs = 1000 - (limits.toleranceMs ?? 50);
    while (accepted.length > 0 && accepted[0]!.at <= at - 1000) accepted.shift();
    const recent = accepted.filter((entry) => entry.at > at - windowMs);
    if (recent.length >= limits.ratePerS) return true;
    return chatId !== null && recent.filter((entry) => entry.chatId === chatId).length >= limits.chatRatePerS;
  };

  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const at = clock.now();
        const raw = Buffer.concat(chunks);
        const method = /\/bot[^/]+\/([A-Za-z]+)/.exec(req.url ?? '')?.[1] ?? '';
        const multipart = (req.headers['content-type'] ?? '').startsWith('multipart/');
        let body: Record<string, unknown> | null = null;
        let chatId: string | null = null;
        if (multipart) {
          const text = raw.toString('latin1');
          chatId = /name="chat_id"\r\n\r\n(-?\d+)/.exec(text)?.[1] ?? null;
          const caption = /name="caption"\r\n\r\n([^\r]*)/.exec(text)?.[1];
          body = {
            chat_id: chatId,
            ...(caption !== undefined ? { caption: Buffer.from(caption, 'latin1').toString('utf8') } : {}),
            disable_notification: /name="disable_notification"\r\n\r\ntrue/.test(text),
          };
        } else if (raw.length > 0) {
          try {
            body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
            chatId = body.chat_id === undefined ? null : String(body.chat_id);
          } catch {
            body = null;
          }
        }
        const entry: ProxiedRequest = { method, chatId, at, body, status: 0 };
        requests.push(entry);
        const reply = (status: number, payload: unknown) => {
          entry.status = status;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        const answer = emulator.behaviour?.({ method, chatId, body, index: requests.length - 1 });
        if (answer === 'reset') {
          entry.status = -1;
          req.socket.destroy();
          return;
        }
        const lateMs = answer && typeof answer === 'object' && 'lateMs' in answer ? answer.lateMs : 0;
        if (answer && answer !== 'forward' && !('lateMs' in answer)) {
          if (answer.status === 429) entry.retryAfter = (answer.body.parameters as { retry_after: number }).retry_after;
          reply(answer.status, answer.body);
          return;
        }
        if (method === 'sendMessage' || method === 'sendPhoto') {
          if (overLimit(at, chatId)) {
            const retry = emulator.limits?.retryAfterS ?? 1;
            entry.retryAfter = retry;
            const { status, body: tooManyBody } = tooMany(retry);
            reply(status, tooManyBody);
            return;
          }
          accepted.push({ at, chatId });
        }
        if (method === 'sendPhoto') {
          const start = raw.indexOf(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
          const end = raw.indexOf(Buffer.from('IEND'), start);
          photos.push({
            chatId,
            png: start >= 0 && end > 0 ? raw.subarray(start, end + 8) : Buffer.alloc(0),
            caption: body?.caption as string | undefined,
          });
          reply(200, {
            ok: true,
            result: {
              message_id: ++photoSeq,
              date: Math.floor(Date.now() / 1000),
              chat: { id: Number(chatId), type: 'private' },
              photo: [{ file_id: `photo${photoSeq}`, file_unique_id: `u${photoSeq}`, width: 900, height: 500 }],
            },
          });
          return;
        }
        try {
          const forwarded = await fetch(`http://127.0.0.1:${emulatorPort}${req.url}`, {
            method: req.method ?? 'POST',
            headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
            ...(raw.length > 0 && req.method !== 'GET' ? { body: raw } : {}),
          });
          const text = await forwarded.text();
          if (lateMs > 0) await new Promise((resolve) => setTimeout(resolve, lateMs));
          entry.status = forwarded.status;
          res.writeHead(forwarded.status, { 'content-type': 'application/json' });
          res.end(text);
        } catch (error) {
          reply(502, { ok: false, error_code: 502, description: `emulator unreachable: ${(error as Error).message}` });
        }
      })();
    });
  });
  proxy.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  (emulator as { apiRoot: string }).apiRoot = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  return emulator;
}

/** Checks the arrivals the proxy saw against the limits: most in any 1-second window, overall and per chat. */
export function observedRates(
  requests: readonly ProxiedRequest[],
  accepted = true,
): { maxPerSecond: number; maxPerChatPerSecond: number; minChatGapMs: number } {
  const list = requests
    .filter((r) => (r.method === 'sendMessage' || r.method === 'sendPhoto') && (!accepted || r.status === 200))
    .sort((a, b) => a.at - b.at);
  let maxPerSecond = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    while (list[i]!.at - list[start]!.at >= 1000) start++;
    maxPerSecond = Math.max(maxPerSecond, i - start + 1);
  }
  const byChat = new Map<string, number[]>();
  for (const r of list) byChat.set(r.chatId ?? '', [...(byChat.get(r.chatId ?? '') ?? []), r.at]);
  let maxPerChatPerSecond = 0;
  let minChatGapMs = Infinity;
  for (const times of byChat.values()) {
    let s = 0;
    for (let i = 0; i < times.length; i++) {
      while (times[i]! - times[s]! >= 1000) s++;
      maxPerChatPerSecond = Math.max(maxPerChatPerSecond, i - s + 1);
      if (i > 0) minChatGapMs = Math.min(minChatGapMs, times[i]! - times[i - 1]!);
    }
  }
  return { maxPerSecond, maxPerChatPerSecond, minChatGapMs };
}
