import { z } from 'zod';
import { assistantCall, draftFromWords, ModelGateway, type AssistantRuntime, type AssistantTool } from '../../agents/index.ts';
import { UsageError } from '../../errors/index.ts';
import { draftCardLines, type DraftCardView, type Locale } from '../../i18n/index.ts';
import { actorForEmail, type Actor, type ToolOutcome } from '../../tools/index.ts';
import { exchangeWhenReachable } from '../../trading/index.ts';
import { withRuntime } from '../open-runtime.ts';

// `botcriptofy assistant …`: the trader's assistant (issue 22) at the command line, as the
// trader named by --email — the same tools the Telegram door will call: a draft from words,
// answers to its questions, its backtest, its start on PAPER (only with --confirm: the
// trader's own confirmation), its discard. Like every door it reads no table.

interface Common {
  email: string;
  draft?: string;
  json?: boolean;
  model?: boolean;
}

type Card = DraftCardView & { locale: Locale };

async function asTrader(options: Common, work: (runtime: AssistantRuntime, trader: Actor) => Promise<ToolOutcome>): Promise<void> {
  if (!z.email().safeParse(options.email).success) throw new UsageError(`--email expects an email, got "${options.email}".`);
  if (options.draft !== undefined && !z.uuid().safeParse(options.draft).success)
    throw new UsageError(`--draft expects a draft id (a UUID), got "${options.draft}".`);
  await withRuntime(async (runtime) => {
    const actor = await actorForEmail(runtime.database.db, options.email);
    if (actor?.kind !== 'trader') throw new UsageError(`No trader with the email ${options.email}.`);
    // The model only fills gaps, and only when it answers now; without it the rules draft alone.
    const gateway = options.model === false ? undefined : new ModelGateway(runtime.config.ollama);
    const model = gateway && (await gateway.status()).state === 'ready' ? gateway : undefined;
    const assistant: AssistantRuntime = {
      ctx: {
        db: runtime.database.db,
        billing: runtime.billing,
        now: () => new Date(),
        marketData: exchangeWhenReachable(runtime.paperMarkets),
      },
      model,
    };
    const outcome = await work(assistant, actor);
    if (!outcome.ok) {
      if (options.json) console.log(JSON.stringify({ ok: false, tool: outcome.tool, error: outcome.error, message: outcome.message }));
      console.error(`Error: ${outcome.message.replace(/\s+/g, ' ').trim()}`);
      process.exitCode = 1;
      return;
    }
    const result = (outcome as { result: { draft: Card | null } }).result;
    if (options.json) {
      console.log(JSON.stringify({ ok: true, ...result }));
      return;
    }
    if (!result.draft) {
      console.log('No open bot draft. / Nenhum rascunho de robô aberto.');
      return;
    }
    console.log(draftCardLines(result.draft, result.draft.locale).join('\n'));
  });
}

/** The draft named by --draft, or the trader's newest open one. */
async function draftIdOf(runtime: AssistantRuntime, trader: Actor, options: Common): Promise<string | ToolOutcome> {
  if (options.draft) return options.draft;
  const outcome = await assistantCall(runtime, trader, 'bot_draft', {});
  if (!outcome.ok) return outcome;
  const draft = (outcome as { result: { draft: { draftId: string } | null } }).result.draft;
  if (!draft) throw new UsageError('No open bot draft; start one: botcriptofy assistant draft --email E "quero um robô RSI no ETH de 1h…"');
  return draft.draftId;
}

function onDraft(tool: AssistantTool, extra: (options: Common & { confirm?: boolean }) => Record<string, unknown> = () => ({})) {
  return (options: Common & { confirm?: boolean }) =>
    asTrader(options, async (runtime, trader) => {
      const id = await draftIdOf(runtime, trader, options);
      if (typeof id !== 'string') return id;
      return assistantCall(runtime, trader, tool, { draftId: id, ...extra(options) }, { confirmed: options.confirm === true });
    });
}

export async function assistantDraftCommand(words: string[], options: Common): Promise<void> {
  const text = words.join(' ').trim();
  if (text === '')
    throw new UsageError('Describe the bot, e.g. "quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT".');
  await asTrader(options, (runtime, trader) => draftFromWords(runtime, trader, text));
}

export async function assistantAnswerCommand(words: string[], options: Common): Promise<void> {
  const text = words.join(' ').trim();
  if (text === '') throw new UsageError('Give the answer, e.g. "500 USDT" or "stop de 2 %".');
  await onDraft('change_bot_draft', () => ({ text }))(options);
}

export async function assistantShowCommand(options: Common): Promise<void> {
  await asTrader(options, (runtime, trader) =>
    assistantCall(runtime, trader, 'bot_draft', options.draft ? { draftId: options.draft } : {}),
  );
}

export const assistantBacktestCommand = onDraft('backtest_draft');
export const assistantDiscardCommand = onDraft('discard_draft');

export async function assistantStartCommand(options: Common & { confirm?: boolean }): Promise<void> {
  if (!options.confirm)
    throw new UsageError(
      'Starting a bot is your own decision: look at the draft and its backtest (assistant show), then run this again with --confirm. It starts on paper (simulated money).',
    );
  await onDraft('start_draft_on_paper')(options);
}
