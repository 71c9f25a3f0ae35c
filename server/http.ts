import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and waits for open requests, up to `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

export function startHttpServer(app: Hono, options: { host: string; port: number }): Promise<RunningHttpServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (error: Error) => reject(error);
    server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (info: AddressInfo) => {
      server.off('error', onError);
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: (timeoutMs) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => {
              // Past the grace period, cut the connections that are still open.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }, timeoutMs);
            timer.unref();
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
          }),
      });
    });
    server.once('error', onError);
  });
}
