import { useState } from 'preact/hooks';
import { api, type Bot, type ForceExitResult } from '../api.ts';
import { ConfirmDialog, errorText } from '../components.tsx';
import { formatQuote, useI18n } from '../i18n.ts';

type Action = 'start' | 'stop' | 'forceexit';

/** Start / stop / force exit of one bot, each behind a confirmation; `onDone` reloads the caller's view. */
export function BotActions(props: { bot: Bot; openPositions: number | undefined; onDone: (message: string, error?: boolean) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { bot } = props;
  const [asking, setAsking] = useState<Action | null>(null);
  const live = bot.mode === 'live';

  const run = async (action: Action) => {
    try {
      if (action === 'start') {
        const result = await api.startBot(bot.id, live);
        if ('pendingApproval' in result) props.onDone(t('actionPending', { message: result.message }));
        else props.onDone(t('actionDone', { name: bot.name, status: t(`status_${result.status}` as 'status_running') }));
      } else if (action === 'stop') {
        const result = await api.stopBot(bot.id);
        props.onDone(t('actionDone', { name: bot.name, status: t(`status_${result.status}` as 'status_stopped') }));
      } else {
        const result: ForceExitResult = await api.forceExit(bot.id);
        const summary =
          result.exits.length === 0
            ? t('noPosition')
            : result.exits
                .map(
                  (e) =>
                    `${e.symbol} ${t(`exit_${e.outcome}` as 'exit_filled')}${e.profitQuote !== null ? ` (${formatQuote(i18n, e.profitQuote, { signed: true })})` : ''}`,
                )
                .join(', ');
        props.onDone(t('forceExitDone', { summary }));
      }
    } catch (error) {
      props.onDone(errorText(i18n, error), true);
    }
  };

  const running = bot.status === 'running';
  return (
    <div class="bot-actions">
      {running ? (
        <button type="button" class="secondary" onClick={() => setAsking('stop')} aria-label={`${t('stop')} ${bot.name}`}>
          {t('stop')}
        </button>
      ) : (
        <button type="button" class="primary" onClick={() => setAsking('start')} aria-label={`${t('start')} ${bot.name}`}>
          {t('start')}
        </button>
      )}
      <button
        type="button"
        class="danger"
        onClick={() => setAsking('forceexit')}
        disabled={props.openPositions === 0}
        aria-label={`${t('forceExit')} ${bot.name}`}
      >
        {t('forceExit')}
      </button>
      {asking === 'start' && (
        <ConfirmDialog
          title={t('confirmStartTitle', { name: bot.name })}
          confirmLabel={t('start')}
          danger={live}
          onConfirm={() => run('start')}
          onClose={() => setAsking(null)}
        >
          <p>
            {t('confirmStartBody', { pairs: bot.symbols.join(', '), strategy: bot.strategy, mode: t(`mode_${bot.mode}` as 'mode_paper') })}
          </p>
          {live && <p class="warning">{t('confirmStartLive')}</p>}
        </ConfirmDialog>
      )}
      {asking === 'stop' && (
        <ConfirmDialog
          title={t('confirmStopTitle', { name: bot.name })}
          confirmLabel={t('stop')}
          onConfirm={() => run('stop')}
          onClose={() => setAsking(null)}
        >
          <p>{t('confirmStopBody')}</p>
        </ConfirmDialog>
      )}
      {asking === 'forceexit' && (
        <ConfirmDialog
          title={t('confirmForceExitTitle', { name: bot.name })}
          confirmLabel={t('forceExit')}
          danger
          onConfirm={() => run('forceexit')}
          onClose={() => setAsking(null)}
        >
          <p>{t('confirmForceExitBody', { positions: bot.symbols.join(', ') })}</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
