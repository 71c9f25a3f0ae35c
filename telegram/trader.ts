import { z } from 'zod';
import { formatBrlCents } from '../billing/index.ts';
import { traderScope, type ForceExitResult } from '../tools/index.ts';
import { STRATEGIES } from '../trading/index.ts';
import { equityChart } from './charts/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { portalButton } from './billing-portal.ts';
import { callTool, failureSentence, type ToolCall, type UpdateContext } from './update-context.ts';
import { t } from './texts.ts';
import { durationText } from './trader-reports.ts';
import { botStateText, countOf, intlLocale, readerError, statusWord, venueOf, venueWord, type Locale } from '../i18n/index.ts';

// A trader's commands (freqtrade's, where they exist). Every figure comes from a tool called
// as the trader, so the tool layer's scope is what keeps one trader out of another's data.

type Bot = {
  id: string;
  name: string;
  strategy: string;
  symbols: string[];
  mode: string;
  status: string;
  stakeQuote: string;
  lastError: string | null;
  startedAt: string | null;
  lastTickAt: string | null;
  entriesStopped: boolean;
  maxOpenPositions: number | null;
};
type Position = {
  botId: string;
  symbol: string;
  amountBase: string;
  entryPriceQuote: string;
  stopLossQuote: string | null;
  takeProfitQuote: string | null;
  openedAt: string;
  priceQuote: number | null;
};

const numberFormat = (locale: Locale, digits: number) =>
  new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: digits, minimumFractionDigits: Math.min(digits, 2) });
const quote = (value: number | string, locale: Locale, signed = false) => {
  const n = Number(value);
  return `${signed && n > 0 ? '+' : ''}${numberFormat(locale, 2).format(n)}`;
};
const price = (value: string | null, locale: Locale) =>
  value === null ? '–' : numberFormat(locale, Number(value) >= 100 ? 2 : 6).format(Number(value));
const amount = (value: string | number, locale: Locale) =>
  new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 8 }).format(Number(value));
const pct = (value: number | null, locale: Locale, signed = false) =>
  value === null ? '–' : `${signed && value > 0 ? '+' : ''}${numberFormat(locale, 2).format(value)} %`;
const shortId = (id: string) => id.slice(0, 8);

const STATUS_ICONS: Record<string, string> = { running: '▶️', stopped: '⏹', paused: '⏸', error: '⚠️', frozen: '🧊' };
const statusText = (status: string, locale: Locale) => `${STATUS_ICONS[status] ?? '•'} ${md(statusWord(status, locale))}`;

// ---- argument schemas (everything a user types is checked before anything runs)

/** A bot as the user names it: its number in /bots, its id, or the start of its id. */
const botRef = z.string().regex(/^(\d{1,3}|[0-9a-f]{4}[0-9a-f-]{0,32})$/i);
const symbolArg = z
  .string()
  .max(24)
  .transform((value) => value.toUpperCase().replace(/[-_]/, '/'))
  .transform((value) =>
    value.includes('/') ? value : value.replace(/^([A-Z0-9]{2,12}?)(USDT|USDC|BUSD|FDUSD|BRL|BTC|ETH|BNB|EUR)$/, '$1/$2'),
  )
  .pipe(z.string().regex(/^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/));
const days = z.coerce.number().int().min(1).max(365);
const periods = z.coerce.number().int().min(1).max(60);

export const traderArgs = {
  profit: z.tuple([days.optional()]),
  period: z.tuple([periods.optional()]),
  bot: z.tuple([botRef]),
  forceexit: z.union([z.tuple([botRef]), z.tuple([botRef, symbolArg])]),
  backtest: z.union([
    z.tuple([z.string()]),
    z.tuple([z.string(), symbolArg]),
    z.tuple([z.string(), symbolArg, z.enum(['5m', '15m', '1h', '4h', '1d'])]),
    z.tuple([z.string(), symbolArg, z.enum(['5m', '15m', '1h', '4h', '1d']), days]),
  ]),
};

