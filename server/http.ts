import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  /**
   * Stops accepting connections and waits for open requests, up to `timeoutMs`. Event streams
   * (markEventStream: GET /api/v1/events) never finish by themselves: they are ended at once,
   * and their clients reconnect to another process or after the restart with Last-Event-ID.
   */
  close(timeoutMs: number): Promise<void>;
}

const eventStreams = new WeakSet<ServerResponse>();

/** Marks a response as an event stream (never finishes by itself): a closing server ends it at once. */
export function markEventStream(response: ServerResponse | undefined): void {
  if (response) eventStreams.add(response);
}

export function startHttpServer(app: Hono, options: { host: string; port: number }): Promise<RunningHttpServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (error: Error) => reject(error);
    const responses = new Set<ServerResponse>();
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
            for (const response of responses) if (eventStreams.has(response)) response.destroy();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
          }),
      });
    });
    server.once('error', onError);
    server.on('request', (_request, response: ServerResponse) => {
      responses.add(response);
      response.once('close', () => responses.delete(response));
    });
  });
}
