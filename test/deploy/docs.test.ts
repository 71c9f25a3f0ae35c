import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTool, ROOT, readText, readYaml, runTool, yamlDocuments } from './tools.ts';

// The commands an operator copies from the README's "Running in production" and the runbook
// (docs/operations.md) must match the deployment files: the files they name exist, the Compose
// services they address are in compose.yaml, the chart values they set are in values.yaml, the
// secrets they ask for are the ones compose refuses to start without, and the Kubernetes names
// they use are the ones the chart renders for a release called botcriptofy.

const readme = readText('README.md');
const section = readme.slice(
  readme.indexOf('\n## Running in production\n'),
  readme.indexOf('\n## ', readme.indexOf('\n## Running in production\n') + 1),
);
const runbook = readText('docs/operations.md');
/** The shell blocks of a Markdown text, continuation lines joined. */
const shellBlocks = (text: string) => [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' '));
const compose = readYaml<{ services: Record<string, unknown> }>('deploy/compose.yaml');
const values = readYaml<Record<string, unknown>>('deploy/helm/botcriptofy/values.yaml');

describe("the README's and the runbook's deployment commands", () => {
  it('are in the README: the one-host and the cluster install, each with its commands', () => {
    const commands = shellBlocks(section).join('\n');
    for (const command of [
      'cp deploy/.env.example deploy/.env',
      'docker compose -f deploy/compose.yaml up -d --build',
      'helm install botcriptofy deploy/helm/botcriptofy',
      'kubectl -n botcriptofy rollout status deploy/botcriptofy-api',
    ])
      expect(commands).toContain(command);
    expect(section).toContain('docs/operations.md');
  });

  it('name files that exist', () => {
    const named = new Set([...`${section}\n${runbook}`.matchAll(/\b((?:deploy|docs|test\/deploy)\/[\w./-]*\w)/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(10);
    // Not files: the operator's own deploy/.env, and kubectl's deploy/NAME (a Deployment).
    const files = [...named].filter((name) => name !== 'deploy/.env' && !name.startsWith('deploy/botcriptofy-'));
    expect(files.filter((file) => !fs.existsSync(path.join(ROOT, file)))).toEqual([]);
  });

  it('address Compose services that compose.yaml has', () => {
    const services = new Set(Object.keys(compose.services));
    const used = new Set<string>();
    for (const block of [...shellBlocks(section), ...shellBlocks(runbook)]) {
      const text = block.replaceAll('$C', 'docker compose -f deploy/compose.yaml');
      for (const match of text.matchAll(
        /docker compose -f deploy\/compose\.yaml (?:--profile \w+ )?(exec|run|stop|logs)((?: -[-\w]+(?: [A-Z_]+=\S+)?)*)((?: [a-z][\w-]*)+)/g,
      )) {
        const names = match[3]!.trim().split(' ');
        // stop takes several services; exec, run and logs one, followed by its command.
        for (const name of match[1] === 'stop' ? names : names.slice(0, 1)) used.add(name);
      }
    }
    for (const match of runbook.matchAll(/`docker compose -f deploy\/compose\.yaml (?:exec|run --rm|logs) ([a-z][\w-]*)/g))
      used.add(match[1]!);
    expect(used.size).toBeGreaterThanOrEqual(4);
    expect([...used].filter((name) => !services.has(name))).toEqual([]);
  });

  it('ask for exactly the secrets compose refuses to start without', () => {
    const required = [...readText('deploy/compose.yaml').matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]!);
    const asked = /cp deploy\/\.env\.example deploy\/\.env\s+# set ([^\n]*)/.exec(shellBlocks(section).join('\n'))![1]!;
    for (const name of new Set(required)) expect(asked, name).toContain(name);
    for (const name of ['ALERT_TELEGRAM_CHAT_ID', 'ALERT_WEBHOOK_URL'])
      expect(readText('deploy/.env.example')).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it('set chart values that values.yaml has', () => {
    const keys = new Set<string>();
    for (const block of [...shellBlocks(section), ...shellBlocks(runbook)])
      for (const line of block.split('\n'))
        if (/helm (?:install|upgrade) botcriptofy deploy\/helm\/botcriptofy/.test(line))
          for (const match of line.matchAll(/--set ([\w.]+)=/g)) keys.add(match[1]!);
    for (const match of `${section}\n${runbook}`.matchAll(
      /`((?:worker|api|metrics|backups|postgresql|redis|ollama)\.[\w.]+|(?:secrets|config)\.[A-Z][A-Z0-9_]*)`/g,
    ))
      keys.add(match[1]!);
    expect(keys.size).toBeGreaterThan(10);
    const missing = [...keys].filter((key) => {
      let node: unknown = values;
      for (const part of key.split('.')) {
        if (node === null || typeof node !== 'object' || !(part in node)) return true;
        node = (node as Record<string, unknown>)[part];
      }
      return false;
    });
    expect(missing).toEqual([]);
  });

  it.skipIf(!findTool('helm'))('use the Kubernetes names the chart renders for a release called botcriptofy', () => {
    const result = runTool('helm', [
      'template',
      'botcriptofy',
      'deploy/helm/botcriptofy',
      '--set',
      `secrets.MASTER_KEY=${'ab'.repeat(32)}`,
      '--set',
      'postgresql.auth.password=p',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rendered = new Set(
      yamlDocuments(result.stdout).map((doc) => `${String(doc['kind'])}/${String((doc['metadata'] as { name: string }).name)}`),
    );
    const kinds: Record<string, string> = { deploy: 'Deployment', svc: 'Service', hpa: 'HorizontalPodAutoscaler', job: 'Job' };
    const used = new Set<string>();
    for (const match of `${section}\n${runbook}`.matchAll(/\b(deploy|svc|hpa)\/(botcriptofy-[\w-]+)/g))
      used.add(`${kinds[match[1]!]}/${match[2]}`);
    expect(used.size).toBeGreaterThanOrEqual(4);
    expect([...used].filter((name) => !rendered.has(name))).toEqual([]);
    // job/botcriptofy-migrate-REVISION: the migration Job is named with the release's revision.
    expect(runbook).toContain('job/botcriptofy-migrate-REVISION');
    expect(rendered.has('Job/botcriptofy-migrate-1')).toBe(true);
  });
});
