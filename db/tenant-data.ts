import { and, desc, eq, gte } from 'drizzle-orm';
import type { Database } from './client.ts';
import * as schema from './schema/index.ts';
import { getScoped, selectScoped, type TenantScope } from './tenant-scope.ts';

/**
 * The reads traders' doors (API, Telegram, agent tools) make, always within one tenant.
 * Each takes the scope first; there is no variant without it.
 */
export function tenantData(db: Database, scope: TenantScope) {
  return {
    bots: () => selectScoped(db, scope, schema.bots, { orderBy: schema.bots.createdAt }),
    bot: (botId: string) => getScoped(db, scope, schema.bots, botId),
    trades: (filter: { botId?: string; since?: Date; limit?: number } = {}) =>
      selectScoped(db, scope, schema.trades, {
        where: and(
          filter.botId ? eq(schema.trades.botId, filter.botId) : undefined,
          filter.since ? gte(schema.trades.openedAt, filter.since) : undefined,
        ),
        orderBy: desc(schema.trades.openedAt),
        limit: filter.limit ?? 500,
      }),
    positions: () => selectScoped(db, scope, schema.positions, { orderBy: schema.positions.openedAt }),
    orders: (filter: { botId?: string; limit?: number } = {}) =>
      selectScoped(db, scope, schema.orders, {
        where: filter.botId ? eq(schema.orders.botId, filter.botId) : undefined,
        orderBy: desc(schema.orders.createdAt),
        limit: filter.limit ?? 500,
      }),
    /** Exchange accounts without their ciphertexts: callers only ever need the label and status. */
    exchangeAccounts: async () =>
      (await selectScoped(db, scope, schema.exchangeAccounts)).map(
        ({ apiKeyEncrypted: _k, apiSecretEncrypted: _s, passphraseEncrypted: _p, ...account }) => account,
      ),
    subscriptions: () => selectScoped(db, scope, schema.subscriptions, { orderBy: desc(schema.subscriptions.startedAt) }),
    invoices: (limit = 100) => selectScoped(db, scope, schema.invoices, { orderBy: desc(schema.invoices.createdAt), limit }),
    payments: (limit = 100) => selectScoped(db, scope, schema.payments, { orderBy: desc(schema.payments.createdAt), limit }),
    tickets: () => selectScoped(db, scope, schema.supportTickets, { orderBy: desc(schema.supportTickets.createdAt) }),
    backtests: (limit = 50) => selectScoped(db, scope, schema.backtests, { orderBy: desc(schema.backtests.createdAt), limit }),
  };
}
export type TenantData = ReturnType<typeof tenantData>;
