import { useMemo, useState } from 'preact/hooks';
import type { Trade } from '../api.ts';
import { Signed } from '../components.tsx';
import { download, toCsv } from '../csv.ts';
import { formatDateTime, formatPct, formatPrice, formatQuote, useI18n } from '../i18n.ts';

/** The calendar day of an instant in a time zone (YYYY-MM-DD), to compare with a date input. */
function dayIn(timeZone: string, iso: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

export function TradesTable(props: { trades: readonly Trade[]; filename: string; more?: (() => void) | undefined }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [status, setStatus] = useState<'all' | 'open' | 'closed'>('all');
  const [symbol, setSymbol] = useState('all');
  const [result, setResult] = useState<'all' | 'wins' | 'losses'>('all');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const symbols = useMemo(() => [...new Set(props.trades.map((tr) => tr.symbol))].sort(), [props.trades]);
  const rows = props.trades.filter((tr) => {
    if (status !== 'all' && tr.status !== status) return false;
    if (symbol !== 'all' && tr.symbol !== symbol) return false;
    const profit = tr.profitQuote === null ? null : Number(tr.profitQuote);
    if (result === 'wins' && !(profit !== null && profit > 0)) return false;
    if (result === 'losses' && !(profit !== null && profit <= 0)) return false;
    const day = dayIn(i18n.timeZone, tr.openedAt);
    if (from && day < from) return false;
    if (to && day > to) return false;
    return true;
  });
  const exportCsv = () =>
    download(
      props.filename,
      toCsv(
        [
          'id',
          'symbol',
          'status',
          'opened_at',
          'closed_at',
          'amount_base',
          'open_price_quote',
          'close_price_quote',
          'fee_quote',
          'profit_quote',
          'profit_pct',
          'exit_reason',
        ],
        rows.map((tr) => [
          tr.id,
          tr.symbol,
          tr.status,
          tr.openedAt,
          tr.closedAt,
          tr.amountBase,
          tr.openPriceQuote,
          tr.closePriceQuote,
          tr.feeQuote,
          tr.profitQuote,
          tr.profitPct,
          tr.exitReason,
        ]),
      ),
    );
  return (
    <div class="trades">
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('tradesTitle')}>
        <label>
          {t('filterStatus')}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as typeof status)} name="status">
            <option value="all">{t('filterAll')}</option>
            <option value="open">{t('filterOpen')}</option>
            <option value="closed">{t('filterClosed')}</option>
          </select>
        </label>
        <label>
          {t('filterSymbol')}
          <select value={symbol} onChange={(e) => setSymbol(e.currentTarget.value)} name="symbol">
            <option value="all">{t('filterAll')}</option>
            {symbols.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('filterResult')}
          <select value={result} onChange={(e) => setResult(e.currentTarget.value as typeof result)} name="result">
            <option value="all">{t('filterAll')}</option>
            <option value="wins">{t('filterWins')}</option>
            <option value="losses">{t('filterLosses')}</option>
          </select>
        </label>
        <label>
          {t('filterFrom')}
          <input type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} name="from" />
        </label>
        <label>
          {t('filterTo')}
          <input type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} name="to" />
        </label>
        <button type="button" class="secondary" onClick={exportCsv} disabled={rows.length === 0}>
          {t('exportCsv')} ({rows.length})
        </button>
      </form>
      {rows.length === 0 ? (
        <p class="empty">{t('tradesEmpty')}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('colOpened')}</th>
                <th scope="col">{t('colPair')}</th>
                <th scope="col">{t('colStatus')}</th>
                <th scope="col" class="num">
                  {t('colAmount')}
                </th>
                <th scope="col" class="num">
                  {t('colEntry')}
                </th>
                <th scope="col" class="num">
                  {t('colExit')}
                </th>
                <th scope="col" class="num">
                  {t('colProfit')}
                </th>
                <th scope="col" class="num">
                  {t('colProfitPct')}
                </th>
                <th scope="col">{t('colReason')}</th>
                <th scope="col">{t('colClosed')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((tr) => (
                <tr key={tr.id} class="trade-row">
                  <td data-label={t('colOpened')}>{formatDateTime(i18n, tr.openedAt)}</td>
                  <td data-label={t('colPair')}>{tr.symbol}</td>
                  <td data-label={t('colStatus')}>{tr.status === 'open' ? t('filterOpen') : t('filterClosed')}</td>
                  <td data-label={t('colAmount')} class="num">
                    {tr.amountBase}
                  </td>
                  <td data-label={t('colEntry')} class="num">
                    {formatPrice(i18n, tr.openPriceQuote)}
                  </td>
                  <td data-label={t('colExit')} class="num">
                    {formatPrice(i18n, tr.closePriceQuote)}
                  </td>
                  <td data-label={t('colProfit')} class="num">
                    <Signed value={tr.profitQuote}>{formatQuote(i18n, tr.profitQuote, { signed: true })}</Signed>
                  </td>
                  <td data-label={t('colProfitPct')} class="num">
                    <Signed value={tr.profitPct}>{formatPct(i18n, tr.profitPct, { signed: true })}</Signed>
                  </td>
                  <td data-label={t('colReason')}>{tr.exitReason ?? '—'}</td>
                  <td data-label={t('colClosed')}>{formatDateTime(i18n, tr.closedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.more && (
        <button type="button" class="secondary" onClick={props.more}>
          {t('loadMore')}
        </button>
      )}
    </div>
  );
}
