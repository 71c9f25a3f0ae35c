import { Gauge } from 'prom-client';
import { verifyAuditChain } from '../audit/index.ts';
import { lastBackupAt } from '../backup/index.ts';
import type { Database } from '../db/index.ts';
import { readBotFleetHealth, type BotFleetHealth } from '../workers/index.ts';
import type { Metrics } from '../observability/index.ts';

/**
 * Facts about the whole deployment, not about this process, read when Prometheus scrapes
 * `start`'s /metrics (the process every deployment has): the same questions `botcriptofy
 * status`, `model status` and `audit verify` answer, so an alert can ask them. Several `start`
 * replicas report the same values (alert on `max`/`min`, not `sum`).
 *
 * - `bots_running`, `bots_running_not_ticked`: running bots, and those not ticked in the last
 *   three tick intervals, and `bot_workers_alive`: the processes ticking bots — all three from
 *   `readBotFleetHealth`, the reading `botcriptofy status` prints.
 * - `agent_model_up`: 1 when Ollama answers with the configured models (`model status`), 0
 *   when it is down or a model is missing (the agents then answer offline).
 * - `audit_chain_broken`, `audit_chain_rows_checked`, `audit_chain_checked_timestamp_seconds`:
 *   the last full `audit verify` this process ran (all 0 before the first). A scrape starts
 *   one in the background when the last is older than `auditEveryMs` (an hour).
 *
 * - `backup_last_success_timestamp_seconds`: the newest backup's time, from the audit log
 *   (`botcriptofy backup create` and the scheduled backup append `backup.create`).
 *
 * A scrape while the database (or Redis, or Ollama) does not answer keeps the last values;
 * `database_up` says why.
 */
export interface CompanyMetricsOptions {
  readonly db: Database;
  readonly tickIntervalS: number;
  readonly botLockTtlMs: number;
  readonly redisUrl?: string | undefined;
  /** Whether the model answers with its models (the agents' ModelGateway.status()). */
  readonly modelStatus?: () => Promise<{ readonly state: 'ready' | 'missing' | 'down' }>;
  readonly auditEveryMs?: number;
  readonly now?: () => number;
}

export interface CompanyMetrics {
  /** Runs a full audit verification now (the one in progress, if any) and sets its gauges. */
  verifyAudit(): Promise<void>;
}

export function watchCompany(metrics: Metrics, options: CompanyMetricsOptions): CompanyMetrics {
  const { db, tickIntervalS, botLockTtlMs, redisUrl } = options;
  const registers = [metrics.registry];
  const now = options.now ?? Date.now;
  const auditEveryMs = options.auditEveryMs ?? 60 * 60_000;

  // The three fleet gauges of a scrape share the reading in flight (prom-client collects concurrently).
  let reading: Promise<BotFleetHealth> | undefined;
  const readFleet = () =>
    (reading ??= readBotFleetHealth(db, { tickIntervalS, botLockTtlMs, redisUrl, now }).finally(() => (reading = undefined)));
  const fleetGauge = (name: string, help: string, value: (fleet: BotFleetHealth) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        try {
          this.set(value(await readFleet()));
        } catch {
          // The database or Redis is away: keep the last value.
        }
      },
    });
  fleetGauge(
    'bots_running',
    'Bots whose status is running, in the whole deployment (read at each scrape).',
    (fleet) => fleet.botsByStatus['running'] ?? 0,
  );
  fleetGauge(
    'bots_running_not_ticked',
    'Running bots not ticked in the last three tick intervals, in the whole deployment (read at each scrape).',
    (fleet) => fleet.runningNotTicked,
  );
  fleetGauge(
    'bot_workers_alive',
    'Processes ticking bots (start and workers): a Redis heartbeat younger than BOT_LOCK_TTL_MS, or without Redis a tick in the last two intervals (read at each scrape).',
    (fleet) => fleet.workers.filter((worker) => worker.alive).length,
  );

  if (options.modelStatus) {
    const modelStatus = options.modelStatus;
    new Gauge({
      name: 'agent_model_up',
      help: 'The local model as `model status` sees it: 1 when Ollama answers with the configured models, 0 when it is down or a model is missing (agents answer offline).',
      registers,
      async collect() {
        try {
          this.set((await modelStatus()).state === 'ready' ? 1 : 0);
        } catch {
          this.set(0);
        }
      },
    });
  }

  // Read from the audit log's backup rows, so any process (and a restarted one) reports the
  // deployment's newest backup, wherever it was written; cached a minute between scrapes.
  let backupReading: { at: number; value: Promise<Date | null> } | undefined;
  new Gauge({
    name: 'backup_last_success_timestamp_seconds',
    help: 'When the newest backup of the database was made (Unix seconds, from its backup.create audit row, by any process); 0 when none in the last 8 days.',
    registers,
    async collect() {
      if (!backupReading || now() - backupReading.at >= 60_000) backupReading = { at: now(), value: lastBackupAt(db) };
      try {
        const at = await backupReading.value;
        this.set(at ? at.getTime() / 1000 : 0);
      } catch {
        backupReading = undefined; // the database is away: keep the last value, read again next scrape
      }
    },
  });

  const auditBroken = new Gauge({
    name: 'audit_chain_broken',
    help: 'Result of the last full audit chain verification run by this process: 1 when it found an altered or missing row, 0 when intact (and before the first).',
    registers,
  });
  const auditRows = new Gauge({
    name: 'audit_chain_rows_checked',
    help: 'Audit rows checked by the last full verification of the chain.',
    registers,
  });
  const auditAt = new Gauge({
    name: 'audit_chain_checked_timestamp_seconds',
    help: 'When the last full audit chain verification finished (Unix seconds; 0 before the first); one runs in the background when a scrape finds the last older than an hour.',
    registers,
    collect: () => {
      if (!running && (lastStarted === undefined || now() - lastStarted >= auditEveryMs)) void verifyAudit().catch(() => {});
    },
  });
  let running: Promise<void> | undefined;
  let lastStarted: number | undefined;
  const verifyAudit = (): Promise<void> => {
    if (running) return running;
    lastStarted = now();
    running = (async () => {
      try {
        const result = await verifyAuditChain(db);
        auditBroken.set(result.ok ? 0 : 1);
        auditRows.set(result.rowsChecked);
        auditAt.set(now() / 1000);
      } catch (error) {
        lastStarted = undefined; // the database did not answer: try again at the next scrape
        throw error;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  return { verifyAudit };
}
