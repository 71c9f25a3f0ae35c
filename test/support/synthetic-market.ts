import { ReplayMarketData, candlesFromRows } from '../../trading/index.ts';
import { parkMiller } from './random.ts';

export const HOUR = 3_600_000;

/** A choppy, deterministic market (hourly BTC/USDT) on which an RSI(2) strategy trades often. */
export function syntheticMarket(startBar = 40): ReplayMarketData {
  const rows: number[][] = [];
  let price = 100;
  const random = parkMiller(3);
  for (let i = 0; i < 600; i++) {
    const open = price;
    price *= 1 + (random() - 0.5) * 0.04;
    rows.push([i * HOUR, open, Math.max(open, price) * 1.003, Math.min(open, price) * 0.997, price, 10]);
  }
  return new ReplayMarketData(new Map([['BTC/USDT', candlesFromRows(rows)]]), { barMs: HOUR, now: startBar * HOUR });
}
