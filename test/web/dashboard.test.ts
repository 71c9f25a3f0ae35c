// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's Locator.innerText() (the text as laid out), not the DOM property
import fs from 'node:fs';
import path from 'node:path';
import { URI } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { type ExportTable, exportTableObjects } from '../../privacy/index.ts';
import { startFakeStripe } from '../support/fake-stripe.ts';
import { formatDateTime, formatQuote } from '../../web/src/i18n.ts';
import { accessibilityProblems, buildDashboard, launchBrowser, screenshot, startDemoServer, type DemoServer } from '../support/web.ts';

/** Waits for what the page shows, as a person would (generous: the machine is shared, the server ticks bots). */
const poll = <T>(read: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(read, { timeout: options.timeout ?? 20_000, interval: 100 });

// The web dashboard in a real browser (issue 17): Debian's chromium through playwright-core
// against a real `botcriptofy start` on the seeded demo company. The candle cache is filled
// with the replayed market's bars (the prices the demo's trades were made at) for the first
// trader's bot and for BTC/USDT 1h over the last 40 days (the backtest's default 30 days).
// Every person here signs in from 127.0.0.1: the server allows 100 sign-ins a minute per address
// (AUTH_SIGN_IN_LIMIT_PER_MINUTE; 5 by default), and ticks its bots every second
// (BOT_TICK_INTERVAL_S=1), so a paper bot started here trades within a couple of seconds.

const STRIPE_WEBHOOK_SECRET = 'whsec_dashboard_test';

interface ApiBot {
  id: string;
  name: string;
  symbols: string[];
  timeframe: string;
  status: string;
}
interface ApiTrade {
  symbol: string;
  openedAt: string;
  closedAt: string | null;
}

describe('web dashboard', { timeout: 120_000 }, () => {
  let server: DemoServer;
  let browser: Browser;
  let trader: { email: string; password: string };
  let otherTrader: { email: string; password: string };
  let bot: ApiBot;
  let tradesInWindow = 0;
  /** The trader's signed-in browser state (the session cookie), from the first test. */
  let session: Awaited<ReturnType<BrowserContext['storageState']>> | undefined;
  let current: Page | undefined;
  /** The trader's API session (a cookie), for acting beside the browser. */
  let traderCookie = '';
  /** Stripe's API as billing sees it (refunds land here): the server runs with Stripe keys pointing at it. */
  let stripe: Awaited<ReturnType<typeof startFakeStripe>>;
  /** The first trader's payment Stripe reported paid (by webhook), which the finance head refunds. */
  let refund: { paymentId: string; charge: string; amountCents: number } | undefined;
  /** The demo's trader with an open position on a paper bot (the last sign-in), its session cookie and that bot. */
  let holder: { email: string; cookie: string; bot: ApiBot & { positions: { symbol: string }[] } } | undefined;

  /** The API as the trader (to know what the page must show); the browser has its own session. */
  async function apiAs(who: { email: string; password: string }) {
    const signIn = await fetch(`${server.url}/api/v1/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify(who),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    traderCookie = cookie;
    return async <T>(path: string): Promise<T> => {
      const response = await fetch(`${server.url}/api/v1${path}`, { headers: { cookie } });
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    };
  }

  beforeAll(async () => {
    // First the browser: without a chromium this fails at once, saying how to install one.
    browser = await launchBrowser();
    // The dashboard as the sources say now (npm install built it; a source edited since would be stale).
    buildDashboard();
    // The demo's last trader sign-in has an open position on a paper bot, as seeded: that bot is
    // stopped (a stop keeps positions) before `start` runs the bots, so it is still open when the
    // force-exit test closes it.
    let held: { email: string; botId: string } | undefined;
    stripe = await startFakeStripe();
    server = await startDemoServer({
      // Billing with Stripe (a scripted one on loopback), so refunds can be asked for and made.
      env: {
        STRIPE_SECRET_KEY: 'sk_test_dashboard',
        STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET,
        STRIPE_API_URL: stripe.url,
        AUTH_SIGN_IN_LIMIT_PER_MINUTE: '100',
        BOT_TICK_INTERVAL_S: '1',
      },
      async prepare({ cli, signIns }) {
        const email = signIns.filter((s) => s.who === 'trader').at(-1)!.email;
        const json = async <T>(...args: string[]): Promise<T> => {
          const result = await cli(...args, '--as', email, '--json');
          if (result.code !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
          return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;
        };
        for (const candidate of (await json<{ bots: (ApiBot & { mode: string })[] }>('bots', 'list')).bots) {
          if (candidate.mode !== 'paper') continue;
          const shown = await json<{ positions: unknown[] }>('bots', 'show', candidate.id);
          if (shown.positions.length === 0) continue;
          await json('bots', 'stop', candidate.id);
          held = { email, botId: candidate.id };
          break;
        }
        if (!held) throw new Error(`${email} has no paper bot with an open position in the seeded demo`);
      },
    });
    const traders = server.signIns.filter((s) => s.who === 'trader');
    expect(traders.length).toBeGreaterThanOrEqual(2);
    trader = traders[0]!;
    otherTrader = traders[1]!;
    const get = await apiAs(trader);
    bot = (await get<{ bots: ApiBot[] }>('/bots')).bots[0]!;
    const { trades } = await get<{ trades: ApiTrade[] }>(`/bots/${bot.id}/trades?limit=500`);
    // The chart of a stopped bot ends 20 bars after its last trade and shows 1,000 bars (web/src/pages/BotPage.tsx).
    const barMs = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3 }[bot.timeframe]!;
    const last = Math.max(...trades.map((t) => Date.parse(t.closedAt ?? t.openedAt)));
    const to = Math.min(Math.ceil(Date.now() / barMs) * barMs, last + 20 * barMs);
    const from = to - 1_000 * barMs;
    // The demo's own candle cache (seed --demo, demo/candles.ts) holds BTC/USDT in the bundled
    // timeframes: a BTC/USDT bot's chart draws from it as on a fresh `npm start`; other pairs are imported.
    const seededCache = bot.symbols[0] === 'BTC/USDT' && ['1m', '5m', '15m', '1h'].includes(bot.timeframe);
    if (!seededCache) await server.importReplayedCandles(bot.symbols[0]!, bot.timeframe, from - 200 * barMs, to);
    tradesInWindow = trades.filter(
      (t) => t.symbol === bot.symbols[0] && Date.parse(t.openedAt) >= from && Date.parse(t.openedAt) <= to,
    ).length;
    expect(tradesInWindow).toBeGreaterThan(0);
    // The backtest's default range ends now, past the seeded cache's last bar: the last 40 days up to now.
    await server.importReplayedCandles('BTC/USDT', '1h', Date.now() - 40 * 86_400_000, Date.now());

    // A payment Stripe reports paid for the first trader, as Stripe's webhooks tell it: their
    // checkout links the customer, then the invoice is paid with a charge. Its id comes from the
    // trader's own data export (POST /privacy/export), as a person would find it.
    const exportOfTrader = async () => {
      const response = await fetch(`${server.url}/api/v1/privacy/export`, {
        method: 'POST',
        headers: { cookie: traderCookie, origin: server.url, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(200);
      const data = ((await response.json()) as { document: { data: Record<string, ExportTable> } }).document.data;
      return Object.fromEntries(Object.entries(data).map(([name, table]) => [name, exportTableObjects(table)]));
    };
    const tenantId = (await exportOfTrader()).tenants![0]!['id'] as string;
    const now = Math.floor(Date.now() / 1000);
    const charge = 'ch_dashboard_1';
    const paid = { customer: 'cus_dashboard', amountCents: 9_990 };
    await deliverStripeEvent('checkout.session.completed', {
      id: 'cs_dashboard',
      object: 'checkout.session',
      customer: paid.customer,
      client_reference_id: tenantId,
    });
    await deliverStripeEvent('invoice.paid', {
      id: 'in_dashboard_1',
      object: 'invoice',
      customer: paid.customer,
      number: 'BCF-DASH-1',
      status: 'paid',
      currency: 'brl',
      amount_due: paid.amountCents,
      amount_paid: paid.amountCents,
      attempt_count: 1,
      next_payment_attempt: null,
      period_start: now - 86_400,
      period_end: now + 29 * 86_400,
      created: now - 60,
      charge,
      payment_intent: 'pi_dashboard_1',
      status_transitions: { paid_at: now - 30 },
      lines: { data: [] },
    });
    const payment = (await exportOfTrader()).payments!.find((p) => p['stripe_charge_id'] === charge);
    expect(payment, 'the paid invoice mirrored as a payment').toBeDefined();
    refund = { paymentId: payment!['id'] as string, charge, amountCents: Number(payment!['amount_cents']) };
    expect(refund.amountCents).toBe(paid.amountCents);

    // The trader with the open paper position agrees to the terms through the API (the browser's
    // consent flow is the first trader's).
    const holderSignIn = traders.at(-1)!;
    expect(holderSignIn.email).toBe(held!.email);
    const signIn = await fetch(`${server.url}/api/v1/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify(holderSignIn),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const asHolder = (path: string, init: { method?: string; body?: unknown } = {}) =>
      fetch(`${server.url}/api/v1${path}`, {
        method: init.method ?? 'GET',
        headers: { cookie, origin: server.url, 'content-type': 'application/json' },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    for (const candidate of ((await (await asHolder('/bots')).json()) as { bots: ApiBot[] }).bots) {
      const details = (await (await asHolder(`/bots/${candidate.id}`)).json()) as {
        bot: { mode: string };
        positions: { symbol: string }[];
      };
      if (candidate.id !== held!.botId) continue;
      expect(details.bot.mode).toBe('paper');
      expect(details.positions.length).toBeGreaterThan(0);
      holder = { email: holderSignIn.email, cookie, bot: { ...candidate, positions: details.positions } };
      break;
    }
    expect(holder, `${holderSignIn.email}'s stopped bot lost its open position`).toBeDefined();
    expect((await asHolder('/consents', { method: 'POST', body: { kind: 'terms', granted: true } })).status).toBe(201);
  }, 480_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && current && !current.isClosed())
      await screenshot(current, `failed-${ctx.task.name.replace(/\W+/g, '-')}`);
    current = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await stripe?.close();
  });

  /** A Stripe event delivered to the server's webhook, signed as Stripe signs it; answered 200. */
  async function deliverStripeEvent(type: string, object: Record<string, unknown>) {
    const body = JSON.stringify({
      id: `evt_${type}_${object['id']}`,
      object: 'event',
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object },
      livemode: false,
    });
    const signature = new Stripe('sk_test_dashboard').webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_WEBHOOK_SECRET });
    const response = await fetch(`${server.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'stripe-signature': signature, 'content-type': 'application/json' },
      body,
    });
    expect(response.status, `${type}: ${await response.clone().text()}`).toBe(200);
  }

  /** A page in a new browser context (its own cookies), in Portuguese unless told, in São Paulo time. */
  async function newPage(
    options: { locale?: string; viewport?: { width: number; height: number }; signedIn?: boolean } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    if (options.signedIn && !session) throw new Error("the trader's session comes from the sign-in test, which did not pass");
    const context = await browser.newContext({
      ...(options.signedIn ? { storageState: session } : {}),
      locale: options.locale ?? 'pt-BR',
      timezoneId: 'America/Sao_Paulo',
      viewport: options.viewport ?? { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    current = page;
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    context.on('close', () => expect(errors, 'errors in the page').toEqual([]));
    return { context, page };
  }

  async function signIn(
    page: Page,
    who: { email: string; password: string },
    labels = { email: 'E-mail', password: 'Senha', button: 'Entrar' },
  ) {
    await page.goto(`${server.url}/`);
    await page.getByLabel(labels.email).fill(who.email);
    await page.getByLabel(labels.password).fill(who.password);
    await page.getByRole('button', { name: labels.button }).click();
  }

  /** After sign-in the terms of use come first (GET /consents: termsRequired): agreeing opens the app. */
  async function agreeToTerms(page: Page) {
    await page.getByRole('heading', { name: 'Termos de uso' }).waitFor();
    await page.getByRole('button', { name: 'Eu aceito os termos de uso' }).click();
  }

  it('ships at most 400 KB of gzipped JavaScript, all of it from this server', () => {
    const assets = path.resolve('web', 'dist', 'assets');
    const scripts = fs.readdirSync(assets).filter((name) => name.endsWith('.js.gz'));
    expect(scripts.length).toBeGreaterThan(0);
    const bytes = scripts.reduce((sum, name) => sum + fs.statSync(path.join(assets, name)).size, 0);
    expect(bytes).toBeLessThanOrEqual(400 * 1024);
    // No CDN, no web font: nothing in the page or the bundle names another host.
    const html = fs.readFileSync(path.resolve('web', 'dist', 'index.html'), 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const css = fs.readdirSync(assets).filter((name) => name.endsWith('.css'));
    for (const name of css) expect(fs.readFileSync(path.join(assets, name), 'utf8')).not.toMatch(/@import|url\((["']?)https?:/);
  });

  it('a trader signs in and sees their bots', async () => {
    const { context, page } = await newPage();
    await signIn(page, trader);
    await page.waitForURL(`${server.url}/bots`);
    // First the terms of use as published now: their title and version, and nothing else of the app.
    await page.getByRole('heading', { name: 'Termos de uso' }).waitFor();
    const consents = (await (await fetch(`${server.url}/api/v1/consents`, { headers: { cookie: traderCookie } })).json()) as {
      termsRequired: boolean;
      texts: { kind: string; title: string; version: string }[];
    };
    expect(consents.termsRequired).toBe(true);
    const terms = consents.texts.find((t) => t.kind === 'terms')!;
    expect(await page.locator('.consent-document').innerText()).toContain(`${terms.title}, versão ${terms.version}`);
    // And the text itself, as GET /documents/termos-de-uso answers it now.
    const document = (await (
      await fetch(`${server.url}/api/v1/documents/termos-de-uso`, { headers: { cookie: traderCookie } })
    ).json()) as {
      version: string;
      body: string;
    };
    expect(document.version).toBe(terms.version);
    const shown = page.locator('.document-text[data-slug="termos-de-uso"]');
    await shown.waitFor();
    expect(await shown.getAttribute('data-version')).toBe(terms.version);
    expect(await shown.locator('.document-body').innerText()).toBe(document.body.trim());
    expect(await page.getByRole('navigation').count()).toBe(0);
    await screenshot(page, 'consent');
    expect(await accessibilityProblems(page)).toEqual([]);
    // Refusing keeps the person signed in, on this page only (they can sign out).
    await page.getByRole('button', { name: 'Não aceito' }).click();
    await poll(() => page.locator('p.notice[role="status"]').count()).toBe(1);
    expect(await page.locator('p.notice').innerText()).toMatch(/^Você não aceitou os termos de uso/);
    expect(await page.getByRole('button', { name: 'Sair' }).isVisible()).toBe(true);
    expect(await page.getByRole('navigation').count()).toBe(0);
    await page.goto(`${server.url}/backtest`);
    await page.getByRole('heading', { name: 'Termos de uso' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Backtest' }).count()).toBe(0);
    // The same page in English.
    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { name: 'Terms of use' }).waitFor();
    expect(await page.locator('.consent-document').innerText()).toContain(`${terms.title}, version ${terms.version}`);
    expect(await page.getByRole('button', { name: 'I agree to the terms of use' }).isVisible()).toBe(true);
    await page.getByLabel('Language').selectOption('pt-BR');
    // Agreeing, with marketing messages opted in: the app opens.
    await page.getByLabel(/Também quero receber mensagens de marketing/).check();
    await page.getByRole('button', { name: 'Eu aceito os termos de uso' }).click();
    await page.getByRole('navigation').waitFor();
    const after = (await (await fetch(`${server.url}/api/v1/consents`, { headers: { cookie: traderCookie } })).json()) as {
      termsRequired: boolean;
      current: { kind: string; granted: boolean }[];
    };
    expect(after.termsRequired).toBe(false);
    expect(after.current.map((c) => `${c.kind} ${c.granted}`).sort()).toEqual(['marketing true', 'terms true']);
    await page.goto(`${server.url}/bots`);
    const row = page.locator(`tr[data-bot-id="${bot.id}"]`);
    await poll(() => row.count()).toBe(1);
    await poll(() => row.locator('td').first().innerText()).toContain(bot.name);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Robôs');
    // P&L and positions come from the bot's details: a number in USDT, in Brazilian format.
    await poll(() => row.locator('td.profit-total').innerText()).toMatch(/^[+-]?\d{1,3}(\.\d{3})*,\d{2} USDT$/);
    // P&L today: the API's (bot_details: the trades closed since 00:00 UTC), with its window said above the table.
    const details = (await (await fetch(`${server.url}/api/v1/bots/${bot.id}`, { headers: { cookie: traderCookie } })).json()) as {
      trades: { today: { since: string; profitQuote: number } };
    };
    expect(await row.locator('td.profit-today').innerText()).toBe(
      formatQuote({ language: 'pt-BR', timeZone: 'America/Sao_Paulo' }, details.trades.today.profitQuote, { signed: true }),
    );
    expect(await page.locator('.profit-today-note').innerText()).toBe(
      `Resultado hoje: as operações fechadas desde ${formatDateTime({ language: 'pt-BR', timeZone: 'America/Sao_Paulo' }, details.trades.today.since)} (00:00 UTC).`,
    );
    await screenshot(page, 'bots');
    expect(await accessibilityProblems(page)).toEqual([]);
    // The plan page names the subscription's status in Portuguese (the API's code: active…).
    const plan = (await (await fetch(`${server.url}/api/v1/plan`, { headers: { cookie: traderCookie } })).json()) as {
      subscription: { status: string };
    };
    const statusWords: Record<string, string> = { active: 'ativa', trialing: 'em teste', past_due: 'em atraso', canceled: 'cancelada' };
    await page.getByRole('link', { name: 'Plano' }).click();
    const status = page.locator('.metric', { has: page.locator('dt', { hasText: 'Assinatura' }) }).locator('dd');
    await poll(() => status.innerText()).toMatch(new RegExp(`^${statusWords[plan.subscription.status] ?? 'none'}\\b`));
    session = await context.storageState();
    await context.close();
  });

  it("opens a bot's page: the chart is drawn with its trades as markers, and the trades table", async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/bots`);
    await page.getByRole('link', { name: bot.name }).click();
    await page.waitForURL(`${server.url}/bots/${bot.id}`);
    const chart = page.locator('.price-chart');
    await chart.waitFor();
    await poll(() => chart.getAttribute('data-markers-drawn')).not.toBeNull();
    expect(Number(await chart.getAttribute('data-candles'))).toBeGreaterThan(900);
    // Every trade opened in the window has its buy marker (and its sell when it closed there).
    expect(Number(await chart.getAttribute('data-markers-drawn'))).toBeGreaterThanOrEqual(tradesInWindow);
    // lightweight-charts draws on canvases: they are there and not blank.
    expect(await chart.locator('canvas').count()).toBeGreaterThan(2);
    const painted = await chart.evaluate((box) =>
      [...box.querySelectorAll('canvas')].some((canvas) => {
        const ctx = canvas.getContext('2d');
        if (!ctx || canvas.width === 0) return false;
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
      }),
    );
    expect(painted).toBe(true);
    await screenshot(page, 'bot-page-window', { fullPage: false });
    // The trades table: every trade of the first page, and filtering narrows it.
    const rows = page.locator('.trades tbody tr');
    await poll(() => rows.count()).toBeGreaterThan(0);
    const all = await rows.count();
    // Exit reasons in Portuguese, not the API's codes (take_profit…).
    const reasons = new Set(await page.locator('.trades td[data-label="Motivo da saída"]').allInnerTexts());
    expect(reasons.size).toBeGreaterThan(0);
    for (const reason of reasons) expect(['take profit', 'stop loss', 'sinal de saída', 'saída forçada', '—']).toContain(reason);
    await page.locator('.filters select[name="result"]').selectOption('wins');
    const wins = await rows.count();
    expect(wins).toBeLessThan(all);
    for (const cell of await page.locator('.trades tbody td[data-label="Resultado"]').allInnerTexts()) expect(cell).toMatch(/^\+/);
    // CSV export of what is filtered.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Exportar CSV/ }).click()]);
    const csv = await (await download.createReadStream()).toArray();
    const lines = Buffer.concat(csv).toString('utf8').trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,symbol,status,opened_at,closed_at,amount_base,open_price_quote,close_price_quote,fee_quote,profit_quote,profit_pct,exit_reason',
    );
    expect(lines).toHaveLength(wins + 1);
    await screenshot(page, 'bot-page');
    expect(await accessibilityProblems(page)).toEqual([]);
    await context.close();
  });

  it('starts and stops a bot only after confirming', async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/bots`);
    const row = page.locator(`tr[data-bot-id="${bot.id}"]`);
    // Whichever state the demo left it in: the action it offers first, then back.
    const [first, firstStatus, second, secondStatus] =
      bot.status === 'running' ? ['Parar', 'parado', 'Iniciar', 'rodando'] : ['Iniciar', 'rodando', 'Parar', 'parado'];
    const before = await row.locator('.badge').innerText();
    await row.getByRole('button', { name: `${first} ${bot.name}` }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.innerText()).toContain(`${first} ${bot.name}?`);
    await dialog.getByRole('button', { name: 'Cancelar' }).click();
    await poll(() => dialog.count()).toBe(0);
    expect(await row.locator('.badge').innerText()).toBe(before);
    await row.getByRole('button', { name: `${first} ${bot.name}` }).click();
    await screenshot(page, 'confirm-action');
    await page.getByRole('dialog').getByRole('button', { name: first, exact: true }).click();
    await poll(() => row.locator('.badge').innerText()).toBe(firstStatus);
    expect(await page.locator('p.notice').innerText()).toContain(firstStatus);
    await row.getByRole('button', { name: `${second} ${bot.name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: second, exact: true }).click();
    await poll(() => row.locator('.badge').innerText()).toBe(secondStatus);
    await context.close();
  });

  it('runs a backtest from the form and shows its metrics, equity and trades on the chart', async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/backtest`);
    await page.getByLabel('Estratégia').selectOption('rsi');
    // The strategy's defaults are in its fields, with their ranges beside them.
    expect(await page.getByLabel('rsiPeriod').inputValue()).toBe('14');
    expect(await page.locator('fieldset').innerText()).toContain('2 – 500');
    await page.getByLabel('Tempo gráfico').selectOption('1h');
    await page.getByRole('button', { name: 'Rodar backtest' }).click();
    const metrics = page.locator('dl.metrics');
    await metrics.waitFor({ timeout: 60_000 });
    const text = await metrics.innerText();
    expect(text).toContain('Retorno total');
    expect(text).toMatch(/Operações\s+\d+/);
    const trades = Number(/Operações\s+(\d+)/.exec(text)![1]);
    expect(trades).toBeGreaterThan(0);
    await page.locator('.equity-chart canvas').first().waitFor();
    const chart = page.locator('.backtest-result .price-chart');
    await poll(() => chart.getAttribute('data-markers-drawn'), { timeout: 30_000 }).not.toBeNull();
    expect(Number(await chart.getAttribute('data-markers-drawn'))).toBe(trades * 2);
    expect(await page.locator('.backtest-result tbody tr').count()).toBe(trades);
    await screenshot(page, 'backtest');
    expect(await accessibilityProblems(page)).toEqual([]);
    await context.close();
  });

  it('runs a backtest on candles uploaded as CSV and draws its trades on them', async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/backtest`);
    await page.getByLabel('Estratégia').selectOption('rsi');
    // 2,000 hours of the bundled BTC/USDT file (with its header line).
    const lines = fs.readFileSync(path.resolve('candles', 'binance_BTCUSDT_1h.csv'), 'utf8').split('\n').slice(0, 2_001);
    await page.getByLabel('Tempo gráfico').selectOption('1h');
    await page
      .getByLabel(/Ou seus próprios candles/)
      .setInputFiles({ name: 'btc-1h.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    await page.getByRole('button', { name: 'Rodar backtest' }).click();
    const metrics = page.locator('dl.metrics');
    await metrics.waitFor({ timeout: 60_000 });
    const text = await metrics.innerText();
    expect(text).toMatch(/Candles\s+2\.000/);
    const trades = Number(/Operações\s+(\d+)/.exec(text)![1]);
    expect(trades).toBeGreaterThan(0);
    const chart = page.locator('.backtest-result .price-chart');
    await poll(() => chart.getAttribute('data-markers-drawn'), { timeout: 30_000 }).not.toBeNull();
    expect(Number(await chart.getAttribute('data-candles'))).toBe(2_000);
    expect(Number(await chart.getAttribute('data-markers-drawn'))).toBe(trades * 2);
    await screenshot(page, 'backtest-upload');
    await context.close();
  });

  it('switches language, and the choice stays after a reload', async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/bots`);
    await page.getByRole('heading', { name: 'Robôs' }).waitFor();
    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { name: 'Bots' }).waitFor();
    expect(await page.getByRole('navigation').innerText()).toMatch(/Bots\s+Backtest\s+Profit\s+Assistant\s+Plan/);
    expect(await page.evaluate('document.documentElement.lang')).toBe('en');
    // Money in English separators now.
    await poll(() => page.locator(`tr[data-bot-id="${bot.id}"] td.profit-total`).innerText()).toMatch(
      /^[+-]?\d{1,3}(,\d{3})*\.\d{2} USDT$/,
    );
    await page.reload();
    await page.getByRole('heading', { name: 'Bots' }).waitFor();
    await page.getByLabel('Language').selectOption('pt-BR');
    await page.getByRole('heading', { name: 'Robôs' }).waitFor();
    await context.close();
  });

  it("chooses a time zone: the page's times follow it, the choice stays after a reload, and the browser's comes back", async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/bots/${bot.id}`);
    const note = page.locator('[data-time-zone]').first();
    await poll(() => note.getAttribute('data-time-zone')).toBe('America/Sao_Paulo');
    const firstRow = page.locator('.trades tbody tr.trade-row').first();
    await firstRow.waitFor();
    const inSaoPaulo = await firstRow.innerText();
    await note.getByRole('button', { name: 'Mudar' }).click();
    await note.getByLabel('Fuso horário').selectOption('Asia/Tokyo');
    await poll(() => note.getAttribute('data-time-zone')).toBe('Asia/Tokyo');
    expect(await note.innerText()).toContain('sua escolha');
    // Twelve hours apart: the same trade's time reads differently.
    await poll(() => firstRow.innerText()).not.toBe(inSaoPaulo);
    await page.reload();
    await poll(() => page.locator('[data-time-zone]').first().getAttribute('data-time-zone')).toBe('Asia/Tokyo');
    await page.locator('[data-time-zone]').first().getByRole('button', { name: 'Mudar' }).click();
    await page.locator('[data-time-zone]').first().getByLabel('Fuso horário').selectOption('');
    await poll(() => page.locator('[data-time-zone]').first().getAttribute('data-time-zone')).toBe('America/Sao_Paulo');
    await poll(() => page.locator('.trades tbody tr.trade-row').first().innerText()).toBe(inSaoPaulo);
    await context.close();
  });

  it("another trader's bot by its URL is not found, said in words", async () => {
    const { context, page } = await newPage();
    await signIn(page, otherTrader);
    await agreeToTerms(page);
    await page.getByRole('heading', { name: 'Robôs' }).waitFor();
    await page.goto(`${server.url}/bots/${bot.id}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/Algo deu errado: .*(not found|No bot|não)/i);
    expect(await page.locator('.price-chart').count()).toBe(0);
    await context.close();
  });

  it('a newcomer creates an account from the sign-in page: a taken email said as such, then the terms, then an empty account', async () => {
    const { context, page } = await newPage();
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Primeira vez? Crie uma conta' }).click();
    await page.getByRole('heading', { name: 'Crie sua conta no BotCriptoFy' }).waitFor();
    await page.getByLabel('Seu nome').fill('Maria Souza');
    await page.getByLabel('E-mail').fill(trader.email.toUpperCase());
    await page.getByLabel('Senha').fill('uma senha bem longa');
    await page.getByRole('button', { name: 'Criar conta' }).click();
    const alert = page.locator('form p.error[role="alert"]');
    await poll(() => alert.innerText()).toBe('Já existe uma conta com este e-mail: entre com ela.');
    await screenshot(page, 'sign-up');
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByLabel('E-mail').fill('maria.souza.browser@example.com');
    await page.getByRole('button', { name: 'Criar conta' }).click();
    await agreeToTerms(page);
    await page.locator('p.empty').waitFor();
    expect(await page.locator('p.empty').innerText()).toMatch(/^Nenhum robô ainda/);
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
    expect(me).toMatchObject({ kind: 'trader', name: 'Maria Souza', email: 'maria.souza.browser@example.com', plan: 'free' });
    await context.close();
  });

  it('says at sign-in what was wrong: the email or password, then too many attempts (wait), never "session ended"', async () => {
    // A department head no other test signs in as: ten failed attempts lock the account for 15 minutes.
    const head = server.signIns.find((s) => !['ceo', 'trader', 'finance', 'support'].includes(s.who))!;
    const { context, page } = await newPage();
    await signIn(page, { email: head.email, password: `${head.password}-wrong` });
    const alert = page.locator('form p.error[role="alert"]');
    await poll(() => alert.innerText()).toBe('E-mail ou senha incorretos.');
    await screenshot(page, 'signin-wrong-password');
    // Nine more wrong passwords (the account's limit is ten in 15 minutes), then the page is told to wait.
    for (let i = 0; i < 9; i++) {
      const response = await fetch(`${server.url}/api/v1/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: server.url },
        body: JSON.stringify({ email: head.email, password: `${head.password}-wrong` }),
      });
      expect(response.status).toBe(401);
    }
    await page.getByLabel('Senha').fill(head.password);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await poll(() => alert.innerText()).toMatch(/^Tentativas de entrada demais: aguarde (\d+ (s|min)|um instante) e tente de novo\.$/);
    expect(await page.getByRole('heading', { name: 'Entrar no BotCriptoFy' }).isVisible()).toBe(true);
    await context.close();
  });

  it('is usable on a phone: the menu folds and the bots are cards', async () => {
    const { context, page } = await newPage({ viewport: { width: 390, height: 844 }, signedIn: true });
    await page.goto(`${server.url}/bots`);
    const row = page.locator(`tr[data-bot-id="${bot.id}"]`);
    await row.waitFor();
    expect(await page.getByRole('navigation').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await page.getByRole('navigation').isVisible()).toBe(true);
    // No horizontal scrolling: the page is as wide as the phone.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'phone-bots');
    expect(await accessibilityProblems(page)).toEqual([]);

    // The bot's chart keeps its own layout on a phone (the rows-as-cards rule is for the app's
    // tables, not lightweight-charts' layout table): the panes (candles, RSI, MACD) stacked in
    // the box, each as wide as the box minus the price scale beside it, none below the box.
    await page.goto(`${server.url}/bots/${bot.id}`);
    const chart = page.locator('.price-chart');
    await poll(() => chart.getAttribute('data-candles')).toMatch(/^[1-9]\d*$/);
    const layout = await chart.evaluate((box) => {
      const outer = box.getBoundingClientRect();
      const rows = [...box.querySelectorAll('table tr')].map((tr) => {
        const cells = [...tr.children].map((td) => td.getBoundingClientRect());
        return { top: tr.getBoundingClientRect().top, bottom: tr.getBoundingClientRect().bottom, widths: cells.map((c) => c.width) };
      });
      const panes = [...box.querySelectorAll('table tr td:nth-child(2) canvas')].map((c) => c.getBoundingClientRect());
      return {
        width: outer.width,
        top: outer.top,
        bottom: outer.bottom,
        rows,
        panes: panes.map((c) => ({ width: c.width, bottom: c.bottom })),
      };
    });
    // Candles, RSI and MACD panes (with separators and the time axis as rows between and under them).
    const paneRows = layout.rows.filter((row) => row.widths.length === 3 && row.bottom - row.top > 40);
    expect(paneRows.length, JSON.stringify(layout)).toBe(3);
    for (const row of layout.rows) {
      expect(row.bottom, JSON.stringify(layout)).toBeLessThanOrEqual(layout.bottom + 1);
      expect(
        row.widths.reduce((sum, w) => sum + w, 0),
        JSON.stringify(layout),
      ).toBeLessThanOrEqual(layout.width + 1);
    }
    for (const pane of layout.panes) {
      expect(pane.width, JSON.stringify(layout)).toBeGreaterThan(layout.width * 0.6);
      expect(pane.bottom).toBeLessThanOrEqual(layout.bottom + 1);
    }
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await chart.scrollIntoViewIfNeeded();
    await screenshot(page, 'phone-bot-chart', { fullPage: false });
    await context.close();
  });

  it('draws the profit bars by day, week and month (no page error from the time axis)', async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/profit`);
    await page.getByRole('heading', { name: 'Lucro' }).waitFor();
    /** Pixels of the chart's canvases in the gain or loss colour: a chart that failed to paint has none. */
    const barPixels = () =>
      page.locator('.profit-chart').evaluate((box) => {
        let count = 0;
        for (const canvas of box.querySelectorAll('canvas')) {
          if (canvas.width === 0 || canvas.height === 0) continue;
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 0; i < pixels.length; i += 4) {
            const [r, g, b] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
            if ((r === 22 && g === 163 && b === 74) || (r === 220 && g === 38 && b === 38)) count++;
          }
        }
        return count;
      });
    for (const [button, rows, name] of [
      ['Mês', 12, 'month'],
      ['Semana', 12, 'week'],
      ['Dia', 14, 'day'],
    ] as const) {
      await page.getByRole('button', { name: button, exact: true }).click();
      await poll(() => page.locator('.profit-chart').getAttribute('data-bars')).toBe(String(rows));
      // The seeded trader closed trades in the last months: the month view has bars to paint.
      if (name === 'month') await poll(barPixels).toBeGreaterThan(0);
      // Two frames: the chart paints (and would throw from its time axis) before the test looks.
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      await screenshot(page, `profit-${name}`);
    }
    // The page's errors ("Invalid time value" from a time axis) fail the test when the context closes.
    await context.close();
  });
  it("shows a bot's status change live, without a reload (GET /events)", async () => {
    const { context, page } = await newPage({ signedIn: true });
    await page.goto(`${server.url}/bots`);
    const row = page.locator(`tr[data-bot-id="${bot.id}"]`);
    await row.waitFor();
    // What the page's event stream gets, seen from the browser, for the failure message if it never opens.
    const eventsRequests: string[] = [];
    page.on('requestfailed', (request) => {
      if (request.url().includes('/api/v1/events')) eventsRequests.push(`failed: ${request.failure()?.errorText}`);
    });
    page.on('response', (response) => {
      if (response.url().includes('/api/v1/events')) eventsRequests.push(`${response.status()} ${response.headers()['content-type']}`);
    });
    try {
      await poll(() => page.locator('.badge.live').getAttribute('data-live'), { timeout: 15_000 }).toBe('true');
    } catch (error) {
      const probe = new AbortController();
      setTimeout(() => probe.abort(), 3_000).unref();
      const direct = await fetch(`${server.url}/api/v1/events`, { headers: { cookie: traderCookie }, signal: probe.signal })
        .then(async (r) => `${r.status} ${r.headers.get('content-type')} ${await r.text().catch((e: Error) => e.name)}`)
        .catch((e: Error) => `${e.name}: ${e.message}`);
      throw new Error(`the page's event stream never opened; the browser saw [${eventsRequests.join('; ')}]; a direct request: ${direct}`, {
        cause: error,
      });
    }
    const before = await row.locator('.badge').innerText();
    const action = before === 'rodando' ? 'stop' : 'start';
    const act = (which: string) =>
      fetch(`${server.url}/api/v1/bots/${bot.id}/${which}`, {
        method: 'POST',
        headers: { cookie: traderCookie, origin: server.url, 'content-type': 'application/json' },
        body: '{}',
      });
    // Another tab (the API) changes the bot; this page hears of it and shows it.
    expect((await act(action)).status).toBe(200);
    await poll(() => row.locator('.badge').innerText(), { timeout: 20_000 }).toBe(action === 'start' ? 'rodando' : 'parado');
    expect((await act(action === 'start' ? 'stop' : 'start')).status).toBe(200);
    await poll(() => row.locator('.badge').innerText(), { timeout: 20_000 }).toBe(before);
    await screenshot(page, 'live-status');
    await context.close();
  });

  it("draws a paper bot's trade live, without a reload: the marker on the chart and the row in the table (GET /events), times in the browser's zone", async () => {
    // A paper bot on the replayed market whose rule buys on the first bar it sees: RSI(14) below
    // 99 (the bundled 5m series, looped by the replay, never goes above 89). Its first tick after
    // start acts on the last closed 5m bar (the warm-up leaves it for the tick), so a trade is
    // recorded within a tick, whatever the time.
    const asHolder = (path: string, init: { method?: string; body?: unknown } = {}) =>
      fetch(`${server.url}/api/v1${path}`, {
        method: init.method ?? 'GET',
        headers: { cookie: holder!.cookie, origin: server.url, 'content-type': 'application/json' },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    // The holder's plan limits running bots: one of theirs stops if the plan has no room left.
    const plan = (await (await asHolder('/plan')).json()) as { limits: { botsAllowed: number } };
    const running = ((await (await asHolder('/bots')).json()) as { bots: ApiBot[] }).bots.filter((b) => b.status === 'running');
    for (const extra of running.slice(0, Math.max(0, running.length - plan.limits.botsAllowed + 1)))
      expect((await asHolder(`/bots/${extra.id}/stop`, { method: 'POST', body: {} })).status).toBe(200);
    const created = await asHolder('/bots', {
      method: 'POST',
      body: {
        name: 'live-rsi',
        strategy: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '5m',
        stakeQuote: 1000,
        parameters: { rsiBuy: 99, rsiSell: 99.9 },
      },
    });
    expect(created.status).toBe(201);
    const live = ((await created.json()) as { bot: ApiBot }).bot;
    // The offline demo's paper bots trade the replayed market, which writes the bars it closes
    // into the candle cache the chart reads (the bot's first read writes the last 1,200): the
    // chart ends at the last closed bar, and the trade falls in the bar forming after it (drawn in
    // its own slot). The server ticks its bots every second (BOT_TICK_INTERVAL_S=1), so the trade
    // comes within a couple of seconds of the start, whatever the time within a bar.

    // Tokyo's clock in this browser: the page says so and shows times in it.
    const context = await browser.newContext({ locale: 'pt-BR', timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    current = page;
    const [name, value] = holder!.cookie.split('=');
    await context.addCookies([{ name: name!, value: value!, url: server.url }]);
    await page.goto(`${server.url}/bots/${live.id}`);
    const chart = page.locator('.price-chart');
    await poll(() => chart.getAttribute('data-markers-drawn'), { timeout: 30_000 }).toBe('0');
    expect(await page.locator('.trades tbody tr').count()).toBe(0);
    expect(await page.locator('[data-time-zone]').getAttribute('data-time-zone')).toBe('Asia/Tokyo');
    expect(await page.locator('[data-time-zone]').innerText()).toContain('Asia/Tokyo');
    await poll(() => page.locator('.badge.live').getAttribute('data-live'), { timeout: 15_000 }).toBe('true');
    // A mark on this document: a reload would lose it.
    await page.evaluate('window.stillTheSamePage = true');

    // Started from the page (after confirming); the bot's tick records a trade; the stream brings it.
    await page.getByRole('button', { name: `Iniciar ${live.name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Iniciar', exact: true }).click();
    const rows = page.locator('.trades tbody tr.trade-row');
    await poll(() => rows.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await poll(() => chart.getAttribute('data-markers-drawn'), { timeout: 10_000 }).not.toBe('0');
    expect(await page.evaluate('window.stillTheSamePage')).toBe(true);
    const { trades } = (await (await asHolder(`/bots/${live.id}/trades`)).json()) as { trades: (ApiTrade & { id: string })[] };
    expect(trades.length).toBeGreaterThan(0);
    const first = trades.at(-1)!;
    expect(first.symbol).toBe('BTC/USDT');
    const row = page.locator(`tr[data-trade-id="${first.id}"]`);
    expect(await row.count()).toBe(1);
    // Its time as Tokyo reads it (pt-BR short date and time).
    const tokyo = new Intl.DateTimeFormat('pt-BR', { timeZone: 'Asia/Tokyo', dateStyle: 'short', timeStyle: 'short' });
    expect(await row.locator('td[data-label="Abertura"]').innerText()).toBe(tokyo.format(new Date(first.openedAt)));
    // A marker for each side of each trade the bot has made so far (its buy, and a sell once closed).
    const sides = trades.reduce((n, t) => n + (t.closedAt ? 2 : 1), 0);
    await poll(() => chart.getAttribute('data-markers-drawn')).toBe(String(sides));
    // The candles the chart reads reach the bar closed before the trade: the replayed market wrote
    // them into the cache when the bot read it (no import here; the seed's cache ends at the seed).
    const barMs = 300_000;
    const candles = (await (await asHolder('/candles?symbol=BTC%2FUSDT&timeframe=5m')).json()) as { candles: { time: string }[] };
    expect(Date.parse(candles.candles.at(-1)!.time)).toBeGreaterThanOrEqual(Math.floor(Date.parse(first.openedAt) / barMs) * barMs - barMs);
    expect(Number(await chart.getAttribute('data-candles'))).toBeGreaterThan(0);
    await screenshot(page, 'live-trade');
    expect((await asHolder(`/bots/${live.id}/stop`, { method: 'POST', body: {} })).status).toBe(200);
    await context.close();
  });

  it('staff: the executive report with its figures and its mark, the support agent offline with the tool it used, the audit chain and security events; a refund asked of the finance agent', async () => {
    const ceo = server.signIns.find((s) => s.who === 'ceo')!;
    const { context, page } = await newPage();
    await signIn(page, ceo);
    await agreeToTerms(page);
    await page.getByRole('link', { name: 'Relatório' }).click();
    await page.getByLabel('Só o modelo de texto (sem IA)').check();
    const mark = page.locator('[data-summary-from]');
    await mark.waitFor({ timeout: 60_000 });
    expect(await mark.getAttribute('data-summary-from')).toBe('template');
    expect(await page.locator('.report-text').innerText()).toMatch(/MRR/);
    expect(await page.locator('dl.kpis').innerText()).toMatch(/MRR\s+R\$\s?[\d.]+,\d{2}/);
    // Every figure fits its card at 1280 px (ARR ran over its border).
    const overflowing = await page
      .locator('dl.kpis dd')
      .evaluateAll((cells) => cells.filter((dd) => dd.scrollWidth > dd.clientWidth + 1).map((dd) => dd.textContent));
    expect(overflowing).toEqual([]);
    // The revenue/MRR chart (the API's revenue.months): 6 months for the daily report, its MRR line painted.
    const revenue = page.locator('.revenue-chart');
    await poll(() => revenue.getAttribute('data-months')).toBe('6');
    expect(await page.locator('.chart-figure figcaption', { hasText: 'MRR e receita' }).innerText()).toBe('MRR e receita, últimos 6 meses');
    await poll(() =>
      revenue.evaluate((box) => {
        let line = 0;
        for (const canvas of box.querySelectorAll('canvas')) {
          if (canvas.width === 0 || canvas.height === 0) continue;
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === 124 && pixels[i + 1] === 58 && pixels[i + 2] === 237) line++;
        }
        return line;
      }),
    ).toBeGreaterThan(0);
    await screenshot(page, 'staff-report');
    await screenshot(page, 'staff-report-window', { fullPage: false });
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('link', { name: 'Agentes' }).click();
    await page.getByLabel('Agente').selectOption('support');
    await page.getByLabel(/^Offline/).check();
    await page.getByLabel('Mensagem').fill('quantos chamados abertos temos?');
    await page.getByRole('button', { name: 'Enviar' }).click();
    const turn = page.locator('.turn').first();
    await turn.waitFor({ timeout: 60_000 });
    expect(await turn.locator('[data-answer-from]').getAttribute('data-answer-from')).toBe('template');
    expect(await turn.locator('.tools').innerText()).toContain('open_tickets');
    await screenshot(page, 'staff-agent');

    // The refund the finance head decides in the next test: the CEO asks the finance agent for it
    // (the payment Stripe reported paid, as set up beside this test), which becomes an approval.
    await page.getByLabel('Agente').selectOption('finance');
    await page.getByLabel('Mensagem').fill(`reembolse o pagamento ${refund!.paymentId}, motivo: cobrança em duplicidade`);
    await page.getByRole('button', { name: 'Enviar' }).click();
    await poll(() => page.locator('.turn').count(), { timeout: 60_000 }).toBe(2);
    expect(await page.locator('.turn').first().innerText()).toContain('refund_payment (awaiting_approval)');

    await page.getByRole('link', { name: 'Auditoria' }).click();
    await page.getByRole('button', { name: 'Verificar cadeia' }).click();
    await poll(() => page.locator('p.notice[role="status"]').innerText(), { timeout: 30_000 }).toMatch(
      /^Cadeia íntegra: [\d.]+ registros verificados\.$/,
    );
    // A filter nothing matches: the audit log's own empty state.
    await page.getByLabel('Ferramenta').fill('no_such_tool');
    await page.getByRole('button', { name: 'Aplicar' }).click();
    await poll(() => page.locator('main p.empty').innerText()).toBe('Nenhum registro de auditoria encontrado.');

    // The company's status: the queue table's columns in Portuguese.
    await page.getByRole('link', { name: 'Situação' }).click();
    await poll(() => page.locator('main table thead').innerText()).toMatch(/Aguardando\s+Adiados\s+Em execução\s+Com falha/i);

    // Security events (GET /security-events): counts by type and the latest, filtered by type and hours.
    await page.getByRole('link', { name: 'Eventos de segurança' }).click();
    await page.getByRole('heading', { name: 'Eventos de segurança' }).waitFor();
    await page.getByLabel('Últimas horas').fill('720');
    await page.getByRole('button', { name: 'Aplicar' }).click();
    const totalOf = async () => Number(await page.locator('[data-events-total]').getAttribute('data-events-total'));
    await poll(() => page.locator('p[data-events-total]').innerText()).toMatch(/eventos nas últimas 720 horas$/);
    const all = await totalOf();
    expect(all).toBeGreaterThan(0);
    const byType = page.locator('table.security-by-type tbody tr');
    expect(await byType.count()).toBeGreaterThan(0);
    const type = (await byType.first().getAttribute('data-type'))!;
    const ofType = Number((await byType.first().locator('td.num').innerText()).replace(/\D/g, ''));
    expect(await page.locator('table.security-latest tbody tr').count()).toBe(Math.min(10, all));
    await page.getByLabel('Tipo').selectOption(type);
    await page.getByRole('button', { name: 'Aplicar' }).click();
    await poll(totalOf).toBe(ofType);
    for (const cell of await page.locator('table.security-latest tbody td[data-label="Tipo"]').allInnerTexts()) expect(cell).toBe(type);
    await screenshot(page, 'staff-security-events');
    expect(await accessibilityProblems(page)).toEqual([]);
    await context.close();
  });

  it("staff see only the pages their role may use (GET /me's access): the support head has no report, status, audit or security events", async () => {
    const head = server.signIns.find((s) => s.who === 'support')!;
    const { context, page } = await newPage();
    await signIn(page, head);
    await agreeToTerms(page);
    const nav = page.getByRole('navigation');
    await nav.waitFor();
    expect((await nav.getByRole('link').allInnerTexts()).map((text) => text.trim())).toEqual([
      'Robôs',
      'Backtest',
      'Lucro',
      'Aprovações',
      'Agentes',
      'Segurança',
    ]);
    // Its agents: the ones it may ask (not the CEO's).
    await nav.getByRole('link', { name: 'Agentes' }).click();
    const agents = await page.getByLabel('Agente').locator('option').allInnerTexts();
    expect(agents).toContain('support');
    expect(agents).not.toContain('ceo');
    // A page of another role by its URL says so, instead of a refusal from the API.
    await page.goto(`${server.url}/report`);
    await poll(() => page.locator('main').innerText()).toBe('A página /report não está entre as que o seu cargo pode usar.');
    await screenshot(page, 'staff-support-head-menu');
    await context.close();
  });

  it('the finance head approves the pending refund: refused without a second factor, then TOTP turned on, approved, and the refund made on Stripe', async () => {
    const head = server.signIns.find((s) => s.who === 'finance')!;
    const { context, page } = await newPage();
    await signIn(page, head);
    await agreeToTerms(page);
    await page.getByRole('link', { name: 'Aprovações' }).click();
    // The refund the CEO asked the finance agent for in the test before (its summary names the payment).
    const row = page.locator('tr[data-approval-id]', { hasText: refund!.paymentId });
    await row.waitFor();
    expect(await row.locator('td[data-label="Ação"]').innerText()).toBe('refund_payment');
    expect(await row.locator('td[data-label="Quem decide"]').innerText()).toBe('finance');
    const approvalId = (await row.getAttribute('data-approval-id'))!;
    await row.getByRole('button', { name: 'Aprovar' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Aprovar' }).click();
    // The finance head has no second factor yet: the API's refusal, in its words; nothing refunded.
    await poll(() => page.locator('p.error[role="alert"]').innerText()).toMatch(/second factor|TOTP/);
    expect(stripe.refunds.size).toBe(0);

    // So the head turns on the second factor (the code from an authenticator: computed here from the key shown)…
    await page.getByRole('link', { name: 'Segurança', exact: true }).click();
    await page.getByLabel('Senha').fill(head.password);
    await page.getByRole('button', { name: 'Ativar o segundo fator' }).click();
    const uri = await page.getByRole('link', { name: 'otpauth' }).getAttribute('href');
    expect(await page.locator('[data-totp-secret]').innerText()).toMatch(/^[A-Z2-7]{16,}$/);
    await page.getByLabel('Confirme com um código do aplicativo').fill(URI.parse(uri!).generate());
    await page.getByRole('button', { name: 'Confirmar' }).click();
    await page.getByText('Segundo fator TOTP ativo').waitFor();
    // …and approves: the refund is made once on Stripe and leaves the queue.
    await page.getByRole('link', { name: 'Aprovações' }).click();
    await row.waitFor();
    const count = await page.locator('tr[data-approval-id]').count();
    await row.getByRole('button', { name: 'Aprovar' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.innerText()).toContain(refund!.paymentId);
    await dialog.getByLabel('Observação (opcional)').fill('cobrança em duplicidade conferida');
    await dialog.getByRole('button', { name: 'Aprovar' }).click();
    await poll(() => page.locator('main p[role="status"], main p[role="alert"]').first().innerText(), { timeout: 30_000 }).toMatch(
      /^Decidido: aprovada e executada/,
    );
    await poll(() => page.locator('tr[data-approval-id]').count()).toBe(count - 1);
    expect(await page.locator(`tr[data-approval-id="${approvalId}"]`).count()).toBe(0);
    expect([...stripe.refunds.values()].map((r) => [r['charge'], r['amount']])).toEqual([[refund!.charge, refund!.amountCents]]);
    await screenshot(page, 'staff-approvals');
    await context.close();

    // Signing in again now asks for the code: a wrong one is said to be wrong (not "session ended"), the right one lets in.
    const again = await newPage();
    await signIn(again.page, head);
    await again.page.getByLabel('Código do autenticador').waitFor();
    const totp = URI.parse(uri!);
    const wrong = String((Number(totp.generate()) + 500_000) % 1_000_000).padStart(6, '0');
    await again.page.getByLabel('Código do autenticador').fill(wrong);
    await again.page.getByRole('button', { name: 'Entrar' }).click();
    await poll(() => again.page.locator('form p.error[role="alert"]').innerText()).toMatch(/^Código incorreto ou expirado/);
    await screenshot(again.page, 'signin-wrong-code');
    await again.page.getByLabel('Código do autenticador').fill(totp.generate());
    await again.page.getByRole('button', { name: 'Entrar' }).click();
    await again.page.getByRole('link', { name: 'Aprovações' }).waitFor();
    await again.context.close();
  });

  it("force-exits a paper bot's open position only after confirming, and shows the P&L", async () => {
    const { context, page } = await newPage();
    const [name, value] = holder!.cookie.split('=');
    await context.addCookies([{ name: name!, value: value!, url: server.url }]);
    await page.goto(`${server.url}/bots`);
    const row = page.locator(`tr[data-bot-id="${holder!.bot.id}"]`);
    await row.waitFor();
    // The open position is shown, and the button offers to close it.
    await poll(() => row.locator('td[data-label="Posição aberta"]').innerText()).toContain(holder!.bot.positions[0]!.symbol);
    const button = row.getByRole('button', { name: `Saída forçada ${holder!.bot.name}` });
    await poll(() => button.isEnabled()).toBe(true);
    // Cancelled first: nothing happens.
    await button.click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.innerText()).toContain(holder!.bot.name);
    await dialog.getByRole('button', { name: 'Cancelar' }).click();
    await poll(() => dialog.count()).toBe(0);
    expect(await row.locator('td[data-label="Posição aberta"]').innerText()).toContain(holder!.bot.positions[0]!.symbol);
    // Confirmed: sold at the replayed market, the result in words with its P&L in USDT.
    await button.click();
    await screenshot(page, 'confirm-force-exit');
    await page.getByRole('dialog').getByRole('button', { name: 'Saída forçada', exact: true }).click();
    const notice = page.locator('p.notice[role="status"]');
    await poll(() => notice.count(), { timeout: 30_000 }).toBe(1);
    expect(await notice.innerText()).toMatch(
      new RegExp(
        `^Saída forçada: ${holder!.bot.positions[0]!.symbol.replace('/', '\\/')} vendida \\([+−-]?\\d{1,3}(\\.\\d{3})*,\\d{2} USDT\\)`,
      ),
    );
    await poll(() => row.locator('td[data-label="Posição aberta"]').innerText()).toBe('nenhuma');
    expect(await button.isDisabled()).toBe(true);
    const details = (await (
      await fetch(`${server.url}/api/v1/bots/${holder!.bot.id}`, { headers: { cookie: holder!.cookie } })
    ).json()) as { positions: unknown[] };
    expect(details.positions).toEqual([]);
    await screenshot(page, 'force-exit');
    await context.close();
  });
});
