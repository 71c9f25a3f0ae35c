import { companyCeo, companyTenantId, type Database, type Department } from '../db/index.ts';
import { enqueueNotification, queuedNotificationId } from '../notifications/index.ts';

// Notifications from workflows go into the outbox (`notifications`), which the channels
// (Telegram today) deliver with retries. Every one carries a dedupe key derived from the run
// and the event, so a resumed run that repeats a step queues nothing twice. The payload is
// checked against its type when it is queued (notifications/templates.ts). Approval requests
// are announced to the people who may decide them by the Telegram layer (announcePendingApprovals).

export interface Notice {
  /** Whose event it is (a trader's tenant, or the company's). */
  readonly tenantId: string;
  readonly to: { readonly userId: string } | { readonly department: Department };
  readonly type: 'security_alert' | 'executive_report' | 'chart' | 'message' | 'bot_review';
  readonly payload: Record<string, unknown>;
  readonly dedupeKey: string;
}

/** Queues a notification once per dedupe key; returns its row id and whether this call queued it. */
export async function notify(db: Database, notice: Notice): Promise<{ id: string; created: boolean }> {
  const queued = await enqueueNotification(db, notice);
  if (queued.created && queued.id) return { id: queued.id, created: true };
  return { id: (await queuedNotificationId(db, notice.dedupeKey))!, created: false };
}

export interface CompanyPeople {
  readonly companyTenantId: string;
  readonly ceo: { readonly userId: string; readonly email: string; readonly name: string; readonly locale: 'pt-BR' | 'en' } | undefined;
}

/** The company's tenant and its CEO (reports and incident alerts go to them). */
export async function companyPeople(db: Database): Promise<CompanyPeople> {
  const company = await companyTenantId(db);
  if (!company) throw new Error('no company tenant: seed the company first (botcriptofy seed --demo)');
  return { companyTenantId: company, ceo: await companyCeo(db, company) };
}
