import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, NetworkError } from './api.ts';
import { timeZoneChoices, useI18n, viewerTimeZone, type I18n } from './i18n.ts';

/** An error from the API (or no server at all) in words. */
export function errorText(i18n: I18n, error: unknown): string {
  if (error instanceof NetworkError) return i18n.t('errorNetwork');
  if (error instanceof ApiError && error.status === 429) return i18n.t('errorTooMany', { wait: waitText(i18n, error.retryAfterS) });
  if (error instanceof ApiError) return error.status === 401 ? i18n.t('errorSession') : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** "30 s" / "15 min" (a 429's Retry-After), or "a moment" when the server did not say. */
export function waitText(i18n: I18n, seconds: number | undefined): string {
  if (seconds === undefined || seconds <= 0) return i18n.t('waitMoment');
  return seconds < 120
    ? i18n.t('waitSeconds', { seconds: Math.ceil(seconds) })
    : i18n.t('waitMinutes', { minutes: Math.ceil(seconds / 60) });
}

export type Async<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; value: T };

/** Loads once per change of `deps`; `reload` loads again (keeping the old value on screen meanwhile). */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): [Async<T>, () => void] {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  // The caller names what the load depends on (`deps`).
  useEffect(() => {
    let current = true;
    load().then(
      (value) => current && setResult({ state: 'ready', value }),
      (error: unknown) => current && setResult({ state: 'error', error }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return [result, reload];
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p class="loading" role="status" aria-live="polite">
      {t('loading')}
    </p>
  );
}

export function ErrorBox(props: { error: unknown; retry?: () => void }) {
  const i18n = useI18n();
  return (
    <div class="error" role="alert">
      <strong>{i18n.t('errorTitle')}:</strong> {errorText(i18n, props.error)}
      {props.retry && (
        <button type="button" class="secondary" onClick={props.retry}>
          {i18n.t('retry')}
        </button>
      )}
    </div>
  );
}

/** Shows `children` when ready; loading and errors (with a retry) otherwise. */
export function AsyncView<T>(props: { value: Async<T>; retry?: () => void; children: (value: T) => ComponentChildren }) {
  if (props.value.state === 'loading') return <Loading />;
  if (props.value.state === 'error') return <ErrorBox error={props.value.error} {...(props.retry ? { retry: props.retry } : {})} />;
  return <>{props.children(props.value.value)}</>;
}

/** A modal confirmation (the browser's <dialog>: focus kept inside, Escape cancels). */
export function ConfirmDialog(props: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={props.onClose} onCancel={props.onClose}>
      <h2 id="confirm-title">{props.title}</h2>
      <div class="confirm-body">{props.children}</div>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
          {t('cancel')}
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await props.onConfirm();
            } finally {
              setBusy(false);
              props.onClose();
            }
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A code the API gives (an exit reason, a subscription status) in the person's language; the code itself when no text names it. */
export function codeText(i18n: I18n, prefix: 'reason' | 'sub', code: string | null | undefined): string {
  if (!code) return '—';
  const key = `${prefix}_${code}` as Parameters<I18n['t']>[0];
  const text = i18n.t(key);
  return text === key ? code : text;
}

export function StatusBadge(props: { status: string }) {
  const { t } = useI18n();
  const key = `status_${props.status}` as Parameters<I18n['t']>[0];
  const label = t(key);
  return <span class={`badge status-${props.status}`}>{label === key ? props.status : label}</span>;
}

/** A positive number green, a negative one red; the text as given. */
export function Signed(props: { value: number | string | null | undefined; children: ComponentChildren }) {
  const n = props.value === null || props.value === undefined ? 0 : Number(props.value);
  return <span class={n > 0 ? 'gain' : n < 0 ? 'loss' : undefined}>{props.children}</span>;
}

/**
 * Which time zone the page's times are in, for pages that show times, and the person's choice of
 * another (kept in this browser, like the language; "the browser's" goes back to the device's).
 */
export function TimeZoneNote() {
  const i18n = useI18n();
  const { t, timeZone } = i18n;
  const [open, setOpen] = useState(false);
  const choices = useMemo(() => (open ? timeZoneChoices() : []), [open]);
  return (
    <p class="muted small time-zone" data-time-zone={timeZone}>
      {t(i18n.timeZoneChosen ? 'timesInChosen' : 'timesIn', { zone: timeZone })}{' '}
      {open ? (
        <label>
          <span class="visually-hidden">{t('timeZone')}</span>
          <select
            name="timeZone"
            aria-label={t('timeZone')}
            value={i18n.timeZoneChosen ? timeZone : ''}
            onChange={(e) => {
              const zone = e.currentTarget.value;
              i18n.setTimeZone(zone === '' ? undefined : zone);
              setOpen(false);
            }}
          >
            <option value="">{t('timeZoneBrowser', { zone: viewerTimeZone() })}</option>
            {choices.map((zone) => (
              <option key={zone} value={zone}>
                {zone}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <button type="button" class="link" onClick={() => setOpen(true)}>
          {t('timeZoneChange')}
        </button>
      )}
    </p>
  );
}
