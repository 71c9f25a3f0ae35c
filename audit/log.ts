import crypto from 'node:crypto';
import { gt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { auditLog, queryRows, runsStatementsOneAtATime, type Database } from '../db/index.ts';
import { canonicalDigest, canonicalJson, normalizeJson, sha256Hex, storableText } from './canonical.ts';
import { loadRedactionLedger, type RedactionLedger } from './redaction.ts';

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** Advisory-lock key that serialises appends, so two writers never chain onto the same row. */
const AUDIT_LOCK_KEY = 0x41554454; // "AUDT"

export const auditActorKinds = ['staff', 'trader', 'system', 'agent'] as const;
export const auditOutcomes = ['ok', 'denied', 'error', 'pending_approval'] as const;

export const auditEntrySchema = z.object({
  occurredAt: z.date().optional(),
  tenantId: z.uuid().nullish(),
  actorKind: z.enum(auditActorKinds),
  actorId: z.string().min(1).max(200).nullish(),
  agent: z.string().min(1).max(100).nullish(),
  action: z.string().min(1).max(200),
  tool: z.string().min(1).max(200).nullish(),
  args: z.unknown().optional(),
  outcome: z.enum(auditOutcomes),
  /** The result itself is not stored, only its SHA-256, so secrets in results stay out of the log. */
  result: z.unknown().optional(),
  durationMs: z.number().int().min(0).nullish(),
  details: z.unknown().optional(),
});
export type AuditEntry = z.input<typeof auditEntrySchema>;

export interface AppendedAuditRow {
  readonly id: number;
  readonly hash: string;
}

/** The fields the hash covers, in the form they are stored (so verify can recompute it). */
export interface HashedContent {
  occurredAt: Date;
  tenantId: string | null;
  actorKind: string;
  actorId: string | null;
  agent: string | null;
  action: string;
  tool: string | null;
  args: unknown;
  outcome: string;
  resultDigest: string | null;
  durationMs: number | null;
  details: unknown;
}

/** The text a row's hash covers after its predecessor's hash and a newline. */
export function hashedText(content: HashedContent): string {
  return canonicalJson({
    ...content,
    occurredAt: content.occurredAt.toISOString(),
    args: content.args ?? null,
    details: content.details ?? null,
  });
}

/**
 * A row's personal fields — who acted (actor id), with what (args) and what came of it
 * (details) — sealed under the row's own random salt: HMAC-SHA256, hex. The chain hashes this
 * digest instead of the fields; an erasure replaces the fields and destroys the salt, after
 * which nobody can test a guessed email or name against the hash or the digest.
 */
export function personalDigest(salt: string, content: HashedContent): string {
  return crypto
    .createHmac('sha256', Buffer.from(salt, 'hex'))
    .update(canonicalJson({ actorId: content.actorId, args: content.args ?? null, details: content.details ?? null }))
    .digest('hex');
}

/**
 * The text a row's hash covers after its predecessor's hash and a newline: with a personal
 * digest, the row without its personal fields and with the digest; without one (a row written
 * before salting), hashedText.
 */
export function chainedText(content: HashedContent, digest: string | null): string {
  if (digest === null) return hashedText(content);
  const { actorId: _actorId, args: _args, details: _details, ...rest } = content;
  return canonicalJson({ ...rest, occurredAt: content.occurredAt.toISOString(), personalDigest: digest });
}

/** A row's hash; `digest` is its personalDigest (null or absent for a row written before salting). */
export function hashAuditRow(prevHash: string, content: HashedContent, digest: string | null = null): string {
  return sha256Hex(`${prevHash}\n${chainedText(content, digest)}`);
}

/** What a new row is written with: its content, a fresh salt and the digest under it. */
interface SealedContent {
  readonly content: HashedContent;
  readonly salt: string;
  readonly digest: string;
}

/** Salts drawn from the system's CSPRNG 128 at a time: one call each cost ~2 % of a read request. */
const SALT_BYTES = 32;
let saltPool = Buffer.alloc(0);
let saltOffset = 0;
function freshSalt(): string {
  if (saltOffset + SALT_BYTES > saltPool.length) {
    saltPool = crypto.randomBytes(SALT_BYTES * 128);
    saltOffset = 0;
  }
  const salt = saltPool.toString('hex', saltOffset, saltOffset + SALT_BYTES);
  saltOffset += SALT_BYTES;
  return salt;
}

function seal(content: HashedContent): SealedContent {
  const salt = freshSalt();
  return { content, salt, digest: personalDigest(salt, content) };
}

/** Longest arguments or details kept whole in a row, as canonical JSON characters. */
export const MAX_AUDIT_JSON_CHARS = 4_096;

/**
 * Arguments and details as they are kept: whole up to MAX_AUDIT_JSON_CHARS, beyond that their
 * first characters with the length and SHA-256 of the whole (a model or a caller can send a
 * megabyte; the log keeps what identifies it, not all of it).
 */
export function boundAuditJson(value: unknown): unknown {
  if (value === undefined || value === null) return value;
  const text = canonicalJson(value);
  if (text.length <= MAX_AUDIT_JSON_CHARS) return value;
  return { truncated: true, chars: text.length, sha256: sha256Hex(text), head: text.slice(0, MAX_AUDIT_JSON_CHARS) };
}

/**
 * Appends one entry to the chain; resolves once its row is written. Concurrent callers (any
 * process) are serialised by the database.
 *
 * Entries for the same database handle that arrive while a write is under way are written
 * together by the next single statement (group commit): under concurrent requests each row
 * costs a fraction of a statement. A lone entry is written at once on a database server, and
 * after the event loop's turn on the embedded engine (see below).
 */
export async function appendAudit(db: Database, entry: AuditEntry): Promise<AppendedAuditRow> {
  const content = seal(auditContent(entry));
  return new Promise((resolve, reject) => {
    const queue = writeQueues.get(db) ?? { waiting: [], writing: false };
    writeQueues.set(db, queue);
    queue.waiting.push({ content, resolve, reject });
    if (queue.writing) return;
    queue.writing = true;
    // The embedded engine runs a statement on this thread, so no other entry can arrive while
    // it writes: the first entry waits for the event loop's turn instead, and the requests read
    // in the same turn (GET /me under load: several) go in with it.
    if (runsStatementsOneAtATime(db)) setImmediate(() => void writeWaiting(db, queue));
    else void writeWaiting(db, queue);
  });
}

/** The row an entry becomes, as stored and hashed. */
function auditContent(entry: AuditEntry): HashedContent {
  const parsed = auditEntrySchema.parse(entry);
  return {
    occurredAt: parsed.occurredAt ?? new Date(),
    tenantId: parsed.tenantId ?? null,
    actorKind: parsed.actorKind,
    actorId: parsed.actorId == null ? null : storableText(parsed.actorId),
    agent: parsed.agent == null ? null : storableText(parsed.agent),
    action: storableText(parsed.action),
    tool: parsed.tool == null ? null : storableText(parsed.tool),
    args: boundAuditJson(normalizeJson(parsed.args)) ?? null,
    outcome: parsed.outcome,
    resultDigest: parsed.result === undefined ? null : canonicalDigest(parsed.result),
    durationMs: parsed.durationMs ?? null,
    details: boundAuditJson(normalizeJson(parsed.details)) ?? null,
  };
}

interface WaitingEntry {
  readonly content: SealedContent;
  resolve(row: AppendedAuditRow): void;
  reject(error: unknown): void;
}
/** Entries waiting for the write under way on a database handle (a transaction is a handle of its own). */
const writeQueues = new WeakMap<Database, { waiting: WaitingEntry[]; writing: boolean }>();
/** Most rows one statement writes. */
const MAX_ROWS_PER_WRITE = 200;

async function writeWaiting(db: Database, queue: { waiting: WaitingEntry[]; writing: boolean }): Promise<void> {
  queue.writing = true;
  try {
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, MAX_ROWS_PER_WRITE);
      try {
        const rows = await insertChained(
          db,
          batch.map((entry) => entry.content),
        );
        for (const [i, entry] of batch.entries()) entry.resolve(rows[i]!);
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        // One statement failed for all: each entry again on its own, so a bad one fails only its caller.
        else for (const entry of batch) await insertChained(db, [entry.content]).then(([row]) => entry.resolve(row!), entry.reject);
      }
    }
  } finally {
    queue.writing = false;
  }
}

