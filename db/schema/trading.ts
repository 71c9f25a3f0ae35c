import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, decimal, id, instant, updatedAt } from './columns.ts';
import { tenantRef, tenants, users } from './tenancy.ts';

// Units: `*Quote` columns are in the symbol's quote currency (USDT for the default
// symbols), `*Base` columns in its base asset (BTC, ETH, ...). All are exact decimals.

export const exchangeAccountStatuses = ['active', 'frozen', 'revoked'] as const;
export const exchangeAccountStatus = pgEnum('exchange_account_status', exchangeAccountStatuses);

/**
 * A trader's exchange credentials. Key and secret are AES-256-GCM ciphertexts (see
 * `secrets/`); only the last four characters of the key are kept in clear, for display.
 */
export const exchangeAccounts = pgTable(
  'exchange_accounts',
  {
    id: id(),
    tenantId: tenantRef(),
    exchange: text().notNull().default('binance'),
    label: text().notNull(),
    apiKeyEncrypted: text().notNull(),
    apiSecretEncrypted: text().notNull(),
    passphraseEncrypted: text(),
    apiKeyLast4: text().notNull(),
    /** Testnet/sandbox endpoints; live endpoints need this false and live trading enabled. */
    sandbox: boolean().notNull().default(true),
    status: exchangeAccountStatus().notNull().default('active'),
    frozenAt: instant(),
    frozenReason: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('exchange_accounts_tenant_idx').on(t.tenantId)],
);

/**
 * Strategy parameters. A row with no tenant holds the defaults everyone starts from; a
 * trader's own row overrides them for that trader.
 */
export const strategies = pgTable(
  'strategies',
  {
    id: id(),
    tenantId: uuid().references(() => tenants.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    description: text(),
    parameters: jsonb().$type<Record<string, unknown>>().notNull(),
    version: integer().notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('strategies_tenant_name_unique').on(t.tenantId, t.name).nullsNotDistinct()],
);

export const botModes = ['paper', 'live'] as const;
export type BotMode = (typeof botModes)[number];
export const botMode = pgEnum('bot_mode', botModes);

export const botStatuses = ['stopped', 'starting', 'running', 'stopping', 'paused', 'error', 'frozen'] as const;
export type BotStatus = (typeof botStatuses)[number];
export const botStatus = pgEnum('bot_status', botStatuses);

export const bots = pgTable(
  'bots',
  {
    id: id(),
    tenantId: tenantRef(),
    name: text().notNull(),
    strategyName: text().notNull(),
    parameters: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    symbols: text().array().notNull(),
    timeframe: text().notNull().default('5m'),
    mode: botMode().notNull().default('paper'),
    status: botStatus().notNull().default('stopped'),
    exchangeAccountId: uuid().references(() => exchangeAccounts.id, { onDelete: 'set null' }),
    /** Cash the bot may commit, in quote currency. */
    stakeQuote: decimal().notNull(),
    /** Paper wallet balance, in quote currency (live bots read the exchange). */
    paperBalanceQuote: decimal(),
    /** The trader's cap on positions held at once (no new entry at it); null: the operator's risk limit alone. */
    maxOpenPositions: integer(),
    lastError: text(),
    startedAt: instant(),
    stoppedAt: instant(),
    lastTickAt: instant(),
    /** freqtrade's /stopentry: since when the bot opens no new position (exits still run); null: entries allowed. */
    entriesStoppedAt: instant(),
    /**
     * Fencing: raised each time a worker takes the bot over. A worker acts (ticks, orders) only
     * while this still equals the epoch it got, so one that lost its lock stops at once.
     */
    ownerEpoch: bigint({ mode: 'number' }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('bots_tenant_idx').on(t.tenantId, t.status), index('bots_status_idx').on(t.status)],
);

/**
 * One row per bot and tick interval, written when a worker processes that tick: the
 * database's guarantee that a tick runs once per interval however many workers there are.
 */
export const botTicks = pgTable(
  'bot_ticks',
  {
    botId: uuid()
      .notNull()
      .references(() => bots.id, { onDelete: 'cascade' }),
    /** Start of the interval (UTC), e.g. every 10 s. */
    slotAt: instant().notNull(),
    workerId: text().notNull(),
    ownerEpoch: bigint({ mode: 'number' }).notNull(),
    processedAt: instant().notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.botId, t.slotAt] }), index('bot_ticks_processed_idx').on(t.processedAt)],
);

