import { and, eq, inArray, sql } from 'drizzle-orm';
import { paperBalances, paperOrders, type Database } from '../../db/index.ts';
import type { MarketRules } from '../risk/index.ts';
import { splitSymbol, type Exchange, type ExchangeOrder, type ExchangeOrderRequest, type MarketDataSource } from './types.ts';

export interface PaperExchangeOptions {
  readonly botId: string;
  readonly tenantId: string;
  readonly market: MarketDataSource;
  /** Timeframe of the candles used as the price feed. */
  readonly timeframe: string;
  /** Fee per side, fraction of the notional. */
  readonly feeRate?: number;
  /** Adverse move applied to market fills, fraction of the price. */
  readonly slippage?: number;
}

/**
 * A simulated account for one bot: balances and orders live in the database (paper_balances,
 * paper_orders), so they survive restarts like a real exchange account would. Market orders
 * fill at the last close ± slippage; limit orders fill when a later bar's range crosses their
 * price. Fees are charged in the quote currency.
 */
export class PaperExchange implements Exchange {
  readonly id = 'paper';
  readonly live = false;
  private readonly db: Database;
  private readonly options: Required<PaperExchangeOptions>;

  constructor(db: Database, options: PaperExchangeOptions) {
    this.db = db;
    this.options = { feeRate: 0.001, slippage: 0.0005, ...options };
  }

  fetchCandles(symbol: string, timeframe: string, sinceMs?: number, limit?: number): Promise<number[][]> {
    return this.options.market.fetchCandles(symbol, timeframe, sinceMs, limit);
  }

  lastPrice(symbol: string): Promise<number> {
    return this.options.market.lastPrice(symbol);
  }

  marketRules(symbol: string): Promise<MarketRules> {
    return this.options.market.marketRules(symbol);
  }

  async feedHealth(symbol: string, timeframe: string): Promise<{ readonly stale: boolean; readonly lastBarAgeMs: number | null }> {
    return (await this.options.market.feedHealth?.(symbol, timeframe)) ?? { stale: false, lastBarAgeMs: null };
  }

  /** Puts money in the paper wallet (a new bot's stake). */
  async deposit(asset: string, amount: number): Promise<void> {
    await this.db
      .insert(paperBalances)
      .values({ botId: this.options.botId, tenantId: this.options.tenantId, asset, amount: String(amount) })
      .onConflictDoUpdate({
        target: [paperBalances.botId, paperBalances.asset],
        set: { amount: sql`${paperBalances.amount} + ${String(amount)}::numeric`, updatedAt: new Date() },
      });
  }

  async balances(): Promise<Record<string, number>> {
    const rows = await this.db.select().from(paperBalances).where(eq(paperBalances.botId, this.options.botId));
    return Object.fromEntries(rows.map((row) => [row.asset, Number(row.amount)]));
  }

