import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MastraDBMessage } from '@mastra/core/agent';
import { recallConversation, rememberTurnLater, settleConversations, type ConversationKey } from '../../agents/conversation.ts';
import { PostgresMemoryStorage } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// A turn's conversation is written just after its answer is handed back: the next recall of
// the thread must still see it, in order, and a failed write must cost only that memory.

let test: TestDatabase;
beforeAll(async () => {
  test = await createTestDatabase('pglite');
});
afterAll(async () => {
  await test?.dispose();
});

const key = (threadId: string): ConversationKey => ({ threadId, resourceId: 'u1', channel: 'telegram', agent: 'finance' });

it('recalls what was written after the answers, in order, even while the writes are still under way', async () => {
  const store = new PostgresMemoryStorage(test.handle.db);
  const failures: unknown[] = [];
  for (let i = 1; i <= 3; i++) rememberTurnLater(store, key('t1'), `pergunta ${i}`, `resposta ${i}`, (error) => failures.push(error));
  // Nothing awaited yet: the recall waits for the thread's writes.
  expect(await recallConversation(store, key('t1'))).toEqual([
    { role: 'user', content: 'pergunta 1' },
    { role: 'assistant', content: 'resposta 1' },
    { role: 'user', content: 'pergunta 2' },
    { role: 'assistant', content: 'resposta 2' },
    { role: 'user', content: 'pergunta 3' },
    { role: 'assistant', content: 'resposta 3' },
  ]);
  expect(failures).toEqual([]);
});

it('reports a failed write, keeps later writes of the thread, and settles before the database closes', async () => {
  const store = new PostgresMemoryStorage(test.handle.db);
  const save = store.saveMessages.bind(store);
  let failNext = true;
  store.saveMessages = async (args: { messages: MastraDBMessage[] }) => {
    if (failNext) {
      failNext = false;
      throw new Error('disk full');
    }
    return save(args);
  };
  const failures: string[] = [];
  rememberTurnLater(store, key('t2'), 'primeira', 'perdida', (error) => failures.push((error as Error).message));
  rememberTurnLater(store, key('t2'), 'segunda', 'guardada', (error) => failures.push((error as Error).message));
  rememberTurnLater(store, key('t3'), 'outra conversa', 'também guardada', (error) => failures.push((error as Error).message));
  await settleConversations(store);
  expect(failures).toEqual(['disk full']);
  const fresh = new PostgresMemoryStorage(test.handle.db); // reads the table, not a cache
  expect(await recallConversation(fresh, key('t2'))).toEqual([
    { role: 'user', content: 'segunda' },
    { role: 'assistant', content: 'guardada' },
  ]);
  expect(await recallConversation(fresh, key('t3'))).toHaveLength(2);
});
