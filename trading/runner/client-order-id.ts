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

/**
 * Client order id of a forced exit of one position (a trader's /forceexit): derived from the
 * position's opening instant, so pressing "exit" twice, or two processes racing, place one
 * order; the `f…X` shape never meets a strategy order's id.
 */
export function forceExitOrderIdFor(botId: string, symbol: string, positionOpenedAt: Date): string {
  const bot = botId.replace(/-/g, '').slice(0, 12);
  const market = symbol.replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
  return `f${bot}${market}${positionOpenedAt.getTime().toString(36)}X`;
}
