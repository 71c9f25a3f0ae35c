import { changesSomething, TOOLS, type ToolOutcome } from '../tools/index.ts';
import type { Locale } from './answer-gate.ts';
import { opensWithImperative, routeMessage, type AgentName } from './intents.ts';
import { leadStageName, renderToolResult } from './templates.ts';
import { AGENT_TOOLSETS } from './toolsets.ts';
import { AGENT_NAMES } from './names.ts';
import { departmentName } from './profiles.ts';

/** A department named in an English refusal, for a pt-BR sentence (an unknown name stays as it is). */
const departmentTitlePt = (name: string): string =>
  (AGENT_NAMES as readonly string[]).includes(name) ? departmentName(name as AgentName, 'pt-BR') : name;

// Actions are reported by the code, never left to the model: whenever a turn changed
// something, created an approval, was refused, or was asked for an action it did not take,
// the person gets a line written here from the tool outcome itself.

export type ActionStatus = 'done' | 'awaiting_approval' | 'refused' | 'not_done';

export interface ActionReport {
  /** The tool that acted (or that would act, for `not_done` when it is known). */
  readonly tool: string | undefined;
  readonly status: ActionStatus;
  readonly approvalId?: string | undefined;
  /** The line the person reads, in their language. */
  readonly text: string;
}

const t = (locale: Locale, pt: string, en: string) => (locale === 'en' ? en : pt);

/** What each action does and how to ask for it, for the "not done" line. */
const HOW_TO: Readonly<Record<string, { readonly pt: readonly [string, string]; readonly en: readonly [string, string] }>> = {
  refund_payment: {
    pt: ['reembolsar um pagamento', 'reembolse o pagamento <id>, motivo: …'],
    en: ['refund a payment', 'refund payment <id>, reason: …'],
  },
  change_plan: {
    pt: ['mudar o plano de um cliente', 'mude o plano de <email> para pro'],
    en: ["change a customer's plan", 'move <email> to the pro plan'],
  },
  freeze_api_key: {
    pt: ['congelar as chaves de API de alguém', 'congele as chaves de <email>, motivo: …'],
    en: ["freeze someone's API keys", 'freeze the API keys of <email>, reason: …'],
  },
  set_config: {
    pt: ['mudar uma configuração', 'mude trading.kill_switch para true'],
    en: ['change a setting', 'set trading.kill_switch to true'],
  },
  rollback_config: {
    pt: ['desfazer uma mudança de configuração', 'reverta <chave> para a versão 2'],
    en: ['undo a setting change', 'roll back <key> to version 2'],
  },
  publish_document: { pt: ['publicar um documento', 'publique <slug>: <texto>'], en: ['publish a document', 'publish <slug>: <text>'] },
  pause_campaign: { pt: ['pausar uma campanha', 'pause a campanha <nome>'], en: ['pause a campaign', 'pause the <name> campaign'] },
  update_lead_stage: {
    pt: ['mudar a etapa de um lead', 'marque o lead <email> como ganho'],
    en: ["change a lead's stage", 'mark lead <email> as won'],
  },
  schedule_follow_up: {
    pt: ['agendar um follow-up', 'agende follow-up com <email> em 3 dias'],
    en: ['schedule a follow-up', 'schedule a follow-up with <email> in 3 days'],
  },
  answer_ticket: {
    pt: ['responder um ticket', 'responda o ticket <id>: <mensagem>'],
    en: ['reply to a ticket', 'reply to ticket <id>: <message>'],
  },
  escalate_ticket: {
    pt: ['escalar um ticket', 'escale o ticket <id>, motivo: …'],
    en: ['escalate a ticket', 'escalate ticket <id>, reason: …'],
  },
  open_ticket: { pt: ['abrir um ticket', 'abra um ticket: <assunto>'], en: ['open a ticket', 'open a ticket: <subject>'] },
  stop_bot: { pt: ['parar um robô', 'pare o robô <id>'], en: ['stop a bot', 'stop bot <id>'] },
  start_bot: { pt: ['iniciar um robô', 'inicie o robô <id>'], en: ['start a bot', 'start bot <id>'] },
  run_backtest: {
    pt: ['rodar um backtest', 'backtest <estratégia> em BTC/USDT 1h'],
    en: ['run a backtest', 'backtest <strategy> on BTC/USDT 1h'],
  },
  force_exit: { pt: ['fechar uma posição', 'feche a posição do robô <id>'], en: ['close a position', 'close the position of bot <id>'] },
};