/** The bot a row belongs to; its orders, trades and positions go with it. */
const botRef = () =>
  uuid()
    .notNull()
    .references(() => bots.id, { onDelete: 'cascade' });

export const orderSides = ['buy', 'sell'] as const;
export const orderSide = pgEnum('order_side', orderSides);
export const orderTypes = ['market', 'limit', 'stop_loss', 'take_profit'] as const;
export const orderType = pgEnum('order_type', orderTypes);
export const orderStatuses = ['new', 'open', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired'] as const;
export const orderStatus = pgEnum('order_status', orderStatuses);

export const orders = pgTable(
  'orders',
  {
    id: id(),
    tenantId: tenantRef(),
    botId: botRef(),
    /** Our idempotency key, sent to the exchange; unique per bot so a retry never doubles an order. */
    clientOrderId: text().notNull(),
    exchangeOrderId: text(),
    symbol: text().notNull(),
    side: orderSide().notNull(),
    type: orderType().notNull(),
    status: orderStatus().notNull().default('new'),
    amountBase: decimal().notNull(),
    limitPriceQuote: decimal(),
    filledBase: decimal().notNull().default('0'),
    averagePriceQuote: decimal(),
    feeQuote: decimal().notNull().default('0'),
    /** Why the order was placed: entry, exit signal, stop loss, take profit, manual, forced exit. */
    reason: text().notNull(),
    rejectReason: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('orders_bot_client_order_id_unique').on(t.botId, t.clientOrderId),
    index('orders_tenant_time_idx').on(t.tenantId, t.createdAt),
    index('orders_bot_time_idx').on(t.botId, t.createdAt),
    // The anomaly scan's order bursts: every bot's orders of the last hours.
    index('orders_time_idx').on(t.createdAt),
  ],
);

export const tradeStatuses = ['open', 'closed'] as const;
export const tradeStatus = pgEnum('trade_status', tradeStatuses);

/** A round trip (entry and exit), as freqtrade counts trades. Long-only spot. */
export const trades = pgTable(
  'trades',
  {
    id: id(),
    tenantId: tenantRef(),
    botId: botRef(),
    symbol: text().notNull(),
    status: tradeStatus().notNull().default('open'),
    amountBase: decimal().notNull(),
    openPriceQuote: decimal().notNull(),
    closePriceQuote: decimal(),
    feeQuote: decimal().notNull().default('0'),
    /** Net of fees, in quote currency; set when closed. */
    profitQuote: decimal(),
    profitPct: decimal(),
    exitReason: text(),
    openedAt: instant().notNull(),
    closedAt: instant(),
  },
  (t) => [
    index('trades_tenant_closed_idx').on(t.tenantId, t.closedAt),
    index('trades_bot_opened_idx').on(t.botId, t.openedAt),
    index('trades_open_idx').on(t.status).where(sql`${t.status} = 'open'`),
  ],
);

export const positions = pgTable(
  'positions',
  {
    id: id(),
    tenantId: tenantRef(),
    botId: botRef(),
    symbol: text().notNull(),
    amountBase: decimal().notNull(),
    averageEntryPriceQuote: decimal().notNull(),
    stopLossPriceQuote: decimal(),
    takeProfitPriceQuote: decimal(),
    openedAt: instant().notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('positions_bot_symbol_unique').on(t.botId, t.symbol), index('positions_tenant_idx').on(t.tenantId)],
);

/**
 * Market data cache. The primary key includes the open time so the table can become a
 * TimescaleDB hypertable (see the custom migration) where that extension exists.
 */
export const candles = pgTable(
  'candles',
  {
    exchange: text().notNull(),
    symbol: text().notNull(),
    timeframe: text().notNull(),
    openTime: instant().notNull(),
    open: decimal().notNull(),
    high: decimal().notNull(),
    low: decimal().notNull(),
    close: decimal().notNull(),
    volumeBase: decimal().notNull(),
  },
  (t) => [primaryKey({ name: 'candles_pk', columns: [t.exchange, t.symbol, t.timeframe, t.openTime] })],
);

/**
 * One row per candle series (exchange, symbol, timeframe) that has been written: `version`
 * is a new random value at every write to that series' candles (trading/market-data/store.ts
 * writes both in one statement). A reader that kept bars in memory checks this one row instead
 * of scanning its range again (trading/market-data/range-cache.ts).
 */
export const candleSeriesVersions = pgTable(
  'candle_series_versions',
  {
    exchange: text().notNull(),
    symbol: text().notNull(),
    timeframe: text().notNull(),
    version: uuid().notNull(),
  },
  (t) => [primaryKey({ name: 'candle_series_versions_pk', columns: [t.exchange, t.symbol, t.timeframe] })],
);

export const backtestStatuses = ['queued', 'running', 'succeeded', 'failed'] as const;
export const backtestStatus = pgEnum('backtest_status', backtestStatuses);

export const backtests = pgTable(
  'backtests',
  {
    id: id(),
    tenantId: tenantRef(),
    requestedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    strategyName: text().notNull(),
    parameters: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    symbol: text().notNull(),
    timeframe: text().notNull(),
    rangeStart: instant(),
    rangeEnd: instant(),
    feeRate: decimal().notNull(),
    startingCashQuote: decimal().notNull(),
    status: backtestStatus().notNull().default('queued'),
    error: text(),
    createdAt: createdAt(),
    finishedAt: instant(),
  },
  (t) => [index('backtests_tenant_time_idx').on(t.tenantId, t.createdAt)],
);

export const backtestResults = pgTable('backtest_results', {
  backtestId: uuid()
    .primaryKey()
    .references(() => backtests.id, { onDelete: 'cascade' }),
  tenantId: tenantRef(),
  candles: integer().notNull(),
  closedTrades: integer().notNull(),
  finalEquityQuote: decimal().notNull(),
  totalReturnPct: decimal().notNull(),
  maxDrawdownPct: decimal().notNull(),
  winRatePct: decimal(),
  profitFactor: decimal(),
  sharpe: decimal(),
  exposurePct: decimal(),
  /** The full metrics object, the trade list and the equity curve as the engine produced them. */
  metrics: jsonb().$type<Record<string, unknown>>().notNull(),
  tradeList: jsonb().$type<unknown[]>().notNull(),
  equityCurve: jsonb().$type<unknown[]>().notNull(),
  elapsedMs: bigint({ mode: 'number' }),
  createdAt: createdAt(),
});

/**
 * Candles a trader uploaded for one backtest (POST /backtests with a CSV file) instead of naming
 * cached ones: the CSV as the engine's loader accepted it, beside its backtest and in the same
 * tenant, read only by that backtest's job. Never part of the shared candle cache.
 */
export const backtestUploads = pgTable('backtest_uploads', {
  backtestId: uuid()
    .primaryKey()
    .references(() => backtests.id, { onDelete: 'cascade' }),
  tenantId: tenantRef(),
  fileName: text(),
  candles: integer().notNull(),
  sizeBytes: integer().notNull(),
  /** SHA-256 of the CSV, hex. */
  sha256: text().notNull(),
  csv: text().notNull(),
  createdAt: createdAt(),
});

/**
 * The paper exchange's own book: what a real exchange would remember about the orders it
 * received, kept apart from the bot's records (orders, trades, positions) so that after a
 * crash the runner can ask "did the exchange get this order?" exactly as it would ask Binance.
 */
export const paperOrders = pgTable(
  'paper_orders',
  {
    id: id(),
    tenantId: tenantRef(),
    botId: botRef(),
    clientOrderId: text().notNull(),
    symbol: text().notNull(),
    side: orderSide().notNull(),
    type: orderType().notNull(),
    status: orderStatus().notNull(),
    amountBase: decimal().notNull(),
    limitPriceQuote: decimal(),
    filledBase: decimal().notNull().default('0'),
    averagePriceQuote: decimal(),
    feeQuote: decimal().notNull().default('0'),
    rejectReason: text(),
    /** Open time of the last closed bar when the order arrived: limit orders match bars after it. */
    marketTime: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('paper_orders_bot_client_order_id_unique').on(t.botId, t.clientOrderId),
    index('paper_orders_open_idx').on(t.botId, t.status),
  ],
);

/** The paper wallet of each bot, per asset (quote currency and base assets), exact decimals. */
export const paperBalances = pgTable(
  'paper_balances',
  {
    botId: botRef(),
    tenantId: tenantRef(),
    asset: text().notNull(),
    amount: decimal().notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ name: 'paper_balances_pk', columns: [t.botId, t.asset] })],
);