export function usage(command: string, locale: Locale): string {
  const lines: Record<string, [string, string]> = {
    profit: ['Uso: /profit [dias] — ex.: /profit 30', 'Usage: /profit [days] — e.g. /profit 30'],
    daily: ['Uso: /daily [n] (1 a 60)', 'Usage: /daily [n] (1 to 60)'],
    weekly: ['Uso: /weekly [n] (1 a 60)', 'Usage: /weekly [n] (1 to 60)'],
    monthly: ['Uso: /monthly [n] (1 a 60)', 'Usage: /monthly [n] (1 to 60)'],
    startbot: ['Uso: /startbot N — o número do robô em /bots, ou o id dele', "Usage: /startbot N — the bot's number in /bots, or its id"],
    stopbot: ['Uso: /stopbot N — o número do robô em /bots, ou o id dele', "Usage: /stopbot N — the bot's number in /bots, or its id"],
    chart: ['Uso: /chart N — o gráfico de patrimônio do robô N de /bots', 'Usage: /chart N — the equity chart of bot N in /bots'],
    forceexit: ['Uso: /forceexit N [PAR] — ex.: /forceexit 1 BTC/USDT', 'Usage: /forceexit N [SYMBOL] — e.g. /forceexit 1 BTC/USDT'],
    backtest: [
      `Uso: /backtest ESTRATÉGIA PAR [TIMEFRAME] [DIAS] — ex.: /backtest rsi BTC/USDT 1h 30. Estratégias: ${[...STRATEGIES.keys()].join(', ')}`,
      `Usage: /backtest STRATEGY SYMBOL [TIMEFRAME] [DAYS] — e.g. /backtest rsi BTC/USDT 1h 30. Strategies: ${[...STRATEGIES.keys()].join(', ')}`,
    ],
  };
  const line = lines[command];
  return line ? t(locale, line[0], line[1]) : '';
}

/** A failed tool call, told as a sentence for the trader (the technical reason is logged and audited). */
const failed = (ctx: UpdateContext, call: Extract<ToolCall<unknown>, { ok: false }>) => ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`);

// ---- the commands

async function listBots(ctx: UpdateContext): Promise<Bot[] | undefined> {
  const call = await callTool<{ bots: Bot[]; running: number }>(ctx, 'bots_overview', {});
  if (!call.ok) {
    await failed(ctx, call);
    return undefined;
  }
  return call.result.bots;
}

/** The trader's bot named by a number, an id or an id prefix; replies and returns undefined when none (or several) match. */
async function resolveBot(ctx: UpdateContext, ref: string): Promise<{ bot: Bot; index: number } | undefined> {
  const list = await listBots(ctx);
  if (!list) return undefined;
  const { locale } = ctx;
  let matches: number[];
  if (/^\d{1,3}$/.test(ref)) matches = Number(ref) >= 1 && Number(ref) <= list.length ? [Number(ref) - 1] : [];
  else {
    const needle = ref.toLowerCase().replace(/-/g, '');
    matches = list.flatMap((bot, i) => (bot.id.replace(/-/g, '').startsWith(needle) ? [i] : []));
  }
  if (matches.length === 1) return { bot: list[matches[0]!]!, index: matches[0]! };
  await ctx.reply(
    matches.length === 0
      ? t(locale, `Nenhum robô seu corresponde a "${md(ref)}". Veja /bots.`, `None of your bots matches "${md(ref)}". See /bots.`)
      : t(
          locale,
          `Mais de um robô começa com "${md(ref)}"; use mais caracteres do id ou o número em /bots.`,
          `More than one bot starts with "${md(ref)}"; use more of the id or the number in /bots.`,
        ),
  );
  return undefined;
}

export async function botsCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const list = await listBots(ctx);
  if (!list) return;
  if (list.length === 0) {
    await ctx.reply(t(locale, 'Você ainda não tem robôs.', 'You have no bots yet.'));
    return;
  }
  const running = list.filter((b) => b.status === 'running').length;
  const lines = list.map((b, i) => {
    const cap =
      b.maxOpenPositions === null
        ? ''
        : ` · ${t(locale, `no máximo ${b.maxOpenPositions} ${b.maxOpenPositions === 1 ? 'posição aberta' : 'posições abertas'}`, `at most ${b.maxOpenPositions} open ${b.maxOpenPositions === 1 ? 'position' : 'positions'}`)}`;
    const line = `${i + 1}. \`${shortId(b.id)}\` **${md(b.name)}** — ${md(b.strategy)} · ${md(b.symbols.join(', '))} · ${venueWord(venueOf(b.mode, ctx.tradingMode), locale)} · ${statusText(b.status, locale)}${cap}`;
    const why = botStateText(b.status, b.lastError, locale, i + 1);
    const held = b.entriesStopped
      ? `\n   ↳ ${t(locale, `sem novas entradas (/startentry ${i + 1} para voltar)`, `no new entries (/startentry ${i + 1} to allow them)`)}`
      : '';
    return `${why ? `${line}\n   ↳ ${md(why)}` : line}${held}`;
  });
  await ctx.reply(
    [
      t(
        locale,
        `🤖 **Seus robôs** (${countOf(list.length, 'bot', locale)}, ${running} ${statusWord('running', locale)})`,
        `🤖 **Your bots** (${countOf(list.length, 'bot', locale)}, ${running} ${statusWord('running', locale)})`,
      ),
      ...lines,
      '',
      t(locale, 'Use /startbot N ou /stopbot N com o número da lista.', 'Use /startbot N or /stopbot N with the number from this list.'),
    ].join('\n'),
  );
}

