// The image's HEALTHCHECK: GET /health of this container's process. `start` serves it on PORT;
// a `worker` serves it on METRICS_PORT when that is set and opens no port otherwise (then, as
// for one-shot commands such as `migrate`, the check asks only that the process be running:
// Docker runs this file only while it is).
import { readFileSync } from 'node:fs';

/** The botcriptofy command that PID 1 (tini) runs, read from its command line. */
function runningCommand() {
  try {
    const argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    const bin = argv.findIndex((arg) => arg.endsWith('botcriptofy.js'));
    return bin >= 0 ? argv[bin + 1] || 'start' : 'start';
  } catch {
    return 'start';
  }
}

const command = runningCommand();
const port = command === 'start' ? process.env.PORT || '3000' : command === 'worker' ? process.env.METRICS_PORT : undefined;
if (!port) process.exit(0);
try {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4_000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
