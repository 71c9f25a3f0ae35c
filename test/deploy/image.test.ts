import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { ROOT, readText } from './tools.ts';

// The container image (Dockerfile, .dockerignore, deploy/docker/healthcheck.mjs), checked
// without a Docker daemon: the Dockerfile linted by dockerfile-utils (the Dockerfile language
// server's validator, with every optional rule on) and its promises checked one by one.

const dockerfile = readText('Dockerfile');
/** Instructions with their continuation lines joined and comment lines dropped. */
const instructions = dockerfile
  .split('\n')
  .filter((line) => !/^\s*#/.test(line))
  .join('\n')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter(Boolean);
const all = (keyword: string) => instructions.filter((line) => line.toUpperCase().startsWith(`${keyword} `));

describe('Dockerfile', () => {
  it('passes the linter with every rule on', () => {
    const rules = {
      deprecatedMaintainer: 2,
      directiveCasing: 2,
      emptyContinuationLine: 2,
      instructionCasing: 2,
      instructionCmdMultiple: 2,
      instructionEntrypointMultiple: 2,
      instructionHealthcheckMultiple: 2,
      instructionJSONInSingleQuotes: 2,
      instructionWorkdirRelative: 2,
    } as const;
    expect(validate(dockerfile, rules).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    // The linter does find problems when there are some.
    expect(validate("FROM node\nworkdir app\nCMD ['a']\n", rules).length).toBeGreaterThanOrEqual(3);
  });

  it('runs on the Node the lock file pins for the `node` package, new enough that bin/botcriptofy.js never re-execs', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/m.exec(dockerfile);
    expect(image, 'ARG NODE_IMAGE=node:X.Y.Z-bookworm-slim').not.toBeNull();
    const [major, minor] = [Number(image![1]), Number(image![2])];
    // bin/botcriptofy.js hands over to node_modules/node only below 22.18.
    expect(readText('bin/botcriptofy.js')).toContain('major > 22 || (major === 22 && minor >= 18)');
    expect(major > 22 || (major === 22 && minor >= 18)).toBe(true);
    const lock = JSON.parse(readText('package-lock.json')) as { packages: Record<string, { version?: string }> };
    expect(`${image![1]}.${image![2]}.${image![3]}`).toBe(lock.packages['node_modules/node']!.version);
    // Every stage on that image; the fallback Node from npm is removed from the image.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own build argument, not a template
    expect(all('FROM').map((line) => line.split(/\s+/)[1])).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}', '${NODE_IMAGE}']);
    expect(all('RUN').join('\n')).toContain('rm -rf node_modules/node node_modules/.bin/node');
  });

  it('is multi-stage with production dependencies only, a non-root user, tini, a HEALTHCHECK on /health and one image for every command', () => {
    // deps (production node_modules), web (the dashboard built with its dev dependencies; only web/dist goes on), runtime.
    expect(all('FROM')).toHaveLength(3);
    expect(all('RUN').join('\n')).toMatch(/npm ci --omit=dev/);
    expect(all('COPY').some((line) => line.includes('--from=deps') && line.includes('node_modules'))).toBe(true);
    expect(all('COPY').some((line) => line.includes('--from=web') && line.endsWith('/app/web/dist ./web/dist'))).toBe(true);
    const user = all('USER');
    expect(user).toEqual(['USER node']);
    // USER comes after the last RUN (nothing runs as root afterwards) and before the entrypoint.
    expect(instructions.indexOf(user[0]!)).toBeGreaterThan(instructions.lastIndexOf(all('RUN').at(-1)!));
    expect(all('RUN').join('\n')).toMatch(/apt-get install .*\btini\b/);
    expect(all('ENTRYPOINT')).toEqual(['ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/botcriptofy.js"]']);
    expect(all('CMD')).toEqual(['CMD ["start"]']);
    expect(all('HEALTHCHECK')).toHaveLength(1);
    expect(all('HEALTHCHECK')[0]).toContain('/usr/local/lib/botcriptofy/healthcheck.mjs');
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/);
  });
});

