import { z } from 'zod';
import { agentByName, renderToolResult, runTurn, type AgentName, type AgentRuntime } from '../agents/index.ts';
import { mayCall, mayDecide } from '../tools/index.ts';
import { revenueChart } from './charts/index.ts';
import { askableAgents, mayAsk } from './access.ts';
import { escapeMarkdown as md } from './markdown.ts';
import { updateTiming } from './send.ts';
import { callTool, type UpdateContext } from './update-context.ts';
import { departmentName, t } from './texts.ts';

// A staff member's side of the door: free text to their department's agent, /ask to another
// one when their role allows it, /report for the CEO, and the pending approvals they decide.

export const MAX_MESSAGE_CHARS = 4_000;

/** `/ask DEPARTMENT message`: a department name (pt-BR or English) and something to ask. */
export const askArgs = z.object({
  department: z.string().min(1).max(40),
  message: z.string().trim().min(1).max(MAX_MESSAGE_CHARS),
});

export interface AgentTurnDeps {
  readonly agents: AgentRuntime;
  /** Approvals the turn created, to announce to their deciders at once. */
  onPendingApprovals(ids: readonly string[]): Promise<void>;
}

/**
 * One turn of an agent for the person in this chat (memory per person, channel and agent is
 * kept by runTurn); "typing…" meanwhile; the answer split and sent in Markdown.
 */
export async function agentTurn(
  ctx: UpdateContext,
  deps: AgentTurnDeps,
  agent: AgentName,
  message: string,
  channel: string,
  heading?: string,
): Promise<void> {
  const turn = await ctx.typing(() => runTurn(deps.agents, { agent, message, ctx: ctx.tools, channel, locale: ctx.locale }));
  const timing = updateTiming.getStore();
  if (timing) timing.modelMs += turn.modelMs;
  const answer = withoutOfflineNotice(ctx, turn.mode, turn.answer);
  await ctx.reply(heading ? `**${heading}:**\n${answer}` : answer);
  const pending = turn.outcomes.flatMap((o) => ('pendingApproval' in o ? [o.pendingApproval.id] : []));
  if (pending.length > 0) await deps.onPendingApprovals(pending);
}

/** Staff told the model is offline, and when: once every OFFLINE_NOTICE_MS per person. */
const offlineNoticeGiven = new Map<string, number>();
const OFFLINE_NOTICE_MS = 6 * 3_600_000;

/**
 * An answer written without the model, without the agents' "(model offline: …)" line: a
 * customer never reads it (the answer is the same to them), staff read a short note once in a
 * while, so they know why answers are plainer.
 */
function withoutOfflineNotice(ctx: UpdateContext, mode: string, answer: string): string {
  if (mode !== 'offline') return answer;
  const body = answer.replace(/^\([^)\n]*\)\s*/, '');
  if (ctx.person.actor.kind !== 'staff') return body;
  const now = ctx.tools.now().getTime();
  const last = offlineNoticeGiven.get(ctx.person.userId);
  if (last !== undefined && now - last < OFFLINE_NOTICE_MS) return body;
  offlineNoticeGiven.delete(ctx.person.userId);
  offlineNoticeGiven.set(ctx.person.userId, now);
  if (offlineNoticeGiven.size > 10_000) offlineNoticeGiven.delete(offlineNoticeGiven.keys().next().value!);
  return `_${t(ctx.locale, '(modelo offline)', '(model offline)')}_\n${body}`;
}

export async function askCommand(ctx: UpdateContext, deps: AgentTurnDeps, rest: string, channel: string): Promise<void> {
  const { locale, person } = ctx;
  const [, department = '', message = ''] = /^\s*(\S+)\s*([\s\S]*)$/.exec(rest) ?? [];
  const parsed = askArgs.safeParse({ department, message });
  if (!parsed.success) {
    await ctx.reply(
      t(
        locale,
        'Uso: /ask DEPARTAMENTO pergunta — ex.: /ask financeiro qual o MRR?',
        'Usage: /ask DEPARTMENT question — e.g. /ask finance what is the MRR?',
      ),
    );
    return;
  }
  const agent = agentByName(parsed.data.department);
  if (!agent) {
    await ctx.reply(
      t(
        locale,
        `Não conheço o departamento "${md(parsed.data.department.slice(0, 40))}". Departamentos: ${listOf(askableAgents(person.actor), locale)}.`,
        `I don't know the department "${md(parsed.data.department.slice(0, 40))}". Departments: ${listOf(askableAgents(person.actor), locale)}.`,
      ),
    );
    return;
  }
  const decision = mayAsk(person.actor, agent);
  if (!decision.allowed) {
    const allowed = listOf(askableAgents(person.actor), locale);
    const name = departmentName(agent, locale);
    await ctx.reply(
      decision.reason === 'ceo_only'
        ? t(
            locale,
            `O agente do CEO atende só o CEO e os administradores. Você pode perguntar a: ${allowed}.`,
            `The CEO agent serves only the CEO and admins. You may ask: ${allowed}.`,
          )
        : decision.reason === 'not_staff'
          ? t(locale, '/ask é para a equipe. Envie /help para ver seus comandos.', '/ask is for staff. Send /help to see your commands.')
          : t(
              locale,
              `🚫 Seu cargo não permite perguntar ao agente de ${name}. Você pode perguntar a: ${allowed}.`,
              `🚫 Your role does not allow asking the ${name} agent. You may ask: ${allowed}.`,
            ),
    );
    return;
  }
  const heading = agent === homeOf(ctx) ? undefined : departmentName(agent, locale);
  await agentTurn(ctx, deps, agent, parsed.data.message, channel, heading);
}

function homeOf(ctx: UpdateContext): AgentName | undefined {
  return ctx.person.actor.kind === 'staff' ? ctx.person.actor.department : undefined;
}

function listOf(agents: readonly AgentName[], locale: 'pt-BR' | 'en'): string {
  return agents.map((a) => departmentName(a, locale)).join(', ');
}

/** /report: the company's figures now, from the KPI tool (the CEO and admins). */
export async function reportCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<unknown>(ctx, 'company_kpis', {});
  if (!call.ok) {
    await ctx.reply(
      call.error === 'forbidden'
        ? t(locale, '/report é para o CEO e os administradores.', '/report is for the CEO and admins.')
        : `⚠️ ${md(call.message)}`,
    );
    return;
  }
  await ctx.reply(
    `📊 **${t(locale, 'Indicadores da empresa', 'Company KPIs')}**\n${md(renderToolResult('company_kpis', call.result, locale))}`,
  );
  // The revenue and MRR chart, for those whose policy shows them revenue.
  if (mayCall(ctx.person.actor, 'revenue_summary').allowed) {
    // As of the same instant as the KPIs above, so both show the same MRR.
    const chart = await ctx.typing(() => revenueChart(ctx.tools.db, { locale, months: 12, asOf: ctx.tools.now() }));
    await ctx.photo(chart.png, chart.caption);
  }
}

/** Whether a person decides any approvals (for /help). */
export function decidesApprovals(ctx: UpdateContext): boolean {
  const { actor } = ctx.person;
  return (
    actor.kind === 'staff' &&
    (actor.role === 'ceo' || actor.role === 'admin' || (actor.role === 'head' && mayDecide(actor, actor.department)))
  );
}