/**
 * Writes rows at the head of the chain, in order, with one statement. Each row's prev_hash and
 * hash are read and computed (SHA-256 of the same text hashAuditRow hashes) by the statement
 * itself, which sees one snapshot. Statements that run one at a time need nothing more;
 * elsewhere writers are serialised by an advisory lock taken first, in the same transaction.
 */
async function insertChained(db: Database, contents: readonly SealedContent[]): Promise<AppendedAuditRow[]> {
  const insert = (target: Database) => (contents.length === 1 ? insertOne(target, contents[0]!) : insertMany(target, contents));
  const rows = runsStatementsOneAtATime(db)
    ? await insert(db)
    : await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
        return insert(tx);
      });
  if (rows.length !== contents.length) throw new Error(`audit append wrote ${rows.length} of ${contents.length} rows`);
  return rows;
}

const newestHash = sql`coalesce((select ${auditLog.hash} from ${auditLog} order by ${auditLog.id} desc limit 1), ${GENESIS_HASH})`;

/**
 * The one-row insert, built once per database handle: drizzle's query builder costs more than
 * the insert itself on the embedded engine (an append measured ~500 µs before, ~310 µs after), and a row of
 * the audit log is written with every tool call, reads included.
 */
function preparedInsertOne(db: Database) {
  const value = (name: string) => sql.placeholder(name);
  return db
    .insert(auditLog)
    .values({
      occurredAt: value('occurredAt'),
      tenantId: value('tenantId'),
      actorKind: value('actorKind'),
      actorId: value('actorId'),
      agent: value('agent'),
      action: value('action'),
      tool: value('tool'),
      // jsonb as text made here: a column's own encoder would store a null as JSON null, not NULL.
      args: sql`${value('args')}`,
      outcome: value('outcome'),
      resultDigest: value('resultDigest'),
      durationMs: value('durationMs'),
      details: sql`${value('details')}`,
      personalSalt: value('personalSalt'),
      personalDigest: value('personalDigest'),
      prevHash: newestHash,
      hash: sql`encode(sha256(convert_to(${newestHash} || ${value('chained')}::text, 'UTF8')), 'hex')`,
    })
    .returning({ id: auditLog.id, hash: auditLog.hash })
    .prepare('audit_append_one');
}
const insertOneStatements = new WeakMap<Database, ReturnType<typeof preparedInsertOne>>();

