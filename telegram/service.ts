import type { Registry } from 'prom-client';
import type { AgentRuntime } from '../agents/index.ts';
import type { BillingService } from '../billing/index.ts';
import { ConfigError, type Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import {
  DEFAULT_RISK_LIMITS,
  exchangeForBot,
  exchangeWhenReachable,
  killSwitchEngaged,
  paperMarketOptions,
  type PaperMarkets,
} from '../trading/index.ts';
import { TelegramDoor, type TelegramWebhook } from './door.ts';
import { createDeliveryJournal, createTelegramDelivery, type TelegramDelivery } from './outbox/index.ts';

/** Telegram as `botcriptofy start` runs it: the door (polling or webhook) and the outbox. */
export interface TelegramService {
  readonly door: TelegramDoor;
  readonly delivery: TelegramDelivery;
  /** For the HTTP server, in webhook mode. */
  readonly webhook: TelegramWebhook | undefined;
  start(): Promise<void>;
  /** The door drains its updates, then the outbox finishes the sends in flight. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * Builds the Telegram door and its outbox from the configuration; undefined without
 * TELEGRAM_BOT_TOKEN (the door is off). Webhook mode needs TELEGRAM_WEBHOOK_SECRET.
 */
export function createTelegramService(options: {
  config: Config;
  db: Database;
  billing: BillingService;
  agents: AgentRuntime;
  logger: Logger;
  secretBox: SecretBox;
  /** Where paper bots get prices (the same choice as the workers'). */
  paperMarkets?: PaperMarkets;
  metricsRegistry?: Registry;
}): TelegramService | undefined {
  const { config, db, logger } = options;
  const telegram = config.telegram;
  if (!telegram.botToken) return undefined;
  if (telegram.webhookUrl && !telegram.webhookSecret) {
    throw new ConfigError([
      {
        variable: 'TELEGRAM_WEBHOOK_SECRET',
        value: undefined,
        expected:
          'required when TELEGRAM_WEBHOOK_URL is set: 16–256 letters, digits, _ or - (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token)',
      },
    ]);
  }
  const journal = createDeliveryJournal({ redisUrl: config.jobs.redisUrl, dataDir: config.dataDir });
  const delivery = createTelegramDelivery(telegram, db, {
    logger,
    journal,
    redisUrl: config.jobs.redisUrl,
    ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
  })!;
  const door = new TelegramDoor({
    botToken: telegram.botToken,
    apiRoot: telegram.apiRoot,
    db,
    billing: options.billing,
    agents: options.agents,
    logger,
    delivery,
    ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
    webhook: telegram.webhookUrl && telegram.webhookSecret ? { url: telegram.webhookUrl, secret: telegram.webhookSecret } : undefined,
    // /backtest downloads the candles the cache lacks, as `ask` does, when the paper markets read the exchange.
    ...(options.paperMarkets ? { marketData: exchangeWhenReachable(async () => options.paperMarkets!) } : {}),
    tradingMode: config.trading.mode,
    trading: {
      exchangeFor: (bot) =>
        exchangeForBot(db, bot, {
          tradingMode: config.trading.mode,
          secretBox: options.secretBox,
          ...paperMarketOptions(options.paperMarkets, bot.timeframe),
        }),
      limits: DEFAULT_RISK_LIMITS,
      killSwitch: () => killSwitchEngaged(db, config.trading.killSwitch),
    },
  });
  return {
    door,
    delivery,
    ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
    webhook: door.webhook,
    async start() {
      delivery.outbox.start();
      await door.start();
    },
    async stop(timeoutMs) {
      await door.stop(Math.max(100, timeoutMs / 2));
      await delivery.stop({ timeoutMs: Math.max(100, timeoutMs / 2) });
    },
  };
}
