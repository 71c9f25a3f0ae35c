import { FINANCE_FIGURES } from '../billing/index.ts';
import { TRADING_FIGURES } from './trading.ts';
import type { FigureDefinition } from './window.ts';

// Every company figure's written definition, finance then trading: one formula and one
// window each. `billing mrr` prints them; the README's "Billing and the finance figures" and
// the figure-consistency test follow them.

export const COMPANY_FIGURES: readonly FigureDefinition[] = [...FINANCE_FIGURES, ...TRADING_FIGURES];

export { botCounts, tradingPnl, TRADING_FIGURES, TRADING_WINDOWS, winRatePct, type TradingPnl } from './trading.ts';
export { calendarMonths, DAY_MS, lastDays, todayUtc, windowTag, type FigureDefinition, type Window } from './window.ts';
