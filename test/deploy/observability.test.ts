import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCli } from '../support/cli.ts';
import { freePort } from '../support/ports.ts';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator.ts';
import { missingTool, readText, readYaml, runTool } from './tools.ts';

// The dashboard and the alert rules (deploy/observability/) against what the product really
// exports: a real `botcriptofy start` (with the Telegram door, so its metrics exist) and a real
// `botcriptofy worker` with METRICS_PORT are started, their /metrics read, and every metric name
// in every PromQL expression must be among them. promtool (Debian's prometheus package) checks
// the rules, the Prometheus configuration and the dashboard's queries; a schema check of the
// rules runs whether or not it is installed.

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = readYaml<{ groups: { name: string; rules: Rule[] }[] }>('deploy/observability/alerts.yaml');
const dashboard = JSON.parse(readText('deploy/observability/botcriptofy-dashboard.json')) as {
  uid: string;
  title: string;
  panels: { id: number; type: string; title: string; targets?: { expr: string; refId: string }[] }[];
  templating: { list: { name: string; type: string }[] };
};
const dashboardExprs = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
);

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects (not functions, keywords, labels or durations). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(match.index! + match[0].length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Sample names a /metrics text can produce (histograms: _bucket, _sum, _count). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [match[1]!, match[2]!];
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

describe('metric names in PromQL', () => {
  it('are found in every form the dashboard and the rules use', () => {
    expect(metricNames('sum by (le, queue) (rate(job_latency_seconds_bucket{queue=~"a|b"}[5m]))').sort()).toEqual([
      'job_latency_seconds_bucket',
    ]);
    expect(metricNames('max(bot_workers_alive) == 0 and max(bots_running) > 0').sort()).toEqual(['bot_workers_alive', 'bots_running']);
    expect(metricNames('sum(rate(x_total{outcome="failed"}[5m])) / clamp_min(sum(rate(x_total[5m])), 1e-9)')).toEqual(['x_total']);
    expect(metricNames('time() - max(audit_chain_checked_timestamp_seconds) > 3 * 3600')).toEqual([
      'audit_chain_checked_timestamp_seconds',
    ]);
    expect(metricNames('absent(up{job="botcriptofy-api"} == 1)')).toEqual(['up']);
  });
});

describe('dashboard and alert rules against the metrics start and a worker export', () => {
  let emulator: TelegramEmulator;
  const dirs: string[] = [];
  let exported: Set<string>;
  let workerMetrics = '';
  let workerHealth = 0;

  beforeAll(async () => {
    emulator = await startTelegramEmulator();
    const dataDir = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-observability-'));
      dirs.push(dir);
      return dir;
    };
    const metricsPort = await freePort();
    // Both on their own embedded database, no demo company: the metrics exist from the start.
    const common = { DEMO_SEED: 'false', PAPER_MARKET: 'replay', OLLAMA_HOST: 'http://127.0.0.1:9', LOG_LEVEL: 'warn' };
    const settled = await Promise.allSettled([
      startCli(
        ['start'],
        {
          ...common,
          DATA_DIR: dataDir(),
          PORT: '0',
          LOG_LEVEL: 'info',
          TELEGRAM_BOT_TOKEN: emulator.token,
          TELEGRAM_API_ROOT: emulator.apiRoot,
        },
        (line) => line.includes('BotCriptoFy is up'),
        170_000,
      ),
      startCli(
        ['worker'],
        { ...common, DATA_DIR: dataDir(), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info' },
        (line) => line.includes('worker ready'),
        170_000,
      ),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // The one that did start must not outlive the test.
      for (const r of settled) if (r.status === 'fulfilled') r.value.child.kill('SIGKILL');
      throw failed.reason;
    }
    const [start, worker] = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof startCli>>>).value) as [
      Awaited<ReturnType<typeof startCli>>,
      Awaited<ReturnType<typeof startCli>>,
    ];
    try {
      const url = (JSON.parse(start.line) as { url: string }).url;
      const startMetrics = await (await fetch(`${url}/metrics`)).text();
      workerHealth = (await fetch(`http://127.0.0.1:${metricsPort}/health`)).status;
      workerMetrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      exported = new Set([...exportedNames(startMetrics), ...exportedNames(workerMetrics)]);
    } finally {
      start.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
    }
    expect(await start.exited).toBe(0);
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('worker stopped cleanly');
  }, 240_000);

  afterAll(async () => {
    await emulator?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a worker with METRICS_PORT serves /health and its own counters', () => {
    expect(workerHealth).toBe(200);
    for (const name of [
      'bot_ticks_total',
      'bot_lock_takeovers_total',
      'job_queue_depth',
      'job_latency_seconds',
      'process_resident_memory_bytes',
    ])
      expect(workerMetrics).toContain(`# TYPE ${name} `);
  });

  it('start exports the deployment-wide gauges and the Telegram metrics', () => {
    for (const name of [
      'bots_running',
      'bots_running_not_ticked',
      'bot_workers_alive',
      'agent_model_up',
      'audit_chain_broken',
      'telegram_outbox_backlog',
      'telegram_updates_total',
      'http_request_duration_seconds_bucket',
    ])
      expect(exported.has(name), name).toBe(true);
  });

  it('the dashboard uses only metrics the product exports', () => {
    expect(dashboardExprs.length).toBeGreaterThan(25);
    const unknown = dashboardExprs.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("the alert rules use only metrics the product exports, and Prometheus's own up", () => {
    const unknown = rules.groups.flatMap((group) =>
      group.rules.flatMap((rule) =>
        metricNames(rule.expr)
          .filter((name) => name !== 'up' && !exported.has(name))
          .map((name) => `${rule.alert}: ${name}`),
      ),
    );
    expect(unknown).toEqual([]);
  });
});

describe('alert rules (schema)', () => {
  it('are groups of named alerts, each with an expression, a duration, a severity and a summary', () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    const names = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules.groups.flatMap((group) => group.rules)) {
      expect(
        Object.keys(rule).filter((key) => !['alert', 'expr', 'for', 'labels', 'annotations'].includes(key)),
        rule.alert,
      ).toEqual([]);
      expect(rule.alert, rule.alert).toMatch(/^Botcriptofy[A-Z][A-Za-z]+$/);
      expect(typeof rule.expr === 'string' && rule.expr.trim().length > 0, rule.alert).toBe(true);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['description'], rule.alert).toBeTruthy();
      // Balanced brackets: an unparseable expression fails here even without promtool.
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const)
        expect(rule.expr.split(open).length, `${rule.alert} ${open}${close}`).toBe(rule.expr.split(close).length);
    }
    // Every alert the issue asks for is there.
    for (const name of [
      'BotcriptofyNoWorkerAlive',
      'BotcriptofyBotsNotTicking',
      'BotcriptofyQueueBackingUp',
      'BotcriptofyOutboxStuck',
      'BotcriptofyWebhookFailures',
      'BotcriptofyAuditChainBroken',
      'BotcriptofyModelOffline',
    ])
      expect(names).toContain(name);
  });

  it("each has its row in the runbook's Alerts table (what it means, what to do), and every row is a rule", () => {
    const names = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    const runbook = readText('docs/operations.md');
    const section = runbook.slice(runbook.indexOf('\n## Alerts\n'), runbook.indexOf('\n## ', runbook.indexOf('\n## Alerts\n') + 1));
    const rows = new Map(
      section.split('\n').flatMap((line) => {
        const cells = /^\| `(Botcriptofy\w+)` \|(.*)\|(.*)\|$/.exec(line);
        return cells ? [[cells[1]!, { means: cells[2]!.trim(), todo: cells[3]!.trim() }] as const] : [];
      }),
    );
    expect(names.filter((name) => !rows.has(name))).toEqual([]);
    expect([...rows.keys()].filter((name) => !names.includes(name))).toEqual([]);
    // A row says what the alert means and what to do, in words (not a placeholder).
    for (const [name, row] of rows) {
      expect(row.means.length, `${name}: means`).toBeGreaterThan(25);
      expect(row.todo.length, `${name}: do`).toBeGreaterThan(25);
    }
  });

  it('the dashboard is one Grafana dashboard with unique panel ids and a Prometheus datasource variable', () => {
    expect(dashboard.uid).toBe('botcriptofy');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
  });
});

const noPromtool = missingTool('promtool', 'promtool checks of the rules, the Prometheus configuration and the dashboard queries');
describe.skipIf(noPromtool)('promtool', () => {
  it('check rules: the alert rules parse', () => {
    const result = runTool('promtool', ['check', 'rules', 'deploy/observability/alerts.yaml']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("check config: the compose deployment's Prometheus configuration with its rule file", () => {
    const result = runTool('promtool', ['check', 'config', 'deploy/observability/prometheus.yaml']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('every dashboard query parses as PromQL (checked as recording rules)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-promql-'));
    try {
      const file = path.join(dir, 'dashboard-queries.yaml');
      fs.writeFileSync(
        file,
        stringify({
          groups: [{ name: 'dashboard', rules: dashboardExprs.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr })) }],
        }),
      );
      const result = runTool('promtool', ['check', 'rules', file]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      // And promtool does refuse a broken query.
      fs.writeFileSync(file, stringify({ groups: [{ name: 'bad', rules: [{ record: 'x:y', expr: 'sum(rate(bot_ticks_total[5m])' }] }] }));
      expect(runTool('promtool', ['check', 'rules', file]).code).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
