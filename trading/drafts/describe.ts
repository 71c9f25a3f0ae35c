import { z } from 'zod';
import { foldText } from '../../i18n/index.ts';
import type { Locale } from '../../i18n/index.ts';
import { getStrategy } from '../strategies/index.ts';

// A bot from a trader's words (issue 22): "quero um robô RSI no ETH de 1h, stop de 3 %, sem
// gastar mais que 500 USDT" → strategy, parameters, pair, timeframe, stake, stop-loss,
// take-profit and open positions, read by plain rules over the folded text (Portuguese and
// English), with no model. What the words leave open, say twice or put out of range becomes a
// question for the trader; nothing that spends money is ever filled in silently (the stake has
// no default). A model may only fill gaps through `draftHintsSchema` — schema-checked fields,
// never text — and what the words said always wins over it.

/** A backtest losing more than this from a peak keeps a draft from starting (the onboarding review's threshold). */
export const MAX_DRAFT_BACKTEST_DRAWDOWN_PCT = 30;

export const DRAFT_TIMEFRAMES = ['5m', '15m', '1h', '4h', '1d'] as const;
export type DraftTimeframe = (typeof DRAFT_TIMEFRAMES)[number];
export const DRAFT_STRATEGIES = ['rsi', 'macd-cross', 'ema-cross', 'bollinger-reversion'] as const;
export type DraftStrategy = (typeof DRAFT_STRATEGIES)[number];
export type DraftField =
  | 'strategy'
  | 'parameters'
  | 'symbols'
  | 'timeframe'
  | 'stakeQuote'
  | 'stopLossPct'
  | 'takeProfitPct'
  | 'maxOpenPositions'
  | 'mode';

const SYMBOL = /^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/;

/** Fields a model may propose for what the words left open (checked again like the words' own). */
export const draftHintsSchema = z.strictObject({
  strategy: z.enum(DRAFT_STRATEGIES).optional(),
  symbols: z.array(z.string().regex(SYMBOL)).min(1).max(20).optional(),
  timeframe: z.enum(DRAFT_TIMEFRAMES).optional(),
  stakeQuote: z.number().positive().max(1_000_000_000).optional(),
  stopLossPct: z.number().gt(0).max(100).optional(),
  takeProfitPct: z.number().gt(0).max(100).optional(),
  maxOpenPositions: z.number().int().min(1).max(20).optional(),
});
export type DraftHints = z.infer<typeof draftHintsSchema>;

export interface DraftIssue {
  readonly field: DraftField;
  readonly kind: 'missing' | 'ambiguous' | 'unsupported' | 'out_of_range' | 'refused';
  /** What was read (the values, the unit), for the question. */
  readonly detail?: string;
}

/** What the words say, before the plan and the strategy's ranges are applied. */
export interface DescribedBot {
  readonly strategy: DraftStrategy | undefined;
  readonly parameters: Record<string, number>;
  readonly symbols: string[];
  readonly timeframe: DraftTimeframe | undefined;
  readonly stakeQuote: number | undefined;
  readonly stopLossPct: number | undefined;
  readonly takeProfitPct: number | undefined;
  readonly maxOpenPositions: number | undefined;
  /** The words asked for real money: the assistant drafts paper bots only. */
  readonly wantsLive: boolean;
  readonly issues: DraftIssue[];
  /** Fields given a default that spends nothing (timeframe 1h, the strategy's own stop), to say so. */
  readonly assumed: DraftField[];
}

const STRATEGY_WORDS: readonly [DraftStrategy, RegExp][] = [
  ['rsi', /\b(rsi|ifr|indice de forca relativa|relative strength)\b/],
  ['macd-cross', /\bmacd\b/],
  [
    'ema-cross',
    /\b(ema|emas|mme|medias? (?=\d)|medias? moveis?( exponencia(l|is))?|cruzamento de medias|moving averages?( cross(over)?)?|ma cross)\b/,
  ],
  ['bollinger-reversion', /\b(bollinger|bandas?|bands?)\b/],
];

