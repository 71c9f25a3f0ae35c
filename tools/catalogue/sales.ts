import { and, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { leadStages, leads, queryRows, staff, users } from '../../db/index.ts';
import { ToolRefusal } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';

const DAY = 86_400_000;
const OPEN_STAGES = ['new', 'contacted', 'qualified', 'proposal'] as const;
const stage = z.enum(leadStages);
const pctOf = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

/** The one lead with this email (emails identify leads for staff); refused when none or several. */
async function leadByEmail(ctx: ToolContext, email: string) {
  const rows = await ctx.db.select().from(leads).where(sql`lower(${leads.email}) = lower(${email})`).orderBy(desc(leads.updatedAt));
  if (rows.length === 0) throw new ToolRefusal('not_found', `No lead with the email ${email}.`);
  if (rows.length > 1)
    throw new ToolRefusal('not_found', `${rows.length} leads share the email ${email}; ask the sales head to merge them.`);
  return rows[0]!;
}

/** The staff id of a salesperson named by email. */
async function staffIdByEmail(ctx: ToolContext, email: string): Promise<string> {
  const [row] = await ctx.db
    .select({ id: staff.id })
    .from(staff)
    .innerJoin(users, eq(users.id, staff.userId))
    .where(sql`lower(${users.email}) = lower(${email})`);
  if (!row) throw new ToolRefusal('not_found', `No staff member with the email ${email}.`);
  return row.id;
}

const leadRow = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  company: z.string().nullable(),
  source: z.string(),
  stage: z.string(),
  score: z.number(),
  estimatedMonthlyValueCents: z.number(),
  owner: z.string().nullable(),
  nextFollowUpAt: z.string().nullable(),
});

