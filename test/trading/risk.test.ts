import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_LIMITS, checkOrder, roundToStep, type OrderProposal, type RiskState } from '../../trading/index.ts';

const market = { minAmountBase: 0.00001, amountStepBase: 0.00001, minNotionalQuote: 5 };
const calm: RiskState = { killSwitch: false, openPositionSymbols: [], botDailyPnlQuote: 0, botStakeQuote: 10_000, tenantDailyPnlQuote: 0 };
const buy: OrderProposal = { side: 'buy', symbol: 'BTC/USDT', amountBase: 0.1234567, priceQuote: 90_000, reducesPosition: false };
const sell: OrderProposal = { ...buy, side: 'sell', reducesPosition: true };

describe('risk gate', () => {
  it('allows a normal entry, rounded down to the market step', () => {
    expect(checkOrder(buy, calm, DEFAULT_RISK_LIMITS, market)).toEqual({ allowed: true, amountBase: 0.12345 });
  });

  it('halts entries on the kill switch but still lets positions close', () => {
    expect(checkOrder(buy, { ...calm, killSwitch: true }, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'kill_switch',
    });
    expect(checkOrder(sell, { ...calm, killSwitch: true }, DEFAULT_RISK_LIMITS, market)).toMatchObject({ allowed: true });
  });

  it('caps the position size per bot', () => {
    expect(checkOrder({ ...buy, amountBase: 0.5 }, calm, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'max_position',
    });
  });

  it('caps the number of open positions, but not adding to one already held', () => {
    const full = { ...calm, openPositionSymbols: ['ETH/USDT', 'SOL/USDT', 'POL/USDT', 'XRP/USDT'] };
    expect(checkOrder(buy, full, DEFAULT_RISK_LIMITS, market)).toMatchObject({ allowed: false, rule: 'max_open_positions' });
    expect(checkOrder({ ...buy, symbol: 'ETH/USDT', priceQuote: 3000 }, full, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: true,
    });
  });

  it('pauses the bot after its daily loss limit, and all bots after the tenant limit', () => {
    expect(checkOrder(buy, { ...calm, botDailyPnlQuote: -500 }, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'daily_loss_bot',
      pauseBot: true,
    });
    expect(checkOrder(buy, { ...calm, tenantDailyPnlQuote: -2_600 }, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'daily_loss_tenant',
      pauseBot: true,
    });
    expect(checkOrder(sell, { ...calm, botDailyPnlQuote: -500 }, DEFAULT_RISK_LIMITS, market)).toMatchObject({ allowed: true });
  });

  it("enforces the market's minimum amount and value", () => {
    expect(checkOrder({ ...buy, amountBase: 0.000004 }, calm, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'min_amount',
    });
    expect(checkOrder({ ...buy, amountBase: 0.00005 }, calm, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'min_notional',
    });
  });

  it('refuses nonsense', () => {
    expect(checkOrder({ ...buy, amountBase: Number.NaN }, calm, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'invalid_order',
    });
    expect(checkOrder({ ...buy, priceQuote: -1 }, calm, DEFAULT_RISK_LIMITS, market)).toMatchObject({
      allowed: false,
      rule: 'invalid_order',
    });
  });

  it('rounds to steps without floating-point dust', () => {
    expect(roundToStep(0.1 + 0.2, 0.1)).toBe(0.3);
    expect(roundToStep(1.23456789, 0.001)).toBe(1.234);
    expect(roundToStep(7.9999999999, 1)).toBe(8);
    expect(roundToStep(5, 0)).toBe(5);
  });
});
