// `npm run soak [-- --minutes 15 --workers 3 --webhooks 60 --notifications 3] [--write]`: the
// long soak (bench/soak.ts), its tables printed (and with --write put in BENCHMARKS.md, in
// place of the previous soak's). Exit code 1 when an invariant failed.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { writeSoakSection } from './benchmarks-file.ts';
import { runSoak, soakViolations, type SoakResult } from './soak.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '15' },
    workers: { type: 'string', default: '3' },
    webhooks: { type: 'string', default: '60' },
    notifications: { type: 'string', default: '3' },
    'no-faults': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const number = (name: string, text: string | undefined) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name}: expected a positive number, got "${text}"`);
    process.exit(2);
  }
  return value;
};
const options = {
  durationS: Math.round(number('minutes', values.minutes) * 60),
  workers: Math.round(number('workers', values.workers)),
  webhooksPerS: number('webhooks', values.webhooks),
  notificationsPerS: number('notifications', values.notifications),
  faults: !values['no-faults'],
};

const started = new Date();
const result = await runSoak({ ...options, progress: (line) => console.error(`[soak] ${line}`) });
const problems = soakViolations(result);
const section =
  table(result, started) +
  (problems.length > 0 ? `\n\nInvariants that failed:\n${problems.map((p) => `- ${p}`).join('\n')}` : '\n\nEvery invariant held.');
console.log(section);
if (values.write) writeSoakSection(section);
if (problems.length > 0) {
  if (result.tooManyContext.length > 0)
    console.log(`\nrequests to each 429's chat in the 2 s before it:\n${result.tooManyContext.join('\n')}`);
  process.exitCode = 1;
}

function table(r: SoakResult, at: Date): string {
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const o = r.options;
  return [
    `## Soak: ${o.durationS / 60} minutes, ${o.workers} workers + start, ${o.webhooksPerS} webhooks/s, ${o.notificationsPerS} notifications/s${o.faults ? ', with faults' : ''}`,
    '',
    `\`npm run soak -- --minutes ${o.durationS / 60} --workers ${o.workers} --webhooks ${o.webhooksPerS} --notifications ${o.notificationsPerS}\` on commit ${commit}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${at.toISOString().slice(0, 10)}. One run.`,
    '',
    '| fault | at (s) | recovered (s) | what recovery means |',
    '|---|---:|---:|---|',
    ...r.faults.map((f) => `| ${f.fault} | ${f.atS} | ${f.recoveredS ?? '—'} | ${f.recovery} |`),
    '',
    '| invariant | result |',
    '|---|---|',
    `| webhooks | ${r.webhooks.posts} posts of ${r.webhooks.distinctEvents} distinct events → ${r.webhooks.stored} stored, ${r.webhooks.processed} processed, ${r.webhooks.invoices} invoices, ${r.webhooks.invoicesWithTwoPayments} applied twice; ${r.webhooks.notAccepted} posts not accepted (retried), ${r.webhooks.unanswered} never accepted |`,
    `| bot ticks | ${r.ticks.total} ticks of ${r.ticks.bots} bots; ${r.orders.total} orders in the database (seeded ones included), ${r.orders.duplicateClientOrderIds} duplicate client order ids |`,
    `| notifications | ${r.notifications.queuedByLoad} queued by the load, ${r.notifications.rows} rows for people in all → ${r.notifications.sent} sent in ${r.notifications.telegramMessages} Telegram messages (${r.notifications.digests} digests), ${r.notifications.sentTwice} sent twice, ${r.notifications.pendingAtEnd} pending, ${r.notifications.failed} failed; ${r.notifications.tooMany} answers 429${r.notifications.tooMany ? ` (at ${r.notifications.tooManyAtS.join(', ')} s)` : ''} |`,
    `| schedules | ${r.schedules.presentAtEnd} of ${r.schedules.expected} in Redis at the end |`,
    `| audit | ${r.auditVerified ? 'verify passes' : 'verify FAILS'} |`,
    `| logs | ${r.logLines} lines, ${r.nonJsonLines.length} not JSON |`,
    `| exits | ${Object.entries(r.exitCodes)
      .map(([name, code]) => `${name} ${code}`)
      .join(', ')} |`,
  ].join('\n');
}
