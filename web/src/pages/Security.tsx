import { useState } from 'preact/hooks';
import { api, type Me } from '../api.ts';
import { errorText } from '../components.tsx';
import { useI18n } from '../i18n.ts';

/** The TOTP second factor: turned on with the password, confirmed with a first code. */
export function SecurityPage(props: { me: Me; onChanged: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [password, setPassword] = useState('');
  const [enrolment, setEnrolment] = useState<{ uri: string; secret: string; backupCodes: string[] } | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const enable = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.enableTotp(password);
      setEnrolment({
        uri: answer.totpURI,
        secret: new URL(answer.totpURI).searchParams.get('secret') ?? '',
        backupCodes: answer.backupCodes,
      });
      setPassword('');
    } catch (e) {
      setError(errorText(i18n, e));
    } finally {
      setBusy(false);
    }
  };
  const verify = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.verifyTotp(code.trim());
      setDone(true);
      setEnrolment(null);
      props.onChanged();
    } catch (e) {
      setError(errorText(i18n, e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>{t('securityTitle')}</h1>
      {done && (
        <p class="notice" role="status">
          {t('twoFactorEnabledNow')}
        </p>
      )}
      <p>{props.me.twoFactorEnabled ? t('twoFactorOn') : t('twoFactorOff')}</p>
      {!props.me.twoFactorEnabled && !enrolment && (
        <form class="ask" onSubmit={enable}>
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
          <button type="submit" class="primary" disabled={busy}>
            {t('enableTwoFactor')}
          </button>
        </form>
      )}
      {enrolment && (
        <form class="ask" onSubmit={verify}>
          <p>
            {t('totpSecret')}: <code data-totp-secret>{enrolment.secret}</code> (<a href={enrolment.uri}>otpauth</a>)
          </p>
          <p>{t('backupCodes')}:</p>
          <ul class="codes">
            {enrolment.backupCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <label>
            {t('verifyCode')}
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {t('confirm')}
          </button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
