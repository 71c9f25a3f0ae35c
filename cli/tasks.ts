import type { ScheduledTask } from '../workers/index.ts';
import type { Runtime } from './runtime.ts';

/**
 * The company's recurring work, declared by every worker (schedules fire once across them):
 * filled in by the modules that own each piece as they land.
 */
export function scheduledTasks(_runtime: Runtime): ScheduledTask[] {
  return [];
}
