import { sql } from 'drizzle-orm';
import { assertTenantScope, bots, botDrafts, getScoped, queryRows, selectScoped, type Database, type TenantScope } from '../../db/index.ts';
import { eq } from 'drizzle-orm';

// A bot's own history (issue 22, item 6): what was done to it and by whom, read from the audit
// log (every tool call is recorded there, with its actor, agent and outcome) — the draft it
// came from (the trader's words), its backtests, its starts, stops, exits and changes — under
// the trader's tenant scope.

export interface BotHistoryEntry {
  readonly at: Date;
  /** trader, staff, agent, system. */
  readonly actorKind: string;
  /** The person's name when the actor is one, else null. */
  readonly actorName: string | null;
  readonly agent: string | null;
  readonly tool: string;
  /** ok, denied, error, pending_approval. */
  readonly outcome: string;
}

export interface BotHistory {
  readonly bot: { readonly id: string; readonly name: string; readonly mode: string; readonly status: string };
  /** The draft it was built from: the trader's own words. */
  readonly draft: { readonly id: string; readonly description: string; readonly createdAt: Date } | null;
  /** Newest first. */
  readonly entries: readonly BotHistoryEntry[];
}

/**
 * The newest `limit` audited calls of `tools` about one of the scope's bots (its id in the
 * call's arguments), or about the draft it came from (the draft's id, or its words for the
 * draft's creation). Undefined when the bot is not the scope's.
 */
export async function botHistory(
  db: Database,
  scope: TenantScope,
  botId: string,
  tools: readonly string[],
  limit = 20,
): Promise<BotHistory | undefined> {
  assertTenantScope(scope);
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) return undefined;
  const [draft] = await selectScoped(db, scope, botDrafts, { where: eq(botDrafts.botId, bot.id), limit: 1 });
  const aboutDraft = draft
    ? sql` or a.args->>'draftId' = ${draft.id} or (a.tool = 'draft_bot_from_text' and a.args->>'text' = ${draft.description})`
    : sql``;
  const rows = await queryRows<{
    occurred_at: string;
    actor_kind: string;
    actor_name: string | null;
    agent: string | null;
    tool: string;
    outcome: string;
  }>(
    db,
    sql`select a.occurred_at::text as occurred_at, a.actor_kind, u.name as actor_name, a.agent, a.tool, a.outcome
        from audit_log a
        left join users u on a.actor_kind in ('trader', 'staff') and u.id::text = a.actor_id
        where a.tenant_id = ${scope.tenantId}
          and a.tool in (${sql.join(
            tools.map((tool) => sql`${tool}`),
            sql`, `,
          )})
          and (a.args->>'botId' = ${bot.id}${aboutDraft})
        order by a.occurred_at desc, a.id desc
        limit ${limit}`,
  );
  return {
    bot: { id: bot.id, name: bot.name, mode: bot.mode, status: bot.status },
    draft: draft ? { id: draft.id, description: draft.description, createdAt: draft.createdAt } : null,
    entries: rows.map((row) => ({
      at: new Date(row.occurred_at),
      actorKind: row.actor_kind,
      actorName: row.actor_name,
      agent: row.agent,
      tool: row.tool,
      outcome: row.outcome,
    })),
  };
}
