import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type DatabaseHandle } from '../../db/index.ts';

// The embedded database served over its socket while this process holds it: remote clients
// (postgres.js, as the other commands use) and this process's own queries never see each
// other's half-finished work: each test gives the other side round trips in which it could
// slip in, then checks the order of what was written.

const POSTGRES_MODULE = path.resolve(import.meta.dirname, '../../node_modules/postgres/src/index.js');

describe('the embedded database shared over a Unix socket', () => {
  let dir: string;
  let handle: DatabaseHandle;
  let socketPath: string;
  const clients: postgres.Sql[] = [];
  const remote = (max = 4) => {
    const client = postgres({ path: socketPath, database: 'postgres', username: 'postgres', max, prepare: false, onnotice: () => {} });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-shared-'));
    handle = await openDatabase({ dataDir: dir });
    await handle.db.execute(sql`create table events (id serial primary key, who text not null)`);
    socketPath = await handle.share!();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end({ timeout: 1 })));
    await handle?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const whoInOrder = async () =>
    (await queryRows<{ who: string }>(handle.db, sql`select who from events order by id`)).map((row) => row.who);

  it("is a socket only its owner may open, named in the lock file with the owner's pid", () => {
    expect(socketPath).toBe(path.join(dir, 'pglite.sock'));
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'pglite.lock'), 'utf8')).toBe(`${process.pid}\n${socketPath}\n`);
  });

  it('an in-process query waits while a remote transaction is open, and runs after it commits', async () => {
    await handle.db.execute(sql`truncate events restart identity`);
    const client = remote(1);
    let local: Promise<unknown> | undefined;
    await client.begin(async (tx) => {
      await tx`insert into events (who) values ('remote-1')`;
      local = handle.db.execute(sql`insert into events (who) values ('local')`);
      // Round trips in which an unguarded in-process query would slip into this transaction.
      for (let k = 0; k < 20; k++) await tx`select 1`;
      await tx`insert into events (who) values ('remote-2')`;
    });
    await local;
    expect(await whoInOrder()).toEqual(['remote-1', 'remote-2', 'local']);
  });

  it('a remote rollback takes only its own rows; an in-process transaction keeps remote clients out', async () => {
    await handle.db.execute(sql`truncate events restart identity`);
    const client = remote();
    await expect(
      client.begin(async (tx) => {
        await tx`insert into events (who) values ('doomed')`;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    let remoteInsert: Promise<unknown> | undefined;
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`insert into events (who) values ('local-1')`);
      remoteInsert = client`insert into events (who) values ('remote')`.execute();
      for (let k = 0; k < 20; k++) await tx.execute(sql`select 1`);
      await tx.execute(sql`insert into events (who) values ('local-2')`);
    });
    await remoteInsert;
    expect(await whoInOrder()).toEqual(['local-1', 'local-2', 'remote']);
  });

  it('a client that dies mid-transaction is rolled back and the owner goes on', async () => {
    await handle.db.execute(sql`truncate events restart identity`);
    const script = path.join(dir, 'dies.mjs');
    fs.writeFileSync(
      script,
      `import postgres from ${JSON.stringify(POSTGRES_MODULE)};
const sql = postgres({ path: ${JSON.stringify(socketPath)}, database: 'postgres', username: 'postgres', prepare: false });
await sql.begin(async (tx) => { await tx\`insert into events (who) values ('dead')\`; console.log('inside'); await new Promise(() => {}); });`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.on('data', () => resolve()));
    child.kill('SIGKILL');
    await handle.db.execute(sql`insert into events (who) values ('owner')`);
    expect(await whoInOrder()).toEqual(['owner']);
  });

  it('many remote and in-process queries at once, pipelined, each get their own answer', async () => {
    await handle.db.execute(sql`truncate events restart identity`);
    const [a, b] = [remote(), remote()];
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      work.push(a`select ${i}::int as n`.then(([row]) => expect(row!.n).toBe(i)));
      work.push(b`select ${i}::int * 2 as n`.then(([row]) => expect(row!.n).toBe(i * 2)));
      work.push(queryRows<{ n: number }>(handle.db, sql`select ${i}::int * 3 as n`).then(([row]) => expect(row!.n).toBe(i * 3)));
      if (i % 10 === 0) {
        work.push(
          a.begin(async (tx) => {
            await tx`insert into events (who) values (${`a${i}`})`;
            await tx`insert into events (who) values (${`a${i}`})`;
          }),
        );
        work.push(
          handle.db.transaction(async (tx) => {
            await tx.execute(sql`insert into events (who) values (${`l${i}`})`);
            await tx.execute(sql`insert into events (who) values (${`l${i}`})`);
          }),
        );
      }
    }
    await Promise.all(work);
    const who = await whoInOrder();
    expect(who).toHaveLength(60);
    // Each transaction's two rows are next to each other: nothing ran in the middle of one.
    for (let k = 0; k < who.length; k += 2) expect(who[k + 1]).toBe(who[k]);
  }, 60_000);
});
