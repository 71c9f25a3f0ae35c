import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ProfitBars } from '../charts.tsx';
import { AsyncView, Signed, useAsync } from '../components.tsx';
import { formatDay, formatQuote, useI18n } from '../i18n.ts';

const PERIODS = [
  { period: 'day', count: 14, label: 'periodDay' },
  { period: 'week', count: 12, label: 'periodWeek' },
  { period: 'month', count: 12, label: 'periodMonth' },
] as const;

export function ProfitPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [index, setIndex] = useState(0);
  const chosen = PERIODS[index] ?? PERIODS[0];
  const [profit, reload] = useAsync(() => api.profit(chosen.period, chosen.count), [chosen.period]);
  return (
    <section>
      <h1>{t('profitTitle')}</h1>
      <fieldset class="segmented">
        <legend class="visually-hidden">{t('colPeriod')}</legend>
        {PERIODS.map((p, i) => (
          <button
            key={p.period}
            type="button"
            class={i === index ? 'primary' : 'secondary'}
            aria-pressed={i === index}
            onClick={() => setIndex(i)}
          >
            {t(p.label)}
          </button>
        ))}
      </fieldset>
      <AsyncView value={profit} retry={reload}>
        {(data) => (
          <>
            <p class="summary">
              <Signed value={data.totalProfitQuote}>
                {t('profitTotal', { profit: formatQuote(i18n, data.totalProfitQuote, { signed: true }) })}
              </Signed>
            </p>
            <ProfitBars rows={data.rows} label={t('profitChartLabel')} />
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('colPeriod')}</th>
                    <th scope="col" class="num">
                      {t('colClosedTrades')}
                    </th>
                    <th scope="col" class="num">
                      {t('colWins')}
                    </th>
                    <th scope="col" class="num">
                      {t('colProfit')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.rows.map((row) => (
                    <tr key={row.start}>
                      <td data-label={t('colPeriod')}>{formatDay(i18n, row.start)}</td>
                      <td data-label={t('colClosedTrades')} class="num">
                        {row.closedTrades}
                      </td>
                      <td data-label={t('colWins')} class="num">
                        {row.wins}
                      </td>
                      <td data-label={t('colProfit')} class="num">
                        <Signed value={row.profitQuote}>{formatQuote(i18n, row.profitQuote, { signed: true })}</Signed>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </AsyncView>
    </section>
  );
}