/** Coins by name or ticker; the tickers that are also common words count only in capitals. */
const COINS: readonly [string, RegExp][] = [
  ['BTC', /\b(btc|bitcoin|xbt)\b/],
  ['ETH', /\b(eth|ethereum|etherium|ether)\b/],
  ['SOL', /\b(solana)\b/],
  ['BNB', /\b(bnb|binance coin)\b/],
  ['XRP', /\b(xrp|ripple)\b/],
  ['ADA', /\b(cardano)\b/],
  ['DOGE', /\b(doge|dogecoin)\b/],
  ['DOT', /\b(polkadot)\b/],
  ['AVAX', /\b(avax|avalanche)\b/],
  ['LINK', /\b(chainlink)\b/],
  ['LTC', /\b(ltc|litecoin)\b/],
  ['MATIC', /\b(matic|polygon)\b/],
];
const CAPITAL_TICKERS = /\b(SOL|ADA|DOT|LINK)\b/g;
const QUOTES = 'USDT|USDC|BUSD|BTC|ETH|BRL|FDUSD';

/** "1.000,50" (pt-BR), "1,000.50" (en), "2,5", "1.5k" → a number. */
export function readNumber(text: string): number {
  let t = text.trim().replace(/\s/g, '');
  let factor = 1;
  if (/(k|mil)$/i.test(t)) {
    factor = 1000;
    t = t.replace(/(k|mil)$/i, '');
  }
  if (/^\d{1,3}(\.\d{3})+(,\d+)?$/.test(t)) t = t.replace(/\./g, '').replace(',', '.');
  else if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) t = t.replace(/,/g, '');
  else t = t.replace(',', '.');
  return Number(t) * factor;
}