function insertOne(db: Database, sealed: SealedContent): Promise<AppendedAuditRow[]> {
  let statement = insertOneStatements.get(db);
  if (!statement) {
    statement = preparedInsertOne(db);
    insertOneStatements.set(db, statement);
  }
  const json = (field: unknown) => (field === null || field === undefined ? null : JSON.stringify(field));
  return statement.execute({
    ...sealed.content,
    args: json(sealed.content.args),
    details: json(sealed.content.details),
    personalSalt: sealed.salt,
    personalDigest: sealed.digest,
    chained: `\n${chainedText(sealed.content, sealed.digest)}`,
  });
}

/** Several rows: each chains onto the one before it, the first onto the newest row (a recursive query). */
async function insertMany(db: Database, contents: readonly SealedContent[]): Promise<AppendedAuditRow[]> {
  const rows = contents.map(({ content, salt, digest }, i) => ({
    n: i + 1,
    ...content,
    occurredAt: content.occurredAt.toISOString(),
    personalSalt: salt,
    personalDigest: digest,
    hashed: `\n${chainedText(content, digest)}`,
  }));
  return queryRows<{ id: number; hash: string }>(
    db,
    sql`with recursive given as (
          select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(
            n int, "occurredAt" timestamptz, "tenantId" uuid, "actorKind" text, "actorId" text, agent text, action text,
            tool text, args jsonb, outcome text, "resultDigest" text, "durationMs" int, details jsonb,
            "personalSalt" text, "personalDigest" text, hashed text)
        ), chained(n, prev_hash, hash) as (
          select 1, head.hash, encode(sha256(convert_to(head.hash || given.hashed, 'UTF8')), 'hex')
            from given, (select ${newestHash} as hash) head where given.n = 1
          union all
          select given.n, chained.hash, encode(sha256(convert_to(chained.hash || given.hashed, 'UTF8')), 'hex')
            from chained join given on given.n = chained.n + 1
        )
        insert into audit_log (occurred_at, tenant_id, actor_kind, actor_id, agent, action, tool, args, outcome, result_digest, duration_ms, details, personal_salt, personal_digest, prev_hash, hash)
        select g."occurredAt", g."tenantId", g."actorKind", g."actorId", g.agent, g.action, g.tool, g.args, g.outcome, g."resultDigest", g."durationMs", g.details, g."personalSalt", g."personalDigest", c.prev_hash, c.hash
          from given g join chained c using (n) order by n
        returning id::int as id, hash`,
  );
}

