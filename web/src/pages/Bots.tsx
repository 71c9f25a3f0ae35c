import { useState } from 'preact/hooks';
import { api, type BotDetails, type Me } from '../api.ts';
import { AsyncView, Signed, StatusBadge, useAsync } from '../components.tsx';
import { formatDateTime, formatQuote, useI18n } from '../i18n.ts';
import { useLiveEvents } from '../live.ts';
import { Link } from '../router.tsx';
import { BotActions } from './BotActions.tsx';

/** How many bots' details (positions, P&L) the list loads at once; staff see every trader's bots. */
const DETAILS_AT_ONCE = 6;
const DETAILS_MAX = 60;

async function withDetails() {
  const list = await api.bots();
  const details = new Map<string, BotDetails>();
  const queue = list.bots.slice(0, DETAILS_MAX).map((b) => b.id);
  await Promise.all(
    Array.from({ length: DETAILS_AT_ONCE }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) details.set(id, await api.bot(id));
    }),
  );
  return { ...list, details };
}

export function BotsPage(props: { me: Me }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [bots, reload] = useAsync(withDetails, []);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const staff = props.me.kind === 'staff';
  // A trade or a status change of one of the person's bots: the list as it is now.
  useLiveEvents((event) => {
    if (event.event === 'trade' || event.event === 'bot_status') reload();
  }, []);
  return (
    <section>
      <h1>{t('botsTitle')}</h1>
      {notice && (
        <p class={notice.error ? 'error' : 'notice'} role={notice.error ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      <AsyncView value={bots} retry={reload}>
        {({ bots: list, details }) => {
          const since = details.values().next().value?.trades.today.since;
          return list.length === 0 ? (
            <p class="empty">{t('botsEmpty')}</p>
          ) : (
            <>
              {/* Which "today" the P&L today column is (the API's window: since 00:00 UTC), in the person's zone. */}
              {since && <p class="muted small profit-today-note">{t('profitTodayNote', { since: formatDateTime(i18n, since) })}</p>}
              <div class="table-wrap">
                <table class="bots">
                  <thead>
                    <tr>
                      <th scope="col">{t('colName')}</th>
                      {staff && <th scope="col">{t('colOwner')}</th>}
                      <th scope="col">{t('colStatus')}</th>
                      <th scope="col">{t('colPair')}</th>
                      <th scope="col">{t('colStrategy')}</th>
                      <th scope="col">{t('colMode')}</th>
                      <th scope="col">{t('colOpenPosition')}</th>
                      <th scope="col" class="num">
                        {t('colProfitToday')}
                      </th>
                      <th scope="col" class="num">
                        {t('colProfitTotal')}
                      </th>
                      <th scope="col">{t('colActions')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((bot) => {
                      const d = details.get(bot.id);
                      return (
                        <tr key={bot.id} data-bot-id={bot.id}>
                          <td data-label={t('colName')}>
                            <Link href={`/bots/${bot.id}`}>{bot.name}</Link>
                            {bot.lastError && <div class="small loss">{bot.lastError}</div>}
                          </td>
                          {staff && <td data-label={t('colOwner')}>{bot.owner ?? '—'}</td>}
                          <td data-label={t('colStatus')}>
                            <StatusBadge status={bot.status} />
                          </td>
                          <td data-label={t('colPair')}>
                            {bot.symbols.join(', ')} · {bot.timeframe}
                          </td>
                          <td data-label={t('colStrategy')}>{bot.strategy}</td>
                          <td data-label={t('colMode')}>{t(`mode_${bot.mode}` as 'mode_paper')}</td>
                          <td data-label={t('colOpenPosition')}>
                            {d === undefined
                              ? '—'
                              : d.positions.length === 0
                                ? t('noPosition')
                                : d.positions.map((p) => `${p.symbol} ${p.amountBase}`).join(', ')}
                          </td>
                          <td data-label={t('colProfitToday')} class="num profit-today">
                            {d === undefined ? (
                              '—'
                            ) : (
                              <Signed value={d.trades.today.profitQuote}>
                                {formatQuote(i18n, d.trades.today.profitQuote, { signed: true })}
                              </Signed>
                            )}
                          </td>
                          <td data-label={t('colProfitTotal')} class="num profit-total">
                            {d === undefined ? (
                              '—'
                            ) : (
                              <Signed value={d.trades.profitQuote}>{formatQuote(i18n, d.trades.profitQuote, { signed: true })}</Signed>
                            )}
                          </td>
                          <td data-label={t('colActions')}>
                            <BotActions
                              bot={bot}
                              openPositions={d?.positions.length}
                              onDone={(text, error) => {
                                setNotice({ text, error: error === true });
                                reload();
                              }}
                            />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </AsyncView>
    </section>
  );
}
