import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../../audit/index.ts';
import { queryRows, type Database } from '../../db/index.ts';
import {
  applyRetention,
  DEFAULT_RETENTION,
  EXPORT_EXCLUDED,
  erasePerson,
  exportTableObjects,
  exportPersonData,
  writePersonExport,
  PersonNotFoundError,
  recordConsent,
  consentsOf,
  parseRetentionSchedule,
  retentionScheduleSchema,
  RetentionScheduleError,
  runRetention,
} from '../../privacy/index.ts';
import { ManualClock } from '../../clock/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';
import { DEMO_AS_OF, NOW, seedDemo } from '../support/workflow-fixture.ts';
import { SECRET_COLUMNS } from '../support/secret-columns.ts';

// Issue 18: a person's data exported whole and erased on request, on both drivers.

/**
 * A column that names or points at a person: emails, names, user and staff ids, tenants (a
 * trader's tenant is the trader), Telegram ids, addresses, conversation owners; and, so a table
 * added later is caught too, any *_email, phone, postal address, CPF or birth date column.
 */
const PERSON_COLUMN =
  /^(email|name|handle|username|identifier|ip|ip_address|user_agent|resource_id|principal|tenant_id|telegram_user_id|chat_id|country|stripe_customer_id)$|(^|_)user_id$|_staff_id$|^converted_tenant_id$|(^|_)(email|phone|mobile|address|cpf|tax_id|birth_date|full_name|first_name|last_name)$/;

/** The columns of every table of the migrated schema. */
async function schemaColumns(db: Database): Promise<Map<string, string[]>> {
  const rows = await queryRows<{ table_name: string; column_name: string }>(
    db,
    sql`select c.table_name, c.column_name from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.table_name not like '\\_\\_%' escape '\\'`,
  );
  const tables = new Map<string, string[]>();
  for (const row of rows) tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
  return tables;
}

interface Person {
  email: string;
  name: string;
  userId: string;
  tenantId: string;
}

/** Money the law keeps: what erasure must not change. */
async function financialTotals(db: Database, tenantId: string) {
  const [row] = await queryRows<Record<string, string>>(
    db,
    sql`select
      (select count(*) from invoices where tenant_id = ${tenantId}::uuid)::text as invoices,
      (select coalesce(sum(amount_due_cents), 0) from invoices where tenant_id = ${tenantId}::uuid)::text as invoiced_cents,
      (select count(*) from payments where tenant_id = ${tenantId}::uuid)::text as payments,
      (select coalesce(sum(amount_cents), 0) from payments where tenant_id = ${tenantId}::uuid)::text as paid_cents,
      (select count(*) from trades where tenant_id = ${tenantId}::uuid)::text as trades,
      (select coalesce(sum(profit_quote), 0) from trades where tenant_id = ${tenantId}::uuid)::text as profit_quote,
      (select count(*) from orders where tenant_id = ${tenantId}::uuid)::text as orders,
      (select count(*) from subscriptions where tenant_id = ${tenantId}::uuid)::text as subscriptions`,
  );
  return row;
}