/**
 * freqtrade's pair locks: while a lock runs (until `lockedUntil`, unless lifted at `unlockedAt`)
 * the bot opens no new position in `symbol`; exits still run. `symbol` `*` locks every pair of
 * the bot. A lock with no bot holds for every bot of the tenant. Set by the trader (/lock,
 * the API) or by the engine (`createdByUserId` null: the stop-loss cooldown of the risk limits).
 * Spot is long-only, so a lock has no side: it always holds entries.
 */
export const pairLocks = pgTable(
  'pair_locks',
  {
    id: id(),
    tenantId: tenantRef(),
    botId: uuid().references(() => bots.id, { onDelete: 'cascade' }),
    symbol: text().notNull(),
    reason: text().notNull(),
    lockedAt: createdAt(),
    lockedUntil: instant().notNull(),
    createdByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    unlockedAt: instant(),
    unlockedByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [index('pair_locks_tenant_until_idx').on(t.tenantId, t.lockedUntil), index('pair_locks_bot_until_idx').on(t.botId, t.lockedUntil)],
);

export const botDraftStatuses = ['draft', 'started', 'discarded'] as const;
export const botDraftStatus = pgEnum('bot_draft_status', botDraftStatuses);

/**
 * A bot the trader's assistant drafted from a trader's words (issue 22), before it is a bot: it
 * may still miss fields (`questions`), it counts against no plan limit and has no wallet. It
 * becomes a paper bot (`botId`) only when the trader confirms, after its backtest
 * (`backtestId`, with buy-and-hold beside it in `backtestSummary`). Not a bot status: a draft
 * is never ticked, listed among bots or started by anything but the assistant's start.
 */
export const botDrafts = pgTable(
  'bot_drafts',
  {
    id: id(),
    tenantId: tenantRef(),
    createdByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    /** The trader's own words, as sent. */
    description: text().notNull(),
    locale: text().notNull(),
    status: botDraftStatus().notNull().default('draft'),
    name: text().notNull(),
    strategyName: text(),
    parameters: jsonb().$type<Record<string, number>>().notNull().default({}),
    symbols: text().array().notNull().default(sql`'{}'::text[]`),
    timeframe: text(),
    /** Cash the bot may commit, in quote currency. */
    stakeQuote: decimal(),
    maxOpenPositions: integer(),
    /** What the words left open or out of range: asked back, never filled with a default that spends money. */
    questions: jsonb().$type<{ field: string; question: string }[]>().notNull().default([]),
    backtestId: uuid().references(() => backtests.id, { onDelete: 'set null' }),
    backtestSummary: jsonb().$type<Record<string, unknown>>(),
    botId: uuid().references(() => bots.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('bot_drafts_tenant_idx').on(t.tenantId, t.status)],
);

/**
 * Every set of parameters a bot has traded with (issue 22): written when its parameters change
 * (an accepted walk-forward improvement, a rollback), the first change also keeping the
 * parameters the bot had before it as version 1, so any earlier version can be restored.
 */
export const botVersions = pgTable(
  'bot_versions',
  {
    id: id(),
    tenantId: tenantRef(),
    botId: uuid()
      .notNull()
      .references(() => bots.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    parameters: jsonb().$type<Record<string, number>>().notNull(),
    /** Why the parameters changed, in the words of what changed them (e.g. "walk-forward improvement"). */
    reason: text().notNull(),
    createdByUserId: uuid().references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [unique('bot_versions_bot_version_unique').on(t.botId, t.version), index('bot_versions_tenant_idx').on(t.tenantId, t.botId)],
);
