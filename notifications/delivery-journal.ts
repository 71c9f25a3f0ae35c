import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

/** Telegram accepted the message for outbox row `id`: what "sent" needs recorded. */
export interface Delivery {
  readonly id: string;
  readonly messageId: number;
  readonly sentAtMs: number;
}

/**
 * Where an outbox sender writes "Telegram accepted message M for row R" the moment Telegram
 * answers, before it records "sent" in the database — so the fact outlives a database that
 * is away (crashed, restarting, failing over) when the answer arrives. Any sender that
 * claims the row later looks here first and records it as sent instead of sending it again.
 */
export interface DeliveryJournal {
  readonly kind: 'redis' | 'file';
  /** Written (durably) before it returns. */
  record(delivery: Delivery): Promise<void>;
  /** The journaled deliveries among these rows. */
  lookup(ids: readonly string[]): Promise<Map<string, Delivery>>;
  /** The rows' outcomes are in the database: their entries are no longer needed. */
  forget(ids: readonly string[]): Promise<void>;
  /** Entries left by an earlier run of this journal (a process that stopped before reconciling). */
  leftovers(): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** An entry outlives any lease and any outage worth waiting for. */
const ENTRY_TTL_S = 7 * 24 * 3600;

function parseDelivery(text: string | null | undefined): Delivery | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Delivery>;
    return typeof value.id === 'string' && Number.isSafeInteger(value.messageId) && Number.isFinite(value.sentAtMs)
      ? (value as Delivery)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The journal in Redis (REDIS_URL set): one key per delivery, seen by every sender of the
 * deployment, so whichever worker claims the row after its lease ends finds it.
 */
export class RedisDeliveryJournal implements DeliveryJournal {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(options: { url: string; prefix?: string }) {
    // Commands fail fast while Redis is away: the sender then relies on the database write.
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 });
    this.#redis.on('error', () => {}); // reconnects by itself; a failed command is handled by the caller
    this.#prefix = `${options.prefix ?? 'botcriptofy'}:outbox-delivered:`;
  }

  async record(delivery: Delivery): Promise<void> {
    await this.#redis.set(this.#prefix + delivery.id, JSON.stringify(delivery), 'EX', ENTRY_TTL_S);
  }

  async lookup(ids: readonly string[]): Promise<Map<string, Delivery>> {
    const found = new Map<string, Delivery>();
    if (ids.length === 0) return found;
    const values = await this.#redis.mget(ids.map((id) => this.#prefix + id));
    values.forEach((value) => {
      const delivery = parseDelivery(value);
      if (delivery) found.set(delivery.id, delivery);
    });
    return found;
  }

  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#redis.del(...ids.map((id) => this.#prefix + id));
  }

  async leftovers(): Promise<Delivery[]> {
    // Another sender may be mid-way with these: they are reconciled through lookup() when
    // their rows are claimed, which is the safe moment.
    return [];
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/**
 * The journal as an append-only file (no Redis: one sending process per deployment). Each
 * delivery is one JSON line, fsynced before `record` returns; `forget` appends a tombstone;
 * the file is emptied once nothing in it is pending. Read back at start, so a process that
 * stopped during a database outage reconciles what it had sent.
 */
export class FileDeliveryJournal implements DeliveryJournal {
  readonly kind = 'file' as const;
  readonly #entries = new Map<string, Delivery>();
  readonly #opened: Promise<fs.promises.FileHandle>;
  #writes: Promise<unknown> = Promise.resolve();

  /** Opens (and reads back) the file on first use. */
  constructor(file: string) {
    this.#opened = (async () => {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const text = await fs.promises
        .readFile(file, 'utf8')
        .catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? '' : Promise.reject(error)));
      for (const line of text.split('\n')) {
        if (!line) continue;
        const forgotten = /^\{"forget":"([^"]+)"\}$/.exec(line)?.[1];
        if (forgotten) this.#entries.delete(forgotten);
        const delivery = parseDelivery(line);
        if (delivery) this.#entries.set(delivery.id, delivery);
        // A torn last line (the process died mid-write) is neither: ignored.
      }
      return fs.promises.open(file, 'a', 0o600);
    })();
    this.#opened.catch(() => {}); // reported by the first call that needs it
  }

  #append(text: string, sync: boolean): Promise<void> {
    const write = this.#writes.then(async () => {
      const handle = await this.#opened;
      await handle.appendFile(text);
      if (sync) await handle.datasync();
    });
    this.#writes = write.catch(() => {});
    return write;
  }

  async record(delivery: Delivery): Promise<void> {
    this.#entries.set(delivery.id, delivery);
    await this.#append(`${JSON.stringify(delivery)}\n`, true);
  }

  async lookup(ids: readonly string[]): Promise<Map<string, Delivery>> {
    await this.#opened;
    const found = new Map<string, Delivery>();
    for (const id of ids) {
      const delivery = this.#entries.get(id);
      if (delivery) found.set(id, delivery);
    }
    return found;
  }

  async forget(ids: readonly string[]): Promise<void> {
    const known = ids.filter((id) => this.#entries.delete(id));
    if (known.length === 0) return;
    if (this.#entries.size === 0) {
      // Nothing pending: start the file again instead of letting it grow.
      const write = this.#writes.then(async () => (await this.#opened).truncate(0));
      this.#writes = write.catch(() => {});
      return write;
    }
    await this.#append(known.map((id) => `${JSON.stringify({ forget: id })}\n`).join(''), false);
  }

  async leftovers(): Promise<Delivery[]> {
    await this.#opened;
    return [...this.#entries.values()];
  }

  async close(): Promise<void> {
    await this.#writes;
    await (await this.#opened.catch(() => undefined))?.close();
  }
}

/** The deployment's journal: in Redis when it has one (every sender sees it), else a file in the data folder. */
export function createDeliveryJournal(options: { redisUrl: string | undefined; dataDir: string; prefix?: string }): DeliveryJournal {
  return options.redisUrl
    ? new RedisDeliveryJournal({ url: options.redisUrl, ...(options.prefix ? { prefix: options.prefix } : {}) })
    : new FileDeliveryJournal(path.join(options.dataDir, 'telegram-deliveries.ndjson'));
}
