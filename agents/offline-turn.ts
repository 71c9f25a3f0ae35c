import { TOOLS, invokeTool, type ToolContext, type ToolOutcome } from '../tools/index.ts';
import { detectLocale, routeMessage, type AgentName } from './router.ts';
import { renderToolResult } from './templates.ts';

export interface TurnResult {
  readonly agent: AgentName;
  readonly answer: string;
  /** Each tool call of the turn, with the arguments it was given. */
  readonly toolCalls: { readonly tool: string; readonly ok: boolean; readonly args?: unknown }[];
  readonly mode: 'ollama' | 'offline';
  /**
   * Whether the answer's figures all come from tool results of this turn. False when the model
   * stated a figure no tool produced; its answer was then replaced (`answerFrom: 'template'`).
   */
  readonly grounded: boolean;
  /** Who wrote the text: the model, or the deterministic templates. */
  readonly answerFrom: 'model' | 'template';
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
  unverified: { en: '(model answer unverified: answered from the tools)', pt: '(resposta do modelo não conferida: resposta pelas ferramentas)' },
};

export async function answerOffline(ctx: ToolContext, agent: AgentName, message: string, reason: OfflineReason = 'offline'): Promise<TurnResult> {
  const started = performance.now();
  const locale = detectLocale(message);
  const notice = locale === 'en' ? NOTICES[reason].en : NOTICES[reason].pt;
  const route = routeMessage(agent, message);
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  if (!route) {
    const help = locale === 'en'
      ? "I can't understand that without the model. Try, for example: \"MRR\", \"failed payments\", \"plans\", \"bots of someone@example.com\", \"verify the audit log\"."
      : 'Sem o modelo não consigo entender esse pedido. Tente, por exemplo: "MRR", "pagamentos com falha", "planos", "robôs de fulano@exemplo.com", "verificar auditoria".';
    return { agent, answer: `${notice} ${help}`, toolCalls: [], mode: 'offline', grounded: true, answerFrom: 'template', modelCalls: 0, modelMs: 0, outcomes: [], elapsedMs: elapsed() };
  }
  const outcome = await invokeTool(TOOLS, { ...ctx, agent }, route.tool, route.args);
  const body = outcome.ok ? ('result' in outcome ? renderToolResult(route.tool, outcome.result, locale) : outcome.message) : outcome.message;
  return { agent, answer: `${notice}\n${body}`, toolCalls: [{ tool: route.tool, ok: outcome.ok, args: route.args }], mode: 'offline', grounded: true, answerFrom: 'template', modelCalls: 0, modelMs: 0, outcomes: [outcome], elapsedMs: elapsed() };
}
