import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingTool, productVariables, ROOT, readText, readYaml, runTool } from './tools.ts';

// deploy/compose.yaml validated by Debian's docker-compose (v1): `config` parses, interpolates
// and checks the file against the Compose schema with no Docker daemon. Then the resolved file
// is checked for what the runbook promises.

const secrets = { POSTGRES_PASSWORD: 'pg-secret', MASTER_KEY: 'ab'.repeat(32), GRAFANA_ADMIN_PASSWORD: 'grafana-secret' };
const skip = missingTool('docker-compose', 'docker-compose config of deploy/compose.yaml');

interface Service {
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: (string | { target: number; published: string | number; host_ip?: string })[];
  profiles?: string[];
  restart?: string;
}

// docker-compose (Python) takes seconds per run, more on a loaded CI machine.
describe.skipIf(skip)('deploy/compose.yaml (docker-compose config)', { timeout: 240_000 }, () => {
  let cached: { services: Record<string, Service>; volumes: Record<string, unknown> } | undefined;
  const resolved = () => (cached ??= resolve());
  const resolve = () => {
    const result = runTool('docker-compose', ['-f', 'deploy/compose.yaml', '--profile', 'demo', 'config'], { env: secrets });
    expect(result.code, result.stderr).toBe(0);
    return parse(result.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  };

  it('is valid, and refuses to start without each required secret, naming it', () => {
    resolved();
    for (const name of Object.keys(secrets)) {
      const rest = Object.fromEntries(Object.entries(secrets).filter(([key]) => key !== name));
      const result = runTool('docker-compose', ['-f', 'deploy/compose.yaml', 'config'], { env: rest });
      expect(result.code, name).not.toBe(0);
      expect(result.stderr, name).toContain(`set ${name} in deploy/.env`);
    }
  });

  it('runs migrations once before start and two workers, every product process on the same image with the same settings', () => {
    const { services } = resolved();
    expect(Object.keys(services).sort()).toEqual([
      'alertmanager',
      'api',
      'demo-seed',
      'grafana',
      'migrate',
      'ollama',
      'ollama-pull',
      'postgres',
      'prometheus',
      'redis',
      'worker-1',
      'worker-2',
    ]);
    const product = ['api', 'worker-1', 'worker-2', 'migrate', 'ollama-pull', 'demo-seed'];
    expect(new Set(product.map((name) => services[name]!.image)).size).toBe(1);
    expect(Object.fromEntries(product.map((name) => [name, services[name]!.command]))).toEqual({
      api: ['start'],
      'worker-1': ['worker'],
      'worker-2': ['worker'],
      migrate: ['migrate'],
      'ollama-pull': ['model', 'pull'],
      'demo-seed': ['seed', '--demo'],
    });
    for (const name of ['api', 'worker-1', 'worker-2']) {
      expect(services[name]!.depends_on?.['migrate']?.condition, name).toBe('service_completed_successfully');
      expect(services[name]!.depends_on?.['redis']?.condition, name).toBe('service_healthy');
      expect(services[name]!.environment).toMatchObject({
        DATABASE_URL: 'postgres://botcriptofy:pg-secret@postgres:5432/botcriptofy',
        REDIS_URL: 'redis://redis:6379',
        OLLAMA_HOST: 'http://ollama:11434',
        MASTER_KEY: secrets.MASTER_KEY,
        HOST: '0.0.0.0',
      });
    }
    expect(services['migrate']!.depends_on?.['postgres']?.condition).toBe('service_healthy');
    expect(services['ollama-pull']!.depends_on?.['ollama']?.condition).toBe('service_healthy');
    expect(services['migrate']!.restart).toBe('no');
    expect(services['demo-seed']!.profiles).toEqual(['demo']);
    // Workers serve their metrics; start serves them on PORT and has no METRICS_PORT.
    expect(services['worker-1']!.environment!['METRICS_PORT']).toBe('9464');
    expect(services['worker-2']!.environment!['METRICS_PORT']).toBe('9464');
    expect(services['api']!.environment!['METRICS_PORT']).toBe('');
  });

  it('keeps data in volumes, Redis with AOF persistence and noeviction, ports on 127.0.0.1 unless told otherwise', () => {
    const { services, volumes } = resolved();
    expect(Object.keys(volumes).sort()).toEqual([
      'alertmanager-data',
      'botcriptofy-data',
      'grafana-data',
      'ollama-models',
      'postgres-data',
      'prometheus-data',
      'redis-data',
    ]);
    const command = services['redis']!.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(services['redis']!.volumes!.some((volume) => volume.startsWith('redis-data:/data'))).toBe(true);
    expect(services['postgres']!.image).toMatch(/^timescale\/timescaledb:/);
    const published = Object.values(services).flatMap((service) => service.ports ?? []);
    expect(published.length).toBe(4);
    // Every service's image is pinned to a version (the product's is built from the Dockerfile).
    for (const [name, service] of Object.entries(services))
      if (!service.image!.startsWith('botcriptofy:')) expect(service.image, name).toMatch(/:v?\d+\.\d+/);
    for (const port of published) expect(typeof port === 'string' ? port : `${port.host_ip}:${port.published}`).toMatch(/^127\.0\.0\.1:/);
  });

  it("points Prometheus at the processes as the alert rules name them, and Grafana at the product's dashboard", () => {
    const { services } = resolved();
    const prometheus = readYaml<{
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    }>('deploy/observability/prometheus.yaml');
    // Firing alerts go to the compose file's Alertmanager.
    expect(prometheus.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets))).toEqual(['alertmanager:9093']);
    expect(services['alertmanager']!.command).toContain('--config.file=/alertmanager/alertmanager.yaml');
    const targets = Object.fromEntries(
      prometheus.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
    );
    expect(targets['botcriptofy-api']).toEqual([`api:${services['api']!.environment!['PORT']}`]);
    expect(targets['botcriptofy-worker']).toEqual(
      ['worker-1', 'worker-2'].map((name) => `${name}:${services[name]!.environment!['METRICS_PORT']}`),
    );
    const alerts = readText('deploy/observability/alerts.yaml');
    expect(alerts).toContain('job="botcriptofy-api"');
    expect(alerts).toContain('job="botcriptofy-worker"');
    expect(prometheus.rule_files).toEqual(['alerts.yaml']);
    const mounts = services['prometheus']!.volumes!;
    expect(mounts.some((m) => m.endsWith('/deploy/observability/alerts.yaml:/etc/prometheus/alerts.yaml:ro'))).toBe(true);
    expect(mounts.some((m) => m.endsWith('/deploy/observability/prometheus.yaml:/etc/prometheus/prometheus.yaml:ro'))).toBe(true);
    const provider = readYaml<{ providers: { options: { path: string } }[] }>(
      'deploy/observability/grafana/provisioning/dashboards/botcriptofy.yaml',
    );
    expect(
      services['grafana']!.volumes!.some((m) =>
        m.endsWith(`/deploy/observability/botcriptofy-dashboard.json:${provider.providers[0]!.options.path}/botcriptofy.json:ro`),
      ),
    ).toBe(true);
    const datasource = readYaml<{ datasources: { uid: string; url: string }[] }>(
      'deploy/observability/grafana/provisioning/datasources/prometheus.yaml',
    );
    expect(datasource.datasources[0]!.url).toBe('http://prometheus:9090');
  });
});