/** The agent's tools that change something or ask for an approval. */
export function actionToolsOf(agent: AgentName): string[] {
  const tools = agent === 'ceo' ? [] : AGENT_TOOLSETS[agent];
  return tools.filter(changesSomething);
}

/**
 * Whether the message asks for an action, and which tool would do it when the router knows:
 * the router maps it to a write or approval tool, or it opens with an imperative the router
 * could not map (tool unknown). A question or statement that only resembles an action ("what's
 * the threshold set to?", "o lead X desistiu") is not a request: the action is offered.
 */
export function requestedAction(
  agent: AgentName,
  message: string,
): { readonly tool: string | undefined; readonly offered?: boolean; readonly args?: Record<string, unknown> | undefined } | undefined {
  const route = routeMessage(agent, message);
  if (route && changesSomething(route.tool)) return { tool: route.tool, args: route.args };
  if (opensWithImperative(message)) return { tool: undefined };
  // Said as a statement or a question ("o lead X desistiu"): the read answers it and the action is offered.
  return route?.offer ? { tool: route.offer, offered: true, args: route.offerArgs } : undefined;
}

/**
 * An example request for a tool, with what the message named in place of the placeholders
 * ("mude security.brute_force_threshold para <valor>" rather than the generic example).
 */
function exampleFor(tool: string, locale: Locale, args: Record<string, unknown> | undefined): [string, string] | undefined {
  const entry = HOW_TO[tool];
  if (!entry) return undefined;
  const [what, example] = locale === 'en' ? entry.en : entry.pt;
  if (tool === 'set_config' && typeof args?.['key'] === 'string' && args['key'] !== 'trading.kill_switch') {
    return [what, locale === 'en' ? `set ${args['key']} to <value>` : `mude ${args['key']} para <valor>`];
  }
  if (tool === 'update_lead_stage' && typeof args?.['stage'] === 'string' && typeof args['email'] === 'string') {
    const stage = leadStageName(args['stage'], locale);
    return [what, locale === 'en' ? `mark lead ${args['email']} as ${stage}` : `marque o lead ${args['email']} como ${stage}`];
  }
  const filled = example
    .replace('<email>', typeof args?.['email'] === 'string' ? args['email'] : '<email>')
    .replace('<id>', String(args?.['paymentId'] ?? args?.['ticketId'] ?? args?.['botId'] ?? '<id>'))
    .replace(/<chave>|<key>/, typeof args?.['key'] === 'string' ? args['key'] : locale === 'en' ? '<key>' : '<chave>')
    .replace(/<nome>|<name>/, typeof args?.['campaign'] === 'string' ? args['campaign'] : locale === 'en' ? '<name>' : '<nome>');
  return [what, filled];
}

const REFUSAL_PT: Readonly<Record<string, string>> = {
  forbidden: 'sem permissão',
  invalid_arguments: 'dados inválidos',
  not_found: 'não encontrado',
  failed: 'falhou',
  unknown_tool: 'ferramenta inexistente',
};
const REFUSAL_EN: Readonly<Record<string, string>> = {
  forbidden: 'not allowed',
  invalid_arguments: 'invalid details',
  not_found: 'not found',
  failed: 'failed',
  unknown_tool: 'no such tool',
};