export const salesTools = [
  defineTool({
    name: 'sales_funnel',
    description: 'Sales funnel of leads created in the last N days: count per stage, conversion, won value, by source.',
    domain: 'sales',
    effect: 'read',
    access: { departments: ['sales', 'marketing'] },
    input: z.strictObject({ days: z.number().int().min(1).max(730).default(90) }),
    output: z.object({
      days: z.number(),
      createdLeads: z.number(),
      byStage: z.object({
        new: z.number(),
        contacted: z.number(),
        qualified: z.number(),
        proposal: z.number(),
        won: z.number(),
        lost: z.number(),
      }),
      /** Won among the leads created in the period. */
      conversionPct: z.number().nullable(),
      /** Won among the closed (won or lost) leads created in the period. */
      winRatePct: z.number().nullable(),
      /** Leads marked won in the period (whenever they were created) and their monthly value. */
      wonInPeriod: z.number(),
      wonMonthlyValueCents: z.number(),
      /** Every open lead (any age): how many and their estimated monthly value. */
      openLeads: z.number(),
      openPipelineCents: z.number(),
      bySource: z.array(z.object({ source: z.string(), leads: z.number(), won: z.number() })),
    }),
    async execute(ctx, input) {
      const since = new Date(ctx.now().getTime() - input.days * DAY).toISOString();
      const stages = await queryRows<{ stage: (typeof leadStages)[number]; n: number }>(
        ctx.db,
        sql`select stage, count(*)::int as n from leads where created_at >= ${since}::timestamptz group by stage`,
      );
      const byStage = { new: 0, contacted: 0, qualified: 0, proposal: 0, won: 0, lost: 0 };
      for (const row of stages) byStage[row.stage] = Number(row.n);
      const createdLeads = Object.values(byStage).reduce((sum, n) => sum + n, 0);
      const [totals] = await queryRows<{ won: number; won_value: string; open: number; open_value: string }>(
        ctx.db,
        sql`select
              count(*) filter (where stage = 'won' and updated_at >= ${since}::timestamptz)::int as won,
              coalesce(sum(estimated_monthly_value_cents) filter (where stage = 'won' and updated_at >= ${since}::timestamptz), 0)::text as won_value,
              count(*) filter (where stage in ('new', 'contacted', 'qualified', 'proposal'))::int as open,
              coalesce(sum(estimated_monthly_value_cents) filter (where stage in ('new', 'contacted', 'qualified', 'proposal')), 0)::text as open_value
            from leads`,
      );
      const sources = await queryRows<{ source: string; n: number; won: number }>(
        ctx.db,
        sql`select source, count(*)::int as n, count(*) filter (where stage = 'won')::int as won
            from leads where created_at >= ${since}::timestamptz group by source order by count(*) desc, source`,
      );
      return {
        days: input.days,
        createdLeads,
        byStage,
        conversionPct: pctOf(byStage.won, createdLeads),
        winRatePct: pctOf(byStage.won, byStage.won + byStage.lost),
        wonInPeriod: Number(totals?.won ?? 0),
        wonMonthlyValueCents: Number(totals?.won_value ?? 0),
        openLeads: Number(totals?.open ?? 0),
        openPipelineCents: Number(totals?.open_value ?? 0),
        bySource: sources.map((s) => ({ source: s.source, leads: Number(s.n), won: Number(s.won) })),
      };
    },
  }),
  defineTool({
    name: 'list_leads',
    description: 'Leads by stage or owner (salesperson email), best score first; followUpDue lists follow-ups due now.',
    domain: 'sales',
    effect: 'read',
    access: { departments: ['sales'] },
    input: z.strictObject({
      stage: stage.optional(),
      owner: z.email().optional().describe("the salesperson's email"),
      followUpDue: z.boolean().default(false),
      limit: z.number().int().min(1).max(50).default(10),
    }),
    output: z.object({ total: z.number(), leads: z.array(leadRow) }),
    async execute(ctx, input) {
      const filters: (SQL | undefined)[] = [input.stage ? eq(leads.stage, input.stage) : undefined];
      if (input.owner) filters.push(eq(leads.ownerStaffId, await staffIdByEmail(ctx, input.owner)));
      if (input.followUpDue) filters.push(inArray(leads.stage, [...OPEN_STAGES]), lte(leads.nextFollowUpAt, ctx.now()));
      const where = and(...filters);
      const total = await ctx.db.$count(leads, where);
      const rows = await ctx.db
        .select({ lead: leads, owner: users.name })
        .from(leads)
        .leftJoin(staff, eq(staff.id, leads.ownerStaffId))
        .leftJoin(users, eq(users.id, staff.userId))
        .where(where)
        .orderBy(desc(leads.score), desc(leads.updatedAt))
        .limit(input.limit);
      return {
        total,
        leads: rows.map(({ lead, owner }) => ({
          id: lead.id,
          name: lead.name,
          email: lead.email,
          company: lead.company,
          source: lead.source,
          stage: lead.stage,
          score: lead.score,
          estimatedMonthlyValueCents: lead.estimatedMonthlyValueCents,
          owner,
          nextFollowUpAt: lead.nextFollowUpAt?.toISOString() ?? null,
        })),
      };
    },
  }),
  defineTool({
    name: 'update_lead_stage',
    description: "Move a lead (by email) to another funnel stage; 'lost' needs a reason.",
    domain: 'sales',
    effect: 'write',
    access: { departments: ['sales'] },
    input: z.strictObject({ email: z.email(), stage, reason: z.string().min(2).max(300).optional().describe('why (required for lost)') }),
    output: z.object({ leadId: z.string(), email: z.string(), from: z.string(), to: z.string() }),
    async execute(ctx, input) {
      const lead = await leadByEmail(ctx, input.email);
      if (lead.stage === input.stage) throw new ToolRefusal('not_found', `${input.email} is already in the ${input.stage} stage.`);
      if (input.stage === 'lost' && !input.reason) throw new ToolRefusal('not_found', 'Say why the lead was lost (reason).');
      // A won lead that already became a customer is linked to their account.
      const [customer] =
        input.stage === 'won'
          ? await ctx.db.select({ tenantId: users.tenantId }).from(users).where(sql`lower(${users.email}) = lower(${input.email})`)
          : [];
      const note = `${ctx.now().toISOString().slice(0, 10)} ${lead.stage} → ${input.stage}${input.reason ? `: ${input.reason}` : ''}`;
      await ctx.db
        .update(leads)
        .set({
          stage: input.stage,
          lostReason: input.stage === 'lost' ? input.reason! : null,
          convertedTenantId: input.stage === 'won' ? (customer?.tenantId ?? lead.convertedTenantId) : lead.convertedTenantId,
          ownerStaffId: lead.ownerStaffId ?? (ctx.actor.kind === 'staff' ? ctx.actor.staffId : null),
          nextFollowUpAt: input.stage === 'won' || input.stage === 'lost' ? null : lead.nextFollowUpAt,
          notes: lead.notes ? `${lead.notes}\n${note}` : note,
          updatedAt: ctx.now(),
        })
        .where(eq(leads.id, lead.id));
      return { leadId: lead.id, email: lead.email, from: lead.stage, to: input.stage };
    },
  }),
  defineTool({
    name: 'schedule_follow_up',
    description: 'Schedule the next follow-up with an open lead (by email) in N days, with an optional note.',
    domain: 'sales',
    effect: 'write',
    access: { departments: ['sales'] },
    input: z.strictObject({
      email: z.email(),
      inDays: z.number().int().min(0).max(90).default(1),
      note: z.string().min(2).max(500).optional(),
    }),
    output: z.object({ leadId: z.string(), email: z.string(), nextFollowUpAt: z.string() }),
    async execute(ctx, input) {
      const lead = await leadByEmail(ctx, input.email);
      if (lead.stage === 'won' || lead.stage === 'lost')
        throw new ToolRefusal('not_found', `${input.email} is already ${lead.stage}; no follow-up to schedule.`);
      const at = new Date(ctx.now().getTime() + input.inDays * DAY);
      const note = input.note ? `${ctx.now().toISOString().slice(0, 10)} follow-up: ${input.note}` : null;
      await ctx.db
        .update(leads)
        .set({
          nextFollowUpAt: at,
          ownerStaffId: lead.ownerStaffId ?? (ctx.actor.kind === 'staff' ? ctx.actor.staffId : null),
          ...(note ? { notes: lead.notes ? `${lead.notes}\n${note}` : note } : {}),
          updatedAt: ctx.now(),
        })
        .where(eq(leads.id, lead.id));
      return { leadId: lead.id, email: lead.email, nextFollowUpAt: at.toISOString() };
    },
  }),
];