/**
 * Appends an audit entry once per key (kept in its details): a step that audited and then
 * was re-run after a crash writes nothing more. Runs are owned by one process at a time, so
 * the check and the append do not race.
 */
export async function appendAuditOnce(db: Database, key: string, entry: AuditEntry): Promise<void> {
  const [seen] = await queryRows(db, sql`select 1 from audit_log where action = ${entry.action} and details ->> 'key' = ${key} limit 1`);
  if (seen) return;
  await appendAudit(db, { ...entry, details: { ...(entry.details as Record<string, unknown> | undefined), key } });
}

export interface ChainRow {
  readonly id: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly content: HashedContent;
  /** The row's salt (null once erased, and in rows written before salting) and its personal digest (null before salting). */
  readonly personal: { readonly salt: string | null; readonly digest: string | null };
}
type ChainTuple = [
  number,
  string,
  string,
  string,
  string | null,
  string,
  string | null,
  string | null,
  string,
  string | null,
  unknown,
  string,
  string | null,
  number | null,
  unknown,
  string | null,
  string | null,
];

/**
 * The next rows of the chain after `afterId`, in id order. They come as one JSON array per
 * batch rather than as rows: the embedded driver's row parser costs more than everything
 * else verify does, and a single text field is parsed once. Values read back the same way
 * (jsonb as JSON, timestamps as instants).
 */
async function chainBatch(db: Database, afterId: number | null, batchSize: number): Promise<ChainRow[]> {
  return chainRowsWhere(db, sql`${afterId === null ? sql`true` : gt(auditLog.id, afterId)} order by ${auditLog.id} limit ${batchSize}`);
}

/** Rows of the chain chosen by `where` (a condition on audit_log, with its order and limit), as verify reads them. */
export async function chainRowsWhere(db: Database, where: SQL): Promise<ChainRow[]> {
  const [batch] = await queryRows<{ rows: string }>(
    db,
    sql`select coalesce(json_agg(json_build_array(id, prev_hash, hash, occurred_at, tenant_id, actor_kind, actor_id, agent, action, tool, args, outcome, result_digest, duration_ms, details, personal_salt, personal_digest) order by id), '[]')::text as rows
        from (select * from ${auditLog} where ${where}) batch`,
  );
  return (JSON.parse(batch?.rows ?? '[]') as ChainTuple[]).map(
    ([
      id,
      prevHash,
      hash,
      occurredAt,
      tenantId,
      actorKind,
      actorId,
      agent,
      action,
      tool,
      args,
      outcome,
      resultDigest,
      durationMs,
      details,
      salt,
      digest,
    ]) => ({
      id,
      prevHash,
      hash,
      personal: { salt, digest },
      content: {
        occurredAt: new Date(occurredAt),
        tenantId,
        actorKind,
        actorId,
        agent,
        action,
        tool,
        args,
        outcome,
        resultDigest,
        durationMs,
        details,
      },
    }),
  );
}