export async function statusCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await ctx.typing(() => callTool<{ positions: Position[] }>(ctx, 'open_positions', { withPrices: true }));
  if (!call.ok) return void (await failed(ctx, call));
  const positions = call.result.positions;
  const list = (await listBots(ctx)) ?? [];
  const attention = attentionLines(list, locale);
  if (positions.length === 0) {
    await ctx.reply([t(locale, '📭 Nenhuma posição aberta.', '📭 No open positions.'), ...attention].join('\n'));
    return;
  }
  const lines = positions.map((p) => {
    const index = list.findIndex((b) => b.id === p.botId);
    const bot = list[index];
    const label = bot ? `${t(locale, 'robô', 'bot')} ${index + 1} \`${shortId(bot.id)}\` ${md(bot.name)}` : `\`${shortId(p.botId)}\``;
    const entry = Number(p.entryPriceQuote);
    const ref = p.priceQuote ?? entry;
    const from = (level: string | null) =>
      level === null || !(ref > 0) ? '' : ` (${pct(((Number(level) - ref) / ref) * 100, locale, true)})`;
    const now =
      p.priceQuote === null
        ? t(locale, 'preço atual indisponível', 'current price unavailable')
        : `${t(locale, 'agora', 'now')} ${price(String(p.priceQuote), locale)} (${pct(entry > 0 ? ((p.priceQuote - entry) / entry) * 100 : null, locale, true)})`;
    const held = durationText((ctx.tools.now().getTime() - Date.parse(p.openedAt)) / 1000, locale);
    return `• **${md(p.symbol)}** — ${label}\n  ${amount(p.amountBase, locale)} @ ${price(p.entryPriceQuote, locale)} · ${now} · ${t(locale, 'há', 'for')} ${held}\n  SL ${price(p.stopLossQuote, locale)}${from(p.stopLossQuote)} · TP ${price(p.takeProfitQuote, locale)}${from(p.takeProfitQuote)}`;
  });
  await ctx.reply(
    [
      t(locale, `📈 **Posições abertas** (${positions.length})`, `📈 **Open positions** (${positions.length})`),
      ...lines,
      ...attention,
    ].join('\n'),
  );
}

/** The bots that are paused, in error or frozen, each with why and what to do (for /status). */
function attentionLines(list: readonly Bot[], locale: Locale): string[] {
  const lines = list.flatMap((b, i) => {
    const why = botStateText(b.status, b.lastError, locale, i + 1);
    return why ? [`• ${t(locale, 'robô', 'bot')} ${i + 1} **${md(b.name)}** ${statusText(b.status, locale)}: ${md(why)}`] : [];
  });
  return lines.length === 0 ? [] : ['', t(locale, '⚠️ **Precisam de atenção:**', '⚠️ **Need attention:**'), ...lines];
}

export async function profitCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = traderArgs.profit.safeParse(args);
  if (!parsed.success) return void (await ctx.reply(usage('profit', locale)));
  const window = parsed.data[0] ?? 365;
  const call = await callTool<{ days: number; closedTrades: number; wins: number; profitQuote: number; winRatePct: number | null }>(
    ctx,
    'trading_pnl',
    { days: window },
  );
  if (!call.ok) return void (await failed(ctx, call));
  const r = call.result;
  const extra = await profitDetails(ctx, r.days, r.profitQuote);
  await ctx.reply(
    [
      r.days === 1
        ? t(locale, '💰 **Resultado — último dia**', '💰 **Profit — last day**')
        : t(locale, `💰 **Resultado — últimos ${r.days} dias**`, `💰 **Profit — last ${r.days} days**`),
      t(
        locale,
        `Operações fechadas: ${r.closedTrades} (${r.wins} com lucro, ${pct(r.winRatePct, locale)})`,
        `Closed trades: ${r.closedTrades} (${countOf(r.wins, 'winningTrade', locale)}, ${pct(r.winRatePct, locale)})`,
      ),
      t(locale, `Resultado: ${quote(r.profitQuote, locale, true)} USDT`, `Result: ${quote(r.profitQuote, locale, true)} USDT`),
      ...extra,
    ].join('\n'),
  );
}

