import { describe, expect, it } from 'vitest';
import { describeBot, reviewDescribedBot, type DraftField } from '../../trading/index.ts';

// The trader's assistant reads a bot from words (issue 22) with plain rules, no model: each
// phrasing, in Portuguese or English, gives exactly these fields — or a question about what it
// leaves open, says twice or puts out of range. Nothing that spends money is filled in silently.

const LIMITS = { maxPositionQuote: 25_000, maxOpenPositions: 4 };

interface Expected {
  strategy?: string;
  symbols?: string[];
  timeframe?: string;
  stakeQuote?: number;
  parameters?: Record<string, number>;
  maxOpenPositions?: number;
  wantsLive?: boolean;
  /** The fields asked about (exactly); none when left out. */
  asks?: DraftField[];
}

const TABLE: [string, Expected][] = [
  // The issue's own sentence.
  [
    'quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT',
    {
      strategy: 'rsi',
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 500,
      parameters: { stopLossPct: 3, takeProfitPct: 2, rsiPeriod: 14 },
      maxOpenPositions: 1,
    },
  ],
  [
    'RSI bot on BTC/USDT 4h, 2% stop loss, 5% take profit, 1,000 USDT',
    { strategy: 'rsi', symbols: ['BTC/USDT'], timeframe: '4h', stakeQuote: 1000, parameters: { stopLossPct: 2, takeProfitPct: 5 } },
  ],
  [
    'robô de médias 9 e 21 no bitcoin 15 minutos com 1.500 USDT e alvo de 4%',
    {
      strategy: 'ema-cross',
      symbols: ['BTC/USDT'],
      timeframe: '15m',
      stakeQuote: 1500,
      parameters: { fastPeriod: 9, slowPeriod: 21, takeProfitPct: 4, stopLossPct: 3 },
    },
  ],
  [
    'macd 12,26,9 on SOL 1d with $300',
    {
      strategy: 'macd-cross',
      symbols: ['SOL/USDT'],
      timeframe: '1d',
      stakeQuote: 300,
      parameters: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 },
    },
  ],
  [
    'RSI compra abaixo de 30 e vende acima de 70 no BTC, 2 mil usdt',
    { strategy: 'rsi', symbols: ['BTC/USDT'], timeframe: '1h', stakeQuote: 2000, parameters: { rsiBuy: 30, rsiSell: 70 } },
  ],
  [
    'rsi 30/70 eth 1h 2k usdt stop 2,5%',
    { strategy: 'rsi', symbols: ['ETH/USDT'], stakeQuote: 2000, parameters: { rsiBuy: 30, rsiSell: 70, stopLossPct: 2.5 } },
  ],
  [
    'Bollinger 20/2 on ETHUSDT, 1 hour, 750 USDT, stop 4%',
    {
      strategy: 'bollinger-reversion',
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 750,
      parameters: { period: 20, stdDevs: 2, stopLossPct: 4 },
    },
  ],
  [
    'EMA cross on BTC and ETH, 1h, 800 USDT, 2 positions',
    { strategy: 'ema-cross', symbols: ['BTC/USDT', 'ETH/USDT'], stakeQuote: 800, maxOpenPositions: 2 },
  ],
  [
    'estratégia de cruzamento de médias no ethereum, gráfico de 4 horas, banca de 1200 dólares',
    { strategy: 'ema-cross', symbols: ['ETH/USDT'], timeframe: '4h', stakeQuote: 1200 },
  ],
  [
    'I want an RSI(10) bot for XRP on the 5m chart, spend at most 250 USDT, take profit 1.5%',
    { strategy: 'rsi', symbols: ['XRP/USDT'], timeframe: '5m', stakeQuote: 250, parameters: { rsiPeriod: 10, takeProfitPct: 1.5 } },
  ],
  [
    'robô ifr no BNB diário, 3% de stop e 6% de alvo, investir 400 usdt',
    { strategy: 'rsi', symbols: ['BNB/USDT'], timeframe: '1d', stakeQuote: 400, parameters: { stopLossPct: 3, takeProfitPct: 6 } },
  ],
  ['MACD no DOGE de 15m com stake de 100 USDT', { strategy: 'macd-cross', symbols: ['DOGE/USDT'], timeframe: '15m', stakeQuote: 100 }],
  [
    'bandas de bollinger no solana 1h, 600 usdt, uma posição',
    { strategy: 'bollinger-reversion', symbols: ['SOL/USDT'], stakeQuote: 600, maxOpenPositions: 1 },
  ],
  [
    'RSI on BTC, budget 5k USDT, stop-loss of 1%',
    { strategy: 'rsi', symbols: ['BTC/USDT'], timeframe: '1h', stakeQuote: 5000, parameters: { stopLossPct: 1 } },
  ],
  ['rsi no btc-usdt 1h com 1.000,50 USDT', { strategy: 'rsi', symbols: ['BTC/USDT'], stakeQuote: 1000.5 }],
  [
    'EMA 20/50 on ADA/USDT 4h using 900 USDT',
    { strategy: 'ema-cross', symbols: ['ADA/USDT'], timeframe: '4h', stakeQuote: 900, parameters: { fastPeriod: 20, slowPeriod: 50 } },
  ],
  // What the words leave open: asked, never a default that spends money.
  ['quero um robô no BTC', { symbols: ['BTC/USDT'], asks: ['strategy', 'stakeQuote'] }],
  ['RSI bot on ETH, 1h', { strategy: 'rsi', asks: ['stakeQuote'] }],
  ['robô RSI com 500 USDT', { strategy: 'rsi', stakeQuote: 500, asks: ['symbols'] }],
  ['make me a trading bot', { asks: ['strategy', 'symbols', 'stakeQuote'] }],
  ['rsi no eth com 3% e 500 usdt', { strategy: 'rsi', stakeQuote: 500, asks: ['stopLossPct'] }],
  ['RSI e MACD no BTC 1h 500 USDT', { asks: ['strategy'] }],
  ['rsi eth 1h e 4h 500 usdt', { strategy: 'rsi', asks: ['timeframe'] }],
  ['rsi btc 1h com 500 usdt ou 800 usdt', { strategy: 'rsi', asks: ['stakeQuote'] }],
  ['RSI on ETH 1h, no stop, 500 USDT', { strategy: 'rsi', asks: ['stopLossPct'] }],
  // Out of range or not offered: a question or a refusal that says why.
  ['bollinger no ETH 30m com 200 usdt', { strategy: 'bollinger-reversion', asks: ['timeframe'] }],
  ['rsi eth 1h stop 150% 500 usdt', { strategy: 'rsi', asks: ['stopLossPct'] }],
  ['RSI 80/20 on BTC 1h 500 USDT', { strategy: 'rsi', asks: ['parameters'] }],
  ['EMA 50/20 on BTC 1h 500 USDT', { strategy: 'ema-cross', asks: ['parameters'] }],
  ['rsi no btc 1h com 100000 usdt', { strategy: 'rsi', asks: ['stakeQuote'] }],
  ['rsi btc 1h R$ 500', { strategy: 'rsi', asks: ['stakeQuote'] }],
  ['I want a live RSI bot on ETH with 10x leverage and 500 USDT', { strategy: 'rsi', stakeQuote: 500, wantsLive: true, asks: ['mode'] }],
  ['robô RSI vendido no BTC 1h 500 USDT', { strategy: 'rsi', asks: ['mode'] }],
  ['EMA cross on BTC and ETH, 1h, 800 USDT, 3 positions', { strategy: 'ema-cross', asks: ['maxOpenPositions'] }],
  ['quero um robô RSI no ETH de 1h com 500 USDT em dinheiro de verdade', { strategy: 'rsi', stakeQuote: 500, wantsLive: true }],
  ['rsi no par BTC/BRL 1h 500 usdt', { strategy: 'rsi', asks: ['symbols'] }],
];

