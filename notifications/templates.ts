import { z } from 'zod';
import {
  formatBase,
  formatDateTime,
  formatMoneyCents,
  formatPct,
  formatPrice,
  formatQuote,
  pauseReasonText,
  type Locale,
} from '../i18n/index.ts';
import { escapeHtml as h, splitPair } from './format.ts';
import { ProductError } from '../errors/index.ts';

// Every notification type, the payload it carries (checked when it is queued and again when
// it is rendered) and its text in pt-BR and English. Figures come from the payload only:
// money as integer cents (`…Cents`), trading amounts as exact decimal strings.

const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'an exact decimal string such as "12.34"');
const uuidish = z.string().min(1).max(200);

const tradeBase = {
  botId: uuidish,
  botName: z.string().max(200).optional(),
  tradeId: uuidish.optional(),
  symbol: z.string().min(1).max(40),
  amountBase: decimal,
};

export const payloadSchemas = {
  /** billing/stripe-mirror.ts writes this one. */
  payment_failed: z.object({
    invoiceId: z.string(),
    number: z.string().nullable().optional(),
    amountDueCents: z.number().int(),
    currency: z.string().min(3).max(3),
    attempt: z.number().int().nonnegative(),
    nextPaymentAttemptAt: z.string().nullable().optional(),
    final: z.boolean(),
    customerName: z.string().optional(),
  }),
  trade_opened: z.object({ ...tradeBase, priceQuote: decimal }),
  trade_closed: z.object({
    ...tradeBase,
    openPriceQuote: decimal.optional(),
    closePriceQuote: decimal,
    profitQuote: decimal,
    profitPct: decimal.optional(),
    reason: z.string().max(40),
  }),
  stop_loss_hit: z.object({
    ...tradeBase,
    openPriceQuote: decimal.optional(),
    closePriceQuote: decimal,
    profitQuote: decimal,
    profitPct: decimal.optional(),
    reason: z.string().max(40).optional(),
  }),
  risk_refusal: z.object({
    botId: uuidish,
    botName: z.string().max(200).optional(),
    symbol: z.string().max(40),
    rule: z.string().max(80),
    reason: z.string().max(500),
  }),
  bot_paused: z.object({ botId: uuidish, botName: z.string().max(200).optional(), reason: z.string().max(500) }),
  /** A bot started or stopped by a person or an agent (trading/bots.ts); the runner's own pauses are bot_paused. */
  bot_status: z.object({
    botId: uuidish,
    botName: z.string().max(200).optional(),
    previousStatus: z.string().max(40),
    status: z.string().max(40),
  }),
  /** The daily review of a trader's running bots (the bot-review workflow): the flagged ones, the rest counted. */
  bot_review: z.object({
    /** The UTC day reviewed (YYYY-MM-DD). */
    day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    bots: z
      .array(
        z.object({
          botId: uuidish,
          botName: z.string().max(200).optional(),
          flags: z
            .array(
              z.discriminatedUnion('kind', [
                z.object({ kind: z.literal('drawdown'), drawdownPct: decimal, backtestDrawdownPct: decimal }),
                z.object({ kind: z.literal('losing_streak'), trades: z.number().int().min(1) }),
                z.object({ kind: z.literal('stale_feed'), symbols: z.array(z.string().max(40)).min(1).max(20) }),
                z.object({ kind: z.literal('order_failures'), orders: z.number().int().min(1) }),
                /** Its last 30 days' realised return outside the range its backtest made over any 30 days. */
                z.object({ kind: z.literal('outside_backtest'), returnPct: decimal, lowPct: decimal, highPct: decimal }),
              ]),
            )
            .min(1),
        }),
      )
      .max(100),
    /** Running bots with nothing to flag. */
    fine: z.number().int().min(0),
    /** Paper bots of the assistant's that ran their paper period: a suggestion to go live (the trader decides), with the evidence. */
    paperReady: z
      .array(
        z.object({
          botId: uuidish,
          botName: z.string().max(200).optional(),
          days: z.number().int().min(1),
          trades: z.number().int().min(0),
          returnPct: decimal,
          backtestReturnPct: decimal.optional(),
        }),
      )
      .max(20)
      .optional(),
  }),
  /** A queued backtest (POST /api/v1/backtests) finished: its headline figures, or why it failed. */
  backtest_finished: z.object({
    backtestId: uuidish,
    strategy: z.string().max(100),
    symbol: z.string().min(1).max(40),
    timeframe: z.string().max(10),
    status: z.enum(['succeeded', 'failed']),
    totalReturnPct: decimal.optional(),
    trades: z.number().int().nonnegative().optional(),
    error: z.string().max(1000).optional(),
  }),
  security_alert: z.object({
    severity: z.enum(['low', 'medium', 'high', 'critical']),
    title: z.string().min(1).max(200),
    detail: z.string().max(2000).optional(),
    eventId: z.string().optional(),
  }),
  executive_report: z.object({
    period: z.enum(['daily', 'weekly', 'monthly']),
    /** The report as written from the tools' figures (plain text; lines kept; clipped to one message). */
    body: z.string().min(1).max(100_000),
    asOf: z.string().optional(),
  }),
  approval_requested: z.object({
    approvalId: uuidish,
    tool: z.string().max(100),
    summary: z.string().max(1000),
    requestedBy: z.string().max(200).optional(),
    expiresAt: z.string().optional(),
  }),
  approval_decided: z.object({
    approvalId: uuidish,
    summary: z.string().max(1000),
    decision: z.enum(['approved', 'rejected', 'expired', 'executed', 'failed']),
    decidedBy: z.string().max(200).optional(),
    note: z.string().max(1000).optional(),
  }),
  /** A chart, drawn when it is sent and delivered as a photo with its caption. */
  chart: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('revenue_mrr'), months: z.number().int().min(1).max(36).optional(), asOf: z.string().optional() }),
    z.object({ kind: z.literal('bot_equity'), botId: z.uuid() }),
    z.object({ kind: z.literal('backtest_equity'), backtestId: z.uuid() }),
  ]),
  /** A customer wrote on their ticket (it reopened): for the support member who answered it, or the support department. */
  ticket_customer_reply: z.object({
    ticketId: z.uuid(),
    subject: z.string().min(1).max(200),
    customerName: z.string().max(200).optional(),
    /** The customer's words, their first 1,000 characters. */
    excerpt: z.string().min(1).max(1000),
  }),
  /**
   * An export of a person's data (LGPD) asked through an agent and approved: stored for its
   * requester alone, who fetches it by the approval's id. Never names the person (it is no copy of their data).
   */
  privacy_export_ready: z.object({
    approvalId: z.uuid(),
    /** The stored document's slug. */
    document: z.string().min(1).max(200),
    rows: z.number().int().nonnegative(),
  }),
  /** Free text for anything else (already written for its reader). */
  message: z.object({ text: z.string().min(1).max(100_000) }),
} as const;

