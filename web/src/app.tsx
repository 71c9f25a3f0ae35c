import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, whenUnauthorized, type ConsentStatus, type Me } from './api.ts';
import { ErrorBox, Loading } from './components.tsx';
import {
  chosenTimeZone,
  I18nContext,
  initialLanguage,
  isLanguage,
  rememberLanguage,
  rememberTimeZone,
  translate,
  useI18n,
  viewerTimeZone,
  type I18n,
} from './i18n.ts';
import { LANGUAGES, type Language } from './messages.ts';
import { connectLive, disconnectLive, useLiveEvents, useLiveState } from './live.ts';
import { homeFor, mayOpen } from './access.ts';
import { Link, navigate, usePath } from './router.tsx';
import { AssistantPage } from './pages/Assistant.tsx';
import { BacktestPage } from './pages/Backtest.tsx';
import { BotPage } from './pages/BotPage.tsx';
import { BotsPage } from './pages/Bots.tsx';
import { ConsentPage } from './pages/Consent.tsx';
import { PlanPage } from './pages/Plan.tsx';
import { ProfitPage } from './pages/Profit.tsx';
import { SecurityPage } from './pages/Security.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { AgentsPage, ApprovalsPage, AuditPage, ReportPage, SecurityEventsPage, StatusPage } from './pages/Staff.tsx';

/** Signed in: the person, and where they stand with the terms of use (GET /consents). */
type Session =
  | { state: 'loading' }
  | { state: 'signed-out' }
  | { state: 'error'; error: unknown }
  | { state: 'signed-in'; me: Me; consent: ConsentStatus };

const LANGUAGE_NAMES: Record<Language, string> = { 'pt-BR': 'Português (Brasil)', en: 'English' };

