import { BillingService, createStripeClient } from '../billing/index.ts';
import { configuredSecrets, loadConfig, type Config } from '../config/index.ts';
import { openDatabase, runMigrations, type DatabaseHandle, type MigrationStatus } from '../db/index.ts';
import { createLogger, type Logger } from '../observability/index.ts';
import { useErasureLedger, usePrivacyLookupKey } from '../privacy/index.ts';
import type { PaperMarkets } from '../trading/index.ts';
import { createSecretBox, hasStoredSecrets, resolveMasterKey, type MasterKeyResolution, type SecretBox } from '../secrets/index.ts';
export { VERSION } from './version.ts';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly secretBox: SecretBox;
  readonly migrations: MigrationStatus;
  /** Billing on Stripe when STRIPE_SECRET_KEY is set, in local mode otherwise. */
  readonly billing: BillingService;
  /** Every configured secret value, the master key in use included (never to be written out). */
  readonly secrets: readonly string[];
  /** Where paper bots get prices: one for the process, decided at the first worker's start (the engine is loaded on first call). */
  paperMarkets(): Promise<PaperMarkets>;
  close(): Promise<void>;
}

/**
 * What every command that touches data needs: validated configuration, a logger, the
 * database (opened and migrated) and the secret box. Logs go to stderr unless the command
 * is a long-running service, so `--json` output on stdout stays clean.
 */
export async function openRuntime(options: { logStream?: 'stdout' | 'stderr'; shareEmbedded?: boolean } = {}): Promise<Runtime> {
  const config = loadConfig();
  // Erasures done by this process are recorded outside the database too, for a restore to re-apply.
  useErasureLedger(config.backup.erasureLedgerFile);
  const logger = createLogger(config, { stream: options.logStream ?? 'stderr' });
  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.dataDir,
    poolMax: config.database.poolMax,
    connectTimeoutS: config.database.connectTimeoutS,
  });
  try {
    const migrations = await runMigrations(database);
    await new BillingService(database.db, undefined).ensurePlanRows();
    logger.debug({ database: database.location, migrations }, 'database ready');
    // The long-running processes serve the embedded database to the machine's other commands.
    if (options.shareEmbedded && database.share)
      logger.info({ socket: await database.share() }, "embedded database shared with this machine's other botcriptofy commands");
    // Resolved after the database opened, so a failed start leaves no new key file behind.
    const master = resolveMasterKey({
      fromEnvironment: config.masterKey,
      embedded: database.driver === 'pglite',
      dataDir: config.dataDir,
      mayGenerate: !(await hasStoredSecrets(database.db)),
    });
    warnAboutMasterKey(logger, master);
    // Emails of refused privacy requests are audited as a digest keyed by the master key.
    usePrivacyLookupKey(master.key);
    let paperMarkets: Promise<PaperMarkets> | undefined;
    return {
      config,
      logger,
      database,
      secretBox: createSecretBox(master.key),
      secrets: [
        ...new Set([...configuredSecrets(config), ...(master.key ? [master.key.toString('hex'), master.key.toString('base64')] : [])]),
      ],
      migrations,
      paperMarkets: () =>
        (paperMarkets ??= import('../trading/index.ts').then(({ createPaperMarkets }) =>
          // The replay (the offline demo) writes the bars it closes into the candle cache the charts read.
          createPaperMarkets({ setting: config.trading.paperMarket, embedded: config.database.url === undefined, cache: database.db }),
        )),
      billing: new BillingService(
        database.db,
        config.stripe.secretKey
          ? await createStripeClient({ secretKey: config.stripe.secretKey, apiUrl: config.stripe.apiUrl })
          : undefined,
      ),
      close: () => database.close(),
    };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

function warnAboutMasterKey(logger: Logger, master: MasterKeyResolution): void {
  if (master.source === 'generated') {
    logger.warn({ path: master.path }, 'MASTER_KEY is not set: generated a demo key in the data folder. Set MASTER_KEY for real use.');
  } else if (master.source === 'data-dir') {
    logger.warn({ path: master.path }, 'MASTER_KEY is not set: using the demo key kept in the data folder. Set MASTER_KEY for real use.');
  } else if (master.path) {
    logger.warn(
      { path: master.path },
      'MASTER_KEY is not set and the demo key file is gone, but exchange keys are stored: they cannot be read until MASTER_KEY (or the key file) is restored.',
    );
  }
}

/** Opens the runtime, runs `work`, and always closes the database. */
export async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime();
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}