describe.each(testDrivers)('privacy requests on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;
  let trader: Person;
  const telegramUserId = 987_654_321_012n;
  const ip = '203.0.113.77';
  const typedIp = '198.51.100.23';
  let staffId: string;
  let otherLeadId: string;
  let draftId: string;
  let documentId: string;
  let versionId: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.handle.db;
    await seedDemo(db, 40);
    // A trader with invoices, payments, trades and a bot, who also talks to the agents on Telegram.
    const [row] = await queryRows<{ email: string; name: string; id: string; tenant_id: string }>(
      db,
      sql`select u.email, u.name, u.id, u.tenant_id from users u join tenants t on t.id = u.tenant_id
          where t.kind = 'trader'
            and exists (select 1 from trades x where x.tenant_id = u.tenant_id)
            and exists (select 1 from payments p where p.tenant_id = u.tenant_id)
            and exists (select 1 from exchange_accounts e where e.tenant_id = u.tenant_id)
          order by u.email limit 1`,
    );
    trader = { email: row!.email, name: row!.name, userId: row!.id, tenantId: row!.tenant_id };
    await db.execute(
      sql`insert into telegram_links (user_id, telegram_user_id, chat_id, username) values (${trader.userId}::uuid, ${telegramUserId}, ${telegramUserId}, 'trader_on_tg')`,
    );
    await db.execute(
      sql`insert into security_events (tenant_id, user_id, type, severity, ip, country, details, occurred_at)
          values (${trader.tenantId}::uuid, ${trader.userId}::uuid, 'login_succeeded', 'info', ${ip}, 'BR', ${JSON.stringify({ userAgent: 'Firefox' })}::jsonb, ${NOW.toISOString()}::timestamptz)`,
    );
    await db.execute(
      sql`insert into mastra_threads (id, resource_id, title, created_at, updated_at) values ('thread-privacy', ${trader.userId}, 'Meus robôs', ${NOW.toISOString()}::timestamptz, ${NOW.toISOString()}::timestamptz)`,
    );
    await db.execute(
      sql`insert into mastra_messages (id, thread_id, resource_id, role, content, created_at)
          values ('msg-privacy', 'thread-privacy', ${trader.userId}, 'user', ${JSON.stringify({ format: 2, parts: [{ type: 'text', text: `sou ${trader.name}, meu email é ${trader.email}` }] })}::jsonb, ${NOW.toISOString()}::timestamptz)`,
    );
    await db.execute(
      sql`insert into support_tickets (tenant_id, requester_user_id, subject, sla_due_at) values (${trader.tenantId}::uuid, ${trader.userId}::uuid, ${`Ajuda, ${trader.name}`}, ${NOW.toISOString()}::timestamptz)`,
    );
    await recordConsent(db, { email: trader.email, kind: 'terms', version: 'v3', granted: true, source: 'api' }, { now: () => DEMO_AS_OF });
    // Other people's rows that name them: a staff member's conversation with the Security agent
    // and its reply, another customer's ticket, a notification to the Security department.
    const [staffUser] = await queryRows<{ id: string }>(db, sql`select user_id as id from staff order by user_id limit 1`);
    staffId = staffUser!.id;
    await db.execute(
      sql`insert into mastra_threads (id, resource_id, title, created_at, updated_at) values ('thread-staff', ${staffId}, ${`Pedido sobre ${trader.email}`}, ${NOW.toISOString()}::timestamptz, ${NOW.toISOString()}::timestamptz)`,
    );
    await db.execute(
      sql`insert into mastra_messages (id, thread_id, resource_id, role, content, created_at) values
          ('msg-staff-ask', 'thread-staff', ${staffId}, 'user', ${JSON.stringify({ format: 2, parts: [{ type: 'text', text: `exporte os dados de ${trader.email.toUpperCase()}` }] })}::jsonb, ${NOW.toISOString()}::timestamptz),
          ('msg-staff-reply', 'thread-staff', ${staffId}, 'assistant', ${JSON.stringify({ format: 2, parts: [{ type: 'text', text: `Os dados de ${trader.name} foram exportados (Telegram ${telegramUserId}, @trader_on_tg).` }] })}::jsonb, ${NOW.toISOString()}::timestamptz)`,
    );
    const [otherTenant] = await queryRows<{ id: string }>(
      db,
      sql`select id from tenants where kind = 'trader' and id <> ${trader.tenantId}::uuid order by id limit 1`,
    );
    const [otherTicket] = await queryRows<{ id: string }>(
      db,
      sql`insert into support_tickets (tenant_id, subject, sla_due_at) values (${otherTenant!.id}::uuid, 'Indicação', ${NOW.toISOString()}::timestamptz) returning id`,
    );
    await db.execute(
      sql`insert into ticket_messages (ticket_id, tenant_id, author_kind, body) values (${otherTicket!.id}::uuid, ${otherTenant!.id}::uuid, 'customer', ${`Quem me indicou foi ${trader.name}.`})`,
    );
    await db.execute(
      sql`insert into notifications (tenant_id, recipient_department, type, payload) values
          (${otherTenant!.id}::uuid, 'security', 'security_alert', ${JSON.stringify({ text: `Tentativas de acesso à conta de ${trader.email}` })}::jsonb)`,
    );
    // The company's working records that name them: another lead's notes, another trader's bot draft, a document.
    [{ id: otherLeadId }] = (await queryRows<{ id: string }>(
      db,
      sql`insert into leads (name, email, source, notes, lost_reason) values ('Outra Pessoa', 'outra.pessoa@example.com', 'indicação',
          ${`Indicada por ${trader.name} (${trader.email}), que usa o plano Pro.`}, ${`Preferiu o plano de ${trader.name}`}) returning id::text as id`,
    )) as [{ id: string }];
    [{ id: draftId }] = (await queryRows<{ id: string }>(
      db,
      sql`insert into bot_drafts (tenant_id, description, locale, name) values (${otherTenant!.id}::uuid,
          ${`quero um robô igual ao de ${trader.email}, RSI em BTC/USDT`}, 'pt-BR', ${`Robô como o de ${trader.name}`}) returning id::text as id`,
    )) as [{ id: string }];
    const documentBody = `Relato do incidente: ${trader.name} (${trader.email}) teve a conta acessada do IP ${ip}. Chaves congeladas.`;
    const [document] = await queryRows<{ id: string }>(
      db,
      sql`insert into documents (slug, title, category, status) values ('incidente-conta-trader', ${`Incidente — ${trader.name}`}, 'report', 'draft') returning id::text as id`,
    );
    documentId = document!.id;
    [{ id: versionId }] = (await queryRows<{ id: string }>(
      db,
      sql`insert into document_versions (document_id, version, title, body, sha256, change_note) values (${documentId}::uuid, 1,
          ${`Incidente — ${trader.name}`}, ${documentBody}, ${crypto.createHash('sha256').update(documentBody).digest('hex')}, ${`pedido de ${trader.email}`})
          returning id::text as id`,
    )) as [{ id: string }];
    // A failed sign-in typed with their address that matched no account (accounts/auth.ts keeps it only in details).
    await db.execute(
      sql`insert into security_events (type, severity, ip, details, occurred_at)
          values ('login_failed', 'low', ${typedIp}, ${JSON.stringify({ email: trader.email.toUpperCase() })}::jsonb, ${NOW.toISOString()}::timestamptz)`,
    );
    // Stripe's events about their customer: one with their email, one that names only the customer id.
    await db.execute(sql`update customers set stripe_customer_id = 'cus_privacytest' where tenant_id = ${trader.tenantId}::uuid`);
    const address = { line1: 'Rua Augusta 1500', city: 'São Paulo', postal_code: '01304-001', country: 'BR' };
    await db.execute(
      sql`insert into webhook_events (id, type, provider_created_at, payload, status) values
          ('evt_privacy_charge', 'charge.succeeded', ${NOW.toISOString()}::timestamptz, ${JSON.stringify({
            id: 'evt_privacy_charge',
            data: {
              object: {
                object: 'charge',
                customer: 'cus_privacytest',
                amount: 9900,
                receipt_email: trader.email,
                description: `Assinatura de ${trader.name}`,
                billing_details: { name: trader.name, email: trader.email, phone: '+55 11 98888-7777', address },
                shipping: { name: trader.name, phone: '+55 11 98888-7777', address },
                customer_tax_ids: [{ type: 'br_cpf', value: '123.456.789-09' }],
                mandate: { customer_acceptance: { online: { ip_address: '192.0.2.44', user_agent: 'Mozilla/5.0 (X11)' } } },
              },
            },
          })}::jsonb, 'processed'),
          ('evt_privacy_customer', 'customer.updated', ${NOW.toISOString()}::timestamptz, ${JSON.stringify({
            id: 'evt_privacy_customer',
            data: {
              object: {
                object: 'customer',
                id: 'cus_privacytest',
                name: 'Nome Noutro Cartão',
                phone: '+55 11 98888-7777',
                address,
                description: 'cliente desde 2024',
                items: [{ object: 'product', name: 'Plano Pro', description: 'Robôs ilimitados' }],
              },
            },
          })}::jsonb, 'processed')`,
    );
    // Audit rows naming them: their own tool call (what they said), staff acting on them, their Telegram link.
    await appendAudit(db, {
      tenantId: trader.tenantId,
      actorKind: 'trader',
      actorId: trader.userId,
      agent: 'support',
      action: 'tool.call',
      tool: 'answer_ticket',
      args: { message: `Aqui é ${trader.name}, me liga` },
      outcome: 'ok',
    });
    await appendAudit(db, {
      actorKind: 'staff',
      actorId: 'some-staff-user',
      action: 'tool.call',
      tool: 'freeze_api_key',
      args: { email: trader.email, reason: 'suspeita' },
      outcome: 'pending_approval',
    });
    await appendAudit(db, {
      actorKind: 'trader',
      actorId: trader.userId,
      action: 'telegram.link',
      outcome: 'ok',
      details: { telegramUserId: telegramUserId.toString() },
    });
  }, 180_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('exports every table with a column that names a person (or says why not)', async () => {
    const exported = await exportPersonData(db, trader.email, { now: () => NOW });
    const columns = await schemaColumns(db);
    const personTables = [...columns].filter(([, cols]) => cols.some((c) => PERSON_COLUMN.test(c))).map(([table]) => table);
    expect(personTables.length).toBeGreaterThan(30);
    const uncovered = personTables.filter((table) => !(table in exported.data) && !(table in EXPORT_EXCLUDED));
    expect(uncovered, `tables with a person column neither exported nor excluded: ${uncovered.join(', ')}`).toEqual([]);
    // An exclusion names a real table, so the list cannot hide a typo.
    for (const table of Object.keys(EXPORT_EXCLUDED)) expect(columns.has(table), table).toBe(true);

    // The trader's rows are there, table by table.
    for (const table of [
      'users',
      'tenants',
      'customers',
      'subscriptions',
      'invoices',
      'payments',
      'exchange_accounts',
      'bots',
      'orders',
      'trades',
      'support_tickets',
      'telegram_links',
      'security_events',
      'consents',
      'mastra_threads',
      'mastra_messages',
      'audit_log',
    ])
      expect(exported.counts[table], table).toBeGreaterThan(0);
    expect(exported.subject).toMatchObject({ email: trader.email, userId: trader.userId, kind: 'trader' });
    // Other people's rows that name them are listed too, and so are the failed sign-ins typed with their email.
    const ids = (table: string, column = 'id') => {
      const data = exported.data[table]!;
      return data.rows.map((row) => row[data.columns.indexOf(column)]);
    };
    expect(ids('mastra_messages')).toEqual(expect.arrayContaining(['msg-privacy', 'msg-staff-ask', 'msg-staff-reply']));
    expect(ids('mastra_threads')).toEqual(expect.arrayContaining(['thread-privacy', 'thread-staff']));
    expect(exportTableObjects(exported.data.ticket_messages!).map((m) => m.body)).toContain(`Quem me indicou foi ${trader.name}.`);
    expect(exportTableObjects(exported.data.notifications!).some((n) => JSON.stringify(n.payload).includes(trader.email))).toBe(true);
    expect(ids('security_events', 'ip')).toEqual(expect.arrayContaining([ip, typedIp]));
    expect(ids('webhook_events')).toEqual(expect.arrayContaining(['evt_privacy_charge', 'evt_privacy_customer']));
    // The company's records that name them: another lead's notes, another trader's draft, a document version (its text is the company's).
    expect(ids('leads')).toContain(otherLeadId);
    expect(ids('bot_drafts')).toContain(draftId);
    expect(ids('document_versions')).toContain(versionId);
    expect(exported.data.document_versions!.columns).not.toContain('body');
    expect(exported.counts.audit_log).toBeGreaterThanOrEqual(3);
    // Secrets never leave: key ciphertexts, session tokens, password hashes.
    const text = JSON.stringify(exported);
    expect(exported.format).toBe('botcriptofy.person-export/2');
    expect(exported.data.exchange_accounts!.rows.length).toBeGreaterThan(0);
    expect(exported.data.exchange_accounts!.columns).not.toContain('api_key_encrypted');
    expect(exported.data.exchange_accounts!.columns).not.toContain('api_secret_encrypted');
    expect(exported.omitted.exchange_accounts).toContain('api_secret_encrypted');
    for (const [table, { columns, rows }] of Object.entries(exported.data)) {
      for (const column of SECRET_COLUMNS) expect(columns, `${table}.${column}`).not.toContain(column);
      for (const row of rows) expect(row, table).toHaveLength(columns.length);
      expect(rows.length, table).toBe(exported.counts[table]);
    }
    // Money and amounts exactly as stored: strings, never JSON numbers a reader would round.
    const trades = exported.data.trades!;
    const column = (name: string) => trades.columns.indexOf(name);
    for (const row of trades.rows) {
      expect(typeof row[column('amount_base')]).toBe('string');
      expect(typeof row[column('open_price_quote')]).toBe('string');
    }
    const stored = await queryRows<{ id: string; amount: string; price: string }>(
      db,
      sql`select id::text, amount_base::text as amount, open_price_quote::text as price from trades where tenant_id = ${trader.tenantId}::uuid`,
    );
    expect(stored.length).toBe(trades.rows.length);
    expect(new Map(trades.rows.map((row) => [row[column('id')], [row[column('amount_base')], row[column('open_price_quote')]]]))).toEqual(
      new Map(stored.map((row) => [row.id, [row.amount, row.price]])),
    );
    const payments = exported.data.payments!;
    for (const row of payments.rows) expect(String(row[payments.columns.indexOf('amount_cents')])).toMatch(/^-?\d+$/);
    expect(text).not.toMatch(/"v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./); // no sealed secret (secrets/ writes v1.<iv>.<tag>.…) in any value
    expect(exported.summary).toContain(trader.email);
    expect(exported.summary).toMatch(/\d+ trade\(s\)/);
    expect(exported.summary).toContain('terms version v3 given');
    // The whole document is plain JSON.
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
    // Streamed piece by piece (as the CLI writes a file), it is the same document, and the head returned says what it holds.
    const pieces: string[] = [];
    const head = await writePersonExport(db, trader.email, (piece) => void pieces.push(piece), { now: () => NOW });
    expect(pieces.length).toBeGreaterThan(Object.keys(exported.data).length);
    expect(JSON.parse(pieces.join(''))).toEqual(exported);
    expect(head).toEqual({ ...exported, data: undefined });
  });

  it('erases a trader: bots stopped first, keys deleted, only pseudonyms left, money kept, the audit chain still verifies', async () => {
    await db.execute(
      sql`update bots set status = 'running', started_at = ${NOW.toISOString()}::timestamptz where tenant_id = ${trader.tenantId}::uuid`,
    );
    const bots = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from bots where tenant_id = ${trader.tenantId}::uuid`);
    const totalsBefore = await financialTotals(db, trader.tenantId);
    const auditBefore = await verifyAuditChain(db);
    expect(auditBefore.ok).toBe(true);

    const result = await erasePerson(db, trader.email, { kind: 'staff', id: 'security-head' }, { now: () => NOW });
    expect(result.personFound).toBe(true);
    expect(result.stoppedBots).toBe(bots[0]!.n);
    expect(result.deletedExchangeKeys).toBeGreaterThan(0);
    expect(result.redactedAuditRows).toBeGreaterThanOrEqual(3);

    const running = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from bots where tenant_id = ${trader.tenantId}::uuid and status <> 'stopped'`,
    );
    expect(running[0]!.n).toBe(0);
    const keys = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from exchange_accounts where tenant_id = ${trader.tenantId}::uuid`,
    );
    expect(keys[0]!.n).toBe(0);

    // The old email names no one now; the pseudonym holds their financial records, unchanged.
    await expect(exportPersonData(db, trader.email)).rejects.toBeInstanceOf(PersonNotFoundError);
    const after = await exportPersonData(db, result.pseudonymEmail, { now: () => NOW });
    expect(await financialTotals(db, trader.tenantId)).toEqual(totalsBefore);
    expect(after.counts.invoices).toBe(Number(totalsBefore!.invoices));
    expect(after.counts.payments).toBe(Number(totalsBefore!.payments));
    expect(after.counts.trades).toBe(Number(totalsBefore!.trades));
    const text = JSON.stringify(after);
    expect(text).not.toContain(trader.email);
    expect(text.toLowerCase()).not.toContain(trader.email.toLowerCase());
    expect(text).not.toContain(trader.name);
    expect(text).not.toContain(telegramUserId.toString());
    expect(text).not.toContain(ip);
    expect(text).not.toContain('trader_on_tg');
    expect(after.subject.name).toMatch(/^Erased person [0-9a-f]{12}$/);
    // Their own conversation is gone; the staff member's stays, naming only the pseudonym.
    const messages = await queryRows<{ id: string; content: unknown }>(
      db,
      sql`select id, content::text as content from mastra_messages where id in ('msg-privacy', 'msg-staff-ask', 'msg-staff-reply') order by id`,
    );
    expect(messages.map((m) => m.id)).toEqual(['msg-staff-ask', 'msg-staff-reply']);
    const staffText =
      JSON.stringify(messages) + JSON.stringify(await queryRows(db, sql`select title from mastra_threads where id = 'thread-staff'`));
    expect(staffText).toContain(result.pseudonymEmail);
    expect(staffText).toContain(after.subject.name!);
    expect(staffText.toLowerCase()).not.toContain(trader.email.toLowerCase());
    expect(staffText).not.toContain(trader.name);
    expect(staffText).not.toContain(telegramUserId.toString());
    expect(staffText).not.toContain('trader_on_tg');
    expect(
      exportTableObjects(after.data.mastra_messages!)
        .map((m) => m.id)
        .sort(),
    ).toEqual(['msg-staff-ask', 'msg-staff-reply']);
    const elsewhere = await queryRows<{ text: string }>(
      db,
      sql`select (select string_agg(body, ' ') from ticket_messages) || (select string_agg(payload::text, ' ') from notifications) as text`,
    );
    expect(elsewhere[0]!.text).toContain(`Quem me indicou foi ${after.subject.name}.`);
    expect(elsewhere[0]!.text.toLowerCase()).not.toContain(trader.email.toLowerCase());
    expect(elsewhere[0]!.text).not.toContain(trader.name);
    // The company's working records keep their rows and say only the pseudonym: a lead's notes, a draft, a document.
    const records = await queryRows<{ text: string }>(
      db,
      sql`select (select notes || ' ' || lost_reason from leads where id = ${otherLeadId}::uuid)
            || ' ' || (select description || ' ' || name from bot_drafts where id = ${draftId}::uuid)
            || ' ' || (select title from documents where id = ${documentId}::uuid) as text`,
    );
    expect(records[0]!.text).toContain(`Indicada por ${after.subject.name} (${result.pseudonymEmail})`);
    expect(records[0]!.text).toContain(`igual ao de ${result.pseudonymEmail}`);
    expect(records[0]!.text).toContain(`Incidente — ${after.subject.name}`);
    const [version] = await queryRows<{ title: string; body: string; sha256: string; change_note: string }>(
      db,
      sql`select title, body, sha256, change_note from document_versions where id = ${versionId}::uuid`,
    );
    for (const text of [records[0]!.text, version!.title, version!.body, version!.change_note]) {
      expect(text.toLowerCase()).not.toContain(trader.email.toLowerCase());
      expect(text).not.toContain(trader.name);
      expect(text).not.toContain(ip);
    }
    expect(version!.body).toContain('Chaves congeladas.');
    // The version's SHA-256 is over its new text.
    expect(version!.sha256).toBe(crypto.createHash('sha256').update(version!.body).digest('hex'));
    // The typed-email sign-in keeps neither the email nor the address.
    const typed = await queryRows(
      db,
      sql`select ip, details from security_events where ip = ${typedIp} or details::text ilike ${`%${trader.email}%`}`,
    );
    expect(typed).toEqual([]);
    // Stripe's events: every personal field gone (even a name Stripe was given that is not theirs), amounts and the catalogue kept.
    const events = await queryRows<{ id: string; payload: string }>(
      db,
      sql`select id, payload::text as payload from webhook_events where id like 'evt_privacy_%' order by id`,
    );
    const stripeText = events.map((e) => e.payload).join('\n');
    for (const gone of [
      trader.email,
      trader.name,
      'Nome Noutro Cartão',
      '98888-7777',
      'Rua Augusta',
      '01304-001',
      'Assinatura de',
      '123.456.789-09',
      '192.0.2.44',
      'Mozilla/5.0',
    ])
      expect(stripeText, gone).not.toContain(gone);
    const charge = JSON.parse(events[0]!.payload) as { data: { object: Record<string, unknown> } };
    expect(charge.data.object).toMatchObject({
      amount: 9900,
      customer: 'cus_privacytest',
      receipt_email: result.pseudonymEmail,
      description: '[erased]',
      shipping: null,
      billing_details: { name: after.subject.name, email: result.pseudonymEmail, phone: null, address: null },
    });
    const customer = JSON.parse(events[1]!.payload) as { data: { object: Record<string, unknown> } };
    expect(customer.data.object).toMatchObject({
      name: after.subject.name,
      phone: null,
      address: null,
      description: 'cliente desde 2024',
      items: [{ object: 'product', name: 'Plano Pro', description: 'Robôs ilimitados' }],
    });
    expect(after.counts.auth_accounts ?? 0).toBe(0);

    // Nothing anywhere in the audit log still names them, and the chain verifies.
    const named = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from audit_log where strpos(lower(coalesce(args::text, '') || coalesce(details::text, '')), ${trader.email.toLowerCase()}) > 0
          or strpos(coalesce(args::text, '') || coalesce(details::text, ''), ${trader.name}) > 0
          or strpos(coalesce(details::text, ''), ${telegramUserId.toString()}) > 0`,
    );
    expect(named[0]!.n).toBe(0);
    const verified = await verifyAuditChain(db);
    expect(verified).toMatchObject({ ok: true });
    expect(verified.rowsChecked).toBe(auditBefore.rowsChecked + 1);
    // The erasure is recorded: by whom, with the pseudonym, without the erased data.
    const [erasure] = await queryRows<{ actor_id: string; details: unknown }>(
      db,
      sql`select actor_id, details from audit_log where action = 'privacy.erasure' order by id desc limit 1`,
    );
    expect(erasure!.actor_id).toBe('security-head');
    const details = JSON.stringify(erasure!.details);
    expect(details).toContain(result.pseudonym);
    expect(details).not.toContain(trader.email);
    expect(details).not.toContain(trader.name);
  });

  it('a redacted audit row changed again, or a forged redaction entry, breaks verification', async () => {
    const [redacted] = await queryRows<{ audit_id: string }>(db, sql`select audit_id from audit_redactions order by audit_id limit 1`);
    const id = Number(redacted!.audit_id);
    // Only through the erasure path: the trigger refuses a plain update.
    const refused = await db.execute(sql`update audit_log set details = '{"x":1}'::jsonb where id = ${id}`).then(
      () => 'updated',
      (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
    );
    expect(refused).toMatch(/append-only/);
    await db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('botcriptofy.audit_redaction', 'on', true)`);
      await tx.execute(sql`update audit_log set args = '{"tampered":true}'::jsonb where id = ${id}`);
    });
    const verified = await verifyAuditChain(db);
    expect(verified).toMatchObject({ ok: false, badRowId: id, problem: 'altered' });
  });

  it('refuses an unknown or malformed email with a clear message', async () => {
    await expect(exportPersonData(db, 'nobody@example.com')).rejects.toThrow('No person with the email nobody@example.com');
    await expect(erasePerson(db, 'not-an-email', { kind: 'system', id: 'system:test' })).rejects.toThrow(/is not an email address/);
  });
});

describe.each(testDrivers)('consent and retention on %s', (driver) => {
  let test: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    db = test.handle.db;
    await seedDemo(db, 10);
  }, 180_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('keeps every consent decision with its time and version; the newest is the answer', async () => {
    const [user] = await queryRows<{ email: string }>(db, sql`select email from users order by email limit 1`);
    const clock = new ManualClock(Date.parse('2026-01-10T12:00:00Z'));
    const now = () => new Date(clock.now());
    await recordConsent(db, { email: user!.email, kind: 'terms', version: 'v1', granted: true, source: 'api' }, { now });
    await recordConsent(db, { email: user!.email, kind: 'marketing', version: '2026-01', granted: true, source: 'telegram' }, { now });
    await clock.advance(30 * 86_400_000);
    await recordConsent(db, { email: user!.email, kind: 'marketing', version: '2026-01', granted: false, source: 'cli' }, { now });
    const { current, history } = await consentsOf(db, user!.email);
    expect(history).toHaveLength(3);
    expect(current).toEqual([
      { kind: 'terms', version: 'v1', granted: true, source: 'api', recordedAt: '2026-01-10T12:00:00.000Z' },
      { kind: 'marketing', version: '2026-01', granted: false, source: 'cli', recordedAt: '2026-02-09T12:00:00.000Z' },
    ]);
    await expect(
      recordConsent(db, { email: user!.email, kind: 'cookies' as 'terms', version: 'v1', granted: true, source: 'api' }),
    ).rejects.toThrow(/Invalid consent: kind/);
  });

  it('the schedule is validated, and a run removes only what is past it, never money', async () => {
    expect(DEFAULT_RETENTION).toEqual({ agentConversationsDays: 180, securityEventsDays: 365, unconvertedLeadsDays: 730 });
    expect(() => retentionScheduleSchema.parse({ agentConversationsDays: 0 })).toThrow(/at least 1 day/);
    // Security events never below the configuration's floor (Marco Civil, art. 15), however the schedule arrives.
    const floor =
      /^Invalid retention schedule: RETENTION_SECURITY_EVENTS_DAYS \(securityEventsDays\)=1: expected at least 180 days: sign-in events .*Marco Civil da Internet \(art\. 15\).*$/;
    expect(() => parseRetentionSchedule({ securityEventsDays: 1 })).toThrow(RetentionScheduleError);
    expect(() => parseRetentionSchedule({ securityEventsDays: 1 })).toThrow(floor);
    expect(() => parseRetentionSchedule({ securityEventsDays: 179 })).toThrow(/RETENTION_SECURITY_EVENTS_DAYS \(securityEventsDays\)=179/);
    expect(parseRetentionSchedule({ securityEventsDays: 180 }).securityEventsDays).toBe(180);
    expect(() => parseRetentionSchedule({ agentConversationsDays: 0 })).toThrow(
      /^Invalid retention schedule: RETENTION_AGENT_CONVERSATIONS_DAYS \(agentConversationsDays\)=0: expected at least 1 day$/,
    );
    const eventsNow = async () => (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from security_events`))[0]!.n;
    const eventsBefore = await eventsNow();
    await expect(applyRetention(db, { ...DEFAULT_RETENTION, securityEventsDays: 1 }, NOW)).rejects.toThrow(floor);
    await expect(runRetention(db, { securityEventsDays: 1 }, NOW)).rejects.toThrow(RetentionScheduleError);
    expect(await eventsNow()).toBe(eventsBefore);
    const clock = new ManualClock(NOW.getTime());
    const at = (daysAgo: number) => new Date(clock.now() - daysAgo * 86_400_000).toISOString();
    await db.execute(
      sql`insert into mastra_threads (id, resource_id, created_at, updated_at) values ('old', 'u1', ${at(200)}::timestamptz, ${at(200)}::timestamptz), ('new', 'u1', ${at(10)}::timestamptz, ${at(10)}::timestamptz)`,
    );
    await db.execute(
      sql`insert into mastra_messages (id, thread_id, resource_id, role, content, created_at)
          values ('m-old', 'old', 'u1', 'user', '{}'::jsonb, ${at(200)}::timestamptz), ('m-new', 'new', 'u1', 'user', '{}'::jsonb, ${at(10)}::timestamptz)`,
    );
    await db.execute(
      sql`insert into security_events (type, severity, ip, occurred_at) values ('login_failed', 'low', '198.51.100.1', ${at(400)}::timestamptz)`,
    );
    await db.execute(
      sql`insert into leads (name, email, source, stage, updated_at) values ('Old Lead', 'old-lead@example.com', 'site', 'lost', ${at(800)}::timestamptz)`,
    );
    const expected = await queryRows<{ events: number; leads: number }>(
      db,
      sql`select (select count(*)::int from security_events where occurred_at < ${at(365)}::timestamptz) as events,
                 (select count(*)::int from leads where converted_tenant_id is null and stage <> 'won' and updated_at < ${at(730)}::timestamptz) as leads`,
    );
    const money = await queryRows(
      db,
      sql`select (select count(*) from invoices)::text as i, (select count(*) from payments)::text as p, (select count(*) from trades)::text as t`,
    );

    const counts = await applyRetention(db, DEFAULT_RETENTION, new Date(clock.now()));
    expect(counts).toEqual({
      agentMessages: 1,
      agentThreads: 1,
      securityEvents: expected[0]!.events,
      unconvertedLeads: expected[0]!.leads,
    });
    expect(counts.securityEvents).toBeGreaterThanOrEqual(1);
    expect(counts.unconvertedLeads).toBeGreaterThanOrEqual(1);
    const threads = await queryRows<{ id: string }>(db, sql`select id from mastra_threads order by id`);
    expect(threads.map((t) => t.id)).toEqual(['new']);
    expect(
      await queryRows(
        db,
        sql`select (select count(*) from invoices)::text as i, (select count(*) from payments)::text as p, (select count(*) from trades)::text as t`,
      ),
    ).toEqual(money);
    // A second run at the same time finds nothing more.
    expect(await applyRetention(db, DEFAULT_RETENTION, new Date(clock.now()))).toEqual({
      agentMessages: 0,
      agentThreads: 0,
      securityEvents: 0,
      unconvertedLeads: 0,
    });
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});
