import { z } from 'zod';
import { countOf, formatDecimal, intlLocale, statusWord, type Locale } from '../i18n/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { t } from './texts.ts';
import { callTool, failureSentence, type ToolCall, type UpdateContext } from './update-context.ts';

// freqtrade's reporting commands for a trader — /trades, /performance, /stats, /count,
// /whitelist, /health, /version, /notifications — and /forceexit's picker of open positions.
// Every figure comes from a tool called as the trader (their own data only), in their language.

const failed = (ctx: UpdateContext, call: Extract<ToolCall<unknown>, { ok: false }>) => ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`);
const money = (decimal: string | null, locale: Locale, signed = true) =>
  decimal === null ? '–' : `${formatDecimal(decimal, locale, { minDecimals: 2, maxDecimals: 2, signed })} USDT`;
const pctOf = (decimal: string | null, locale: Locale) =>
  decimal === null ? '–' : `${formatDecimal(decimal, locale, { minDecimals: 2, maxDecimals: 2, signed: true })} %`;
const shortId = (id: string) => id.slice(0, 8);

/** Levels as people type them, in either language. */
const LEVEL_ALIASES: Record<string, 'on' | 'silent' | 'off'> = {
  on: 'on',
  ligado: 'on',
  ligar: 'on',
  silent: 'silent',
  silencioso: 'silent',
  mudo: 'silent',
  off: 'off',
  desligado: 'off',
  desligar: 'off',
};

export const reportArgs = {
  trades: z.tuple([z.coerce.number().int().min(1).max(50).optional()]),
  days: z.tuple([z.coerce.number().int().min(1).max(3650).optional()]),
  notifications: z.union([
    z.tuple([]),
    z.tuple([
      z.string().max(40),
      z
        .string()
        .transform((level) => LEVEL_ALIASES[level.toLowerCase()])
        .pipe(z.enum(['on', 'silent', 'off'])),
    ]),
  ]),
};

/** A duration in seconds for people: "45 min", "3 h 20 min", "2 d 5 h". */
export function durationText(seconds: number | null, locale: Locale): string {
  if (seconds === null) return '–';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `${days} ${t(locale, 'd', 'd')}${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** Why a trade closed, as the reader says it. */
export function exitReasonWord(reason: string | null, locale: Locale): string {
  const words: Record<string, [string, string]> = {
    signal: ['sinal da estratégia', 'strategy signal'],
    exit_signal: ['sinal da estratégia', 'strategy signal'],
    roi: ['ROI atingido', 'ROI reached'],
    trailing_stop_loss: ['stop móvel', 'trailing stop'],
    stop_loss: ['stop loss', 'stop loss'],
    take_profit: ['take profit', 'take profit'],
    forced: ['saída forçada', 'forced exit'],
    other: ['outro', 'other'],
  };
  const word = words[reason ?? 'other'];
  return word ? t(locale, word[0], word[1]) : (reason ?? '').replace(/_/g, ' ');
}

const usageOf: Record<string, [string, string]> = {
  trades: ['Uso: /trades [n] — as últimas n operações fechadas (até 50)', 'Usage: /trades [n] — the last n closed trades (up to 50)'],
  performance: ['Uso: /performance [dias]', 'Usage: /performance [days]'],
  stats: ['Uso: /stats [dias]', 'Usage: /stats [days]'],
  notifications: [
    'Uso: /notifications — ou /notifications TIPO ligado|silencioso|desligado (TIPO: operacoes, stops, pausas, riscos, pagamentos, todos)',
    'Usage: /notifications — or /notifications KIND on|silent|off (KIND: trades, stops, pauses, risk, payments, all)',
  ],
};
const usage = (ctx: UpdateContext, command: string) => ctx.reply(t(ctx.locale, ...usageOf[command]!));

export async function tradesCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = reportArgs.trades.safeParse(args);
  if (!parsed.success) return void (await usage(ctx, 'trades'));
  type Trade = {
    botName: string;
    symbol: string;
    amountBase: string;
    openPriceQuote: string;
    closePriceQuote: string | null;
    profitQuote: string | null;
    profitPct: string | null;
    exitReason: string | null;
    openedAt: string;
    closedAt: string | null;
  };
  const call = await callTool<{ trades: Trade[]; closedTotal: number }>(ctx, 'recent_trades', { limit: parsed.data[0] ?? 10 });
  if (!call.ok) return void (await failed(ctx, call));
  const { trades, closedTotal } = call.result;
  if (trades.length === 0) return void (await ctx.reply(t(locale, '📭 Nenhuma operação fechada ainda.', '📭 No closed trades yet.')));
  const lines = trades.map((tr) => {
    const held = tr.closedAt ? durationText((Date.parse(tr.closedAt) - Date.parse(tr.openedAt)) / 1000, locale) : '–';
    const icon = Number(tr.profitQuote ?? 0) > 0 ? '🟢' : '🔴';
    return `${icon} **${md(tr.symbol)}** ${md(tr.botName)}: ${money(tr.profitQuote, locale)} (${pctOf(tr.profitPct, locale)}) · ${md(exitReasonWord(tr.exitReason, locale))} · ${held} · ${tr.closedAt?.slice(0, 10) ?? ''}`;
  });
  await ctx.reply(
    [
      t(
        locale,
        `🧾 **Últimas operações** (${trades.length} de ${countOf(closedTotal, 'trade', locale)} fechadas)`,
        `🧾 **Latest trades** (${trades.length} of ${countOf(closedTotal, 'trade', locale)} closed)`,
      ),
      ...lines,
    ].join('\n'),
  );
}