export type NotificationType = keyof typeof payloadSchemas;
export const notificationTypes = Object.keys(payloadSchemas) as NotificationType[];
export type NotificationPayload<T extends NotificationType> = z.infer<(typeof payloadSchemas)[T]>;

export function isNotificationType(type: string): type is NotificationType {
  return Object.hasOwn(payloadSchemas, type);
}

export interface RenderedMessage {
  readonly text: string;
  readonly parseMode: 'HTML';
  readonly replyMarkup?: { inline_keyboard: { text: string; callback_data: string }[][] };
}

/** Inline buttons of an approval; the bot's callback handler reads `approval:<id>:approve|reject`. */
export function approvalCallbackData(approvalId: string, decision: 'approve' | 'reject'): string {
  return `approval:${approvalId}:${decision}`;
}

/**
 * The trader's assistant's buttons on a bot (telegram/assistant.ts reads `as:<p|r|l>:<bot id>`):
 * stop it, backtest its settings again, or go live (which only shows the live start's own confirmation).
 */
export function botActionCallbackData(action: 'stop' | 'rebacktest' | 'live', botId: string): string {
  return `as:${action === 'stop' ? 'p' : action === 'rebacktest' ? 'r' : 'l'}:${botId}`;
}
const buttonable = (botId: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(botId);

/** Buttons on a review's bots: at most this many bots get a row (Telegram keeps a keyboard small). */
const MAX_BOT_BUTTON_ROWS = 5;

/** Telegram's limit is 4,096 characters of text; headers take the rest of this margin. */
const BODY_MAX = 3_800;

/** Cuts at a line (or word) boundary under `max` characters and says so. */
export function clipText(text: string, max = BODY_MAX, locale: Locale = 'pt-BR'): string {
  if (text.length <= max) return text;
  const note = locale === 'en' ? '\n… (cut: too long for one message)' : '\n… (cortado: longo demais para uma mensagem)';
  const room = text.slice(0, max - note.length);
  const line = room.lastIndexOf('\n');
  const word = room.lastIndexOf(' ');
  const cut = line > room.length * 0.8 ? line : word > room.length * 0.8 ? word : room.length;
  return `${room.slice(0, cut).trimEnd()}${note}`;
}

type Renderer<T extends NotificationType> = (payload: NotificationPayload<T>, locale: Locale) => RenderedMessage;

const html = (text: string, replyMarkup?: RenderedMessage['replyMarkup']): RenderedMessage =>
  replyMarkup ? { text, parseMode: 'HTML', replyMarkup } : { text, parseMode: 'HTML' };
const pt = (locale: Locale) => locale !== 'en';
const botLabel = (p: { botName?: string | undefined; botId: string }) => h(p.botName ?? p.botId.slice(0, 8));

const EXIT_REASONS: Record<string, [string, string]> = {
  signal: ['sinal de saída', 'exit signal'],
  exit_signal: ['sinal de saída', 'exit signal'],
  stop_loss: ['stop loss', 'stop loss'],
  take_profit: ['take profit', 'take profit'],
  forced: ['saída forçada', 'forced exit'],
  manual: ['manual', 'manual'],
};
const reasonText = (reason: string | undefined, locale: Locale) => {
  const known = reason ? EXIT_REASONS[reason] : undefined;
  return known ? known[pt(locale) ? 0 : 1] : h(reason ?? '');
};

function closedTrade(
  p: NotificationPayload<'trade_closed'> | NotificationPayload<'stop_loss_hit'>,
  locale: Locale,
  stopLoss: boolean,
): RenderedMessage {
  const { base, quote } = splitPair(p.symbol);
  const gain = !p.profitQuote.startsWith('-') && !/^0+(\.0+)?$/.test(p.profitQuote);
  const icon = stopLoss ? '🛑' : gain ? '✅' : '🔻';
  const pct = p.profitPct !== undefined ? ` (${formatPct(p.profitPct, locale)})` : '';
  const lines = pt(locale)
    ? [
        `${icon} <b>${stopLoss ? 'Stop loss atingido' : 'Operação encerrada'}</b> — ${h(p.symbol)}`,
        `Robô: ${botLabel(p)}`,
        `Quantidade: ${formatBase(p.amountBase, base, locale)}`,
        ...(p.openPriceQuote ? [`Entrada: ${formatPrice(p.openPriceQuote, quote, locale)}`] : []),
        `Saída: ${formatPrice(p.closePriceQuote, quote, locale)}`,
        `Resultado: <b>${formatQuote(p.profitQuote, quote, locale, true)}</b>${pct}`,
        ...(!stopLoss && p.reason ? [`Motivo: ${reasonText(p.reason, locale)}`] : []),
      ]
    : [
        `${icon} <b>${stopLoss ? 'Stop loss hit' : 'Trade closed'}</b> — ${h(p.symbol)}`,
        `Bot: ${botLabel(p)}`,
        `Amount: ${formatBase(p.amountBase, base, locale)}`,
        ...(p.openPriceQuote ? [`Entry: ${formatPrice(p.openPriceQuote, quote, locale)}`] : []),
        `Exit: ${formatPrice(p.closePriceQuote, quote, locale)}`,
        `Result: <b>${formatQuote(p.profitQuote, quote, locale, true)}</b>${pct}`,
        ...(!stopLoss && p.reason ? [`Reason: ${reasonText(p.reason, locale)}`] : []),
      ];
  return html(lines.join('\n'));
}

const SEVERITY: Record<string, [string, string, string]> = {
  low: ['ℹ️', 'baixa', 'low'],
  medium: ['⚠️', 'média', 'medium'],
  high: ['🚨', 'alta', 'high'],
  critical: ['🚨', 'CRÍTICA', 'CRITICAL'],
};

const PERIODS: Record<string, [string, string]> = {
  daily: ['diário', 'Daily'],
  weekly: ['semanal', 'Weekly'],
  monthly: ['mensal', 'Monthly'],
};
const DECISIONS: Record<string, [string, string]> = {
  approved: ['✅ Aprovado', '✅ Approved'],
  executed: ['✅ Aprovado e executado', '✅ Approved and executed'],
  rejected: ['❌ Rejeitado', '❌ Rejected'],
  expired: ['⌛ Expirado', '⌛ Expired'],
  failed: ['⚠️ Aprovado, mas a execução falhou', '⚠️ Approved, but it failed to run'],
};

export const renderers: { [T in NotificationType]: Renderer<T> } = {
  payment_failed: (p, locale) => {
    const amount = formatMoneyCents(p.amountDueCents, p.currency, locale);
    const invoice = h(p.number ?? p.invoiceId);
    const next = p.nextPaymentAttemptAt ? formatDateTime(p.nextPaymentAttemptAt, locale) : null;
    const who = p.customerName ? ` — ${h(p.customerName)}` : '';
    if (pt(locale)) {
      return html(
        [
          `💳 <b>Pagamento não aprovado</b>${who}`,
          `Fatura ${invoice}: ${amount} (tentativa ${p.attempt})`,
          p.final
            ? 'Foi a última tentativa: a assinatura volta para o plano Free.'
            : next
              ? `Nova tentativa em ${next}.`
              : 'Atualize a forma de pagamento para evitar o cancelamento.',
        ].join('\n'),
      );
    }
    return html(
      [
        `💳 <b>Payment declined</b>${who}`,
        `Invoice ${invoice}: ${amount} (attempt ${p.attempt})`,
        p.final
          ? 'That was the last attempt: the subscription moves to the Free plan.'
          : next
            ? `Next attempt on ${next}.`
            : 'Update the payment method to avoid cancellation.',
      ].join('\n'),
    );
  },
  trade_opened: (p, locale) => {
    const { base, quote } = splitPair(p.symbol);
    return html(
      (pt(locale)
        ? [
            `📈 <b>Operação aberta</b> — ${h(p.symbol)}`,
            `Robô: ${botLabel(p)}`,
            `Compra: ${formatBase(p.amountBase, base, locale)} a ${formatPrice(p.priceQuote, quote, locale)}`,
          ]
        : [
            `📈 <b>Trade opened</b> — ${h(p.symbol)}`,
            `Bot: ${botLabel(p)}`,
            `Bought ${formatBase(p.amountBase, base, locale)} at ${formatPrice(p.priceQuote, quote, locale)}`,
          ]
      ).join('\n'),
    );
  },
  trade_closed: (p, locale) => closedTrade(p, locale, false),
  stop_loss_hit: (p, locale) => closedTrade(p, locale, true),
  risk_refusal: (p, locale) =>
    html(
      (pt(locale)
        ? [
            `🛡️ <b>Ordem recusada pelo controle de risco</b> — ${h(p.symbol)}`,
            `Robô: ${botLabel(p)}`,
            `Regra: ${h(p.rule)}`,
            `Motivo: ${h(p.reason)}`,
          ]
        : [
            `🛡️ <b>Order refused by the risk gate</b> — ${h(p.symbol)}`,
            `Bot: ${botLabel(p)}`,
            `Rule: ${h(p.rule)}`,
            `Reason: ${h(p.reason)}`,
          ]
      ).join('\n'),
    ),
  bot_paused: (p, locale) =>
    html(
      (pt(locale)
        ? [`⏸️ <b>Robô pausado</b>: ${botLabel(p)}`, h(pauseReasonText(p.reason, locale))]
        : [`⏸️ <b>Bot paused</b>: ${botLabel(p)}`, h(pauseReasonText(p.reason, locale))]
      ).join('\n'),
      // The pause is the runner's own; what next is the trader's: stop it for good, or look at its backtest again.
      buttonable(p.botId)
        ? {
            inline_keyboard: [
              [
                { text: pt(locale) ? '⏹ Parar' : '⏹ Stop', callback_data: botActionCallbackData('stop', p.botId) },
                { text: pt(locale) ? '🧪 Novo backtest' : '🧪 New backtest', callback_data: botActionCallbackData('rebacktest', p.botId) },
              ],
            ],
          }
        : undefined,
    ),
  security_alert: (p, locale) => {
    const [icon, ptLevel, enLevel] = SEVERITY[p.severity]!;
    return html(
      [
        `${icon} <b>${pt(locale) ? `Alerta de segurança (${ptLevel})` : `Security alert (${enLevel})`}</b>`,
        h(p.title),
        ...(p.detail ? [h(p.detail)] : []),
      ].join('\n'),
    );
  },
  executive_report: (p, locale) => {
    const [ptName, enName] = PERIODS[p.period]!;
    const when = p.asOf ? ` — ${formatDateTime(p.asOf, locale)}` : '';
    return html(
      [
        `📊 <b>${pt(locale) ? `Relatório executivo ${ptName}` : `${enName} executive report`}</b>${when}`,
        '',
        h(clipText(p.body, BODY_MAX, locale)),
      ].join('\n'),
    );
  },
  approval_requested: (p, locale) => {
    const expires = p.expiresAt ? formatDateTime(p.expiresAt, locale, true) : null;
    const lines = pt(locale)
      ? [
          '🔐 <b>Aprovação necessária</b>',
          h(p.summary),
          `Ação: <code>${h(p.tool)}</code>`,
          ...(p.requestedBy ? [`Pedido por: ${h(p.requestedBy)}`] : []),
          ...(expires ? [`Expira em ${expires}`] : []),
        ]
      : [
          '🔐 <b>Approval needed</b>',
          h(p.summary),
          `Action: <code>${h(p.tool)}</code>`,
          ...(p.requestedBy ? [`Requested by: ${h(p.requestedBy)}`] : []),
          ...(expires ? [`Expires ${expires}`] : []),
        ];
    return html(lines.join('\n'), {
      inline_keyboard: [
        [
          { text: pt(locale) ? '✅ Aprovar' : '✅ Approve', callback_data: approvalCallbackData(p.approvalId, 'approve') },
          { text: pt(locale) ? '❌ Rejeitar' : '❌ Reject', callback_data: approvalCallbackData(p.approvalId, 'reject') },
        ],
      ],
    });
  },
  approval_decided: (p, locale) => {
    const [ptText, enText] = DECISIONS[p.decision]!;
    const by = p.decidedBy ? (pt(locale) ? ` por ${h(p.decidedBy)}` : ` by ${h(p.decidedBy)}`) : '';
    return html([`<b>${pt(locale) ? ptText : enText}</b>${by}`, h(p.summary), ...(p.note ? [`“${h(p.note)}”`] : [])].join('\n'));
  },
  bot_status: (p, locale) => {
    const running = p.status === 'running';
    const icon = running ? '▶️' : '⏹️';
    return html(
      pt(locale)
        ? `${icon} Robô ${botLabel(p)} ${running ? '<b>iniciado</b>' : p.status === 'stopped' ? '<b>parado</b>' : `agora <b>${h(p.status)}</b>`}`
        : `${icon} Bot ${botLabel(p)} ${running ? '<b>started</b>' : p.status === 'stopped' ? '<b>stopped</b>' : `now <b>${h(p.status)}</b>`}`,
    );
  },
  bot_review: (p, locale) => {
    const en = !pt(locale);
    const flagText = (flag: NotificationPayload<'bot_review'>['bots'][number]['flags'][number]): string => {
      switch (flag.kind) {
        case 'drawdown':
          return en
            ? `fell ${formatPct(flag.drawdownPct, locale, false)} from its peak, more than its backtest's ${formatPct(flag.backtestDrawdownPct, locale, false)} — consider pausing it or tightening its stop`
            : `caiu ${formatPct(flag.drawdownPct, locale, false)} do pico, mais que os ${formatPct(flag.backtestDrawdownPct, locale, false)} do backtest — considere pausar ou apertar o stop`;
        case 'losing_streak':
          return en
            ? `${flag.trades} losing trades in a row — consider a new backtest`
            : `${flag.trades} operações com prejuízo seguidas — considere um novo backtest`;
        case 'stale_feed':
          return en
            ? `no fresh candles for ${h(flag.symbols.join(', '))}: it cannot enter while the feed is stale`
            : `sem candles recentes de ${h(flag.symbols.join(', '))}: não entra enquanto o preço estiver parado`;
        case 'order_failures':
          return en ? `${flag.orders} orders failed in the last 24 h` : `${flag.orders} ordens falharam nas últimas 24 h`;
        case 'outside_backtest': {
          const range = `${formatPct(flag.lowPct, locale)} … ${formatPct(flag.highPct, locale)}`;
          const below = Number(flag.returnPct) < Number(flag.lowPct);
          return en
            ? `${formatPct(flag.returnPct, locale)} in the last 30 days, outside what its backtest made in any 30 days (${range}) — ${below ? 'the market may have changed: consider a new backtest or stopping it' : 'better than its backtest ever did: luck or a changed market; consider a new backtest'}`
            : `${formatPct(flag.returnPct, locale)} nos últimos 30 dias, fora do que o backtest fez em quaisquer 30 dias (${range}) — ${below ? 'o mercado pode ter mudado: considere um novo backtest ou parar o robô' : 'melhor do que o backtest jamais fez: sorte ou mercado diferente; considere um novo backtest'}`;
        }
      }
    };
    const lines = [en ? `🩺 <b>Daily review of your bots</b> — ${h(p.day)}` : `🩺 <b>Revisão diária dos seus robôs</b> — ${h(p.day)}`];
    for (const bot of p.bots) lines.push('', `<b>${botLabel(bot)}</b>`, ...bot.flags.map((flag) => `• ${flagText(flag)}`));
    if (p.bots.length === 0)
      lines.push(
        en
          ? 'Nothing to flag: every running bot is within its backtest.'
          : 'Nada a apontar: todos os robôs rodando estão dentro do backtest.',
      );
    else if (p.fine > 0)
      lines.push('', en ? `${p.fine} other bot(s) with nothing to flag.` : `${p.fine} outro(s) robô(s) sem nada a apontar.`);
    for (const ready of p.paperReady ?? []) {
      const versus =
        ready.backtestReturnPct === undefined
          ? ''
          : en
            ? ` (its backtest: ${formatPct(ready.backtestReturnPct, locale)} in a year)`
            : ` (o backtest: ${formatPct(ready.backtestReturnPct, locale)} em um ano)`;
      lines.push(
        '',
        en
          ? `💡 <b>${botLabel(ready)}</b> has run ${ready.days} days on paper: ${formatPct(ready.returnPct, locale)} of its stake in ${ready.trades} closed trade(s)${versus}. If you want, it can trade real money — only when you confirm it yourself, with an exchange key and a plan that includes live.`
          : `💡 <b>${botLabel(ready)}</b> rodou ${ready.days} dias no simulado: ${formatPct(ready.returnPct, locale)} do valor em ${ready.trades} operação(ões) encerrada(s)${versus}. Se quiser, ele pode operar com dinheiro real — só com a sua confirmação, uma chave de corretora e um plano que inclua operar ao vivo.`,
      );
    }
    lines.push('', en ? 'Nothing was changed for you; any action is yours.' : 'Nada foi alterado por você; qualquer ação é sua.');
    const rows = [
      ...p.bots
        .filter((bot) => buttonable(bot.botId))
        .slice(0, MAX_BOT_BUTTON_ROWS)
        .map((bot) => [
          {
            text: `⏹ ${en ? 'Stop' : 'Parar'} ${bot.botName ?? bot.botId.slice(0, 8)}`.slice(0, 60),
            callback_data: botActionCallbackData('stop', bot.botId),
          },
          { text: `🧪 ${en ? 'New backtest' : 'Novo backtest'}`, callback_data: botActionCallbackData('rebacktest', bot.botId) },
        ]),
      ...(p.paperReady ?? [])
        .filter((ready) => buttonable(ready.botId))
        .slice(0, MAX_BOT_BUTTON_ROWS)
        .map((ready) => [
          {
            text: `💰 ${en ? 'Go live' : 'Operar ao vivo'}: ${ready.botName ?? ready.botId.slice(0, 8)}`.slice(0, 60),
            callback_data: botActionCallbackData('live', ready.botId),
          },
        ]),
    ];
    return html(clipText(lines.join('\n'), BODY_MAX, locale), rows.length > 0 ? { inline_keyboard: rows } : undefined);
  },
  backtest_finished: (p, locale) => {
    const what = `${h(p.strategy)} — ${h(p.symbol)} ${h(p.timeframe)}`;
    if (p.status === 'failed')
      return html(
        [pt(locale) ? '⚠️ <b>Backtest falhou</b>' : '⚠️ <b>Backtest failed</b>', what, ...(p.error ? [h(p.error)] : [])].join('\n'),
      );
    const figures = [
      ...(p.totalReturnPct !== undefined ? [`${pt(locale) ? 'Retorno' : 'Return'}: <b>${formatPct(p.totalReturnPct, locale)}</b>`] : []),
      ...(p.trades !== undefined ? [`${pt(locale) ? 'Operações' : 'Trades'}: ${p.trades}`] : []),
    ];
    return html([pt(locale) ? '🧪 <b>Backtest concluído</b>' : '🧪 <b>Backtest finished</b>', what, ...figures].join('\n'));
  },
  chart: (p, locale) =>
    html(
      p.kind === 'revenue_mrr'
        ? pt(locale)
          ? '📊 Gráfico de receita e MRR'
          : '📊 Revenue and MRR chart'
        : pt(locale)
          ? '📈 Curva de capital'
          : '📈 Equity curve',
    ),
  ticket_customer_reply: (p, locale) => {
    const ref = `#${p.ticketId.slice(0, 8)}`;
    const who = p.customerName ? h(p.customerName) : pt(locale) ? 'O cliente' : 'The customer';
    return html(
      [
        pt(locale)
          ? `💬 <b>${who} respondeu o chamado ${ref}</b> — ${h(p.subject)}`
          : `💬 <b>${who} replied on ticket ${ref}</b> — ${h(p.subject)}`,
        '',
        `“${h(p.excerpt)}”`,
        '',
        pt(locale) ? 'O chamado voltou a ficar aberto.' : 'The ticket is open again.',
      ].join('\n'),
      {
        inline_keyboard: [
          [
            // telegram/tickets.ts reads `tk:a|e|c:<id without dashes>`: the same buttons as /tickets.
            { text: pt(locale) ? `✍️ Responder ${ref}` : `✍️ Answer ${ref}`, callback_data: `tk:a:${p.ticketId.replace(/-/g, '')}` },
            { text: pt(locale) ? '✔️ Fechar' : '✔️ Close', callback_data: `tk:c:${p.ticketId.replace(/-/g, '')}` },
          ],
        ],
      },
    );
  },
  privacy_export_ready: (p, locale) =>
    html(
      (pt(locale)
        ? [
            '📄 <b>Exportação de dados pessoais pronta</b> (LGPD)',
            `O pedido aprovado (aprovação <code>${h(p.approvalId)}</code>) gerou o documento <code>${h(p.document)}</code>, ${p.rows} linha(s), guardado só para você.`,
            `Baixe com <code>botcriptofy privacy export --approval ${h(p.approvalId)} --out dados.json --as SEU_EMAIL</code> ou <code>GET /api/v1/privacy/exports/${h(p.approvalId)}</code>.`,
          ]
        : [
            '📄 <b>Personal data export ready</b> (LGPD)',
            `The approved request (approval <code>${h(p.approvalId)}</code>) made the document <code>${h(p.document)}</code>, ${p.rows} row(s), kept for you alone.`,
            `Fetch it with <code>botcriptofy privacy export --approval ${h(p.approvalId)} --out data.json --as YOUR_EMAIL</code> or <code>GET /api/v1/privacy/exports/${h(p.approvalId)}</code>.`,
          ]
      ).join('\n'),
    ),
  message: (p, locale) => html(h(clipText(p.text, BODY_MAX + 200, locale))),
};

export class InvalidNotificationError extends ProductError {
  readonly category = 'bad_data' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidNotificationError';
  }
}

