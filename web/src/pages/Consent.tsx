import { useState } from 'preact/hooks';
import { api, type ConsentStatus } from '../api.ts';
import { AsyncView, ErrorBox, useAsync } from '../components.tsx';
import { formatDate, useI18n } from '../i18n.ts';

// The terms of use after sign-in (issue 17): while GET /consents says `termsRequired` (never
// agreed, refused, or a newer version published), this is the only page. It shows the terms'
// text as published now (GET /documents/{slug}) under its title and version as the consent
// records them, and the privacy policy behind the marketing question on request. Refusing keeps
// the person signed in on this page (they can still sign out).

/** A consent text in full, in a box of its own that scrolls (keyboard-reachable). */
function DocumentText(props: { slug: string; label: string }) {
  const i18n = useI18n();
  const [document, reload] = useAsync(() => api.consentDocument(props.slug), [props.slug]);
  return (
    <AsyncView value={document} retry={reload}>
      {(d) => (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus so a keyboard can scroll it (axe: scrollable-region-focusable)
        <section class="document-text" aria-label={props.label} tabIndex={0} data-slug={d.slug} data-version={d.version}>
          <p class="small muted">{i18n.t('consentPublished', { version: d.version, date: formatDate(i18n, d.publishedAt) })}</p>
          <div class="document-body">{d.body}</div>
        </section>
      )}
    </AsyncView>
  );
}

export function ConsentPage(props: { status: ConsentStatus; onAnswered: () => void }) {
  const { t } = useI18n();
  const terms = props.status.texts.find((text) => text.kind === 'terms');
  const marketing = props.status.texts.find((text) => text.kind === 'marketing');
  const refusedBefore = props.status.current.some((c) => c.kind === 'terms' && c.version === terms?.version && !c.granted);
  const [wantsMarketing, setWantsMarketing] = useState(
    props.status.current.some((c) => c.kind === 'marketing' && c.version === marketing?.version && c.granted),
  );
  const [saving, setSaving] = useState(false);
  const [policyOpen, setPolicyOpen] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const answer = async (granted: boolean) => {
    setSaving(true);
    setError(null);
    try {
      await api.answerConsent('terms', granted);
      // Marketing is asked, never required: recorded with the terms when its text is published.
      if (granted && marketing) await api.answerConsent('marketing', wantsMarketing);
      props.onAnswered();
    } catch (caught) {
      setError(caught);
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="consent" aria-labelledby="consent-title">
      <h1 id="consent-title">{t('consentTitle')}</h1>
      <p>{t('consentIntro')}</p>
      {terms && (
        <>
          <p class="consent-document" data-terms-version={terms.version}>
            <strong>{t('consentDocument', { title: terms.title, version: terms.version })}</strong>
          </p>
          <DocumentText slug={terms.slug} label={terms.title} />
        </>
      )}
      {refusedBefore && (
        <p class="notice" role="status">
          {t('consentRefused')}
        </p>
      )}
      {marketing && (
        <>
          <label class="inline">
            <input type="checkbox" name="marketing" checked={wantsMarketing} onChange={(e) => setWantsMarketing(e.currentTarget.checked)} />
            {t('consentMarketing')}
          </label>
          <details class="privacy-policy" onToggle={(e) => setPolicyOpen(e.currentTarget.open)}>
            <summary>{t('consentPrivacyPolicy', { title: marketing.title, version: marketing.version })}</summary>
            {policyOpen && <DocumentText slug={marketing.slug} label={marketing.title} />}
          </details>
        </>
      )}
      <div class="row">
        <button type="button" class="primary" disabled={saving} onClick={() => void answer(true)}>
          {saving ? t('consentSaving') : t('consentAgree')}
        </button>
        <button type="button" class="secondary" disabled={saving} onClick={() => void answer(false)}>
          {t('consentRefuse')}
        </button>
      </div>
      {error !== null && <ErrorBox error={error} />}
    </section>
  );
}
