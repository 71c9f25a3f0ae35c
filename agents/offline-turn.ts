import { changesSomething, TOOLS, invokeTool, type ToolContext, type ToolOutcome } from '../tools/index.ts';
import { refusalDetail, reportActions, type ActionReport } from './actions.ts';
import type { GateReason } from './answer-gate.ts';
import { detectLocale, type Locale } from '../i18n/index.ts';
import { routeMessage, type AgentName } from './intents.ts';
import { renderToolResult } from './templates.ts';

/** Why a model's answer was not shown: a rule of the answer gate, or figures no tool produced. */
export type AnswerRejection = GateReason | 'ungrounded';

export interface TurnToolCall {
  readonly tool: string;
  readonly ok: boolean;
  readonly args?: unknown;
  /** Who chose the call: the model, or the router standing in for it. */
  readonly by: 'model' | 'router';
}

export interface TurnResult {
  readonly agent: AgentName;
  readonly answer: string;
  /** Each tool call of the turn, with the arguments it was given and who chose it. */
  readonly toolCalls: TurnToolCall[];
  readonly mode: 'ollama' | 'offline';
  /**
   * Whether the answer's figures all come from tool results of this turn. False when the model
   * stated a figure no tool produced; its answer was then replaced (`answerFrom: 'template'`).
   */
  readonly grounded: boolean;
  /** Who wrote the text: the model, or the deterministic templates. */
  readonly answerFrom: 'model' | 'template';
  /** Why the model's answer was replaced, when it was. */
  readonly rejectedBecause?: AnswerRejection | undefined;
  /**
   * What the turn did or did not do, written by the code from the tool outcomes (done,
   * awaiting approval, refused, not done); these lines end `answer`.
   */
  readonly actions: readonly ActionReport[];
  /** Identical tool calls the model repeated in the turn (each ran once). */
  readonly repeatedCalls: number;
  readonly modelCalls: number;
  /** Time spent waiting for the model; the rest of `elapsedMs` is the turn's own overhead. */
  readonly modelMs: number;
  /** The tool outcomes of the turn (delegated turns included). */
  readonly outcomes: readonly ToolOutcome[];
  readonly elapsedMs: number;
}

/**
 * Answers without the model: the deterministic router picks the tool, the tool layer runs it
 * (policy, scope, approvals, audit as always), and a template writes the answer, which says
 * that the model was offline. Its numbers come only from the tool result.
 */
/** Why the model did not answer, as the notice on the answer says it. */
export type OfflineReason = 'offline' | 'missing' | 'timed out' | 'not used' | 'unverified';

const NOTICES: Readonly<Record<OfflineReason, { en: string; pt: string }>> = {
  offline: { en: '(model offline: answered without it)', pt: '(modelo offline: resposta sem o modelo)' },
  missing: { en: '(model not installed in Ollama: answered without it)', pt: '(modelo não instalado no Ollama: resposta sem o modelo)' },
  'timed out': { en: '(model timed out: answered without it)', pt: '(o modelo não respondeu a tempo: resposta sem o modelo)' },
  'not used': { en: '(answered without the model, as asked)', pt: '(resposta sem o modelo, como pedido)' },
  unverified: {
    en: '(model answer unverified: answered from the tools)',
    pt: '(resposta do modelo não conferida: resposta pelas ferramentas)',
  },
};

