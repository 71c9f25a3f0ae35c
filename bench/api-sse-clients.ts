// The clients of bench/api-sse.ts, on their own thread (their own event loop, as browsers would
// be): `count` SSE connections to GET /api/v1/events, each noting when every trade event
// arrived (performance.timeOrigin + performance.now(), comparable with the main thread's).
import { parentPort, workerData } from 'node:worker_threads';
import { SseClient } from '../test/support/sse.ts';

const { url, cookie, count } = workerData as { url: string; cookie: string; count: number };
/** marker (the trade's amountBase) → arrival time at each client. */
const arrivals = new Map<string, number[]>();
const clients: SseClient[] = [];

for (let i = 0; i < count; i += 50) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(50, count - i) }, async () => {
      const client = await SseClient.open(`${url}/api/v1/events`, { cookie });
      if (client.status !== 200) throw new Error(`GET /api/v1/events answered ${client.status}`);
      client.onEvent = (event) => {
        if (event.event !== 'trade') return;
        const { amountBase } = JSON.parse(event.data) as { amountBase: string };
        const times = arrivals.get(amountBase) ?? [];
        times.push(event.receivedAtMs);
        arrivals.set(amountBase, times);
      };
      return client;
    }),
  );
  clients.push(...batch);
}
while (!clients.every((client) => client.comments.includes('connected'))) await new Promise((resolve) => setTimeout(resolve, 10));
parentPort!.postMessage({ kind: 'ready' });

parentPort!.on('message', async (message: { kind: 'report' | 'close' }) => {
  if (message.kind === 'report') parentPort!.postMessage({ kind: 'report', arrivals: Object.fromEntries(arrivals) });
  else {
    await Promise.all(clients.map((client) => client.close()));
    parentPort!.postMessage({ kind: 'closed' });
  }
});
