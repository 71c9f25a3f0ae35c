import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../support/cli.ts';

// The launcher's start-up cache (bin/start-cache.js): a project module's stripped JavaScript is
// reused while its source is unchanged, and stripped again as soon as it changes.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-start-cache-'));
// A module of the project's own (the cache takes only files of the checkout outside node_modules);
// data/ is the checkout's ignored data folder.
fs.mkdirSync(path.join(ROOT, 'data'), { recursive: true });
const moduleDir = fs.mkdtempSync(path.join(ROOT, 'data', 'start-cache-test-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(moduleDir, { recursive: true, force: true });
});

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const skip = major < 22 || (major === 22 && minor < 18);

/** Imports `file` in a new Node with the start cache on (in `cacheDir`) and returns what it printed. */
async function importWithCache(
  file: string,
  cacheDir: string,
  extraEnv: Record<string, string> = {},
  options: { compiledCode?: boolean; printCompileCacheDir?: boolean } = {},
): Promise<string> {
  const script = [
    `const { enableStartCache } = await import(${JSON.stringify(new URL('../../bin/start-cache.js', import.meta.url).href)});`,
    `enableStartCache(${JSON.stringify(options.compiledCode === undefined ? {} : { compiledCode: options.compiledCode })});`,
    `const loaded = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'console.log(loaded.describe());',
    ...(options.printCompileCacheDir
      ? ["const { getCompileCacheDir } = await import('node:module');", "console.log(getCompileCacheDir() ?? 'no code cache');"]
      : []),
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: cliEnv({ BOTCRIPTOFY_START_CACHE_DIR: cacheDir, ...extraEnv }),
  });
  return stdout.trim();
}

/** A TypeScript module whose describe() says `answer <value + 1>`. */
const answerModule = (value: number) =>
  `const answer: number = ${value};\nexport function describe(): string {\n  return 'answer ' + (answer + 1);\n}\n`;

const entries = (cacheDir: string) => fs.readdirSync(path.join(cacheDir, 'ts')).filter((name) => name.endsWith('.js'));

describe('the start-up cache (bin/start-cache.js)', () => {
  it('reuses a stripped module while its source is unchanged and strips it again once it changes', { skip }, async () => {
    const cacheDir = path.join(tmp, 'cache');
    const file = path.join(moduleDir, 'answer.ts');
    fs.writeFileSync(file, answerModule(41));

    expect(await importWithCache(file, cacheDir)).toBe('answer 42');
    const [entry] = entries(cacheDir);
    expect(entries(cacheDir)).toHaveLength(1);
    const stored = fs.readFileSync(path.join(cacheDir, 'ts', entry!), 'utf8');
    // Types become spaces: every line and column stays where it was in the source.
    expect(stored.split('\n')[0]).toBe('const answer         = 41;');

    // The next run takes the stored JavaScript as it is (proved by altering it), without stripping again.
    fs.writeFileSync(path.join(cacheDir, 'ts', entry!), stored.replace('answer + 1', 'answer + 2'));
    expect(await importWithCache(file, cacheDir)).toBe('answer 43');

    // An edit to the source (same size, same line count) is seen: stripped again, the entry replaced.
    fs.writeFileSync(file, answerModule(40));
    expect(await importWithCache(file, cacheDir)).toBe('answer 41');
    expect(entries(cacheDir)).toEqual([entry]);

    // Turned off, Node strips the source itself and nothing is read from the cache.
    fs.writeFileSync(
      path.join(cacheDir, 'ts', entry!),
      fs.readFileSync(path.join(cacheDir, 'ts', entry!), 'utf8').replace('answer + 1', 'answer + 5'),
    );
    expect(await importWithCache(file, cacheDir, { BOTCRIPTOFY_NO_START_CACHE: '1' })).toBe('answer 41');
  });

  it("a long-running command (start, worker) keeps the stripped sources but not V8's code cache", { skip }, async () => {
    const { LONG_RUNNING_COMMANDS } = (await import(new URL('../../bin/start-cache.js', import.meta.url).href)) as {
      LONG_RUNNING_COMMANDS: Set<string>;
    };
    expect([...LONG_RUNNING_COMMANDS].sort()).toEqual(['start', 'worker']);
    const cacheDir = path.join(tmp, 'no-code-cache');
    const file = path.join(moduleDir, 'server-like.ts');
    fs.writeFileSync(file, answerModule(6));
    const printed = (compiledCode: boolean) =>
      importWithCache(file, cacheDir, {}, { compiledCode, printCompileCacheDir: true }).then((out) => out.split('\n'));
    expect(await printed(false)).toEqual(['answer 7', 'no code cache']);
    expect(entries(cacheDir)).toHaveLength(1);
    expect(fs.existsSync(path.join(cacheDir, 'v8'))).toBe(false);
    // The short commands' default: both.
    const [answer, codeCacheDir] = await printed(true);
    expect(answer).toBe('answer 7');
    expect(codeCacheDir).toContain(path.join(cacheDir, 'v8'));
  });

  it('a command run through the launcher fills the cache and gives the same answer from it', { skip }, async () => {
    const cacheDir = path.join(tmp, 'cli-cache');
    const args = [BIN, 'backtest', '--strategy', 'rsi-reference', '--data', 'candles/binance_BTCUSDT_5m.csv', '--json'];
    const env = cliEnv({ BOTCRIPTOFY_START_CACHE_DIR: cacheDir, DATA_DIR: path.join(tmp, 'data') });
    const metrics = (stdout: string) => {
      const { elapsedMs: _elapsed, loadMs: _load, candlesPerSecond: _speed, ...rest } = JSON.parse(stdout) as Record<string, unknown>;
      return rest;
    };
    const first = await run(process.execPath, args, { cwd: ROOT, env });
    const stored = entries(cacheDir).length;
    // The launcher's whole module graph of a file backtest: the CLI, the errors and the engine's core (16 modules).
    expect(stored).toBeGreaterThan(10);
    expect(fs.readdirSync(path.join(cacheDir, 'v8')).length).toBeGreaterThan(0);
    const second = await run(process.execPath, args, { cwd: ROOT, env });
    expect(metrics(second.stdout)).toEqual(metrics(first.stdout));
    expect(second.stderr).toBe('');
    expect(entries(cacheDir)).toHaveLength(stored);
  });
});
