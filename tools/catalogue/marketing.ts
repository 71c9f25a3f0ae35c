import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { campaigns, queryRows } from '../../db/index.ts';
import { ToolRefusal } from '../scope.ts';
import { foldText } from '../../i18n/index.ts';
import { containing, foldSql } from './fold.ts';
import { defineTool, type ToolContext } from '../types.ts';

const DAY = 86_400_000;
/** Cents per unit, rounded; null when nothing was bought. */
const costPer = (spentCents: number, units: number) => (units === 0 ? null : Math.round(spentCents / units));

const campaignFigures = z.object({
  spentCents: z.number(),
  /** Sign-ups the campaign brought: its leads. */
  leads: z.number(),
  conversions: z.number(),
  costPerLeadCents: z.number().nullable(),
  costPerConversionCents: z.number().nullable(),
});

/** A campaign named by id or by (part of) its name; refused when none or several match. */
async function campaignFor(ctx: ToolContext, ref: string) {
  const exact = z.uuid().safeParse(ref).success
    ? await ctx.db.select().from(campaigns).where(eq(campaigns.id, ref))
    : await ctx.db
        .select()
        .from(campaigns)
        .where(sql`${foldSql(sql`${campaigns.name}`)} = ${foldText(ref)}`);
  const rows =
    exact.length > 0
      ? exact
      : await ctx.db
          .select()
          .from(campaigns)
          .where(sql`${foldSql(sql`${campaigns.name}`)} like ${containing(foldText(ref))}`);
  const live = rows.filter((c) => c.status === 'active' || c.status === 'scheduled');
  const candidates = live.length > 0 ? live : rows;
  if (candidates.length === 0) throw new ToolRefusal('not_found', `No campaign called ${ref}.`);
  if (candidates.length > 1)
    throw new ToolRefusal(
      'not_found',
      `${candidates.length} campaigns match ${ref}: ${candidates
        .slice(0, 5)
        .map((c) => `${c.name} (${c.status}, ${c.id})`)
        .join('; ')}. Use the id.`,
    );
  return candidates[0]!;
}

