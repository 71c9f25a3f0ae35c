import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { ModelGateway, type AgentRuntime } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import type { Database } from '../../db/index.ts';
import { issueLinkCode } from '../../identity/index.ts';
import { createMastra } from '../../mastra.config.ts';
import { createLogger } from '../../observability/index.ts';
import { TelegramDoor, type TelegramDoorOptions } from '../../telegram/index.ts';
import { createTelegramDelivery, type TelegramDelivery } from '../../telegram/outbox/index.ts';
import { DEFAULT_RISK_LIMITS } from '../../trading/index.ts';
import { freePort } from './ports.ts';
import { TelegramChat } from './telegram-chat.ts';
import { startTelegramEmulator, type TelegramEmulator } from './telegram-emulator.ts';

// The Telegram door end to end for tests: the Bot API emulator (telegram-test-api), the outbox's
// delivery to it, and the door polling it — with the ways a test talks through them (send and
// wait until handled, press a button, link a person) and one close for all of it.

export const silentLogger = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The agents over a model at `host` (a scripted Ollama), or offline (nothing listens on the port) without one. */
export async function testAgents(
  database: Database,
  options: { host?: string; timeoutMs?: number } = {},
): Promise<{ agents: AgentRuntime; gateway: ModelGateway }> {
  const gateway = new ModelGateway({
    host: options.host ?? `http://127.0.0.1:${await freePort()}`,
    model: 'qwen3:0.6b',
    agentModels: {},
    timeoutMs: options.timeoutMs ?? 2_000,
  });
  return { agents: { mastra: createMastra({ db: database, gateway, logger: silentLogger }), gateway, logger: silentLogger }, gateway };
}

/** A new trader account (tenant and user named `name`, email `name@example.com`) reading `locale`, chosen at `now`. */
export async function addTrader(
  database: Database,
  name: string,
  locale: 'pt-BR' | 'en',
  now: Date,
): Promise<{ tenantId: string; userId: string; email: string }> {
  const tenantId = crypto.randomUUID();
  const userId = crypto.randomUUID();
  const email = `${name}@example.com`;
  await database.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
  await database.insert(db.users).values({ id: userId, tenantId, email, name, locale, localeChosenAt: now });
  return { tenantId, userId, email };
}

/** A trading access whose exchange always fails with `message` (no exchange in the test, or one that is down). */
export function failingExchange(message = 'no exchange in this test'): NonNullable<TelegramDoorOptions['trading']> {
  return {
    exchangeFor: async () => {
      throw new Error(message);
    },
    limits: DEFAULT_RISK_LIMITS,
    killSwitch: async () => false,
  };
}

export interface TelegramDoorHarness {
  readonly emulator: TelegramEmulator;
  readonly delivery: TelegramDelivery;
  readonly door: TelegramDoor;
  /** Everything sent so far was taken by the door (not merely fetched from the emulator) and handled. */
  settle(): Promise<void>;
  /** Sends and returns every reply to it (edits included, as they stand once handled). */
  ask(chat: TelegramChat, text: string): Promise<string[]>;
  /** Presses a button and returns every reply to it. */
  press(chat: TelegramChat, data: string, messageId: number): Promise<string[]>;
  /** A new chat for Telegram user `telegramUserId`, linked to `email` with /start and a fresh code (its two replies read). */
  link(
    email: string,
    kind: 'staff' | 'trader',
    telegramUserId: number,
    chat?: Omit<ConstructorParameters<typeof TelegramChat>[1], 'userId'>,
  ): Promise<TelegramChat>;
  /** Stops the door and the outbox and closes the emulator. */
  close(): Promise<void>;
}

/**
 * Starts the emulator, the delivery (its outbox started) and the door on `db`. The door's defaults:
 * local billing (no Stripe key), a silent logger, no background approvals or start follow-ups,
 * polling every 10 ms idle, and no exchange; `door` overrides any of them.
 */
export async function startTelegramDoor(options: {
  db: Database;
  agents: AgentRuntime;
  outboxPollMs?: number;
  door?: Partial<Omit<TelegramDoorOptions, 'botToken' | 'apiRoot' | 'db' | 'agents' | 'delivery'>>;
}): Promise<TelegramDoorHarness> {
  const database = options.db;
  const emulator = await startTelegramEmulator();
  const delivery = createTelegramDelivery(
    {
      botToken: emulator.token,
      apiRoot: emulator.apiRoot,
      webhookUrl: undefined,
      webhookSecret: undefined,
      ratePerS: 1_000,
      chatRatePerS: 100,
    },
    database,
    { logger: silentLogger, pollIntervalMs: options.outboxPollMs ?? 20 },
  )!;
  delivery.outbox.start();
  const door = new TelegramDoor({
    billing: new BillingService(database, undefined),
    logger: silentLogger,
    trading: failingExchange(),
    approvalsEveryMs: 0,
    startFollowUpEveryMs: 0,
    poll: { idleMs: 10 },
    ...options.door,
    botToken: emulator.token,
    apiRoot: emulator.apiRoot,
    db: database,
    agents: options.agents,
    delivery,
  });
  await door.start();

  async function settle(): Promise<void> {
    const untaken = () => emulator.server.storage.userMessages.filter((u) => u.botToken === emulator.token && !door.hasTaken(u.updateId));
    for (let i = 0; i < 2_000 && untaken().length > 0; i++) await sleep(5);
    await door.idle();
  }

  return {
    emulator,
    delivery,
    door,
    settle,
    async ask(chat, text) {
      chat.skip();
      await chat.send(text);
      await settle();
      return chat.fresh().map((m) => m.plain);
    },
    async press(chat, data, messageId) {
      chat.skip();
      await chat.press(data, messageId);
      await settle();
      return chat.fresh().map((m) => m.plain);
    },
    async link(email, kind, telegramUserId, chatOptions) {
      const chat = new TelegramChat(emulator, { ...chatOptions, userId: telegramUserId });
      const { code } = await issueLinkCode(database, { email, kind });
      await chat.send(`/start ${code}`);
      await chat.replies(2);
      return chat;
    },
    async close() {
      await door.stop(5_000);
      await delivery.outbox.stop({ timeoutMs: 2_000 });
      await emulator.close();
    },
  };
}
