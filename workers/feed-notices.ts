import { companyTenantId, type Database } from '../db/index.ts';
import type { FeedStaleEvent } from '../trading/index.ts';

/**
 * Tells the company that a market feed went stale: its bots take no new entries until bars
 * arrive again. Every worker watching the feed sees the same episode; the dedupe key (the feed
 * and its last bar before the stall) queues one notification for all of them. The product has
 * no operations department: the CEO's, who also receives the incident alerts, gets it.
 */
export async function notifyFeedStale(db: Database, event: FeedStaleEvent): Promise<boolean> {
  const company = await companyTenantId(db);
  if (!company) return false; // no company seeded (a bare trading install): the gauge and `status` still say it
  const age = event.lastBarAgeMs === null ? 'no bar cached' : `last bar closed ${Math.round(event.lastBarAgeMs / 60_000)} min ago`;
  const text = `Market feed ${event.exchange} ${event.symbol} ${event.timeframe} is stale (${age}): its bots take no new entries until bars arrive again; exits still run.`;
  // Imported when a feed goes stale, not with every worker start.
  const { enqueueNotification } = await import('../notifications/index.ts');
  return (
    await enqueueNotification(db, {
      tenantId: company,
      to: { department: 'ceo' },
      type: 'message',
      payload: { text },
      dedupeKey: `market-feed-stale:${event.episodeKey}`,
    })
  ).created;
}
