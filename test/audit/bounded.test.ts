import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAudit,
  boundAuditJson,
  canonicalJson,
  MAX_AUDIT_JSON_CHARS,
  sha256Hex,
  storableText,
  verifyAuditChain,
} from '../../audit/index.ts';
import { queryRows } from '../../db/index.ts';
import { toolNameForAudit } from '../../tools/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// What a model or a caller sends is kept in the audit log in a form the database stores and
// a reader can use: a megabyte of arguments as its first 4 KiB with the SHA-256 of the whole,
// NUL and broken characters as their escapes, junk tool names escaped and cut. The chain
// still verifies.

describe('bounded audit values', () => {
  it('keeps JSON up to the limit whole, and beyond it the head with the length and digest of the whole', () => {
    const small = { reason: 'x'.repeat(100) };
    expect(boundAuditJson(small)).toBe(small);
    const big = { paymentId: 'all', reason: 'x'.repeat(1_000_000) };
    const text = canonicalJson(big);
    expect(boundAuditJson(big)).toEqual({
      truncated: true,
      chars: text.length,
      sha256: sha256Hex(text),
      head: text.slice(0, MAX_AUDIT_JSON_CHARS),
    });
  });

  it('escapes what PostgreSQL cannot store, and only that', () => {
    expect(storableText('refund_payment\u0000')).toBe('refund_payment\\u0000');
    expect(storableText('a\uD800b')).toBe('a\\ud800b');
    expect(storableText('ação 😀 ok')).toBe('ação 😀 ok');
  });

  it('writes junk tool names escaped and at most 100 characters', () => {
    expect(toolNameForAudit('refund_payment\u0000')).toBe('refund_payment\\u0000');
    expect(toolNameForAudit('list_plans\n')).toBe('list_plans\\n');
    expect(toolNameForAudit('')).toBe('(empty)');
    expect(toolNameForAudit('x'.repeat(5_000))).toHaveLength(100);
  });
});

describe.each(testDrivers)('audit rows from hostile input (%s)', (driver) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('stores a 1 MB argument bounded, NUL in names and values escaped, and the chain verifies', async () => {
    const first = await appendAudit(test.handle.db, {
      actorKind: 'agent',
      actorId: 'model\u0000',
      action: 'tool.call',
      tool: 'refund_payment\u0000',
      args: { reason: 'y'.repeat(1_000_000), 'k\u0000': 'v\u0000\uDC00' },
      outcome: 'denied',
      details: { note: 'n'.repeat(10_000) },
    });
    await appendAudit(test.handle.db, { actorKind: 'system', actorId: 'test', action: 'after', outcome: 'ok' });
    const [row] = await queryRows<{
      tool: string;
      actor_id: string;
      args_chars: number;
      args: { truncated: boolean; chars: number };
      details: { truncated: boolean };
    }>(
      test.handle.db,
      sql`select tool, actor_id, length(args::text)::int as args_chars, args, details from audit_log where id = ${first.id}`,
    );
    expect(row!.tool).toBe('refund_payment\\u0000');
    expect(row!.actor_id).toBe('model\\u0000');
    expect(row!.args.truncated).toBe(true);
    expect(row!.args.chars).toBeGreaterThan(1_000_000);
    expect(row!.args_chars).toBeLessThan(MAX_AUDIT_JSON_CHARS + 300);
    expect(row!.details.truncated).toBe(true);
    expect(await verifyAuditChain(test.handle.db)).toMatchObject({ ok: true });
    // A small value with escapes is kept whole and readable.
    const second = await appendAudit(test.handle.db, {
      actorKind: 'agent',
      action: 'tool.call',
      tool: 'x',
      args: { 'k\u0000': 'v\u0000\uDC00' },
      outcome: 'denied',
    });
    const [small] = await queryRows<{ args: Record<string, string> }>(
      test.handle.db,
      sql`select args from audit_log where id = ${second.id}`,
    );
    expect(small!.args).toEqual({ 'k\\u0000': 'v\\u0000\\udc00' });
    expect(await verifyAuditChain(test.handle.db)).toMatchObject({ ok: true });
  });
});
