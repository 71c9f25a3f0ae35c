import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Backtest, type Candles, type Me, type ParameterSchema, type Strategy } from '../api.ts';
import { candlesOfCsv } from '../csv.ts';
import type { TradeMark } from '../chart.ts';
import { CandleFigure, EquityChart } from '../charts.tsx';
import { AsyncView, codeText, ErrorBox, Loading, Signed, TimeZoneNote, useAsync } from '../components.tsx';
import { formatDateTime, formatNumber, formatPct, formatPrice, formatQuote, useI18n } from '../i18n.ts';
import { DataTable, SelectField, type Column } from '../table.tsx';

const TIMEFRAMES = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
const TIMEFRAME_MS: Record<string, number> = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3, '4h': 14400e3, '1d': 86400e3 };
const POLL_MS = 500;
type BacktestTrade = Backtest['trades'][number];
/** The API's most candles per request. */
const MAX_CHART_CANDLES = 5_000;

/** "2 – 500" from a parameter's JSON Schema (exclusive bounds marked with < / >). */
function rangeText(p: ParameterSchema): string | null {
  const low = p.minimum ?? (p.exclusiveMinimum !== undefined ? `> ${p.exclusiveMinimum}` : undefined);
  const high = p.maximum ?? (p.exclusiveMaximum !== undefined ? `< ${p.exclusiveMaximum}` : undefined);
  if (low === undefined && high === undefined) return null;
  return `${low ?? '…'} – ${high ?? '…'}`;
}

export function BacktestPage(props: { me: Me }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [catalogue, reload] = useAsync(async () => {
    const [strategies, plan] = await Promise.all([api.strategies(), props.me.kind === 'trader' ? api.plan().catch(() => null) : null]);
    return { strategies: strategies.strategies, plan };
  }, []);
  return (
    <section>
      <h1>{t('backtestTitle')}</h1>
      <AsyncView value={catalogue} retry={reload}>
        {({ strategies, plan }) => (
          <>
            {plan && <p class="muted">{t('backtestIntro', { count: plan.limits.backtestsPerDay })}</p>}
            <BacktestForm strategies={strategies} />
          </>
        )}
      </AsyncView>
    </section>
  );
}

