import { agentByName, AGENT_NAMES } from '../../agents/index.ts';
import { issueLinkCode, registerGroup, unlinkTelegram, unregisterGroup } from '../../identity/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { UsageError } from '../../errors/index.ts';

async function printCode(kind: 'staff' | 'trader', options: { email: string; ttlHours: number; json?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    // A TelegramIdentityError is a usage error (its category): main prints it with the help hint, exit 2.
    const issued = await issueLinkCode(database.db, { email: options.email, kind, ttlHours: options.ttlHours });
    if (options.json) {
      console.log(
        JSON.stringify({
          email: options.email,
          name: issued.name,
          kind: issued.kind,
          code: issued.code,
          expiresAt: issued.expiresAt.toISOString(),
          instruction: `/start ${issued.code}`,
        }),
      );
      return;
    }
    const until = issued.expiresAt.toISOString().slice(0, 16).replace('T', ' ');
    console.log(
      `One-time Telegram code for ${issued.name} <${options.email}>, valid until ${until} UTC (${options.ttlHours} h), usable once:\n`,
    );
    console.log(`  ${issued.code}\n`);
    console.log(`They open a private chat with the bot and send:  /start ${issued.code}`);
    console.log('(Only its SHA-256 is stored: it cannot be shown again. A new code replaces this one.)');
  });
}

/** `staff invite --email E [--ttl-hours 24]`: a one-time code a staff member sends as /start CODE. */
export function staffInviteCommand(options: { email: string; ttlHours: number; json?: boolean }): Promise<void> {
  return printCode('staff', options);
}

/** `telegram link-code --email E`: the same for a trader (what the API's account page will call). */
export function telegramLinkCodeCommand(options: { email: string; ttlHours: number; json?: boolean }): Promise<void> {
  return printCode('trader', options);
}

export async function telegramUnlinkCommand(options: { email: string }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const closed = await unlinkTelegram(database.db, { email: options.email });
    console.log(closed > 0 ? `Unlinked ${options.email} from Telegram.` : `${options.email} had no Telegram link.`);
  });
}

function chatIdArgument(chatId: string): number {
  if (!/^-?\d{1,16}$/.test(chatId) || !Number.isSafeInteger(Number(chatId)))
    throw new UsageError(`CHAT_ID must be a Telegram chat id such as -1001234567890, got "${chatId}"`);
  return Number(chatId);
}

export async function telegramRegisterGroupCommand(chatId: string, department: string, options: { title?: string }): Promise<void> {
  const id = chatIdArgument(chatId);
  const agent = agentByName(department);
  if (!agent)
    throw new UsageError(
      `Unknown department "${department}". Departments: ${AGENT_NAMES.join(', ')} (pt-BR names work too: financeiro, vendas, segurança, sac, auditoria, documentos, configurações, assinaturas).`,
    );
  await withRuntime(async ({ database }) => {
    await registerGroup(database.db, id, agent, options.title);
    console.log(`Group ${id} registered for ${agent}: linked staff there may talk to the ${agent} agent (mention the bot, or /ask).`);
  });
}

export async function telegramUnregisterGroupCommand(chatId: string): Promise<void> {
  const id = chatIdArgument(chatId);
  await withRuntime(async ({ database }) => {
    console.log(
      (await unregisterGroup(database.db, id))
        ? `Group ${id} unregistered: the bot ignores it from now on.`
        : `Group ${id} was not registered.`,
    );
  });
}