describe('a bot from words: the deterministic extraction (pt-BR and English)', () => {
  it.each([
    ['muda o stop para 2 %', { stopLossPct: 2 }],
    ['set the stop-loss to 1.5% and the take profit to 4%', { stopLossPct: 1.5, takeProfitPct: 4 }],
    ['coloca o alvo pra 6%', { takeProfitPct: 6 }],
  ])('a change in words, "%s": the stop or the target "para" / "to" a percentage', (words, expected) => {
    const described = describeBot(words);
    expect({ stopLossPct: described.stopLossPct, takeProfitPct: described.takeProfitPct }).toEqual({
      stopLossPct: undefined,
      takeProfitPct: undefined,
      ...expected,
    });
    expect(described.issues.filter((i) => i.field === 'stopLossPct' || i.field === 'takeProfitPct')).toEqual([]);
  });

  it('has at least 30 phrasings', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
  });

  it.each(TABLE)('%s', (words, expected) => {
    const draft = reviewDescribedBot(describeBot(words), LIMITS, 'pt-BR');
    if (expected.strategy !== undefined) expect(draft.strategy).toBe(expected.strategy);
    if (expected.symbols !== undefined) expect(draft.symbols).toEqual(expected.symbols);
    if (expected.timeframe !== undefined) expect(draft.timeframe).toBe(expected.timeframe);
    if (expected.stakeQuote !== undefined) expect(draft.stakeQuote).toBe(expected.stakeQuote);
    if (expected.parameters !== undefined) expect(draft.parameters).toMatchObject(expected.parameters);
    if (expected.maxOpenPositions !== undefined) expect(draft.maxOpenPositions).toBe(expected.maxOpenPositions);
    expect(draft.wantsLive).toBe(expected.wantsLive ?? false);
    expect([...new Set(draft.questions.map((q) => q.field))].sort()).toEqual([...(expected.asks ?? [])].sort());
    // A stake is never made up: no amount in the words, none in the draft.
    if ((expected.asks ?? []).includes('stakeQuote') && expected.stakeQuote === undefined) expect(draft.stakeQuote ?? null).not.toBe(500);
  });

  it('asks in the trader’s language', () => {
    const words = 'rsi no btc 1h';
    expect(reviewDescribedBot(describeBot(words), LIMITS, 'pt-BR').questions[0]!.question).toBe('Quantos USDT o robô pode usar no máximo?');
    expect(reviewDescribedBot(describeBot(words), LIMITS, 'en').questions[0]!.question).toBe('How many USDT may the bot use at most?');
  });

  it('lets hints (a model’s schema-checked fields) fill only what the words left open', () => {
    const described = describeBot('RSI no ETH de 1h com 500 USDT');
    const filled = reviewDescribedBot(describeBot('RSI no ETH de 1h'), LIMITS, 'en', { stakeQuote: 300 });
    expect(filled.stakeQuote).toBe(300);
    expect(filled.questions).toEqual([]);
    // The words win over a hint.
    expect(reviewDescribedBot(described, LIMITS, 'en', { stakeQuote: 9000, symbols: ['BTC/USDT'] })).toMatchObject({
      stakeQuote: 500,
      symbols: ['ETH/USDT'],
    });
    // A hint out of range is asked about like the words.
    expect(reviewDescribedBot(describeBot('RSI no ETH de 1h'), LIMITS, 'en', { stakeQuote: 90_000 }).questions.map((q) => q.field)).toEqual(
      ['stakeQuote'],
    );
  });
});