const NUMBER = String.raw`(\d[\d.,]*\d|\d)(?![\d])`;
const WORD_NUMBERS: Record<string, number> = { um: 1, uma: 1, one: 1, dois: 2, duas: 2, two: 2, tres: 3, three: 3, quatro: 4, four: 4 };

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Reads a bot from a trader's words. Never throws; what it cannot read is an issue. */
export function describeBot(words: string): DescribedBot {
  const raw = words.slice(0, 2000);
  // Folded, with the spaces a percent sign or a currency gets around it made uniform.
  const text = foldText(raw).replace(/\s+/g, ' ');
  const issues: DraftIssue[] = [];
  const assumed: DraftField[] = [];
  const parameters: Record<string, number> = {};

  // Things the assistant will not build: said plainly, not half-built.
  if (/\b(alavancagem|alavancado|leverage[d]?|margem|margin|futuros?|futures|perpetuos?|perps?)\b|\b\d+ ?x\b/.test(text))
    issues.push({ field: 'mode', kind: 'refused', detail: 'leverage' });
  if (/\b(short|vendido|shortar|operar vendido|go short)\b/.test(text)) issues.push({ field: 'mode', kind: 'refused', detail: 'short' });
  const wantsLive = /\b(real|live|ao vivo|dinheiro de verdade|real money|conta real|de verdade)\b/.test(text.replace(/\br\$/g, ' '));

  // Strategy: one of the catalogue's by name.
  const strategies = STRATEGY_WORDS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
  const strategy = strategies.length === 1 ? strategies[0] : undefined;
  if (strategies.length === 0) issues.push({ field: 'strategy', kind: 'missing' });
  else if (strategies.length > 1) issues.push({ field: 'strategy', kind: 'ambiguous', detail: strategies.join(', ') });

  // Pairs: explicit (ETH/USDT, ETHUSDT, ETH-USDT) first, else coins with USDT.
  const pairs: string[] = [];
  for (const match of raw.matchAll(new RegExp(String.raw`\b([A-Za-z0-9]{2,10})\s*[/-]\s*(${QUOTES})\b`, 'gi')))
    pairs.push(`${match[1]!.toUpperCase()}/${match[2]!.toUpperCase()}`);
  for (const match of text.matchAll(/\b([a-z]{2,10}?)(usdt|usdc|fdusd)\b/g))
    pairs.push(`${match[1]!.toUpperCase()}/${match[2]!.toUpperCase()}`);
  let symbols = distinct(pairs);
  if (symbols.length === 0) {
    const coins = COINS.filter(([, pattern]) => pattern.test(text)).map(([coin]) => coin);
    for (const match of raw.matchAll(CAPITAL_TICKERS)) coins.push(match[1]!);
    symbols = distinct(coins).map((coin) => `${coin}/USDT`);
  }
  if (symbols.length === 0) issues.push({ field: 'symbols', kind: 'missing' });
  const brlPairs = symbols.filter((s) => s.endsWith('/BRL'));
  if (brlPairs.length > 0) {
    issues.push({ field: 'symbols', kind: 'unsupported', detail: brlPairs.join(', ') });
    symbols = symbols.filter((s) => !s.endsWith('/BRL'));
  }

  // Timeframe: 5m, 15m, 1h, 4h, 1d; others are asked about, never rounded.
  const frames: string[] = [];
  for (const m of text.matchAll(/\b(\d+) ?(m|min|mins|minutos?|minutes?)\b/g)) frames.push(`${Number(m[1])}m`);
  for (const m of text.matchAll(/\b(\d+) ?(h|hr|hrs|horas?|hours?)\b/g)) frames.push(`${Number(m[1])}h`);
  if (/\b(1 ?d|1 dia|diario|daily|1 day|grafico de dia)\b/.test(text)) frames.push('1d');
  if (/\b(de hora em hora|hourly|por hora|horario)\b/.test(text)) frames.push('1h');
  const uniqueFrames = distinct(frames);
  let timeframe: DraftTimeframe | undefined;
  if (uniqueFrames.length > 1) issues.push({ field: 'timeframe', kind: 'ambiguous', detail: uniqueFrames.join(', ') });
  else if (uniqueFrames.length === 1) {
    if ((DRAFT_TIMEFRAMES as readonly string[]).includes(uniqueFrames[0]!)) timeframe = uniqueFrames[0] as DraftTimeframe;
    else issues.push({ field: 'timeframe', kind: 'unsupported', detail: uniqueFrames[0]! });
  } else {
    timeframe = '1h';
    assumed.push('timeframe');
  }

  // Stop-loss and take-profit: a percentage next to its word, either order.
  const PCT = String.raw`(\d+(?:[.,]\d+)?) ?(?:%|por cento|percent|pct)`;
  const STOP = `(?:stop[ -]?loss|stoploss|stop|sl|perda maxima|max(?:imum)? loss|prejuizo maximo)`;
  const TAKE = `(?:take[ -]?profit|takeprofit|tp|alvo|lucro alvo|realiza(?:r)? (?:o )?lucro|objetivo|target|profit target|ganho|lucro|gain)`;
  const LINK = ` ?(?:de|em|of|at|a|no|na|para|pra|to|for|=|:|em torno de|around)? ?`;
  const percentsFor = (word: string) => {
    const found: number[] = [];
    for (const m of text.matchAll(new RegExp(String.raw`\b${word}\b${LINK}(\d+(?:[.,]\d+)?)(?! ?(?:usdt|usd|dolares|\$|k\b))`, 'g')))
      found.push(readNumber(m[1]!));
    for (const m of text.matchAll(new RegExp(String.raw`${PCT} (?:de |of |como |as )?(?:de )?${word}\b`, 'g')))
      found.push(readNumber(m[1]!));
    return distinct(found);
  };
  const stops = percentsFor(STOP);
  const takes = percentsFor(TAKE);
  let stopLossPct: number | undefined;
  let takeProfitPct: number | undefined;
  if (/\b(sem stop|no stop|without (a )?stop|nenhum stop)\b/.test(text))
    issues.push({ field: 'stopLossPct', kind: 'refused', detail: 'none' });
  else if (stops.length > 1) issues.push({ field: 'stopLossPct', kind: 'ambiguous', detail: stops.join(' %, ') });
  else if (stops.length === 1) stopLossPct = stops[0];
  if (takes.length > 1) issues.push({ field: 'takeProfitPct', kind: 'ambiguous', detail: takes.join(' %, ') });
  else if (takes.length === 1) takeProfitPct = takes[0];
  // A percentage with no word to say what it is: asked, not guessed.
  const allPercents = [...text.matchAll(new RegExp(PCT, 'g'))].map((m) => readNumber(m[1]!));
  const placed = new Set([...stops, ...takes]);
  const loose = allPercents.filter((p) => !placed.has(p));
  if (loose.length > 0 && (stopLossPct === undefined || takeProfitPct === undefined))
    issues.push({
      field: stopLossPct === undefined ? 'stopLossPct' : 'takeProfitPct',
      kind: 'ambiguous',
      detail: `${loose.join(' %, ')} %`,
    });

  // The stake: an amount of USDT (dollars read as USDT), or a number after a money word.
  const amounts: number[] = [];
  for (const m of text.matchAll(
    new RegExp(String.raw`${NUMBER} ?(k|mil)? ?(usdt|usd|tether|dolares|dolar|dollars?|bucks|\$)(?![a-z])`, 'g'),
  ))
    amounts.push(readNumber(m[1]! + (m[2] ?? '')));
  for (const m of text.matchAll(new RegExp(String.raw`(?:us)?\$ ?${NUMBER}(k| mil)?`, 'g')))
    if (!/r\$ ?$/.test(text.slice(0, m.index + 2))) amounts.push(readNumber(m[1]! + (m[2] ?? '')));
  for (const m of text.matchAll(
    new RegExp(
      String.raw`\b(?:stake|banca|capital|investir|investindo|invista|gastar|gaste|gastando|orcamento|budget|spend|spending|invest|investing|aplicar|arriscar|risk|use|usar|usando|com|with)\b(?: (?:de|of|ate|up to|no maximo|at most|mais que|more than|mais de|maximo|max|only|so|apenas|um|uma))* ?${NUMBER}(k| mil)?(?! ?(?:%|por cento|percent|h\b|m\b|min|d\b|dias?|days?|horas?|hours?|posic|position|r\$|reais|brl|x\b))`,
      'g',
    ),
  ))
    amounts.push(readNumber(m[1]! + (m[2] ?? '')));
  const stakes = distinct(amounts.filter((a) => Number.isFinite(a)));
  let stakeQuote: number | undefined;
  if (/\b\d[\d.,]* ?(reais|brl)\b|r\$ ?\d/.test(text)) issues.push({ field: 'stakeQuote', kind: 'unsupported', detail: 'BRL' });
  else if (stakes.length > 1) issues.push({ field: 'stakeQuote', kind: 'ambiguous', detail: `${stakes.join(', ')} USDT` });
  else if (stakes.length === 1) stakeQuote = stakes[0];
  else issues.push({ field: 'stakeQuote', kind: 'missing' });

  // Open positions: "2 posições", "one position at a time".
  let maxOpenPositions: number | undefined;
  const positionsMatch =
    /\b(\d+|um|uma|one|dois|duas|two|tres|three|quatro|four) ?(?:posicoes|posicao|positions?|operacoes abertas|operacao aberta|trades? abertos?|open trades?|open positions?)\b/.exec(
      text,
    );
  if (positionsMatch) maxOpenPositions = WORD_NUMBERS[positionsMatch[1]!] ?? Number(positionsMatch[1]);

  // The strategy's own numbers.
  if (strategy === 'rsi') {
    const pair = /\b(?:rsi|ifr) ?\(?(\d{1,2}) ?[/-] ?(\d{1,2})\)?/.exec(text);
    if (pair) {
      parameters['rsiBuy'] = Number(pair[1]);
      parameters['rsiSell'] = Number(pair[2]);
    } else {
      const period = /\b(?:rsi|ifr) ?(?:de |periodo |period )?\(?(\d{1,3})\)?(?! ?(?:%|usdt|\$|h\b|m\b|min|d\b))/.exec(text);
      if (period) parameters['rsiPeriod'] = Number(period[1]);
    }
    const buy = /\b(?:compr\w*|buy\w*|entr\w*|enter\w*)\b[^.;]{0,30}?\b(?:abaixo de|menor que|below|under|<) ?(\d{1,3}(?:[.,]\d+)?)/.exec(
      text,
    );
    if (buy) parameters['rsiBuy'] = readNumber(buy[1]!);
    const sell = /\b(?:vend\w*|sell\w*|sai\w*|exit\w*)\b[^.;]{0,30}?\b(?:acima de|maior que|above|over|>) ?(\d{1,3}(?:[.,]\d+)?)/.exec(
      text,
    );
    if (sell) parameters['rsiSell'] = readNumber(sell[1]!);
  } else if (strategy === 'ema-cross') {
    const m =
      /\b(?:emas?|mme|medias?(?: moveis?)?(?: exponenciais?)?|moving averages?|ma) ?\(?(\d{1,3}) ?(?:[/x,-]|e|and) ?(\d{1,3})\)?/.exec(
        text,
      );
    if (m) {
      parameters['fastPeriod'] = Number(m[1]);
      parameters['slowPeriod'] = Number(m[2]);
    }
  } else if (strategy === 'macd-cross') {
    const m = /\bmacd ?\(?(\d{1,3}) ?[,/ ] ?(\d{1,3}) ?[,/ ] ?(\d{1,3})\)?/.exec(text);
    if (m) {
      parameters['fastPeriod'] = Number(m[1]);
      parameters['slowPeriod'] = Number(m[2]);
      parameters['signalPeriod'] = Number(m[3]);
    }
  } else if (strategy === 'bollinger-reversion') {
    const m = /\bbollinger ?\(?(\d{1,3}) ?[,/ ] ?(\d+(?:[.,]\d+)?)\)?/.exec(text);
    if (m) {
      parameters['period'] = Number(m[1]);
      parameters['stdDevs'] = readNumber(m[2]!);
    }
  }
  if (strategy && stopLossPct === undefined && !issues.some((i) => i.field === 'stopLossPct')) assumed.push('stopLossPct');
  if (strategy && takeProfitPct === undefined && !issues.some((i) => i.field === 'takeProfitPct')) assumed.push('takeProfitPct');

  return { strategy, parameters, symbols, timeframe, stakeQuote, stopLossPct, takeProfitPct, maxOpenPositions, wantsLive, issues, assumed };
}

