import { describe, expect, it } from 'vitest';
import { productVariables, readText, readYaml } from './tools.ts';

// A variable added to config/env.ts must reach every way of running the product: .env.example
// (the CLI), the compose file (one host) and the Helm chart's values (a cluster).

describe('every setting in config/env.ts reaches each deployment', () => {
  it('is listed in .env.example', async () => {
    const keys = new Set(
      readText('.env.example')
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
        .filter(Boolean),
    );
    expect((await productVariables()).filter((name) => !keys.has(name))).toEqual([]);
  });

  it('is in the environment of the product services in deploy/compose.yaml, and nothing else is', async () => {
    const compose = readYaml<{
      'x-botcriptofy-env': Record<string, unknown>;
      services: Record<string, { environment?: Record<string, unknown>; command?: string[] }>;
    }>('deploy/compose.yaml');
    const listed = Object.keys(compose['x-botcriptofy-env']);
    const variables = await productVariables();
    expect(variables.filter((name) => !listed.includes(name))).toEqual([]);
    expect(listed.filter((name) => !variables.includes(name))).toEqual([]);
    // Each service running the product's image gets all of them.
    for (const name of ['api', 'worker-1', 'worker-2', 'migrate', 'ollama-pull', 'demo-seed']) {
      const environment = compose.services[name]?.environment ?? {};
      expect(
        variables.filter((variable) => !(variable in environment)),
        name,
      ).toEqual([]);
    }
  });

  it('is under config or secrets in the Helm chart values, each in exactly one of them', async () => {
    const values = readYaml<{ config: Record<string, unknown>; secrets: Record<string, unknown> }>('deploy/helm/botcriptofy/values.yaml');
    const config = Object.keys(values.config);
    const secrets = Object.keys(values.secrets);
    const variables = await productVariables();
    expect(variables.filter((name) => !config.includes(name) && !secrets.includes(name))).toEqual([]);
    expect(config.filter((name) => secrets.includes(name))).toEqual([]);
    expect([...config, ...secrets].filter((name) => !variables.includes(name))).toEqual([]);
    // The secret ones (config/env.ts's secretVariables) are never in the ConfigMap.
    const { secretVariables } = await import('../../config/env.ts');
    expect([...secretVariables].filter((name) => !secrets.includes(name))).toEqual([]);
  });

  it('has the product default in compose and the chart wherever the deployment does not set its own', async () => {
    const { envSchema } = await import('../../config/env.ts');
    const defaults = envSchema.parse({}) as Record<string, unknown>;
    // Values these deployments set on purpose (the container's address, JSON logs, production, the data folder, the services' URLs).
    const deploymentOwn = new Set([
      'NODE_ENV',
      'LOG_FORMAT',
      'HOST',
      'PORT',
      'METRICS_PORT',
      'DATA_DIR',
      'DATABASE_URL',
      'MASTER_KEY',
      'OLLAMA_HOST',
      'REDIS_URL',
    ]);
    const compose = readYaml<{ 'x-botcriptofy-env': Record<string, string> }>('deploy/compose.yaml')['x-botcriptofy-env'];
    const values = readYaml<{ config: Record<string, string>; secrets: Record<string, string> }>('deploy/helm/botcriptofy/values.yaml');
    for (const [name, fallback] of Object.entries(defaults)) {
      if (deploymentOwn.has(name)) continue;
      const expected = fallback === undefined ? '' : String(fallback);
      const interpolated = /^\$\{[A-Z0-9_]+:-(.*)\}$/.exec(String(compose[name]))?.[1];
      expect(interpolated, `compose ${name}`).toBe(expected);
      expect(String(values.config[name] ?? values.secrets[name]), `chart ${name}`).toBe(expected);
    }
  });
});
