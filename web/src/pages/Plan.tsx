import { useState } from 'preact/hooks';
import { api, type Me } from '../api.ts';
import { AsyncView, codeText, errorText, useAsync } from '../components.tsx';
import { formatBrl, formatDate, useI18n } from '../i18n.ts';

export function PlanPage(props: { me: Me }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [plan, reload] = useAsync(() => api.plan(), []);
  const [billingError, setBillingError] = useState<string | null>(null);
  const [planId, setPlanId] = useState<'pro' | 'enterprise'>('pro');
  const [interval, setBillingInterval] = useState<'month' | 'year'>('month');
  if (props.me.kind !== 'trader')
    return (
      <section>
        <h1>{t('planTitle')}</h1>
        <p class="empty">{t('staffNoPlan')}</p>
      </section>
    );
  const billing = async (which: 'checkout' | 'portal') => {
    setBillingError(null);
    try {
      const back = `${window.location.origin}/plan`;
      const { url } =
        which === 'checkout'
          ? await api.billingCheckout({ planId, interval, successUrl: `${back}?checkout=done`, cancelUrl: back })
          : await api.billingPortal(back);
      window.location.assign(url);
    } catch (error) {
      setBillingError(
        error instanceof Error && 'status' in error && (error as { status: number }).status === 404
          ? t('billingUnavailable')
          : errorText(i18n, error),
      );
    }
  };
  return (
    <section>
      <h1>{t('planTitle')}</h1>
      <AsyncView value={plan} retry={reload}>
        {(p) => (
          <>
            <dl class="metrics">
              <div class="metric">
                <dt>{t('planName')}</dt>
                <dd>{p.name}</dd>
              </div>
              <div class="metric">
                <dt>{t('planPrice')}</dt>
                <dd>
                  {t('perMonth', { price: formatBrl(i18n, p.monthlyPriceCents) })}
                  <br />
                  <span class="small">{t('perYear', { price: formatBrl(i18n, p.yearlyPriceCents) })}</span>
                </dd>
              </div>
              <div class="metric">
                <dt>{t('planStatus')}</dt>
                <dd>
                  {codeText(i18n, 'sub', p.subscription.status)}
                  {p.subscription.renewsAt && (
                    <>
                      <br />
                      <span class="small">
                        {p.subscription.cancelAtPeriodEnd
                          ? t('planCancels', { date: formatDate(i18n, p.subscription.renewsAt) })
                          : t('planRenews', { date: formatDate(i18n, p.subscription.renewsAt) })}
                      </span>
                    </>
                  )}
                </dd>
              </div>
              <div class="metric">
                <dt>{t('limitBots')}</dt>
                <dd>{p.limits.botsAllowed}</dd>
              </div>
              <div class="metric">
                <dt>{t('limitLive')}</dt>
                <dd>{p.limits.liveTradingAllowed ? t('yes') : t('no')}</dd>
              </div>
              <div class="metric">
                <dt>{t('limitBacktests')}</dt>
                <dd>{p.limits.backtestsPerDay}</dd>
              </div>
              <div class="metric">
                <dt>{t('limitSymbols')}</dt>
                <dd>{p.limits.symbolsPerBot}</dd>
              </div>
            </dl>
            <div class="filters">
              <label>
                {t('choosePlan')}
                <select name="planId" value={planId} onChange={(e) => setPlanId(e.currentTarget.value as 'pro' | 'enterprise')}>
                  <option value="pro">Pro</option>
                  <option value="enterprise">Enterprise</option>
                </select>
              </label>
              <label>
                {t('interval')}
                <select name="interval" value={interval} onChange={(e) => setBillingInterval(e.currentTarget.value as 'month' | 'year')}>
                  <option value="month">{t('monthly')}</option>
                  <option value="year">{t('yearly')}</option>
                </select>
              </label>
              <button type="button" class="primary" onClick={() => void billing('checkout')}>
                {t('upgrade')}
              </button>
              <button type="button" class="secondary" onClick={() => void billing('portal')}>
                {t('managePlan')}
              </button>
            </div>
            {billingError && (
              <p class="error" role="alert">
                {billingError}
              </p>
            )}
          </>
        )}
      </AsyncView>
    </section>
  );
}
