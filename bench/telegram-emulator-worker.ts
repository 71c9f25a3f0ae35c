// Runs the Bot API emulator and its limit-enforcing proxy on a thread of their own, so that
// what the benchmark measures is the outbox, not the emulator sharing its event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { startTelegramEmulator, type LimitsEnforced } from '../test/support/telegram-emulator.ts';

const emulator = await startTelegramEmulator({ limits: (workerData as { limits: LimitsEnforced }).limits });
parentPort!.postMessage({ kind: 'ready', apiRoot: emulator.apiRoot, token: emulator.token });
parentPort!.on('message', (message: { kind: 'stats' | 'close' }) => {
  if (message.kind === 'stats') {
    parentPort!.postMessage({
      kind: 'stats',
      requests: emulator.requests.map((r) => ({ method: r.method, chatId: r.chatId, at: r.at, status: r.status, body: null })),
      delivered: emulator.delivered().length,
      // First characters of each delivered text (the soak counts its digests).
      deliveredHeads: emulator.delivered().map((message) => message.text.slice(0, 16)),
    });
  } else {
    void emulator.close().then(() => parentPort!.postMessage({ kind: 'closed' }));
  }
});
