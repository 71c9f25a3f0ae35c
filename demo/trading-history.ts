import type * as schema from '../db/index.ts';
import type { PlanId } from '../db/index.ts';
import { PLANS } from '../billing/index.ts';
import { replayedBar, timeframeToMs } from '../trading/index.ts';
import { SYMBOLS } from './content.ts';
import { DAY, HOUR, type Generation, type Insert } from './generation.ts';

const FEE_RATE = 0.001;

/** Quote-currency decimal with enough places for cheap coins, as a string (exact in numeric). */
function quote(value: number): string {
  return value.toFixed(value < 10 ? 6 : 2);
}

// The paper wallets are kept exactly, as the database keeps them (numeric): amounts in units
// of 10^-8, the wallet's places, added up as integers from the decimal strings the trades
// store, so a wallet equals its bot's stake plus the recorded profits less what its open
// positions cost, to the last place.
const WALLET_PLACES = 8;
const WALLET_UNIT = 10n ** BigInt(WALLET_PLACES);

function parseDecimal(text: string): { digits: bigint; places: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a decimal`);
  const digits = BigInt(`${match[2]}${match[3] ?? ''}`);
  return { digits: match[1] ? -digits : digits, places: match[3]?.length ?? 0 };
}

/** A decimal (at most 8 places) in wallet units. */
function walletUnits(text: string): bigint {
  const { digits, places } = parseDecimal(text);
  if (places > WALLET_PLACES) throw new Error(`${text} has more than ${WALLET_PLACES} decimal places`);
  return digits * 10n ** BigInt(WALLET_PLACES - places);
}

/** a × b of two non-negative decimals in wallet units, rounded half up (numeric's round(…, 8)). */
function productUnits(a: string, b: string): bigint {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const excess = x.places + y.places - WALLET_PLACES;
  const product = x.digits * y.digits;
  if (excess <= 0) return product * 10n ** BigInt(-excess);
  const divisor = 10n ** BigInt(excess);
  return (product + divisor / 2n) / divisor;
}

function walletDecimal(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  return `${sign}${abs / WALLET_UNIT}.${(abs % WALLET_UNIT).toString().padStart(WALLET_PLACES, '0')}`;
}

/** A trader's 1–3 bots (within the plan's limits), a live one's exchange account, and their trading history. */
export function addBots(g: Generation, tenantId: string, planId: PlanId): void {
  const { rng, asOf, data, options } = g;
  const limits = PLANS[planId].limits;
  const count = Math.min(limits.botsAllowed, rng.int(1, 3));
  let accountId: string | null = null;
  for (let b = 0; b < count; b++) {
    const strategy = rng.weighted([
      ['rsi', 50],
      ['macd-cross', 20],
      ['ema-cross', 20],
      ['bollinger-reversion', 10],
    ] as const);
    const symbolPool = [...SYMBOLS];
    const symbols = symbolPool.filter(() => rng.chance(0.5)).slice(0, limits.symbolsPerBot);
    if (symbols.length === 0) symbols.push(rng.pick(symbolPool));
    const live = limits.liveTradingAllowed && rng.chance(0.3);
    if (live && accountId === null) {
      accountId = rng.uuid();
      const apiKey = rng.token(64);
      data.exchangeAccounts.push({
        id: accountId,
        tenantId,
        exchange: 'binance',
        label: 'Binance principal',
        apiKeyEncrypted: options.secretBox.seal(apiKey, `exchange_accounts:${tenantId}:api_key`),
        apiSecretEncrypted: options.secretBox.seal(rng.token(64), `exchange_accounts:${tenantId}:api_secret`),
        apiKeyLast4: apiKey.slice(-4),
        sandbox: false,
        createdAt: new Date(asOf - rng.int(30, 200) * DAY),
      });
    }
    const status = rng.weighted([
      ['running', 55],
      ['stopped', 33],
      ['paused', 6],
      ['error', 6],
    ] as const);
    const stake = rng.pick([500, 1000, 2000, 5000, 10000, 20000]);
    const botId = rng.uuid();
    const createdAt = new Date(asOf - rng.int(20, 120) * DAY);
    const timeframe = rng.pick(['5m', '15m', '1h']);
    const bot: Insert<typeof schema.bots> = {
      id: botId,
      tenantId,
      name: `${strategy} ${symbols[0]}`,
      strategyName: strategy,
      parameters: {},
      symbols,
      timeframe,
      mode: live ? 'live' : 'paper',
      status,
      exchangeAccountId: live ? accountId : null,
      stakeQuote: String(stake),
      paperBalanceQuote: null,
      lastError: status === 'error' ? 'binance: Timestamp for this request is outside of the recvWindow' : null,
      startedAt: status === 'running' ? new Date(asOf - rng.int(1, 15) * DAY) : createdAt,
      stoppedAt: status === 'stopped' ? new Date(asOf - rng.int(1, 10) * DAY) : null,
      lastTickAt: status === 'running' ? new Date(asOf - rng.int(1, 10) * 1000) : null,
      createdAt,
      updatedAt: createdAt,
    };
    data.bots.push(bot);
    const cash = addTrades(g, tenantId, botId, symbols, timeframe, stake, createdAt.getTime(), status === 'running');
    // A paper bot's own record of its wallet's cash agrees with the wallet.
    if (!live) bot.paperBalanceQuote = cash;
  }
}

/**
 * The bot's trading history, and the paper wallet it leaves behind so the bot goes on
 * trading where the history stops: its stake plus the recorded profits in the quote
 * currency, less what its open position cost, and the coins of that position. Each trade
 * is sized as the runner sizes an entry (95 % of the stake's share per symbol, never more
 * than the cash the wallet holds), so the wallet can always pay for it. No random draws
 * depend on the amounts: the rest of the company stays the same. Returns the cash, a decimal.
 *
 * Prices come from the market the bot trades when no exchange can be reached: the bundled
 * candles of its symbol and timeframe, replayed on the wall clock (BundledReplayMarket). A
 * closed trade was bought somewhere in the range of the replayed bar in progress when it was
 * placed and sold at its outcome's move from there (stop −3 %, take profit +2 %, a signal in
 * between). A position still open was bought at the replay's last price at `asOf` (the close
 * of the last bar closed then, which is what the runner fills at and what a bot started at
 * `asOf` reads on its first tick) and is dated at that bar's close. Opened days earlier at
 * that day's price, the candles from then to `asOf` (the replayed SOL moves tens of per cent
 * in weeks) would stop it out on the first tick at a loss the demo never lived through, and
 * its unrealised loss would pause the bot on its daily loss limit.
 */
function addTrades(
  g: Generation,
  tenantId: string,
  botId: string,
  symbols: string[],
  timeframe: string,
  stake: number,
  from: number,
  running: boolean,
): string {
  const { rng, asOf, data } = g;
  const quoteAsset = symbols[0]!.split('/')[1]!;
  let cash = walletUnits(String(stake));
  const heldBase = new Map<string, bigint>();
  const count = rng.int(4, 40);
  let clock = from + rng.int(1, 48) * HOUR;
  let orderSeq = 0;
  const barMs = timeframeToMs(timeframe);
  /** When the last bar that had closed by asOf closed. */
  const lastClose = Math.floor(asOf / barMs) * barMs;
  for (let i = 0; i < count && clock < asOf - HOUR; i++) {
    const symbol = rng.pick(symbols);
    const withinBar = rng.next();
    const open = i === count - 1 && running && rng.chance(0.6);
    const bar = replayedBar(symbol, timeframe, open ? lastClose - barMs : clock);
    if (!bar) throw new Error(`demo: no bundled candles for ${symbol}`);
    const entry = open ? bar.close : bar.low + withinBar * (bar.high - bar.low);
    const budget = Math.min(stake / symbols.length, Number(cash) / Number(WALLET_UNIT));
    const amount = (budget * 0.95) / entry;
    const amountBase = amount.toFixed(8);
    const openedAt = new Date(open ? lastClose : clock);
    const order = (side: 'buy' | 'sell', price: number, at: Date, reason: string) => ({
      id: rng.uuid(),
      tenantId,
      botId,
      clientOrderId: `bcf-${botId.slice(0, 8)}-${++orderSeq}`,
      exchangeOrderId: String(rng.int(1e9, 9e9)),
      symbol,
      side,
      type: 'market' as const,
      status: 'filled' as const,
      amountBase,
      filledBase: amountBase,
      averagePriceQuote: quote(price),
      feeQuote: quote(amount * price * FEE_RATE),
      reason,
      createdAt: at,
      updatedAt: at,
    });
    data.orders.push(order('buy', entry, openedAt, 'entry'));
    if (open) {
      const openPriceQuote = quote(entry);
      const feeQuote = quote(amount * entry * FEE_RATE);
      data.trades.push({ id: rng.uuid(), tenantId, botId, symbol, status: 'open', amountBase, openPriceQuote, feeQuote, openedAt });
      data.positions.push({
        id: rng.uuid(),
        tenantId,
        botId,
        symbol,
        amountBase,
        averageEntryPriceQuote: openPriceQuote,
        stopLossPriceQuote: quote(entry * 0.97),
        takeProfitPriceQuote: quote(entry * 1.02),
        openedAt,
        updatedAt: openedAt,
      });
      cash -= productUnits(amountBase, openPriceQuote) + walletUnits(feeQuote);
      heldBase.set(symbol, (heldBase.get(symbol) ?? 0n) + walletUnits(amountBase));
      break;
    }
    const outcome = rng.weighted([
      ['take_profit', 45],
      ['exit_signal', 30],
      ['stop_loss', 25],
    ] as const);
    const change = outcome === 'take_profit' ? 0.02 : outcome === 'stop_loss' ? -0.03 : rng.float(-0.012, 0.018);
    const exit = entry * (1 + change);
    const closedAt = new Date(clock + rng.int(1, 36) * HOUR);
    data.orders.push(order('sell', exit, closedAt, outcome));
    const fee = amount * (entry + exit) * FEE_RATE;
    const profit = amount * (exit - entry) - fee;
    const profitQuote = profit.toFixed(8);
    data.trades.push({
      id: rng.uuid(),
      tenantId,
      botId,
      symbol,
      status: 'closed',
      amountBase,
      openPriceQuote: quote(entry),
      closePriceQuote: quote(exit),
      feeQuote: quote(fee),
      profitQuote,
      profitPct: ((profit / (amount * entry)) * 100).toFixed(4),
      exitReason: outcome,
      openedAt,
      closedAt,
    });
    cash += walletUnits(profitQuote);
    clock = closedAt.getTime() + rng.int(1, 72) * HOUR;
  }
  if (cash < 0n) throw new Error(`demo: bot ${botId}'s trades left its wallet at ${walletDecimal(cash)} ${quoteAsset}`);
  data.paperBalances.push({ botId, tenantId, asset: quoteAsset, amount: walletDecimal(cash), updatedAt: new Date(asOf) });
  for (const [symbol, units] of heldBase)
    data.paperBalances.push({ botId, tenantId, asset: symbol.split('/')[0]!, amount: walletDecimal(units), updatedAt: new Date(asOf) });
  return walletDecimal(cash);
}
