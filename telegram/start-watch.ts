import { botStateText, statusWord } from '../i18n/index.ts';
import type { LinkedPerson } from '../identity/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import { t } from './texts.ts';
import { callTool, type UpdateContext } from './update-context.ts';

// After /startbot the trader is told "started, waiting for its first tick"; the bot's first
// tick happens in a worker moments later. This follows each started bot until that tick (or a
// pause, an error, a stop) and tells the trader how it went, so "started" is never followed
// by a silent pause. State is read through the tool layer as the trader (bots_overview).

interface Watched {
  readonly person: LinkedPerson;
  readonly chatId: number;
  readonly botId: string;
  readonly label: string;
  /** When the watch began (the start); a tick after it is the first one. */
  readonly since: number;
}

type OverviewBot = { id: string; status: string; lastError: string | null; startedAt: string | null; lastTickAt: string | null };

/** How long a start is followed before the trader is told the first tick has not come. */
export const START_WATCH_MS = 10 * 60_000;

export class StartWatch {
  private readonly watched = new Map<string, Watched>();

  private readonly contextFor: (person: LinkedPerson, chatId: number) => UpdateContext;

  constructor(contextFor: (person: LinkedPerson, chatId: number) => UpdateContext) {
    this.contextFor = contextFor;
  }

  /** Bots being followed (for tests and the door's timer). */
  get size(): number {
    return this.watched.size;
  }

  watch(person: LinkedPerson, chatId: number, botId: string, label: string, now: Date): void {
    this.watched.set(botId, { person, chatId, botId, label, since: now.getTime() });
    if (this.watched.size > 10_000) this.watched.delete(this.watched.keys().next().value!);
  }

  /** Looks at every followed bot once; tells its owner when its state is known. Returns how many were told. */
  async check(now: Date): Promise<number> {
    let told = 0;
    const byPerson = new Map<string, Watched[]>();
    for (const w of this.watched.values()) byPerson.set(w.person.userId, [...(byPerson.get(w.person.userId) ?? []), w]);
    for (const list of byPerson.values()) {
      const ctx = this.contextFor(list[0]!.person, list[0]!.chatId);
      const call = await callTool<{ bots: OverviewBot[] }>(ctx, 'bots_overview', {});
      if (!call.ok) continue; // read again at the next check
      for (const w of list) {
        const index = call.result.bots.findIndex((b) => b.id === w.botId);
        const bot = call.result.bots[index];
        const text = bot ? followUp(w, bot, index + 1, ctx.locale, now) : undefined;
        if (!bot || text !== undefined) this.watched.delete(w.botId);
        if (text) {
          await this.contextFor(w.person, w.chatId).reply(text);
          told++;
        }
      }
    }
    return told;
  }
}

/** What to tell about a started bot now; undefined while its first tick has not come; '' to stop following silently. */
function followUp(w: Watched, bot: OverviewBot, number: number, locale: UpdateContext['locale'], now: Date): string | undefined {
  const why = botStateText(bot.status, bot.lastError, locale, number);
  if (why)
    return t(
      locale,
      `⏸ O robô ${w.label} não seguiu rodando: ${md(statusWord(bot.status, locale))}. ${md(why)}`,
      `⏸ Bot ${w.label} did not keep running: ${md(statusWord(bot.status, locale))}. ${md(why)}`,
    );
  if (bot.status !== 'running') return ''; // stopped by the trader meanwhile: nothing to say
  const ticked = bot.lastTickAt !== null && Date.parse(bot.lastTickAt) >= Math.max(w.since - 1_000, Date.parse(bot.startedAt ?? '') || 0);
  if (ticked)
    return t(locale, `✅ O robô ${w.label} fez o primeiro ciclo e está rodando.`, `✅ Bot ${w.label} ran its first tick and is running.`);
  if (now.getTime() - w.since >= START_WATCH_MS)
    return t(
      locale,
      `⏳ O robô ${w.label} está ligado, mas ainda não fez o primeiro ciclo. Veja /bots mais tarde; se continuar assim, escreva aqui para o suporte.`,
      `⏳ Bot ${w.label} is on but has not run its first tick yet. Check /bots later; if it stays so, write here to Support.`,
    );
  return undefined;
}
