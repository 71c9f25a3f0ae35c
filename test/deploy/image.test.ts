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
