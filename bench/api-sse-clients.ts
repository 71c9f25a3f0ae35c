// The clients of bench/api-sse.ts, on their own thread (their own event loop, as browsers would
// be): `count` SSE connections to GET /api/v1/events over node:http (the lightest client, so the
// figures are the server's, not the measuring side's), each noting when every trade event arrived
// (performance.timeOrigin + performance.now(), comparable with the main thread's).
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, cookie, count } = workerData as { url: string; cookie: string; count: number };
/** marker (the trade's amountBase) → arrival time at each client. */
const arrivals = new Map<string, number[]>();
const requests: http.ClientRequest[] = [];
let connected = 0;

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${url}/api/v1/events`, { headers: { cookie, accept: 'text/event-stream' }, agent: false }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`GET /api/v1/events answered ${response.statusCode}`));
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk: string) => {
        const at = performance.timeOrigin + performance.now();
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block === ': connected') {
            connected++;
            resolve();
          } else if (block.startsWith('event: trade\n')) {
            const marker = /"amountBase":"([^"]+)"/.exec(block)?.[1];
            if (marker) {
              const times = arrivals.get(marker) ?? [];
              times.push(at);
              arrivals.set(marker, times);
            }
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    request.on('error', reject);
    requests.push(request);
  });
}

for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: Math.min(50, count - i) }, open));
if (connected !== count) throw new Error(`${connected} of ${count} clients connected`);
parentPort!.postMessage({ kind: 'ready' });

parentPort!.on('message', (message: { kind: 'report' | 'close' }) => {
  if (message.kind === 'report') parentPort!.postMessage({ kind: 'report', arrivals: Object.fromEntries(arrivals) });
  else {
    for (const request of requests) request.destroy();
    parentPort!.postMessage({ kind: 'closed' });
  }
});
