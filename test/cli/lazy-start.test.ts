import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv } from '../support/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-lazy-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Packages a file backtest must never load: exchanges, agents, database drivers, queues, payments,
 * Telegram; and zod when no --param is given (the strategy's defaults need no schema; zod's 95
 * modules were a third of such a run's CPU).
 */
const FORBIDDEN_PACKAGES = [
  'zod',
  'ccxt',
  '@mastra',
  'postgres',
  '@electric-sql/pglite',
  'drizzle-orm',
  'bullmq',
  'ioredis',
  'stripe',
  'telegraf',
];
/** Nor the product's layers that use them. */
const FORBIDDEN_FOLDERS = [
  'db',
  'agents',
  'billing',
  'telegram',
  'workers',
  'server',
  'jobs',
  'workflows',
  'tools',
  'trading/exchange',
  'trading/runner',
];

/** Runs `node --import record-modules.ts ARGS` and returns its output and every module it resolved. */
async function recordModules(args: string[], env: Record<string, string>): Promise<{ stdout: string; modules: string[] }> {
  const record = path.join(tmp, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', HOOK, ...args], {
    cwd: ROOT,
    env: cliEnv({ ...env, RECORD_MODULES_FILE: record }),
    maxBuffer: 64 << 20,
  });
  return { stdout, modules: fs.readFileSync(record, 'utf8').split('\n').filter(Boolean) };
}

/** The forbidden modules among `modules`, by package or product folder. */
function forbidden(modules: string[]): string[] {
  return modules.filter((url) => {
    if (!url.startsWith('file://')) return false;
    const file = fileURLToPath(url);
    const inPackage = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file)?.[1]?.replace(/\\/g, '/');
    if (inPackage)
      return FORBIDDEN_PACKAGES.some(
        (name) => inPackage === name || (name.startsWith('@') && !name.includes('/') && inPackage.startsWith(`${name}/`)),
      );
    const relative = path.relative(ROOT, file).replace(/\\/g, '/');
    return FORBIDDEN_FOLDERS.some((folder) => relative.startsWith(`${folder}/`)) || relative === 'mastra.config.ts';
  });
}

function packages(modules: string[]): string[] {
  return [
    ...new Set(modules.map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]).filter((name): name is string => !!name)),
  ].sort();
}

describe('a file backtest starts lean', () => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];

  it('backtest --data loads no exchange, agent, database, queue, payment or Telegram module, nor zod', {
    skip: major < 22 || (major === 22 && minor < 15),
  }, async () => {
    const args = [BIN, 'backtest', '--strategy', 'rsi-reference', '--data', 'candles/binance_BTCUSDT_5m.csv', '--json'];
    const env = { DATA_DIR: path.join(tmp, 'data') };
    for (const run of ['parsed', 'from the binary cache']) {
      const { stdout, modules } = await recordModules(args, env);
      const result = JSON.parse(stdout) as { candles: number; trades: number };
      expect(result.candles, run).toBe(8_352);
      expect(result.trades, run).toBeGreaterThan(0);
      // The recording saw the command run (so an empty list is not a pass by accident)...
      expect(
        modules.some((url) => url.endsWith('/trading/backtest/engine.ts')),
        run,
      ).toBe(true);
      expect(
        modules.some((url) => url.endsWith('/trading/market-data/load.ts')),
        run,
      ).toBe(true);
      // ...and nothing it must not load.
      expect(forbidden(modules), `${run}; packages loaded: ${packages(modules).join(', ')}`).toEqual([]);
    }
    expect(fs.readdirSync(path.join(tmp, 'data', 'cache', 'candles'))).toHaveLength(1);
  });

  it('the recording catches such a load (the whole of trading/ does load the database)', {
    skip: major < 22 || (major === 22 && minor < 15),
  }, async () => {
    const { modules } = await recordModules(['--input-type=module', '-e', "await import('./trading/index.ts')"], {});
    const caught = packages(forbidden(modules));
    expect(caught).toContain('drizzle-orm');
    expect(forbidden(modules).some((url) => url.endsWith('/db/index.ts'))).toBe(true);
  });
});
