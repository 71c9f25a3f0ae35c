import { useMemo, useState } from 'preact/hooks';
import type { Trade } from '../api.ts';
import { codeText, Signed } from '../components.tsx';
import { download, toCsv } from '../csv.ts';
import { dateFormat, formatDateTime, formatPct, formatPrice, formatQuote, useI18n } from '../i18n.ts';
import { DataTable, SelectField, type Column } from '../table.tsx';

/** The calendar day of an instant in a time zone (YYYY-MM-DD), to compare with a date input. */
function dayIn(timeZone: string, iso: string): string {
  return dateFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

export function TradesTable(props: { trades: readonly Trade[]; filename: string; more?: (() => void) | undefined }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [status, setStatus] = useState<'all' | 'open' | 'closed'>('all');
  const [symbol, setSymbol] = useState<string>('all');
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
  const columns: Column<Trade>[] = [
    { label: t('colOpened'), cell: (tr) => formatDateTime(i18n, tr.openedAt) },
    { label: t('colPair'), cell: (tr) => tr.symbol },
    { label: t('colStatus'), cell: (tr) => (tr.status === 'open' ? t('filterOpen') : t('filterClosed')) },
    { label: t('colAmount'), numeric: true, cell: (tr) => tr.amountBase },
    { label: t('colEntry'), numeric: true, cell: (tr) => formatPrice(i18n, tr.openPriceQuote) },
    { label: t('colExit'), numeric: true, cell: (tr) => formatPrice(i18n, tr.closePriceQuote) },
    {
      label: t('colProfit'),
      numeric: true,
      cell: (tr) => <Signed value={tr.profitQuote}>{formatQuote(i18n, tr.profitQuote, { signed: true })}</Signed>,
    },
    {
      label: t('colProfitPct'),
      numeric: true,
      cell: (tr) => <Signed value={tr.profitPct}>{formatPct(i18n, tr.profitPct, { signed: true })}</Signed>,
    },
    { label: t('colReason'), cell: (tr) => codeText(i18n, 'reason', tr.exitReason) },
    { label: t('colClosed'), cell: (tr) => formatDateTime(i18n, tr.closedAt) },
  ];
  const all = { value: 'all' as const, label: t('filterAll') };
  return (
    <div class="trades">
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('tradesTitle')}>
        <SelectField
          label={t('filterStatus')}
          name="status"
          value={status}
          onChange={setStatus}
          options={[all, { value: 'open', label: t('filterOpen') }, { value: 'closed', label: t('filterClosed') }]}
        />
        <SelectField
          label={t('filterSymbol')}
          name="symbol"
          value={symbol}
          onChange={setSymbol}
          options={[all, ...symbols.map((s) => ({ value: s, label: s }))]}
        />
        <SelectField
          label={t('filterResult')}
          name="result"
          value={result}
          onChange={setResult}
          options={[all, { value: 'wins', label: t('filterWins') }, { value: 'losses', label: t('filterLosses') }]}
        />
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
        <DataTable
          columns={columns}
          rows={rows}
          rowKey={(tr) => tr.id}
          rowClass="trade-row"
          rowAttributes={(tr) => ({ 'data-trade-id': tr.id })}
        />
      )}
      {props.more && (
        <button type="button" class="secondary" onClick={props.more}>
          {t('loadMore')}
        </button>
      )}
    </div>
  );
}