describe('.dockerignore', () => {
  const patterns = readText('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const excluded = new Set(patterns.filter((p) => !p.startsWith('!')));

  it('keeps out dependencies, local data, secrets, tests and the repository', () => {
    for (const entry of ['node_modules', 'data', '.env', '.git', 'test', 'bench', 'coverage'])
      expect(excluded.has(entry), entry).toBe(true);
    expect(patterns).toContain('!.env.example');
    expect(patterns).toContain('!deploy/docker/healthcheck.mjs');
  });

  it('keeps in every folder the running product reads (no runtime module imports an excluded one)', () => {
    const runtimeDirs = fs
      .readdirSync(ROOT, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !excluded.has(d.name) && !d.name.startsWith('.'))
      .map((d) => d.name);
    for (const needed of [
      'bin',
      'cli',
      'config',
      'db',
      'agents',
      'candles',
      'eval',
      'server',
      'telegram',
      'trading',
      'workers',
      'jobs',
      'workflows',
    ])
      expect(runtimeDirs, needed).toContain(needed);
    const offending: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|js|mjs)$/.test(entry.name)) {
          for (const match of fs
            .readFileSync(full, 'utf8')
            .matchAll(/(?:from\s+|import\(\s*|new URL\(\s*`?)['"`]((?:\.\.?\/)+[^'"`]*)['"`]/g)) {
            const target = path.relative(ROOT, path.resolve(path.dirname(full), match[1]!)).split(path.sep)[0]!;
            if (excluded.has(target)) offending.push(`${path.relative(ROOT, full)} → ${match[1]}`);
          }
        }
      }
    };
    for (const dir of runtimeDirs) walk(path.join(ROOT, dir));
    // Not run in the image: bin's fallback to the `node` npm package (the image's Node is new
    // enough) and `npm run eval`'s scripted models (a developer's tool).
    const devOnly = ['bin/botcriptofy.js → ../node_modules/node/bin/node', 'eval/run.ts → ../test/support/'];
    expect(offending.filter((line) => !devOnly.some((allowed) => line.startsWith(allowed)))).toEqual([]);
  });
});

describe('what each stage of the image is built from', () => {
  const patterns = readText('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  /** A .dockerignore pattern as a regular expression: ** any depth, * and ? within one path segment. */
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}$`,
    );
  /** Whether Docker leaves the file out of the build context (a pattern matches it or a folder above it; the last match wins). */
  const ignored = (file: string) => {
    const parts = file.split('/');
    const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let out = false;
    for (const pattern of patterns) {
      const negated = pattern.startsWith('!');
      const regex = glob(negated ? pattern.slice(1) : pattern);
      if (prefixes.some((prefix) => regex.test(prefix))) out = !negated;
    }
    return out;
  };

  it("sends the data the processes read at run time (the router's labelled messages, the bundled candles), and no local dashboard build", () => {
    const data = [
      ...fs
        .readdirSync(path.join(ROOT, 'eval'))
        .filter((name) => name.endsWith('.jsonl'))
        .map((name) => `eval/${name}`),
      ...fs
        .readdirSync(path.join(ROOT, 'candles'))
        .filter((name) => name.endsWith('.csv'))
        .map((name) => `candles/${name}`),
    ];
    // agents/intent-model.ts trains on these (a missing file would silently train on less).
    for (const file of ['eval/messages.jsonl', 'eval/training.jsonl', 'eval/training2.jsonl', 'eval/heldout.jsonl'])
      expect(data).toContain(file);
    expect(data.filter(ignored)).toEqual([]);
    expect(ignored('web/src/main.tsx')).toBe(false);
    expect(ignored('deploy/docker/healthcheck.mjs')).toBe(false);
    for (const file of [
      'web/dist/index.html',
      'deploy/compose.yaml',
      'test/deploy/image.test.ts',
      '.env',
      'data/pglite/PG_VERSION',
      'scratch-x.ts',
    ])
      expect(ignored(file), file).toBe(true);
  });

  it('runs on production dependencies alone: every package a running process imports is in "dependencies"', () => {
    const packageJson = JSON.parse(readText('package.json')) as { dependencies: object; devDependencies: object };
    const production = new Set(Object.keys(packageJson.dependencies));
    const missing: string[] = [];
    let seen = 0;
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const relative = path.relative(ROOT, full);
        if (ignored(relative) || entry.name === 'node_modules' || relative.startsWith('web')) continue;
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|js|mjs)$/.test(entry.name)) {
          const text = fs.readFileSync(full, 'utf8');
          // Static imports and re-exports (type-only ones are erased when Node strips the types), and dynamic imports.
          const specifiers = [
            ...[...text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+['"]([^'"]+)['"]/gm)]
              .filter((m) => !m[1])
              .map((m) => m[2]!),
            ...[...text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
            ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
          ];
          for (const specifier of specifiers) {
            if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
            seen += 1;
            const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
            if (!production.has(name)) missing.push(`${relative} → ${specifier}`);
          }
        }
      }
    };
    walk(ROOT);
    expect(seen).toBeGreaterThan(100);
    // `npm run eval`'s scripted models (a developer's tool) are not run in the image.
    expect(missing.filter((line) => !line.startsWith('eval/run.ts'))).toEqual([]);
  });

  it("builds the dashboard from the package files and web/ alone (the web stage's only inputs)", () => {
    const webStage = dockerfile.slice(dockerfile.indexOf(' AS web'), dockerfile.indexOf(' AS runtime'));
    expect([...webStage.matchAll(/^COPY (.*)$/gm)].map((m) => m[1])).toEqual(['package.json package-lock.json ./', 'web ./web']);
    const packageJson = JSON.parse(readText('package.json')) as { dependencies: object; devDependencies: object };
    const installed = new Set([...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.devDependencies)]);
    const outside: string[] = [];
    let seen = 0;
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'dist' && entry.name !== 'node_modules') walk(full);
        } else if (/\.(ts|tsx|js|mjs|css)$/.test(entry.name)) {
          for (const match of fs.readFileSync(full, 'utf8').matchAll(/(?:from\s+|import\(\s*|^import\s+)['"]([^'"]+)['"]/gm)) {
            const specifier = match[1]!;
            seen += 1;
            if (specifier.startsWith('.')) {
              const target = path.relative(path.join(ROOT, 'web'), path.resolve(path.dirname(full), specifier));
              if (target.startsWith('..')) outside.push(`${path.relative(ROOT, full)} → ${specifier}`);
            } else if (!specifier.startsWith('node:')) {
              const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
              // Preact's compat layer stands in for react (web/vite.config.ts's alias).
              if (!installed.has(name) && !['react', 'react-dom'].includes(name))
                outside.push(`${path.relative(ROOT, full)} → ${specifier} (not in package.json)`);
            }
          }
        }
      }
    };
    walk(path.join(ROOT, 'web'));
    expect(seen).toBeGreaterThan(50);
    expect(outside).toEqual([]);
  });
});

describe('deploy/docker/healthcheck.mjs', () => {
  const run = (port: number): Promise<number | null> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'deploy/docker/healthcheck.mjs')], {
        env: { PATH: process.env.PATH, PORT: String(port) },
        stdio: 'ignore',
      });
      child.on('close', (code) => resolve(code));
    });

  it("exits 0 when start's /health answers 200 and 1 on 503 or no answer", async () => {
    let status = 200;
    const server = http.createServer((request, response) => {
      response.writeHead(request.url === '/health' ? status : 404).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await run(port)).toBe(0);
      status = 503;
      expect(await run(port)).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await run(port)).toBe(1);
  });
});
