import { formatPct, formatQuote } from './format.ts';
import { intlLocale, type Locale } from './locale.ts';

// The words people read that more than one surface shares (Telegram, notifications, the API's
// texts later): counted nouns with their plurals, status words, the venue a bot trades on,
// and what a failure means to the reader. A technical reason (an exchange's exception, a
// missing key) is never shown to a customer: it is mapped here to a sentence, and the raw
// text stays in the logs and the audit log, where the tool layer already wrote it.

/** One text in the reader's language. */
export const pick = (locale: Locale, pt: string, en: string): string => (locale === 'en' ? en : pt);

/** Nouns counted in texts: [one, other] per language. */
const NOUNS = {
  bot: [
    ['robô', 'robôs'],
    ['bot', 'bots'],
  ],
  trade: [
    ['operação', 'operações'],
    ['trade', 'trades'],
  ],
  winningTrade: [
    ['com lucro', 'com lucro'],
    ['winner', 'winners'],
  ],
  position: [
    ['posição', 'posições'],
    ['position', 'positions'],
  ],
  day: [
    ['dia', 'dias'],
    ['day', 'days'],
  ],
  candle: [
    ['candle', 'candles'],
    ['candle', 'candles'],
  ],
  approval: [
    ['aprovação', 'aprovações'],
    ['approval', 'approvals'],
  ],
  symbol: [
    ['par', 'pares'],
    ['symbol', 'symbols'],
  ],
  backtest: [
    ['backtest', 'backtests'],
    ['backtest', 'backtests'],
  ],
  minute: [
    ['minuto', 'minutos'],
    ['minute', 'minutes'],
  ],
  pair: [
    ['par', 'pares'],
    ['pair', 'pairs'],
  ],
} as const satisfies Record<string, readonly [readonly [string, string], readonly [string, string]]>;
export type CountedNoun = keyof typeof NOUNS;

const pluralRules = new Map<Locale, Intl.PluralRules>();

/** The noun's form for a count ("1 robô", "2 robôs"; "0 bots" in English, "0 robôs" in pt-BR). */
export function nounFor(count: number, noun: CountedNoun, locale: Locale): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(intlLocale(locale));
    pluralRules.set(locale, rules);
  }
  const [one, other] = NOUNS[noun][locale === 'en' ? 1 : 0];
  // CLDR counts 0 as "one" in Portuguese; Brazilians write "0 robôs".
  return count !== 0 && rules.select(count) === 'one' ? one : other;
}

/** A count with its noun, the number grouped the locale's way: "1 robô", "1.200 operações". */
export function countOf(count: number, noun: CountedNoun, locale: Locale): string {
  return `${new Intl.NumberFormat(intlLocale(locale)).format(count)} ${nounFor(count, noun, locale)}`;
}

/** Status words of bots, approvals, tickets, subscriptions and leads: [pt-BR, en]. */
const STATUS_WORDS: Record<string, readonly [string, string]> = {
  running: ['rodando', 'running'],
  stopped: ['parado', 'stopped'],
  paused: ['pausado', 'paused'],
  error: ['com erro', 'in error'],
  frozen: ['congelado', 'frozen'],
  starting: ['ligando', 'starting'],
  active: ['ativa', 'active'],
  trialing: ['em teste', 'on trial'],
  past_due: ['pagamento atrasado', 'payment overdue'],
  canceled: ['cancelada', 'cancelled'],
  cancelled: ['cancelada', 'cancelled'],
  incomplete: ['incompleta', 'incomplete'],
  incomplete_expired: ['expirada', 'expired'],
  unpaid: ['não paga', 'unpaid'],
  open: ['aberto', 'open'],
  pending: ['pendente', 'pending'],
  escalated: ['escalado', 'escalated'],
  answered: ['respondido', 'answered'],
  resolved: ['resolvido', 'resolved'],
  closed: ['fechado', 'closed'],
  approved: ['aprovada', 'approved'],
  executed: ['aprovada e executada', 'approved and executed'],
  failed: ['aprovada, com falha na execução', 'approved, failed to run'],
  rejected: ['rejeitada', 'rejected'],
  expired: ['expirada', 'expired'],
  none: ['sem assinatura', 'no subscription'],
  low: ['baixa', 'low'],
  normal: ['normal', 'normal'],
  high: ['alta', 'high'],
  urgent: ['urgente', 'urgent'],
};

