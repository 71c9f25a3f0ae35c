import { and, count, eq, gte, inArray, sql } from 'drizzle-orm';
import { appendAudit } from '../../audit/index.ts';
import { bots, orders, positions, trades, type Database } from '../../db/index.ts';
import { ExchangeRejectedError, ExchangeUnavailableError, splitSymbol, type Exchange, type ExchangeOrder } from '../exchange/index.ts';
import { checkOrder, entryLock, lockPair, STOP_LOSS_COOLDOWN_REASON, type RiskLimits } from '../risk/index.ts';
import { ENTER, EXIT, getStrategy, parseStrategyParameters, type Strategy, type StrategyRunner } from '../strategies/index.ts';
import { clientOrderIdFor, forceExitOrderIdFor } from './client-order-id.ts';
import type { BotEvent } from './events.ts';
import { markBotsTicked, openPositionsOf } from './ownership.ts';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.ts';

type BotRow = typeof bots.$inferSelect;
type OrderRow = typeof orders.$inferSelect;
type PositionRow = typeof positions.$inferSelect;

export interface TickOptions {
  /** false: the caller writes the lastTickAt stamp (batched for many bots). */
  readonly recordTick?: boolean;
  /**
   * The bot's open positions, when the caller read them for many bots in one query just before
   * (openPositionsOf): the tick then reads none of its own. Only this bot's own orders change
   * them, and the tick's orders are for the symbol it is deciding.
   */
  readonly positions?: readonly PositionRow[];
}
type ExitReason = 'signal' | 'stop_loss' | 'take_profit' | 'forced';

export interface BotRunnerDeps {
  readonly db: Database;
  readonly exchange: Exchange;
  readonly limits: RiskLimits;
  /** The global kill switch, read on every decision. */
  readonly killSwitch: () => boolean | Promise<boolean>;
  readonly onEvent?: (event: BotEvent) => void;
  readonly retry?: RetryPolicy;
  /**
   * Test seams that stand for a crash between the steps of placing an order: they throw,
   * and a fresh runner (a restarted process) must recover from the state left behind.
   */
  readonly crashPoints?: { afterOrderRecorded?: () => void; afterOrderPlaced?: () => void };
  /**
   * Fencing for workers that share bots: the owner epoch this runner's worker got when it took
   * the bot. Ticks and new orders are refused (StaleOwnerError) once the bot's epoch moved on.
   */
  readonly fence?: { readonly epoch: number };
  /** The clock pair locks are read and written by (tests inject one). Default: the system's. */
  readonly now?: () => Date;
}

/** This runner's worker no longer owns the bot: another took it over. */
export class StaleOwnerError extends Error {
  readonly botId: string;
  constructor(botId: string, epoch: number, current: number | undefined) {
    super(`bot ${botId} is owned by epoch ${current ?? '?'} now, not ${epoch}: this worker lost it`);
    this.name = 'StaleOwnerError';
    this.botId = botId;
  }
}

/** What became of one position a forced exit tried to close. */
export interface ForcedExit {
  readonly symbol: string;
  /**
   * `already`: this position's exit order was filled by an earlier call (a second press);
   * `refused`: the risk gate said no; `rejected`: the exchange did; `open`: not filled yet.
   */
  readonly outcome: 'filled' | 'open' | 'rejected' | 'refused' | 'already';
  readonly amountBase: string;
  readonly priceQuote: string | null;
  readonly profitQuote: string | null;
  readonly reason: string | null;
}

export interface TickReport {
  readonly candles: number;
  readonly ordersPlaced: number;
  readonly refusals: number;
  readonly recovered: number;
  /** Entry signals not acted on because the bot's market feed was stale (exits still run). */
  readonly entriesHeldStale: number;
  /** Entry signals not acted on because the pair was locked (pair_locks: the trader's or a stop-loss cooldown). */
  readonly entriesHeldLocked: number;
}

/** A bot's strategy built from its stored parameters, and what they were. */
interface Built {
  readonly strategy: Strategy;
  readonly parameters: Record<string, number>;
  readonly key: string;
}
const keyOf = (bot: BotRow) => JSON.stringify([bot.strategyName, bot.parameters]);
function build(bot: BotRow): Built {
  const strategy = getStrategy(bot.strategyName);
  return { strategy, parameters: parseStrategyParameters(strategy, bot.parameters), key: keyOf(bot) };
}

interface SymbolState {
  readonly runner: StrategyRunner;
  lastOpenTime: number;
}

