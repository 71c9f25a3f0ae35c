import { useMemo, useState } from 'preact/hooks';
import { api, type BotDetails, type Candles, type Position, type Trade } from '../api.ts';
import type { PriceLine, TradeMark } from '../chart.ts';
import { COLORS } from '../chart.ts';
import { CandleFigure } from '../charts.tsx';
import { AsyncView, Signed, StatusBadge, TimeZoneNote, useAsync } from '../components.tsx';
import { formatDateTime, formatPrice, formatQuote, useI18n } from '../i18n.ts';
import { useLiveEvents } from '../live.ts';
import { tradeFromEvent, withLiveTrades } from '../live-trades.ts';
import { Link } from '../router.tsx';
import { DataTable, type Column } from '../table.tsx';
import { BotActions } from './BotActions.tsx';
import { TradesTable } from './TradesTable.tsx';

const TIMEFRAME_MS: Record<string, number> = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3, '4h': 14400e3, '1d': 86400e3 };
/** Bars drawn on a bot's chart: about 3.5 days of 5m, 6 weeks of 1h (the API allows 5,000). */
const CHART_BARS = 1_000;

/**
 * The window of the chart: up to now for a running bot; for a stopped one, ending a few bars
 * after its last trade (its history, not an empty today). "Now" is the end of the bar forming
 * (the cache holds closed bars only), so the same page asks the same question within a bar.
 */
function chartRange(details: BotDetails, trades: readonly Trade[]): { from?: string; to?: string } {
  if (details.bot.status === 'running' || trades.length === 0) return {};
  const barMs = TIMEFRAME_MS[details.bot.timeframe] ?? 3600e3;
  const last = Math.max(...trades.map((tr) => Date.parse(tr.closedAt ?? tr.openedAt)));
  const to = Math.min(Math.ceil(Date.now() / barMs) * barMs, last + 20 * barMs);
  return { from: new Date(to - CHART_BARS * barMs).toISOString(), to: new Date(to).toISOString() };
}

interface PageData {
  details: BotDetails;
  trades: Awaited<ReturnType<typeof api.trades>>;
}

const loadPage = (id: string): Promise<PageData> =>
  Promise.all([api.bot(id), api.trades(id, { limit: 500 })]).then(([details, trades]) => ({ details, trades }));

const chartQuery = (symbol: string, timeframe: string, range: { from?: string; to?: string }) => ({
  symbol,
  timeframe,
  indicators: 'rsi,macd',
  ...range,
});

/** What a bot page opened first asks for, asked while the app still checks the session (see prefetchBotPage). */
let early: { id: string; page?: Promise<PageData>; chart?: Promise<{ query: string; candles: Candles }> } | undefined;

/**
 * Starts a bot page's requests at once (the app's start, when the address is a bot's page):
 * the bot and its trades, then the candles of its chart, while the session and the terms are
 * checked, instead of one round after another. The page takes them when it mounts; one that
 * failed (no session yet) or asked another question is asked again.
 */
export function prefetchBotPage(id: string): void {
  const page = loadPage(id);
  const chart = page.then(({ details, trades }) => {
    const query = chartQuery(details.bot.symbols[0] ?? 'BTC/USDT', details.bot.timeframe, chartRange(details, trades.trades));
    return api.candles(query).then((candles) => ({ query: JSON.stringify(query), candles }));
  });
  // Nobody may take them (the terms first, another page): not an unhandled rejection.
  page.catch(() => {});
  chart.catch(() => {});
  early = { id, page, chart };
}

function takeEarlyPage(id: string): Promise<PageData> {
  const page = early?.id === id ? early.page : undefined;
  if (early) early.page = undefined;
  return page ? page.catch(() => loadPage(id)) : loadPage(id);
}

function takeEarlyCandles(id: string, query: ReturnType<typeof chartQuery>): Promise<Candles> {
  const chart = early?.id === id ? early.chart : undefined;
  early = undefined;
  const asked = JSON.stringify(query);
  return chart
    ? chart.then(
        (prefetched) => (prefetched.query === asked ? prefetched.candles : api.candles(query)),
        () => api.candles(query),
      )
    : api.candles(query);
}

