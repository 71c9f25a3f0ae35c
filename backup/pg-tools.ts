import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ProductError } from '../errors/index.ts';

const run = promisify(execFile);

/** pg_dump or pg_restore is missing, or older than the server (it refuses a newer server's data). */
export class BackupToolUnavailableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BackupToolUnavailableError';
  }
}

/** A pg_dump/pg_restore run that failed: its own last lines say why. */
export class BackupToolFailedError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BackupToolFailedError';
  }
}

export interface PgTool {
  readonly path: string;
  readonly major: number;
  /** Its `--version` line, e.g. `pg_dump (PostgreSQL) 15.20`. */
  readonly version: string;
}

/**
 * The newest `pg_dump`/`pg_restore` on this machine: on PATH, and Debian's versioned ones in
 * /usr/lib/postgresql/N/bin (PATH's may be a wrapper that picks an older one). pg_dump must be
 * at least the server's major version; a newer one reads an older server fine.
 */
export async function findPgTool(name: 'pg_dump' | 'pg_restore', serverMajor: number): Promise<PgTool> {
  const candidates = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.add(path.join(dir, name));
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) for (const version of fs.readdirSync(root)) candidates.add(path.join(root, version, 'bin', name));
  const found: PgTool[] = [];
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate)) continue;
    try {
      const { stdout } = await run(candidate, ['--version'], { timeout: 10_000 });
      const major = Number(/\(PostgreSQL\) (\d+)/.exec(stdout)?.[1]);
      if (Number.isInteger(major)) found.push({ path: candidate, major, version: stdout.trim() });
    } catch {
      // Not runnable: not a candidate.
    }
  }
  found.sort((a, b) => b.major - a.major);
  const best = found[0];
  if (!best)
    throw new BackupToolUnavailableError(
      `${name} is not installed, and a backup of a PostgreSQL server is made with it: install the PostgreSQL ${serverMajor} client tools (Debian/Ubuntu: apt-get install postgresql-client-${serverMajor}, from apt.postgresql.org when your release lacks it)`,
    );
  if (best.major < serverMajor)
    throw new BackupToolUnavailableError(
      `${name} ${best.major} (${best.path}) is older than the server (PostgreSQL ${serverMajor}) and cannot read its data: install the PostgreSQL ${serverMajor} client tools (postgresql-client-${serverMajor})`,
    );
  return best;
}

/**
 * libpq's view of a postgres:// URL: the URL without its password (it would show in `ps`),
 * and the password in PGPASSWORD.
 */
export function libpqConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { dbname: parsed.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}), PGCONNECT_TIMEOUT: '10' } };
}

/** Runs a PostgreSQL tool; a failure is thrown with the tool's last lines (never the password, which is not in its arguments). */
export function runPgTool(tool: PgTool, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.path, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', (error) => reject(new BackupToolFailedError(`${path.basename(tool.path)} could not run: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const lines = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
      reject(new BackupToolFailedError(`${path.basename(tool.path)} failed (exit ${code}): ${lines || 'no message'}`));
    });
  });
}
