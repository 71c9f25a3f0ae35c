import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);

/** The machine's PostgreSQL binaries (Debian keeps them out of PATH), if any. */
function postgresBinDir(): string | undefined {
  const fromPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = [fromPath.status === 0 ? fromPath.stdout.trim() : undefined];
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) for (const version of fs.readdirSync(root).sort().reverse()) candidates.push(path.join(root, version, 'bin'));
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
}

const binDir = postgresBinDir();
/** initdb can run here (not as root: PostgreSQL refuses; then the test runs it as `postgres` if that user exists). */
const runAs: string[] | undefined = (() => {
  if (!binDir) return undefined;
  if (process.getuid?.() !== 0) return [];
  return spawnSync('id', ['-u', 'postgres']).status === 0 ? ['runuser', '-u', 'postgres', '--'] : undefined;
})();
export const privatePostgresAvailable = binDir !== undefined && runAs !== undefined;

export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: a crash (no checkpoint, connections cut); start() recovers it. */
  crash(): Promise<void>;
  /** The same, blocking this thread until the server is gone (to crash it at an exact moment). */
  crashSync(): void;
  start(): Promise<void>;
  /** Stops the server and deletes its folder. */
  dispose(): Promise<void>;
}

async function tool(name: string, args: string[]): Promise<void> {
  const [command, ...prefix] = [...runAs!, path.join(binDir!, name)];
  await run(command!, [...prefix, ...args], { env: { ...process.env, LC_ALL: 'C' } });
}

/**
 * A PostgreSQL server of the test's own (initdb into a temporary folder, a free port,
 * fsync off, which a crash of the server alone survives; commits stay synchronous): the test may crash and restart it without touching the shared one on 5432.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!privatePostgresAvailable) throw new Error('no PostgreSQL binaries (initdb, pg_ctl) on this machine');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-pg-'));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const port = await freePort();
  await tool('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = () => tool('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: () => tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    crashSync() {
      const [command, ...prefix] = [...runAs!, path.join(binDir!, 'pg_ctl')];
      const result = spawnSync(command!, [...prefix, '-D', data, '-m', 'immediate', '-w', 'stop'], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`pg_ctl stop failed: ${result.stderr}`);
    },
    start,
    async dispose() {
      await tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
