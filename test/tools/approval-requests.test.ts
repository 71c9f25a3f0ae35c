import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenants } from '../../db/index.ts';
import {
  approvalStatuses,
  findApprovalFor,
  findFreezeRequest,
  getApproval,
  pendingApprovalsAt,
  requestApproval,
} from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// The approval functions the workflows use instead of the table (issue 20): a workflow's own
// request (requestApproval), found again by an argument (findApprovalFor) or, for a freeze, by
// the incident's marker or a pending request for the same trader (findFreezeRequest).

describe('approvals asked and found outside invokeTool', () => {
  let test: TestDatabase;
  let tenantId: string;
  const now = new Date('2026-11-01T12:00:00Z');
  const later = new Date(now.getTime() + 48 * 3_600_000);

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    const [tenant] = await test.handle.db.insert(tenants).values({ kind: 'trader', name: 'Trader' }).returning({ id: tenants.id });
    tenantId = tenant!.id;
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('requestApproval stores a pending approval in the tenant; findApprovalFor finds the newest by an argument', async () => {
    const db = test.handle.db;
    expect(await findApprovalFor(db, 'start_bot', 'botId', 'bot-1')).toBeUndefined();
    const request = {
      tenantId,
      requestedByUserId: null,
      agent: 'workflow:test',
      tool: 'start_bot',
      args: { botId: 'bot-1', email: 'a@example.com' },
      summary: 'start bot-1',
      approverDepartment: 'security' as const,
      expiresAt: later,
    };
    const first = await requestApproval(db, request);
    const stored = await getApproval(db, first);
    expect(stored).toMatchObject({ tenantId, tool: 'start_bot', status: 'pending', agent: 'workflow:test', summary: 'start bot-1' });
    expect(await findApprovalFor(db, 'start_bot', 'botId', 'bot-1')).toEqual({ id: first, status: 'pending' });
    expect(await findApprovalFor(db, 'start_bot', 'botId', 'bot-2')).toBeUndefined();
    expect(await findApprovalFor(db, 'stop_bot', 'botId', 'bot-1')).toBeUndefined();
    expect(await approvalStatuses(db, [first])).toEqual([{ id: first, status: 'pending', expiresAt: later }]);
    expect(await approvalStatuses(db, [])).toEqual([]);
    const pending = await pendingApprovalsAt(db, now);
    expect(pending.count).toBe(1);
    expect(pending.oldest).toBeInstanceOf(Date);
    expect(await pendingApprovalsAt(db, later)).toEqual({ count: 0, oldest: null });
  });

  it('findFreezeRequest finds the incident’s request (any case of the email), or a pending one for the trader', async () => {
    const db = test.handle.db;
    const freeze = (reason: string) => ({
      tenantId,
      requestedByUserId: null,
      agent: 'test',
      tool: 'freeze_api_key',
      args: { email: 'Trader@Example.com', reason },
      summary: 'freeze',
      approverDepartment: 'security' as const,
      expiresAt: later,
    });
    expect(await findFreezeRequest(db, 'trader@example.com', '[incident:abc]')).toBeUndefined();
    const id = await requestApproval(db, freeze('keys used from a new country [incident:abc]'));
    expect(await findFreezeRequest(db, 'trader@example.com', '[incident:abc]')).toEqual({ id, status: 'pending' });
    // Another incident joins the pending request for the same trader.
    expect(await findFreezeRequest(db, 'TRADER@example.com', '[incident:other]')).toEqual({ id, status: 'pending' });
    expect(await findFreezeRequest(db, 'someone@example.com', '[incident:abc]')).toBeUndefined();
  });
});
