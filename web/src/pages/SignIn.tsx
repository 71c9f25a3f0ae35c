import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { errorText, waitText } from '../components.tsx';
import { useI18n } from '../i18n.ts';

/** Sign-in (with the TOTP step), or a trader's sign-up when they have no account yet. */
export function SignInPage(props: { onSignedIn: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [mode, setMode] = useState<'signIn' | 'signUp'>('signIn');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signingUp = mode === 'signUp';
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (signingUp) {
        // The language this page is in becomes the account's (messages, reports), as chosen.
        await api.signUp(name.trim(), email.trim(), password, i18n.language);
        props.onSignedIn();
      } else if (needsCode) {
        await api.verifyTotp(code.trim());
        props.onSignedIn();
      } else {
        const answer = await api.signIn(email.trim(), password);
        if (answer.twoFactorRedirect) setNeedsCode(true);
        else props.onSignedIn();
      }
    } catch (e) {
      // At sign-in a 401 is the email and password (or the code) being wrong, not a session ending.
      if (!signingUp && e instanceof ApiError && e.status === 401) setError(t(needsCode ? 'errorWrongCode' : 'errorWrongPassword'));
      else if (signingUp && e instanceof ApiError && e.status === 409) setError(t('errorEmailTaken'));
      else if (signingUp && e instanceof ApiError && e.status === 403) setError(t('errorSignUpClosed'));
      else if (e instanceof ApiError && e.status === 429) setError(t('errorTooManySignIns', { wait: waitText(i18n, e.retryAfterS) }));
      else setError(errorText(i18n, e));
    } finally {
      setBusy(false);
    }
  };
  const switchMode = () => {
    setMode(signingUp ? 'signIn' : 'signUp');
    setError(null);
  };
  return (
    <section class="signin">
      <h1>{t(signingUp ? 'signUpTitle' : 'signInTitle')}</h1>
      <form onSubmit={submit}>
        {needsCode && !signingUp ? (
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
            {signingUp && (
              <label>
                {t('yourName')}
                <input
                  name="name"
                  autoComplete="name"
                  required
                  maxLength={100}
                  value={name}
                  onInput={(e) => setName(e.currentTarget.value)}
                />
              </label>
            )}
            <label>
              {t('email')}
              <input
                type="email"
                name="email"
                autoComplete={signingUp ? 'email' : 'username'}
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
                autoComplete={signingUp ? 'new-password' : 'current-password'}
                required
                minLength={signingUp ? 10 : undefined}
                maxLength={signingUp ? 128 : undefined}
                aria-describedby={signingUp ? 'password-hint' : undefined}
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
            {signingUp && (
              <p id="password-hint" class="muted hint">
                {t('newPasswordHint')}
              </p>
            )}
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t(signingUp ? 'signingUp' : 'signingIn') : t(signingUp ? 'signUp' : 'signIn')}
        </button>
      </form>
      {!needsCode && (
        <p>
          <button type="button" class="link" onClick={switchMode}>
            {t(signingUp ? 'signInOffer' : 'signUpOffer')}
          </button>
        </p>
      )}
    </section>
  );
}
