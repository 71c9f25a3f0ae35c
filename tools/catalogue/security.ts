import { and, desc, eq, gte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { bots, exchangeAccounts, queryRows, securityEvents } from '../../db/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { defineTool } from '../types.ts';

/** What detect_anomalies reports; the incident-response workflow reacts to each kind. */

/** How far back a security read looks: the last day by default, at most 30 days. */
const lookBackHours = z
  .number()
  .int()
  .min(1)
  .max(24 * 30)
  .default(24);

export const ANOMALY_KINDS = ['brute_force', 'new_country', 'api_key_new_country', 'withdrawal_attempt', 'order_burst'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** One finding of detect_anomalies: what the tool returns and what the incident workflow takes. */
export const anomalyFindingSchema = z.object({
  kind: z.enum(ANOMALY_KINDS),
  email: z.string().nullable(),
  ip: z.string().nullable(),
  count: z.number(),
  firstAt: z.string(),
  lastAt: z.string(),
  /** The bot, for an order burst. */
  botId: z.string().nullable().default(null),
});
export type AnomalyFinding = z.infer<typeof anomalyFindingSchema>;

export const securityTools = [
  defineTool({
    name: 'recent_security_events',
    description: 'Security events of the last N hours: counts by type and severity, and the latest ones.',
    domain: 'security',
    effect: 'read',
    access: { departments: ['security', 'audit'] },
    input: z.strictObject({
      hours: lookBackHours,
      severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).optional(),
      /** Only events of this type (login_failed, api_key_used, withdrawal_attempt, …). */
      type: z
        .string()
        .regex(/^[a-z][a-z0-9_]{0,59}$/, { error: 'expected an event type such as login_failed' })
        .optional(),
    }),
    output: z.object({
      hours: z.number(),
      total: z.number(),
      byType: z.record(z.string(), z.number()),
      latest: z.array(
        z.object({ type: z.string(), severity: z.string(), ip: z.string().nullable(), country: z.string().nullable(), at: z.string() }),
      ),
    }),
    async execute(ctx, input) {
      const since = new Date(ctx.now().getTime() - input.hours * 3_600_000);
      const where = and(
        gte(securityEvents.occurredAt, since),
        input.severity ? eq(securityEvents.severity, input.severity) : undefined,
        input.type ? eq(securityEvents.type, input.type) : undefined,
      );
      const counts = await ctx.db
        .select({ type: securityEvents.type, n: sql<number>`count(*)::int` })
        .from(securityEvents)
        .where(where)
        .groupBy(securityEvents.type);
      const latest = await ctx.db.select().from(securityEvents).where(where).orderBy(desc(securityEvents.occurredAt)).limit(10);
      return {
        hours: input.hours,
        total: counts.reduce((sum, c) => sum + c.n, 0),
        byType: Object.fromEntries(counts.map((c) => [c.type, c.n])),
        latest: latest.map((e) => ({ type: e.type, severity: e.severity, ip: e.ip, country: e.country, at: e.occurredAt.toISOString() })),
      };
    },
  }),
  defineTool({
    name: 'detect_anomalies',
    description: 'Brute-force logins, logins or API keys from new countries, withdrawal attempts, order bursts (last N hours).',
    domain: 'security',
    effect: 'read',
    access: { departments: ['security'] },
    input: z.strictObject({
      hours: lookBackHours,
      bruteForceThreshold: z.number().int().min(2).max(100).default(5),
      /** Orders one bot may place inside any 10 minutes before it counts as a burst. */
      orderBurstThreshold: z.number().int().min(2).max(10_000).default(20),
    }),
    output: z.object({
      /** The window looked at: "none" means none in these hours, not none ever. */
      hours: z.number(),
      findings: z.array(anomalyFindingSchema),
    }),
    async execute(ctx, input) {
      const since = new Date(ctx.now().getTime() - input.hours * 3_600_000).toISOString();
      // Brute force: at least `threshold` failed logins from one IP inside any 10-minute window.
      const rows = await queryRows<{
        kind: AnomalyKind;
        email: string | null;
        ip: string | null;
        n: number;
        first_at: string;
        last_at: string;
        bot_id: string | null;
      }>(
        ctx.db,
        sql`with failed as (
              select e.ip, e.user_id, e.occurred_at,
                count(*) over (partition by e.ip order by e.occurred_at range between interval '10 minutes' preceding and current row) as in_window
              from security_events e where e.type = 'login_failed' and e.occurred_at >= ${since}::timestamptz
            )
            , burst as (
              select o.bot_id, o.tenant_id, o.created_at,
                count(*) over (partition by o.bot_id order by o.created_at range between interval '10 minutes' preceding and current row) as in_window
              from orders o where o.created_at >= ${since}::timestamptz
            )
            select 'brute_force' as kind, max(u.email) as email, f.ip, count(*)::int as n, min(f.occurred_at)::text as first_at, max(f.occurred_at)::text as last_at, null::text as bot_id
            from failed f left join users u on u.id = f.user_id
            where f.ip in (select ip from failed where in_window >= ${input.bruteForceThreshold})
            group by f.ip
            union all
            select 'new_country', u.email, e.ip, count(*)::int, min(e.occurred_at)::text, max(e.occurred_at)::text, null
            from security_events e left join users u on u.id = e.user_id
            where e.type = 'new_ip' and e.occurred_at >= ${since}::timestamptz
              and e.country is not null and not exists (
                select 1 from security_events p where p.user_id = e.user_id and p.type = 'login_succeeded' and p.country = e.country and p.occurred_at < e.occurred_at)
            group by u.email, e.ip
            union all
            -- An exchange API key used from a country its owner has never logged in or traded from.
            select 'api_key_new_country', u.email, e.ip, count(*)::int, min(e.occurred_at)::text, max(e.occurred_at)::text, null
            from security_events e left join users u on u.id = e.user_id
            where e.type = 'api_key_used' and e.occurred_at >= ${since}::timestamptz and e.country is not null
              and exists (select 1 from security_events p where p.user_id = e.user_id and p.type in ('login_succeeded', 'api_key_used') and p.occurred_at < e.occurred_at)
              and not exists (
                select 1 from security_events p where p.user_id = e.user_id and p.type in ('login_succeeded', 'api_key_used') and p.country = e.country and p.occurred_at < e.occurred_at)
            group by u.email, e.ip
            union all
            select 'withdrawal_attempt', u.email, e.ip, count(*)::int, min(e.occurred_at)::text, max(e.occurred_at)::text, null
            from security_events e left join users u on u.id = e.user_id
            where e.type = 'withdrawal_attempt' and e.occurred_at >= ${since}::timestamptz
            group by u.email, e.ip
            union all
            -- A bot placing many orders within any 10 minutes (a runaway loop or a hijacked account).
            select 'order_burst', (select email from users where tenant_id = b.tenant_id order by created_at limit 1), null, count(*)::int, min(b.created_at)::text, max(b.created_at)::text, b.bot_id::text
            from burst b
            where b.bot_id in (select bot_id from burst where in_window >= ${input.orderBurstThreshold})
            group by b.bot_id, b.tenant_id`,
      );
      return {
        hours: input.hours,
        findings: rows.map((r) => ({
          kind: r.kind,
          email: r.email,
          ip: r.ip,
          count: r.n,
          firstAt: new Date(r.first_at).toISOString(),
          lastAt: new Date(r.last_at).toISOString(),
          botId: r.bot_id,
        })),
      };
    },
  }),
  defineTool({
    name: 'freeze_api_key',
    description: "Freeze a trader's exchange API keys and stop their live bots (needs approval by the Security head or the CEO).",
    domain: 'security',
    effect: 'approval',
    access: { departments: ['security'] },
    approverDepartment: 'security',
    input: z.strictObject({ email: z.email(), reason: z.string().min(3).max(300) }),
    output: z.object({ frozenAccounts: z.number(), frozenBots: z.number() }),
    summarize: (input, locale) =>
      locale === 'en'
        ? `Freeze the exchange keys of ${input.email}: ${input.reason}`
        : `Congelar as chaves de corretora de ${input.email}: ${input.reason}`,
    async tenantOf(ctx, input) {
      return (await traderScope(ctx, input.email)).tenantId;
    },
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      return ctx.db.transaction(async (tx) => {
        const accounts = await tx
          .update(exchangeAccounts)
          .set({ status: 'frozen', frozenAt: ctx.now(), frozenReason: input.reason, updatedAt: ctx.now() })
          .where(and(eq(exchangeAccounts.tenantId, scope.tenantId), eq(exchangeAccounts.status, 'active')))
          .returning({ id: exchangeAccounts.id });
        const frozenBots = await tx
          .update(bots)
          .set({ status: 'frozen', lastError: `frozen by Security: ${input.reason}`, updatedAt: ctx.now() })
          .where(and(eq(bots.tenantId, scope.tenantId), eq(bots.mode, 'live')))
          .returning({ id: bots.id });
        if (accounts.length === 0 && frozenBots.length === 0)
          throw new ToolRefusal('not_found', `${input.email} has no active exchange key or live bot to freeze.`);
        return { frozenAccounts: accounts.length, frozenBots: frozenBots.length };
      });
    },
  }),
];