/** A status as the reader says it; an unknown status is shown as it is, with underscores as spaces. */
export function statusWord(status: string, locale: Locale): string {
  const word = STATUS_WORDS[status];
  return word ? pick(locale, word[0], word[1]) : status.replace(/_/g, ' ');
}

/**
 * Where a bot's orders go, said as it is: a paper bot is simulated here; a live bot trades on
 * the exchange's testnet unless the process runs with TRADING_MODE=live.
 */
export type Venue = 'paper' | 'testnet' | 'live';

export function venueOf(botMode: string, tradingMode: string | undefined): Venue {
  if (botMode !== 'live') return 'paper';
  return tradingMode === 'live' ? 'live' : 'testnet';
}

export function venueWord(venue: Venue, locale: Locale): string {
  switch (venue) {
    case 'paper':
      return pick(locale, 'simulado', 'paper');
    case 'testnet':
      return pick(locale, 'testnet da corretora (sem dinheiro real)', 'exchange testnet (no real money)');
    case 'live':
      return pick(locale, 'real', 'live');
  }
}

/** What went wrong, as a door received it: the tool layer's error kind, the product error's category, the technical message. */
export interface Failure {
  readonly error?: string | undefined;
  readonly category?: string | undefined;
  readonly message: string;
}

const EXCHANGE_DOWN =
  /NetworkError|RequestTimeout|ExchangeNotAvailable|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up|fetch failed|did not answer|not reachable|exchange failure|exchange unavailable/i;
const EXCHANGE_REJECTED = /exchange rejected|InsufficientFunds|InvalidOrder|ExchangeRejected|rejected the (entry|exit)/i;

/**
 * One sentence for the reader for a failure. Known kinds (the exchange down or refusing, too
 * few candles, a plan limit, a frozen bot, a missing setting) get their own sentence; the rest
 * one per category. Never contains the technical message itself.
 */