/** The risk gate's limits a draft is checked against (the plan's are checked with the account: billing's checkBotStart). */
export interface DraftLimits {
  readonly maxPositionQuote: number;
  readonly maxOpenPositions: number;
}

export interface DraftQuestion {
  readonly field: DraftField;
  readonly question: string;
}

/** A draft ready for a backtest (every field known and in range), or the questions before it is. */
export interface ReviewedDraft {
  readonly strategy: DraftStrategy | undefined;
  /** The strategy's full parameters (its defaults for what was not said), stop and take included. */
  readonly parameters: Record<string, number>;
  readonly symbols: string[];
  readonly timeframe: DraftTimeframe | undefined;
  readonly stakeQuote: number | undefined;
  readonly maxOpenPositions: number | undefined;
  readonly questions: DraftQuestion[];
  readonly assumed: DraftField[];
  readonly wantsLive: boolean;
}

const PARAMETER_NAMES: Record<string, [string, string]> = {
  rsiPeriod: ['período do RSI', 'RSI period'],
  rsiBuy: ['nível de compra do RSI', 'RSI buy level'],
  rsiSell: ['nível de venda do RSI', 'RSI sell level'],
  fastPeriod: ['período rápido', 'fast period'],
  slowPeriod: ['período lento', 'slow period'],
  signalPeriod: ['período do sinal', 'signal period'],
  period: ['período', 'period'],
  stdDevs: ['desvios-padrão', 'standard deviations'],
  stopLossPct: ['stop-loss', 'stop-loss'],
  takeProfitPct: ['take-profit', 'take-profit'],
};