export async function performanceCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = reportArgs.days.safeParse(args);
  if (!parsed.success) return void (await usage(ctx, 'performance'));
  const days = parsed.data[0];
  const call = await callTool<{ pairs: { symbol: string; trades: number; profitQuote: string; avgProfitPct: string | null }[] }>(
    ctx,
    'pair_performance',
    days ? { days } : {},
  );
  if (!call.ok) return void (await failed(ctx, call));
  const { pairs } = call.result;
  if (pairs.length === 0) return void (await ctx.reply(t(locale, '📭 Nenhuma operação fechada ainda.', '📭 No closed trades yet.')));
  const window = days ? t(locale, ` — últimos ${days} dias`, ` — last ${days} days`) : '';
  await ctx.reply(
    [
      t(locale, `🏁 **Desempenho por par**${window}`, `🏁 **Performance per pair**${window}`),
      ...pairs.map(
        (p, i) =>
          `${i + 1}. **${md(p.symbol)}**: ${money(p.profitQuote, locale)} (${countOf(p.trades, 'trade', locale)}, ${t(locale, 'média', 'avg')} ${pctOf(p.avgProfitPct, locale)})`,
      ),
    ].join('\n'),
  );
}

export async function statsCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = reportArgs.days.safeParse(args);
  if (!parsed.success) return void (await usage(ctx, 'stats'));
  const days = parsed.data[0];
  const call = await callTool<{
    closedTrades: number;
    exitReasons: { reason: string; wins: number; losses: number }[];
    avgWinSeconds: number | null;
    avgLossSeconds: number | null;
    profitFactor: number | null;
    bestPair: { symbol: string; profitQuote: string } | null;
    worstPair: { symbol: string; profitQuote: string } | null;
  }>(ctx, 'trade_stats', days ? { days } : {});
  if (!call.ok) return void (await failed(ctx, call));
  const r = call.result;
  if (r.closedTrades === 0) return void (await ctx.reply(t(locale, '📭 Nenhuma operação fechada ainda.', '📭 No closed trades yet.')));
  const factor =
    r.profitFactor === null ? '–' : new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 2 }).format(r.profitFactor);
  await ctx.reply(
    [
      t(
        locale,
        `📊 **Estatísticas** (${countOf(r.closedTrades, 'trade', locale)} fechadas${days ? `, últimos ${days} dias` : ''})`,
        `📊 **Statistics** (${countOf(r.closedTrades, 'trade', locale)} closed${days ? `, last ${days} days` : ''})`,
      ),
      t(locale, '**Saídas por motivo** (lucro / prejuízo):', '**Exits by reason** (wins / losses):'),
      ...r.exitReasons.map((e) => `• ${md(exitReasonWord(e.reason, locale))}: ${e.wins} / ${e.losses}`),
      t(
        locale,
        `**Duração média:** com lucro ${durationText(r.avgWinSeconds, locale)} · com prejuízo ${durationText(r.avgLossSeconds, locale)}`,
        `**Average duration:** winners ${durationText(r.avgWinSeconds, locale)} · losers ${durationText(r.avgLossSeconds, locale)}`,
      ),
      t(locale, `**Fator de lucro:** ${factor}`, `**Profit factor:** ${factor}`),
      ...(r.bestPair
        ? [
            t(
              locale,
              `**Melhor par:** ${md(r.bestPair.symbol)} ${money(r.bestPair.profitQuote, locale)}`,
              `**Best pair:** ${md(r.bestPair.symbol)} ${money(r.bestPair.profitQuote, locale)}`,
            ),
          ]
        : []),
      ...(r.worstPair
        ? [
            t(
              locale,
              `**Pior par:** ${md(r.worstPair.symbol)} ${money(r.worstPair.profitQuote, locale)}`,
              `**Worst pair:** ${md(r.worstPair.symbol)} ${money(r.worstPair.profitQuote, locale)}`,
            ),
          ]
        : []),
    ].join('\n'),
  );
}