export function readerError(failure: Failure, locale: Locale): string {
  const { message } = failure;
  const candles = /Not enough (\S+) candles of (\S+) to backtest \(have (\d+)\)/.exec(message);
  if (candles) {
    const [, timeframe, symbol, have] = candles as unknown as [string, string, string, string];
    return Number(have) === 0
      ? pick(
          locale,
          `Ainda não há candles de ${timeframe} de ${symbol} para este backtest. Tente outro par, outro timeframe ou menos dias.`,
          `There are no ${timeframe} candles of ${symbol} for this backtest yet. Try another pair, another timeframe or fewer days.`,
        )
      : pick(
          locale,
          `Há só ${countOf(Number(have), 'candle', locale)} de ${timeframe} de ${symbol}, poucos para este backtest. Tente menos dias ou outro timeframe.`,
          `There are only ${countOf(Number(have), 'candle', locale)} of ${timeframe} for ${symbol}, too few for this backtest. Try fewer days or another timeframe.`,
        );
  }
  if (EXCHANGE_DOWN.test(message))
    return pick(
      locale,
      'A corretora não respondeu agora; tente de novo em 1 minuto.',
      'The exchange did not answer just now; try again in 1 minute.',
    );
  if (EXCHANGE_REJECTED.test(message))
    return pick(
      locale,
      'A corretora recusou a ordem (saldo, valor mínimo ou par indisponível). Confira a carteira com /balance.',
      'The exchange refused the order (balance, minimum size or pair unavailable). Check the wallet with /balance.',
    );
  const plan = planLimit(message, locale);
  if (plan) return plan;
  if (/^No bot \S* ?in this account|exists in another account/i.test(message))
    return pick(
      locale,
      'Esse robô não está na sua conta. Veja seus robôs com /bots.',
      'That bot is not in your account. See your bots with /bots.',
    );
  if (/frozen by Security/i.test(message))
    return pick(
      locale,
      'Este robô está congelado pela equipe de Segurança e não pode ser ligado até ser liberado. Fale com o suporte.',
      'This bot is frozen by the Security team and cannot start until it is released. Contact support.',
    );
  const assistant = assistantRefusal(message, locale);
  if (assistant) return assistant;
  if (/needs Stripe/.test(message))
    return pick(
      locale,
      'O Stripe não está configurado (cobrança em modo local): nada pode ser cobrado, reembolsado ou mudado de plano até ele ser configurado.',
      'Stripe is not set up (billing runs in local mode): nothing can be charged, refunded or moved to another plan until it is.',
    );
  if (failure.error === 'pending_approval')
    return pick(
      locale,
      'Seu pedido foi enviado para aprovação; você recebe a decisão aqui.',
      'Your request was sent for approval; you will get the decision here.',
    );
  if (failure.category === 'config' || /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|not configured|not set up/.test(message))
    return pick(
      locale,
      'Este recurso ainda não está configurado do nosso lado; a equipe já foi avisada.',
      'This feature is not set up on our side yet; the team has been told.',
    );
  switch (failure.category ?? failure.error) {
    case 'forbidden':
      return pick(locale, 'Você não tem permissão para isso.', 'You are not allowed to do that.');
    case 'not_found':
      return pick(
        locale,
        'Não encontrei o que você pediu. Confira o número em /bots.',
        'I could not find that. Check the number in /bots.',
      );
    case 'invalid_arguments':
    case 'usage':
      return pick(
        locale,
        'Não entendi o pedido. Envie /help para ver os comandos.',
        'I did not understand the request. Send /help for the commands.',
      );
    case 'conflict':
      return pick(
        locale,
        'Isso não é possível no estado atual do robô ou da conta.',
        'That is not possible in the current state of the bot or account.',
      );
    case 'unavailable':
      return pick(
        locale,
        'Um serviço de que dependemos não respondeu; tente de novo em 1 minuto.',
        'A service we depend on did not answer; try again in 1 minute.',
      );
    default:
      return pick(
        locale,
        'Algo deu errado ao atender seu pedido; já foi registrado. Tente de novo em instantes.',
        'Something went wrong with your request; it has been logged. Please try again shortly.',
      );
  }
}

/** The trader's assistant's refusals (tools/catalogue/assistant.ts) and a live bot without a key, in the reader's words. */
function assistantRefusal(message: string, locale: Locale): string | undefined {
  if (/needs an active exchange API key/.test(message))
    return pick(
      locale,
      'Operar com dinheiro real precisa de uma chave de API da corretora ativa na sua conta; conecte uma primeiro. Nada foi criado.',
      'Trading real money needs an active exchange API key in your account; connect one first. Nothing was created.',
    );
  if (/^No bot draft \S+ in this account/.test(message))
    return pick(locale, 'Esse rascunho não está na sua conta.', 'That draft is not in your account.');
  if (/This draft already became bot/.test(message))
    return pick(locale, 'Este rascunho já virou um robô; veja /bots.', 'This draft already became a bot; see /bots.');
  if (/This draft was discarded|no longer open/.test(message))
    return pick(
      locale,
      'Este rascunho não está mais aberto; descreva o robô de novo.',
      'This draft is no longer open; describe the bot again.',
    );
  if (/Backtest the draft first/.test(message))
    return pick(
      locale,
      'Primeiro o backtest: um robô só começa depois que você viu o resultado dele.',
      'Backtest first: a bot starts only after you have seen its result.',
    );
  if (/The draft has open questions/.test(message))
    return pick(
      locale,
      'O rascunho ainda tem perguntas; responda-as aqui mesmo.',
      'The draft still has questions; answer them right here.',
    );
  const fall = /The backtest of (.+) from a peak \(at most (\S+) %\)/.exec(message);
  if (fall)
    return pick(
      locale,
      `O backtest caiu mais de ${fall[2]} % de um pico (${fall[1]!.replace(/ fell /g, ': ')} %); mude o rascunho (um stop menor, outro par ou tempo gráfico) antes de iniciar.`,
      `The backtest fell more than ${fall[2]}% from a peak (${fall[1]!.replace(/ fell /g, ': ')}%); change the draft (a tighter stop, another pair or timeframe) before starting it.`,
    );
  if (/Starting a bot needs your own confirmation/.test(message))
    return pick(
      locale,
      'Iniciar um robô precisa do seu toque em "Iniciar no simulado".',
      'Starting a bot needs your press on "Start on paper".',
    );
  return undefined;
}