function question(issue: DraftIssue, locale: Locale, limits: DraftLimits): string {
  const en = locale === 'en';
  const d = issue.detail ?? '';
  switch (`${issue.field}:${issue.kind}`) {
    case 'strategy:missing':
      return en
        ? 'Which strategy: RSI, MACD, EMA cross or Bollinger bands?'
        : 'Qual estratégia: RSI, MACD, cruzamento de médias (EMA) ou bandas de Bollinger?';
    case 'strategy:ambiguous':
      return en
        ? `You named several strategies (${d}); which one should the bot use?`
        : `Você citou várias estratégias (${d}); qual o robô deve usar?`;
    case 'symbols:missing':
      return en ? 'Which pair should it trade (e.g. BTC/USDT, ETH/USDT)?' : 'Qual par ele deve operar (ex.: BTC/USDT, ETH/USDT)?';
    case 'symbols:unsupported':
      return en
        ? `Pairs quoted in BRL (${d}) are not traded; use a USDT pair.`
        : `Pares em BRL (${d}) não são operados; use um par em USDT.`;
    case 'timeframe:ambiguous':
      return en ? `You gave several timeframes (${d}); which one?` : `Você deu vários tempos gráficos (${d}); qual deles?`;
    case 'timeframe:unsupported':
      return en
        ? `The ${d} timeframe is not available; choose 5m, 15m, 1h, 4h or 1d.`
        : `O tempo gráfico ${d} não está disponível; escolha 5m, 15m, 1h, 4h ou 1d.`;
    case 'stakeQuote:missing':
      return en ? 'How many USDT may the bot use at most?' : 'Quantos USDT o robô pode usar no máximo?';
    case 'stakeQuote:ambiguous':
      return en ? `Which amount is the bot's limit: ${d}?` : `Qual valor é o limite do robô: ${d}?`;
    case 'stakeQuote:unsupported':
      return en ? 'Bots trade in USDT: how many USDT may it use?' : 'Os robôs operam em USDT: quantos USDT ele pode usar?';
    case 'stakeQuote:out_of_range':
      return en
        ? `${d} USDT is above the ${limits.maxPositionQuote} USDT one bot may hold; how much should it use?`
        : `${d} USDT passa dos ${limits.maxPositionQuote} USDT que um robô pode ter; quanto ele deve usar?`;
    case 'stopLossPct:refused':
      return en
        ? "Every bot the assistant builds has a stop-loss; what percentage (the strategy's default is 3 %)?"
        : 'Todo robô do assistente tem stop-loss; de quantos por cento (o padrão da estratégia é 3 %)?';
    case 'stopLossPct:ambiguous':
    case 'takeProfitPct:ambiguous':
      return en ? `What is ${d} — the stop-loss or the take-profit?` : `O que é ${d} — o stop-loss ou o take-profit (alvo de lucro)?`;
    case 'maxOpenPositions:out_of_range':
      return en
        ? `${d} open positions: a bot holds one per pair, at most ${limits.maxOpenPositions}; how many?`
        : `${d} posições abertas: um robô tem uma por par, no máximo ${limits.maxOpenPositions}; quantas?`;
    case 'mode:refused':
      return d === 'short'
        ? en
          ? 'Bots only buy and then sell (spot, long); short selling is not offered.'
          : 'Os robôs só compram e depois vendem (à vista); operar vendido não é oferecido.'
        : en
          ? 'Bots trade spot without leverage; leverage, margin and futures are not offered.'
          : 'Os robôs operam à vista, sem alavancagem; margem e futuros não são oferecidos.';
    default: {
      // A strategy parameter out of its range: "rsiBuy: must be < 100".
      const name = PARAMETER_NAMES[issue.field === 'parameters' ? d.split(':')[0]! : issue.field];
      const label = name ? name[en ? 1 : 0] : issue.field;
      const reason = issue.field === 'parameters' ? d.slice(d.indexOf(':') + 1).trim() : d;
      const why = en
        ? reason
        : reason
            .replace('must be a whole number', 'deve ser um número inteiro')
            .replace(/must be below/g, 'deve ser menor que')
            .replace(/must be/g, 'deve ser');
      return en ? `The ${label} is out of range (${why}); what value?` : `O ${label} está fora do intervalo (${why}); qual valor?`;
    }
  }
}