/** /profit's freqtrade figures: ROI on the bots' stake, profit factor, best pair, drawdown, average duration (trade_stats, bots_overview). */
async function profitDetails(ctx: UpdateContext, days: number, profitQuote: number): Promise<string[]> {
  const { locale } = ctx;
  const stats = await callTool<{
    closedTrades: number;
    profitFactor: number | null;
    bestPair: { symbol: string; profitQuote: string } | null;
    maxDrawdownQuote: string;
    avgSeconds: number | null;
  }>(ctx, 'trade_stats', { days });
  if (!stats.ok || stats.result.closedTrades === 0) return [];
  const s = stats.result;
  const bots = await callTool<{ bots: Bot[] }>(ctx, 'bots_overview', {});
  const stake = bots.ok ? bots.result.bots.reduce((sum, b) => sum + Number(b.stakeQuote), 0) : 0;
  const lines: string[] = [];
  if (stake > 0)
    lines.push(
      t(
        locale,
        `ROI sobre o capital dos robôs (${quote(stake, locale)} USDT): ${pct((profitQuote / stake) * 100, locale, true)}`,
        `ROI on the bots' stake (${quote(stake, locale)} USDT): ${pct((profitQuote / stake) * 100, locale, true)}`,
      ),
    );
  if (s.profitFactor !== null)
    lines.push(t(locale, `Fator de lucro: ${quote(s.profitFactor, locale)}`, `Profit factor: ${quote(s.profitFactor, locale)}`));
  if (s.bestPair)
    lines.push(
      t(
        locale,
        `Melhor par: ${md(s.bestPair.symbol)} ${quote(s.bestPair.profitQuote, locale, true)} USDT`,
        `Best pair: ${md(s.bestPair.symbol)} ${quote(s.bestPair.profitQuote, locale, true)} USDT`,
      ),
    );
  lines.push(
    t(
      locale,
      `Drawdown máximo: ${quote(s.maxDrawdownQuote, locale)} USDT · duração média ${durationText(s.avgSeconds, locale)}`,
      `Max drawdown: ${quote(s.maxDrawdownQuote, locale)} USDT · average duration ${durationText(s.avgSeconds, locale)}`,
    ),
  );
  return lines;
}

export async function periodCommand(ctx: UpdateContext, command: 'daily' | 'weekly' | 'monthly', args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = traderArgs.period.safeParse(args);
  if (!parsed.success) return void (await ctx.reply(usage(command, locale)));
  const period = command === 'daily' ? 'day' : command === 'weekly' ? 'week' : 'month';
  const count = parsed.data[0] ?? (period === 'day' ? 7 : period === 'week' ? 8 : 6);
  const call = await callTool<{ rows: { start: string; closedTrades: number; profitQuote: number }[]; totalProfitQuote: number }>(
    ctx,
    'pnl_by_period',
    { period, count },
  );
  if (!call.ok) return void (await failed(ctx, call));
  const titles: Record<string, [string, string]> = {
    day: ['📅 **Resultado por dia**', '📅 **Daily profit**'],
    week: ['📅 **Resultado por semana**', '📅 **Weekly profit**'],
    month: ['📅 **Resultado por mês**', '📅 **Monthly profit**'],
  };
  const [ptTitle, enTitle] = titles[period]!;
  const lines = call.result.rows.map(
    (r) => `${r.start}: ${quote(r.profitQuote, locale, true)} USDT (${countOf(r.closedTrades, 'trade', locale)})`,
  );
  await ctx.reply(
    [
      `${t(locale, ptTitle, enTitle)} (UTC)`,
      ...lines,
      t(
        locale,
        `Total: ${quote(call.result.totalProfitQuote, locale, true)} USDT`,
        `Total: ${quote(call.result.totalProfitQuote, locale, true)} USDT`,
      ),
    ].join('\n'),
  );
}

