import { useState } from 'preact/hooks';
import { api, type ConsentStatus } from '../api.ts';
import { ErrorBox } from '../components.tsx';
import { useI18n } from '../i18n.ts';

// The terms of use after sign-in (issue 17): while GET /consents says `termsRequired` (never
// agreed, refused, or a newer version published), this is the only page. The API has no route
// that serves a document's text, so the page names the text (title and version) as the
// consent records it. Refusing keeps the person signed in on this page (they can still sign out).

export function ConsentPage(props: { status: ConsentStatus; onAnswered: () => void }) {
  const { t } = useI18n();
  const terms = props.status.texts.find((text) => text.kind === 'terms');
  const marketing = props.status.texts.find((text) => text.kind === 'marketing');
  const refusedBefore = props.status.current.some((c) => c.kind === 'terms' && c.version === terms?.version && !c.granted);
  const [wantsMarketing, setWantsMarketing] = useState(
    props.status.current.some((c) => c.kind === 'marketing' && c.version === marketing?.version && c.granted),
  );
  const [saving, setSaving] = useState(false);
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
        <p class="consent-document" data-terms-version={terms.version}>
          <strong>{t('consentDocument', { title: terms.title, version: terms.version })}</strong>
          <br />
          <span class="small muted">{t('consentNoText')}</span>
        </p>
      )}
      {refusedBefore && (
        <p class="notice" role="status">
          {t('consentRefused')}
        </p>
      )}
      {marketing && (
        <label class="inline">
          <input type="checkbox" name="marketing" checked={wantsMarketing} onChange={(e) => setWantsMarketing(e.currentTarget.checked)} />
          {t('consentMarketing')}
        </label>
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
