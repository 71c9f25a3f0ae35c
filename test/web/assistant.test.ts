// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's Locator.innerText() (the text as laid out), not the DOM property
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, Request as BrowserRequest } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, buildDashboard, launchBrowser, screenshot, startDemoServer, type DemoServer } from '../support/web.ts';

// The trader's assistant in the dashboard (issue 22), in a real browser against a real
// `botcriptofy start` on the seeded demo company: a trader writes one sentence, sees the draft
// card, runs the year's backtest (figures and the equity beside buy-and-hold), sees that chart
// again after reloading the page, confirms "Start on paper" in the dialog, and has a paper bot.
// The trader's seeded bots are stopped first (the plan's running-bot limit), and the candle
// cache holds a laid-out year of BTC/USDT 1h bars.

const HOUR = 3_600_000;
/** A year of BTC/USDT 1h bars up to the last closed one: a steady rise with small waves (an RSI bot passes the 30 % drawdown review on it). */
const LAST_BAR = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const YEAR_BARS = 370 * 24;
const price = (i: number) => 30_000 * Math.exp(0.00008 * i) * (1 + 0.006 * Math.sin(i / 4));
const YEAR = Array.from({ length: YEAR_BARS }, (_, i) => {
  const open = price(Math.max(0, i - 1));
  const close = price(i);
  return [LAST_BAR - (YEAR_BARS - 1 - i) * HOUR, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
});

const poll = <T>(read: () => T | Promise<T>, timeout = 30_000) => expect.poll(read, { timeout, interval: 100 });

interface ApiBot {
  id: string;
  name: string;
  mode: string;
  status: string;
}

describe("the trader's assistant page", { timeout: 180_000 }, () => {
  let server: DemoServer;
  let browser: Browser;
  let trader: { email: string; password: string };
  let page: Page | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
    buildDashboard();
    server = await startDemoServer({
      env: { AUTH_SIGN_IN_LIMIT_PER_MINUTE: '100' },
      async prepare({ cli, signIns }) {
        const json = async <T>(...args: string[]): Promise<T> => {
          const result = await cli(...args, '--json');
          if (result.code !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
          return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;
        };
        const email = signIns.find((s) => s.who === 'trader')!.email;
        // Room under the plan's running-bot limit for the assistant's bot.
        for (const bot of (await json<{ bots: ApiBot[] }>('bots', 'list', '--as', email)).bots)
          if (bot.status === 'running') await json('bots', 'stop', bot.id, '--as', email);
        // No running bot reads the replayed BTC/USDT 1h market, which writes its bars into the
        // cache (the demo's bars loop once a year, and the seam's jump would be the backtest's
        // drawdown): the backtest reads the year laid below, and only it.
        const running = await json<{ bots: (ApiBot & { symbols: string[]; timeframe: string })[] }>(
          'bots',
          'list',
          '--status',
          'running',
          '--limit',
          '1000',
        );
        for (const bot of running.bots) if (bot.timeframe === '1h' && bot.symbols.includes('BTC/USDT')) await json('bots', 'stop', bot.id);
        const file = path.join(os.tmpdir(), `bcf-assistant-${process.pid}.csv`);
        fs.writeFileSync(file, `timestamp,open,high,low,close,volume\n${YEAR.map((row) => row.join(',')).join('\n')}\n`);
        const imported = await cli('data', 'import', file, '--pair', 'BTC/USDT', '--timeframe', '1h');
        fs.rmSync(file, { force: true });
        if (imported.code !== 0) throw new Error(`data import failed: ${imported.stderr}${imported.stdout}`);
      },
    });
    trader = server.signIns.find((s) => s.who === 'trader')!;
    // The terms of use agreed through the API (the dashboard's own consent flow is dashboard.test.ts's).
    const signIn = await fetch(`${server.url}/api/v1/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify(trader),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const agreed = await fetch(`${server.url}/api/v1/consents`, {
      method: 'POST',
      headers: { cookie, origin: server.url, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'terms', granted: true }),
    });
    expect(agreed.status).toBe(201);
  }, 480_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page && !page.isClosed())
      await screenshot(page, `failed-${ctx.task.name.replace(/\W+/g, '-')}`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('one sentence to a draft card, its backtest beside buy-and-hold, and a paper bot after the confirmation', async () => {
    const context = await browser.newContext({ locale: 'pt-BR', timezoneId: 'America/Sao_Paulo', viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/`);
    await page.getByLabel('E-mail').fill(trader.email);
    await page.getByLabel('Senha').fill(trader.password);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.waitForURL(`${server.url}/bots`);

    // In the trader's menu.
    await page.getByRole('navigation').getByRole('link', { name: 'Assistente' }).click();
    await page.waitForURL(`${server.url}/assistant`);
    await page.getByRole('heading', { name: 'Seu assistente de robôs' }).waitFor();
    await page.getByText('Nenhum rascunho aberto').waitFor();

    // The words, typed and sent with Enter (the box is labelled and reached by keyboard).
    const box = page.getByLabel('Mensagem para o seu assistente');
    await box.focus();
    await page.keyboard.type('quero um robô RSI no BTC de 1h com 100 USDT');
    await page.keyboard.press('Enter');
    const card = page.locator('article.draft-card');
    await card.getByRole('heading', { name: /Rascunho de robô: RSI BTC 1h/ }).waitFor();
    const fields = await card.locator('.draft-fields').innerText();
    expect(fields).toMatch(/rsi/);
    expect(fields).toContain('BTC/USDT');
    expect(fields).toMatch(/1h/);
    expect(fields).toMatch(/100,00/);
    expect(fields).toContain('simulado (paper)');
    expect(await page.locator('.conversation').innerText()).toContain('Aqui está o rascunho de “RSI BTC 1h”.');
    expect(await accessibilityProblems(page)).toEqual([]);

    // The year's backtest: its figures, and the chart of its equity beside buy-and-hold.
    await card.getByRole('button', { name: 'Backtest' }).click();
    const backtest = card.locator('.draft-backtest');
    await backtest.getByRole('heading', { name: 'Backtest do último ano' }).waitFor({ timeout: 60_000 });
    const figures = await backtest.innerText();
    expect(figures).toContain('Retorno total');
    expect(figures).toContain('Buy-and-hold');
    expect(figures).toMatch(/BTC\/USDT: [\d.]+ candles/);
    const chart = backtest.locator('.beside-hold-chart');
    await chart.waitFor();
    const points = Number(await chart.getAttribute('data-points'));
    expect(points).toBeGreaterThan(20);
    await poll(() => chart.locator('canvas').count()).toBeGreaterThan(0);

    // A reload brings the open draft back with its chart: the curves are read again, no backtest is run again.
    const posted: string[] = [];
    const onRequest = (request: BrowserRequest) => {
      if (request.method() !== 'GET') posted.push(`${request.method()} ${new URL(request.url()).pathname}`);
    };
    page.on('request', onRequest);
    await page.reload();
    await card.getByRole('heading', { name: /Rascunho de robô: RSI BTC 1h/ }).waitFor();
    await chart.waitFor({ timeout: 30_000 });
    expect(Number(await chart.getAttribute('data-points'))).toBe(points);
    await poll(() => chart.locator('canvas').count()).toBeGreaterThan(0);
    page.off('request', onRequest);
    expect(posted.filter((r) => r.includes('/assistant/'))).toEqual([]);

    // Start on paper asks first; only the dialog's confirmation starts it.
    await card.getByRole('button', { name: 'Iniciar no simulado' }).click();
    const dialog = page.getByRole('dialog', { name: 'Iniciar “RSI BTC 1h” no simulado?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('dinheiro simulado em BTC/USDT');
    await dialog.getByRole('button', { name: 'Iniciar no simulado' }).click();
    await card.getByText('ligado no simulado').waitFor({ timeout: 30_000 });
    expect(await page.locator('.conversation').innerText()).toContain('Robô “RSI BTC 1h” ligado no simulado');
    await screenshot(page, 'assistant');

    // The bot exists, on paper, running.
    const href = await card.getByRole('link', { name: 'Abrir o robô' }).getAttribute('href');
    const botId = /^\/bots\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1];
    expect(botId).toBeDefined();
    const cookies = await context.cookies(server.url);
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const details = (await (await fetch(`${server.url}/api/v1/bots/${botId}`, { headers: { cookie } })).json()) as { bot: ApiBot };
    expect(details.bot).toMatchObject({ name: 'RSI BTC 1h', mode: 'paper', status: 'running' });
    expect(errors).toEqual([]);
    await context.close();
  });
});
