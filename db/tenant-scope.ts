import { and, eq, getTableColumns, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Database } from './client.ts';
import { ProductError } from '../errors/index.ts';

declare const tenantScopeBrand: unique symbol;

/**
 * Proof that the caller has decided whose data it may touch. Only `tenantScope()` makes
 * one, and every data-access function for tenant-owned rows requires one, so "forgot to
 * filter by tenant" cannot compile, and a forged object is refused at run time.
 */
export interface TenantScope {
  readonly tenantId: string;
  readonly [tenantScopeBrand]: true;
}

const issuedScopes = new WeakSet<object>();
const tenantIdSchema = z.uuid({ error: 'tenant scope needs a tenant id (UUID)' });

export function tenantScope(tenantId: string): TenantScope {
  const scope = Object.freeze({ tenantId: tenantIdSchema.parse(tenantId) });
  issuedScopes.add(scope);
  return scope as unknown as TenantScope;
}

export class TenantScopeError extends ProductError {
  readonly category = 'forbidden' as const;
  constructor() {
    super('Refused: tenant-owned data needs a TenantScope made by tenantScope()');
    this.name = 'TenantScopeError';
  }
}

export function assertTenantScope(scope: unknown): asserts scope is TenantScope {
  if (typeof scope !== 'object' || scope === null || !issuedScopes.has(scope)) throw new TenantScopeError();
}

/** Any table whose rows belong to one tenant. */
export type TenantOwnedTable = PgTable & { readonly tenantId: AnyPgColumn };

export interface ScopedQueryOptions {
  readonly where?: SQL | undefined;
  readonly orderBy?: SQL | AnyPgColumn | readonly (SQL | AnyPgColumn)[];
  readonly limit?: number;
}

/** Rows of `table` that belong to the scope's tenant, and no others. */
export async function selectScoped<T extends TenantOwnedTable>(
  db: Database,
  scope: TenantScope,
  table: T,
  options: ScopedQueryOptions = {},
): Promise<T['$inferSelect'][]> {
  assertTenantScope(scope);
  let query = db
    .select()
    .from(table as PgTable)
    .where(and(eq(table.tenantId, scope.tenantId), options.where))
    .$dynamic();
  if (options.orderBy !== undefined) {
    const order = Array.isArray(options.orderBy) ? options.orderBy : [options.orderBy];
    query = query.orderBy(...(order as (SQL | AnyPgColumn)[]));
  }
  if (options.limit !== undefined) query = query.limit(options.limit);
  return (await query) as T['$inferSelect'][];
}

/** One row by id, only if it belongs to the scope's tenant. */
export async function getScoped<T extends TenantOwnedTable & { readonly id: AnyPgColumn }>(
  db: Database,
  scope: TenantScope,
  table: T,
  id: string,
): Promise<T['$inferSelect'] | undefined> {
  const [row] = await selectScoped(db, scope, table, { where: eq(table.id, id), limit: 1 });
  return row;
}

/** Inserts rows stamped with the scope's tenant, whatever tenant id the values carried. */
export async function insertScoped<T extends TenantOwnedTable>(
  db: Database,
  scope: TenantScope,
  table: T,
  values: Omit<T['$inferInsert'], 'tenantId'> | readonly Omit<T['$inferInsert'], 'tenantId'>[],
): Promise<T['$inferSelect'][]> {
  assertTenantScope(scope);
  const list = (Array.isArray(values) ? values : [values]) as Record<string, unknown>[];
  if (list.length === 0) return [];
  const rows = list.map((value) => ({ ...value, tenantId: scope.tenantId }));
  return (await db
    .insert(table as PgTable)
    .values(rows as never)
    .returning()) as T['$inferSelect'][];
}

/** Whether a table has a tenant column (used to list every tenant-owned table). */
export function isTenantOwned(table: PgTable): table is TenantOwnedTable {
  const tenantColumn = getTableColumns(table)['tenantId'];
  return tenantColumn?.notNull === true;
}