export async function balanceCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{
    bots: { botId: string; name: string; mode: string; stakeQuote: string; assets: Record<string, number> | null; note: string | null }[];
  }>(ctx, 'bot_balances', {});
  if (!call.ok) return void (await failed(ctx, call));
  if (call.result.bots.length === 0) return void (await ctx.reply(t(locale, 'Você ainda não tem robôs.', 'You have no bots yet.')));
  const lines = call.result.bots.map((b, i) => {
    const assets = b.assets
      ? Object.entries(b.assets)
          .map(([asset, value]) => `${amount(value, locale)} ${md(asset)}`)
          .join(' · ') || '0'
      : `${t(locale, 'indisponível', 'unavailable')}: ${md(balanceNote(ctx, b.note))}`;
    return `${i + 1}. \`${shortId(b.botId)}\` ${md(b.name)} (${venueWord(venueOf(b.mode, ctx.tradingMode), locale)}): ${assets}`;
  });
  // Totals per asset over the wallets that could be read (exact: summed as decimals, not floats).
  const totals = new Map<string, bigint>();
  const SCALE = 10n ** 8n;
  for (const b of call.result.bots)
    for (const [asset, value] of Object.entries(b.assets ?? {}))
      totals.set(asset, (totals.get(asset) ?? 0n) + BigInt(Math.round(Number(value) * 1e8)));
  const total = [...totals]
    .filter(([, units]) => units !== 0n)
    .map(
      ([asset, units]) =>
        `${amount(`${units < 0n ? '-' : ''}${(units < 0n ? -units : units) / SCALE}.${String((units < 0n ? -units : units) % SCALE).padStart(8, '0')}`, locale)} ${md(asset)}`,
    );
  const unread = call.result.bots.filter((b) => b.assets === null).length;
  await ctx.reply(
    [
      t(locale, '💼 **Carteira por robô**', '💼 **Wallet per bot**'),
      ...lines,
      ...(total.length > 0
        ? [
            t(
              locale,
              `**Total:** ${total.join(' · ')}${unread > 0 ? ` (sem ${countOf(unread, 'bot', locale)} que não ${unread === 1 ? 'respondeu' : 'responderam'})` : ''}`,
              `**Total:** ${total.join(' · ')}${unread > 0 ? ` (without ${countOf(unread, 'bot', locale)} that did not answer)` : ''}`,
            ),
          ]
        : []),
    ].join('\n'),
  );
}

/** Why a wallet could not be read, for its owner (the exchange's own words are logged). */
function balanceNote(ctx: UpdateContext, note: string | null): string {
  if (note) ctx.logger?.warn({ reason: note }, 'Telegram /balance: a wallet could not be read');
  return readerError({ error: 'unavailable', category: 'unavailable', message: note ?? '' }, ctx.locale);
}

export async function botControlCommand(ctx: UpdateContext, command: 'startbot' | 'stopbot', args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = traderArgs.bot.safeParse(args);
  if (!parsed.success) return void (await ctx.reply(usage(command, locale)));
  const found = await resolveBot(ctx, parsed.data[0]);
  if (!found) return;
  const label = `${found.index + 1} \`${shortId(found.bot.id)}\` ${md(found.bot.name)}`;
  if (command === 'startbot' && found.bot.mode === 'live' && found.bot.status !== 'running') {
    // Real money: the trader confirms with a button first (the tool would otherwise ask Security).
    const keyboard: InlineKeyboard = {
      inline_keyboard: [
        [
          { text: t(locale, '✅ Ligar com dinheiro real', '✅ Start with real money'), callback_data: startLiveButton(found.bot.id, 'y') },
          { text: t(locale, 'Cancelar', 'Cancel'), callback_data: startLiveButton(found.bot.id, 'n') },
        ],
      ],
    };
    await ctx.reply(
      t(
        locale,
        `⚠️ O robô ${label} opera em modo **real**: ligar agora põe dinheiro de verdade em jogo. Confirma?`,
        `⚠️ Bot ${label} trades in **live** mode: starting it now puts real money at stake. Confirm?`,
      ),
      keyboard,
    );
    return;
  }
  const call = await callTool<{ botId: string; status: string }>(ctx, command === 'startbot' ? 'start_bot' : 'stop_bot', {
    botId: found.bot.id,
  });
  if (!call.ok) return void (await failed(ctx, call));
  if (command === 'stopbot') return void (await ctx.reply(t(locale, `⏹ Robô ${label} parado.`, `⏹ Bot ${label} stopped.`)));
  await ctx.reply(startedText(ctx, call.result.botId, call.result.status, label));
}

