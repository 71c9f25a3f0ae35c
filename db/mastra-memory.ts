import type { MastraDBMessage } from '@mastra/core/agent';
import type { StorageThreadType } from '@mastra/core/memory';
import {
  MemoryStorage,
  type StorageListMessagesInput,
  type StorageListMessagesOutput,
  type StorageListThreadsInput,
  type StorageListThreadsOutput,
  type StorageResourceType,
} from '@mastra/core/storage';
import { and, asc, desc, eq, gt, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database } from './client.ts';
import { mastraMessages, mastraResources, mastraThreads } from './schema/index.ts';

type MessageRow = typeof mastraMessages.$inferSelect;
type ThreadRow = typeof mastraThreads.$inferSelect;

const THREAD_CACHE_MS = 60_000;
const THREAD_CACHE_SIZE = 5_000;
/** Newest messages kept per recently used thread (a turn recalls six). */
const TAIL_SIZE = 20;

/** A thread's newest messages, oldest first; `whole` when they are all the thread has. */
interface ThreadTail {
  readonly at: number;
  readonly whole: boolean;
  readonly messages: readonly MastraDBMessage[];
}

const byTime = (a: MastraDBMessage, b: MastraDBMessage) =>
  new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const toThread = (row: ThreadRow): StorageThreadType => ({
  id: row.id,
  resourceId: row.resourceId,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
  ...(row.title === null ? {} : { title: row.title }),
  ...(row.metadata === null ? {} : { metadata: row.metadata }),
});

const toMessage = (row: MessageRow): MastraDBMessage =>
  ({
    id: row.id,
    threadId: row.threadId,
    role: row.role,
    type: row.type,
    content: row.content,
    createdAt: row.createdAt,
    ...(row.resourceId === null ? {} : { resourceId: row.resourceId }),
  }) as MastraDBMessage;

const pageOf = (page: number, perPageInput: number | false | undefined, fallback: number) => {
  const perPage = perPageInput === false ? Number.MAX_SAFE_INTEGER : (perPageInput ?? fallback);
  if (page < 0) throw new Error('page must be >= 0');
  if (perPage < 0) throw new Error('perPage must be >= 0');
  return {
    perPage,
    offset: perPageInput === false ? 0 : page * perPage,
    perPageForResponse: perPageInput === false ? (false as const) : perPage,
  };
};

/**
 * Mastra's conversation memory in the company's own database (both the embedded PGlite and a
 * PostgreSQL server, through drizzle), in tables the migrations create: threads, messages and
 * resources. Observational memory is not supported (the agents don't use it).
 */
export class PostgresMemoryStorage extends MemoryStorage {
  readonly #db: Database;
  /**
   * Mastra reads a thread several times per turn; threads change only through this class, so
   * they are kept for a short while (another process writing the same thread is seen after
   * THREAD_CACHE_MS at worst: threads are per person, channel and agent).
   */
  readonly #threads = new Map<string, { at: number; thread: StorageThreadType }>();
  /**
   * The newest messages of recently used threads, as read and then as written here, so the
   * next turn's recall reads nothing; like threads, re-read after THREAD_CACHE_MS.
   */
  readonly #tails = new Map<string, ThreadTail>();
  /** Bumped by every change to a thread's messages: a tail read while one lands is not kept. */
  #changes = 0;

  constructor(db: Database) {
    super();
    this.#db = db;
  }

  #remember(thread: StorageThreadType): StorageThreadType {
    this.#threads.set(thread.id, { at: Date.now(), thread });
    if (this.#threads.size > THREAD_CACHE_SIZE) this.#threads.delete(this.#threads.keys().next().value!);
    return thread;
  }

  async dangerouslyClearAll(): Promise<void> {
    this.#threads.clear();
    this.#tails.clear();
    this.#changes++;
    await this.#db.delete(mastraMessages);
    await this.#db.delete(mastraThreads);
    await this.#db.delete(mastraResources);
  }

