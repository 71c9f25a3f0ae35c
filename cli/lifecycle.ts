/**
 * A launcher (npm, the Node 22 hand-over in bin/botcriptofy.js, a shell) that dies without
 * passing a signal on — killed with SIGKILL, say — would leave this server running, holding
 * the data folder. When the parent process changes (the orphan is adopted), stop gracefully.
 */
export function stopWhenOrphaned(stop: () => void, intervalMs = 1_000): void {
  const parent = process.ppid;
  if (parent <= 1) return; // started by init or a supervisor directly: nothing to watch
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, intervalMs);
  timer.unref();
}
