// The open-loop client of bench/http-api.ts (measureSteady), on its own thread: its own event
// loop and its own small heap. In the bench's main thread, which holds the product's modules
// (~70 MB of heap), each 60 KB answer of GET /candles pushed V8 into a mark-compact every
// ~0.5 s, and those pauses were counted as the server's latency (p95 19–26 ms there against
// 5–6 ms from a process of its own, the same server).
//
// Request i is due at start + i / ratePerS and sent then, whether or not the earlier ones were
// answered (as requests from many people arrive), and its latency counts from that due time to
// the end of its response (so a server that stalls is charged for the requests that waited, as
// wrk2 does).
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface OpenLoopResult {
  readonly latenciesMs: number[];
  readonly non2xx: number;
  readonly errors: number;
  readonly elapsedS: number;
}

const { url, cookie, ratePerS, seconds } = workerData as { url: string; cookie: string; ratePerS: number; seconds: number };
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const latenciesMs: number[] = [];
let non2xx = 0;
let errors = 0;
const total = Math.round(ratePerS * seconds);
const intervalMs = 1000 / ratePerS;
const start = performance.now();
const sends: Promise<void>[] = [];
const send = (dueMs: number) =>
  new Promise<void>((resolve) => {
    const request = http.get(url, { agent, headers: { cookie } }, (response) => {
      if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) non2xx++;
      response.resume();
      response.on('end', () => {
        latenciesMs.push(performance.now() - dueMs);
        resolve();
      });
    });
    request.on('error', () => {
      errors++;
      resolve();
    });
  });
for (let i = 0; i < total; ) {
  const now = performance.now();
  while (i < total && start + i * intervalMs <= now) {
    sends.push(send(start + i * intervalMs));
    i++;
  }
  if (i < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + i * intervalMs - performance.now())));
}
await Promise.all(sends);
agent.destroy();
parentPort!.postMessage({ latenciesMs, non2xx, errors, elapsedS: (performance.now() - start) / 1000 } satisfies OpenLoopResult);
