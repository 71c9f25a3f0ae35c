import { InProcessJobs } from '../../jobs/index.ts';

/**
 * A job runner for the API's queued backtests that tells a test when one finished: `jobFinished`
 * resolves on the runner's own completion event (no polling), whether it came before or after.
 */
export function watchedBacktestJobs(): { jobs: InProcessJobs; jobFinished(backtestId: string): Promise<void> } {
  const finished = new Map<string, () => void>();
  const done = new Set<string>();
  const jobs = new InProcessJobs({
    onCompleted: (job) => {
      const { backtestId } = job.data as { backtestId: string };
      done.add(backtestId);
      finished.get(backtestId)?.();
    },
  });
  const jobFinished = (backtestId: string) =>
    done.has(backtestId) ? Promise.resolve() : new Promise<void>((resolve) => finished.set(backtestId, resolve));
  return { jobs, jobFinished };
}
