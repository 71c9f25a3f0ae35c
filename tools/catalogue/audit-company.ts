import { and, desc, eq, gte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { verifyAuditChain } from '../../audit/index.ts';
import { FINANCE_WINDOWS, financeFigures, lastDays, paymentRisk } from '../../billing/index.ts';
import { auditLog, queryRows } from '../../db/index.ts';
import { botCounts, tradingPnl, TRADING_WINDOWS } from '../../figures/index.ts';
import { defineTool } from '../types.ts';

export const auditTools = [
  defineTool({
    name: 'query_audit_log',
    description: 'Recent audit log entries, optionally for one tool or outcome, newest first.',
    domain: 'audit',
    effect: 'read',
    access: { departments: ['audit', 'security'] },
    input: z.strictObject({
      tool: z.string().max(100).optional(),
      outcome: z.enum(['ok', 'denied', 'error', 'pending_approval']).optional(),
      hours: z
        .number()
        .int()
        .min(1)
        .max(24 * 90)
        .default(24),
      limit: z.number().int().min(1).max(100).default(20),
    }),
    output: z.object({
      hours: z.number(),
      entries: z.array(
        z.object({
          id: z.number(),
          at: z.string(),
          actor: z.string().nullable(),
          agent: z.string().nullable(),
          action: z.string(),
          tool: z.string().nullable(),
          outcome: z.string(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const since = new Date(ctx.now().getTime() - input.hours * 3_600_000);
      const rows = await ctx.db
        .select()
        .from(auditLog)
        .where(
          and(
            gte(auditLog.occurredAt, since),
            input.tool ? eq(auditLog.tool, input.tool) : undefined,
            input.outcome ? eq(auditLog.outcome, input.outcome) : undefined,
          ),
        )
        .orderBy(desc(auditLog.id))
        .limit(input.limit);
      return {
        hours: input.hours,
        entries: rows.map((r) => ({
          id: r.id,
          at: r.occurredAt.toISOString(),
          actor: r.actorId,
          agent: r.agent,
          action: r.action,
          tool: r.tool,
          outcome: r.outcome,
        })),
      };
    },
  }),
  defineTool({
    name: 'verify_audit_chain',
    description: 'Check the whole audit chain; reports the first altered or missing row.',
    domain: 'audit',
    effect: 'read',
    access: { departments: ['audit', 'security', 'settings'] },
    input: z.strictObject({}),
    output: z.object({ ok: z.boolean(), rowsChecked: z.number(), badRowId: z.number().nullable(), message: z.string() }),
    async execute(ctx) {
      const result = await verifyAuditChain(ctx.db);
      return result.ok
        ? { ok: true, rowsChecked: result.rowsChecked, badRowId: null, message: `intact, ${result.rowsChecked} rows` }
        : { ok: false, rowsChecked: result.rowsChecked, badRowId: result.badRowId, message: result.message };
    },
  }),
];

export const companyTools = [
  defineTool({
    name: 'company_kpis',
    description: "One snapshot of every department's key figures, each with its window: now, 30 days, 24 h (CEO).",
    domain: 'company',
    effect: 'read',
    access: { departments: [] },
    input: z.strictObject({}),
    output: z.object({
      /** The windows of the figures below, so an answer may say them: 30 days (churn, net new MRR, failed payments, trading, won leads), 24 hours (security). */
      windowDays: z.number(),
      securityWindowHours: z.number(),
      finance: z.object({
        mrrCents: z.number(),
        arrCents: z.number(),
        payingCustomers: z.number(),
        customerChurn30dPct: z.number().nullable(),
        netNewMrr30dCents: z.number(),
        failedPayments30d: z.number(),
        atRiskCents: z.number(),
      }),
      trading: z.object({
        runningBots: z.number(),
        closedTrades30d: z.number(),
        profit30dQuote: z.number(),
        winRate30dPct: z.number().nullable(),
      }),
      support: z.object({ openTickets: z.number(), overdueTickets: z.number() }),
      sales: z.object({ openLeads: z.number(), won30d: z.number() }),
      marketing: z.object({ activeCampaigns: z.number() }),
      security: z.object({ highSeverityEvents24h: z.number() }),
      approvals: z.object({ pending: z.number() }),
    }),
    async execute(ctx) {
      const now = ctx.now();
      // The finance and trading figures through their one definition each (billing/figures.ts, figures/trading.ts).
      const [finance, payments, pnl, bots] = await Promise.all([
        financeFigures(ctx.db, { asOf: now, months: 1 }),
        paymentRisk(ctx.db, lastDays(now, FINANCE_WINDOWS.failedPaymentsDays)),
        tradingPnl(ctx.db, lastDays(now, TRADING_WINDOWS.pnlDays)),
        botCounts(ctx.db),
      ]);
      const iso = (ms: number) => new Date(now.getTime() - ms).toISOString();
      const [row] = await queryRows<Record<string, string | null>>(
        ctx.db,
        sql`select
          (select count(*) from support_tickets where status in ('open', 'pending', 'escalated')) as open_tickets,
          (select count(*) from support_tickets where status in ('open', 'pending', 'escalated') and sla_due_at < ${now.toISOString()}::timestamptz) as overdue_tickets,
          (select count(*) from leads where stage in ('new', 'contacted', 'qualified', 'proposal')) as open_leads,
          (select count(*) from leads where stage = 'won' and updated_at >= ${iso(30 * 86_400_000)}::timestamptz) as won_leads,
          (select count(*) from campaigns where status = 'active') as active_campaigns,
          (select count(*) from security_events where severity in ('high', 'critical') and occurred_at >= ${iso(86_400_000)}::timestamptz) as security_high,
          (select count(*) from approvals where status = 'pending' and expires_at > ${now.toISOString()}::timestamptz) as pending_approvals`,
      );
      const n = (key: string) => Number(row?.[key] ?? 0);
      return {
        windowDays: FINANCE_WINDOWS.churnDays,
        securityWindowHours: 24,
        finance: {
          mrrCents: finance.mrrCents,
          arrCents: finance.arrCents,
          payingCustomers: finance.payingCustomers,
          customerChurn30dPct: finance.customerChurnPct,
          netNewMrr30dCents: finance.netNewMrrCents,
          failedPayments30d: payments.failedPayments,
          atRiskCents: payments.atRiskCents,
        },
        trading: {
          runningBots: bots.runningBots,
          closedTrades30d: pnl.closedTrades,
          profit30dQuote: pnl.profitQuote,
          winRate30dPct: pnl.winRatePct,
        },
        support: { openTickets: n('open_tickets'), overdueTickets: n('overdue_tickets') },
        sales: { openLeads: n('open_leads'), won30d: n('won_leads') },
        marketing: { activeCampaigns: n('active_campaigns') },
        security: { highSeverityEvents24h: n('security_high') },
        approvals: { pending: n('pending_approvals') },
      };
    },
  }),
];
