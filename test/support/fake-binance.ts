import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted stand-in for Binance's spot REST API on loopback, so the real ccxt client runs
 * end to end without the internet: exchange info, klines, 24h ticker, account, and orders
 * (market orders fill at once at the scripted price; duplicate client ids are refused like
 * Binance does, with code -2010).
 */
export interface FakeBinance {
  readonly url: string;
  /** Candles served, `[openTime, open, high, low, close, volume]` (for every symbol without its own below). */
  klines: number[][];
  /** Candles of one market, by Binance's id ('ETHUSDT'); BTCUSDT, ETHUSDT and SOLUSDT are listed. */
  readonly klinesBySymbol: Map<string, number[][]>;
  /** The klines requests seen, in order. */
  readonly klineRequests: { symbol: string; startTime: number; limit: number }[];
  /**
   * Answer the next `answered` klines requests, then hold every later one unanswered (as a
   * stalled exchange would); resolves once one is held, so a test can act at that exact point.
   */
  holdKlinesAfter(answered: number): Promise<void>;
  /** Answer klines requests again (the ones held stay unanswered). */
  stopHoldingKlines(): void;
  /** Answer the held klines requests now (late, as a slow exchange would), and the next ones at once. */
  releaseHeldKlines(): void;
  lastPrice: number;
  /** Requests seen, `METHOD path`. */
  readonly requests: string[];
  /** Make the next N requests fail with HTTP 503 (or a timeout when `hang` is set). */
  failNext(count: number, mode?: 'error' | 'hang'): void;
  readonly orders: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startFakeBinance(): Promise<FakeBinance> {
  let failures = 0;
  let failMode: 'error' | 'hang' = 'error';
  let orderSeq = 1000;
  const orders = new Map<string, Record<string, unknown>>();
  const state = { klines: [] as number[][], lastPrice: 100 };
  const requests: string[] = [];
  const klinesBySymbol = new Map<string, number[][]>();
  const klineRequests: { symbol: string; startTime: number; limit: number }[] = [];
  let hold: { answered: number; onHeld: () => void } | undefined;
  const held: (() => void)[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(`${req.method} ${url.pathname}`);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        if (failMode === 'hang') return; // never answer: the client times out
        res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        return;
      }
      const params = new URLSearchParams(url.search);
      for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
      const send = (status: number, payload: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      const path = url.pathname.replace(/^\/[a-zA-Z0-9]+\//, '/'); // drop the ccxt api key prefix
      switch (`${req.method} ${path}`) {
        case 'GET /time':
          return send(200, { serverTime: Date.now() });
        case 'GET /exchangeInfo':
          return send(200, exchangeInfo(klinesBySymbol.keys()));
        case 'GET /klines': {
          const since = Number(params.get('startTime') ?? 0);
          const limit = Number(params.get('limit') ?? 500);
          const symbol = params.get('symbol') ?? '';
          klineRequests.push({ symbol, startTime: since, limit });
          const answer = () => {
            const rows = (klinesBySymbol.get(symbol) ?? state.klines).filter((k) => k[0]! >= since).slice(0, limit);
            send(
              200,
              rows.map((k) => [
                k[0],
                String(k[1]),
                String(k[2]),
                String(k[3]),
                String(k[4]),
                String(k[5]),
                k[0]! + 3_599_999,
                '0',
                0,
                '0',
                '0',
                '0',
              ]),
            );
          };
          if (hold && hold.answered-- <= 0) {
            held.push(answer); // unanswered until released
            return hold.onHeld();
          }
          return answer();
        }
        case 'GET /ticker/24hr':
          return send(200, {
            symbol: 'BTCUSDT',
            lastPrice: String(state.lastPrice),
            openPrice: '1',
            highPrice: '1',
            lowPrice: '1',
            volume: '1',
            quoteVolume: '1',
            closeTime: Date.now(),
            openTime: Date.now() - 86_400_000,
            bidPrice: '0',
            askPrice: '0',
          });
        case 'GET /account':
          return send(200, {
            balances: [
              { asset: 'USDT', free: '1000.00', locked: '0' },
              { asset: 'BTC', free: '0.5', locked: '0' },
            ],
            canTrade: true,
            accountType: 'SPOT',
            permissions: ['SPOT'],
          });
        case 'POST /order': {
          const clientId = params.get('newClientOrderId') ?? '';
          if (orders.has(clientId)) return send(400, { code: -2010, msg: 'Duplicate order sent.' });
          const quantity = Number(params.get('quantity'));
          const order = {
            symbol: 'BTCUSDT',
            orderId: orderSeq++,
            clientOrderId: clientId,
            transactTime: Date.now(),
            price: '0',
            origQty: String(quantity),
            executedQty: String(quantity),
            cummulativeQuoteQty: String(quantity * state.lastPrice),
            status: 'FILLED',
            timeInForce: 'GTC',
            type: 'MARKET',
            side: params.get('side'),
            fills: [
              { price: String(state.lastPrice), qty: String(quantity), commission: String(quantity * 0.001), commissionAsset: 'BTC' },
            ],
          };
          orders.set(clientId, order);
          return send(200, order);
        }
        case 'GET /order': {
          const order = orders.get(params.get('origClientOrderId') ?? '');
          return order
            ? send(200, { ...order, updateTime: Date.now(), time: Date.now() })
            : send(400, { code: -2013, msg: 'Order does not exist.' });
        }
        default:
          return send(404, { code: -1, msg: `no route ${req.method} ${url.pathname}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get klines() {
      return state.klines;
    },
    set klines(rows) {
      state.klines = rows;
    },
    get lastPrice() {
      return state.lastPrice;
    },
    set lastPrice(price) {
      state.lastPrice = price;
    },
    requests,
    klinesBySymbol,
    klineRequests,
    holdKlinesAfter(answered) {
      return new Promise((resolve) => (hold = { answered, onHeld: resolve }));
    },
    stopHoldingKlines() {
      hold = undefined;
    },
    releaseHeldKlines() {
      hold = undefined;
      for (const answer of held.splice(0)) answer();
    },
    orders,
    failNext(count, mode = 'error') {
      failures = count;
      failMode = mode;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** BTC, ETH and SOL against USDT, and every other `XYZUSDT` the test gave klines for. */
function exchangeInfo(klineSymbols: Iterable<string>) {
  const extra = [...klineSymbols].filter((symbol) => /^[A-Z0-9]+USDT$/.test(symbol)).map((symbol) => symbol.slice(0, -4));
  return {
    timezone: 'UTC',
    serverTime: Date.now(),
    rateLimits: [],
    symbols: [
      ...[...new Set(['BTC', 'ETH', 'SOL', ...extra])].map((baseAsset) => ({
        symbol: `${baseAsset}USDT`,
        status: 'TRADING',
        baseAsset,
        baseAssetPrecision: 8,
        quoteAsset: 'USDT',
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ['LIMIT', 'MARKET'],
        icebergAllowed: true,
        ocoAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        permissions: ['SPOT'],
        permissionSets: [['SPOT']],
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000.00', tickSize: '0.01' },
          { filterType: 'LOT_SIZE', minQty: '0.00001', maxQty: '9000.00', stepSize: '0.00001' },
          {
            filterType: 'NOTIONAL',
            minNotional: '5.00',
            applyMinToMarket: true,
            maxNotional: '9000000.00',
            applyMaxToMarket: false,
            avgPriceMins: 5,
          },
        ],
      })),
    ],
  };
}
