import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MastraDBMessage } from '@mastra/core/agent';
import { PostgresMemoryStorage } from '../../db/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

const message = (id: string, threadId: string, at: number, text: string, role: 'user' | 'assistant' = 'user'): MastraDBMessage =>
  ({
    id,
    threadId,
    resourceId: 'u1',
    role,
    type: 'text',
    createdAt: new Date(Date.UTC(2026, 10, 1, 12, 0, at)),
    content: { format: 2, parts: [{ type: 'text', text }], content: text },
  }) as MastraDBMessage;

describe.each(testDrivers)('Mastra memory storage on %s', (driver) => {
  let test: TestDatabase;
  let store: PostgresMemoryStorage;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
    store = new PostgresMemoryStorage(test.handle.db);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('keeps threads, messages in time order, pages, neighbours and updates', async () => {
    const created = new Date('2026-11-01T12:00:00Z');
    await store.saveThread({
      thread: { id: 't1', resourceId: 'u1', title: 'cli', createdAt: created, updatedAt: created, metadata: { channel: 'cli' } },
    });
    await store.saveThread({ thread: { id: 't2', resourceId: 'u2', createdAt: created, updatedAt: created } });
    expect(await store.getThreadById({ threadId: 't1' })).toMatchObject({
      id: 't1',
      resourceId: 'u1',
      title: 'cli',
      metadata: { channel: 'cli' },
    });
    expect(await store.getThreadById({ threadId: 't1', resourceId: 'someone-else' })).toBeNull();
    await store.saveMessages({
      messages: [1, 2, 3, 4, 5].map((i) => message(`m${i}`, 't1', i, `texto ${i} ção`, i % 2 ? 'user' : 'assistant')),
    });

    const last3 = await store.listMessages({ threadId: 't1', perPage: 3, orderBy: { field: 'createdAt', direction: 'DESC' } });
    expect(last3.messages.map((m) => m.id)).toEqual(['m5', 'm4', 'm3']);
    expect(last3).toMatchObject({ total: 5, hasMore: true });
    expect((last3.messages[0]!.content as { parts: { text: string }[] }).parts[0]!.text).toBe('texto 5 ção');
    expect(last3.messages[0]!.createdAt).toEqual(new Date(Date.UTC(2026, 10, 1, 12, 0, 5)));

    // What a turn recalls: the last messages, oldest first, only the person's own.
    expect((await store.recentMessages({ threadId: 't1', resourceId: 'u1', limit: 3 })).map((m) => m.id)).toEqual(['m3', 'm4', 'm5']);
    expect(await store.recentMessages({ threadId: 't1', resourceId: 'u2', limit: 3 })).toEqual([]);

    const around = await store.listMessages({
      threadId: 't1',
      perPage: 0,
      include: [{ id: 'm3', withPreviousMessages: 1, withNextMessages: 1 }],
    });
    expect(around.messages.map((m) => m.id)).toEqual(['m2', 'm3', 'm4']);
    const ranged = await store.listMessages({
      threadId: 't1',
      perPage: false,
      filter: { dateRange: { start: new Date(Date.UTC(2026, 10, 1, 12, 0, 2)), startExclusive: true } },
    });
    expect(ranged.messages.map((m) => m.id)).toEqual(['m3', 'm4', 'm5']);

    // Saving again updates in place (Mastra re-saves messages it completes).
    await store.saveMessages({ messages: [message('m5', 't1', 5, 'texto 5 final')] });
    const [updated] = (await store.listMessagesById({ messageIds: ['m5'] })).messages;
    expect((updated!.content as { parts: { text: string }[] }).parts[0]!.text).toBe('texto 5 final');
    await store.updateMessages({ messages: [{ id: 'm5', content: { metadata: { grounded: true } } as never }] });
    expect(((await store.listMessagesById({ messageIds: ['m5'] })).messages[0]!.content as { metadata?: unknown }).metadata).toEqual({
      grounded: true,
    });

    await store.deleteMessages(['m1']);
    expect((await store.listMessages({ threadId: 't1' })).total).toBe(4);
    const threads = await store.listThreads({ filter: { resourceId: 'u1' } });
    expect(threads.threads.map((t) => t.id)).toEqual(['t1']);
    expect((await store.getThreadById({ threadId: 't1' }))!.updatedAt.getTime()).toBeGreaterThan(created.getTime());
    await store.deleteThread({ threadId: 't1' });
    expect(await store.getThreadById({ threadId: 't1' })).toBeNull();
    expect((await store.listMessages({ threadId: 't1' })).total).toBe(0);
  });

  it("answers a thread's newest messages from its cached tail, as the table holds them through saves, updates and deletes", async () => {
    const fromTable = async (limit: number) =>
      (await store.listMessages({ threadId: 't3', perPage: limit, orderBy: { field: 'createdAt', direction: 'DESC' } })).messages.reverse();
    const same = async (limit: number) => {
      const recent = await store.recentMessages({ threadId: 't3', resourceId: 'u1', limit });
      expect(recent.map((m) => [m.id, m.role, (m.content as { parts: { text: string }[] }).parts[0]!.text])).toEqual(
        (await fromTable(limit)).map((m) => [m.id, m.role, (m.content as { parts: { text: string }[] }).parts[0]!.text]),
      );
      return recent;
    };
    await store.saveThread({ thread: { id: 't3', resourceId: 'u1', createdAt: new Date(), updatedAt: new Date() } });
    expect(await same(6)).toEqual([]);
    await store.saveMessages({ messages: [message('n1', 't3', 1, 'um'), message('n2', 't3', 2, 'dois', 'assistant')] });
    expect((await same(6)).map((m) => m.id)).toEqual(['n1', 'n2']);
    // More than the tail keeps, some saved out of order, one saved again with new text.
    await store.saveMessages({
      messages: Array.from({ length: 24 }, (_, i) =>
        message(`n${30 - i}`, 't3', 30 - i, `mensagem ${30 - i}`, i % 2 ? 'user' : 'assistant'),
      ),
    });
    await store.saveMessages({ messages: [message('n30', 't3', 30, 'trinta, corrigida', 'assistant')] });
    expect((await same(6)).map((m) => m.id)).toEqual(['n25', 'n26', 'n27', 'n28', 'n29', 'n30']);
    await same(20);
    await same(40);
    await store.updateMessages({ messages: [{ id: 'n29', content: { parts: [{ type: 'text', text: 'editada' }] } as never }] });
    await same(6);
    await store.deleteMessages(['n30', 'n28']);
    expect((await same(6)).map((m) => m.id)).toEqual(['n23', 'n24', 'n25', 'n26', 'n27', 'n29']);
    // Another person's thread id never shows them this one's messages.
    expect(await store.recentMessages({ threadId: 't3', resourceId: 'u2', limit: 6 })).toEqual([]);
  });

  it('keeps resources (working memory) by id', async () => {
    await store.updateResource({ resourceId: 'u9', workingMemory: 'prefere português', metadata: { a: 1 } });
    await store.updateResource({ resourceId: 'u9', metadata: { b: 2 } });
    expect(await store.getResourceById({ resourceId: 'u9' })).toMatchObject({
      workingMemory: 'prefere português',
      metadata: { a: 1, b: 2 },
    });
  });
});