/** What each agent can do without the model, as a person would ask for it. */
const CAPABILITIES: Readonly<Record<AgentName, { readonly pt: readonly string[]; readonly en: readonly string[] }>> = {
  ceo: {
    pt: ['resumo da empresa ("como estamos?")', 'MRR e receita', 'lucro dos robôs', 'funil de vendas', 'campanhas', 'eventos de segurança'],
    en: ['company overview ("how are we doing?")', 'MRR and revenue', "the bots' profit", 'sales funnel', 'campaigns', 'security events'],
  },
  finance: {
    pt: [
      'MRR, ARR e churn',
      'pagamentos com falha ("pagamentos que falharam na semana")',
      'reembolsar um pagamento (com o id)',
      'assinatura de um cliente (com o e-mail)',
      'planos e preços',
    ],
    en: [
      'MRR, ARR and churn',
      'failed payments ("failed payments this week")',
      'refund a payment (with its id)',
      "a customer's subscription (with the e-mail)",
      'plans and prices',
    ],
  },
  marketing: {
    pt: ['desempenho das campanhas', 'influenciadores', 'pausar uma campanha (pelo nome)', 'funil de vendas', 'documentos'],
    en: ['campaign performance', 'influencers', 'pause a campaign (by name)', 'sales funnel', 'documents'],
  },
  sales: {
    pt: ['funil de vendas', 'leads (por etapa)', 'mudar a etapa de um lead (com o e-mail)', 'agendar follow-up', 'planos e preços'],
    en: ['sales funnel', 'leads (by stage)', "change a lead's stage (with the e-mail)", 'schedule a follow-up', 'plans and prices'],
  },
  security: {
    pt: [
      'eventos de segurança',
      'anomalias e logins suspeitos',
      'congelar as chaves de alguém (com o e-mail)',
      'robôs com problema',
      'parar um robô (com o id)',
      'trilha de auditoria',
    ],
    en: [
      'security events',
      'anomalies and suspicious logins',
      "freeze someone's keys (with the e-mail)",
      'bots in trouble',
      'stop a bot (with its id)',
      'audit log',
    ],
  },
  support: {
    pt: [
      'tickets abertos',
      'base de conhecimento',
      'responder ou escalar um ticket (com o id)',
      'robôs, lucro e posições de um cliente (com o e-mail)',
      'plano de um cliente',
    ],
    en: [
      'open tickets',
      'knowledge base',
      'reply to or escalate a ticket (with its id)',
      "a customer's bots, profit and positions (with the e-mail)",
      "a customer's plan",
    ],
  },
  audit: {
    pt: [
      'registros da auditoria (por ferramenta ou resultado)',
      'verificar a integridade da trilha',
      'eventos de segurança',
      'histórico de configurações e documentos',
    ],
    en: ['audit log entries (by tool or outcome)', "verify the trail's integrity", 'security events', 'history of settings and documents'],
  },
  documents: {
    pt: ['procurar documentos', 'abrir um documento (pelo nome)', 'histórico de versões', 'publicar uma nova versão (slug: texto)'],
    en: ['search documents', 'open a document (by name)', 'version history', 'publish a new version (slug: text)'],
  },
  settings: {
    pt: [
      'ver configurações',
      'histórico de uma configuração',
      'mudar uma configuração ("mude trading.kill_switch para true")',
      'desfazer uma mudança',
      'verificar a auditoria',
    ],
    en: [
      'view settings',
      "a setting's history",
      'change a setting ("set trading.kill_switch to true")',
      'undo a change',
      'verify the audit log',
    ],
  },
  subscriptions: {
    pt: [
      'planos e preços',
      'assinatura de um cliente (com o e-mail)',
      'mudar o plano de um cliente',
      'renovações com falha',
      'MRR e churn',
    ],
    en: ['plans and prices', "a customer's subscription (with the e-mail)", "change a customer's plan", 'failed renewals', 'MRR and churn'],
  },
};

export async function answerOffline(
  ctx: ToolContext,
  agent: AgentName,
  message: string,
  reason: OfflineReason = 'offline',
  readerLocale?: Locale,
): Promise<TurnResult> {
  const started = performance.now();
  const locale = readerLocale ?? detectLocale(message);
  const notice = locale === 'en' ? NOTICES[reason].en : NOTICES[reason].pt;
  const route = routeMessage(agent, message, ctx.now());
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  if (!route) {
    const can = CAPABILITIES[agent][locale === 'en' ? 'en' : 'pt'];
    const help =
      locale === 'en'
        ? `I can't do that without the model. Here I can: ${can.join('; ')}.`
        : `Sem o modelo não consigo fazer isso. Aqui eu consigo: ${can.join('; ')}.`;
    const actions = reportActions(agent, message, [], locale);
    return {
      agent,
      answer: joinAnswer(`${notice} ${help}`, actions),
      toolCalls: [],
      mode: 'offline',
      grounded: true,
      answerFrom: 'template',
      actions,
      repeatedCalls: 0,
      modelCalls: 0,
      modelMs: 0,
      outcomes: [],
      elapsedMs: elapsed(),
    };
  }
  const outcome = await invokeTool(TOOLS, { ...ctx, agent }, route.tool, route.args);
  const actions = reportActions(agent, message, [outcome], locale);
  return {
    agent,
    answer: joinAnswer(`${notice}\n${renderReads([outcome], locale)}`.trim(), actions),
    toolCalls: [{ tool: route.tool, ok: outcome.ok, args: route.args, by: 'router' }],
    mode: 'offline',
    grounded: true,
    answerFrom: 'template',
    actions,
    repeatedCalls: 0,
    modelCalls: 0,
    modelMs: 0,
    outcomes: [outcome],
    elapsedMs: elapsed(),
  };
}

/** The read tools' results in the person's language; action tools are reported by `reportActions`. */
export function renderReads(outcomes: readonly ToolOutcome[], locale: 'pt-BR' | 'en'): string {
  return outcomes
    .filter((o) => !changesSomething(o.tool))
    .map((o) =>
      'result' in o
        ? renderToolResult(o.tool, o.result, locale)
        : o.ok
          ? o.message
          : locale === 'en'
            ? o.message
            : `Não consegui consultar (${o.tool}): ${refusalDetail(o, locale)}`,
    )
    .join('\n');
}

/** An answer with the code-written action lines at its end. */
export function joinAnswer(body: string, actions: readonly ActionReport[]): string {
  return [body, ...actions.map((a) => a.text)].filter((part) => part.trim() !== '').join('\n');
}