export function BotPage(props: { id: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const positionColumns: Column<Position>[] = [
    { label: t('colPair'), cell: (p) => p.symbol },
    { label: t('colAmount'), numeric: true, cell: (p) => p.amountBase },
    { label: t('colEntry'), numeric: true, cell: (p) => formatPrice(i18n, p.entryPriceQuote) },
    { label: t('colStopLoss'), numeric: true, cell: (p) => formatPrice(i18n, p.stopLossQuote) },
    { label: t('colTakeProfit'), numeric: true, cell: (p) => formatPrice(i18n, p.takeProfitQuote) },
    { label: t('colOpened'), cell: (p) => formatDateTime(i18n, p.openedAt) },
  ];
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const [older, setOlder] = useState<Trade[]>([]);
  const [page, reload] = useAsync(() => takeEarlyPage(props.id), [props.id]);
  const [symbol, setSymbol] = useState<string | null>(null);
  /**
   * Bumped by a live event of this bot: its details, trades and candles load again, on screen
   * meanwhile; the chart's markers change in place when the trades arrive.
   */
  const [round, setRound] = useState(0);
  /**
   * Trades as their live events told them: the chart draws their markers at once (the event
   * carries the time and price), while the trades and candles are read again.
   */
  const [liveTrades, setLiveTrades] = useState<Trade[]>([]);
  const known = page.state === 'ready' ? page.value.trades.trades : [];
  const chartTrades = useMemo(
    () => (page.state === 'ready' ? withLiveTrades([...page.value.trades.trades, ...older], liveTrades) : []),
    [page, older, liveTrades],
  );
  useLiveEvents(
    (event) => {
      if ((event.event === 'trade' || event.event === 'bot_status') && event.data.botId === props.id) {
        if (event.event === 'trade') {
          const told = tradeFromEvent(event.data, [...liveTrades, ...known]);
          if (told) setLiveTrades((list) => [told, ...list.filter((tr) => tr.id !== told.id)]);
        }
        reload();
        setRound((n) => n + 1);
      }
    },
    [props.id, known, liveTrades],
  );

  return (
    <section>
      <p>
        <Link href="/bots">{t('backToBots')}</Link>
      </p>
      {notice && (
        <p class={notice.error ? 'error' : 'notice'} role={notice.error ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      <AsyncView value={page} retry={reload}>
        {({ details, trades }) => {
          const { bot } = details;
          const allTrades = [...trades.trades, ...older];
          const shown = symbol ?? bot.symbols[0] ?? 'BTC/USDT';
          const nextBefore = older.length > 0 ? null : trades.nextBefore;
          return (
            <>
              <header class="bot-header">
                <h1>{t('botTitle', { name: bot.name })}</h1>
                <StatusBadge status={bot.status} />
                <span class="muted">
                  {bot.strategy} · {bot.symbols.join(', ')} · {bot.timeframe} · {t(`mode_${bot.mode}` as 'mode_paper')}
                  {bot.owner ? ` · ${bot.owner}` : ''}
                </span>
                <BotActions
                  bot={bot}
                  openPositions={details.positions.length}
                  onDone={(text, error) => {
                    setNotice({ text, error: error === true });
                    reload();
                  }}
                />
              </header>
              <p class="summary">
                {t('summaryTrades', {
                  closed: details.trades.closed,
                  wins: details.trades.wins,
                  profit: formatQuote(i18n, details.trades.profitQuote, { signed: true }),
                })}
              </p>
              {bot.symbols.length > 1 && (
                <label class="inline">
                  {t('symbol')}{' '}
                  <select value={shown} onChange={(e) => setSymbol(e.currentTarget.value)}>
                    {bot.symbols.map((s) => (
                      <option key={s}>{s}</option>
                    ))}
                  </select>
                </label>
              )}
              <TimeZoneNote />
              <BotChart details={details} trades={chartTrades} symbol={shown} round={round} />
              {details.positions.length > 0 && (
                <>
                  <h2>{t('positionsTitle')}</h2>
                  <DataTable
                    columns={positionColumns}
                    rows={details.positions}
                    rowKey={(p) => p.symbol}
                    rowAttributes={(p) => ({ 'data-symbol': p.symbol })}
                  />
                </>
              )}
              <h2>
                {t('tradesTitle')}{' '}
                <Signed value={details.trades.profitQuote}>
                  <span class="small">({formatQuote(i18n, details.trades.profitQuote, { signed: true })})</span>
                </Signed>
              </h2>
              <TradesTable
                trades={allTrades}
                filename={`trades-${bot.name.replace(/[^\w.-]+/g, '-')}.csv`}
                more={
                  nextBefore
                    ? () =>
                        void api.trades(props.id, { limit: 500, before: nextBefore }).then(
                          (next) => setOlder(next.trades),
                          (error: unknown) => setNotice({ text: String(error), error: true }),
                        )
                    : undefined
                }
              />
            </>
          );
        }}
      </AsyncView>
    </section>
  );
}

function BotChart(props: { details: BotDetails; trades: readonly Trade[]; symbol: string; round: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { bot } = props.details;
  const range = useMemo(() => chartRange(props.details, props.trades), [props.details, props.trades]);
  const [candles, reload] = useAsync(
    () => takeEarlyCandles(bot.id, chartQuery(props.symbol, bot.timeframe, range)),
    [props.symbol, bot.timeframe, range.from, range.to, props.round],
  );
  const marks = useMemo<TradeMark[]>(
    () =>
      props.trades
        .filter((tr) => tr.symbol === props.symbol)
        .flatMap((tr) => [
          { time: tr.openedAt, side: 'buy' as const, price: Number(tr.openPriceQuote), text: t('markerBuy') },
          ...(tr.closedAt && tr.closePriceQuote
            ? [{ time: tr.closedAt, side: 'sell' as const, price: Number(tr.closePriceQuote), text: t('markerSell') }]
            : []),
        ]),
    [props.trades, props.symbol, i18n.language],
  );
  const lines = useMemo<PriceLine[]>(
    () =>
      props.details.positions
        .filter((p) => p.symbol === props.symbol)
        .flatMap((p) => [
          { price: Number(p.entryPriceQuote), title: t('entryLine'), color: COLORS.buy },
          ...(p.stopLossQuote ? [{ price: Number(p.stopLossQuote), title: t('stopLossLine'), color: COLORS.down }] : []),
          ...(p.takeProfitQuote ? [{ price: Number(p.takeProfitQuote), title: t('takeProfitLine'), color: COLORS.up }] : []),
        ]),
    [props.details, props.symbol, i18n.language],
  );
  return <CandleFigure candles={candles} reload={reload} symbol={props.symbol} timeframe={bot.timeframe} marks={marks} lines={lines} />;
}
