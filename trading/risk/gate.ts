import { z } from 'zod';

// The risk gate: every order passes here before it reaches an exchange. It is plain code
// over numbers the runner measured; nothing an agent or a prompt says can change its
// answer. A refusal names the rule, so it can be recorded, audited and shown to the trader.

export const riskLimitsSchema = z.object({
  /** Largest position one bot may hold in one symbol, in quote currency at entry. */
  maxPositionQuote: z.number().positive(),
  /** Open positions one bot may hold at once (one per symbol). */
  maxOpenPositions: z.number().int().min(1),
  /** Loss today (realised + open) after which the bot pauses, percent of its stake. */
  maxDailyLossPctPerBot: z.number().positive().max(100),
  /** Loss today over all of a tenant's bots after which they all pause, in quote currency. */
  maxDailyLossQuotePerTenant: z.number().positive(),
  /**
   * After a stop loss closes a position, the bot opens nothing in that pair for this many
   * minutes (freqtrade's StoplossGuard/CooldownPeriod per pair, as a pair lock); 0: no cooldown.
   */
  stopLossCooldownMinutes: z.number().min(0).max(10_080).default(0),
});
export type RiskLimits = z.input<typeof riskLimitsSchema>;

export const DEFAULT_RISK_LIMITS: RiskLimits = {
  maxPositionQuote: 25_000,
  maxOpenPositions: 4,
  maxDailyLossPctPerBot: 5,
  maxDailyLossQuotePerTenant: 2_500,
  // freqtrade ships its protections off; a deployment turns this one on (TRADING_STOP_LOSS_COOLDOWN_MINUTES).
  stopLossCooldownMinutes: 0,
};

/** What the exchange says about a symbol's order sizes. */
export interface MarketRules {
  /** Smallest amount, in base asset. */
  readonly minAmountBase: number;
  /** Amounts must be a multiple of this step, in base asset (0 = any). */
  readonly amountStepBase: number;
  /** Smallest order value, in quote currency. */
  readonly minNotionalQuote: number;
}

export interface OrderProposal {
  readonly side: 'buy' | 'sell';
  readonly symbol: string;
  readonly amountBase: number;
  /** Price the order is expected to fill at, in quote currency. */
  readonly priceQuote: number;
  /** Exits (sells of a held position) are never blocked by loss limits: they reduce risk. */
  readonly reducesPosition: boolean;
}

export interface RiskState {
  readonly killSwitch: boolean;
  /** Symbols in which the bot holds a position now. */
  readonly openPositionSymbols: readonly string[];
  /** Bot's profit today (negative = loss), realised and unrealised, in quote currency. */
  readonly botDailyPnlQuote: number;
  readonly botStakeQuote: number;
  /** Sum over all the tenant's bots, in quote currency. */
  readonly tenantDailyPnlQuote: number;
}

export type RiskRule =
  | 'kill_switch'
  | 'invalid_order'
  | 'max_position'
  | 'max_open_positions'
  | 'daily_loss_bot'
  | 'daily_loss_tenant'
  | 'min_amount'
  | 'min_notional';

export type RiskDecision =
  | { readonly allowed: true /** Rounded down to the market's step. */; readonly amountBase: number }
  | {
      readonly allowed: false;
      readonly rule: RiskRule;
      readonly reason: string;
      /** The loss rules pause the bot until the next day (or a human resumes it). */
      readonly pauseBot: boolean;
    };

function refuse(rule: RiskRule, reason: string, pauseBot = false): RiskDecision {
  return { allowed: false, rule, reason, pauseBot };
}

/** Rounds an amount down to the exchange's step, without floating-point dust. */
export function roundToStep(amount: number, step: number): number {
  if (!(step > 0)) return amount;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number((Math.floor(amount / step + 1e-9) * step).toFixed(Math.min(decimals, 15)));
}

export function checkOrder(order: OrderProposal, state: RiskState, limits: RiskLimits, market: MarketRules): RiskDecision {
  if (!(order.amountBase > 0) || !(order.priceQuote > 0) || !Number.isFinite(order.amountBase * order.priceQuote)) {
    return refuse('invalid_order', `amount ${order.amountBase} at price ${order.priceQuote} is not a valid order`);
  }
  // Even the kill switch lets a position be closed: stopping all trading must not trap money.
  if (state.killSwitch && !order.reducesPosition) {
    return refuse('kill_switch', 'trading is halted by the global kill switch');
  }
  if (!order.reducesPosition) {
    const botLossPct = (-state.botDailyPnlQuote / state.botStakeQuote) * 100;
    if (botLossPct >= limits.maxDailyLossPctPerBot) {
      return refuse(
        'daily_loss_bot',
        `the bot lost ${botLossPct.toFixed(2)} % of its stake today (limit ${limits.maxDailyLossPctPerBot} %)`,
        true,
      );
    }
    if (-state.tenantDailyPnlQuote >= limits.maxDailyLossQuotePerTenant) {
      return refuse(
        'daily_loss_tenant',
        `the account lost ${(-state.tenantDailyPnlQuote).toFixed(2)} today over all bots (limit ${limits.maxDailyLossQuotePerTenant})`,
        true,
      );
    }
    if (!state.openPositionSymbols.includes(order.symbol) && state.openPositionSymbols.length >= limits.maxOpenPositions) {
      return refuse(
        'max_open_positions',
        `the bot already holds ${state.openPositionSymbols.length} positions (limit ${limits.maxOpenPositions})`,
      );
    }
  }
  const amountBase = roundToStep(order.amountBase, market.amountStepBase);
  const notional = amountBase * order.priceQuote;
  if (!order.reducesPosition && notional > limits.maxPositionQuote) {
    return refuse(
      'max_position',
      `a position of ${notional.toFixed(2)} exceeds the limit of ${limits.maxPositionQuote} per bot and symbol`,
    );
  }
  if (amountBase < market.minAmountBase || amountBase <= 0) {
    return refuse(
      'min_amount',
      `amount ${amountBase} is below the market minimum of ${market.minAmountBase} ${order.symbol.split('/')[0]}`,
    );
  }
  if (notional < market.minNotionalQuote) {
    return refuse('min_notional', `order value ${notional.toFixed(2)} is below the market minimum of ${market.minNotionalQuote}`);
  }
  return { allowed: true, amountBase };
}
