import { and, desc, eq } from 'drizzle-orm';
import { botDrafts, getScoped, insertScoped, selectScoped, type Database, type TenantScope } from '../../db/index.ts';

// The drafts of the trader's assistant, always in one tenant's scope: another trader's draft is
// not found, whatever its id.

export type BotDraft = typeof botDrafts.$inferSelect;
export type NewBotDraft = Omit<typeof botDrafts.$inferInsert, 'tenantId' | 'id' | 'createdAt' | 'updatedAt'>;

/** A new draft; `now` (the caller's clock) stamps it, so "recent" is measured on one clock. */
export async function saveBotDraft(db: Database, scope: TenantScope, values: NewBotDraft, now?: Date): Promise<BotDraft> {
  const [row] = await insertScoped(db, scope, botDrafts, now ? { ...values, createdAt: now, updatedAt: now } : values);
  return row!;
}

export function getBotDraft(db: Database, scope: TenantScope, draftId: string): Promise<BotDraft | undefined> {
  return getScoped(db, scope, botDrafts, draftId);
}

/** The account's drafts still open (not started, not discarded), newest first. */
export function openBotDrafts(db: Database, scope: TenantScope, limit = 20): Promise<BotDraft[]> {
  return selectScoped(db, scope, botDrafts, { where: eq(botDrafts.status, 'draft'), orderBy: desc(botDrafts.createdAt), limit });
}

/** Changes an open draft; undefined when it is not this account's or no longer open. */
export async function updateBotDraft(
  db: Database,
  scope: TenantScope,
  draftId: string,
  changes: Partial<Omit<NewBotDraft, 'createdByUserId' | 'description'>>,
  now: Date,
): Promise<BotDraft | undefined> {
  const [row] = await db
    .update(botDrafts)
    .set({ ...changes, updatedAt: now })
    .where(and(eq(botDrafts.id, draftId), eq(botDrafts.tenantId, scope.tenantId), eq(botDrafts.status, 'draft')))
    .returning();
  return row;
}
