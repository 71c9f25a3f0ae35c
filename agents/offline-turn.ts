import { TOOLS, invokeTool, type ToolContext } from '../tools/index.ts';
import { detectLocale, routeMessage, type AgentName } from './router.ts';
import { renderToolResult } from './templates.ts';

export interface TurnResult {
  readonly agent: AgentName;
  readonly answer: string;
  readonly toolCalls: { readonly tool: string; readonly ok: boolean }[];
  readonly mode: 'ollama' | 'offline';
  /** Every figure in the answer comes from a tool result of this turn. */
  readonly grounded: boolean;
  readonly elapsedMs: number;
}

/**
 * Answers without the model: the deterministic router picks the tool, the tool layer runs it
 * (policy, scope, approvals, audit as always), and a template writes the answer, which says
 * that the model was offline. Its numbers come only from the tool result.
 */
export async function answerOffline(ctx: ToolContext, agent: AgentName, message: string, reason = 'offline'): Promise<TurnResult> {
  const started = performance.now();
  const locale = detectLocale(message);
  const notice = locale === 'en' ? `(model ${reason}: answered without it)` : `(modelo ${reason === 'offline' ? 'offline' : reason}: resposta sem o modelo)`;
  const route = routeMessage(agent, message);
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  if (!route) {
    const help = locale === 'en'
      ? "I can't understand that without the model. Try, for example: \"MRR\", \"failed payments\", \"plans\", \"bots of someone@example.com\", \"verify the audit log\"."
      : 'Sem o modelo não consigo entender esse pedido. Tente, por exemplo: "MRR", "pagamentos com falha", "planos", "robôs de fulano@exemplo.com", "verificar auditoria".';
    return { agent, answer: `${notice} ${help}`, toolCalls: [], mode: 'offline', grounded: true, elapsedMs: elapsed() };
  }
  const outcome = await invokeTool(TOOLS, { ...ctx, agent }, route.tool, route.args);
  const body = outcome.ok ? ('result' in outcome ? renderToolResult(route.tool, outcome.result, locale) : outcome.message) : outcome.message;
  return { agent, answer: `${notice}\n${body}`, toolCalls: [{ tool: route.tool, ok: outcome.ok }], mode: 'offline', grounded: true, elapsedMs: elapsed() };
}