/** Complete descriptions: every field of the draft, exactly (the strategy's defaults for what the words leave to it). */
const EXACT: [string, Record<string, unknown>][] = [
  [
    'quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 },
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 500,
      maxOpenPositions: 1,
    },
  ],
  [
    'RSI bot on BTC/USDT 4h, 2% stop loss, 5% take profit, 1,000 USDT',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 2, takeProfitPct: 5 },
      symbols: ['BTC/USDT'],
      timeframe: '4h',
      stakeQuote: 1000,
      maxOpenPositions: 1,
    },
  ],
  [
    'robô de médias 9 e 21 no bitcoin 15 minutos com 1.500 USDT e alvo de 4%',
    {
      strategy: 'ema-cross',
      parameters: { fastPeriod: 9, slowPeriod: 21, stopLossPct: 3, takeProfitPct: 4 },
      symbols: ['BTC/USDT'],
      timeframe: '15m',
      stakeQuote: 1500,
      maxOpenPositions: 1,
    },
  ],
  [
    'macd 12,26,9 on SOL 1d with $300',
    {
      strategy: 'macd-cross',
      parameters: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, stopLossPct: 3, takeProfitPct: 4 },
      symbols: ['SOL/USDT'],
      timeframe: '1d',
      stakeQuote: 300,
      maxOpenPositions: 1,
    },
  ],
  [
    'RSI compra abaixo de 30 e vende acima de 70 no BTC, 2 mil usdt',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 30, rsiSell: 70, stopLossPct: 3, takeProfitPct: 2 },
      symbols: ['BTC/USDT'],
      timeframe: '1h',
      stakeQuote: 2000,
      maxOpenPositions: 1,
    },
  ],
  [
    'rsi 30/70 eth 1h 2k usdt stop 2,5%',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 30, rsiSell: 70, stopLossPct: 2.5, takeProfitPct: 2 },
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 2000,
      maxOpenPositions: 1,
    },
  ],
  [
    'Bollinger 20/2 on ETHUSDT, 1 hour, 750 USDT, stop 4%',
    {
      strategy: 'bollinger-reversion',
      parameters: { period: 20, stdDevs: 2, stopLossPct: 4, takeProfitPct: 2 },
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 750,
      maxOpenPositions: 1,
    },
  ],
  [
    'EMA cross on BTC and ETH, 1h, 800 USDT, 2 positions',
    {
      strategy: 'ema-cross',
      parameters: { fastPeriod: 9, slowPeriod: 21, stopLossPct: 3, takeProfitPct: 4 },
      symbols: ['BTC/USDT', 'ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 800,
      maxOpenPositions: 2,
    },
  ],
  [
    'estratégia de cruzamento de médias no ethereum, gráfico de 4 horas, banca de 1200 dólares',
    {
      strategy: 'ema-cross',
      parameters: { fastPeriod: 9, slowPeriod: 21, stopLossPct: 3, takeProfitPct: 4 },
      symbols: ['ETH/USDT'],
      timeframe: '4h',
      stakeQuote: 1200,
      maxOpenPositions: 1,
    },
  ],
  [
    'I want an RSI(10) bot for XRP on the 5m chart, spend at most 250 USDT, take profit 1.5%',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 10, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 1.5 },
      symbols: ['XRP/USDT'],
      timeframe: '5m',
      stakeQuote: 250,
      maxOpenPositions: 1,
    },
  ],
  [
    'robô ifr no BNB diário, 3% de stop e 6% de alvo, investir 400 usdt',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 6 },
      symbols: ['BNB/USDT'],
      timeframe: '1d',
      stakeQuote: 400,
      maxOpenPositions: 1,
    },
  ],
  [
    'MACD no DOGE de 15m com stake de 100 USDT',
    {
      strategy: 'macd-cross',
      parameters: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, stopLossPct: 3, takeProfitPct: 4 },
      symbols: ['DOGE/USDT'],
      timeframe: '15m',
      stakeQuote: 100,
      maxOpenPositions: 1,
    },
  ],
  [
    'bandas de bollinger no solana 1h, 600 usdt, uma posição',
    {
      strategy: 'bollinger-reversion',
      parameters: { period: 20, stdDevs: 2, stopLossPct: 3, takeProfitPct: 2 },
      symbols: ['SOL/USDT'],
      timeframe: '1h',
      stakeQuote: 600,
      maxOpenPositions: 1,
    },
  ],
  [
    'RSI on BTC, budget 5k USDT, stop-loss of 1%',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 1, takeProfitPct: 2 },
      symbols: ['BTC/USDT'],
      timeframe: '1h',
      stakeQuote: 5000,
      maxOpenPositions: 1,
    },
  ],
  [
    'rsi no btc-usdt 1h com 1.000,50 USDT',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 },
      symbols: ['BTC/USDT'],
      timeframe: '1h',
      stakeQuote: 1000.5,
      maxOpenPositions: 1,
    },
  ],
  [
    'EMA 20/50 on ADA/USDT 4h using 900 USDT',
    {
      strategy: 'ema-cross',
      parameters: { fastPeriod: 20, slowPeriod: 50, stopLossPct: 3, takeProfitPct: 4 },
      symbols: ['ADA/USDT'],
      timeframe: '4h',
      stakeQuote: 900,
      maxOpenPositions: 1,
    },
  ],
  [
    'quero um robô RSI no ETH de 1h com 500 USDT em dinheiro de verdade',
    {
      strategy: 'rsi',
      parameters: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 },
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: 500,
      maxOpenPositions: 1,
    },
  ],
];

describe('a bot from words: complete descriptions give exactly these drafts', () => {
  it.each(EXACT)('%s', (words, expected) => {
    const draft = reviewDescribedBot(describeBot(words), LIMITS, 'en');
    expect({
      strategy: draft.strategy,
      parameters: draft.parameters,
      symbols: draft.symbols,
      timeframe: draft.timeframe,
      stakeQuote: draft.stakeQuote,
      maxOpenPositions: draft.maxOpenPositions,
    }).toEqual(expected);
    expect(draft.questions).toEqual([]);
  });
});
