import { describe, expect, it } from 'vitest';
import type { Trade } from '../../web/src/api.ts';
import { tradeFromEvent, withLiveTrades } from '../../web/src/live-trades.ts';

// A bot page places a trade's marker from its live event (GET /events: its time and price),
// before the trades are read again; the trades read from the API win once they have caught up.

const opened: Trade = {
  id: 't1',
  symbol: 'BTC/USDT',
  status: 'open',
  amountBase: '0.01',
  openPriceQuote: '95000.5',
  closePriceQuote: null,
  feeQuote: '0.95',
  profitQuote: null,
  profitPct: null,
  exitReason: null,
  openedAt: '2026-12-02T15:00:00.120Z',
  closedAt: null,
};

describe("a bot page's trades from live events", () => {
  it('an opened trade: at the time and price the event tells', () => {
    const told = tradeFromEvent(
      {
        kind: 'opened',
        botId: 'b',
        tradeId: 't2',
        symbol: 'ETH/USDT',
        amountBase: '0.5',
        priceQuote: '3350.1',
        at: '2026-12-02T15:05:00.200Z',
      },
      [],
    );
    expect(told).toMatchObject({
      id: 't2',
      symbol: 'ETH/USDT',
      status: 'open',
      openPriceQuote: '3350.1',
      openedAt: '2026-12-02T15:05:00.200Z',
      closedAt: null,
    });
  });

  it('a closed trade: the known trade with its exit; unknown, or without time or price, nothing', () => {
    const event = {
      kind: 'closed' as const,
      botId: 'b',
      tradeId: 't1',
      symbol: 'BTC/USDT',
      amountBase: '0.01',
      closePriceQuote: '96000',
      at: '2026-12-02T16:00:00.050Z',
    };
    expect(tradeFromEvent(event, [opened])).toEqual({ ...opened, status: 'closed', closePriceQuote: '96000', closedAt: event.at });
    expect(tradeFromEvent(event, [])).toBeUndefined();
    expect(tradeFromEvent({ ...event, at: undefined }, [opened])).toBeUndefined();
    expect(tradeFromEvent({ ...event, kind: 'opened', priceQuote: undefined }, [opened])).toBeUndefined();
  });

  it("merged into the page's trades: newest first, and the API's copy wins once it knows as much", () => {
    const fresh = tradeFromEvent(
      {
        kind: 'opened',
        botId: 'b',
        tradeId: 't2',
        symbol: 'BTC/USDT',
        amountBase: '0.01',
        priceQuote: '95500',
        at: '2026-12-02T15:10:00.000Z',
      },
      [opened],
    )!;
    expect(withLiveTrades([opened], []).map((tr) => tr.id)).toEqual(['t1']);
    expect(withLiveTrades([opened], [fresh]).map((tr) => tr.id)).toEqual(['t2', 't1']);
    // The API caught up: its row (with the fee) is kept.
    const read = { ...fresh, feeQuote: '0.95', openedAt: '2026-12-02T15:09:59.990Z' };
    expect(withLiveTrades([read, opened], [fresh])[0]).toBe(read);
    // A close told by the event stays until the API's row is closed too.
    const closed = tradeFromEvent(
      {
        kind: 'closed',
        botId: 'b',
        tradeId: 't1',
        symbol: 'BTC/USDT',
        amountBase: '0.01',
        closePriceQuote: '96000',
        at: '2026-12-02T16:00:00.000Z',
      },
      [opened],
    )!;
    expect(withLiveTrades([opened], [closed])[0]!.closedAt).toBe('2026-12-02T16:00:00.000Z');
    const readClosed = { ...closed, profitQuote: '10' };
    expect(withLiveTrades([readClosed], [closed])[0]).toBe(readClosed);
  });
});
