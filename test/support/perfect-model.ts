import { routeMessage } from '../../agents/index.ts';
import type { EvalMessage } from '../../eval/messages.ts';
import { lastMessage, toolResults, type ChatScript } from './fake-ollama.ts';

/**
 * A scripted model that always picks the labelled tool of an evaluation message and answers
 * quoting figures from the result: the upper bound the harness must report as 100 %, and the
 * way benchmarks time everything but the model.
 */
export function perfectModel(messages: readonly EvalMessage[]): ChatScript {
  const byText = new Map(messages.map((m) => [m.message, m]));
  return (request) => {
    const last = lastMessage(request);
    if (last.role === 'user') {
      const expected = byText.get(last.content);
      if (!expected) return { content: 'Olá! Como posso ajudar?' };
      const offered = request.tools?.some((t) => t.function.name === expected.tool);
      // The CEO reaches department tools it lacks by delegating.
      if (!offered && request.tools?.some((t) => t.function.name === 'ask_department')) {
        return {
          toolCalls: [{ name: 'ask_department', arguments: { department: departmentOf(expected.tool), question: expected.message } }],
        };
      }
      // The labelled arguments, completed by what the router reads from the message (a query, an id).
      const routed = routeMessage(expected.agent, expected.message);
      const args = { ...(routed?.tool === expected.tool ? routed.args : {}), ...expected.args };
      return { toolCalls: [{ name: expected.tool, arguments: args }] };
    }
    // It answers in the language of the question, and claims nothing it did not do.
    const question = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const en = byText.get(question)?.locale === 'en';
    const figures = toolResults(request)
      .flatMap((r) => numbersIn(r))
      .slice(0, 2);
    if (figures.length > 0)
      return { content: en ? `The tool reports ${figures.join(' and ')}.` : `A ferramenta informa ${figures.join(' e ')}.` };
    return { content: en ? 'Here is what the tool returned for this request.' : 'Aqui está o que a ferramenta retornou para este pedido.' };
  };
}

function numbersIn(value: unknown, key = ''): string[] {
  if (typeof value === 'number' && !/id$/i.test(key)) return [String(value)];
  if (Array.isArray(value)) return value.flatMap((item) => numbersIn(item, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbersIn(v, k));
  return [];
}

const TOOL_DEPARTMENTS: Readonly<Record<string, string>> = {
  failed_payments: 'finance',
  refund_payment: 'finance',
  list_plans: 'subscriptions',
  subscription_status: 'subscriptions',
  change_plan: 'subscriptions',
  detect_anomalies: 'security',
  freeze_api_key: 'security',
  risk_status: 'security',
  bots_overview: 'support',
  stop_bot: 'security',
  open_tickets: 'support',
  search_knowledge_base: 'support',
  open_positions: 'support',
  list_leads: 'sales',
  list_influencers: 'marketing',
  verify_audit_chain: 'audit',
  query_audit_log: 'audit',
  search_documents: 'documents',
  get_config: 'settings',
};

function departmentOf(tool: string): string {
  return TOOL_DEPARTMENTS[tool] ?? 'finance';
}