export function App() {
  const [language, setLanguageState] = useState<Language>(initialLanguage);
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const [menuOpen, setMenuOpen] = useState(false);
  const path = usePath();

  const loadMe = () => {
    setSession({ state: 'loading' });
    // After sign-in, the terms of use: while they still need the person's agreement, the consent page is the only page.
    Promise.all([api.me(), api.consents()]).then(
      ([me, consent]) => {
        // The person's own setting, when the API has one and this browser has not chosen.
        if (isLanguage(me.language) && !localStorage.getItem('botcriptofy.language')) setLanguageState(me.language);
        setSession({ state: 'signed-in', me, consent });
        if (!consent.termsRequired) connectLive();
      },
      (error: unknown) =>
        setSession(error instanceof ApiError && error.status === 401 ? { state: 'signed-out' } : { state: 'error', error }),
    );
  };
  useEffect(() => {
    whenUnauthorized(() => {
      disconnectLive();
      setSession({ state: 'signed-out' });
    });
    loadMe();
  }, []);
  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);
  useEffect(() => setMenuOpen(false), [path]);

  // Times in the person's time zone: the one they chose in this browser, else the browser's own
  // (São Paulo when it names none); named, and changeable, on the pages that show times.
  const [chosenZone, setChosenZone] = useState(chosenTimeZone);
  const browserZone = useMemo(viewerTimeZone, []);
  const timeZone = chosenZone ?? browserZone;
  const i18n = useMemo<I18n>(
    () => ({
      language,
      timeZone,
      timeZoneChosen: chosenZone !== undefined,
      t: (key, values) => translate(language, key, values),
      setLanguage: (next) => {
        rememberLanguage(next);
        setLanguageState(next);
      },
      setTimeZone: (zone) => {
        rememberTimeZone(zone);
        setChosenZone(zone);
      },
    }),
    [language, timeZone, chosenZone],
  );
  const { t } = i18n;

  const languageSelect = (
    <label class="language">
      <span class="visually-hidden">{t('language')}</span>
      <select
        name="language"
        aria-label={t('language')}
        value={language}
        onChange={(e) => i18n.setLanguage(e.currentTarget.value as Language)}
      >
        {LANGUAGES.map((l) => (
          <option key={l} value={l}>
            {LANGUAGE_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );

  let main: preact.JSX.Element;
  if (session.state === 'loading') main = <Loading />;
  else if (session.state === 'error') main = <ErrorBox error={session.error} retry={loadMe} />;
  else if (session.state === 'signed-out')
    main = (
      <SignInPage
        onSignedIn={() => {
          navigate(path === '/signin' || path === '/' ? '/bots' : path, { replace: true });
          loadMe();
        }}
      />
    );
  else if (session.consent.termsRequired) main = <ConsentPage status={session.consent} onAnswered={loadMe} />;
  else main = <Page path={path} me={session.me} reloadMe={loadMe} />;

  const staff = session.state === 'signed-in' && session.me.kind === 'staff';
  /** Signed in and past the terms: the menu and the live events. */
  const inApp = session.state === 'signed-in' && !session.consent.termsRequired;
  const nav = [
    { href: '/bots', label: t('navBots') },
    { href: '/backtest', label: t('navBacktest') },
    { href: '/profit', label: t('navProfit') },
    ...(staff
      ? [
          { href: '/report', label: t('navReport') },
          { href: '/approvals', label: t('navApprovals') },
          { href: '/agents', label: t('navAgents') },
          { href: '/status', label: t('navStatus') },
          { href: '/audit', label: t('navAudit') },
          { href: '/security-events', label: t('navSecurityEvents') },
        ]
      : [
          { href: '/assistant', label: t('navAssistant') },
          { href: '/plan', label: t('navPlan') },
        ]),
    { href: '/security', label: t('navSecurity') },
  ].filter((item) => session.state !== 'signed-in' || mayOpen(session.me, item.href));
  return (
    <I18nContext.Provider value={i18n}>
      <header class="top">
        <Link href="/bots" class="brand">
          {t('appName')}
        </Link>
        {inApp && (
          <>
            <button
              type="button"
              class="menu-toggle secondary"
              aria-expanded={menuOpen}
              aria-controls="nav"
              onClick={() => setMenuOpen(!menuOpen)}
            >
              {t('navMenu')}
            </button>
            <nav id="nav" class={menuOpen ? 'open' : undefined} aria-label={t('navMenu')}>
              {nav.map((item) => (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={path === item.href || path.startsWith(`${item.href}/`) ? 'page' : undefined}
                >
                  {item.label}
                </Link>
              ))}
            </nav>
          </>
        )}
        <div class="who">
          {languageSelect}
          {session.state === 'signed-in' && (
            <>
              {inApp && <LiveBadge />}
              <span class="small muted">{t('signedInAs', { name: session.me.name })}</span>
              <button
                type="button"
                class="secondary"
                onClick={() =>
                  void api.signOut().finally(() => {
                    disconnectLive();
                    setSession({ state: 'signed-out' });
                  })
                }
              >
                {t('signOut')}
              </button>
            </>
          )}
        </div>
      </header>
      <main id="main">{main}</main>
    </I18nContext.Provider>
  );
}

function Page(props: { path: string; me: Me; reloadMe: () => void }) {
  const { t } = useI18n();
  const { path, me } = props;
  // Home (and the bots list, where sign-in lands) is the first page the person may use.
  const home = homeFor(me);
  const landing = path === '/' || path === '/signin' || (path === '/bots' && home !== '/bots');
  useEffect(() => {
    if (landing) navigate(home, { replace: true });
  }, [path, home]);
  if (landing) return null;
  if (!mayOpen(me, path)) return <p class="empty">{t('pageNotAllowed', { path })}</p>;
  if (path === '/bots') return <BotsPage me={me} />;
  const bot = /^\/bots\/([0-9a-f-]{36})$/.exec(path);
  if (bot) return <BotPage id={bot[1]!} />;
  if (path === '/backtest') return <BacktestPage me={me} />;
  if (path === '/profit') return <ProfitPage />;
  if (path === '/plan') return <PlanPage me={me} />;
  // The trader's assistant serves traders only (the API refuses staff too).
  if (path === '/assistant' && me.kind === 'trader') return <AssistantPage />;
  if (path === '/security') return <SecurityPage me={me} onChanged={props.reloadMe} />;
  if (me.kind === 'staff') {
    if (path === '/report') return <ReportPage />;
    if (path === '/approvals') return <ApprovalsPage />;
    if (path === '/agents') return <AgentsPage department={me.department} agents={me.access.agents} />;
    if (path === '/status') return <StatusPage />;
    if (path === '/audit') return <AuditPage />;
    if (path === '/security-events') return <SecurityEventsPage />;
  }
  return <p class="empty">{t('notFoundPage', { path })}</p>;
}

/** Whether the live events are connected, and the last trade one of the person's bots made. */
function LiveBadge() {
  const { t } = useI18n();
  const live = useLiveState();
  const [last, setLast] = useState<string | null>(null);
  useLiveEvents(
    (event) => {
      if (event.event !== 'trade') return;
      const kind = event.data.kind === 'opened' ? t('tradeOpened') : event.data.kind === 'closed' ? t('tradeClosed') : t('tradeStopLoss');
      setLast(t('liveTrade', { bot: event.data.botName ?? event.data.botId, kind, symbol: event.data.symbol }));
    },
    [t],
  );
  return (
    <span class={`badge live ${live ? 'on' : 'off'}`} role="status" aria-live="polite" data-live={live}>
      {live ? t('liveOn') : t('liveOff')}
      {last ? ` · ${last}` : ''}
    </span>
  );
}