  async placeOrder(request: ExchangeOrderRequest): Promise<ExchangeOrder> {
    const { botId, tenantId } = this.options;
    const existing = await this.findOrder(request.symbol, request.clientOrderId);
    if (existing) return existing;
    const lastPrice = await this.options.market.lastPrice(request.symbol);
    const [lastBar] =
      request.type === 'limit' ? await this.options.market.fetchCandles(request.symbol, this.options.timeframe, undefined, 1) : [];
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(paperOrders)
        .values({
          botId,
          tenantId,
          clientOrderId: request.clientOrderId,
          symbol: request.symbol,
          side: request.side,
          type: request.type,
          status: 'open',
          amountBase: String(request.amountBase),
          limitPriceQuote: request.limitPriceQuote === undefined ? null : String(request.limitPriceQuote),
          marketTime: lastBar ? new Date(lastBar[0]!) : null,
        })
        .onConflictDoNothing()
        .returning();
      if (!row) {
        // Another call with the same id won the race: that one is the order.
        const [winner] = await tx
          .select()
          .from(paperOrders)
          .where(and(eq(paperOrders.botId, botId), eq(paperOrders.clientOrderId, request.clientOrderId)));
        return toExchangeOrder(winner!);
      }
      if (request.type === 'market') {
        const price = request.side === 'buy' ? lastPrice * (1 + this.options.slippage) : lastPrice * (1 - this.options.slippage);
        return this.fill(tx, row, price);
      }
      return toExchangeOrder(row);
    });
  }

  async findOrder(_symbol: string, clientOrderId: string): Promise<ExchangeOrder | undefined> {
    const [row] = await this.db
      .select()
      .from(paperOrders)
      .where(and(eq(paperOrders.botId, this.options.botId), eq(paperOrders.clientOrderId, clientOrderId)));
    return row ? toExchangeOrder(row) : undefined;
  }

  async cancelOrder(_symbol: string, clientOrderId: string): Promise<ExchangeOrder | undefined> {
    const [row] = await this.db
      .update(paperOrders)
      .set({ status: 'canceled', updatedAt: new Date() })
      .where(and(eq(paperOrders.botId, this.options.botId), eq(paperOrders.clientOrderId, clientOrderId), eq(paperOrders.status, 'open')))
      .returning();
    return row ? toExchangeOrder(row) : this.findOrder(_symbol, clientOrderId);
  }

  /** Fills open limit orders whose price a closed bar since their creation has crossed. */
  async matchLimitOrders(symbol: string): Promise<ExchangeOrder[]> {
    const open = await this.db
      .select()
      .from(paperOrders)
      .where(
        and(
          eq(paperOrders.botId, this.options.botId),
          eq(paperOrders.symbol, symbol),
          inArray(paperOrders.status, ['open']),
          eq(paperOrders.type, 'limit'),
        ),
      );
    const filled: ExchangeOrder[] = [];
    for (const order of open) {
      const after = order.marketTime ? order.marketTime.getTime() + 1 : 0;
      const bars = await this.options.market.fetchCandles(symbol, this.options.timeframe, after);
      const limit = Number(order.limitPriceQuote);
      const crossed = bars.some((bar) => (order.side === 'buy' ? bar[3]! <= limit : bar[2]! >= limit));
      if (!crossed) continue;
      filled.push(await this.db.transaction((tx) => this.fill(tx, order, limit)));
    }
    return filled;
  }

  /** Moves the money and marks the order filled, or rejected when the wallet cannot pay. */
  private async fill(tx: Database, order: typeof paperOrders.$inferSelect, price: number): Promise<ExchangeOrder> {
    const { base, quote } = splitSymbol(order.symbol);
    const amount = Number(order.amountBase);
    const notional = amount * price;
    const fee = notional * this.options.feeRate;
    const wallet = await tx
      .select()
      .from(paperBalances)
      .where(and(eq(paperBalances.botId, this.options.botId), inArray(paperBalances.asset, [base, quote])))
      .for('update');
    const balance = (asset: string) => Number(wallet.find((row) => row.asset === asset)?.amount ?? 0);
    const shortfall =
      order.side === 'buy'
        ? balance(quote) < notional + fee
          ? `insufficient ${quote}: need ${(notional + fee).toFixed(2)}, have ${balance(quote).toFixed(2)}`
          : null
        : balance(base) < amount * (1 - 1e-12)
          ? `insufficient ${base}: need ${amount}, have ${balance(base)}`
          : null;
    if (shortfall) {
      const [rejected] = await tx
        .update(paperOrders)
        .set({ status: 'rejected', rejectReason: shortfall, updatedAt: new Date() })
        .where(eq(paperOrders.id, order.id))
        .returning();
      return toExchangeOrder(rejected!);
    }
    const deltas = order.side === 'buy' ? { [quote]: -(notional + fee), [base]: amount } : { [quote]: notional - fee, [base]: -amount };
    for (const [asset, delta] of Object.entries(deltas)) {
      await tx
        .insert(paperBalances)
        .values({ botId: this.options.botId, tenantId: this.options.tenantId, asset, amount: String(delta) })
        .onConflictDoUpdate({
          target: [paperBalances.botId, paperBalances.asset],
          set: { amount: sql`${paperBalances.amount} + ${String(delta)}::numeric`, updatedAt: new Date() },
        });
    }
    const [filled] = await tx
      .update(paperOrders)
      .set({ status: 'filled', filledBase: String(amount), averagePriceQuote: String(price), feeQuote: String(fee), updatedAt: new Date() })
      .where(eq(paperOrders.id, order.id))
      .returning();
    return toExchangeOrder(filled!);
  }
}

function toExchangeOrder(row: typeof paperOrders.$inferSelect): ExchangeOrder {
  const status =
    row.status === 'filled' ? 'filled' : row.status === 'canceled' ? 'canceled' : row.status === 'rejected' ? 'rejected' : 'open';
  return {
    clientOrderId: row.clientOrderId,
    exchangeOrderId: `paper-${row.id}`,
    symbol: row.symbol,
    side: row.side,
    type: row.type === 'limit' ? 'limit' : 'market',
    status,
    amountBase: Number(row.amountBase),
    filledBase: Number(row.filledBase),
    averagePriceQuote: row.averagePriceQuote === null ? null : Number(row.averagePriceQuote),
    feeQuote: Number(row.feeQuote),
    ...(row.rejectReason ? { rejectReason: row.rejectReason } : {}),
  };
}