/** The tools' most frequent refusals in Portuguese (others are quoted as the tool wrote them). */
const REFUSALS_PT: readonly (readonly [RegExp, (m: RegExpExecArray) => string])[] = [
  [/^No payment (\S+)\.$/, (m) => `pagamento ${m[1]} não encontrado.`],
  [
    /^(A refund|Changing plans) needs Stripe: set STRIPE_SECRET_KEY/,
    (m) =>
      `${m[1] === 'A refund' ? 'reembolsos precisam' : 'mudanças de plano precisam'} do Stripe: defina STRIPE_SECRET_KEY (sem ela o faturamento roda em modo local e nada é cobrado nem reembolsado).`,
  ],
  [/^No ticket (\S+)\.$/, (m) => `ticket ${m[1]} não encontrado.`],
  [/^No bot (\S+) in this account\.$/, (m) => `robô ${m[1]} não encontrado nesta conta.`],
  [/^No lead with the email (\S+)\.$/, (m) => `nenhum lead com o e-mail ${m[1]}.`],
  [/^No trader with the email (\S+)\.$/, (m) => `nenhum trader com o e-mail ${m[1]}.`],
  [/^No staff member with the email (\S+)\.$/, (m) => `nenhum funcionário com o e-mail ${m[1]}.`],
  [/^No campaign called (.+)\.$/, (m) => `nenhuma campanha chamada ${m[1]}.`],
  [/^No document ([a-z0-9-]+);/, (m) => `documento ${m[1]} não encontrado.`],
  [/^No setting ([\w.]+) \(did you mean (.+)\?\)\.$/, (m) => `a configuração ${m[1]} não existe (quis dizer ${m[2]}?).`],
  [/^No setting ([\w.]+)\.$/, (m) => `a configuração ${m[1]} não existe.`],
  [/^([\w.]+) is already (.+?); nothing to change\.$/, (m) => `${m[1]} já está em ${m[2]}; nada a mudar.`],
  [/^Say which trader \(their email\)\.$/, () => 'diga qual trader (o e-mail).'],
  [/^A trader can only see their own account\.$/, () => 'um trader só vê a própria conta.'],
  [/^No account to act on\.$/, () => 'nenhuma conta para agir.'],
  [/^No document ([a-z0-9-]+); search_documents finds the slug\.$/, (m) => `documento ${m[1]} não encontrado.`],
  [/^No document matches "(.+)"; search_documents lists them\.$/, (m) => `nenhum documento corresponde a "${m[1]}".`],
  [/^([a-z0-9-]+) has no version (\d+) \(current: (\d+)\)\.$/, (m) => `${m[1]} não tem a versão ${m[2]} (atual: ${m[3]}).`],
  [
    /^That text is identical to version (\d+) of ([a-z0-9-]+); nothing to publish\.$/,
    (m) => `o texto é igual à versão ${m[1]} de ${m[2]}; nada a publicar.`,
  ],
  [/^(\d+) campaigns match (.+?): (.+)$/, (m) => `${m[1]} campanhas correspondem a ${m[2]}: ${m[3]}`],
  [
    /^(.+) is (\w+); only active or scheduled campaigns can be paused\.$/,
    (m) => `${m[1]} está ${m[2]}; só campanhas ativas ou agendadas podem ser pausadas.`,
  ],
  [/^(.+) changed meanwhile; it is no longer active\.$/, (m) => `${m[1]} mudou enquanto isso; não está mais ativa.`],
  [
    /^(\d+) leads share the email (\S+); ask the sales head to merge them\.$/,
    (m) => `${m[1]} leads têm o e-mail ${m[2]}; peça ao responsável de Vendas para juntá-los.`,
  ],
  [/^(\S+) is already in the (\w+) stage\.$/, (m) => `${m[1]} já está na etapa ${m[2]}.`],
  [/^Say why the lead was lost \(reason\)\.$/, () => 'diga por que o lead foi perdido (motivo).'],
  [/^(\S+) is already (\w+); no follow-up to schedule\.$/, (m) => `${m[1]} já está ${m[2]}; não há follow-up a agendar.`],
  [
    /^(\S+) has no active exchange key or live bot to freeze\.$/,
    (m) => `${m[1]} não tem chave de corretora ativa nem robô real para congelar.`,
  ],
  [
    /^([\w.]+) holds a secret; secrets are set with the secrets command, never through an agent\.$/,
    (m) => `${m[1]} guarda um segredo; segredos se definem pelo comando de segredos, nunca por um agente.`,
  ],
  [/^Invalid value for ([\w.]+): (.+)$/, (m) => `valor inválido para ${m[1]}: ${m[2]}`],
  [/^([\w.]+) holds a (\w+), not a (\w+)\.$/, (m) => `${m[1]} guarda ${m[2]}, não ${m[3]}.`],
  [/^No setting ([\w.]+) \(several match: (.+)\)\.$/, (m) => `a configuração ${m[1]} não existe (várias correspondem: ${m[2]}).`],
  [/^([\w.]+) has only one version; there is nothing to go back to\.$/, (m) => `${m[1]} só tem uma versão; não há para onde voltar.`],
  [/^([\w.]+) has no version (\d+)\.$/, (m) => `${m[1]} não tem a versão ${m[2]}.`],
  [
    /^Not enough (\w+) candles of (\S+) to backtest \(have (\d+)\)\.$/,
    (m) => `não há candles de ${m[1]} suficientes de ${m[2]} para o backtest (há ${m[3]}).`,
  ],
  [
    /^This bot is frozen by Security; its positions cannot be traded until the freeze is lifted\.$/,
    () => 'este robô está congelado pela Segurança; suas posições não podem ser negociadas até o congelamento ser retirado.',
  ],
  [
    /^The (\w+) plan allows (\d+) backtests a day and (\d+) ran today(?:; upgrade to (\w+) for more)?\.$/,
    (m) =>
      `o plano ${m[1]} permite ${m[2]} backtests por dia e ${m[3]} já rodaram hoje${m[4] ? `; mude para o ${m[4]} para ter mais` : ''}.`,
  ],
  [
    /^The (\w+) plan allows (\d+) running bot\(s\) and (\d+) already run(?:; upgrade to (\w+) for more)?\.$/,
    (m) => `o plano ${m[1]} permite ${m[2]} robô(s) rodando e ${m[3]} já rodam${m[4] ? `; mude para o ${m[4]} para ter mais` : ''}.`,
  ],
  [
    /^Live trading is not included in the (\w+) plan; upgrade to (.+) to trade live\.$/,
    (m) => `operação real não está incluída no plano ${m[1]}; mude para ${m[2]} para operar de verdade.`,
  ],
  [/^No company tenant\.$/, () => 'empresa não encontrada.'],
];