/** Checks a payload against its type's schema; unknown types are refused. */
export function parsePayload(type: string, payload: unknown): Record<string, unknown> {
  if (!isNotificationType(type))
    throw new InvalidNotificationError(`unknown notification type "${type}" (known: ${notificationTypes.join(', ')})`);
  const parsed = payloadSchemas[type].safeParse(payload);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`).join('; ');
    throw new InvalidNotificationError(`invalid ${type} payload: ${problems}`);
  }
  return parsed.data as Record<string, unknown>;
}

/** The message for a notification row, in the reader's language. */
export function renderNotification(type: string, payload: unknown, locale: Locale = 'pt-BR'): RenderedMessage {
  const parsed = parsePayload(type, payload);
  return (renderers[type as NotificationType] as Renderer<NotificationType>)(parsed as never, locale);
}

/**
 * Types only the web events stream shows (GET /api/v1/events reads every row): the outbox's
 * channels skip them. A bot started or stopped was answered where it was asked (Telegram's
 * /startbot, the API); a message about it as well would be noise in the chat.
 */
export const streamOnlyTypes: readonly NotificationType[] = ['bot_status'];

/** Types that never go into a digest: they carry buttons, a picture, or fill a message alone. */
export const undigestibleTypes: readonly NotificationType[] = [
  'approval_requested',
  'chart',
  'executive_report',
  'bot_review',
  'bot_paused',
  'ticket_customer_reply',
];

/** Telegram's limit on one message's text (4,096) less a margin; raw HTML is never shorter than what Telegram counts. */
const DIGEST_MAX = 4_000;

/**
 * Several notifications of one reader as one message (a backlog for a chat that Telegram
 * allows one message a second): a header with the count, then each message as it would have
 * gone alone, oldest first, as many as fit. Returns how many it took.
 */
export function renderDigest(messages: readonly RenderedMessage[], locale: Locale = 'pt-BR'): { message: RenderedMessage; taken: number } {
  const separator = '\n\n';
  const header = (n: number) => (pt(locale) ? `📬 <b>${n} avisos</b>` : `📬 <b>${n} notifications</b>`);
  let taken = 0;
  let length = header(messages.length).length;
  for (const message of messages) {
    const next = length + separator.length + message.text.length;
    if (taken > 0 && next > DIGEST_MAX) break;
    length = next;
    taken++;
  }
  const body = messages.slice(0, taken).map((message) => message.text);
  return { message: html([header(taken), ...body].join(separator)), taken };
}