  async getThreadById({ threadId, resourceId }: { threadId: string; resourceId?: string }): Promise<StorageThreadType | null> {
    const cached = this.#threads.get(threadId);
    let thread = cached && Date.now() - cached.at < THREAD_CACHE_MS ? cached.thread : undefined;
    if (!thread) {
      const [row] = await this.#db.select().from(mastraThreads).where(eq(mastraThreads.id, threadId));
      if (!row) return null;
      thread = this.#remember(toThread(row));
    }
    if (resourceId !== undefined && thread.resourceId !== resourceId) return null;
    return { ...thread, ...(thread.metadata ? { metadata: { ...thread.metadata } } : {}) };
  }

  async saveThread({ thread }: { thread: StorageThreadType }): Promise<StorageThreadType> {
    const values = {
      id: thread.id,
      resourceId: thread.resourceId,
      title: thread.title ?? null,
      metadata: thread.metadata ?? null,
      createdAt: new Date(thread.createdAt),
      updatedAt: new Date(thread.updatedAt),
    };
    await this.#db
      .insert(mastraThreads)
      .values(values)
      .onConflictDoUpdate({
        target: mastraThreads.id,
        set: { resourceId: values.resourceId, title: values.title, metadata: values.metadata, updatedAt: values.updatedAt },
      });
    this.#remember(thread);
    return thread;
  }

  async updateThread({
    id,
    title,
    metadata,
  }: {
    id: string;
    title?: string;
    metadata?: Record<string, unknown>;
  }): Promise<StorageThreadType> {
    const existing = await this.getThreadById({ threadId: id });
    if (!existing) throw new Error(`Thread with id ${id} not found`);
    const [row] = await this.#db
      .update(mastraThreads)
      .set({ ...(title === undefined ? {} : { title }), metadata: { ...existing.metadata, ...metadata }, updatedAt: new Date() })
      .where(eq(mastraThreads.id, id))
      .returning();
    return this.#remember(toThread(row!));
  }