/**
 * Why the tool layer refused, in the person's language where the layer itself wrote it
 * (policy, argument validation); a tool's own reason is quoted as it is.
 */
export function refusalDetail(outcome: Extract<ToolOutcome, { ok: false }>, locale: Locale): string {
  if (locale === 'en') return outcome.message;
  const department = /^Not allowed: the (\w+) department may not use (\w+)\.$/.exec(outcome.message);
  if (department) return `o departamento ${departmentTitlePt(department[1]!)} não pode usar ${department[2]}.`;
  const trader = /^Not allowed: (\w+) is not available to traders\.$/.exec(outcome.message);
  if (trader) return `${trader[1]} não está disponível para traders.`;
  for (const [pattern, pt] of REFUSALS_PT) {
    const match = pattern.exec(outcome.message);
    if (match) return pt(match);
  }
  const invalid = /^Invalid arguments for \w+: (.*)$/.exec(outcome.message);
  if (invalid) {
    const fields = [
      ...new Set(
        invalid[1]!
          .split('; ')
          .map((issue) => issue.split(':')[0]!.trim())
          .filter(Boolean),
      ),
    ];
    return `confira ${fields.length === 1 ? 'o campo' : 'os campos'} ${fields.join(', ')}.`;
  }
  return outcome.message;
}