/** Said right after a start: the state now, and — while the first tick has not come — that it is followed. */
function startedText(ctx: UpdateContext, botId: string, status: string, label: string): string {
  const { locale } = ctx;
  if (status !== 'running')
    return t(locale, `O robô ${label} está ${md(statusWord(status, locale))}.`, `Bot ${label} is ${md(statusWord(status, locale))}.`);
  ctx.watchStart?.(botId, label);
  return t(
    locale,
    `▶️ Robô ${label} ligado; aguardando o primeiro ciclo. Aviso aqui como ele ficou.`,
    `▶️ Bot ${label} switched on; waiting for its first tick. I will tell you here how it went.`,
  );
}

export async function backtestCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = traderArgs.backtest.safeParse(args);
  if (!parsed.success || !STRATEGIES.has(parsed.data[0].toLowerCase())) return void (await ctx.reply(usage('backtest', locale)));
  const [strategy, symbol, timeframe, window] = parsed.data;
  const request = {
    strategy: strategy.toLowerCase(),
    ...(symbol ? { symbol } : {}),
    ...(timeframe ? { timeframe } : {}),
    ...(window ? { days: window } : {}),
  };
  const call = await ctx.typing(() =>
    callTool<{
      strategy: string;
      symbol: string;
      candles: number;
      trades: number;
      finalEquity: number;
      totalReturnPct: number;
      maxDrawdownPct: number;
      winRatePct: number | null;
    }>(ctx, 'run_backtest', request),
  );
  if (!call.ok) return void (await failed(ctx, call));
  const r = call.result;
  await ctx.reply(
    [
      t(
        locale,
        `🧪 **Backtest ${md(r.strategy)} em ${md(r.symbol)}** (${timeframe ?? '1h'}, ${countOf(window ?? 30, 'day', locale)}, ${countOf(r.candles, 'candle', locale)})`,
        `🧪 **Backtest ${md(r.strategy)} on ${md(r.symbol)}** (${timeframe ?? '1h'}, ${countOf(window ?? 30, 'day', locale)}, ${countOf(r.candles, 'candle', locale)})`,
      ),
      t(
        locale,
        `Operações: ${r.trades} · acerto ${pct(r.winRatePct, locale)}`,
        `Trades: ${r.trades} · win rate ${pct(r.winRatePct, locale)}`,
      ),
      t(
        locale,
        `Retorno: ${pct(r.totalReturnPct, locale, true)} · drawdown máximo ${pct(r.maxDrawdownPct, locale)}`,
        `Return: ${pct(r.totalReturnPct, locale, true)} · max drawdown ${pct(r.maxDrawdownPct, locale)}`,
      ),
      t(
        locale,
        `Patrimônio final: ${quote(r.finalEquity, locale)} (de 10.000)`,
        `Final equity: ${quote(r.finalEquity, locale)} (from 10,000)`,
      ),
    ].join('\n'),
  );
}

export async function planCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const status = await callTool<{
    plan: string;
    status: string | null;
    amountCents: number;
    interval: string | null;
    renewsAt: string | null;
    cancelAtPeriodEnd: boolean;
  }>(ctx, 'subscription_status', {});
  if (!status.ok) return void (await failed(ctx, status));
  const plans = await callTool<{
    plans: {
      id: string;
      name: string;
      monthlyPriceCents: number;
      botsAllowed: number;
      liveTradingAllowed: boolean;
      backtestsPerDay: number;
      symbolsPerBot: number;
    }[];
  }>(ctx, 'list_plans', {});
  const s = status.result;
  const current = plans.ok ? plans.result.plans.find((p) => p.id === s.plan) : undefined;
  const name = current?.name ?? s.plan;
  const price =
    s.amountCents > 0
      ? `, ${formatBrlCents(s.amountCents, locale)}/${s.interval === 'year' ? t(locale, 'ano', 'year') : t(locale, 'mês', 'month')}`
      : '';
  const renews = s.renewsAt
    ? s.cancelAtPeriodEnd
      ? t(locale, `, termina em ${s.renewsAt.slice(0, 10)}`, `, ends on ${s.renewsAt.slice(0, 10)}`)
      : t(locale, `, renova em ${s.renewsAt.slice(0, 10)}`, `, renews on ${s.renewsAt.slice(0, 10)}`)
    : '';
  const lines = [
    t(
      locale,
      `📦 **Seu plano: ${md(name)}** (${md(statusWord(s.status ?? 'none', locale))}${price}${renews})`,
      `📦 **Your plan: ${md(name)}** (${md(statusWord(s.status ?? 'none', locale))}${price}${renews})`,
    ),
  ];
  if (current) {
    lines.push(
      t(
        locale,
        `Limites: ${countOf(current.botsAllowed, 'bot', locale)}, ${countOf(current.symbolsPerBot, 'pair', locale)} por robô, ${countOf(current.backtestsPerDay, 'backtest', locale)} por dia, ${current.liveTradingAllowed ? 'operação real permitida' : 'só simulado'}.`,
        `Limits: ${countOf(current.botsAllowed, 'bot', locale)}, ${countOf(current.symbolsPerBot, 'pair', locale)} per bot, ${countOf(current.backtestsPerDay, 'backtest', locale)} a day, ${current.liveTradingAllowed ? 'live trading allowed' : 'paper only'}.`,
      ),
    );
  }
  if (plans.ok) {
    lines.push(
      '',
      t(locale, 'Planos:', 'Plans:'),
      ...plans.result.plans.map(
        (p) =>
          `• ${md(p.name)}: ${p.monthlyPriceCents ? `${formatBrlCents(p.monthlyPriceCents, locale)}/${t(locale, 'mês', 'month')}` : t(locale, 'grátis', 'free')} — ${countOf(p.botsAllowed, 'bot', locale)}, ${p.liveTradingAllowed ? t(locale, 'operação real', 'live trading') : t(locale, 'só simulado', 'paper only')}`,
      ),
    );
  }
  // The portal (card, invoices, plan, cancellation) is made when pressed: billing-portal.ts.
  await ctx.reply(lines.join('\n'), { inline_keyboard: [[portalButton(locale)]] });
}