export const marketingTools = [
  defineTool({
    name: 'campaign_performance',
    description: 'Campaigns that ran in the last N days: spend, leads, conversions and cost per lead, with totals.',
    domain: 'marketing',
    effect: 'read',
    access: { departments: ['marketing', 'finance'] },
    input: z.strictObject({
      days: z.number().int().min(1).max(730).default(90),
      status: z.enum(['active', 'paused', 'finished']).optional(),
      channel: z.string().min(2).max(40).optional().describe('instagram, youtube, tiktok, email, telegram, google-ads'),
    }),
    output: z.object({
      days: z.number(),
      totals: campaignFigures.extend({ campaigns: z.number(), budgetCents: z.number() }),
      campaigns: z.array(
        campaignFigures.extend({
          id: z.string(),
          name: z.string(),
          channel: z.string(),
          status: z.string(),
          influencer: z.string().nullable(),
          budgetCents: z.number(),
          clicks: z.number(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const now = ctx.now();
      const since = new Date(now.getTime() - input.days * DAY);
      // Ran in the window: started by now and not ended before it (drafts and scheduled ones have not run).
      const rows = await queryRows<{
        id: string;
        name: string;
        channel: string;
        status: string;
        handle: string | null;
        budget_cents: string;
        spent_cents: string;
        clicks: number;
        signups: number;
        conversions: number;
      }>(
        ctx.db,
        sql`select c.id, c.name, c.channel, c.status::text, i.handle, c.budget_cents::text, c.spent_cents::text, c.clicks, c.signups, c.conversions
            from campaigns c left join influencers i on i.id = c.influencer_id
            where c.status in ('active', 'paused', 'finished')
              and c.starts_at <= ${now.toISOString()}::timestamptz
              and (c.ends_at is null or c.ends_at >= ${since.toISOString()}::timestamptz)
              ${input.status ? sql`and c.status = ${input.status}` : sql``}
              ${input.channel ? sql`and lower(c.channel) = lower(${input.channel})` : sql``}
            order by c.spent_cents desc, c.name`,
      );
      const list = rows.map((r) => {
        const spentCents = Number(r.spent_cents);
        const leads = Number(r.signups);
        const conversions = Number(r.conversions);
        return {
          id: r.id,
          name: r.name,
          channel: r.channel,
          status: r.status,
          influencer: r.handle,
          budgetCents: Number(r.budget_cents),
          clicks: Number(r.clicks),
          spentCents,
          leads,
          conversions,
          costPerLeadCents: costPer(spentCents, leads),
          costPerConversionCents: costPer(spentCents, conversions),
        };
      });
      const sum = (pick: (c: (typeof list)[number]) => number) => list.reduce((total, c) => total + pick(c), 0);
      const spentCents = sum((c) => c.spentCents);
      const leads = sum((c) => c.leads);
      const conversions = sum((c) => c.conversions);
      return {
        days: input.days,
        totals: {
          campaigns: list.length,
          budgetCents: sum((c) => c.budgetCents),
          spentCents,
          leads,
          conversions,
          costPerLeadCents: costPer(spentCents, leads),
          costPerConversionCents: costPer(spentCents, conversions),
        },
        campaigns: list.slice(0, 10),
      };
    },
  }),
  defineTool({
    name: 'list_influencers',
    description: 'Influencer partners with followers, commission and the results of their campaigns.',
    domain: 'marketing',
    effect: 'read',
    access: { departments: ['marketing'] },
    input: z.strictObject({
      status: z.enum(['active', 'paused', 'ended']).optional(),
      platform: z.string().min(2).max(40).optional(),
      limit: z.number().int().min(1).max(50).default(12),
    }),
    output: z.object({
      total: z.number(),
      influencers: z.array(
        z.object({
          handle: z.string(),
          platform: z.string(),
          followers: z.number(),
          commissionPct: z.number(),
          status: z.string(),
          campaigns: z.number(),
          spentCents: z.number(),
          leads: z.number(),
          conversions: z.number(),
          costPerConversionCents: z.number().nullable(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const rows = await queryRows<{
        handle: string;
        platform: string;
        followers: number;
        commission_pct: string;
        status: string;
        campaigns: number;
        spent: string;
        leads: string;
        conversions: string;
      }>(
        ctx.db,
        sql`select i.handle, i.platform, i.followers, i.commission_pct::text, i.status,
              count(c.id)::int as campaigns, coalesce(sum(c.spent_cents), 0)::text as spent,
              coalesce(sum(c.signups), 0)::text as leads, coalesce(sum(c.conversions), 0)::text as conversions
            from influencers i left join campaigns c on c.influencer_id = i.id
            where true
              ${input.status ? sql`and i.status = ${input.status}` : sql``}
              ${input.platform ? sql`and lower(i.platform) = lower(${input.platform})` : sql``}
            group by i.id
            order by coalesce(sum(c.conversions), 0) desc, i.followers desc`,
      );
      return {
        total: rows.length,
        influencers: rows.slice(0, input.limit).map((r) => ({
          handle: r.handle,
          platform: r.platform,
          followers: Number(r.followers),
          commissionPct: Number(r.commission_pct),
          status: r.status,
          campaigns: Number(r.campaigns),
          spentCents: Number(r.spent),
          leads: Number(r.leads),
          conversions: Number(r.conversions),
          costPerConversionCents: costPer(Number(r.spent), Number(r.conversions)),
        })),
      };
    },
  }),
  defineTool({
    name: 'pause_campaign',
    description: 'Pause an active or scheduled campaign (by id or name); stops further spend.',
    domain: 'marketing',
    // `write`, not `approval`: pausing only stops future spend, commits no money and is undone by
    // resuming. Anything that raises spend (a new budget, resuming, launching) would need approval.
    effect: 'write',
    access: { departments: ['marketing'] },
    input: z.strictObject({
      campaign: z.string().min(2).max(200).describe('campaign id or name'),
      reason: z.string().min(2).max(300).optional(),
    }),
    output: z.object({
      campaignId: z.string(),
      name: z.string(),
      previousStatus: z.string(),
      status: z.literal('paused'),
      spentCents: z.number(),
      budgetCents: z.number(),
    }),
    async execute(ctx, input) {
      const campaign = await campaignFor(ctx, input.campaign);
      if (campaign.status !== 'active' && campaign.status !== 'scheduled')
        throw new ToolRefusal('not_found', `${campaign.name} is ${campaign.status}; only active or scheduled campaigns can be paused.`);
      const [paused] = await ctx.db
        .update(campaigns)
        .set({ status: 'paused', updatedAt: ctx.now() })
        .where(sql`${campaigns.id} = ${campaign.id} and ${campaigns.status} in ('active', 'scheduled')`)
        .returning();
      if (!paused) throw new ToolRefusal('not_found', `${campaign.name} changed meanwhile; it is no longer active.`);
      return {
        campaignId: paused.id,
        name: paused.name,
        previousStatus: campaign.status,
        status: 'paused' as const,
        spentCents: paused.spentCents,
        budgetCents: paused.budgetCents,
      };
    },
  }),
];