/** The code-written line for one outcome of an action tool. */
function reportOutcome(outcome: ToolOutcome, locale: Locale): ActionReport {
  if (!outcome.ok) {
    const why = (locale === 'en' ? REFUSAL_EN : REFUSAL_PT)[outcome.error] ?? outcome.error;
    return {
      tool: outcome.tool,
      status: 'refused',
      text: t(
        locale,
        `⛔ Não feito (${outcome.tool}, ${why}): ${refusalDetail(outcome, locale)}`,
        `⛔ Not done (${outcome.tool}, ${why}): ${outcome.message}`,
      ),
    };
  }
  if ('pendingApproval' in outcome) {
    const { id, approverDepartment, args } = outcome.pendingApproval;
    const summary = TOOLS.get(outcome.tool)?.summarize?.(args, locale) ?? outcome.pendingApproval.summary;
    const who =
      approverDepartment === 'ceo'
        ? 'CEO'
        : t(locale, `responsável de ${departmentTitlePt(approverDepartment)} ou do CEO`, `${approverDepartment} head or the CEO`);
    return {
      tool: outcome.tool,
      status: 'awaiting_approval',
      approvalId: id,
      text: t(
        locale,
        `⏳ Ainda não feito: aguardando aprovação do ${who} (aprovação ${id}): ${summary}.`,
        `⏳ Not done yet: awaiting approval by the ${who} (approval ${id}): ${summary}.`,
      ),
    };
  }
  return {
    tool: outcome.tool,
    status: 'done',
    text: t(
      locale,
      `✅ Feito: ${renderToolResult(outcome.tool, outcome.result, locale)}`,
      `✅ Done: ${renderToolResult(outcome.tool, outcome.result, locale)}`,
    ),
  };
}

/**
 * What this turn's action tools did, one line per tool (a later success of the same tool
 * replaces an earlier failure: a repaired call), or, when an action was asked for and no
 * action tool ran, an explicit "not done" with how to ask for it.
 */
export function reportActions(agent: AgentName, message: string, outcomes: readonly ToolOutcome[], locale: Locale): ActionReport[] {
  const byTool = new Map<string, ToolOutcome[]>();
  for (const outcome of outcomes) {
    if (!changesSomething(outcome.tool)) continue;
    byTool.set(outcome.tool, [...(byTool.get(outcome.tool) ?? []), outcome]);
  }
  const reports: ActionReport[] = [];
  for (const list of byTool.values()) {
    const succeeded = list.filter((o) => o.ok);
    for (const outcome of succeeded.length > 0 ? succeeded : [list.at(-1)!]) reports.push(reportOutcome(outcome, locale));
  }
  if (reports.length > 0) return reports;
  const asked = requestedAction(agent, message);
  if (!asked) return [];
  return [
    {
      tool: asked.tool,
      status: 'not_done',
      text: asked.offered ? offerText(asked.tool!, locale, asked.args) : notDoneText(agent, asked.tool, locale, asked.args),
    },
  ];
}

function offerText(tool: string, locale: Locale, args: Record<string, unknown> | undefined): string {
  const [what, example] = exampleFor(tool, locale, args) ?? [tool, tool];
  return t(
    locale,
    `ℹ️ Nada foi alterado. Se quiser ${what}, peça diretamente: "${example}".`,
    `ℹ️ Nothing was changed. If you want to ${what}, ask for it directly: "${example}".`,
  );
}

function notDoneText(agent: AgentName, tool: string | undefined, locale: Locale, args: Record<string, unknown> | undefined): string {
  const head = t(
    locale,
    '⚠️ Nada foi feito: nenhuma ação foi executada neste pedido.',
    '⚠️ Nothing was done: no action was carried out for this request.',
  );
  const how = (name: string) => {
    const found = exampleFor(name, locale, name === tool ? args : undefined);
    if (!found) return undefined;
    const [what, example] = found;
    return t(locale, `para ${what}, peça "${example}"`, `to ${what}, ask "${example}"`);
  };
  const candidates = tool ? [tool] : actionToolsOf(agent);
  const ways = candidates.map(how).filter((line): line is string => !!line);
  if (ways.length === 0) {
    return `${head} ${t(locale, 'Este agente só consulta; peça a ação ao departamento responsável.', 'This agent only reads; ask the department in charge for the action.')}`;
  }
  return `${head} ${t(locale, 'Para fazer', 'To do it')}: ${ways.slice(0, 3).join('; ')}.`;
}