/** /chart N: the bot's equity curve (stake + closed trades' profit) as a photo, from the trader's own data. */
export async function chartCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale, person } = ctx;
  const parsed = traderArgs.bot.safeParse(args);
  if (!parsed.success) return void (await ctx.reply(usage('chart', locale)));
  const found = await resolveBot(ctx, parsed.data[0]);
  if (!found || person.actor.kind !== 'trader') return;
  const scope = await traderScope(ctx.tools, undefined);
  const chart = await ctx.typing(() => equityChart(ctx.tools.db, scope, found.bot.id, { locale }));
  await ctx.photo(chart.png, chart.caption);
}

/** A bot id written in a button without its dashes (Telegram allows 64 bytes of data), restored. */
const uuidFromHex = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

// ---- /startbot of a live bot: the trader's own confirmation, then the tool, marked as confirmed.

/** `sl:<bot id without dashes>:<y|n>`. */
export const startLiveData = z
  .string()
  .max(64)
  .regex(/^sl:[0-9a-f]{32}:[yn]$/)
  .transform((data) => {
    const [, hex, answer] = data.split(':') as [string, string, string];
    return { botId: uuidFromHex(hex), confirmed: answer === 'y' };
  });

const startLiveButton = (botId: string, answer: 'y' | 'n') => `sl:${botId.replace(/-/g, '')}:${answer}`;

/** The text that replaces the confirmation once the trader answered. */
export async function startLiveDecision(ctx: UpdateContext, choice: { botId: string; confirmed: boolean }): Promise<string> {
  const { locale } = ctx;
  if (!choice.confirmed) return t(locale, 'Cancelado. O robô continua parado.', 'Cancelled. The bot stays stopped.');
  const call = await callTool<{ botId: string; status: string }>(ctx, 'start_bot', { botId: choice.botId }, { liveTradingConfirmed: true });
  if (!call.ok) return `⚠️ ${md(failureSentence(ctx, call))}`;
  return startedText(ctx, call.result.botId, call.result.status, `\`${shortId(call.result.botId)}\``);
}

// ---- /forceexit: a confirmation first; the button carries the bot and the symbol.

/** `fx:<bot id without dashes>:<symbol or *>:<y|n>`: at most 64 bytes, as Telegram allows. */
export const forceExitData = z
  .string()
  .max(64)
  .regex(/^fx:[0-9a-f]{32}:([A-Z0-9]{2,12}\/[A-Z0-9]{2,12}|\*):[yn]$/)
  .transform((data) => {
    const [, hex, symbol, answer] = data.split(':') as [string, string, string, string];
    const botId = uuidFromHex(hex);
    return { botId, symbol: symbol === '*' ? undefined : symbol, confirmed: answer === 'y' };
  });

const forceExitButton = (botId: string, symbol: string | undefined, answer: 'y' | 'n') =>
  `fx:${botId.replace(/-/g, '')}:${symbol ?? '*'}:${answer}`;