describe('deploy/.env.example', { timeout: 240_000 }, () => {
  const lines = readText('deploy/.env.example').split('\n');
  const settings = new Map(
    lines.flatMap((line) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      return match ? [[match[1]!, match[2]!] as const] : [];
    }),
  );
  const compose = readText('deploy/compose.yaml');
  /** Every variable compose.yaml reads from deploy/.env, with its default ('' for ${X:?…} and ${X:-}). */
  const interpolated = new Map(
    [...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*)|:\?[^}]*)?\}/g)].map((match) => [match[1]!, match[2] ?? ''] as const),
  );

  it('lists every variable compose.yaml reads, with the default compose.yaml uses', () => {
    expect([...interpolated.keys()].filter((name) => !settings.has(name))).toEqual([]);
    expect([...settings.keys()].filter((name) => !interpolated.has(name))).toEqual([]);
    for (const [name, fallback] of interpolated) expect(settings.get(name), name).toBe(fallback);
  });

  it('names every product setting: as a line, or among those compose.yaml sets itself', async () => {
    const fixed = lines.join('\n').match(/Set by compose\.yaml itself, not read from here:([\s\S]*?)\n[A-Z]/)?.[1] ?? '';
    for (const name of await productVariables()) expect(settings.has(name) || new RegExp(`\\b${name}\\b`).test(fixed), name).toBe(true);
  });

  it.skipIf(skip)('is read by Compose as compose.yaml expects (the same result as no file at all)', () => {
    const withFile = runTool('docker-compose', ['-f', 'deploy/compose.yaml', '--env-file', 'deploy/.env.example', 'config'], {
      env: secrets,
    });
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-env-')), '.env');
    fs.writeFileSync(empty, '');
    const without = runTool('docker-compose', ['-f', 'deploy/compose.yaml', '--env-file', empty, 'config'], { env: secrets });
    fs.rmSync(path.dirname(empty), { recursive: true, force: true });
    expect(withFile.code, withFile.stderr).toBe(0);
    expect(without.code, without.stderr).toBe(0);
    expect(parse(withFile.stdout)).toEqual(parse(without.stdout));
  });
});