/**
 * Runs one bot: on each tick it reads the newly closed candles, feeds the strategy, checks
 * stops, and turns a signal into an order through the risk gate. Every order is written to
 * the database under a deterministic client order id before it is sent, so after a crash
 * `tick()` first reconciles those rows with what the exchange actually has: nothing is
 * placed twice and positions match the fills.
 */
export class BotRunner {
  private readonly deps: BotRunnerDeps;
  private bot: BotRow;
  private built: Built;
  private readonly symbols = new Map<string, SymbolState>();
  private warmedUp = false;
  private needsReconcile = true;

  constructor(deps: BotRunnerDeps, bot: BotRow) {
    this.deps = deps;
    this.bot = bot;
    this.built = build(bot);
  }

  private get strategy(): Strategy {
    return this.built.strategy;
  }

  private get parameters(): Record<string, number> {
    return this.built.parameters;
  }

  /**
   * The bot's stored strategy and parameters changed since this runner was built (a new bot
   * version: an applied improvement, a rollback): the strategy is built again from them and
   * warms up again on recent candles, so a running bot trades with them from this tick on.
   * Open positions keep the stops they were opened with.
   */
  private rebuildIfChanged(): void {
    if (keyOf(this.bot) === this.built.key) return;
    this.built = build(this.bot);
    this.symbols.clear();
    this.warmedUp = false;
  }

  static async load(deps: BotRunnerDeps, botId: string): Promise<BotRunner> {
    const [bot] = await deps.db.select().from(bots).where(eq(bots.id, botId));
    if (!bot) throw new Error(`bot ${botId} does not exist`);
    return new BotRunner(deps, bot);
  }

  get botId(): string {
    return this.bot.id;
  }

  /** Feeds history so indicators are ready; the newest closed candle is left for the first tick. */
  private async warmUp(): Promise<void> {
    const history = this.strategy.warmupBars(this.parameters) * 3 + 10;
    for (const symbol of this.bot.symbols) {
      const runner = this.strategy.create(this.parameters);
      const candles = await withRetry(() => this.deps.exchange.fetchCandles(symbol, this.bot.timeframe, undefined, history), this.retry);
      const feed = candles.slice(0, -1);
      for (const c of feed) runner.next(c[1]!, c[2]!, c[3]!, c[4]!, c[5]!);
      this.symbols.set(symbol, { runner, lastOpenTime: feed.at(-1)?.[0] ?? -1 });
    }
    this.warmedUp = true;
  }

  private get retry(): RetryPolicy {
    return this.deps.retry ?? DEFAULT_RETRY;
  }

  /**
   * One tick. `fresh` is the bot's current row when the caller already read it (a worker
   * ticking many bots reads them in one query); `recordTick: false` leaves the lastTickAt
   * write to that caller, which batches it.
   */
  async tick(fresh?: BotRow, options: TickOptions = {}): Promise<TickReport> {
    if (fresh) this.bot = fresh;
    else {
      const [row] = await this.deps.db.select().from(bots).where(eq(bots.id, this.bot.id));
      if (!row) throw new Error(`bot ${this.bot.id} was deleted`);
      this.bot = row;
    }
    this.assertOwner(this.bot.ownerEpoch);
    this.rebuildIfChanged();
    // Orders can only be left unfinished by a previous process or a failed send; both set
    // the flag, so healthy ticks skip the query.
    const recovered = this.needsReconcile ? await this.reconcile() : 0;
    if (this.bot.status !== 'running')
      return { candles: 0, ordersPlaced: 0, refusals: 0, recovered, entriesHeldStale: 0, entriesHeldLocked: 0 };
    let candles = 0;
    let ordersPlaced = 0;
    let refusals = 0;
    let entriesHeldStale = 0;
    let entriesHeldLocked = 0;
    // Positions read by the caller before this tick, unless the reconciliation above just
    // applied fills (which open and close positions): then each decision reads its own.
    const held = recovered > 0 ? undefined : options.positions;
    try {
      if (!this.warmedUp) await this.warmUp();
      for (const symbol of this.bot.symbols) {
        const state = this.symbols.get(symbol)!;
        const rows = await withRetry(
          () => this.deps.exchange.fetchCandles(symbol, this.bot.timeframe, state.lastOpenTime + 1, 1000),
          this.retry,
        );
        if (rows.length === 0) continue;
        let signal = 0;
        for (const c of rows) signal = state.runner.next(c[1]!, c[2]!, c[3]!, c[4]!, c[5]!);
        candles += rows.length;
        const latest = rows.at(-1)!;
        state.lastOpenTime = latest[0]!;
        const outcome = await this.decide(symbol, signal, latest, held);
        if (outcome === 'placed') ordersPlaced++;
        if (outcome === 'refused') refusals++;
        if (outcome === 'stale') entriesHeldStale++;
        if (outcome === 'locked') entriesHeldLocked++;
        if (this.bot.status !== 'running') break;
      }
      if (options.recordTick !== false) await this.deps.db.update(bots).set({ lastTickAt: new Date() }).where(eq(bots.id, this.bot.id));
    } catch (error) {
      this.needsReconcile = true;
      // The exchange failing after the retries pauses the bot with the reason; nothing is lost:
      // an order row left `new` is reconciled on the next tick.
      if (error instanceof ExchangeUnavailableError || error instanceof ExchangeRejectedError) {
        await this.pause(`exchange failure: ${error.message}`);
      }
      throw error;
    }
    return { candles, ordersPlaced, refusals, recovered, entriesHeldStale, entriesHeldLocked };
  }

