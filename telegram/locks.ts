import { z } from 'zod';
import { formatDateTime, type Locale } from '../i18n/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { t } from './texts.ts';
import { durationText } from './trader-reports.ts';
import { callTool, failureSentence, type ToolCall, type UpdateContext } from './update-context.ts';

// freqtrade's /locks and /unlock, and /lock (freqtrade's API POST /locks) for a trader: pairs
// their bots do not enter until a time (exits still run), each through the trader's own tools
// (list_pair_locks, lock_pair, unlock_pair), in their language.

type Lock = {
  id: string;
  botId: string | null;
  botName: string | null;
  symbol: string;
  reason: string;
  lockedAt: string;
  lockedUntil: string;
  lockedBy: 'person' | 'engine';
};
type OverviewBot = { id: string; name: string };

/** `ul:<lock id without dashes>`: a /locks button lifting that lock. */
export const unlockButton = z
  .string()
  .regex(/^ul:[0-9a-f]{32}$/)
  .transform((data) => {
    const h = data.slice(3);
    return { lockId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
  });

const failed = (ctx: UpdateContext, call: Extract<ToolCall<unknown>, { ok: false }>) => ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`);
const shortId = (id: string) => id.slice(0, 8);

/** `BTC/USDT`, `btc/usdt`, `BTCUSDT` (a USDT, BRL, BTC or ETH quote) or `*`, as the tools take it. */
export function parsePair(text: string): string | undefined {
  const upper = text.trim().toUpperCase();
  if (upper === '*' || upper === 'ALL' || upper === 'TODOS') return '*';
  if (/^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/.test(upper)) return upper;
  const quote = /^([A-Z0-9]{2,12}?)(USDT|USDC|BRL|BTC|ETH)$/.exec(upper);
  return quote ? `${quote[1]}/${quote[2]}` : undefined;
}

/** `30m`, `2h`, `1d`, `45` (minutes): minutes, or undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,5})\s*(m|min|h|d)?$/i.exec(text.trim());
  if (!match) return undefined;
  const minutes =
    Number(match[1]) * ({ m: 1, min: 1, h: 60, d: 1440 } as const)[(match[2]?.toLowerCase() ?? 'm') as 'm' | 'min' | 'h' | 'd'];
  return minutes >= 1 ? minutes : undefined;
}

function reasonText(lock: Lock, locale: Locale): string {
  if (lock.reason === 'stop_loss_cooldown') return t(locale, 'pausa depois de um stop loss', 'cooldown after a stop loss');
  if (lock.reason === 'manual') return t(locale, 'travado por você', 'locked by you');
  return md(lock.reason);
}

function lockLine(lock: Lock, locale: Locale, now: Date): string {
  const pair = lock.symbol === '*' ? t(locale, 'todos os pares', 'every pair') : md(lock.symbol);
  const bot = lock.botName ? md(lock.botName) : t(locale, 'todos os robôs', 'every bot');
  const left = durationText(Math.max(60, (new Date(lock.lockedUntil).getTime() - now.getTime()) / 1000), locale);
  return t(
    locale,
    `🔒 \`#${shortId(lock.id)}\` **${pair}** — ${bot}\n   até ${formatDateTime(lock.lockedUntil, locale, true)} (faltam ${left}) · ${reasonText(lock, locale)}`,
    `🔒 \`#${shortId(lock.id)}\` **${pair}** — ${bot}\n   until ${formatDateTime(lock.lockedUntil, locale, true)} (${left} left) · ${reasonText(lock, locale)}`,
  );
}

/** /locks: the pairs the trader's bots do not enter now, until when and why. */
export async function locksCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ locks: Lock[] }>(ctx, 'list_pair_locks', {});
  if (!call.ok) return void (await failed(ctx, call));
  const { locks } = call.result;
  if (locks.length === 0)
    return void (await ctx.reply(
      t(
        locale,
        '🔓 Nenhum par travado: seus robôs podem entrar em todos os pares. Para travar um: /lock PAR DURAÇÃO [N], ex.: /lock BTC/USDT 2h',
        '🔓 No pair is locked: your bots may enter every pair. To lock one: /lock PAIR DURATION [N], e.g. /lock BTC/USDT 2h',
      ),
    ));
  const now = ctx.tools.now();
  const keyboard: InlineKeyboard = {
    inline_keyboard: locks.slice(0, 20).map((lock) => [
      {
        text: t(locale, `🔓 Destravar #${shortId(lock.id)} ${lock.symbol}`, `🔓 Unlock #${shortId(lock.id)} ${lock.symbol}`),
        callback_data: `ul:${lock.id.replace(/-/g, '')}`,
      },
    ]),
  };
  await ctx.reply(
    [
      t(
        locale,
        `**Pares travados** (${locks.length}) — sem novas entradas até o fim; as posições abertas continuam saindo:`,
        `**Locked pairs** (${locks.length}) — no new entries until they end; open positions still exit:`,
      ),
      ...locks.map((lock) => lockLine(lock, locale, now)),
      '',
      t(locale, 'Para destravar: o botão, /unlock ID ou /unlock PAR', 'To unlock: the button, /unlock ID or /unlock PAIR'),
    ].join('\n'),
    keyboard,
  );
}

