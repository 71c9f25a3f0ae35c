import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type DraftCard, type DraftCurves } from '../api.ts';
import { EquityBesideHoldChart } from '../charts.tsx';
import { ConfirmDialog, ErrorBox, Loading, Signed, useAsync } from '../components.tsx';
import { formatDate, formatNumber, formatPct, formatQuote, useI18n } from '../i18n.ts';
import type { MessageKey } from '../messages.ts';
import { Link } from '../router.tsx';

// The trader's assistant on the web (issue 22): the same agent as on Telegram, through
// /api/v1/assistant. The trader writes; the assistant answers with a draft card (its fields,
// questions and assumptions), and the card's buttons are Telegram's: Change (the next words
// change this draft), Backtest (the year's figures and the equity beside buy-and-hold), Discard
// and Start on paper — which asks in a dialog first, and only that confirmation sends
// `confirm: true`. Every refusal (a plan limit with the upgrade named, an open question) is
// the API's own words.

type Entry = { id: number; from: 'you' | 'assistant'; text: string };

const ASSUMED: Record<string, MessageKey> = { timeframe: 'timeframe', stopLossPct: 'draftStopLoss', takeProfitPct: 'draftTakeProfit' };

export function AssistantPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const [open] = useAsync(() => api.openDraft(), []);
  const [draft, setDraft] = useState<DraftCard | null>(null);
  const [curves, setCurves] = useState<DraftCurves[]>([]);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [text, setText] = useState('');
  const [changing, setChanging] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const next = useRef(0);

  // The open draft, once loaded, is the card until the conversation gives another; a backtest it
  // already has gets its chart back (the curves are the server's, read again: nothing is run).
  useEffect(() => {
    if (open.state !== 'ready' || !open.value.draft || draft) return;
    const loaded = open.value.draft;
    setDraft(loaded);
    if (loaded.backtests && loaded.backtests.length > 0)
      api.draftCurves(loaded.draftId).then(
        // Curves a newer backtest gave meanwhile win (the card matches curves to its backtests by id).
        ({ curves: stored }) => setCurves((current) => (current.length > 0 ? current : stored)),
        setError,
      );
  }, [open]);

  const say = (from: Entry['from'], words: string) => {
    next.current += 1;
    const entry = { id: next.current, from, text: words };
    setEntries((list) => [...list, entry]);
  };

  /** Runs one of the card's actions: busy while it runs, the API's error in words if it fails. */
  const act = async (name: string, run: () => Promise<void>) => {
    setBusy(name);
    setError(null);
    try {
      await run();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const words = text.trim();
    if (!words || busy) return;
    void act('send', async () => {
      say('you', words);
      if (changing && draft) {
        const { draft: changed } = await api.changeDraft(draft.draftId, words);
        setDraft(changed);
        setCurves([]);
        setChanging(false);
        say('assistant', t('assistantChanged', { name: changed.name }));
      } else {
        const reply = await api.assistantSay(words);
        if (reply.kind === 'none' || !reply.draft) say('assistant', reply.hint ?? '');
        else {
          // A new draft, or a changed one, has no backtest of its settings yet.
          setCurves([]);
          setDraft(reply.draft);
          say('assistant', t(reply.kind === 'new' ? 'assistantNewDraft' : 'assistantChanged', { name: reply.draft.name }));
        }
      }
      setText('');
    });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    // Enter sends (as a chat does); Shift+Enter keeps a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      (event.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
    }
  };

  return (
    <section class="assistant">
      <h1>{t('assistantTitle')}</h1>
      <p class="muted">{t('assistantIntro')}</p>
      <form class="ask" onSubmit={submit}>
        <label for="assistant-words">
          {changing && draft ? t('assistantChangeLabel', { name: draft.name }) : t('assistantMessageLabel')}
        </label>
        <textarea
          id="assistant-words"
          ref={box}
          name="words"
          rows={2}
          maxLength={2000}
          required
          aria-describedby="assistant-keys"
          placeholder={changing ? '' : t('assistantPlaceholder')}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={onKeyDown}
        />
        <span class="hint" id="assistant-keys">
          {changing ? t('assistantChangeHint') : t('assistantKeyboardHint')}
        </span>
        <div class="row">
          <button type="submit" class="primary" disabled={busy !== null}>
            {busy === 'send' ? t('draftWorking') : t('send')}
          </button>
          {changing && (
            <button type="button" class="secondary" onClick={() => setChanging(false)}>
              {t('assistantCancelChange')}
            </button>
          )}
        </div>
      </form>
      {error !== null && <ErrorBox error={error} />}
      {entries.length > 0 && (
        <ol class="turns conversation" aria-live="polite" aria-label={t('assistantName')}>
          {entries.map((entry) => (
            <li key={entry.id} class={`turn from-${entry.from}`}>
              <p class="small muted">{entry.from === 'you' ? t('assistantYou') : t('assistantName')}</p>
              <p class="answer">{entry.text}</p>
            </li>
          ))}
        </ol>
      )}
      {open.state === 'loading' && !draft && <Loading />}
      {open.state === 'error' && !draft && <ErrorBox error={open.error} />}
      {open.state === 'ready' && !draft && <p class="empty">{t('assistantEmpty')}</p>}
      {draft && (
        <DraftCardView
          draft={draft}
          curves={curves}
          busy={busy}
          onChange={() => {
            setChanging(true);
            box.current?.focus();
          }}
          onBacktest={() =>
            void act('backtest', async () => {
              const result = await api.backtestDraft(draft.draftId);
              setDraft(result.draft);
              setCurves(result.curves);
              say('assistant', t('assistantBacktested', { name: result.draft.name }));
            })
          }
          onDiscard={() =>
            void act('discard', async () => {
              const result = await api.discardDraft(draft.draftId);
              setDraft(result.draft);
              setChanging(false);
              say('assistant', t('assistantDiscarded', { name: result.draft.name }));
            })
          }
          onStart={() => setConfirming(true)}
        />
      )}
      {confirming && draft && (
        <ConfirmDialog
          title={t('draftStartTitle', { name: draft.name })}
          confirmLabel={t('draftStart')}
          onClose={() => setConfirming(false)}
          onConfirm={() =>
            act('start', async () => {
              // One key per confirmed press: a retry of this request starts one bot, not two.
              const result = await api.startDraft(draft.draftId, crypto.randomUUID());
              setDraft(result.draft);
              setChanging(false);
              say('assistant', t('assistantStarted', { name: result.draft.name }));
            })
          }
        >
          <p>
            {t('draftStartBody', {
              pairs: draft.symbols.join(', '),
              stake: formatQuote(i18n, draft.stakeQuote),
            })}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function DraftCardView(props: {
  draft: DraftCard;
  curves: DraftCurves[];
  busy: string | null;
  onChange: () => void;
  onBacktest: () => void;
  onDiscard: () => void;
  onStart: () => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const { draft } = props;
  const open = draft.status === 'draft';
  const parameters = Object.entries(draft.parameters)
    .filter(([name]) => name !== 'stopLossPct' && name !== 'takeProfitPct')
    .map(([name, value]) => `${name} ${formatNumber(i18n, value, Number.isInteger(value) ? 0 : 2)}`)
    .join(', ');
  const assumed = draft.assumed.filter((field) => field in ASSUMED).map((field) => t(ASSUMED[field]!));
  const field = (label: string, value: string) => (
    <div class="metric">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
  const pct = (value: number | null) => (value === null ? '—' : formatPct(i18n, value));
  return (
    <article class="draft-card" aria-labelledby="draft-title" data-status={draft.status}>
      <h2 id="draft-title">
        {t('draftHeading', { name: draft.name })}{' '}
        <span class={`badge draft-${draft.status}`}>{t(`draftStatus_${draft.status}` as MessageKey)}</span>
      </h2>
      <dl class="metrics draft-fields">
        {field(t('colStrategy'), draft.strategy ? `${draft.strategy}${parameters ? ` (${parameters})` : ''}` : '?')}
        {field(t('symbol'), draft.symbols.join(', ') || '?')}
        {field(t('timeframe'), draft.timeframe ?? '?')}
        {field(t('draftStake'), draft.stakeQuote === null ? '?' : formatQuote(i18n, draft.stakeQuote))}
        {field(t('draftStopLoss'), pct(draft.stopLossPct))}
        {field(t('draftTakeProfit'), pct(draft.takeProfitPct))}
        {field(t('draftMaxPositions'), draft.maxOpenPositions === null ? '?' : String(draft.maxOpenPositions))}
        {field(t('draftMode'), t('draftModePaper'))}
      </dl>
      {open && assumed.length > 0 && <p class="muted small">{t('draftAssumed', { fields: assumed.join(', ') })}</p>}
      {open && draft.questions.length > 0 && (
        <div class="draft-questions">
          <h3>{t('draftQuestions')}</h3>
          <ul>
            {draft.questions.map((q) => (
              <li key={q.field}>{q.question}</li>
            ))}
          </ul>
          <p class="muted small">{t('draftAnswerHint')}</p>
        </div>
      )}
      {draft.blocked && (
        <p class="error" role="alert">
          {t('draftBlocked', { reason: draft.blocked.reason })}
          {draft.blocked.upgradeTo ? ` ${t('draftUpgrade', { plan: draft.blocked.upgradeTo })}` : ''}
        </p>
      )}
      {draft.liveNote && <p class="muted">{draft.liveNote}</p>}
      {draft.riskNote && (
        <p class="warning" role="note">
          {draft.riskNote}
        </p>
      )}
      {draft.backtests && draft.backtests.length > 0 && (
        <section class="draft-backtest" aria-labelledby="draft-backtest-title">
          <h3 id="draft-backtest-title">{t('draftBacktestTitle')}</h3>
          {draft.backtests.map((b) => {
            const curve = props.curves.find((c) => c.backtestId === b.backtestId);
            return (
              <div key={b.backtestId}>
                <p class="muted small">
                  {t('draftBacktestRange', {
                    symbol: b.symbol,
                    candles: formatNumber(i18n, b.candles, 0),
                    from: formatDate(i18n, b.rangeStart),
                    to: formatDate(i18n, b.rangeEnd),
                  })}
                </p>
                <dl class="metrics">
                  <div class="metric">
                    <dt>{t('mReturn')}</dt>
                    <dd>
                      <Signed value={b.totalReturnPct}>{formatPct(i18n, b.totalReturnPct, { signed: true })}</Signed>
                    </dd>
                  </div>
                  <div class="metric">
                    <dt>{t('draftBuyHold')}</dt>
                    <dd>
                      <Signed value={b.buyAndHoldReturnPct}>{formatPct(i18n, b.buyAndHoldReturnPct, { signed: true })}</Signed>
                    </dd>
                  </div>
                  {field(t('mDrawdown'), formatPct(i18n, -Math.abs(b.maxDrawdownPct)))}
                  {field(t('draftBuyHoldDrawdown'), formatPct(i18n, -Math.abs(b.buyAndHoldMaxDrawdownPct)))}
                  {field(t('mTrades'), String(b.trades))}
                  {field(t('mWinRate'), b.winRatePct === null ? '—' : formatPct(i18n, b.winRatePct))}
                </dl>
                {b.missing && <p class="muted small">{t('draftMissing', { missing: b.missing })}</p>}
                {curve && (
                  <figure class="chart-figure">
                    <figcaption>
                      {t('assistantChartBot')} · {t('assistantChartHold')} — {curve.symbol} {curve.timeframe}
                    </figcaption>
                    <EquityBesideHoldChart
                      strategy={curve.strategy}
                      hold={curve.buyAndHold}
                      label={t('assistantChartLabel', { symbol: curve.symbol })}
                    />
                  </figure>
                )}
              </div>
            );
          })}
        </section>
      )}
      {open && draft.questions.length === 0 && !draft.blocked && (
        <p class="muted">{draft.next.includes('start_on_paper') ? t('draftNextStart') : t('draftNextBacktest')}</p>
      )}
      {draft.status === 'started' && draft.botId && (
        <p>
          <Link href={`/bots/${draft.botId}`}>{t('draftOpenBot')}</Link>
        </p>
      )}
      {open && (
        <div class="actions draft-actions">
          <button type="button" class="secondary" disabled={props.busy !== null} onClick={props.onChange}>
            {t('draftChange')}
          </button>
          {draft.next.includes('backtest') && (
            <button type="button" class="secondary" disabled={props.busy !== null} onClick={props.onBacktest}>
              {props.busy === 'backtest' ? t('draftWorking') : t('draftBacktest')}
            </button>
          )}
          <button type="button" class="danger" disabled={props.busy !== null} onClick={props.onDiscard}>
            {t('draftDiscard')}
          </button>
          {draft.next.includes('start_on_paper') && (
            <button type="button" class="primary" disabled={props.busy !== null} onClick={props.onStart}>
              {t('draftStart')}
            </button>
          )}
        </div>
      )}
    </article>
  );
}
