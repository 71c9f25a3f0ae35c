import crypto from 'node:crypto';
import type { MastraDBMessage } from '@mastra/core/agent';
import type { MemoryStorage } from '@mastra/core/storage';
import { PostgresMemoryStorage } from '../db/index.ts';

// Conversation memory, kept in Mastra's storage (threads and messages, in the company's
// PostgreSQL) but written by the turn itself rather than by Mastra's memory processors, for
// two reasons: what is remembered is the answer the person actually received (a model answer
// replaced by the grounding check is never remembered), and a turn stays cheap (one read,
// one write, instead of Mastra's processor chain, which cost ~15 ms a turn here).
//
// The write happens just after the answer is handed back (the door sends it first): the next
// recall of the same thread waits for it, and `settleConversations` waits for all of them
// before a process closes its database.

/** How many earlier messages of the same conversation the model sees. */
export const HISTORY_MESSAGES = 6;

export interface ConversationKey {
  /** One thread per person, channel and agent. */
  readonly threadId: string;
  /** The person (their user id). */
  readonly resourceId: string;
  readonly channel: string;
  readonly agent: string;
}

export type RememberedMessage =
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string };

function textOf(message: MastraDBMessage): string {
  const content = message.content as { parts?: { type: string; text?: string }[]; content?: string };
  const parts = content.parts?.filter((part) => part.type === 'text' && part.text).map((part) => part.text!);
  return (parts && parts.length > 0 ? parts.join('\n') : (content.content ?? '')).trim();
}

/** The last messages of the conversation, oldest first: what the person asked and was told. */
export async function recallConversation(
  store: MemoryStorage,
  key: ConversationKey,
  limit = HISTORY_MESSAGES,
): Promise<RememberedMessage[]> {
  await pendingWrites.get(store)?.get(key.threadId);
  const messages =
    store instanceof PostgresMemoryStorage
      ? await store.recentMessages({ threadId: key.threadId, resourceId: key.resourceId, limit })
      : (
          await store.listMessages({
            threadId: key.threadId,
            resourceId: key.resourceId,
            perPage: limit,
            orderBy: { field: 'createdAt', direction: 'DESC' },
          })
        ).messages.reverse();
  return messages
    .filter((message) => message.role === 'user' || message.role === 'assistant')
    .map(
      (message): RememberedMessage =>
        message.role === 'user' ? { role: 'user', content: textOf(message) } : { role: 'assistant', content: textOf(message) },
    )
    .filter((message) => message.content !== '');
}

function textMessage(key: ConversationKey, role: 'user' | 'assistant', text: string, createdAt: Date): MastraDBMessage {
  return {
    id: crypto.randomUUID(),
    threadId: key.threadId,
    resourceId: key.resourceId,
    role,
    type: 'text',
    createdAt,
    content: { format: 2, parts: [{ type: 'text', text }], content: text },
  } as MastraDBMessage;
}

let lastStamp = 0;
/** Wall-clock milliseconds, strictly increasing in this process, so messages keep their order. */
function nextStamp(): Date {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return new Date(lastStamp);
}

/** Appends a question and the answer given to the conversation (creating the thread once). */
export async function rememberTurn(store: MemoryStorage, key: ConversationKey, question: string, answer: string): Promise<void> {
  const at = nextStamp();
  if (!(await store.getThreadById({ threadId: key.threadId }))) {
    await store.saveThread({
      thread: {
        id: key.threadId,
        resourceId: key.resourceId,
        title: `${key.agent} on ${key.channel}`,
        createdAt: at,
        updatedAt: at,
        metadata: { channel: key.channel, agent: key.agent },
      },
    });
  }
  await store.saveMessages({ messages: [textMessage(key, 'user', question, at), textMessage(key, 'assistant', answer, nextStamp())] });
}

/** Conversation writes still under way, per store and thread (each thread's in order). */
const pendingWrites = new WeakMap<MemoryStorage, Map<string, Promise<void>>>();

/**
 * Remembers a turn after the caller has moved on: writes of one thread run in order, the next
 * recall of that thread waits for them, and a failed write is reported to `onError` (the
 * answer was already given; only the memory of it is lost).
 */
export function rememberTurnLater(
  store: MemoryStorage,
  key: ConversationKey,
  question: string,
  answer: string,
  onError: (error: unknown) => void,
): void {
  let writes = pendingWrites.get(store);
  if (!writes) {
    writes = new Map();
    pendingWrites.set(store, writes);
  }
  const threadWrites = writes;
  const write: Promise<void> = (threadWrites.get(key.threadId) ?? Promise.resolve())
    .then(() => rememberTurn(store, key, question, answer))
    .catch(onError)
    .finally(() => {
      if (threadWrites.get(key.threadId) === write) threadWrites.delete(key.threadId);
    });
  threadWrites.set(key.threadId, write);
}

/** Waits for every conversation write under way in this store (before its database closes). */
export async function settleConversations(store: MemoryStorage): Promise<void> {
  const writes = pendingWrites.get(store);
  while (writes && writes.size > 0) await Promise.all(writes.values());
}