const lockUsage = (locale: Locale) =>
  t(
    locale,
    'Uso: /lock PAR DURAÇÃO [N] — ex.: /lock BTC/USDT 2h (todos os robôs) ou /lock ETH/USDT 30m 2 (só o robô 2 do /bots); DURAÇÃO em m, h ou d, até 30d; PAR * trava todos.',
    'Usage: /lock PAIR DURATION [N] — e.g. /lock BTC/USDT 2h (every bot) or /lock ETH/USDT 30m 2 (only bot 2 of /bots); DURATION in m, h or d, up to 30d; PAIR * locks them all.',
  );

/** /lock PAIR DURATION [N]: no new entries in the pair (every pair with *) for a while, for bot N or every bot. */
export async function lockCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  if (args.length < 2 || args.length > 3) return void (await ctx.reply(lockUsage(locale)));
  const symbol = parsePair(args[0]!);
  const minutes = parseDuration(args[1]!);
  const n = args[2] === undefined ? undefined : z.coerce.number().int().min(1).max(999).safeParse(args[2]).data;
  if (!symbol || !minutes || minutes > 30 * 1440 || (args[2] !== undefined && n === undefined))
    return void (await ctx.reply(lockUsage(locale)));
  let botId: string | undefined;
  if (n !== undefined) {
    const list = await callTool<{ bots: OverviewBot[] }>(ctx, 'bots_overview', {});
    if (!list.ok) return void (await failed(ctx, list));
    botId = list.result.bots[n - 1]?.id;
    if (!botId)
      return void (await ctx.reply(
        t(locale, `Nenhum robô seu com o número ${n}. Veja /bots.`, `None of your bots has the number ${n}. See /bots.`),
      ));
  }
  const call = await callTool<Lock>(ctx, 'lock_pair', { symbol, minutes, ...(botId ? { botId } : {}) });
  if (!call.ok) return void (await failed(ctx, call));
  await ctx.reply(
    [
      t(
        locale,
        '✅ Travado: sem novas entradas até o fim (as posições abertas continuam saindo).',
        '✅ Locked: no new entries until it ends (open positions still exit).',
      ),
      lockLine(call.result, locale, ctx.tools.now()),
      t(locale, `Para destravar antes: /unlock ${shortId(call.result.id)}`, `To unlock sooner: /unlock ${shortId(call.result.id)}`),
    ].join('\n'),
  );
}

/** /unlock ID|PAIR: lifts one lock (its short id from /locks) or every lock on a pair. */
export async function unlockCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const usage = t(
    locale,
    'Uso: /unlock ID (o código do /locks) ou /unlock PAR, ex.: /unlock BTC/USDT',
    'Usage: /unlock ID (the code from /locks) or /unlock PAIR, e.g. /unlock BTC/USDT',
  );
  if (args.length !== 1) return void (await ctx.reply(usage));
  const ref = args[0]!.replace(/^#/, '');
  const idPrefix = /^[0-9a-f]{4,8}$/i.test(ref) ? ref.toLowerCase() : undefined;
  const symbol = idPrefix ? undefined : parsePair(ref);
  if (!idPrefix && !symbol) return void (await ctx.reply(usage));
  let which: { lockId: string } | { symbol: string };
  if (idPrefix) {
    const list = await callTool<{ locks: Lock[] }>(ctx, 'list_pair_locks', {});
    if (!list.ok) return void (await failed(ctx, list));
    const found = list.result.locks.filter((lock) => lock.id.startsWith(idPrefix));
    if (found.length !== 1)
      return void (await ctx.reply(
        found.length === 0
          ? t(locale, `Nenhuma trava #${md(idPrefix)} ativa. Veja /locks.`, `No lock #${md(idPrefix)} holds now. See /locks.`)
          : t(
              locale,
              `Mais de uma trava começa com #${md(idPrefix)}; use mais caracteres.`,
              `More than one lock starts with #${md(idPrefix)}; use more characters.`,
            ),
      ));
    which = { lockId: found[0]!.id };
  } else which = { symbol: symbol! };
  await unlock(ctx, which, symbol);
}

/** A /locks button: lifts that lock (a second press says it no longer holds). */
export async function unlockPressed(ctx: UpdateContext, lockId: string): Promise<void> {
  await unlock(ctx, { lockId });
}

async function unlock(ctx: UpdateContext, which: { lockId: string } | { symbol: string }, symbol?: string): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ unlocked: Lock[] }>(ctx, 'unlock_pair', which);
  if (!call.ok) {
    if (call.error === 'not_found')
      return void (await ctx.reply(
        symbol
          ? t(locale, `Nenhuma trava ativa em ${md(symbol)}. Veja /locks.`, `No lock holds on ${md(symbol)}. See /locks.`)
          : t(locale, 'Esta trava já não vale mais. Veja /locks.', 'This lock no longer holds. See /locks.'),
      ));
    return void (await failed(ctx, call));
  }
  const pairs = [
    ...new Set(call.result.unlocked.map((lock) => (lock.symbol === '*' ? t(locale, 'todos os pares', 'every pair') : lock.symbol))),
  ];
  await ctx.reply(
    t(
      locale,
      `🔓 Destravado: ${md(pairs.join(', '))} (${call.result.unlocked.length === 1 ? '1 trava' : `${call.result.unlocked.length} travas`}). Seus robôs podem voltar a entrar.`,
      `🔓 Unlocked: ${md(pairs.join(', '))} (${call.result.unlocked.length === 1 ? '1 lock' : `${call.result.unlocked.length} locks`}). Your bots may enter again.`,
    ),
  );
}