export type AuditVerification =
  | { readonly ok: true; readonly rowsChecked: number; readonly lastId: number | null; readonly lastHash: string }
  | {
      readonly ok: false;
      readonly rowsChecked: number;
      /** The first row at which the chain breaks. */
      readonly badRowId: number;
      readonly problem: 'altered' | 'missing-before' | 'chain-start-missing';
      readonly message: string;
    };

/**
 * Walks the whole chain in id order and reports the first row that was altered, or after
 * which rows are missing. (Rows removed from the very end leave no trace in the chain
 * itself; compare `lastHash` with a copy kept elsewhere to detect that.)
 */
export async function verifyAuditChain(db: Database, options: { batchSize?: number } = {}): Promise<AuditVerification> {
  const batchSize = options.batchSize ?? 2000;
  let expectedPrev = GENESIS_HASH;
  let lastId: number | null = null;
  let rowsChecked = 0;
  // Rows an erasure pseudonymised keep their hash; they are checked against what the erasure attested.
  const redactions = await loadRedactionLedger(db);
  for (;;) {
    const rows = await chainBatch(db, lastId, batchSize);
    for (const row of rows) {
      if (row.prevHash !== expectedPrev) {
        const first = lastId === null;
        return {
          ok: false,
          rowsChecked,
          badRowId: row.id,
          problem: first ? 'chain-start-missing' : 'missing-before',
          message: first
            ? `audit row ${row.id} does not start the chain: the rows before it were removed`
            : `audit row ${row.id} does not follow row ${lastId}: a row between them was removed, or row ${lastId}'s hash was rewritten`,
        };
      }
      const problem = rowProblem(row, redactions);
      if (problem) return { ok: false, rowsChecked, badRowId: row.id, problem: 'altered', message: problem };
      const attestation = redactions.attest(row);
      if (attestation) return { ok: false, rowsChecked, badRowId: row.id, problem: 'altered', message: attestation };
      expectedPrev = row.hash;
      lastId = row.id;
      rowsChecked++;
    }
    if (rows.length < batchSize) {
      const unattested = redactions.unattested();
      if (unattested) return { ok: false, rowsChecked, badRowId: unattested.auditId, problem: 'altered', message: unattested.message };
      return { ok: true, rowsChecked, lastId, lastHash: expectedPrev };
    }
  }
}

/**
 * Why a row fails verification, or null. A salted row: its hash must match (it covers the
 * personal digest, so an erasure leaves it intact), and its personal fields must match the
 * digest under its salt — or, once an erasure destroyed the salt, be exactly what that erasure
 * attested. A row written before salting: its hash covers the fields, so a redacted one is
 * checked against its erasure's attestation instead.
 */
function rowProblem(row: ChainRow, redactions: RedactionLedger): string | null {
  const { salt, digest } = row.personal;
  if (digest === null) {
    if (hashAuditRow(row.prevHash, row.content) === row.hash || redactions.accepts(row)) return null;
    return `audit row ${row.id} was altered: its content no longer matches its hash`;
  }
  if (hashAuditRow(row.prevHash, row.content, digest) !== row.hash)
    return `audit row ${row.id} was altered: its content no longer matches its hash`;
  if (salt !== null ? personalDigest(salt, row.content) === digest : redactions.accepts(row)) return null;
  return salt !== null
    ? `audit row ${row.id} was altered: its actor, arguments or details no longer match their sealed digest`
    : `audit row ${row.id} was altered: its personal fields were removed without an erasure that attested them`;
}