export async function countCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ openTrades: number; runningBots: number; maxOpenPerBot: number }>(ctx, 'trade_stats', {});
  if (!call.ok) return void (await failed(ctx, call));
  const r = call.result;
  const max = r.runningBots * r.maxOpenPerBot;
  await ctx.reply(
    t(
      locale,
      `🔢 Operações abertas: **${r.openTrades}** de no máximo ${max} (${countOf(r.runningBots, 'bot', locale)} rodando, até ${countOf(r.maxOpenPerBot, 'position', locale)} cada).`,
      `🔢 Open trades: **${r.openTrades}** of at most ${max} (${countOf(r.runningBots, 'bot', locale)} running, up to ${countOf(r.maxOpenPerBot, 'position', locale)} each).`,
    ),
  );
}

type OverviewBot = { id: string; name: string; symbols: string[]; status: string };

export async function whitelistCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ bots: OverviewBot[] }>(ctx, 'bots_overview', {});
  if (!call.ok) return void (await failed(ctx, call));
  const { bots } = call.result;
  if (bots.length === 0) return void (await ctx.reply(t(locale, 'Você ainda não tem robôs.', 'You have no bots yet.')));
  const pairs = [...new Set(bots.flatMap((b) => b.symbols))].sort();
  await ctx.reply(
    [
      t(
        locale,
        `📋 **Pares operados** (${countOf(pairs.length, 'pair', locale)}): ${md(pairs.join(', '))}`,
        `📋 **Whitelist** (${countOf(pairs.length, 'pair', locale)}): ${md(pairs.join(', '))}`,
      ),
      ...bots.map((b, i) => `${i + 1}. ${md(b.name)} (${md(statusWord(b.status, locale))}): ${md(b.symbols.join(', '))}`),
    ].join('\n'),
  );
}

type Health = { version: string; bots: { id: string; name: string; status: string; lastTickAt: string | null }[] };

export async function healthCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<Health>(ctx, 'trading_health', {});
  if (!call.ok) return void (await failed(ctx, call));
  const now = ctx.tools.now().getTime();
  const running = call.result.bots.filter((b) => b.status === 'running');
  const lines = running.map((b) =>
    b.lastTickAt
      ? t(
          locale,
          `• ${md(b.name)}: último ciclo há ${durationText((now - Date.parse(b.lastTickAt)) / 1000, locale)}`,
          `• ${md(b.name)}: last tick ${durationText((now - Date.parse(b.lastTickAt)) / 1000, locale)} ago`,
        )
      : t(locale, `• ${md(b.name)}: ainda sem ciclo`, `• ${md(b.name)}: no tick yet`),
  );
  await ctx.reply(
    [
      t(
        locale,
        `🩺 **Saúde**: ${countOf(running.length, 'bot', locale)} rodando de ${call.result.bots.length}.`,
        `🩺 **Health**: ${countOf(running.length, 'bot', locale)} running of ${call.result.bots.length}.`,
      ),
      ...lines,
    ].join('\n'),
  );
}

export async function versionCommand(ctx: UpdateContext): Promise<void> {
  const call = await callTool<Health>(ctx, 'trading_health', {});
  if (!call.ok) return void (await failed(ctx, call));
  await ctx.reply(t(ctx.locale, `BotCriptoFy versão ${md(call.result.version)}`, `BotCriptoFy version ${md(call.result.version)}`));
}