/** A plan's limit (billing's entitlement reasons), in the reader's words, pointing at /plan. */
function planLimit(message: string, locale: Locale): string | undefined {
  const live = /Live trading is not included in the (.+?) plan; upgrade to (.+?) to trade live/.exec(message);
  if (live)
    return pick(
      locale,
      `O plano ${live[1]} não inclui operação real; mude para o ${live[2]} para operar com dinheiro de verdade. Veja /plan.`,
      `The ${live[1]} plan does not include live trading; upgrade to ${live[2]} to trade with real money. See /plan.`,
    );
  const running = /The (.+?) plan allows (\d+) running bot\(s\) and (\d+) already run(?:; upgrade to (.+?) for more)?/.exec(message);
  if (running) {
    const allowed = Number(running[2]);
    const upgrade = running[4];
    return pick(
      locale,
      `O plano ${running[1]} permite ${countOf(allowed, 'bot', locale)} ${allowed === 1 ? 'ligado' : 'ligados'} ao mesmo tempo, e já ${Number(running[3]) === 1 ? 'há 1 rodando' : `há ${running[3]} rodando`}. Pare um com /stopbot N${upgrade ? ` ou mude para o ${upgrade}` : ''}. Veja /plan.`,
      `The ${running[1]} plan allows ${countOf(allowed, 'bot', locale)} running at once, and ${running[3]} already ${Number(running[3]) === 1 ? 'runs' : 'run'}. Stop one with /stopbot N${upgrade ? ` or upgrade to ${upgrade}` : ''}. See /plan.`,
    );
  }
  const symbols = /The (.+?) plan allows (\d+) symbol\(s\) per bot; this bot has (\d+)/.exec(message);
  if (symbols)
    return pick(
      locale,
      `O plano ${symbols[1]} permite ${countOf(Number(symbols[2]), 'pair', locale)} por robô, e este tem ${symbols[3]}. Veja /plan.`,
      `The ${symbols[1]} plan allows ${countOf(Number(symbols[2]), 'pair', locale)} per bot, and this one has ${symbols[3]}. See /plan.`,
    );
  const backtests = /The (.+?) plan allows (\d+) backtests a day and (\d+) ran today(?:; upgrade to (.+?) for more)?/.exec(message);
  if (backtests)
    return pick(
      locale,
      `O plano ${backtests[1]} permite ${countOf(Number(backtests[2]), 'backtest', locale)} por dia, e hoje já ${Number(backtests[3]) === 1 ? 'rodou 1' : `rodaram ${backtests[3]}`}. Tente amanhã${backtests[4] ? ` ou mude para o ${backtests[4]}` : ''}. Veja /plan.`,
      `The ${backtests[1]} plan allows ${countOf(Number(backtests[2]), 'backtest', locale)} a day, and ${backtests[3]} already ran today. Try tomorrow${backtests[4] ? ` or upgrade to ${backtests[4]}` : ''}. See /plan.`,
    );
  return undefined;
}

/**
 * Why a bot was paused (the runner's `lastError`: "exchange failure: …", "risk limit: …",
 * "exchange rejected the entry in …: …") as a sentence for its owner, with what to do.
 */
export function pauseReasonText(reason: string | null | undefined, locale: Locale, botNumber?: number): string {
  const text = pauseReason(reason, locale);
  return botNumber === undefined ? text : text.replace('/startbot N', `/startbot ${botNumber}`);
}

/**
 * Why a bot is not running, for its owner, with what to do: a pause (pauseReasonText), an error,
 * a freeze by Security; undefined for a bot that runs or was stopped by a person.
 */
