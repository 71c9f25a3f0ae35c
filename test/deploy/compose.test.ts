import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingTool, readText, readYaml, runTool } from './tools.ts';

// deploy/compose.yaml validated by Debian's docker-compose (v1): `config` parses, interpolates
// and checks the file against the Compose schema with no Docker daemon. Then the resolved file
// is checked for what the runbook promises.

const secrets = { POSTGRES_PASSWORD: 'pg-secret', MASTER_KEY: 'ab'.repeat(32), GRAFANA_ADMIN_PASSWORD: 'grafana-secret' };
const skip = missingTool('docker-compose', 'docker-compose config of deploy/compose.yaml');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: (string | { target: number; published: string | number; host_ip?: string })[];
  profiles?: string[];
  restart?: string;
}

describe.skipIf(skip)('deploy/compose.yaml (docker-compose config)', () => {
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
    expect(published.length).toBe(3);
    for (const port of published) expect(typeof port === 'string' ? port : `${port.host_ip}:${port.published}`).toMatch(/^127\.0\.0\.1:/);
  });

  it("points Prometheus at the processes as the alert rules name them, and Grafana at the product's dashboard", () => {
    const { services } = resolved();
    const prometheus = readYaml<{ rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }>(
      'deploy/observability/prometheus.yaml',
    );
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