/** The notification kinds a trader sets, by the words they type: [kind(s), pt-BR name, English name]. */
const TRADER_KINDS: readonly { words: readonly string[]; types: readonly string[]; pt: string; en: string }[] = [
  {
    words: ['operacoes', 'trades', 'operações'],
    types: ['trade_opened', 'trade_closed'],
    pt: 'operações abertas e fechadas',
    en: 'trades opened and closed',
  },
  { words: ['stops', 'stop'], types: ['stop_loss_hit'], pt: 'stop loss atingido', en: 'stop loss hit' },
  { words: ['pausas', 'pauses', 'pause'], types: ['bot_paused'], pt: 'robô pausado', en: 'bot paused' },
  { words: ['riscos', 'risk', 'risco'], types: ['risk_refusal'], pt: 'ordem recusada pelo risco', en: 'order refused by risk' },
  { words: ['pagamentos', 'payments', 'pagamento'], types: ['payment_failed'], pt: 'pagamento com falha', en: 'failed payment' },
];
/** The word shown for each kind (what to type), per language. */
const KIND_WORDS: readonly (readonly [string, string])[] = [
  ['operacoes', 'trades'],
  ['stops', 'stops'],
  ['pausas', 'pauses'],
  ['riscos', 'risk'],
  ['pagamentos', 'payments'],
];
const LEVEL_WORDS: Record<string, [string, string]> = { on: ['ligado', 'on'], silent: ['sem som', 'silent'], off: ['desligado', 'off'] };

export async function notificationsCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = reportArgs.notifications.safeParse(args);
  if (!parsed.success) return void (await usage(ctx, 'notifications'));
  if (parsed.data.length === 2) {
    const [word, level] = parsed.data;
    const folded = word.toLowerCase();
    const all = ['todos', 'todas', 'all', '*'].includes(folded);
    const kind = TRADER_KINDS.find((k) => k.words.includes(folded));
    if (!all && !kind) return void (await usage(ctx, 'notifications'));
    for (const type of all ? ['*'] : kind!.types) {
      const set = await callTool(ctx, 'set_notification_setting', { kind: type, level });
      if (!set.ok) return void (await failed(ctx, set));
    }
  }
  const call = await callTool<{ levels: Record<string, string> }>(ctx, 'notification_settings', {});
  if (!call.ok) return void (await failed(ctx, call));
  const lines = TRADER_KINDS.map((k, i) => {
    const level = call.result.levels[k.types[0]!] ?? 'on';
    return `• ${t(locale, k.pt, k.en)} (${t(locale, ...KIND_WORDS[i]!)}): **${t(locale, ...LEVEL_WORDS[level]!)}**`;
  });
  const keyboard: InlineKeyboard = {
    inline_keyboard: [
      [
        { text: t(locale, '🔔 Tudo ligado', '🔔 All on'), callback_data: 'nt:*:on' },
        { text: t(locale, '🔕 Tudo sem som', '🔕 All silent'), callback_data: 'nt:*:silent' },
        { text: t(locale, '⛔ Tudo desligado', '⛔ All off'), callback_data: 'nt:*:off' },
      ],
    ],
  };
  await ctx.reply(
    [
      t(locale, '🔔 **Suas notificações**', '🔔 **Your notifications**'),
      ...lines,
      t(
        locale,
        'Mude um tipo com /notifications TIPO ligado|silencioso|desligado (ex.: /notifications operacoes silencioso).',
        'Change one kind with /notifications KIND on|silent|off (e.g. /notifications trades silent).',
      ),
    ].join('\n'),
    keyboard,
  );
}

/** `nt:*:on|silent|off`: every kind at once. */
export const notificationButton = z
  .string()
  .regex(/^nt:\*:(on|silent|off)$/)
  .transform((data) => ({ level: data.split(':')[2] as 'on' | 'silent' | 'off' }));

/** The text that replaces the settings message once a button set every kind. */
export async function notificationDecision(ctx: UpdateContext, choice: { level: 'on' | 'silent' | 'off' }): Promise<string> {
  const { locale } = ctx;
  // Each kind's own setting follows: "*" alone would leave earlier per-kind settings in force.
  for (const type of ['*', ...TRADER_KINDS.flatMap((k) => k.types)]) {
    const set = await callTool(ctx, 'set_notification_setting', { kind: type, level: choice.level });
    if (!set.ok) return `⚠️ ${md(failureSentence(ctx, set))}`;
  }
  return t(
    locale,
    `✅ Todas as suas notificações agora: **${t(locale, ...LEVEL_WORDS[choice.level]!)}**.`,
    `✅ All your notifications are now: **${t(locale, ...LEVEL_WORDS[choice.level]!)}**.`,
  );
}

