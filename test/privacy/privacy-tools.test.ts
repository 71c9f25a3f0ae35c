import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOffline, routeMessage } from '../../agents/index.ts';
import { verifyAuditChain } from '../../audit/index.ts';
import { BillingService } from '../../billing/index.ts';
import { queryRows, type Database } from '../../db/index.ts';
import { actorForEmail, decideApproval, invokeTool, TOOLS, type Actor, type ToolContext } from '../../tools/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';
import { ceoActor, NOW, seedDemo } from '../support/workflow-fixture.ts';

// Issue 18: privacy_export and privacy_erase as tools — who may ask, the Security head's (or the
// CEO's) approval when an agent asks, and the agents' routes to them.

async function staffOf(db: Database, department: string, role: 'head' | 'member'): Promise<Actor> {
  const [row] = await queryRows<{ email: string }>(
    db,
    sql`select u.email from staff s join users u on u.id = s.user_id where s.department = ${department} and s.role = ${role} order by u.email limit 1`,
  );
  return (await actorForEmail(db, row!.email))!;
}

describe.each(testDrivers)('privacy tools on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let billing: BillingService;
  const ctxFor = (actor: Actor, agent?: string): ToolContext => ({ db, actor, billing, now: () => NOW, ...(agent ? { agent } : {}) });
  const traders: string[] = [];

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.handle.db;
    billing = new BillingService(db, undefined);
    await seedDemo(db, 10);
    const rows = await queryRows<{ email: string }>(
      db,
      sql`select u.email from users u join tenants t on t.id = u.tenant_id where t.kind = 'trader' order by u.email limit 3`,
    );
    traders.push(...rows.map((r) => r.email));
  }, 180_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('the agents route "export the data of X" and "apague os dados de X" to them', () => {
    expect(routeMessage('documents', 'exporte os dados de ana@example.com')).toMatchObject({
      tool: 'privacy_export',
      args: { email: 'ana@example.com' },
    });
    expect(routeMessage('ceo', 'export the data of ana@example.com')).toMatchObject({ tool: 'privacy_export' });
    expect(routeMessage('security', 'apague os dados de ana@example.com')).toMatchObject({
      tool: 'privacy_erase',
      args: { email: 'ana@example.com' },
    });
    expect(routeMessage('documents', 'erase the data of ana@example.com')).toMatchObject({ tool: 'privacy_erase' });
    // A question is not an erasure.
    expect(routeMessage('security', 'quais dados temos de ana@example.com?')?.tool).not.toBe('privacy_erase');
  });

  it('a documents member at a door gets the document at once; marketing may not ask', async () => {
    const member = await staffOf(db, 'documents', 'member');
    const outcome = await invokeTool(TOOLS, ctxFor(member), 'privacy_export', { email: traders[0] });
    expect(outcome.ok && 'result' in outcome).toBe(true);
    const result = (outcome as { result: { email: string; counts: Record<string, number>; document: { format: string } } }).result;
    expect(result.email).toBe(traders[0]);
    expect(result.document.format).toBe('botcriptofy.person-export/2');
    expect(result.counts.invoices).toBeGreaterThan(0);
    const marketing = await staffOf(db, 'marketing', 'member');
    const refused = await invokeTool(TOOLS, ctxFor(marketing), 'privacy_erase', { email: traders[0] });
    expect(refused).toMatchObject({ ok: false, error: 'forbidden' });
    const unknown = await invokeTool(TOOLS, ctxFor(member), 'privacy_export', { email: 'nobody@example.com' });
    expect(unknown).toMatchObject({ ok: false, error: 'not_found' });
  });

  it('a trader asks about themselves: gets their own export at once, their own erasure waits for approval, another person is refused', async () => {
    const trader = (await actorForEmail(db, traders[0]!))!;
    expect(trader.kind).toBe('trader');
    const own = await invokeTool(TOOLS, ctxFor(trader), 'privacy_export', { email: traders[0] });
    expect(own.ok && 'result' in own && (own.result as { email: string }).email).toBe(traders[0]);
    const other = await invokeTool(TOOLS, ctxFor(trader), 'privacy_export', { email: traders[2] });
    expect(other).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await invokeTool(TOOLS, ctxFor(trader), 'privacy_erase', { email: traders[2] })).toMatchObject({
      ok: false,
      error: 'forbidden',
    });
    // Erasing oneself, even at a door, is an approval for the Security head or the CEO; nothing erased yet.
    const erase = await invokeTool(TOOLS, ctxFor(trader), 'privacy_erase', { email: traders[0] });
    expect(erase).toMatchObject({ ok: true, pendingApproval: { approverDepartment: 'security' } });
    expect(await queryRows(db, sql`select 1 from users where lower(email) = ${traders[0]!}`)).toHaveLength(1);
    const ceo = await ceoActor(db);
    const decided = await decideApproval(
      TOOLS,
      { db, billing, now: () => NOW },
      ceo,
      (erase as { pendingApproval: { id: string } }).pendingApproval.id,
      'reject',
    );
    expect(decided).toMatchObject({ decided: true });
  });

  it('through an agent both wait for the Security head or the CEO; the approved erasure keeps no email anywhere', async () => {
    const ceo = await ceoActor(db);
    const target = traders[1]!;
    // "apague os dados de X" to the Security agent, offline: an approval, nothing erased yet.
    const securityMember = await staffOf(db, 'security', 'member');
    const turn = await answerOffline(ctxFor(securityMember), 'security', `apague os dados de ${target}`);
    expect(turn.toolCalls).toMatchObject([{ tool: 'privacy_erase', ok: true }]);
    expect(turn.actions).toMatchObject([{ tool: 'privacy_erase', status: 'awaiting_approval' }]);
    const approvalId = turn.actions[0]!.approvalId!;
    const stillThere = await queryRows(db, sql`select 1 from users where lower(email) = ${target}`);
    expect(stillThere).toHaveLength(1);

    // A member may not decide; the Security head may.
    expect(await decideApproval(TOOLS, { db, billing, now: () => NOW }, securityMember, approvalId, 'approve')).toMatchObject({
      decided: false,
    });
    const head = await staffOf(db, 'security', 'head');
    const decision = await decideApproval(TOOLS, { db, billing, now: () => NOW }, head, approvalId, 'approve');
    expect(decision).toMatchObject({ decided: true, status: 'executed' });
    expect(await queryRows(db, sql`select 1 from users where lower(email) = ${target}`)).toHaveLength(0);
    // Neither the approval row nor any audit row still holds the email; the chain verifies.
    const leftovers = await queryRows<{ n: number }>(
      db,
      sql`select (select count(*)::int from approvals where strpos(lower(args::text || summary || coalesce(result::text, '')), ${target}) > 0)
            + (select count(*)::int from audit_log where strpos(lower(coalesce(args::text, '') || coalesce(details::text, '')), ${target}) > 0) as n`,
    );
    expect(leftovers[0]!.n).toBe(0);
    expect((await verifyAuditChain(db)).ok).toBe(true);

    // An export asked of the CEO's agent waits too; approved, the approval keeps the summary, not the document.
    const exportTurn = await answerOffline(ctxFor(ceo), 'ceo', `export the data of ${traders[2]}`);
    expect(exportTurn.actions).toMatchObject([{ tool: 'privacy_export', status: 'awaiting_approval' }]);
    const exported = await decideApproval(TOOLS, { db, billing, now: () => NOW }, ceo, exportTurn.actions[0]!.approvalId!, 'approve');
    expect(exported).toMatchObject({ decided: true, status: 'executed' });
    const [kept] = await queryRows<{ result: unknown }>(
      db,
      sql`select result from approvals where id = ${exportTurn.actions[0]!.approvalId!}::uuid`,
    );
    const result = (typeof kept!.result === 'string' ? JSON.parse(kept!.result) : kept!.result) as Record<string, unknown>;
    expect(result).toHaveProperty('summary');
    expect(result).not.toHaveProperty('document');
  });
});
