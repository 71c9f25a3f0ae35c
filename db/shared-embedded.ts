import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { protocol, type PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';

/**
 * The embedded database served to this machine's other processes while one process holds it
 * (`start`, `worker`): PostgreSQL's wire protocol on a Unix socket (file mode 600), spoken by
 * `@electric-sql/pglite-socket`'s connection handler; `report`, `ask`, `status`… connect to
 * it with the same postgres.js driver as to a real server.
 *
 * PGlite is one PostgreSQL backend. Its own API keeps one caller at a time with its
 * transaction mutex (every top-level query, exec and transaction holds it), so a remote
 * connection here holds that same mutex for as long as it has work open on the backend —
 * from its first message until a Sync or simple Query leaves no transaction block — and no
 * in-process query or other connection can slip into the middle of its pipeline or its
 * transaction. (The library's own queue only guards explicit transaction blocks between its
 * connections, not the in-process callers or an unfinished extended-protocol pipeline.)
 * A connection that goes away mid-transaction is rolled back; one idle for
 * `IDLE_TIMEOUT_MS` is closed, so a stalled client cannot hold the server for long.
 */
const IDLE_TIMEOUT_MS = 60_000;
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
/** Unix socket paths are limited to ~107 bytes; longer data-folder paths use the temp folder. */
const MAX_SOCKET_PATH = 100;

export interface SharedEmbeddedServer {
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** Where the socket of the embedded database in `dataDir` lives. */
export function socketPathFor(dataDir: string): string {
  const inFolder = path.join(path.resolve(dataDir), 'pglite.sock');
  if (inFolder.length <= MAX_SOCKET_PATH) return inFolder;
  const digest = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `botcriptofy-${digest}.sock`);
}

export async function serveEmbedded(client: PGlite, socketPath: string): Promise<SharedEmbeddedServer> {
  const queue = new EngineSessions(client);
  const handlers = new Set<PGLiteSocketHandler>();
  const server = net.createServer((socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true, idleTimeout: IDLE_TIMEOUT_MS });
    handlers.add(handler);
    handler.addEventListener('close', () => handlers.delete(handler));
    handler.addEventListener('error', () => handlers.delete(handler));
    void handler.attach(socket).catch(() => socket.destroy());
  });
  fs.rmSync(socketPath, { force: true }); // left by a process that died (the lock said so)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Created with mode 600 from the start: umask applies while the socket is made.
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    socketPath,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const handler of handlers) void handler.detach(true);
      });
      fs.rmSync(socketPath, { force: true });
    },
  };
}

/**
 * What the library's connection handlers call (its query-queue interface): one connection's
 * messages at a time on the engine, the engine held between them as described above.
 */
class EngineSessions {
  private readonly client: PGlite;
  private owner: number | undefined;
  private release: (() => void) | undefined;
  /** Each connection's messages in order (the library may hand over the next one early). */
  private readonly chains = new Map<number, Promise<unknown>>();
  /** Connections gone while a message of theirs still waited for the engine. */
  private readonly gone = new Set<number>();

  constructor(client: PGlite) {
    this.client = client;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const run = (this.chains.get(handlerId) ?? Promise.resolve()).then(() => this.run(handlerId, message, onData));
    this.chains.set(
      handlerId,
      run.catch(() => {}),
    );
    return run;
  }

  private async run(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.owner !== handlerId) await this.acquire(handlerId);
    if (this.gone.has(handlerId)) {
      await this.clearTransactionIfNeeded(handlerId);
      return 0;
    }
    let bytes = 0;
    try {
      await this.client.runExclusive(() =>
        this.client.execProtocolRawStream(message, {
          onRawData: (data) => {
            bytes += data.length;
            onData(data);
          },
        }),
      );
    } finally {
      const type = message[0];
      const ended = type === SYNC || type === QUERY || type === 0; // 0: the startup message
      if (ended && !this.client.isInTransaction()) this.releaseEngine();
    }
    return bytes;
  }

  /** The library calls this when a connection goes away. */
  clearQueueForHandler(handlerId: number): void {
    const pending = this.chains.get(handlerId);
    if (!pending) return;
    this.gone.add(handlerId);
    this.chains.delete(handlerId);
    void pending.then(() => this.gone.delete(handlerId));
  }

  /** A connection that went away while holding the engine: end what it left open. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    try {
      // A Sync ends an unfinished pipeline; ROLLBACK an open transaction block.
      await this.client.runExclusive(async () => {
        await this.client.execProtocolRaw(protocol.serialize.sync());
        if (this.client.isInTransaction()) await this.client.execProtocolRaw(protocol.serialize.query('ROLLBACK'));
      });
    } finally {
      this.releaseEngine();
    }
  }

  /** Takes PGlite's transaction mutex (the one its own API holds) and keeps it until released. */
  private acquire(handlerId: number): Promise<void> {
    return new Promise<void>((acquired) => {
      void this.client._runExclusiveTransaction(
        () =>
          new Promise<void>((release) => {
            this.owner = handlerId;
            this.release = release;
            acquired();
          }),
      );
    });
  }

  private releaseEngine(): void {
    const release = this.release;
    this.owner = undefined;
    this.release = undefined;
    release?.();
  }
}
