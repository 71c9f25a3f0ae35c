import { ConfigError } from '../config/index.ts';

/**
 * How a long-running process (`start`, `worker`) is told to stop: SIGINT, SIGTERM, or its
 * launcher going away. A launcher (npm, the Node 22 hand-over in bin/botcriptofy.js, a shell)
 * that dies without passing a signal on — killed with SIGKILL, say — would leave the process
 * running, holding the data folder; when the parent process changes (the orphan is adopted),
 * it stops gracefully too.
 */
export function stopOnSignals(stop: (reason: string) => void, orphanCheckMs = 1_000): void {
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const parent = process.ppid;
  if (parent <= 1) return; // started by init or a supervisor directly: no launcher to watch
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop('launcher exited');
  }, orphanCheckMs);
  timer.unref();
}

/**
 * What listening on a port failed with, for the person running the command: a port already in
 * use is a setting to change (one line, exit 2, naming the variable), anything else as it came.
 */
export function listenFailure(error: NodeJS.ErrnoException, setting: { variable: string; host: string; port: number }): Error {
  if (error.code !== 'EADDRINUSE') return error;
  return new ConfigError([
    {
      variable: setting.variable,
      value: String(setting.port),
      expected: `expected a free port: another program already listens on ${setting.host}:${setting.port}`,
    },
  ]);
}
