import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOffline, routeMessage } from '../../agents/index.ts';
import { BillingService, formatBrlCents } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import {
  TOOLS,
  decideApproval,
  invokeTool,
  listPendingApprovals,
  staffActor,
  type Actor,
  type ToolContext,
  type ToolOutcome,
} from '../../tools/index.ts';
import { killSwitchEngaged } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

/** The result of a successful call (fails the test with the outcome otherwise). */
function resultOf<T>(outcome: ToolOutcome): T {
  if (!outcome.ok || !('result' in outcome)) throw new Error(`expected a result: ${JSON.stringify(outcome)}`);
  return outcome.result as T;
}

describe('sales, marketing, documents and settings tools on the demo company', () => {
  let test: TestDatabase;
  let ctxFor: (actor: Actor) => ToolContext;
  let base: Omit<ToolContext, 'actor'>;
  const staff: Record<string, Actor & { kind: 'staff' }> = {};
  const emails: Record<string, string> = {};
  let trader: Actor;
  const now = new Date('2026-11-01T12:00:00Z');
  const since = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
  const call = (who: string, tool: string, args: unknown) => invokeTool(TOOLS, ctxFor(staff[who]!), tool, args);

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemoCompany(test.handle.db, {
      secretBox: createSecretBox(crypto.randomBytes(32)),
      asOf: new Date('2026-11-01T00:00:00Z'),
      traders: 40,
    });
    base = { db: test.handle.db, agent: 'test', billing: new BillingService(test.handle.db, undefined), now: () => now };
    ctxFor = (actor) => ({ ...base, actor });
    for (const member of await listStaff(test.handle.db)) {
      const key = `${member.department}:${member.role}`;
      if (staff[key]) continue;
      staff[key] = staffActor(member);
      emails[key] = member.email;
    }
    const [t] = await queryRows<{ user_id: string; tenant_id: string; name: string }>(
      test.handle.db,
      sql`select u.id as user_id, u.tenant_id, u.name from users u join tenants t on t.id = u.tenant_id where t.kind = 'trader' limit 1`,
    );
    trader = { kind: 'trader', userId: t!.user_id, tenantId: t!.tenant_id, name: t!.name };
  });
  afterAll(async () => {
    await test?.dispose();
  });

  describe('sales', () => {
    it('sales_funnel: leads per stage, conversion and won value match SQL', async () => {
      const funnel = resultOf<{
        createdLeads: number;
        byStage: Record<string, number>;
        conversionPct: number | null;
        winRatePct: number | null;
        wonInPeriod: number;
        wonMonthlyValueCents: number;
        openLeads: number;
        openPipelineCents: number;
        bySource: { leads: number }[];
      }>(await call('sales:member', 'sales_funnel', { days: 90 }));
      const stages = await queryRows<{ stage: string; n: number }>(
        test.handle.db,
        sql`select stage::text, count(*)::int as n from leads where created_at >= ${since(90)}::timestamptz group by stage`,
      );
      const expected = Object.fromEntries(stages.map((s) => [s.stage, Number(s.n)]));
      for (const stage of db.leadStages) expect(funnel.byStage[stage], stage).toBe(expected[stage] ?? 0);
      const created = stages.reduce((sum, s) => sum + Number(s.n), 0);
      expect(funnel.createdLeads).toBe(created);
      expect(created).toBeGreaterThan(20);
      expect(funnel.conversionPct).toBe(Math.round(((expected['won'] ?? 0) / created) * 10_000) / 100);
      expect(funnel.winRatePct).toBe(
        Math.round(((expected['won'] ?? 0) / ((expected['won'] ?? 0) + (expected['lost'] ?? 0))) * 10_000) / 100,
      );
      const [won] = await queryRows<{ n: number; cents: string }>(
        test.handle.db,
        sql`select count(*)::int as n, coalesce(sum(estimated_monthly_value_cents), 0)::text as cents from leads where stage = 'won' and updated_at >= ${since(90)}::timestamptz`,
      );
      expect(funnel.wonInPeriod).toBe(Number(won!.n));
      expect(funnel.wonMonthlyValueCents).toBe(Number(won!.cents));
      expect(funnel.wonMonthlyValueCents).toBeGreaterThan(0);
      const [open] = await queryRows<{ n: number; cents: string }>(
        test.handle.db,
        sql`select count(*)::int as n, sum(estimated_monthly_value_cents)::text as cents from leads where stage not in ('won', 'lost')`,
      );
      expect(funnel.openLeads).toBe(Number(open!.n));
      expect(funnel.openPipelineCents).toBe(Number(open!.cents));
      expect(funnel.bySource.reduce((sum, s) => sum + s.leads, 0)).toBe(created);
      // Marketing reads the funnel too; support does not.
      expect((await call('marketing:member', 'sales_funnel', {})).ok).toBe(true);
      expect(await call('support:member', 'sales_funnel', {})).toMatchObject({ ok: false, error: 'forbidden' });
    });

    it('list_leads: by stage and by owner, best score first, limited', async () => {
      const proposals = resultOf<{ total: number; leads: { stage: string; score: number }[] }>(
        await call('sales:member', 'list_leads', { stage: 'proposal', limit: 5 }),
      );
      const [count] = await queryRows<{ n: number }>(test.handle.db, sql`select count(*)::int as n from leads where stage = 'proposal'`);
      expect(proposals.total).toBe(Number(count!.n));
      expect(proposals.leads).toHaveLength(Math.min(5, proposals.total));
      expect(proposals.leads.every((l) => l.stage === 'proposal')).toBe(true);
      expect(proposals.leads.map((l) => l.score)).toEqual([...proposals.leads.map((l) => l.score)].sort((a, b) => b - a));

      const [owner] = await queryRows<{ email: string; n: number }>(
        test.handle.db,
        sql`select u.email, count(*)::int as n from leads l join staff s on s.id = l.owner_staff_id join users u on u.id = s.user_id group by u.email order by n desc limit 1`,
      );
      const owned = resultOf<{ total: number; leads: { owner: string | null }[] }>(
        await call('sales:head', 'list_leads', { owner: owner!.email, limit: 50 }),
      );
      expect(owned.total).toBe(Number(owner!.n));
      expect(new Set(owned.leads.map((l) => l.owner)).size).toBe(1);

      const due = resultOf<{ total: number; leads: { nextFollowUpAt: string | null; stage: string }[] }>(
        await call('sales:member', 'list_leads', { followUpDue: true, limit: 50 }),
      );
      const [dueCount] = await queryRows<{ n: number }>(
        test.handle.db,
        sql`select count(*)::int as n from leads where stage in ('new', 'contacted', 'qualified', 'proposal') and next_follow_up_at <= ${now.toISOString()}::timestamptz`,
      );
      expect(due.total).toBe(Number(dueCount!.n));
      expect(due.leads.every((l) => l.nextFollowUpAt !== null && new Date(l.nextFollowUpAt) <= now)).toBe(true);
      expect(await call('sales:member', 'list_leads', { owner: 'ninguem@example.com' })).toMatchObject({ ok: false, error: 'not_found' });
    });

    it('update_lead_stage and schedule_follow_up: written, audited, refused where they should be', async () => {
      const [lead] = await test.handle.db.select().from(db.leads).where(eq(db.leads.stage, 'qualified')).limit(1);
      const moved = await call('sales:member', 'update_lead_stage', { email: lead!.email.toUpperCase(), stage: 'proposal' });
      expect(resultOf(moved)).toEqual({ leadId: lead!.id, email: lead!.email, from: 'qualified', to: 'proposal' });
      const [after] = await test.handle.db.select().from(db.leads).where(eq(db.leads.id, lead!.id));
      expect(after!.stage).toBe('proposal');
      expect(after!.notes).toContain('qualified → proposal');
      expect(await call('sales:member', 'update_lead_stage', { email: lead!.email, stage: 'lost' })).toMatchObject({
        ok: false,
        message: expect.stringContaining('reason'),
      });
      expect(await call('sales:member', 'update_lead_stage', { email: lead!.email, stage: 'proposal' })).toMatchObject({
        ok: false,
        message: expect.stringContaining('already'),
      });
      expect(await call('sales:member', 'update_lead_stage', { email: lead!.email, stage: 'vendido' })).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
      });
      expect(await call('marketing:member', 'update_lead_stage', { email: lead!.email, stage: 'won' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      const lost = await call('sales:member', 'update_lead_stage', { email: lead!.email, stage: 'lost', reason: 'preço' });
      expect(lost.ok).toBe(true);
      const [lostRow] = await test.handle.db.select().from(db.leads).where(eq(db.leads.id, lead!.id));
      expect(lostRow).toMatchObject({ stage: 'lost', lostReason: 'preço', nextFollowUpAt: null });

      const [open] = await test.handle.db.select().from(db.leads).where(eq(db.leads.stage, 'contacted')).limit(1);
      const scheduled = resultOf<{ nextFollowUpAt: string }>(
        await call('sales:member', 'schedule_follow_up', { email: open!.email, inDays: 3, note: 'ligar de manhã' }),
      );
      expect(scheduled.nextFollowUpAt).toBe(new Date(now.getTime() + 3 * 86_400_000).toISOString());
      expect(await call('sales:member', 'schedule_follow_up', { email: lead!.email })).toMatchObject({
        ok: false,
        message: expect.stringContaining('lost'),
      });
      const audit = await queryRows<{ outcome: string }>(
        test.handle.db,
        sql`select outcome from audit_log where tool = 'update_lead_stage' order by id`,
      );
      expect(audit.map((a) => a.outcome)).toEqual(['ok', 'denied', 'denied', 'error', 'denied', 'ok']);
    });
  });

  describe('marketing', () => {
    it('campaign_performance: spend, leads, conversions and cost per lead match SQL', async () => {
      const perf = resultOf<{
        totals: { campaigns: number; spentCents: number; leads: number; conversions: number; costPerLeadCents: number | null };
        campaigns: {
          id: string;
          spentCents: number;
          leads: number;
          costPerLeadCents: number | null;
          costPerConversionCents: number | null;
        }[];
      }>(await call('marketing:member', 'campaign_performance', { days: 365 }));
      const rows = await queryRows<{ id: string; spent: string; signups: number; conversions: number }>(
        test.handle.db,
        sql`select id, spent_cents::text as spent, signups, conversions from campaigns
            where status in ('active', 'paused', 'finished') and starts_at <= ${now.toISOString()}::timestamptz and ends_at >= ${since(365)}::timestamptz`,
      );
      const spent = rows.reduce((sum, r) => sum + Number(r.spent), 0);
      const leads = rows.reduce((sum, r) => sum + Number(r.signups), 0);
      expect(perf.totals).toMatchObject({
        campaigns: rows.length,
        spentCents: spent,
        leads,
        conversions: rows.reduce((sum, r) => sum + Number(r.conversions), 0),
        costPerLeadCents: Math.round(spent / leads),
      });
      expect(rows.length).toBeGreaterThan(5);
      for (const campaign of perf.campaigns) {
        const row = rows.find((r) => r.id === campaign.id)!;
        expect(campaign.spentCents).toBe(Number(row.spent));
        expect(campaign.leads).toBe(Number(row.signups));
        expect(campaign.costPerLeadCents).toBe(row.signups === 0 ? null : Math.round(Number(row.spent) / Number(row.signups)));
      }
      expect(perf.campaigns.map((c) => c.spentCents)).toEqual([...perf.campaigns.map((c) => c.spentCents)].sort((a, b) => b - a));
      const active = resultOf<{ campaigns: { status: string }[] }>(
        await call('marketing:member', 'campaign_performance', { status: 'active' }),
      );
      expect(active.campaigns.every((c) => c.status === 'active')).toBe(true);
      expect((await call('finance:member', 'campaign_performance', {})).ok).toBe(true);
      expect(await call('sales:member', 'campaign_performance', {})).toMatchObject({ ok: false, error: 'forbidden' });
    });

    it('list_influencers: each with the results of their campaigns', async () => {
      const list = resultOf<{
        total: number;
        influencers: {
          handle: string;
          followers: number;
          commissionPct: number;
          campaigns: number;
          spentCents: number;
          conversions: number;
        }[];
      }>(await call('marketing:head', 'list_influencers', { limit: 50 }));
      const rows = await queryRows<{
        handle: string;
        followers: number;
        commission: string;
        n: number;
        spent: string;
        conversions: string;
      }>(
        test.handle.db,
        sql`select i.handle, i.followers, i.commission_pct::text as commission, count(c.id)::int as n, coalesce(sum(c.spent_cents), 0)::text as spent, coalesce(sum(c.conversions), 0)::text as conversions
            from influencers i left join campaigns c on c.influencer_id = i.id group by i.id`,
      );
      expect(list.total).toBe(rows.length);
      expect(list.influencers).toHaveLength(rows.length);
      for (const influencer of list.influencers) {
        const row = rows.find((r) => r.handle === influencer.handle)!;
        expect(influencer).toMatchObject({
          followers: Number(row.followers),
          commissionPct: Number(row.commission),
          campaigns: Number(row.n),
          spentCents: Number(row.spent),
          conversions: Number(row.conversions),
        });
      }
      expect(list.influencers.some((i) => i.campaigns > 0)).toBe(true);
      const active = resultOf<{ influencers: { status: string }[] }>(
        await call('marketing:head', 'list_influencers', { status: 'active' }),
      );
      expect(active.influencers.every((i) => i.status === 'active')).toBe(true);
    });

    it('pause_campaign: pauses an active campaign once; others may not', async () => {
      const [campaign] = await test.handle.db.select().from(db.campaigns).where(eq(db.campaigns.status, 'active')).limit(1);
      expect(await call('sales:head', 'pause_campaign', { campaign: campaign!.id })).toMatchObject({ ok: false, error: 'forbidden' });
      const paused = resultOf<{ previousStatus: string; status: string; spentCents: number }>(
        await call('marketing:member', 'pause_campaign', { campaign: campaign!.id, reason: 'custo por lead alto' }),
      );
      expect(paused).toMatchObject({ previousStatus: 'active', status: 'paused', spentCents: campaign!.spentCents });
      const [after] = await test.handle.db.select().from(db.campaigns).where(eq(db.campaigns.id, campaign!.id));
      expect(after!.status).toBe('paused');
      expect(await call('marketing:member', 'pause_campaign', { campaign: campaign!.id })).toMatchObject({
        ok: false,
        message: expect.stringContaining('paused'),
      });
      expect(await call('marketing:member', 'pause_campaign', { campaign: 'Campanha que não existe' })).toMatchObject({
        ok: false,
        error: 'not_found',
      });
      expect(await call('marketing:member', 'pause_campaign', {})).toMatchObject({ ok: false, error: 'invalid_arguments' });
      // Named as staff type it: any case, no accents, part of the name.
      await test.handle.db
        .insert(db.campaigns)
        .values({ name: 'PROMOÇÃO Ação Única 2026', channel: 'instagram', status: 'active', budgetCents: 100_000, spentCents: 20_000 });
      expect(await call('marketing:member', 'pause_campaign', { campaign: 'promocao acao unica' })).toMatchObject({
        ok: true,
        result: { name: 'PROMOÇÃO Ação Única 2026', status: 'paused' },
      });
    });
  });

  describe('documents', () => {
    it('search_documents: full text, and accent-free words as staff type them', async () => {
      const found = resultOf<{ documents: { slug: string; version: number }[] }>(
        await call('documents:member', 'search_documents', { query: 'reembolso' }),
      );
      const expected = await queryRows<{ slug: string }>(
        test.handle.db,
        sql`select d.slug from documents d join document_versions v on v.document_id = d.id and v.version = d.current_version
            where to_tsvector('simple', v.title || ' ' || v.body) @@ websearch_to_tsquery('simple', 'reembolso')`,
      );
      expect(found.documents.map((d) => d.slug).sort()).toEqual(
        expected
          .map((e) => e.slug)
          .sort()
          .slice(0, 5),
      );
      expect(found.documents.map((d) => d.slug)).toContain('politica-de-reembolso');
      const plain = resultOf<{ documents: { slug: string }[] }>(
        await call('sales:member', 'search_documents', { query: 'politica de gestao risco' }),
      );
      expect(plain.documents.map((d) => d.slug)).toEqual(['politica-de-risco']);
      const contracts = resultOf<{ documents: { slug: string }[] }>(
        await call('sales:member', 'search_documents', { query: 'contrato', category: 'contract' }),
      );
      expect(contracts.documents.map((d) => d.slug).sort()).toEqual(['contrato-enterprise', 'contrato-influenciador']);
      expect(await invokeTool(TOOLS, ctxFor(trader), 'search_documents', { query: 'contrato' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      expect(await call('documents:member', 'search_documents', { query: 'x' })).toMatchObject({ ok: false, error: 'invalid_arguments' });
    });

    it('document_history and get_document: every version, newest first', async () => {
      const history = resultOf<{ currentVersion: number; versions: { version: number; sha256: string; author: string | null }[] }>(
        await call('audit:member', 'document_history', { slug: 'politica-de-reembolso' }),
      );
      const versions = await queryRows<{ version: number; sha256: string }>(
        test.handle.db,
        sql`select v.version, v.sha256 from document_versions v join documents d on d.id = v.document_id where d.slug = 'politica-de-reembolso' order by v.version desc`,
      );
      expect(history.versions.map((v) => [v.version, v.sha256])).toEqual(versions.map((v) => [Number(v.version), v.sha256]));
      expect(history.currentVersion).toBe(Number(versions[0]!.version));
      expect(history.versions.every((v) => v.author !== null)).toBe(true);
      const first = resultOf<{ version: number; body: string }>(
        await call('support:member', 'get_document', { slug: 'politica-de-reembolso', version: 1 }),
      );
      expect(first.version).toBe(1);
      expect(first.body).toContain('7 dias');
      expect(await call('documents:member', 'document_history', { slug: 'nao-existe' })).toMatchObject({ ok: false, error: 'not_found' });
      expect(await call('sales:member', 'document_history', { slug: 'politica-de-reembolso' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
    });

    it('publish_document: a new version, the older ones kept, identical text refused', async () => {
      const [before] = await test.handle.db.select().from(db.documents).where(eq(db.documents.slug, 'procedimento-sla'));
      const body = 'Urgente: 1 hora. Alta: 8 horas. Normal: 24 horas. Baixa: 72 horas.';
      const published = resultOf<{ version: number; created: boolean }>(
        await call('documents:head', 'publish_document', { slug: 'procedimento-sla', body, changeNote: 'SLA urgente de 1 hora' }),
      );
      expect(published).toMatchObject({ version: before!.currentVersion + 1, created: false });
      const [after] = await test.handle.db.select().from(db.documents).where(eq(db.documents.slug, 'procedimento-sla'));
      expect(after!.currentVersion).toBe(before!.currentVersion + 1);
      expect(await test.handle.db.$count(db.documentVersions, eq(db.documentVersions.documentId, before!.id))).toBe(
        before!.currentVersion + 1,
      );
      const found = resultOf<{ documents: { slug: string; version: number }[] }>(
        await call('support:member', 'search_documents', { query: '1 hora' }),
      );
      expect(found.documents[0]).toMatchObject({ slug: 'procedimento-sla', version: after!.currentVersion });
      expect(await call('documents:head', 'publish_document', { slug: 'procedimento-sla', body })).toMatchObject({
        ok: false,
        message: expect.stringContaining('identical'),
      });
      expect(await call('support:head', 'publish_document', { slug: 'procedimento-sla', body: `${body} Editado.` })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      expect(await call('documents:head', 'publish_document', { slug: 'guia-novo', body: 'Um guia novo para traders.' })).toMatchObject({
        ok: false,
        error: 'not_found',
      });
      const created = resultOf<{ version: number; created: boolean }>(
        await call('documents:head', 'publish_document', {
          slug: 'guia-novo',
          body: 'Um guia novo para traders.',
          title: 'Guia novo',
          category: 'kb',
        }),
      );
      expect(created).toMatchObject({ version: 1, created: true });
    });
  });

  describe('settings', () => {
    it('get_config and config_history: values and versions, secrets never shown', async () => {
      const kill = resultOf<{ entries: { key: string; value: unknown; version: number }[] }>(
        await call('settings:member', 'get_config', { key: 'trading.kill_switch' }),
      );
      expect(kill.entries).toEqual([expect.objectContaining({ key: 'trading.kill_switch', value: false, version: 1 })]);
      const loose = resultOf<{ entries: { key: string }[] }>(await call('security:member', 'get_config', { key: 'kill switch' }));
      expect(loose.entries.map((e) => e.key)).toEqual(['trading.kill_switch']);
      const risk = resultOf<{ entries: { key: string }[] }>(await call('settings:member', 'get_config', { prefix: 'risk' }));
      expect(risk.entries.map((e) => e.key)).toEqual(['risk.max_daily_loss_pct', 'risk.max_open_positions_per_bot', 'risk.stop_loss_pct']);
      const all = resultOf<{ entries: unknown[] }>(await call('settings:member', 'get_config', {}));
      expect(all.entries).toHaveLength(await test.handle.db.$count(db.configEntries));

      await test.handle.db.insert(db.configEntries).values({ key: 'telegram.bot_token', value: '123456:SECRET-TOKEN', version: 2 });
      await test.handle.db.insert(db.configEntryVersions).values([
        { key: 'telegram.bot_token', version: 1, value: 'old:SECRET' },
        { key: 'telegram.bot_token', version: 2, value: '123456:SECRET-TOKEN' },
      ]);
      const secret = await call('settings:head', 'get_config', { prefix: 'telegram' });
      expect(JSON.stringify(secret)).not.toContain('SECRET');
      expect(resultOf<{ entries: { value: unknown; secret: boolean }[] }>(secret).entries).toEqual([
        expect.objectContaining({ value: '[redacted]', secret: true }),
      ]);
      const secretHistory = await call('settings:head', 'config_history', { key: 'telegram.bot_token' });
      expect(secretHistory.ok).toBe(true);
      expect(JSON.stringify(secretHistory)).not.toContain('SECRET');
      expect(await call('settings:head', 'set_config', { key: 'telegram.bot_token', value: 'x', reason: 'trocar token' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });

      const history = resultOf<{ currentVersion: number; versions: { version: number; value: unknown; changedBy: string | null }[] }>(
        await call('audit:member', 'config_history', { key: 'risk.stop_loss_pct' }),
      );
      expect(history).toMatchObject({
        currentVersion: 2,
        versions: [
          { version: 2, value: 3 },
          { version: 1, value: 5 },
        ],
      });
      expect(history.versions[0]!.changedBy).not.toBeNull();
      expect(await call('sales:member', 'get_config', { key: 'trading.kill_switch' })).toMatchObject({ ok: false, error: 'forbidden' });
    });

    it('set_config: only Settings asks, only its head or the CEO approves, executed once, honoured by the engine', async () => {
      const pendingBefore = (await listPendingApprovals(test.handle.db, now)).length;
      expect(await call('sales:head', 'set_config', { key: 'trading.kill_switch', value: true, reason: 'mercado caindo' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      // Impossible changes are refused before anybody is asked to approve them.
      expect(
        await call('settings:member', 'set_config', { key: 'trading.kill_switch', value: 'sim', reason: 'mercado caindo' }),
      ).toMatchObject({ ok: false, error: 'forbidden', message: expect.stringContaining('trading.kill_switch') });
      expect(
        await call('settings:member', 'set_config', { key: 'trading.kill_switch', value: false, reason: 'mercado caindo' }),
      ).toMatchObject({ ok: false, message: expect.stringContaining('already') });
      expect(await call('settings:member', 'set_config', { key: 'reports.timezone', value: 3, reason: 'fuso' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      expect(await call('settings:member', 'set_config', { key: 'risk.stop_loss_pct', value: -1, reason: 'teste' })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      expect(
        await call('settings:member', 'set_config', { key: 'trading.kil_switch', value: true, reason: 'mercado caindo' }),
      ).toMatchObject({ ok: false, error: 'not_found', message: expect.stringContaining('trading.kill_switch') });
      expect(await call('settings:member', 'set_config', { key: 'trading.kill_switch', value: true })).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
        message: expect.stringContaining('reason'),
      });
      expect(
        await call('settings:member', 'set_config', { key: 'trading.kill_switch', value: true, reason: 'mercado caindo', force: true }),
      ).toMatchObject({ ok: false, error: 'invalid_arguments' });
      expect((await listPendingApprovals(test.handle.db, now)).length).toBe(pendingBefore);

      const requested = await call('settings:member', 'set_config', {
        key: 'trading.kill_switch',
        value: true,
        reason: 'mercado caindo 20%',
      });
      expect(requested).toMatchObject({
        ok: true,
        pendingApproval: { approverDepartment: 'settings', summary: expect.stringContaining('trading.kill_switch') },
      });
      const approvalId = (requested as { pendingApproval: { id: string } }).pendingApproval.id;
      const [entryBefore] = await test.handle.db.select().from(db.configEntries).where(eq(db.configEntries.key, 'trading.kill_switch'));
      expect(entryBefore).toMatchObject({ value: false, version: 1 });
      expect(await killSwitchEngaged(test.handle.db, false)).toBe(false);

      expect(await decideApproval(TOOLS, base, staff['settings:member']!, approvalId, 'approve')).toMatchObject({ decided: false });
      expect(await decideApproval(TOOLS, base, staff['security:head']!, approvalId, 'approve')).toMatchObject({ decided: false });
      const [first, second] = await Promise.all([
        decideApproval(TOOLS, base, staff['settings:head']!, approvalId, 'approve'),
        decideApproval(TOOLS, base, staff['ceo:ceo']!, approvalId, 'approve'),
      ]);
      const decided = [first, second].filter((d) => d.decided);
      expect(decided).toHaveLength(1);
      expect(decided[0]).toMatchObject({
        status: 'executed',
        outcome: { ok: true, result: { key: 'trading.kill_switch', previousValue: false, value: true, version: 2 } },
      });

      const [entry] = await test.handle.db.select().from(db.configEntries).where(eq(db.configEntries.key, 'trading.kill_switch'));
      expect(entry).toMatchObject({ value: true, version: 2, updatedByUserId: staff['settings:member']!.userId });
      const versions = await test.handle.db
        .select()
        .from(db.configEntryVersions)
        .where(eq(db.configEntryVersions.key, 'trading.kill_switch'));
      expect(versions.map((v) => [v.version, v.value])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(versions[1]).toMatchObject({ changedByUserId: staff['settings:member']!.userId, reason: 'mercado caindo 20%' });
      expect(await killSwitchEngaged(test.handle.db, false)).toBe(true);
      expect(await decideApproval(TOOLS, base, staff['ceo:ceo']!, approvalId, 'approve')).toMatchObject({
        decided: false,
        status: 'executed',
      });
    });

    it('rollback_config: back to an older version, as a new version, after approval', async () => {
      const requested = await call('settings:head', 'rollback_config', {
        key: 'risk.stop_loss_pct',
        version: 1,
        reason: 'stop de 3% dispara demais',
      });
      expect(requested).toMatchObject({ ok: true, pendingApproval: { approverDepartment: 'settings' } });
      const approvalId = (requested as { pendingApproval: { id: string } }).pendingApproval.id;
      expect(await decideApproval(TOOLS, base, staff['settings:head']!, approvalId, 'approve')).toMatchObject({
        decided: true,
        status: 'executed',
      });
      const [entry] = await test.handle.db.select().from(db.configEntries).where(eq(db.configEntries.key, 'risk.stop_loss_pct'));
      expect(entry).toMatchObject({ value: 5, version: 3 });
      expect(await call('settings:head', 'rollback_config', { key: 'risk.stop_loss_pct', version: 9, reason: 'teste' })).toMatchObject({
        ok: false,
        error: 'not_found',
      });
      expect(await call('settings:head', 'rollback_config', { key: 'risk.stop_loss_pct', version: 1, reason: 'de novo' })).toMatchObject({
        ok: false,
        message: expect.stringContaining('already'),
      });
      // Without a version: the one before the current (3 → 2, the value 3 again).
      const previous = await call('settings:head', 'rollback_config', { key: 'risk.stop_loss_pct', reason: 'voltar ao 3%' });
      expect(previous).toMatchObject({ ok: true, pendingApproval: { summary: expect.stringContaining('previous version') } });
      expect(
        await decideApproval(
          TOOLS,
          base,
          staff['ceo:ceo']!,
          (previous as { pendingApproval: { id: string } }).pendingApproval.id,
          'approve',
        ),
      ).toMatchObject({ status: 'executed', outcome: { result: { previousValue: 5, value: 3, version: 4 } } });
      expect(await call('settings:head', 'rollback_config', { key: 'trading.default_strategy', reason: 'teste' })).toMatchObject({
        ok: false,
        message: expect.stringContaining('only one version'),
      });
    });
  });

  describe("trading: the operators' bot tools (botcriptofy bots)", () => {
    type Listed = {
      bots: { id: string; owner: string | null; status: string; mode: string }[];
      total: number;
      byStatus: Record<string, number>;
    };
    const traderEmail = async (actor: Actor) =>
      (
        await test.handle.db
          .select({ email: db.users.email })
          .from(db.users)
          .where(eq(db.users.id, (actor as { userId: string }).userId))
      )[0]!.email;

    it("list_bots: every trader's bots for staff, by status; only their own for a trader; refused to other departments", async () => {
      const all = resultOf<Listed>(await call('support:member', 'list_bots', { limit: 1000 }));
      const [counts] = await queryRows<{ n: number; running: number; owners: number }>(
        test.handle.db,
        sql`select count(*)::int as n, count(*) filter (where status = 'running')::int as running, count(distinct tenant_id)::int as owners from bots`,
      );
      expect(all.total).toBe(counts!.n);
      expect(all.bots).toHaveLength(counts!.n);
      expect(all.byStatus['running']).toBe(counts!.running);
      expect(new Set(all.bots.map((b) => b.owner)).size).toBe(counts!.owners);
      const running = resultOf<Listed>(await call('security:member', 'list_bots', { status: 'running', limit: 3 }));
      expect(running.bots).toHaveLength(3);
      expect(running.total).toBe(counts!.running);
      expect(running.bots.every((b) => b.status === 'running')).toBe(true);
      const email = await traderEmail(trader);
      const own = resultOf<Listed>(await invokeTool(TOOLS, ctxFor(trader), 'list_bots', {}));
      expect(own.bots.length).toBe(await test.handle.db.$count(db.bots, eq(db.bots.tenantId, (trader as { tenantId: string }).tenantId)));
      expect(own.bots.every((b) => b.owner === email)).toBe(true);
      const other = all.bots.find((b) => b.owner !== email)!;
      expect(await invokeTool(TOOLS, ctxFor(trader), 'list_bots', { email: other.owner })).toMatchObject({ ok: false, error: 'forbidden' });
      expect(await call('marketing:head', 'list_bots', {})).toMatchObject({
        ok: false,
        error: 'forbidden',
        message: 'Not allowed: the marketing department may not use list_bots.',
      });
    });

    it("bot_details: any trader's bot for staff, only their own for a trader, with positions and trades counted", async () => {
      const [held] = await queryRows<{ bot_id: string; tenant_id: string }>(
        test.handle.db,
        sql`select bot_id, tenant_id from positions limit 1`,
      );
      const details = resultOf<{
        bot: { id: string; owner: string };
        positions: { symbol: string }[];
        trades: { open: number; closed: number };
      }>(await call('security:member', 'bot_details', { botId: held!.bot_id }));
      expect(details.bot.id).toBe(held!.bot_id);
      expect(details.positions.length).toBe(await test.handle.db.$count(db.positions, eq(db.positions.botId, held!.bot_id)));
      expect(details.trades.closed).toBe(
        await test.handle.db.$count(db.trades, sql`${db.trades.botId} = ${held!.bot_id} and ${db.trades.status} = 'closed'`),
      );
      // Today's result (the dashboard's "P&L today"): the trades closed since 00:00 UTC, as figures' today_result.
      const [busiest] = await queryRows<{ bot_id: string; n: number; profit: string }>(
        test.handle.db,
        sql`select bot_id, count(*)::int as n, sum(profit_quote)::text as profit from trades
            where status = 'closed' and closed_at >= '2026-11-01T00:00:00Z' and closed_at < ${now.toISOString()}::timestamptz
            group by bot_id order by count(*) desc limit 1`,
      );
      expect(busiest, 'a bot with trades closed today in the seeded company').toBeDefined();
      const today = resultOf<{ trades: { today: { since: string; closed: number; profitQuote: number } } }>(
        await call('security:member', 'bot_details', { botId: busiest!.bot_id }),
      ).trades.today;
      expect(today).toEqual({
        since: '2026-11-01T00:00:00.000Z',
        closed: busiest!.n,
        profitQuote: Math.round(Number(busiest!.profit) * 100) / 100,
      });
      const owner = {
        kind: 'trader' as const,
        userId: (await test.handle.db.select().from(db.users).where(eq(db.users.email, details.bot.owner)))[0]!.id,
        tenantId: held!.tenant_id,
        name: 'owner',
      };
      expect(resultOf<{ bot: { id: string } }>(await invokeTool(TOOLS, ctxFor(owner), 'bot_details', { botId: held!.bot_id })).bot.id).toBe(
        held!.bot_id,
      );
      const stranger = trader.kind === 'trader' && trader.tenantId !== held!.tenant_id ? trader : undefined;
      if (stranger)
        expect(await invokeTool(TOOLS, ctxFor(stranger), 'bot_details', { botId: held!.bot_id })).toMatchObject({
          ok: false,
          error: 'not_found',
        });
      expect(await call('support:member', 'bot_details', { botId: crypto.randomUUID() })).toMatchObject({ ok: false, error: 'not_found' });
    });

    it("create_bot: a stopped bot in the trader's own account, validated, audited; staff name the trader", async () => {
      const args = {
        name: 'tool bot',
        strategy: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        stakeQuote: 150,
        parameters: { rsiBuy: 33 },
      };
      const created = resultOf<{ bot: { id: string; status: string; mode: string; owner: string; parameters: Record<string, number> } }>(
        await invokeTool(TOOLS, ctxFor(trader), 'create_bot', args),
      );
      expect(created.bot).toMatchObject({
        status: 'stopped',
        mode: 'paper',
        owner: await traderEmail(trader),
        parameters: { rsiBuy: 33, rsiSell: 60 },
      });
      const [row] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, created.bot.id));
      expect(row).toMatchObject({
        tenantId: (trader as { tenantId: string }).tenantId,
        strategyName: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        stakeQuote: '150',
        exchangeAccountId: null,
      });
      const [audited] = await queryRows<{ outcome: string; actor_id: string }>(
        test.handle.db,
        sql`select outcome::text, actor_id from audit_log where tool = 'create_bot' order by id desc limit 1`,
      );
      expect(audited).toEqual({ outcome: 'ok', actor_id: (trader as { userId: string }).userId });
      expect(await call('support:member', 'create_bot', args)).toMatchObject({
        ok: false,
        error: 'not_found',
        message: 'Say which trader (their email).',
      });
      expect(
        resultOf<{ bot: { owner: string } }>(await call('support:member', 'create_bot', { ...args, email: await traderEmail(trader) })).bot
          .owner,
      ).toBe(await traderEmail(trader));
      expect(await call('support:member', 'create_bot', { ...args, email: emails['finance:head'] })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      expect(await call('marketing:head', 'create_bot', { ...args, email: await traderEmail(trader) })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      expect(await invokeTool(TOOLS, ctxFor(trader), 'create_bot', { ...args, strategy: 'nope' })).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
      });
      expect(await invokeTool(TOOLS, ctxFor(trader), 'create_bot', { ...args, symbols: ['BTCUSDT'] })).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
      });
      expect(await invokeTool(TOOLS, ctxFor(trader), 'create_bot', { ...args, parameters: { nope: 1 } })).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
      // A live bot needs the trader's active exchange key (and starting it is a separate step).
      const [keyless] = await queryRows<{ user_id: string; tenant_id: string }>(
        test.handle.db,
        sql`select u.id as user_id, u.tenant_id from users u join tenants t on t.id = u.tenant_id where t.kind = 'trader' and not exists (select 1 from exchange_accounts a where a.tenant_id = u.tenant_id and a.status = 'active') limit 1`,
      );
      const noKey: Actor = { kind: 'trader', userId: keyless!.user_id, tenantId: keyless!.tenant_id, name: 'no key' };
      expect(await invokeTool(TOOLS, ctxFor(noKey), 'create_bot', { ...args, mode: 'live' })).toMatchObject({
        ok: false,
        error: 'forbidden',
        message: 'A live bot needs an active exchange API key; connect one first.',
      });
      const [keyed] = await queryRows<{ user_id: string; tenant_id: string; account: string }>(
        test.handle.db,
        sql`select u.id as user_id, u.tenant_id, a.id as account from users u join exchange_accounts a on a.tenant_id = u.tenant_id and a.status = 'active' limit 1`,
      );
      const live = resultOf<{ bot: { id: string; mode: string; status: string; hasExchangeAccount: boolean } }>(
        await invokeTool(
          TOOLS,
          ctxFor({ kind: 'trader', userId: keyed!.user_id, tenantId: keyed!.tenant_id, name: 'keyed' }),
          'create_bot',
          { ...args, mode: 'live' },
        ),
      );
      expect(live.bot).toMatchObject({ mode: 'live', status: 'stopped', hasExchangeAccount: true });
      expect((await test.handle.db.select().from(db.bots).where(eq(db.bots.id, live.bot.id)))[0]!.exchangeAccountId).toBe(keyed!.account);
    });
  });

  describe('company', () => {
    it("company_kpis: every department's figure counted again from the rows", async () => {
      const kpis = resultOf<Record<string, Record<string, number>>>(await call('ceo:ceo', 'company_kpis', {}));
      const rows = <T>(q: ReturnType<typeof sql>) => queryRows<T & Record<string, unknown>>(test.handle.db, q);
      const withinLastDays = (at: string | Date | null, days: number) =>
        at !== null && new Date(at).getTime() >= now.getTime() - days * 86_400_000;
      // The trading and finance figures' windows are [now − 30 d, now) (billing/figures.ts, figures/trading.ts).
      const within = (at: string | Date | null, days: number) => withinLastDays(at, days) && new Date(at!).getTime() < now.getTime();
      const trades = (
        await rows<{ status: string; closed_at: string | null; profit_quote: string | null }>(
          sql`select status::text, closed_at, profit_quote::text from trades`,
        )
      ).filter((t) => t.status === 'closed' && within(t.closed_at, 30));
      const bots = await rows<{ status: string }>(sql`select status::text from bots`);
      const tickets = (
        await rows<{ status: string; sla_due_at: string | null }>(sql`select status::text, sla_due_at from support_tickets`)
      ).filter((t) => ['open', 'pending', 'escalated'].includes(t.status));
      const leads = await rows<{ stage: string; updated_at: string }>(sql`select stage::text, updated_at from leads`);
      const campaigns = await rows<{ status: string }>(sql`select status::text from campaigns`);
      const events = await rows<{ severity: string; occurred_at: string }>(sql`select severity::text, occurred_at from security_events`);
      const approvals = await rows<{ status: string; expires_at: string }>(sql`select status::text, expires_at from approvals`);
      const payments = await rows<{ status: string; created_at: string }>(sql`select status::text, created_at from payments`);
      expect(kpis['trading']).toEqual({
        runningBots: bots.filter((b) => b.status === 'running').length,
        closedTrades30d: trades.length,
        profit30dQuote: Math.round(trades.reduce((sum, t) => sum + Number(t.profit_quote ?? 0), 0) * 100) / 100,
        winRate30dPct: Math.round((trades.filter((t) => Number(t.profit_quote) > 0).length / trades.length) * 1000) / 10,
      });
      expect(kpis['trading']!['closedTrades30d']).toBeGreaterThan(0);
      expect(kpis['support']).toEqual({
        openTickets: tickets.length,
        overdueTickets: tickets.filter((t) => t.sla_due_at !== null && new Date(t.sla_due_at) < now).length,
      });
      expect(kpis['sales']).toEqual({
        openLeads: leads.filter((l) => ['new', 'contacted', 'qualified', 'proposal'].includes(l.stage)).length,
        won30d: leads.filter((l) => l.stage === 'won' && withinLastDays(l.updated_at, 30)).length,
      });
      expect(kpis['marketing']).toEqual({ activeCampaigns: campaigns.filter((c) => c.status === 'active').length });
      expect(kpis['security']).toEqual({
        highSeverityEvents24h: events.filter((e) => ['high', 'critical'].includes(e.severity) && withinLastDays(e.occurred_at, 1)).length,
      });
      expect(kpis['approvals']!['pending']).toBe(approvals.filter((a) => a.status === 'pending' && new Date(a.expires_at) > now).length);
      expect(kpis['finance']!['failedPayments30d']).toBe(payments.filter((p) => p.status === 'failed' && within(p.created_at, 30)).length);
      const summary = resultOf<{
        mrrCents: number;
        arrCents: number;
        payingCustomers: number;
        customerChurn30dPct: number | null;
        netNewMrr: { netNewCents: number };
      }>(await call('finance:head', 'revenue_summary', {}));
      expect(kpis['finance']).toMatchObject({
        mrrCents: summary.mrrCents,
        arrCents: summary.arrCents,
        payingCustomers: summary.payingCustomers,
        customerChurn30dPct: summary.customerChurn30dPct,
        netNewMrr30dCents: summary.netNewMrr.netNewCents,
      });
      expect(kpis).toMatchObject({ windowDays: 30, securityWindowHours: 24 });
    });
  });

  it('answers staff without the model, in their language, with the figures of the tool result', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: each case reads its own tool's result shape
    type R = Record<string, any>;
    const cases: [string, Parameters<typeof answerOffline>[1], string, string, (r: R) => string][] = [
      [
        'sales:member',
        'sales',
        'como ta o funil esse mes?',
        'sales_funnel',
        (r) => `${formatBrlCents(r['openPipelineCents'], 'pt-BR')}/mês`,
      ],
      ['sales:member', 'sales', 'lsit new leads', 'list_leads', (r) => `${r['total']} leads found.`],
      [
        'marketing:member',
        'marketing',
        'cost per lead on tiktok?',
        'campaign_performance',
        (r) => `spent ${formatBrlCents(r['totals']['spentCents'], 'en')}`,
      ],
      ['marketing:member', 'marketing', 'lista os influenciadores ativos', 'list_influencers', (r) => r['influencers'][0]['handle']],
      ['documents:member', 'documents', 'historico da politica-de-risco', 'document_history', (r) => `versão atual ${r['currentVersion']}`],
      ['documents:member', 'documents', 'buscar documentos sobre reembolso', 'search_documents', () => '[politica-de-reembolso]'],
      [
        'settings:member',
        'settings',
        'what is the stop loss default?',
        'get_config',
        (r) => `risk.stop_loss_pct = ${r['entries'][0]['value']}`,
      ],
    ];
    for (const [who, agent, message, tool, figure] of cases) {
      const turn = await answerOffline(ctxFor(staff[who]!), agent, message);
      expect(
        turn.toolCalls.map((c) => [c.tool, c.ok]),
        message,
      ).toEqual([[tool, true]]);
      const result = resultOf<R>(await call(who, tool, routeMessage(agent, message)!.args));
      expect(turn.answer, message).toContain(figure(result));
    }
    const change = await answerOffline(
      ctxFor(staff['settings:member']!),
      'settings',
      'muda o risk.max_daily_loss_pct para 4, perdas altas',
    );
    // Said by the code, in the language of the request: not done yet, who decides, which approval.
    const [approval] = (await listPendingApprovals(test.handle.db, now)).filter(
      (a) => a.tool === 'set_config' && (a.args as { key?: string }).key === 'risk.max_daily_loss_pct',
    );
    expect(change.actions).toMatchObject([{ tool: 'set_config', status: 'awaiting_approval', approvalId: approval!.id }]);
    expect(change.answer).toContain(
      `⏳ Ainda não feito: aguardando aprovação do responsável de Configurações ou do CEO (aprovação ${approval!.id})`,
    );
    expect(approval!.args).toEqual({ key: 'risk.max_daily_loss_pct', value: 4, reason: 'perdas altas' });
    const refused = await answerOffline(ctxFor(staff['marketing:head']!), 'marketing', 'pausa a campanha Black Friday Cripto');
    expect(refused.toolCalls.map((c) => [c.tool, c.ok])).toEqual([['pause_campaign', false]]);
    expect(refused.actions).toMatchObject([{ tool: 'pause_campaign', status: 'refused' }]);
    expect(refused.answer).toContain('⛔ Não feito (pause_campaign');
  });

  it('keeps the audit chain intact through all of it', async () => {
    expect(await call('audit:member', 'verify_audit_chain', {})).toMatchObject({ ok: true, result: { ok: true } });
  });
  describe('trading figures', () => {
    it('pnl_by_period: the total is the exact sum of the closed trades in the periods, rounded once (not the sum of rounded rows)', async () => {
      for (const [who, tenantId] of [
        [trader, (trader as { tenantId: string }).tenantId],
        [staff['finance:head']!, null],
      ] as const) {
        const daily = resultOf<{ rows: { start: string; profitQuote: number }[]; totalProfitQuote: number }>(
          await invokeTool(TOOLS, ctxFor(who), 'pnl_by_period', { period: 'day', count: 30 }),
        );
        const [exact] = await queryRows<{ total: string | null }>(
          test.handle.db,
          sql`select round(coalesce(sum(profit_quote), 0), 2)::text as total from trades
              where status = 'closed' and closed_at >= date_trunc('day', ${now.toISOString()}::timestamptz at time zone 'UTC') - interval '29 days'
              ${tenantId ? sql`and tenant_id = ${tenantId}` : sql``}`,
        );
        expect(daily.rows).toHaveLength(30);
        expect(daily.totalProfitQuote).toBe(Number(exact!.total));
      }
    });
  });
});