/**
 * The described bot against the strategy's parameter ranges (its zod schema), the risk gate's
 * limits and the plan's symbols per bot. Every problem is a question in the trader's language.
 */
export function reviewDescribedBot(described: DescribedBot, limits: DraftLimits, locale: Locale, hints: DraftHints = {}): ReviewedDraft {
  const issues = [...described.issues];
  const filledBy = (field: keyof DraftHints) => !issues.some((i) => i.field === field && i.kind !== 'missing');
  // Hints fill only what is missing; the words win, and a hint is checked like the words.
  const strategy = described.strategy ?? (filledBy('strategy') ? hints.strategy : undefined);
  const symbols = described.symbols.length > 0 ? described.symbols : (hints.symbols ?? []);
  const timeframe = described.assumed.includes('timeframe') && hints.timeframe ? hints.timeframe : described.timeframe;
  const stakeQuote = described.stakeQuote ?? (filledBy('stakeQuote') ? hints.stakeQuote : undefined);
  const stopLossPct = described.stopLossPct ?? (filledBy('stopLossPct') ? hints.stopLossPct : undefined);
  const takeProfitPct = described.takeProfitPct ?? (filledBy('takeProfitPct') ? hints.takeProfitPct : undefined);
  const drop = (field: DraftField, filled: unknown) => {
    if (filled === undefined) return;
    for (let i = issues.length - 1; i >= 0; i--) if (issues[i]!.field === field && issues[i]!.kind === 'missing') issues.splice(i, 1);
  };
  drop('strategy', strategy);
  drop('symbols', symbols.length > 0 ? symbols : undefined);
  drop('stakeQuote', stakeQuote);

  let parameters: Record<string, number> = {};
  if (strategy) {
    const given = {
      ...described.parameters,
      ...(stopLossPct === undefined ? {} : { stopLossPct }),
      ...(takeProfitPct === undefined ? {} : { takeProfitPct }),
    };
    const parsed = getStrategy(strategy).parameters.safeParse(given);
    if (parsed.success) parameters = parsed.data;
    else {
      for (const problem of parsed.error.issues) {
        const key = String(problem.path[0] ?? '');
        if (key === 'stopLossPct' || key === 'takeProfitPct')
          issues.push({ field: key, kind: 'out_of_range', detail: `${given[key]} %: ${problem.message}` });
        else issues.push({ field: 'parameters', kind: 'out_of_range', detail: `${key || 'rsiBuy'}: ${problem.message}` });
      }
      parameters = { ...given };
    }
  }
  if (stakeQuote !== undefined && (stakeQuote <= 0 || stakeQuote > limits.maxPositionQuote))
    issues.push({ field: 'stakeQuote', kind: 'out_of_range', detail: String(stakeQuote) });
  let maxOpenPositions = described.maxOpenPositions ?? hints.maxOpenPositions;
  if (maxOpenPositions === undefined) maxOpenPositions = symbols.length > 0 ? Math.min(symbols.length, limits.maxOpenPositions) : undefined;
  else if (maxOpenPositions < 1 || maxOpenPositions > limits.maxOpenPositions || (symbols.length > 0 && maxOpenPositions > symbols.length))
    issues.push({ field: 'maxOpenPositions', kind: 'out_of_range', detail: String(maxOpenPositions) });

  const questions: DraftQuestion[] = issues.map((issue) => ({
    field: issue.field,
    question:
      issue.field === 'stopLossPct' && issue.kind === 'out_of_range'
        ? question({ field: 'parameters', kind: 'out_of_range', detail: `stopLossPct: ${issue.detail}` }, locale, limits)
        : issue.field === 'takeProfitPct' && issue.kind === 'out_of_range'
          ? question({ field: 'parameters', kind: 'out_of_range', detail: `takeProfitPct: ${issue.detail}` }, locale, limits)
          : question(issue, locale, limits),
  }));
  return {
    strategy,
    parameters,
    symbols,
    timeframe,
    stakeQuote,
    maxOpenPositions,
    questions: distinctQuestions(questions),
    assumed: described.assumed,
    wantsLive: described.wantsLive,
  };
}

function distinctQuestions(list: DraftQuestion[]): DraftQuestion[] {
  const seen = new Set<string>();
  return list.filter((q) => {
    if (seen.has(q.question)) return false;
    seen.add(q.question);
    return true;
  });
}
