import type { AgentName } from '../agents/index.ts';
import type { Actor } from '../tools/index.ts';

// Who may talk to which agent on Telegram (`/ask DEPARTMENT …`, and the agent of a registered
// group): the agents' one rule (agents/access.ts), shared with the HTTP API's ask route.
export { askableAgents, mayAsk, type AskDecision } from '../agents/index.ts';

/** The agent a staff member talks to by default: their department's (the CEO's is the ceo agent). */
export function homeAgent(actor: Extract<Actor, { kind: 'staff' }>): AgentName {
  return actor.department;
}