/** /forceexit without arguments: each open position as a button (pressing one sells it at market), and Cancel. */
export async function forceExitPicker(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  type Position = { botId: string; symbol: string; amountBase: string; entryPriceQuote: string };
  const call = await callTool<{ positions: Position[] }>(ctx, 'open_positions', {});
  if (!call.ok) return void (await failed(ctx, call));
  const open = call.result.positions;
  if (open.length === 0)
    return void (await ctx.reply(t(locale, '📭 Nenhuma posição aberta para fechar.', '📭 No open position to close.')));
  const bots = await callTool<{ bots: OverviewBot[] }>(ctx, 'bots_overview', {});
  const names = new Map(bots.ok ? bots.result.bots.map((b, i) => [b.id, `${i + 1} ${b.name}`]) : []);
  const shown = open.slice(0, 20);
  const keyboard: InlineKeyboard = {
    inline_keyboard: [
      ...shown.map((p) => [
        {
          text: `${p.symbol} · ${t(locale, 'robô', 'bot')} ${names.get(p.botId) ?? shortId(p.botId)}`.slice(0, 60),
          callback_data: `fx:${p.botId.replace(/-/g, '')}:${p.symbol}:y`,
        },
      ]),
      [{ text: t(locale, 'Cancelar', 'Cancel'), callback_data: `fx:${shown[0]!.botId.replace(/-/g, '')}:*:n` }],
    ],
  };
  await ctx.reply(
    t(
      locale,
      `⚠️ Qual posição fechar agora, com ordem a mercado? ${countOf(open.length, 'position', locale)} ${open.length === 1 ? 'aberta' : 'abertas'}.`,
      `⚠️ Which position to close now, with a market order? ${countOf(open.length, 'position', locale)} open.`,
    ),
    keyboard,
  );
}

type EntryBot = OverviewBot & { entriesStopped: boolean };

/**
 * /stopentry [N] and /startentry [N] (freqtrade's /stopentry): a bot (or, without N, every bot)
 * opens no new position while its open ones still exit; /startentry allows entries again.
 */
export async function entriesCommand(ctx: UpdateContext, command: 'stopentry' | 'startentry', args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = z.tuple([z.coerce.number().int().min(1).max(999).optional()]).safeParse(args);
  if (!parsed.success)
    return void (await ctx.reply(
      command === 'stopentry'
        ? t(locale, 'Uso: /stopentry [N] — sem N, todos os robôs', 'Usage: /stopentry [N] — without N, every bot')
        : t(locale, 'Uso: /startentry [N] — sem N, todos os robôs', 'Usage: /startentry [N] — without N, every bot'),
    ));
  const list = await callTool<{ bots: EntryBot[] }>(ctx, 'bots_overview', {});
  if (!list.ok) return void (await failed(ctx, list));
  const n = parsed.data[0];
  const chosen =
    n === undefined ? list.result.bots.map((b, i) => ({ b, i })) : list.result.bots.flatMap((b, i) => (i + 1 === n ? [{ b, i }] : []));
  if (chosen.length === 0)
    return void (await ctx.reply(
      n === undefined
        ? t(locale, 'Você ainda não tem robôs.', 'You have no bots yet.')
        : t(locale, `Nenhum robô seu com o número ${n}. Veja /bots.`, `None of your bots has the number ${n}. See /bots.`),
    ));
  const stop = command === 'stopentry';
  for (const { b } of chosen) {
    const call = await callTool(ctx, 'stop_entries', { botId: b.id, stop });
    if (!call.ok) return void (await failed(ctx, call));
  }
  const names = chosen.map(({ b, i }) => `${i + 1} ${md(b.name)}`).join(', ');
  await ctx.reply(
    stop
      ? t(
          locale,
          `⏸ Sem novas entradas: ${names}. As posições abertas continuam saindo normalmente. Envie /startentry${n ? ` ${n}` : ''} para voltar a entrar.`,
          `⏸ No new entries: ${names}. Open positions still exit as usual. Send /startentry${n ? ` ${n}` : ''} to allow entries again.`,
        )
      : t(locale, `▶️ Novas entradas liberadas: ${names}.`, `▶️ New entries allowed again: ${names}.`),
  );
}
