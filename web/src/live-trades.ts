import type { LiveEvent, Trade } from './api.ts';

// A bot page's trades as the live events tell them: the chart places a trade's marker from its
// event (its time and price) at once, instead of after reading the trades and candles again.

export type LiveTrade = Extract<LiveEvent, { event: 'trade' }>['data'];

/**
 * A trade as its live event tells it, for the chart before the trades are read again: an opened
 * trade at its entry, or a closed one (the trade already known) with its exit; undefined when the
 * event lacks what a marker needs.
 */
export function tradeFromEvent(event: LiveTrade, known: readonly Trade[]): Trade | undefined {
  if (!event.tradeId || !event.at) return undefined;
  if (event.kind === 'opened') {
    if (!event.priceQuote) return undefined;
    return {
      id: event.tradeId,
      symbol: event.symbol,
      status: 'open',
      amountBase: event.amountBase,
      openPriceQuote: event.priceQuote,
      closePriceQuote: null,
      feeQuote: null,
      profitQuote: null,
      profitPct: null,
      exitReason: null,
      openedAt: event.at,
      closedAt: null,
    };
  }
  const opened = known.find((tr) => tr.id === event.tradeId);
  if (!opened || !event.closePriceQuote) return undefined;
  return { ...opened, status: 'closed', closePriceQuote: event.closePriceQuote, closedAt: event.at };
}

/** `trades` with the ones told by live events put in (newest first): an event's copy replaces an older state of its trade. */
export function withLiveTrades(trades: readonly Trade[], live: readonly Trade[]): readonly Trade[] {
  if (live.length === 0) return trades;
  const byId = new Map(trades.map((tr) => [tr.id, tr]));
  for (const tr of live) {
    const known = byId.get(tr.id);
    // The trades read from the API win once they have caught up with the event.
    if (!known || (tr.closedAt && !known.closedAt)) byId.set(tr.id, tr);
  }
  return [...byId.values()].sort((a, b) => Date.parse(b.openedAt) - Date.parse(a.openedAt));
}
