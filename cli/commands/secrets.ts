import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ProductError, UsageError } from '../../errors/index.ts';
import { createSecretBox, MissingMasterKeyError, resealStoredSecrets, resolveMasterKey } from '../../secrets/index.ts';
import { readBotFleetHealth } from '../../workers/index.ts';
import { withRuntime } from '../open-runtime.ts';

/** Processes still run with the old key: they could not open what was sealed under the new one. */
class ProcessesStillRunningError extends ProductError {
  readonly category = 'conflict' as const;
  constructor(workers: readonly string[]) {
    super(
      `Processes are still ticking bots (${workers.join(', ')}): they hold the old MASTER_KEY and could not open the exchange keys once they are sealed again. ` +
        'Stop every botcriptofy process first (or pass --force if you are sure they are gone).',
    );
    this.name = 'ProcessesStillRunningError';
  }
}

const hexKey = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters (openssl rand -hex 32)');

function readNewKey(file: string): Buffer {
  let text: string;
  try {
    // '-' reads standard input, so the key need not touch the disk or the shell history.
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`--new-key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const parsed = hexKey.safeParse(text);
  if (!parsed.success) throw new UsageError(`--new-key-file ${file}: ${parsed.error.issues[0]?.message ?? 'not a key'}`);
  return Buffer.from(parsed.data.toLowerCase(), 'hex');
}

/** Writes the demo key file in one step (a rename), so a crash leaves the old or the new key, never half of one. */
function replaceKeyFile(keyPath: string, key: Buffer): void {
  const next = path.join(path.dirname(keyPath), 'master.key.next');
  fs.writeFileSync(next, `${key.toString('hex')}\n`, { mode: 0o600 });
  fs.renameSync(next, keyPath);
}

/**
 * Seals every stored exchange key again under a new MASTER_KEY (key rotation). The current key
 * is the one the process runs with (MASTER_KEY, or the embedded demo's key file); the new one
 * comes from a file or standard input, never from the command line.
 */
export async function rotateMasterKeyCommand(options: { newKeyFile: string; force?: boolean; json?: boolean }): Promise<void> {
  const newKey = readNewKey(options.newKeyFile);
  await withRuntime(async ({ config, database, secretBox }) => {
    const current = resolveMasterKey({
      fromEnvironment: config.masterKey,
      embedded: database.driver === 'pglite',
      dataDir: config.dataDir,
      mayGenerate: false,
    });
    if (!current.key) throw new MissingMasterKeyError();
    if (current.key.equals(newKey))
      throw new UsageError('--new-key-file holds the key already in use; generate a new one with `openssl rand -hex 32`');
    if (!options.force) {
      const health = await readBotFleetHealth(database.db, {
        tickIntervalS: config.jobs.botTickIntervalS,
        botLockTtlMs: config.jobs.botLockTtlMs,
        redisUrl: config.jobs.redisUrl,
      });
      const alive = health.workers.filter((worker) => worker.alive).map((worker) => worker.workerId);
      if (alive.length > 0) throw new ProcessesStillRunningError(alive);
    }
    const result = await resealStoredSecrets(
      database.db,
      { from: secretBox, to: createSecretBox(newKey) },
      { actorId: `cli:${os.userInfo().username}` },
    );
    const keyFileReplaced = current.source === 'data-dir' && current.path !== undefined;
    if (keyFileReplaced) replaceKeyFile(current.path!, newKey);
    if (options.json) {
      console.log(JSON.stringify({ ...result, keySource: current.source, keyFileReplaced }));
      return;
    }
    console.log(
      `Sealed ${result.values} values of ${result.accounts} exchange accounts again under the new key (one transaction; audit row secrets.master_key_rotated).`,
    );
    console.log(
      keyFileReplaced
        ? `The demo key file ${current.path} now holds the new key; start botcriptofy again.`
        : 'Now set MASTER_KEY to the new key wherever it is configured (Secret, deploy/.env) and restart every process; until then they cannot open the exchange keys.',
    );
  });
}
