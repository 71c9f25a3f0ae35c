/**
 * The embedded engine's prepared-statement layer. It relies on two of PGlite's private APIs —
 * `_runExclusiveTransaction` (the mutex `query` takes) and `execProtocol` (raw wire-protocol
 * messages) — and on its result parser (`parse`) and message serialiser (`protocol`), all
 * as they are in @electric-sql/pglite 0.5.16 (package.json pins it exactly). A test
 * (test/db/pglite-prepared.test.ts) fails naming the version when another one is installed:
 * read this file against the new PGlite before moving the pin.
 */
import { type PGlite, parse as pgliteResults, protocol, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';

/** The PGlite version this layer was written and tested against. */
export const PGLITE_VERSION = '0.5.16';

/** Query texts the embedded engine keeps prepared; past this the least recently used is closed. */
const PREPARED_MAX = 128;
/**
 * Runs after which a statement is prepared afresh. PostgreSQL keeps a statement's generic
 * plan until the table's statistics change, which without autovacuum means the next
 * scheduled analyze: a plan made while a table was tiny (a sequential scan for "the newest
 * audit row") would stay while the table grows, each run slower than the last. A statement
 * prepared again is planned for the table as it is then. (Planning at every run instead
 * halves the webhook throughput: its one-statement upsert is costly to plan.)
 */
const REPLAN_AFTER_RUNS = 250;
/** Plain data statements are prepared; DDL, transaction control and settings run as before. */
const PREPARABLE = /^\s*\(?\s*(select|insert|update|delete|with)\b/i;
/** Types drizzle reads as text (it passes identity parsers for them with every query). */
const DRIZZLE_TEXT_TYPES = [1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182];

type ParserMap = Record<number | string, (value: string, typeId?: number) => unknown>;

/**
 * What drizzle talks to instead of the PGlite client itself. PGlite runs every query as an
 * unnamed statement (parsed, analysed and planned again each time, over six calls into the
 * engine) and copies its 300-odd type parsers to merge in the ones drizzle passes with every
 * query. Here a query text gets a named prepared statement the first time, and later runs
 * bind, describe, execute and sync in a single call, with drizzle's parsers merged once: a
 * repeated query costs a quarter to a third as much. Results, errors and locking are PGlite's
 * own (the same mutexes, parsers and result parser); anything else (DDL, other query options,
 * other methods) goes to PGlite unchanged.
 */
export function withPreparedStatements(client: PGlite): PGlite {
  const statements = new Map<string, { readonly name: string; readonly paramTypes: number[]; runs: number }>();
  let created = 0;
  // drizzle's identity parsers over PGlite's, looked up through the prototype (so a later
  // refreshArrayTypes() still shows).
  const drizzleParsers = Object.create(client.parsers) as ParserMap;
  for (const typeId of DRIZZLE_TEXT_TYPES) drizzleParsers[typeId] = (value) => value;
  const parsersFor = (options: QueryOptions | undefined): ParserMap => {
    const given = options?.parsers as ParserMap | undefined;
    if (!given) return client.parsers as ParserMap;
    for (const key in given) {
      if (!DRIZZLE_TEXT_TYPES.includes(Number(key)) || given[key]!('0', Number(key)) !== '0') return { ...client.parsers, ...given };
    }
    return drizzleParsers;
  };
  const send = async (messages: Uint8Array[], query: string, params: unknown[], options: QueryOptions | undefined) => {
    const buffer = new Uint8Array(messages.reduce((length, message) => length + message.length, 0));
    let offset = 0;
    for (const message of messages) {
      buffer.set(message, offset);
      offset += message.length;
    }
    try {
      return (await client.execProtocol(buffer, { syncToFs: false })).messages;
    } catch (error) {
      // As PGlite reports a failed query.
      throw Object.assign(error as Error, { query, params, queryOptions: options });
    }
  };
  const { serialize } = protocol;

  /** Statements to close with the next batch sent: evicted or invalidated. */
  const unused: string[] = [];

  async function run(
    query: string,
    params: unknown[],
    options: QueryOptions | undefined,
    inTransaction: boolean,
    retried = false,
  ): Promise<Results> {
    let statement = statements.get(query);
    if (statement) statements.delete(query); // most recently used last
    if (statement && statement.runs >= REPLAN_AFTER_RUNS) {
      unused.push(statement.name);
      statement = undefined;
    }
    if (!statement) {
      if (statements.size >= PREPARED_MAX) {
        const [oldest, { name }] = statements.entries().next().value!;
        statements.delete(oldest);
        unused.push(name);
      }
      const name = `bcf_${++created}`;
      const messages = [
        ...unused.splice(0).map((closed) => serialize.close({ type: 'S', name: closed })),
        serialize.parse({ name, text: query }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      ];
      statement = { name, paramTypes: pgliteResults.parseDescribeStatementResults(await send(messages, query, params, options)), runs: 0 };
    }
    statements.set(query, statement);
    statement.runs += 1;
    const { paramTypes } = statement;
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serializer = client.serializers[paramTypes[i]!];
      return serializer ? (serializer(param) as string) : String(param);
    });
    let messages: Awaited<ReturnType<typeof send>>;
    try {
      messages = await send(
        [serialize.bind({ statement: statement.name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()],
        query,
        params,
        options,
      );
    } catch (error) {
      // A table changed shape under a prepared `select *` (or the statement is gone): prepare
      // it afresh, at once when no transaction was aborted by the error.
      if (!['0A000', '26000'].includes((error as { code?: string }).code ?? '')) throw error;
      statements.delete(query);
      unused.push(statement.name);
      if (inTransaction || retried) throw error;
      return run(query, params, options, inTransaction, true);
    }
    if (!inTransaction) await client.syncToFs();
    return pgliteResults.parseResults(messages, parsersFor(options), options?.rowMode ? { rowMode: options.rowMode } : undefined)[0]!;
  }

  const preparable = (query: string, options: QueryOptions | undefined) =>
    PREPARABLE.test(query) && (!options || Object.keys(options).every((key) => key === 'rowMode' || key === 'parsers'));

  const query = (text: string, params: unknown[] = [], options?: QueryOptions) =>
    preparable(text, options)
      ? client._runExclusiveTransaction(() => client.runExclusive(() => run(text, params, options, false)))
      : client.query(text, params, options);

  const transaction = <T>(callback: (tx: Transaction) => Promise<T>) =>
    client.transaction((tx) =>
      callback(
        Object.create(tx, {
          query: {
            value: async (text: string, params: unknown[] = [], options?: QueryOptions) => {
              if (!preparable(text, options)) return tx.query(text, params, options);
              if (tx.closed) throw new Error('Transaction is closed');
              return client.runExclusive(() => run(text, params, options, true));
            },
          },
        }) as Transaction,
      ),
    );

  return new Proxy(client, {
    get(target, key) {
      if (key === 'query') return query;
      if (key === 'transaction') return transaction;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
