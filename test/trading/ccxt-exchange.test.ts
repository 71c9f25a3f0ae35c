import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcxtExchange, ExchangeRejectedError, ExchangeUnavailableError, withRetry } from '../../trading/index.ts';
import { startFakeBinance, type FakeBinance } from '../support/fake-binance.ts';

describe('ccxt exchange (real ccxt client against a scripted Binance on loopback)', () => {
  let binance: FakeBinance;
  let exchange: CcxtExchange;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    binance = await startFakeBinance();
    const start = Math.floor(Date.now() / HOUR) * HOUR - 10 * HOUR;
    binance.klines = Array.from({ length: 11 }, (_, i) => [start + i * HOUR, 100 + i, 101 + i, 99 + i, 100.5 + i, 5]);
    binance.lastPrice = 110;
    exchange = new CcxtExchange({ live: false, apiKey: 'test-key', secret: 'test-secret', apiBaseUrl: binance.url, timeoutMs: 1000 });
  });
  afterAll(async () => {
    await binance.close();
  });

  it('is the sandbox unless live is explicitly enabled', () => {
    expect(exchange.live).toBe(false);
    expect(new CcxtExchange({ live: true }).live).toBe(true);
  });

  it('fetches closed candles only', async () => {
    const rows = await exchange.fetchCandles('BTC/USDT', '1h', binance.klines[0]![0], 100);
    expect(rows).toHaveLength(10); // the 11th bar is still forming
    expect(rows[0]).toEqual(binance.klines[0]);
  });

  it('reads market rules, last price and balances', async () => {
    expect(await exchange.marketRules('BTC/USDT')).toEqual({ minAmountBase: 0.00001, amountStepBase: 0.00001, minNotionalQuote: 5 });
    expect(await exchange.lastPrice('BTC/USDT')).toBe(110);
    expect(await exchange.balances()).toMatchObject({ USDT: 1000, BTC: 0.5 });
  });

  it('places an order under our client order id, and a retry returns the same order', async () => {
    const request = {
      clientOrderId: 'bTEST0001BTCUSDTabcB',
      symbol: 'BTC/USDT',
      side: 'buy' as const,
      type: 'market' as const,
      amountBase: 0.01,
    };
    const first = await exchange.placeOrder(request);
    expect(first).toMatchObject({ clientOrderId: request.clientOrderId, status: 'filled', filledBase: 0.01, averagePriceQuote: 110 });
    expect(first.feeQuote).toBeCloseTo(0.00001 * 110, 10); // fee charged in BTC, converted
    const again = await exchange.placeOrder(request);
    expect(again.exchangeOrderId).toBe(first.exchangeOrderId);
    expect(binance.orders.size).toBe(1);
    expect(await exchange.findOrder('BTC/USDT', request.clientOrderId)).toMatchObject({ exchangeOrderId: first.exchangeOrderId });
    expect(await exchange.findOrder('BTC/USDT', 'never-sent')).toBeUndefined();
  });

  it('turns outages into retryable errors, and retries them with backoff', async () => {
    binance.failNext(1);
    await expect(exchange.lastPrice('BTC/USDT')).rejects.toBeInstanceOf(ExchangeUnavailableError);
    binance.failNext(2);
    expect(await withRetry(() => exchange.lastPrice('BTC/USDT'), { attempts: 3, initialDelayMs: 5 })).toBe(110);
    binance.failNext(1, 'hang');
    await expect(exchange.lastPrice('BTC/USDT')).rejects.toThrow(/RequestTimeout|timed out/i);
  });

  it('refuses an unknown market clearly', async () => {
    await expect(exchange.marketRules('DOGE/BRL')).rejects.toBeInstanceOf(ExchangeRejectedError);
  });
});

describe('candle cache synced from the exchange', () => {
  it('pages through the history, stores each bar once, resumes, and reports gaps', async () => {
    const { createTestDatabase } = await import('../support/databases.ts');
    const { syncCandles, loadCachedCandles } = await import('../../trading/index.ts');
    const binance = await startFakeBinance();
    const test = await createTestDatabase('pglite');
    try {
      const HOUR = 3_600_000;
      const start = Math.floor(Date.now() / HOUR) * HOUR - 2600 * HOUR;
      // 2,500 hourly bars with 3 missing (a maintenance window) after bar 1000.
      binance.klines = Array.from({ length: 2503 }, (_, i) => [start + i * HOUR, 100, 101, 99, 100 + (i % 7), 1]).filter(
        (_, i) => i < 1000 || i > 1002,
      );
      const exchange = new CcxtExchange({ live: false, apiBaseUrl: binance.url });
      const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' };
      const first = await syncCandles(test.handle.db, exchange, key, { sinceMs: start, pageSize: 1000 });
      expect(first.fetched).toBe(2500);
      expect(first.pages).toBe(3);
      expect(first.gaps).toEqual([{ after: start + 999 * HOUR, before: start + 1003 * HOUR, missingBars: 3 }]);
      const again = await syncCandles(test.handle.db, exchange, key, { sinceMs: start });
      expect(again.fetched).toBe(0); // resumes after the newest cached bar
      const cached = await loadCachedCandles(test.handle.db, key);
      expect(cached.length).toBe(2500);
      expect(cached.close[5]).toBe(105);
    } finally {
      await test.dispose();
      await binance.close();
    }
  });
});