function BacktestForm(props: { strategies: Strategy[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [strategyName, setStrategyName] = useState(props.strategies[0]?.name ?? '');
  const strategy = props.strategies.find((s) => s.name === strategyName);
  const [params, setParams] = useState<Record<string, string>>({});
  const [symbol, setSymbol] = useState('BTC/USDT');
  const [timeframe, setTimeframe] = useState<string>('1h');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [cash, setCash] = useState('10000');
  const [fee, setFee] = useState('0.001');
  const [file, setFile] = useState<File | null>(null);
  const [run, setRun] = useState<{ id: string; candles: number; uploaded?: Candles } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // A new strategy: its own defaults in the fields.
  useEffect(() => {
    setParams(Object.fromEntries(Object.entries(strategy?.defaults ?? {}).map(([k, v]) => [k, String(v)])));
  }, [strategyName]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!strategy) return;
    setBusy(true);
    setError(null);
    setRun(null);
    try {
      const parameters = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Number(v)]));
      if (file) {
        // Candles of one's own: the file goes to the server, and is read here too to draw the trades on.
        const form = new FormData();
        form.set('file', file);
        form.set('strategy', strategy.name);
        form.set('parameters', JSON.stringify(parameters));
        form.set('symbol', symbol.trim().toUpperCase());
        form.set('timeframe', timeframe);
        form.set('startingCashQuote', cash);
        form.set('feeRate', fee);
        const queued = await api.submitBacktestUpload(form);
        setRun({ id: queued.backtestId, candles: queued.candles, uploaded: candlesOfCsv(await file.text(), symbol, timeframe) });
        return;
      }
      const queued = await api.submitBacktest({
        strategy: strategy.name,
        parameters,
        symbol: symbol.trim().toUpperCase(),
        timeframe,
        ...(from ? { from: new Date(`${from}T00:00:00Z`).toISOString() } : {}),
        ...(to ? { to: new Date(`${to}T23:59:59Z`).toISOString() } : {}),
        startingCashQuote: Number(cash),
        feeRate: Number(fee),
      });
      setRun({ id: queued.backtestId, candles: queued.candles });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const properties = Object.entries(strategy?.parameters.properties ?? {});
  return (
    <>
      <form class="backtest-form" onSubmit={submit}>
        <SelectField
          label={t('strategy')}
          name="strategy"
          value={strategyName}
          onChange={setStrategyName}
          options={props.strategies.map((s) => ({ value: s.name, label: s.name }))}
        />
        {strategy && <p class="muted small">{strategy.description}</p>}
        <fieldset>
          <legend>{t('parameters')}</legend>
          {properties.map(([name, schema]) => {
            const range = rangeText(schema);
            return (
              <label key={name}>
                {name}
                <input
                  type="number"
                  name={`param-${name}`}
                  required
                  step={schema.type === 'integer' ? 1 : 'any'}
                  {...(schema.minimum !== undefined ? { min: schema.minimum } : {})}
                  {...(schema.maximum !== undefined ? { max: schema.maximum } : {})}
                  value={params[name] ?? ''}
                  onInput={(e) => setParams({ ...params, [name]: e.currentTarget.value })}
                />
                <span class="hint">
                  {range ? `${t('range')} ${range}` : ''}
                  {schema.default !== undefined ? ` · ${schema.default}` : ''}
                </span>
              </label>
            );
          })}
        </fieldset>
        <div class="row">
          <label>
            {t('symbol')}
            <input
              name="symbol"
              required
              pattern="[A-Za-z0-9]{2,12}/[A-Za-z0-9]{2,12}"
              value={symbol}
              onInput={(e) => setSymbol(e.currentTarget.value)}
            />
          </label>
          <SelectField
            label={t('timeframe')}
            name="timeframe"
            value={timeframe}
            onChange={setTimeframe}
            options={TIMEFRAMES.map((tf) => ({ value: tf, label: tf }))}
          />
          <label>
            {t('rangeFrom')}
            <input type="date" name="from" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            {t('rangeTo')}
            <input type="date" name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
        </div>
        <p class="hint">{t('rangeHint')}</p>
        <label>
          {t('uploadCsv')}
          <input
            type="file"
            name="file"
            accept=".csv,text/csv"
            aria-describedby="upload-hint"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <span class="hint" id="upload-hint">
          {t('uploadHint')}
        </span>
        <div class="row">
          <label>
            {t('startingCash')}
            <input type="number" name="cash" min="1" step="any" required value={cash} onInput={(e) => setCash(e.currentTarget.value)} />
          </label>
          <label>
            {t('feeRate')}
            <input
              type="number"
              name="fee"
              min="0"
              max="0.01"
              step="any"
              required
              value={fee}
              onInput={(e) => setFee(e.currentTarget.value)}
            />
          </label>
        </div>
        <button type="submit" class="primary" disabled={busy || !strategy}>
          {t('runBacktest')}
        </button>
      </form>
      {error !== null && <ErrorBox error={error} />}
      {run && <BacktestResult key={run.id} id={run.id} candles={run.candles} uploaded={run.uploaded} />}
      {!run && error === null && busy && <Loading />}
    </>
  );
}

