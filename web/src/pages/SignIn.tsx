import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { errorText, waitText } from '../components.tsx';
import { useI18n } from '../i18n.ts';

export function SignInPage(props: { onSignedIn: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (needsCode) {
        await api.verifyTotp(code.trim());
        props.onSignedIn();
      } else {
        const answer = await api.signIn(email.trim(), password);
        if (answer.twoFactorRedirect) setNeedsCode(true);
        else props.onSignedIn();
      }
    } catch (e) {
      // At sign-in a 401 is the email and password (or the code) being wrong, not a session ending.
      if (e instanceof ApiError && e.status === 401) setError(t(needsCode ? 'errorWrongCode' : 'errorWrongPassword'));
      else if (e instanceof ApiError && e.status === 429) setError(t('errorTooManySignIns', { wait: waitText(i18n, e.retryAfterS) }));
      else setError(errorText(i18n, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="signin">
      <h1>{t('signInTitle')}</h1>
      <form onSubmit={submit}>
        {needsCode ? (
          <>
            <p>{t('twoFactorNeeded')}</p>
            <label>
              {t('twoFactorCode')}
              <input
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
              />
            </label>
          </>
        ) : (
          <>
            <label>
              {t('email')}
              <input
                type="email"
                name="email"
                autoComplete="username"
                required
                value={email}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </label>
            <label>
              {t('password')}
              <input
                type="password"
                name="password"
                autoComplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
    </section>
  );
}