describe.skipIf(missingTool('amtool', "amtool check-config of the compose file's Alertmanager"))(
  'deploy/observability/alertmanager/entrypoint.sh (amtool check-config)',
  () => {
    const script = path.join(ROOT, 'deploy/observability/alertmanager/entrypoint.sh');
    /** Runs the entrypoint with this environment and no command: it only writes the configuration. */
    const write = (env: Record<string, string>) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-alertmanager-'));
      const file = path.join(dir, 'alertmanager.yaml');
      const run = spawnSync('sh', [script], {
        env: { PATH: process.env.PATH, ALERTMANAGER_CONFIG_FILE: file, ...env },
        encoding: 'utf8',
      });
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
      const check = text === undefined ? undefined : runTool('amtool', ['check-config', file]);
      fs.rmSync(dir, { recursive: true, force: true });
      return { code: run.status, stderr: run.stderr, config: text === undefined ? undefined : parse(text), check };
    };
    type Receiver = { name: string; telegram_configs?: { bot_token: string; chat_id: number }[]; webhook_configs?: { url: string }[] };

    it('writes a configuration Alertmanager accepts for each kind of receiver, from deploy/.env', () => {
      const none = write({});
      expect(none.code).toBe(0);
      expect(none.check!.code, none.check!.stdout + none.check!.stderr).toBe(0);
      expect(none.stderr).toContain('no receiver set');
      expect(none.config.receivers).toEqual([{ name: 'operators' }]);

      // The product's own bot by default, to the operators' group; quotes in a value stay data.
      const telegram = write({ ALERT_TELEGRAM_CHAT_ID: '-1001234567890', TELEGRAM_BOT_TOKEN: "123:AB'c" });
      expect(telegram.check!.code, telegram.check!.stdout + telegram.check!.stderr).toBe(0);
      expect((telegram.config.receivers as Receiver[])[0]!.telegram_configs).toEqual([
        { bot_token: "123:AB'c", chat_id: -1001234567890, send_resolved: true },
      ]);

      const both = write({
        ALERT_TELEGRAM_CHAT_ID: '42',
        TELEGRAM_BOT_TOKEN: '1:product',
        ALERT_TELEGRAM_BOT_TOKEN: '2:alerts',
        ALERT_WEBHOOK_URL: 'https://pager.example/hook?key=a',
      });
      expect(both.check!.code, both.check!.stdout + both.check!.stderr).toBe(0);
      const receiver = (both.config.receivers as Receiver[])[0]!;
      expect(receiver.telegram_configs![0]!.bot_token).toBe('2:alerts');
      expect(receiver.webhook_configs).toEqual([{ url: 'https://pager.example/hook?key=a', send_resolved: true }]);
      // Critical alerts repeat sooner; every alert it inhibits exists.
      expect(both.config.route.routes[0]).toMatchObject({ matchers: ['severity="critical"'], repeat_interval: '1h' });
      const names = new Set(
        readYaml<{ groups: { rules: { alert: string }[] }[] }>('deploy/observability/alerts.yaml').groups.flatMap((g) =>
          g.rules.map((r) => r.alert),
        ),
      );
      for (const rule of both.config.inhibit_rules as { source_matchers: string[]; target_matchers: string[] }[])
        for (const matcher of [...rule.source_matchers, ...rule.target_matchers])
          for (const name of /"(.*)"/.exec(matcher)![1]!.split('|')) expect(names.has(name), name).toBe(true);
    });

    it('refuses a setting Alertmanager could not use, in one line naming it, and writes nothing', () => {
      const cases: [Record<string, string>, string][] = [
        [{ ALERT_TELEGRAM_CHAT_ID: '@ops', TELEGRAM_BOT_TOKEN: '1:x' }, 'ALERT_TELEGRAM_CHAT_ID must be a Telegram chat id'],
        [{ ALERT_TELEGRAM_CHAT_ID: '12-3', TELEGRAM_BOT_TOKEN: '1:x' }, 'ALERT_TELEGRAM_CHAT_ID must be a Telegram chat id'],
        [{ ALERT_TELEGRAM_CHAT_ID: '-100' }, 'neither ALERT_TELEGRAM_BOT_TOKEN nor TELEGRAM_BOT_TOKEN is'],
        [{ ALERT_WEBHOOK_URL: 'pager.example/hook' }, 'ALERT_WEBHOOK_URL must be an http:// or https:// URL'],
      ];
      for (const [env, message] of cases) {
        const result = write(env);
        expect(result.code, message).toBe(2);
        expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
        expect(result.config).toBeUndefined();
      }
    });

    it('is what the compose service runs, with the settings of deploy/.env', () => {
      const service = readYaml<{ services: Record<string, Service & { environment: Record<string, string> }> }>('deploy/compose.yaml')
        .services['alertmanager']!;
      expect(service.entrypoint).toEqual(['/bin/sh', '/etc/alertmanager/entrypoint.sh']);
      expect(service.command![0]).toBe('/bin/alertmanager');
      expect(service.volumes).toContain('./observability/alertmanager:/etc/alertmanager:ro');
      const read = [...readText('deploy/observability/alertmanager/entrypoint.sh').matchAll(/\$\{([A-Z_]+):-/g)].map((m) => m[1]!);
      for (const name of read.filter((name) => name !== 'ALERTMANAGER_CONFIG_FILE'))
        expect(Object.keys(service.environment), name).toContain(name);
    });
  },
);
