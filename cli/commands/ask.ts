import { agentByName, answerOffline } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import { actorForEmail, ceoEmail } from '../../tools/index.ts';
import { withRuntime } from '../runtime.ts';
import { UsageError } from './data.ts';

/**
 * One turn with an agent as a staff member (default: the CEO). Until the Ollama agents land,
 * every turn is answered by the offline router, and the answer says so.
 */
export async function askCommand(agentName: string, message: string, options: { as?: string; offline?: boolean; json?: boolean }): Promise<void> {
  const agent = agentByName(agentName);
  if (!agent) throw new UsageError(`Unknown agent "${agentName}". Agents: ceo, finance (financeiro), marketing, sales (vendas), security (segurança), support (sac), audit (auditoria), documents (documentos), settings (configurações), subscriptions (assinaturas).`);
  if (message.trim() === '') throw new UsageError('Say something to the agent.');
  await withRuntime(async ({ database }) => {
    const email = options.as ?? (await ceoEmail(database.db));
    const actor = email ? await actorForEmail(database.db, email) : undefined;
    if (!actor) throw new UsageError(`No staff member or trader ${email ?? '(no CEO in the database)'}; pass --as EMAIL.`);
    const turn = await answerOffline({ db: database.db, actor, billing: new BillingService(database.db, undefined), now: () => new Date() }, agent, message, options.offline ? 'offline' : 'not connected');
    console.log(options.json ? JSON.stringify(turn) : turn.answer);
  });
}
