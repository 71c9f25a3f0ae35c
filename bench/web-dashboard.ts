// The web dashboard's first load (issue 17's targets: a bot's page drawn with 1,000 candles and
// RSI/MACD ≤ 1.5 s from a cold cache on loopback; ≤ 400 KB of gzipped JavaScript for the trader
// pages). A real `botcriptofy start` on the demo company, Debian's chromium through
// playwright-core, a new browser context (empty cache) per load; the time is the page's own
// clock from the navigation's start to the chart drawn (its markers placed).
//   node bench/web-dashboard.ts            (WEB_BENCH_LOADS, default 7)
import fs from 'node:fs';
import path from 'node:path';
import { buildDashboard, launchBrowser, startDemoServer } from '../test/support/web.ts';

const LOADS = Number(process.env.WEB_BENCH_LOADS ?? 7);
const BARS = 1_000;

buildDashboard();
const assets = path.resolve('web', 'dist', 'assets');
const jsGzipBytes = fs
  .readdirSync(assets)
  .filter((name) => name.endsWith('.js.gz'))
  .reduce((sum, name) => sum + fs.statSync(path.join(assets, name)).size, 0);

const browser = await launchBrowser();
const server = await startDemoServer();
try {
  const trader = server.signIns.find((s) => s.who === 'trader')!;
  const signIn = await fetch(`${server.url}/api/v1/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email: trader.email, password: trader.password }),
  });
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const [name, value] = cookie.split('=') as [string, string];
  const get = async <T>(p: string) => (await (await fetch(`${server.url}/api/v1${p}`, { headers: { cookie } })).json()) as T;
  const bot = (await get<{ bots: { id: string; symbols: string[]; timeframe: string; status: string }[] }>('/bots')).bots[0]!;
  const { trades } = await get<{ trades: { openedAt: string; closedAt: string | null }[] }>(`/bots/${bot.id}/trades?limit=500`);
  const barMs = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3 }[bot.timeframe]!;
  const to = Math.min(Date.now(), Math.max(...trades.map((t) => Date.parse(t.closedAt ?? t.openedAt))) + 20 * barMs);
  await server.importReplayedCandles(bot.symbols[0]!, bot.timeframe, to - (BARS + 250) * barMs, to);

  const times: number[] = [];
  let candles = 0;
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ locale: 'pt-BR', timezoneId: 'America/Sao_Paulo', viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name, value, url: server.url }]);
    const page = await context.newPage();
    await page.goto(`${server.url}/bots/${bot.id}`);
    const chart = page.locator('.price-chart[data-markers-drawn]');
    await chart.waitFor({ timeout: 30_000 });
    times.push((await page.evaluate('performance.now()')) as number);
    candles = Number(await chart.getAttribute('data-candles'));
    await context.close();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`| measure | result | target |\n|---|---|---|`);
  console.log(
    `| bot page, cold cache, to the chart drawn (${candles} candles, RSI, MACD, markers) | median ${Math.round(median)} ms, max ${Math.round(sorted.at(-1)!)} ms (${LOADS} loads, in order: ${times.map((t) => Math.round(t)).join(', ')} ms) | ≤ 1,500 ms |`,
  );
  console.log(`| JavaScript shipped, gzip | ${(jsGzipBytes / 1024).toFixed(1)} KB | ≤ 400 KB |`);
} finally {
  await browser.close();
  await server.stop();
}
