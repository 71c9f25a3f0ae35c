import { agentByName, AGENT_NAMES, runTurn, settleTurns } from '../../agents/index.ts';
import { actorForEmail, ceoEmail } from '../../tools/index.ts';
import { openAgents } from '../open-agents.ts';
import { withRuntime } from '../open-runtime.ts';
import { UsageError } from '../../errors/index.ts';
import { exchangeWhenReachable } from '../../trading/index.ts';

/**
 * One turn with an agent as a staff member (default: the CEO): through the local model when
 * Ollama answers, through the router and templates otherwise (or with --offline).
 */
export async function askCommand(
  agentName: string,
  message: string,
  options: { as?: string; offline?: boolean; json?: boolean },
): Promise<void> {
  const agent = agentByName(agentName);
  if (!agent)
    throw new UsageError(
      `Unknown agent "${agentName}". Agents: ${AGENT_NAMES.join(', ')} (pt-BR names work too: financeiro, vendas, segurança, sac, auditoria, documentos, configurações, assinaturas).`,
    );
  if (message.trim() === '') throw new UsageError('Say something to the agent.');
  if (message.length > 4_000) throw new UsageError(`The message has ${message.length} characters; the limit is 4000.`);
  await withRuntime(async (runtime) => {
    const { database, billing } = runtime;
    const email = options.as ?? (await ceoEmail(database.db));
    const actor = email ? await actorForEmail(database.db, email) : undefined;
    if (!actor) throw new UsageError(`No staff member or trader ${email ?? '(no CEO in the database)'}; pass --as EMAIL.`);
    const agents = openAgents(runtime);
    const turn = await runTurn(agents, {
      agent,
      message,
      ctx: { db: database.db, actor, billing, now: () => new Date(), marketData: exchangeWhenReachable(runtime.paperMarkets) },
      channel: 'cli',
      offline: options.offline ?? false,
    });
    if (options.json) {
      const {
        agent: name,
        answer,
        toolCalls,
        mode,
        grounded,
        answerFrom,
        rejectedBecause,
        actions,
        repeatedCalls,
        modelCalls,
        modelMs,
        elapsedMs,
      } = turn;
      console.log(
        JSON.stringify({
          agent: name,
          answer,
          toolCalls,
          mode,
          grounded,
          answerFrom,
          rejectedBecause: rejectedBecause ?? null,
          actions: actions.map(({ tool, status, approvalId }) => ({ tool: tool ?? null, status, approvalId: approvalId ?? null })),
          repeatedCalls,
          modelCalls,
          modelMs,
          elapsedMs,
        }),
      );
    } else {
      console.log(turn.answer);
    }
    await settleTurns(agents);
  });
}
