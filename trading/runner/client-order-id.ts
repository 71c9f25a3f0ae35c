/**
 * Deterministic client order id for one bot's decision on one candle: a retried or replayed
 * decision produces the same id, and the exchange (and our unique index) refuse a second
 * order with it. At most 36 characters, as Binance allows.
 */
export function clientOrderIdFor(botId: string, symbol: string, candleOpenTime: number, side: 'buy' | 'sell'): string {
  const bot = botId.replace(/-/g, '').slice(0, 12);
  const market = symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
  return `b${bot}${market}${Math.floor(candleOpenTime / 1000).toString(36)}${side === 'buy' ? 'B' : 'S'}`;
}