export function botStateText(status: string, reason: string | null | undefined, locale: Locale, botNumber?: number): string | undefined {
  const n = botNumber === undefined ? 'N' : String(botNumber);
  switch (status) {
    case 'paused':
      return pauseReasonText(reason, locale, botNumber);
    case 'error':
      return reason && (EXCHANGE_DOWN.test(reason) || /^exchange/i.test(reason))
        ? pick(
            locale,
            `A corretora não respondeu e o robô parou com erro. Ligue de novo com /startbot ${n} quando ela voltar.`,
            `The exchange did not answer and the bot stopped with an error. Start it again with /startbot ${n} once it is back.`,
          )
        : pick(
            locale,
            `O robô parou por um problema técnico; a equipe foi avisada. Tente ligar de novo com /startbot ${n}.`,
            `The bot stopped on a technical problem; the team has been told. Try starting it again with /startbot ${n}.`,
          );
    case 'frozen':
      return pick(
        locale,
        'Congelado pela equipe de Segurança: não opera até ser liberado. Fale com o suporte.',
        'Frozen by the Security team: it does not trade until released. Contact support.',
      );
    default:
      return undefined;
  }
}

function pauseReason(reason: string | null | undefined, locale: Locale): string {
  if (!reason)
    return pick(
      locale,
      'Pausado sem motivo registrado. Ligue de novo com /startbot N.',
      'Paused with no reason recorded. Start it again with /startbot N.',
    );
  if (/^risk limit/i.test(reason))
    return pick(
      locale,
      'O controle de risco pausou o robô (um limite de perda ou de exposição foi atingido). Revise o robô e ligue de novo com /startbot N.',
      'The risk controls paused the bot (a loss or exposure limit was reached). Review the bot and start it again with /startbot N.',
    );
  const rejected = /^exchange rejected the (entry|exit) in (\S+?):/.exec(reason);
  if (rejected)
    return pick(
      locale,
      `A corretora recusou a ${rejected[1] === 'entry' ? 'entrada' : 'saída'} em ${rejected[2]} (saldo, valor mínimo ou par indisponível). Confira /balance e ligue de novo com /startbot N.`,
      `The exchange refused the ${rejected[1]} in ${rejected[2]} (balance, minimum size or pair unavailable). Check /balance and start it again with /startbot N.`,
    );
  if (EXCHANGE_DOWN.test(reason) || /^exchange/i.test(reason))
    return pick(
      locale,
      'A corretora não respondeu, então o robô foi pausado para não operar às cegas. Ligue de novo com /startbot N quando ela voltar.',
      'The exchange did not answer, so the bot was paused rather than trade blind. Start it again with /startbot N once it is back.',
    );
  return pick(
    locale,
    'O robô foi pausado por um problema técnico; a equipe foi avisada. Ligue de novo com /startbot N.',
    'The bot was paused by a technical problem; the team has been told. Start it again with /startbot N.',
  );
}

/** The product's languages as their speakers name them. */
export const LANGUAGE_NAMES: Record<Locale, string> = { 'pt-BR': 'Português (Brasil)', en: 'English' };

/** A language a person typed ("en", "english", "pt", "português", "pt-br"), or undefined. */
export function parseLanguage(text: string): Locale | undefined {
  const folded = text
    .trim()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  if (/^(en|en-us|en-gb|english|ingles)$/.test(folded)) return 'en';
  if (/^(pt|pt-br|br|portugues|portuguese|portugues do brasil)$/.test(folded)) return 'pt-BR';
  return undefined;
}

/** A bot draft of the trader's assistant (issue 22) as every door shows it: the fields the tools return. */
export interface DraftCardView {
  readonly draftId: string;
  readonly status: string;
  readonly name: string;
  readonly strategy: string | null;
  readonly symbols: readonly string[];
  readonly timeframe: string | null;
  readonly stakeQuote: string | null;
  readonly stopLossPct: number | null;
  readonly takeProfitPct: number | null;
  readonly maxOpenPositions: number | null;
  readonly parameters: Readonly<Record<string, number>>;
  readonly questions: readonly { readonly question: string }[];
  readonly blocked: { readonly reason: string } | null;
  readonly liveNote: string | null;
  readonly riskNote: string | null;
  readonly backtests:
    | readonly {
        readonly symbol: string;
        readonly candles: number;
        readonly trades: number;
        readonly totalReturnPct: number;
        readonly maxDrawdownPct: number;
        readonly winRatePct: number | null;
        readonly buyAndHoldReturnPct: number;
        readonly buyAndHoldMaxDrawdownPct: number;
        readonly missing: string | null;
      }[]
    | null;
  readonly botId: string | null;
  readonly next: readonly string[];
}

