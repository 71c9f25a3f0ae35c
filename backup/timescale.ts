import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';

// pg_dump of a database with TimescaleDB holds the extension's own catalog (hypertables,
// chunks); TimescaleDB's documented restore is: the same extension version on the target,
// `SELECT timescaledb_pre_restore()` before pg_restore (it stops the background workers and
// lets the catalog load as data) and `SELECT timescaledb_post_restore()` after it, also when the
// restore failed (else the database stays in restoring mode). The logical dump needs none of
// this: it copies rows through SQL into the hypertable the product's migration makes.

/** The TimescaleDB extension on a restore's target database, as the server reports it. */
export interface TimescaleOnTarget {
  /** The version created in this database, or null. */
  readonly installed: string | null;
  /** Versions the server could create here (its installed packages); empty without TimescaleDB. */
  readonly available: readonly string[];
}

/** What a pg_restore into the target needs around it. */
export type TimescaleRestorePlan =
  | { readonly steps: false }
  /** `create`: the extension is made first (at `version`), then pre_restore, pg_restore, post_restore. */
  | { readonly steps: true; readonly version: string; readonly create: boolean };

/** The target cannot take this backup as it is (its TimescaleDB is missing or another version); the message says what to install. */
export class RestoreTargetUnsuitableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RestoreTargetUnsuitableError';
  }
}

/** Reads whether TimescaleDB is created in the target database, and which versions its server could create. */
export async function timescaleOnTarget(db: Database): Promise<TimescaleOnTarget> {
  const [row] = await queryRows<{ installed: string | null; available: string[] | string | null }>(
    db,
    sql`select (select extversion from pg_extension where extname = 'timescaledb') as installed,
               (select array_agg(version::text order by version) from pg_available_extension_versions where name = 'timescaledb') as available`,
  );
  const available = row?.available ?? [];
  return {
    installed: row?.installed ?? null,
    available:
      typeof available === 'string'
        ? available
            .replace(/^\{|\}$/g, '')
            .split(',')
            .filter(Boolean)
        : available,
  };
}

/**
 * The steps a pg_restore of a dump from a source with TimescaleDB `source` (null: none) needs on
 * this target, or a refusal that says what to install. A source without TimescaleDB restores
 * as plain PostgreSQL, whatever the target has.
 */
export function timescaleRestorePlan(source: string | null, target: TimescaleOnTarget, what: string): TimescaleRestorePlan {
  if (source === null) return { steps: false };
  if (target.installed !== null) {
    if (target.installed === source) return { steps: true, version: source, create: false };
    throw new RestoreTargetUnsuitableError(
      `${what} comes from a server with TimescaleDB ${source}, and the target database has TimescaleDB ${target.installed}: ` +
        `TimescaleDB restores only into the same version. Restore into a new database on a server with TimescaleDB ${source} ` +
        `(then ALTER EXTENSION timescaledb UPDATE there if you want a newer one).`,
    );
  }
  if (target.available.includes(source)) return { steps: true, version: source, create: true };
  throw new RestoreTargetUnsuitableError(
    `${what} comes from a server with TimescaleDB ${source}, and this server ${
      target.available.length === 0 ? 'has no TimescaleDB extension' : `offers TimescaleDB ${target.available.join(', ')} only`
    }: install TimescaleDB ${source} on it (the timescale/timescaledb:${source}-pgNN image, or the timescaledb-2-postgresql-NN package at ${source} with ` +
      `shared_preload_libraries = 'timescaledb'), or restore the logical dump (\`backup create --format logical\`), which needs no extension.`,
  );
}

/** Runs `restore` (pg_restore into `db`) with the TimescaleDB steps the plan asks for around it. */
export async function withTimescaleRestore<T>(db: Database, plan: TimescaleRestorePlan, restore: () => Promise<T>): Promise<T> {
  if (!plan.steps) return restore();
  if (plan.create)
    await db.execute(sql`create extension if not exists timescaledb version ${sql.raw(`'${plan.version.replaceAll("'", "''")}'`)}`);
  await db.execute(sql`select timescaledb_pre_restore()`);
  try {
    return await restore();
  } finally {
    await db.execute(sql`select timescaledb_post_restore()`);
  }
}