function BacktestResult(props: { id: string; candles: number; uploaded?: Candles | undefined }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [result, setResult] = useState<Backtest | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const answer = await api.backtest(props.id);
        if (stopped) return;
        setResult(answer);
        if (answer.backtest.status === 'queued' || answer.backtest.status === 'running') timer = setTimeout(poll, POLL_MS);
      } catch (e) {
        if (!stopped) setError(e);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [props.id]);

  if (error !== null) return <ErrorBox error={error} />;
  if (!result || result.backtest.status === 'queued')
    return (
      <p role="status" class="loading">
        {t('backtestQueued', { candles: props.candles })}
      </p>
    );
  if (result.backtest.status === 'running')
    return (
      <p role="status" class="loading">
        {t('backtestRunning')}
      </p>
    );
  if (result.backtest.status === 'failed' || !result.metrics)
    return (
      <p class="error" role="alert">
        {t('backtestFailed', { error: result.backtest.error ?? '?' })}
      </p>
    );
  const m = result.metrics;
  const tradeColumns: Column<BacktestTrade>[] = [
    { label: t('colOpened'), cell: (tr) => formatDateTime(i18n, tr.entryTime) },
    { label: t('colClosed'), cell: (tr) => formatDateTime(i18n, tr.exitTime) },
    { label: t('colEntry'), numeric: true, cell: (tr) => formatPrice(i18n, tr.entryPrice) },
    { label: t('colExit'), numeric: true, cell: (tr) => formatPrice(i18n, tr.exitPrice) },
    {
      label: t('colProfit'),
      numeric: true,
      cell: (tr) => <Signed value={tr.profit}>{formatQuote(i18n, tr.profit, { signed: true })}</Signed>,
    },
    {
      label: t('colProfitPct'),
      numeric: true,
      cell: (tr) => <Signed value={tr.profitPct}>{formatPct(i18n, tr.profitPct, { signed: true })}</Signed>,
    },
    { label: t('colReason'), cell: (tr) => codeText(i18n, 'reason', tr.exitReason) },
  ];
  const metric = (label: string, value: string, signed?: number) => (
    <div class="metric">
      <dt>{label}</dt>
      <dd>{signed === undefined ? value : <Signed value={signed}>{value}</Signed>}</dd>
    </div>
  );
  return (
    <section class="backtest-result" aria-labelledby="metrics-title">
      <h2 id="metrics-title">{t('metricsTitle')}</h2>
      <TimeZoneNote />
      <p class="muted">
        {result.backtest.strategy} · {result.backtest.symbol} · {result.backtest.timeframe} ·{' '}
        {t('between', { min: formatDateTime(i18n, result.backtest.rangeStart), max: formatDateTime(i18n, result.backtest.rangeEnd) })}
      </p>
      <dl class="metrics">
        {metric(t('mReturn'), formatPct(i18n, m.totalReturnPct, { signed: true }), m.totalReturnPct)}
        {metric(t('mFinalEquity'), formatQuote(i18n, m.finalEquity))}
        {metric(t('mTrades'), String(m.trades))}
        {metric(t('mWinRate'), formatPct(i18n, m.winRatePct))}
        {metric(t('mDrawdown'), formatPct(i18n, -Math.abs(m.maxDrawdownPct)), -Math.abs(m.maxDrawdownPct))}
        {metric(t('mProfitFactor'), m.profitFactor === null ? '—' : formatNumber(i18n, m.profitFactor))}
        {metric(t('mSharpe'), m.sharpe === null ? '—' : formatNumber(i18n, m.sharpe))}
        {metric(t('mExposure'), formatPct(i18n, m.exposurePct))}
        {metric(t('mFees'), formatQuote(i18n, m.feesPaid))}
        {metric(t('mCandles'), formatNumber(i18n, m.candles, 0))}
      </dl>
      <h3>{t('equityTitle')}</h3>
      <EquityChart curve={result.equityCurve} label={t('equityLabel')} />
      <BacktestChart result={result} uploaded={props.uploaded} />
      <h3>{t('tradesTitle')}</h3>
      <DataTable columns={tradeColumns} rows={result.trades} rowKey={(tr) => tr.entryTime} rowClass="trade-row" />
    </section>
  );
}

/** The backtest's candles (its last 5,000 bars at most) with its trades on them. */
function BacktestChart(props: { result: Backtest; uploaded?: Candles | undefined }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { backtest, trades } = props.result;
  const barMs = TIMEFRAME_MS[backtest.timeframe] ?? 3600e3;
  const end = backtest.rangeEnd ?? new Date().toISOString();
  const start = backtest.rangeStart ?? end;
  const from = new Date(Math.max(Date.parse(start), Date.parse(end) - (MAX_CHART_CANDLES - 1) * barMs)).toISOString();
  const [candles, reload] = useAsync(
    () =>
      props.uploaded
        ? Promise.resolve(props.uploaded)
        : api.candles({ symbol: backtest.symbol, timeframe: backtest.timeframe, from, to: end, indicators: 'rsi,macd' }),
    [backtest.id],
  );
  const marks = useMemo<TradeMark[]>(
    () =>
      trades.flatMap((tr) => [
        { time: tr.entryTime, side: 'buy' as const, price: tr.entryPrice, text: t('markerBuy') },
        { time: tr.exitTime, side: 'sell' as const, price: tr.exitPrice, text: t('markerSell') },
      ]),
    [trades, i18n.language],
  );
  return <CandleFigure candles={candles} reload={reload} symbol={backtest.symbol} timeframe={backtest.timeframe} marks={marks} />;
}