/** The draft as lines of text in the reader's language (the CLI prints them; Telegram will send them). */
export function draftCardLines(card: DraftCardView, locale: Locale): string[] {
  const pct = (value: number | null) => (value === null ? '—' : formatPct(String(value), locale, false));
  const signed = (value: number) => formatPct(String(value), locale, true);
  const status = {
    draft: pick(locale, 'rascunho', 'draft'),
    started: pick(locale, 'iniciado', 'started'),
    discarded: pick(locale, 'descartado', 'discarded'),
  };
  const lines = [
    `${pick(locale, 'Rascunho de robô', 'Bot draft')} "${card.name}" (${status[card.status as keyof typeof status] ?? card.status}) — ${card.draftId}`,
    `${pick(locale, 'Estratégia', 'Strategy')}: ${card.strategy ?? '?'} ${Object.entries(card.parameters)
      .filter(([name]) => name !== 'stopLossPct' && name !== 'takeProfitPct')
      .map(([name, value]) => `${name}=${value}`)
      .join(', ')}`.trimEnd(),
    `${pick(locale, 'Par', 'Pair')}: ${card.symbols.join(', ') || '?'} · ${pick(locale, 'tempo gráfico', 'timeframe')} ${card.timeframe ?? '?'}`,
    `${pick(locale, 'Valor máximo', 'Stake')}: ${card.stakeQuote === null ? '?' : formatQuote(card.stakeQuote, 'USDT', locale)} · stop-loss ${pct(card.stopLossPct)} · take-profit ${pct(card.takeProfitPct)} · ${pick(locale, 'posições abertas', 'open positions')} ${card.maxOpenPositions ?? '?'}`,
    pick(locale, 'Modo: simulado (paper)', 'Mode: paper (simulated money)'),
  ];
  for (const q of card.questions) lines.push(`? ${q.question}`);
  if (card.blocked) lines.push(`${pick(locale, 'Bloqueado pelo plano', 'Blocked by the plan')}: ${card.blocked.reason}`);
  if (card.liveNote) lines.push(card.liveNote);
  for (const b of card.backtests ?? []) {
    lines.push(
      `Backtest ${b.symbol}: ${signed(b.totalReturnPct)} (${pick(locale, 'queda máx.', 'max drawdown')} ${pct(b.maxDrawdownPct)}, ${b.trades} ${nounFor(b.trades, 'trade', locale)}, ${pick(locale, 'acerto', 'win rate')} ${pct(b.winRatePct)}) · buy-and-hold ${signed(b.buyAndHoldReturnPct)} (${pick(locale, 'queda máx.', 'max drawdown')} ${pct(b.buyAndHoldMaxDrawdownPct)}) · ${b.candles} candles`,
    );
    if (b.missing) lines.push(`! ${b.missing}`);
  }
  if (card.riskNote) lines.push(`! ${card.riskNote}`);
  if (card.botId) lines.push(`${pick(locale, 'Robô', 'Bot')}: ${card.botId}`);
  const actions: Record<string, string> = {
    answer: pick(locale, 'responder (assistant answer)', 'answer (assistant answer)'),
    backtest: pick(locale, 'testar (assistant backtest)', 'backtest (assistant backtest)'),
    start_on_paper: pick(locale, 'iniciar no simulado (assistant start --confirm)', 'start on paper (assistant start --confirm)'),
    discard: pick(locale, 'descartar (assistant discard)', 'discard (assistant discard)'),
  };
  if (card.next.length > 0) lines.push(`${pick(locale, 'Próximo', 'Next')}: ${card.next.map((n) => actions[n] ?? n).join(' · ')}`);
  return lines;
}
