import { mayCall, type Actor } from '../tools/index.ts';
import type { AgentName } from './intents.ts';
import { AGENT_NAMES } from './names.ts';
import { AGENT_TOOLSETS } from './toolsets.ts';

/**
 * Who may talk to which agent through a door (Telegram's `/ask DEPARTMENT …` and a registered
 * group's agent, the HTTP API's POST /agents/{agent}/ask). The tool layer still decides every
 * tool call; this decides which agent a person may use at all:
 * - the CEO and admins: every agent;
 * - everyone else: their own department's agent, plus another department's agent only when
 *   that agent carries a tool their policy allows and their own agent does not have (the one
 *   reason to go next door). The CEO agent is the CEO's and the admins'.
 * So a marketing staffer may not ask finance (the only finance tool Marketing may use,
 * campaign_performance, their own agent has), but may ask Documents (get_document).
 * Traders use their commands and the support agent, never another agent.
 */
export type AskDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'not_staff' | 'ceo_only' | 'department' };

export function mayAsk(actor: Actor, agent: AgentName): AskDecision {
  if (actor.kind !== 'staff') return { allowed: false, reason: 'not_staff' };
  if (actor.role === 'ceo' || actor.role === 'admin' || actor.department === 'ceo') return { allowed: true };
  if (agent === actor.department) return { allowed: true };
  if (agent === 'ceo') return { allowed: false, reason: 'ceo_only' };
  const own = new Set(AGENT_TOOLSETS[actor.department]);
  const reachable = AGENT_TOOLSETS[agent].some((tool) => !own.has(tool) && mayCall(actor, tool).allowed);
  return reachable ? { allowed: true } : { allowed: false, reason: 'department' };
}

/** The agents a person may ask, in the usual order. */
export function askableAgents(actor: Actor): AgentName[] {
  return AGENT_NAMES.filter((agent) => mayAsk(actor, agent).allowed);
}