export async function forceExitCommand(ctx: UpdateContext, args: readonly string[]): Promise<void> {
  const { locale } = ctx;
  const parsed = traderArgs.forceexit.safeParse(args);
  if (!parsed.success) return void (await ctx.reply(usage('forceexit', locale)));
  const [ref, symbol] = parsed.data;
  const found = await resolveBot(ctx, ref);
  if (!found) return;
  const call = await callTool<{ positions: Position[] }>(ctx, 'open_positions', {});
  if (!call.ok) return void (await failed(ctx, call));
  const open = call.result.positions.filter((p) => p.botId === found.bot.id && (!symbol || p.symbol === symbol));
  const label = `${found.index + 1} \`${shortId(found.bot.id)}\` ${md(found.bot.name)}`;
  if (open.length === 0) {
    await ctx.reply(
      symbol
        ? t(locale, `O robô ${label} não tem posição aberta em ${md(symbol)}.`, `Bot ${label} has no open position in ${md(symbol)}.`)
        : t(locale, `O robô ${label} não tem posições abertas.`, `Bot ${label} has no open positions.`),
    );
    return;
  }
  const keyboard: InlineKeyboard = {
    inline_keyboard: [
      [
        { text: t(locale, '✅ Confirmar saída', '✅ Confirm exit'), callback_data: forceExitButton(found.bot.id, symbol, 'y') },
        { text: t(locale, 'Cancelar', 'Cancel'), callback_data: forceExitButton(found.bot.id, symbol, 'n') },
      ],
    ],
  };
  const lines = open.map((p) => `• **${md(p.symbol)}**: ${amount(p.amountBase, locale)} @ ${price(p.entryPriceQuote, locale)}`);
  await ctx.reply(
    [
      t(locale, `⚠️ Fechar agora, a mercado, as posições do robô ${label}?`, `⚠️ Close bot ${label}'s positions now, at market?`),
      ...lines,
    ].join('\n'),
    keyboard,
  );
}

/** The text that replaces the confirmation once the trader answered. */
export async function forceExitDecision(
  ctx: UpdateContext,
  choice: { botId: string; symbol: string | undefined; confirmed: boolean },
): Promise<string> {
  const { locale } = ctx;
  if (!choice.confirmed) return t(locale, 'Saída forçada cancelada. Nada foi vendido.', 'Forced exit cancelled. Nothing was sold.');
  const call = await callTool<ForceExitResult>(ctx, 'force_exit', {
    botId: choice.botId,
    ...(choice.symbol ? { symbol: choice.symbol } : {}),
  });
  if (!call.ok) return `⚠️ ${md(failureSentence(ctx, call))}`;
  if (call.result.exits.length === 0)
    return t(locale, 'Nenhuma posição aberta para fechar (já foi fechada?).', 'No open position to close (already closed?).');
  const lines = call.result.exits.map((e) => {
    switch (e.outcome) {
      case 'filled':
        return t(
          locale,
          `✅ **${md(e.symbol)}** vendido: ${amount(e.amountBase, locale)} @ ${price(e.priceQuote, locale)}${e.profitQuote ? `, resultado ${quote(e.profitQuote, locale, true)} USDT` : ''}`,
          `✅ **${md(e.symbol)}** sold: ${amount(e.amountBase, locale)} @ ${price(e.priceQuote, locale)}${e.profitQuote ? `, result ${quote(e.profitQuote, locale, true)} USDT` : ''}`,
        );
      case 'already':
        return t(
          locale,
          `**${md(e.symbol)}**: a ordem de saída já tinha sido enviada.`,
          `**${md(e.symbol)}**: the exit order had already been sent.`,
        );
      case 'open':
        return t(
          locale,
          `⏳ **${md(e.symbol)}**: ordem enviada, aguardando execução.`,
          `⏳ **${md(e.symbol)}**: order sent, waiting for the fill.`,
        );
      default:
        return t(
          locale,
          `⚠️ **${md(e.symbol)}**: não vendido. ${md(exitFailure(ctx, e.reason ?? e.outcome))}`,
          `⚠️ **${md(e.symbol)}**: not sold. ${md(exitFailure(ctx, e.reason ?? e.outcome))}`,
        );
    }
  });
  return lines.join('\n');
}

/** Why a forced exit did not sell, for the trader (the exchange's own words are logged). */
function exitFailure(ctx: UpdateContext, reason: string): string {
  ctx.logger?.warn({ reason }, 'Telegram /forceexit: an exit was not filled');
  return readerError({ message: reason }, ctx.locale);
}