  private async decide(
    symbol: string,
    signal: number,
    latest: number[],
    held: readonly PositionRow[] | undefined,
  ): Promise<'placed' | 'refused' | 'none' | 'stale' | 'locked'> {
    const [position] = held
      ? held.filter((row) => row.symbol === symbol)
      : await this.deps.db
          .select()
          .from(positions)
          .where(and(eq(positions.botId, this.bot.id), eq(positions.symbol, symbol)));
    if (position) {
      const stop = position.stopLossPriceQuote === null ? -1 : Number(position.stopLossPriceQuote);
      const take = position.takeProfitPriceQuote === null ? Number.POSITIVE_INFINITY : Number(position.takeProfitPriceQuote);
      const reason: ExitReason | null =
        latest[3]! <= stop ? 'stop_loss' : latest[2]! >= take ? 'take_profit' : signal === EXIT ? 'signal' : null;
      if (reason) return this.placeOrder(symbol, 'sell', Number(position.amountBase), latest, reason);
      return 'none';
    }
    if (signal !== ENTER) return 'none';
    // The trader's /stopentry: no new position; the exits above still run.
    if (this.bot.entriesStoppedAt) return 'none';
    // The trader's own cap on positions held at once: no new entry at it (exits above still run).
    // Counted afresh: an entry earlier in this tick, in another symbol, counts.
    if (this.bot.maxOpenPositions !== null && (await this.openPositionCount()) >= this.bot.maxOpenPositions) return 'none';
    // A pair lock (freqtrade's /locks) holds new entries in this pair until it ends; exits above still run.
    if (await entryLock(this.deps.db, this.bot, symbol, this.now())) return 'locked';
    // A stale feed (no new closed bar within two timeframes) may be showing a price long gone:
    // no new entry on it until bars arrive again. Exits above still run.
    if ((await this.deps.exchange.feedHealth?.(symbol, this.bot.timeframe))?.stale) return 'stale';
    const { quote } = splitSymbol(symbol);
    const price = latest[4]!;
    const free = (await this.deps.exchange.balances())[quote] ?? 0;
    const stake = Math.min(Number(this.bot.stakeQuote) / this.bot.symbols.length, free);
    return this.placeOrder(symbol, 'buy', (0.95 * stake) / price, latest, 'entry');
  }

