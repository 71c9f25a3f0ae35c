import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BundledReplayMarket } from '../../trading/index.ts';
import { runCli, startCli } from './cli.ts';
import { freePort } from './ports.ts';

// The web dashboard's browser tests (test/web): a real `botcriptofy start` on a fresh seeded
// demo company, and Debian's chromium driven by playwright-core (no browser is downloaded:
// .ci/run installs the `chromium` package with apt-get when it is missing).

export const SCREENSHOT_DIR = path.resolve('test-results', 'web');

/** The chromium to drive: CHROMIUM_PATH, else `chromium` on the PATH; a clear refusal otherwise (never a skip). */
export function chromiumPath(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist.`);
    return given;
  }
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {}
  }
  throw new Error(
    'The web dashboard tests need a Chromium and none is installed: `apt-get install -y chromium` as root (Debian; .ci/run does it), or set CHROMIUM_PATH to a Chromium binary.',
  );
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface DemoServer {
  readonly url: string;
  readonly dataDir: string;
  /**
   * The demo sign-ins `seed --demo` (or `start`) printed: the CEO (`ceo`), a few traders
   * (`trader`, all of them with bots) and each department's head (`who` is the department).
   */
  readonly signIns: { who: string; email: string; password: string }[];
  /** `botcriptofy ARGS` against the same data folder (the running server shares its database). */
  cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Puts the replayed market's bars of [fromMs, toMs] in the candle cache, as `data import` of a file would. */
  importReplayedCandles(symbol: string, timeframe: string, fromMs: number, toMs: number): Promise<number>;
  /** What `start` has printed so far (its log lines), for a failure's message. */
  output(): string;
  stop(): Promise<void>;
}

const TIMEFRAME_MS: Record<string, number> = { '1m': 60e3, '5m': 300e3, '15m': 900e3, '1h': 3600e3 };

type DemoCli = DemoServer['cli'];
type DemoSignIns = DemoServer['signIns'];

/**
 * `botcriptofy start` on a new data folder and a free port, seeded with the demo company.
 * With `prepare`, `seed --demo` runs first and `prepare` acts on the seeded company through the
 * CLI before `start` runs its bots (e.g. a bot stopped so its seeded position stays open).
 */
export async function startDemoServer(
  options: {
    prepare?: (demo: { cli: DemoCli; signIns: DemoSignIns }) => Promise<void>;
    /** More environment for the seed, the CLI and `start` (e.g. a fake Stripe's STRIPE_API_URL). */
    env?: Record<string, string>;
  } = {},
): Promise<DemoServer> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-web-'));
  const dataDir = path.join(tmp, 'data');
  const port = await freePort();
  const env = { ...options.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PAPER_MARKET: 'replay' };
  // Generous: the demo seed takes 30 s on an idle machine and several times that on a busy one.
  const cli = (...args: string[]) => runCli(args, env, 300_000);
  const signInsOf = (output: string) =>
    [...output.matchAll(/^\s+([a-z]+)\s+(\S+@\S+)\s+(\S+)\s*$/gm)].map((m) => ({ who: m[1]!, email: m[2]!, password: m[3]! }));
  let seeded: DemoSignIns | undefined;
  if (options.prepare) {
    const seed = await cli('seed', '--demo');
    if (seed.code !== 0) throw new Error(`seed --demo failed: ${seed.stderr}${seed.stdout}`);
    seeded = signInsOf(seed.stdout);
    await options.prepare({ cli, signIns: seeded });
  }
  const server = await startCli(['start'], env, (line) => line.includes('BotCriptoFy is up'), 300_000);
  const signIns = seeded ?? signInsOf(server.output());
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    signIns,
    cli,
    async importReplayedCandles(symbol, timeframe, fromMs, toMs) {
      const barMs = TIMEFRAME_MS[timeframe];
      if (!barMs) throw new Error(`no bundled ${timeframe} candles`);
      const market = new BundledReplayMarket({ timeframe, now: () => toMs + barMs });
      const rows = await market.fetchCandles(symbol, timeframe, fromMs, Math.ceil((toMs - fromMs) / barMs) + 1);
      const file = path.join(tmp, `${symbol.replace('/', '')}-${timeframe}.csv`);
      fs.writeFileSync(file, `timestamp,open,high,low,close,volume\n${rows.map((r) => r.join(',')).join('\n')}\n`);
      const result = await cli('data', 'import', file, '--pair', symbol, '--timeframe', timeframe);
      if (result.code !== 0) throw new Error(`data import failed: ${result.stderr}${result.stdout}`);
      return rows.length;
    },
    output: () => server.output(),
    async stop() {
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** A screenshot a person can look at afterwards (test-results/web/NAME.png): the whole page, or only what the window shows. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: options.fullPage ?? true });
}

/** Builds web/dist from the sources (about a second), as `npm install` does. */
export function buildDashboard(): void {
  execFileSync(process.execPath, [path.resolve('web', 'build.ts')], { stdio: 'pipe' });
}

/** axe-core's serious and critical WCAG 2 A/AA violations on the page as it is now ("rule: what, where"). */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`,
  )) as { id: string; impact: string | null; help: string; targets: string[] }[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.targets.join(', ')})`);
}
