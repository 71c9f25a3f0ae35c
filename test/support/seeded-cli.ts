import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/index.ts';
import { runCliHere, type CliResult } from './cli.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export interface SeededCliCompany {
  /** A folder of this fixture's own (its data folder is `data/` inside), removed afterwards. */
  readonly tmp: string;
  /** The owner (email) of the first demo bot: a trader with bots. */
  readonly trader: string;
  /** `botcriptofy ARGS` against this company, through the same main() as the binary. */
  cli(...args: string[]): Promise<CliResult>;
  /** The result, once the test has checked it exited 0 (stderr shown otherwise). */
  ok(result: CliResult): CliResult;
  /** The company's database, opened for reading what a command left (close it before the next command on the embedded one). */
  open(): Promise<DatabaseHandle>;
}

/**
 * A demo company seeded through the CLI on one driver (embedded in a data folder, or a
 * database of its own on the test server), for tests that run commands against it. Call it
 * inside a describe: it registers its own beforeAll (seed) and afterAll (drop, remove).
 */
export function seededCliCompany(
  driver: 'pglite' | 'postgres',
  options: { readonly name: string; readonly masterKey: string },
): SeededCliCompany {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bcf-cli-${options.name}-`));
  let database: TestDatabase | undefined;
  let env: Record<string, string> = {};
  let trader = '';
  const company: SeededCliCompany = {
    tmp,
    get trader() {
      return trader;
    },
    cli: (...args) => runCliHere(args, env),
    ok: (result) => {
      expect(result.code, result.stderr).toBe(0);
      return result;
    },
    open: () => (env.DATABASE_URL ? openDatabase({ url: env.DATABASE_URL, dataDir: '' }) : openDatabase({ dataDir: env.DATA_DIR! })),
  };
  beforeAll(async () => {
    if (driver === 'postgres') {
      database = await createTestDatabase('postgres');
      env = { DATABASE_URL: database.url!, MASTER_KEY: options.masterKey, DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'error' };
      await database.handle.close();
    } else env = { DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'error' };
    company.ok(await company.cli('seed', '--demo', '--traders', '12', '--as-of', '2026-11-01'));
    const bots = JSON.parse(company.ok(await company.cli('bots', 'list', '--json')).stdout) as { bots: { owner: string }[] };
    trader = bots.bots[0]!.owner;
  }, 300_000);
  afterAll(async () => {
    await database?.dispose().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  return company;
}