  private async placeOrder(
    symbol: string,
    side: 'buy' | 'sell',
    amountBase: number,
    latest: number[],
    reason: ExitReason | 'entry',
    orderId?: string,
  ): Promise<'placed' | 'refused' | 'none'> {
    const clientOrderId = orderId ?? clientOrderIdFor(this.bot.id, symbol, latest[0]!, side);
    const [already] = await this.deps.db
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.botId, this.bot.id), eq(orders.clientOrderId, clientOrderId)));
    if (already) return 'none'; // this decision was taken before (e.g. before a restart)
    const market = await withRetry(() => this.deps.exchange.marketRules(symbol), this.retry);
    const decision = checkOrder(
      { side, symbol, amountBase, priceQuote: latest[4]!, reducesPosition: side === 'sell' },
      await this.riskState(),
      this.deps.limits,
      market,
    );
    const base = {
      tenantId: this.bot.tenantId,
      botId: this.bot.id,
      clientOrderId,
      symbol,
      side,
      type: 'market' as const,
      reason,
    };
    if (!decision.allowed) {
      await this.deps.db
        .insert(orders)
        .values({ ...base, status: 'rejected', amountBase: String(amountBase), rejectReason: `${decision.rule}: ${decision.reason}` })
        .onConflictDoNothing();
      await appendAudit(this.deps.db, {
        tenantId: this.bot.tenantId,
        actorKind: 'system',
        actorId: `bot:${this.bot.id}`,
        action: 'risk.refused',
        args: { symbol, side, amountBase, rule: decision.rule },
        outcome: 'denied',
        details: { reason: decision.reason },
      });
      this.emit({
        type: 'risk_refusal',
        botId: this.bot.id,
        tenantId: this.bot.tenantId,
        symbol,
        rule: decision.rule,
        reason: decision.reason,
      });
      if (decision.pauseBot) await this.pause(`risk limit: ${decision.reason}`);
      return 'refused';
    }
    const [row] = await this.recordOrder({ ...base, status: 'new', amountBase: String(decision.amountBase) });
    if (!row) return 'none';
    this.needsReconcile = true; // until the exchange's answer is recorded
    this.deps.crashPoints?.afterOrderRecorded?.();
    const placed = await withRetry(
      () => this.deps.exchange.placeOrder({ clientOrderId, symbol, side, type: 'market', amountBase: decision.amountBase }),
      this.retry,
    );
    this.deps.crashPoints?.afterOrderPlaced?.();
    await this.applyExchangeOrder(row, placed);
    this.needsReconcile = placed.status === 'open';
    // An exchange that answers "rejected" (the paper exchange when the wallet cannot pay) would
    // answer the same on the next bar: without this the bot would send the order again on every
    // new candle, forever. A real exchange's refusal throws and pauses the bot in tick(); this is
    // the same stop, with the exchange's reason. A forced exit reports its outcome instead.
    if (placed.status === 'rejected' && reason !== 'forced') {
      await this.pause(
        `exchange rejected the ${side === 'buy' ? 'entry' : 'exit'} in ${symbol}: ${placed.rejectReason ?? 'no reason given'}`,
      );
    }
    return 'placed';
  }

  /**
   * Closes the bot's open positions now (or the one in `symbol`) with market sells, whatever
   * the strategy says and whether the bot runs or not: the trader's /forceexit. Each exit goes
   * through the risk gate (exits are never blocked by loss limits or the kill switch) and is
   * recorded like any other order, under an id derived from the position, so it is placed once.
   */
  async forceExit(symbol?: string): Promise<ForcedExit[]> {
    const [fresh] = await this.deps.db.select().from(bots).where(eq(bots.id, this.bot.id));
    if (fresh) this.bot = fresh;
    if (this.needsReconcile) await this.reconcile();
    const held = await this.deps.db
      .select()
      .from(positions)
      .where(and(eq(positions.botId, this.bot.id), ...(symbol ? [eq(positions.symbol, symbol)] : [])));
    const exits: ForcedExit[] = [];
    for (const position of held) {
      const orderId = forceExitOrderIdFor(this.bot.id, position.symbol, position.openedAt);
      const price = await withRetry(() => this.deps.exchange.lastPrice(position.symbol), this.retry);
      const bar = [Date.now(), price, price, price, price, 0];
      const placed = await this.placeOrder(position.symbol, 'sell', Number(position.amountBase), bar, 'forced', orderId);
      const [order] = await this.deps.db
        .select()
        .from(orders)
        .where(and(eq(orders.botId, this.bot.id), eq(orders.clientOrderId, orderId)));
      const [trade] =
        order?.status === 'filled'
          ? await this.deps.db
              .select()
              .from(trades)
              .where(and(eq(trades.botId, this.bot.id), eq(trades.symbol, position.symbol), eq(trades.exitReason, 'forced')))
              .orderBy(sql`${trades.closedAt} desc`)
              .limit(1)
          : [];
      const status = order?.status;
      const outcome: ForcedExit['outcome'] =
        placed === 'refused'
          ? 'refused'
          : status === 'rejected'
            ? 'rejected'
            : status === 'filled'
              ? placed === 'none'
                ? 'already'
                : 'filled'
              : 'open';
      exits.push({
        symbol: position.symbol,
        outcome,
        amountBase: position.amountBase,
        priceQuote: order?.averagePriceQuote ?? null,
        profitQuote: trade?.profitQuote ?? null,
        reason: order?.rejectReason ?? null,
      });
    }
    return exits;
  }

  /** Orders left `new` or `open` (a crash, a pending limit order): ask the exchange what happened. */
  private async reconcile(): Promise<number> {
    const pending = await this.deps.db
      .select()
      .from(orders)
      .where(and(eq(orders.botId, this.bot.id), inArray(orders.status, ['new', 'open'])));
    this.needsReconcile = false;
    for (const row of pending) {
      const found = await withRetry(() => this.deps.exchange.findOrder(row.symbol, row.clientOrderId), this.retry);
      if (found) {
        await this.applyExchangeOrder(row, found);
        if (found.status === 'open') this.needsReconcile = true;
      } else
        await this.deps.db
          .update(orders)
          .set({ status: 'canceled', rejectReason: 'never reached the exchange (process stopped before sending)', updatedAt: new Date() })
          .where(and(eq(orders.id, row.id), eq(orders.status, 'new')));
    }
    return pending.length;
  }

  /** Records the exchange's answer once: the order row, and for a fill the trade and position. */
  private async applyExchangeOrder(row: OrderRow, placed: ExchangeOrder): Promise<void> {
    const events: BotEvent[] = [];
    await this.deps.db.transaction(async (tx) => {
      const status = placed.status === 'filled' ? 'filled' : placed.status === 'open' ? 'open' : placed.status;
      const [updated] = await tx
        .update(orders)
        .set({
          status,
          exchangeOrderId: placed.exchangeOrderId,
          filledBase: String(placed.filledBase),
          averagePriceQuote: placed.averagePriceQuote === null ? null : String(placed.averagePriceQuote),
          feeQuote: String(placed.feeQuote),
          rejectReason: placed.rejectReason ?? null,
          updatedAt: new Date(),
        })
        .where(and(eq(orders.id, row.id), inArray(orders.status, ['new', 'open'])))
        .returning();
      if (!updated || placed.status !== 'filled' || placed.averagePriceQuote === null) return;
      const price = placed.averagePriceQuote;
      const now = new Date();
      if (row.side === 'buy') {
        const exits = this.strategy.exits(this.parameters);
        await tx.insert(positions).values({
          tenantId: row.tenantId,
          botId: row.botId,
          symbol: row.symbol,
          amountBase: String(placed.filledBase),
          averageEntryPriceQuote: String(price),
          stopLossPriceQuote: exits.stopLossPct === null ? null : String(price * (1 - exits.stopLossPct / 100)),
          takeProfitPriceQuote: exits.takeProfitPct === null ? null : String(price * (1 + exits.takeProfitPct / 100)),
          openedAt: now,
        });
        await tx.insert(trades).values({
          tenantId: row.tenantId,
          botId: row.botId,
          symbol: row.symbol,
          status: 'open',
          amountBase: String(placed.filledBase),
          openPriceQuote: String(price),
          feeQuote: String(placed.feeQuote),
          openedAt: now,
        });
        events.push({
          type: 'trade_opened',
          botId: row.botId,
          tenantId: row.tenantId,
          symbol: row.symbol,
          amountBase: placed.filledBase,
          priceQuote: price,
        });
      } else {
        const [open] = await tx
          .select()
          .from(trades)
          .where(and(eq(trades.botId, row.botId), eq(trades.symbol, row.symbol), eq(trades.status, 'open')));
        await tx.delete(positions).where(and(eq(positions.botId, row.botId), eq(positions.symbol, row.symbol)));
        if (open) {
          const fees = Number(open.feeQuote) + placed.feeQuote;
          const cost = Number(open.amountBase) * Number(open.openPriceQuote);
          const profit = placed.filledBase * price - cost - fees;
          await tx
            .update(trades)
            .set({
              status: 'closed',
              closePriceQuote: String(price),
              feeQuote: String(fees),
              profitQuote: String(profit),
              profitPct: String((profit / cost) * 100),
              exitReason: row.reason,
              closedAt: now,
            })
            .where(eq(trades.id, open.id));
          const cooldownMinutes = this.deps.limits.stopLossCooldownMinutes ?? 0;
          if (row.reason === 'stop_loss' && cooldownMinutes > 0) {
            // freqtrade's stop-loss protection: no new entry in this pair for a while after a stop.
            const at = this.now();
            await lockPair(tx, {
              tenantId: row.tenantId,
              botId: row.botId,
              symbol: row.symbol,
              until: new Date(at.getTime() + cooldownMinutes * 60_000),
              reason: STOP_LOSS_COOLDOWN_REASON,
              createdByUserId: null,
              now: at,
            });
          }
          const reason = row.reason === 'stop_loss' || row.reason === 'take_profit' || row.reason === 'forced' ? row.reason : 'signal';
          events.push({
            type: 'trade_closed',
            botId: row.botId,
            tenantId: row.tenantId,
            symbol: row.symbol,
            amountBase: placed.filledBase,
            priceQuote: price,
            profitQuote: profit,
            reason,
          });
        }
      }
    });
    for (const event of events) this.emit(event);
  }

  private async openPositionCount(): Promise<number> {
    const [row] = await this.deps.db.select({ n: count() }).from(positions).where(eq(positions.botId, this.bot.id));
    return row?.n ?? 0;
  }

  private async riskState() {
    const startOfDay = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    const open = await this.deps.db.select().from(positions).where(eq(positions.botId, this.bot.id));
    const realised = async (column: typeof trades.botId | typeof trades.tenantId, value: string) => {
      const [row] = await this.deps.db
        .select({ total: sql<string | null>`sum(${trades.profitQuote})` })
        .from(trades)
        .where(and(eq(column, value), eq(trades.status, 'closed'), gte(trades.closedAt, startOfDay)));
      return Number(row?.total ?? 0);
    };
    let unrealised = 0;
    for (const position of open) {
      const price = await this.deps.exchange.lastPrice(position.symbol).catch(() => Number(position.averageEntryPriceQuote));
      unrealised += Number(position.amountBase) * (price - Number(position.averageEntryPriceQuote));
    }
    const botRealised = await realised(trades.botId, this.bot.id);
    return {
      killSwitch: await this.deps.killSwitch(),
      openPositionSymbols: open.map((position) => position.symbol),
      botDailyPnlQuote: botRealised + unrealised,
      botStakeQuote: Number(this.bot.stakeQuote),
      tenantDailyPnlQuote: (await realised(trades.tenantId, this.bot.tenantId)) + unrealised,
    };
  }

  private async pause(reason: string): Promise<void> {
    await this.deps.db.update(bots).set({ status: 'paused', lastError: reason, updatedAt: new Date() }).where(eq(bots.id, this.bot.id));
    this.bot = { ...this.bot, status: 'paused', lastError: reason };
    this.emit({ type: 'bot_paused', botId: this.bot.id, tenantId: this.bot.tenantId, reason });
  }

  private assertOwner(epoch: number | undefined): void {
    if (this.deps.fence && epoch !== this.deps.fence.epoch) throw new StaleOwnerError(this.bot.id, this.deps.fence.epoch, epoch);
  }

  /** Writes the order about to be sent; with a fence, only while this worker still owns the bot. */
  private recordOrder(values: typeof orders.$inferInsert) {
    if (!this.deps.fence) return this.deps.db.insert(orders).values(values).onConflictDoNothing().returning();
    return this.deps.db.transaction(async (tx) => {
      // The row lock orders this check against a takeover raising the epoch.
      const [current] = await tx.select({ epoch: bots.ownerEpoch }).from(bots).where(eq(bots.id, this.bot.id)).for('update');
      this.assertOwner(current?.epoch);
      return tx.insert(orders).values(values).onConflictDoNothing().returning();
    });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private emit(event: BotEvent): void {
    this.deps.onEvent?.(event);
  }
}

/**
 * Ticks many bots the way a worker does: their rows in one query, each runner once, and
 * one write for all the lastTickAt stamps. A failing bot does not stop the others.
 */
export async function tickBots(
  db: Database,
  runners: readonly BotRunner[],
): Promise<{ ticked: number; failed: { botId: string; error: Error }[] }> {
  if (runners.length === 0) return { ticked: 0, failed: [] };
  const rows = await db
    .select()
    .from(bots)
    .where(
      inArray(
        bots.id,
        runners.map((runner) => runner.botId),
      ),
    );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const held = await openPositionsOf(
    db,
    rows.filter((row) => row.status === 'running').map((row) => row.id),
  );
  const ticked: string[] = [];
  const failed: { botId: string; error: Error }[] = [];
  for (const runner of runners) {
    const row = byId.get(runner.botId);
    if (row?.status !== 'running') continue;
    try {
      await runner.tick(row, { recordTick: false, positions: held.get(row.id) ?? [] });
      ticked.push(row.id);
    } catch (error) {
      failed.push({ botId: row.id, error: error as Error });
    }
  }
  await markBotsTicked(db, ticked, new Date());
  return { ticked: ticked.length, failed };
}
