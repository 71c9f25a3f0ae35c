import { CronExpressionParser } from 'cron-parser';

/** The next time a cron pattern fires after `after`, in its time zone. */
export function nextCronTime(pattern: string, timezone: string, after: Date): Date {
  return CronExpressionParser.parse(pattern, { currentDate: after, tz: timezone }).next().toDate();
}

/** Throws a clear error for a pattern cron-parser cannot read. */
export function assertCron(pattern: string, timezone: string): void {
  try {
    CronExpressionParser.parse(pattern, { tz: timezone });
  } catch (error) {
    throw new Error(`invalid cron pattern "${pattern}" (${timezone}): ${(error as Error).message}`);
  }
}