  async deleteThread({ threadId }: { threadId: string }): Promise<void> {
    this.#threads.delete(threadId);
    this.#tails.delete(threadId);
    this.#changes++;
    await this.#db.transaction(async (tx) => {
      await tx.delete(mastraMessages).where(eq(mastraMessages.threadId, threadId));
      await tx.delete(mastraThreads).where(eq(mastraThreads.id, threadId));
    });
  }

  async listThreads(args: StorageListThreadsInput): Promise<StorageListThreadsOutput> {
    const { page = 0, perPage: perPageInput, orderBy, filter } = args;
    const { field, direction } = this.parseOrderBy(orderBy);
    this.validateMetadataKeys(filter?.metadata);
    const { perPage, offset, perPageForResponse } = pageOf(page, perPageInput, 100);
    const conditions: SQL[] = [];
    if (filter?.resourceId) conditions.push(eq(mastraThreads.resourceId, filter.resourceId));
    for (const [key, value] of Object.entries(filter?.metadata ?? {}))
      conditions.push(sql`${mastraThreads.metadata} -> ${key} = ${JSON.stringify(value)}::jsonb`);
    const where = conditions.length > 0 ? and(...conditions) : undefined;
    const column = field === 'updatedAt' ? mastraThreads.updatedAt : mastraThreads.createdAt;
    const [count] = await this.#db.select({ n: sql<number>`count(*)::int` }).from(mastraThreads).where(where);
    const rows =
      perPage === 0
        ? []
        : await this.#db
            .select()
            .from(mastraThreads)
            .where(where)
            .orderBy(direction === 'ASC' ? asc(column) : desc(column), asc(mastraThreads.id))
            .limit(perPage)
            .offset(offset);
    const total = count?.n ?? 0;
    return { threads: rows.map(toThread), total, page, perPage: perPageForResponse, hasMore: offset + rows.length < total };
  }

  async saveMessages({ messages }: { messages: MastraDBMessage[] }): Promise<{ messages: MastraDBMessage[] }> {
    if (messages.length === 0) return { messages };
    const rows = messages.map((message) => ({
      id: message.id,
      threadId: message.threadId ?? '',
      resourceId: message.resourceId ?? null,
      role: message.role,
      type: message.type ?? 'text',
      /** The content as stored (jsonb), also what the cached tail keeps. */
      contentJson: JSON.stringify(message.content),
      createdAt: new Date(message.createdAt),
    }));
    // One statement (atomic on its own): upsert the messages and touch their threads.
    const values = sql.join(
      rows.map(
        (row) =>
          sql`(${row.id}, ${row.threadId}, ${row.resourceId}, ${row.role}, ${row.type}, ${row.contentJson}::jsonb, ${row.createdAt.toISOString()}::timestamptz)`,
      ),
      sql`, `,
    );
    this.#changes++;
    const touched = await queryRows<{ id: string; updated_at: string | Date }>(
      this.#db,
      sql`
      with saved as (
        insert into mastra_messages (id, thread_id, resource_id, role, type, content, created_at) values ${values}
        on conflict (id) do update set thread_id = excluded.thread_id, resource_id = excluded.resource_id, role = excluded.role, type = excluded.type, content = excluded.content
        returning thread_id
      )
      update mastra_threads set updated_at = now() where id in (select thread_id from saved) returning id, updated_at`,
    );
    // The touched threads stay cached with their new update time, and their tails with the
    // new messages (the next turn needs no read).
    for (const { id, updated_at } of touched) {
      const cached = this.#threads.get(id);
      if (cached) this.#threads.set(id, { at: cached.at, thread: { ...cached.thread, updatedAt: new Date(updated_at) } });
    }
    for (const threadId of new Set(rows.map((row) => row.threadId))) {
      const tail = this.#tails.get(threadId);
      if (!tail) continue;
      const saved = rows
        .filter((row) => row.threadId === threadId)
        .map((row) => toMessage({ ...row, content: JSON.parse(row.contentJson) as unknown }));
      const savedIds = new Set(saved.map((message) => message.id));
      const merged = [...tail.messages.filter((message) => !savedIds.has(message.id)), ...saved].sort(byTime);
      this.#tails.set(threadId, { at: tail.at, whole: tail.whole && merged.length <= TAIL_SIZE, messages: merged.slice(-TAIL_SIZE) });
    }
    return { messages };
  }

  async updateMessages({
    messages,
  }: {
    messages: (Partial<Omit<MastraDBMessage, 'createdAt'>> & { id: string })[];
  }): Promise<MastraDBMessage[]> {
    const updated: MastraDBMessage[] = [];
    await this.#db.transaction(async (tx) => {
      for (const update of messages) {
        const [row] = await tx.select().from(mastraMessages).where(eq(mastraMessages.id, update.id));
        if (!row) continue;
        let content = row.content as Record<string, unknown>;
        if (update.content !== undefined) {
          const next = update.content as unknown as Record<string, unknown>;
          content = { ...content, ...next };
          if (content['metadata'] && next['metadata'])
            content['metadata'] = {
              ...(row.content as Record<string, Record<string, unknown>>)['metadata'],
              ...(next['metadata'] as Record<string, unknown>),
            };
        }
        const [saved] = await tx
          .update(mastraMessages)
          .set({
            content,
            ...(update.role === undefined ? {} : { role: update.role }),
            ...(update.type === undefined ? {} : { type: update.type }),
            ...(update.threadId === undefined ? {} : { threadId: update.threadId }),
            ...(update.resourceId === undefined ? {} : { resourceId: update.resourceId ?? null }),
          })
          .where(eq(mastraMessages.id, update.id))
          .returning();
        const touched = [...new Set([row.threadId, saved!.threadId])];
        this.#changes++;
        for (const threadId of touched) this.#tails.delete(threadId);
        await tx.update(mastraThreads).set({ updatedAt: new Date() }).where(inArray(mastraThreads.id, touched));
        updated.push(toMessage(saved!));
      }
    });
    return updated;
  }

  override async deleteMessages(messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.#db.transaction(async (tx) => {
      const removed = await tx
        .delete(mastraMessages)
        .where(inArray(mastraMessages.id, messageIds))
        .returning({ threadId: mastraMessages.threadId });
      const threadIds = [...new Set(removed.map((row) => row.threadId))];
      this.#changes++;
      for (const threadId of threadIds) this.#tails.delete(threadId);
      if (threadIds.length > 0) await tx.update(mastraThreads).set({ updatedAt: new Date() }).where(inArray(mastraThreads.id, threadIds));
    });
  }

  async listMessagesById({ messageIds }: { messageIds: string[] }): Promise<{ messages: MastraDBMessage[] }> {
    if (messageIds.length === 0) return { messages: [] };
    const rows = await this.#db
      .select()
      .from(mastraMessages)
      .where(inArray(mastraMessages.id, messageIds))
      .orderBy(asc(mastraMessages.createdAt));
    return { messages: rows.map(toMessage) };
  }

  async listMessages(args: StorageListMessagesInput): Promise<StorageListMessagesOutput> {
    const { threadId, resourceId, include, filter, perPage: perPageInput, page = 0, orderBy } = args;
    const threadIds = Array.isArray(threadId) ? threadId : [threadId];
    if (threadIds.length === 0 || threadIds.some((id) => !id.trim()))
      throw new Error('threadId must be a non-empty string or array of non-empty strings');
    if (filter?.metadata !== undefined) throw new Error('filtering messages by metadata is not supported by this storage');
    const { field, direction } = this.parseOrderBy(orderBy, 'ASC');
    const { perPage, offset, perPageForResponse } = pageOf(page, perPageInput, 40);
    const conditions: SQL[] = [inArray(mastraMessages.threadId, threadIds)];
    if (resourceId) conditions.push(eq(mastraMessages.resourceId, resourceId));
    const range = filter?.dateRange;
    if (range?.start) conditions.push((range.startExclusive ? gt : gte)(mastraMessages.createdAt, new Date(range.start)));
    if (range?.end) conditions.push((range.endExclusive ? lt : lte)(mastraMessages.createdAt, new Date(range.end)));
    const where = and(...conditions);
    const order =
      direction === 'ASC'
        ? [asc(mastraMessages.createdAt), asc(mastraMessages.id)]
        : [desc(mastraMessages.createdAt), desc(mastraMessages.id)];
    void field; // messages only sort by time
    // The page and the total in one query (the window count sees every matching row).
    const page_ =
      perPage === 0
        ? []
        : await this.#db
            .select({ row: mastraMessages, total: sql<number>`count(*) over ()`.mapWith(Number) })
            .from(mastraMessages)
            .where(where)
            .orderBy(...order)
            .limit(perPage)
            .offset(offset);
    const rows = page_.map((r) => r.row);
    const total = perPage === 0 ? 0 : (page_[0]?.total ?? (offset > 0 ? await this.#db.$count(mastraMessages, where) : 0));
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const item of include ?? []) {
      const [target] = await this.#db.select().from(mastraMessages).where(eq(mastraMessages.id, item.id));
      if (!target || (resourceId && target.resourceId !== resourceId)) continue;
      const sameThread = and(
        eq(mastraMessages.threadId, target.threadId),
        resourceId ? eq(mastraMessages.resourceId, resourceId) : undefined,
      );
      const before = await this.#db
        .select()
        .from(mastraMessages)
        .where(and(sameThread, lte(mastraMessages.createdAt, target.createdAt)))
        .orderBy(desc(mastraMessages.createdAt), desc(mastraMessages.id))
        .limit((item.withPreviousMessages ?? 0) + 1);
      const after = item.withNextMessages
        ? await this.#db
            .select()
            .from(mastraMessages)
            .where(and(sameThread, gt(mastraMessages.createdAt, target.createdAt)))
            .orderBy(asc(mastraMessages.createdAt))
            .limit(item.withNextMessages)
        : [];
      for (const row of [target, ...before, ...after]) byId.set(row.id, row);
    }
    const sorted = [...byId.values()].sort(
      (a, b) => (a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id)) * (direction === 'ASC' ? 1 : -1),
    );
    return { messages: sorted.map(toMessage), total, page, perPage: perPageForResponse, hasMore: offset + rows.length < total };
  }

  /**
   * The last `limit` messages of a thread, oldest first: what a turn recalls. Unlike
   * listMessages it counts nothing, so it costs the same however long the thread has grown,
   * and a thread used recently is answered from its cached tail.
   */
  async recentMessages({
    threadId,
    resourceId,
    limit,
  }: {
    threadId: string;
    resourceId?: string;
    limit: number;
  }): Promise<MastraDBMessage[]> {
    let tail = this.#tails.get(threadId);
    if (!tail || Date.now() - tail.at >= THREAD_CACHE_MS || (!tail.whole && tail.messages.length < limit)) {
      // The thread alone in SQL: read backwards off the (thread, time, id) index whatever the
      // planner knows; a thread is one person's, so the owner check costs nothing here.
      const size = Math.max(limit, TAIL_SIZE);
      const changesBefore = this.#changes;
      const rows = await this.#db
        .select()
        .from(mastraMessages)
        .where(eq(mastraMessages.threadId, threadId))
        .orderBy(desc(mastraMessages.createdAt), desc(mastraMessages.id))
        .limit(size);
      tail = { at: Date.now(), whole: rows.length < size, messages: rows.reverse().map(toMessage) };
      if (this.#changes === changesBefore) {
        this.#tails.set(threadId, tail);
        if (this.#tails.size > THREAD_CACHE_SIZE) this.#tails.delete(this.#tails.keys().next().value!);
      }
    }
    return tail.messages.slice(-limit).filter((message) => resourceId === undefined || message.resourceId === resourceId);
  }

  override async getResourceById({ resourceId }: { resourceId: string }): Promise<StorageResourceType | null> {
    const [row] = await this.#db.select().from(mastraResources).where(eq(mastraResources.id, resourceId));
    return row
      ? {
          id: row.id,
          createdAt: row.createdAt,
          updatedAt: row.updatedAt,
          ...(row.workingMemory === null ? {} : { workingMemory: row.workingMemory }),
          ...(row.metadata === null ? {} : { metadata: row.metadata }),
        }
      : null;
  }

  override async saveResource({ resource }: { resource: StorageResourceType }): Promise<StorageResourceType> {
    const values = {
      id: resource.id,
      workingMemory: resource.workingMemory ?? null,
      metadata: resource.metadata ?? null,
      createdAt: new Date(resource.createdAt),
      updatedAt: new Date(resource.updatedAt),
    };
    await this.#db
      .insert(mastraResources)
      .values(values)
      .onConflictDoUpdate({
        target: mastraResources.id,
        set: { workingMemory: values.workingMemory, metadata: values.metadata, updatedAt: values.updatedAt },
      });
    return resource;
  }

  override async updateResource({
    resourceId,
    workingMemory,
    metadata,
  }: {
    resourceId: string;
    workingMemory?: string;
    metadata?: Record<string, unknown>;
  }): Promise<StorageResourceType> {
    const existing = await this.getResourceById({ resourceId });
    const now = new Date();
    const resource: StorageResourceType = {
      id: resourceId,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      ...((workingMemory ?? existing?.workingMemory) === undefined ? {} : { workingMemory: workingMemory ?? existing?.workingMemory }),
      metadata: { ...existing?.metadata, ...metadata },
    };
    return this.saveResource({ resource });
  }
}
