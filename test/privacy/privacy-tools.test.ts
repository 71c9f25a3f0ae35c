import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TOOLSETS, answerOffline, routeMessage } from '../../agents/index.ts';
import { verifyAuditChain } from '../../audit/index.ts';
import { BillingService } from '../../billing/index.ts';
import { queryRows, type Database } from '../../db/index.ts';
import { renderNotification } from '../../notifications/index.ts';
import { emailLookupDigest } from '../../privacy/index.ts';
import {
  actorForEmail,
  ceoEmail,
  decideApproval,
  FOUR_EYES_SETTING,
  invokeTool,
  pendingApprovalsFor,
  TOOLS,
  type Actor,
  type ToolContext,
} from '../../tools/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';
import { ceoActor, NOW, seedDemo } from '../support/workflow-fixture.ts';
import { SECRET_COLUMNS } from '../support/secret-columns.ts';

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
    // The Security agent carries both (agents/toolsets.ts), within its 8 tools.
    expect(routeMessage('security', 'export the data of ana@example.com')).toMatchObject({
      tool: 'privacy_export',
      args: { email: 'ana@example.com' },
    });
    expect(AGENT_TOOLSETS.security).toEqual(expect.arrayContaining(['privacy_export', 'privacy_erase']));
    expect(AGENT_TOOLSETS.security.length).toBeLessThanOrEqual(8);
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
    // Refused, the request about another person is audited with the address's keyed digest only.
    const [refusedErase] = await queryRows<{ args: string }>(
      db,
      sql`select args::text as args from audit_log where tool = 'privacy_erase' and outcome = 'denied' order by id desc limit 1`,
    );
    expect(refusedErase!.args).toContain(emailLookupDigest(traders[2]!));
    expect(refusedErase!.args.toLowerCase()).not.toContain(traders[2]!.toLowerCase());
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

    // Once that person is erased, the export's approval keeps neither their email nor their name — its result included.
    const [person] = await queryRows<{ name: string }>(db, sql`select name from users where lower(email) = ${traders[2]!}`);
    expect(JSON.stringify(result)).toContain(person!.name);
    expect(await invokeTool(TOOLS, ctxFor(head), 'privacy_erase', { email: traders[2] })).toMatchObject({ ok: true });
    const [after] = await queryRows<{ row: string }>(
      db,
      sql`select (args::text || summary || coalesce(decision_note, '') || coalesce(result::text, '')) as row from approvals
          where id = ${exportTurn.actions[0]!.approvalId!}::uuid`,
    );
    expect(after!.row.toLowerCase()).not.toContain(traders[2]!);
    expect(after!.row).not.toContain(person!.name);
    expect(after!.row).toMatch(/erased-[0-9a-f]{12}@erased\.invalid/);
    // The export stored for the CEO was a copy of that person's data: the erasure deleted it.
    expect(result).toMatchObject({ delivered: { approvalId: exportTurn.actions[0]!.approvalId! } });
    expect(
      await invokeTool(TOOLS, ctxFor(ceo), 'privacy_export_document', { approvalId: exportTurn.actions[0]!.approvalId! }),
    ).toMatchObject({ ok: false, error: 'not_found', message: /no longer kept/ });
    expect(
      await queryRows(db, sql`select 1 from documents where slug = ${`privacy-export-${exportTurn.actions[0]!.approvalId!}`}`),
    ).toEqual([]);
  });

  it('an export asked of the Security agent and approved is stored for the person who asked, told to them, and fetched by them alone', async () => {
    const member = await staffOf(db, 'security', 'member');
    const head = await staffOf(db, 'security', 'head');
    const ceo = await ceoActor(db);
    const target = traders[0]!;
    const [person] = await queryRows<{ name: string }>(db, sql`select name from users where lower(email) = ${target}`);
    const turn = await answerOffline(ctxFor(member), 'security', `exporte os dados de ${target}`);
    expect(turn.actions).toMatchObject([{ tool: 'privacy_export', status: 'awaiting_approval' }]);
    const approvalId = turn.actions[0]!.approvalId!;
    const fetch = (actor: Actor, id = approvalId) => invokeTool(TOOLS, ctxFor(actor), 'privacy_export_document', { approvalId: id });
    // Nothing to fetch before the decision.
    expect(await fetch(member)).toMatchObject({ ok: false, error: 'not_found', message: /not made: the approval is pending/ });

    const decided = await decideApproval(TOOLS, { db, billing, now: () => NOW }, head, approvalId, 'approve');
    expect(decided).toMatchObject({ decided: true, status: 'executed' });
    const delivered = (decided as { outcome: { result: { delivered: Record<string, unknown>; document?: unknown } } }).outcome.result;
    expect(delivered.document).toBeUndefined();
    expect(delivered.delivered).toMatchObject({
      approvalId,
      document: `privacy-export-${approvalId}`,
      to: (member as { userId: string }).userId,
    });

    // Kept where the company keeps documents, authored by the requester, titled without the person.
    const [stored] = await queryRows<{ category: string; status: string; title: string; author: string; sha256: string; body: string }>(
      db,
      sql`select d.category, d.status::text as status, v.title, v.author_staff_id::text as author, v.sha256, v.body
          from documents d join document_versions v on v.document_id = d.id where d.slug = ${`privacy-export-${approvalId}`}`,
    );
    expect(stored).toMatchObject({ category: 'privacy-export', status: 'draft', author: (member as { staffId: string }).staffId });
    expect(stored!.title.toLowerCase()).not.toContain(target);
    expect(stored!.title).not.toContain(person!.name);

    // The requester is told, without the person's data, how to fetch it.
    const notices = await queryRows<{ recipient: string; payload: unknown }>(
      db,
      sql`select recipient_user_id::text as recipient, payload from notifications where type = 'privacy_export_ready' and dedupe_key = ${`privacy-export:${approvalId}`}`,
    );
    expect(notices.length).toBeGreaterThan(0);
    for (const notice of notices) {
      expect(notice.recipient).toBe((member as { userId: string }).userId);
      expect(JSON.stringify(notice.payload).toLowerCase()).not.toContain(target);
      const text = renderNotification('privacy_export_ready', notice.payload, 'en').text;
      expect(text).toContain(`privacy export --approval ${approvalId}`);
      expect(text).toContain(`/api/v1/privacy/exports/${approvalId}`);
    }

    // The requester fetches the whole document; it holds no secret.
    const fetched = await fetch(member);
    expect(fetched).toMatchObject({ ok: true, result: { approvalId, document: `privacy-export-${approvalId}`, sha256: stored!.sha256 } });
    const text = (fetched as { result: { text: string } }).result.text;
    expect(text).toBe(stored!.body);
    const document = JSON.parse(text) as { format: string; subject: { email: string }; data: Record<string, { columns: string[] }> };
    expect(document.format).toBe('botcriptofy.person-export/2');
    expect(document.subject.email).toBe(target);
    expect(document.data.invoices!.columns.length).toBeGreaterThan(0);
    for (const [table, { columns }] of Object.entries(document.data))
      for (const secret of SECRET_COLUMNS) expect(columns, `${table}.${secret}`).not.toContain(secret);
    expect(text).not.toMatch(/"v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);

    // Nobody else: not the head who approved it, not the CEO; and no company-document tool reaches it.
    expect(await fetch(head)).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await fetch(ceo)).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await fetch(member, '00000000-0000-4000-8000-000000000000')).toMatchObject({ ok: false, error: 'not_found' });
    const documentsMember = await staffOf(db, 'documents', 'member');
    const slug = `privacy-export-${approvalId}`;
    expect(await invokeTool(TOOLS, ctxFor(documentsMember), 'get_document', { slug })).toMatchObject({ ok: false, error: 'not_found' });
    expect(await invokeTool(TOOLS, ctxFor(documentsMember), 'document_history', { slug })).toMatchObject({ ok: false, error: 'not_found' });
    const search = await invokeTool(TOOLS, ctxFor(documentsMember), 'search_documents', { query: 'Exportação de dados pessoais' });
    expect(JSON.stringify(search)).not.toContain('privacy-export-');
    const published = await invokeTool(TOOLS, ctxFor(documentsMember), 'publish_document', { slug, body: 'replaced text of the export' });
    expect(published).toMatchObject({ ok: false, error: 'forbidden' });

    // Audited: the fetch and the refusals, by approval id only.
    const audited = await queryRows<{ outcome: string; args: string }>(
      db,
      sql`select outcome, args::text as args from audit_log where tool = 'privacy_export_document' and args ->> 'approvalId' = ${approvalId} order by id`,
    );
    expect(audited.map((row) => row.outcome)).toEqual(['denied', 'ok', 'denied', 'denied']);
    for (const row of audited) expect(row.args.toLowerCase()).not.toContain(target);
  });

  it('an email that names no one, looked up, leaves no lasting trace: erasing it redacts the lookup', async () => {
    const member = await staffOf(db, 'documents', 'member');
    const ghost = 'ghost.person@example.com';
    expect(await invokeTool(TOOLS, ctxFor(member), 'privacy_export', { email: ghost })).toMatchObject({ ok: false, error: 'not_found' });
    await db.execute(
      sql`insert into security_events (type, severity, ip, details, occurred_at)
          values ('login_failed', 'low', '198.51.100.99', ${JSON.stringify({ email: ghost })}::jsonb, ${NOW.toISOString()}::timestamptz)`,
    );
    const naming = async () =>
      (
        await queryRows<{ n: number }>(
          db,
          sql`select (select count(*)::int from audit_log where strpos(lower(coalesce(args::text, '') || coalesce(details::text, '')), ${ghost}) > 0)
                + (select count(*)::int from security_events where strpos(lower(details::text), ${ghost}) > 0 or ip = '198.51.100.99') as n`,
        )
      )[0]!.n;
    expect(await naming()).toBe(1);
    // The refused lookup is audited with the address's keyed digest, never the address (privacy/lookup.ts).
    const [lookup] = await queryRows<{ row: string }>(
      db,
      sql`select (coalesce(args::text, '') || coalesce(details::text, '')) as row from audit_log
          where tool = 'privacy_export' and outcome = 'denied' order by id desc limit 1`,
    );
    expect(lookup!.row).toContain(emailLookupDigest(ghost));
    expect(lookup!.row.toLowerCase()).not.toContain(ghost);
    const head = await staffOf(db, 'security', 'head');
    const erased = await invokeTool(TOOLS, ctxFor(head), 'privacy_erase', { email: ghost });
    expect(erased).toMatchObject({ ok: true });
    expect((erased as { result: { redactedAuditRows: number; personFound: boolean } }).result).toMatchObject({ personFound: false });
    expect((erased as { result: { redactedAuditRows: number } }).result.redactedAuditRows).toBeGreaterThanOrEqual(1);
    expect(await naming()).toBe(0);
    // The erasure redacted the digest too: nothing left confirms the address was asked about.
    const digests = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from audit_log where strpos(coalesce(args::text, '') || coalesce(details::text, ''), ${emailLookupDigest(ghost)}) > 0`,
    );
    expect(digests[0]!.n).toBe(0);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('nobody decides an erasure they asked for, or of themselves, whatever four-eyes says; an erased CEO is no default actor', async () => {
    // Four-eyes switched off for erasures changes nothing.
    await db.execute(sql`delete from config_entries where key = ${FOUR_EYES_SETTING}`);
    await db.execute(
      sql`insert into config_entries (key, value, description) values (${FOUR_EYES_SETTING}, ${JSON.stringify({ privacy_erase: false })}::jsonb, 'four-eyes per action')`,
    );
    const ctx = { db, billing, now: () => NOW };
    const ceo = await ceoActor(db);
    const head = await staffOf(db, 'security', 'head');
    // The Security head asks (through the agent) to erase a trader: the head may not decide it, the CEO may.
    const turn = await answerOffline(ctxFor(head), 'security', `apague os dados de ${traders[0]}`);
    const asked = turn.actions[0]!.approvalId!;
    for (const decision of ['approve', 'reject'] as const)
      expect(await decideApproval(TOOLS, ctx, head, asked, decision)).toMatchObject({
        decided: false,
        reason: /asked for this erasure yourself/,
      });
    expect((await pendingApprovalsFor(db, TOOLS, head, NOW)).map((a) => a.id)).not.toContain(asked);
    expect(await decideApproval(TOOLS, ctx, ceo, asked, 'reject')).toMatchObject({ decided: true, status: 'rejected' });

    // The CEO asks to erase themselves: an approval they may not decide; the Security head decides it.
    const ceoEmailBefore = (await ceoEmail(db))!;
    const own = await invokeTool(TOOLS, ctxFor(ceo), 'privacy_erase', { email: ceoEmailBefore });
    expect(own).toMatchObject({ ok: true, pendingApproval: { approverDepartment: 'security' } });
    const ownId = (own as { pendingApproval: { id: string } }).pendingApproval.id;
    expect(await decideApproval(TOOLS, ctx, ceo, ownId, 'approve')).toMatchObject({ decided: false, reason: /yourself/ });
    // Asked by someone else, the person to be erased still may not decide it.
    const other = await answerOffline(ctxFor(head), 'security', `apague os dados de ${ceoEmailBefore}`);
    const otherId = other.actions[0]!.approvalId!;
    expect(await decideApproval(TOOLS, ctx, ceo, otherId, 'approve')).toMatchObject({ decided: false, reason: /your own data/ });
    expect((await pendingApprovalsFor(db, TOOLS, ceo, NOW)).map((a) => a.id)).not.toEqual(expect.arrayContaining([ownId]));
    const denied = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from audit_log where action = 'approval.decide' and outcome = 'denied' and details->>'reason' = 'conflict_of_interest'`,
    );
    expect(denied[0]!.n).toBe(4);
    expect(await decideApproval(TOOLS, ctx, head, ownId, 'approve')).toMatchObject({ decided: true, status: 'executed' });
    // The CLI's default person was the CEO: now erased, it is nobody's default, said plainly.
    await expect(ceoEmail(db)).rejects.toThrow(/CEO's account .* is disabled or erased.*pass --as EMAIL/);
    await db.execute(sql`delete from config_entries where key = ${FOUR_EYES_SETTING}`);
  });
});
