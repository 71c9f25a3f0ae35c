import type { AddressInfo } from 'node:net';

// `ws` is the WebSocket library ccxt itself uses (a dependency of ccxt, without type declarations here).
interface WebSocket {
  on(event: 'close', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer) => void): void;
  send(data: string): void;
  terminate(): void;
}
interface WebSocketServer {
  once(event: 'listening', listener: () => void): void;
  on(event: 'connection', listener: (socket: WebSocket) => void): void;
  address(): AddressInfo | string | null;
  close(callback: () => void): void;
}
// @ts-expect-error -- no declaration file for ws (see above)
const { WebSocketServer: Server } = (await import('ws')) as {
  WebSocketServer: new (options: { port: number; host: string }) => WebSocketServer;
};

/**
 * A scripted stand-in for Binance's spot market streams on loopback (the WebSocket side of
 * fake-binance.ts): it answers SUBSCRIBE requests and sends the kline events the test pushes,
 * in Binance's format, to every connection subscribed to that stream.
 */
export interface FakeBinanceStream {
  /** `ws://127.0.0.1:<port>/ws`, for MarketFeeds' `wsUrl`. */
  readonly url: string;
  /** Streams subscribed so far ('btcusdt@kline_1m'). */
  readonly subscriptions: string[];
  /** Resolves once some connection has subscribed to `stream`. */
  subscribed(stream: string): Promise<void>;
  /** Sends a kline update `[openTime, open, high, low, close, volume]` of `symbol` ('BTCUSDT') at `interval`. */
  push(symbol: string, interval: string, bar: readonly number[], closed: boolean): void;
  /** Drops every connection (a network cut); the client reconnects by itself. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startFakeBinanceStream(): Promise<FakeBinanceStream> {
  const server = new Server({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const streams = new Map<WebSocket, Set<string>>();
  const subscriptions: string[] = [];
  const waiters: { stream: string; resolve: () => void }[] = [];
  server.on('connection', (socket) => {
    streams.set(socket, new Set());
    socket.on('close', () => streams.delete(socket));
    socket.on('message', (data) => {
      const request = JSON.parse(String(data)) as { method?: string; params?: string[]; id?: number };
      if (request.method === 'SUBSCRIBE') {
        for (const stream of request.params ?? []) {
          streams.get(socket)?.add(stream);
          subscriptions.push(stream);
          for (const waiter of waiters.filter((w) => w.stream === stream)) waiter.resolve();
        }
      } else if (request.method === 'UNSUBSCRIBE') {
        for (const stream of request.params ?? []) streams.get(socket)?.delete(stream);
      }
      socket.send(JSON.stringify({ result: null, id: request.id }));
    });
  });
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    subscriptions,
    subscribed: (stream) =>
      subscriptions.includes(stream) ? Promise.resolve() : new Promise((resolve) => waiters.push({ stream, resolve })),
    push(symbol, interval, bar, closed) {
      const stream = `${symbol.toLowerCase()}@kline_${interval}`;
      const [t, o, h, l, c, v] = bar as number[];
      const event = {
        e: 'kline',
        E: Date.now(),
        s: symbol,
        k: {
          t,
          T: t! + 59_999,
          s: symbol,
          i: interval,
          f: 1,
          L: 2,
          o: String(o),
          c: String(c),
          h: String(h),
          l: String(l),
          v: String(v),
          n: 2,
          x: closed,
          q: '0',
          V: '0',
          Q: '0',
          B: '0',
        },
      };
      for (const [socket, subscribed] of streams) if (subscribed.has(stream)) socket.send(JSON.stringify(event));
    },
    dropConnections() {
      for (const socket of streams.keys()) socket.terminate();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of streams.keys()) socket.terminate();
        server.close(() => resolve());
      }),
  };
}
