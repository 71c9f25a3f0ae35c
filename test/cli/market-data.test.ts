import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { loadCandleFile } from '../../trading/market-data/load.ts';
import { BIN, cliEnv, runCliHere } from '../support/cli.ts';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../support/databases.ts';
import { startFakeBinance, type FakeBinance } from '../support/fake-binance.ts';

// `data download | list | import` and `backtest --pair` against PostgreSQL and a scripted Binance
// on loopback (the real ccxt client end to end). Commands run in this process (runCliHere), and
// as a real process where killing it mid-download is the point.

const HOUR = 3_600_000;
const CANDLES = fileURLToPath(new URL('../../candles/', import.meta.url));
const MASTER_KEY = 'ab'.repeat(32);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-market-data-'));

/** Hourly bars ending with the last closed hour, as the exchange would have them. */
function hourlyBars(count: number, basePrice: number): number[][] {
  const lastClosed = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const first = lastClosed - (count - 1) * HOUR;
  return Array.from({ length: count }, (_, i) => {
    const open = basePrice + Math.sin(i / 7) * basePrice * 0.01;
    return [first + i * HOUR, open, open * 1.004, open * 0.995, open * (1 + Math.cos(i / 5) * 0.002), 10 + (i % 13)];
  });
}

const instant = (ms: number) => new Date(ms).toISOString();

describe.skipIf(!realPostgresAvailable)('the candle cache from the CLI (PostgreSQL, scripted Binance)', () => {
  let binance: FakeBinance;
  let database: TestDatabase;
  let env: Record<string, string>;
  const btc = hourlyBars(2_500, 60_000);
  const eth = hourlyBars(1_200, 3_000);

  beforeAll(async () => {
    [binance, database] = await Promise.all([startFakeBinance(), createTestDatabase('postgres')]);
    binance.klinesBySymbol.set('BTCUSDT', btc);
    binance.klinesBySymbol.set('ETHUSDT', eth);
    env = { DATABASE_URL: database.url!, MASTER_KEY, DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'error' };
  });
  afterAll(async () => {
    await Promise.all([binance?.close(), database?.dispose()]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function cached(symbol: string, timeframe: string): Promise<number[][]> {
    const rows = await queryRows<{ t: number; o: string; h: string; l: string; c: string; v: string }>(
      database.handle.db,
      sql`select (extract(epoch from open_time) * 1000)::float8 as t, open as o, high as h, low as l, close as c, volume_base as v
          from candles where exchange = 'binance' and symbol = ${symbol} and timeframe = ${timeframe} order by open_time`,
    );
    return rows.map((row) => [Number(row.t), Number(row.o), Number(row.h), Number(row.l), Number(row.c), Number(row.v)]);
  }

  const download = (...args: string[]) => runCliHere(['data', 'download', '--api-url', binance.url, ...args], env);

  it('data download, killed mid-way, keeps every page it stored; the rerun fetches only the rest: complete, no duplicate, no gap', async () => {
    const since = instant(btc[0]![0]!);
    const held = binance.holdKlinesAfter(2);
    const child = spawn(
      process.execPath,
      [BIN, 'data', 'download', '--api-url', binance.url, '--pairs', 'BTC/USDT', '--timeframes', '1h', '--since', since],
      {
        env: cliEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('close', (code, signal) => resolve(signal ?? code)));
    // The third page is asked for only once the second is stored: kill the process right there.
    await Promise.race([held, exited.then((code) => Promise.reject(new Error(`exited (${code}) before the third page:\n${output}`)))]);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    binance.stopHoldingKlines();
    const kept = await cached('BTC/USDT', '1h');
    expect(kept).toEqual(btc.slice(0, 2_000));

    const before = binance.klineRequests.length;
    const rerun = await download('--pairs', 'BTC/USDT', '--timeframes', '1h', '--since', since, '--json');
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout) as {
      interrupted: boolean;
      storedCandles: number;
      jobs: { symbol: string; missingBefore: number; cached: { candles: number; gaps: number } }[];
    };
    expect(summary).toMatchObject({
      interrupted: false,
      storedCandles: 500,
      jobs: [{ symbol: 'BTC/USDT', cached: { candles: 2_500, gaps: 0 } }],
    });
    // Nothing already stored was asked for again.
    const asked = binance.klineRequests.slice(before);
    expect(asked[0]).toMatchObject({ symbol: 'BTCUSDT', startTime: btc[2_000]![0] });
    expect(asked.every((request) => request.startTime >= btc[2_000]![0]!)).toBe(true);
    expect(await cached('BTC/USDT', '1h')).toEqual(btc);
  });

  it('Ctrl-C stores the page in flight, asks for no other, and exits 130 saying how to resume', async () => {
    const sol = hourlyBars(2_500, 150);
    binance.klinesBySymbol.set('SOLUSDT', sol);
    const held = binance.holdKlinesAfter(1);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'data',
        'download',
        '--api-url',
        binance.url,
        '--pairs',
        'SOL/USDT',
        '--timeframes',
        '1h',
        '--since',
        instant(sol[0]![0]!),
        '--json',
      ],
      {
        env: cliEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const stopping = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Stopping:')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await held; // the second page is asked for (and held)
    child.kill('SIGINT');
    await stopping; // the command has seen Ctrl-C...
    binance.releaseHeldKlines(); // ...before the page in flight arrives
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('Interrupted: every page already fetched is stored; run the same command again to fetch the rest.');
    expect(JSON.parse(stdout)).toMatchObject({
      interrupted: true,
      storedCandles: 2_000,
      jobs: [{ symbol: 'SOL/USDT', interrupted: true, requests: 2, cached: { candles: 2_000, gaps: 0 } }],
    });
    expect(binance.klineRequests.filter((request) => request.symbol === 'SOLUSDT')).toHaveLength(2);
    expect(await cached('SOL/USDT', '1h')).toEqual(sol.slice(0, 2_000));
  });

  it('downloads several pairs, fills a hole cut into the cache, and data list shows what is there', async () => {
    const since = instant(btc[0]![0]!);
    const first = await download('--pairs', 'BTC/USDT,eth/usdt', '--timeframes', '1h', '--since', since);
    expect(first.code, first.stderr).toBe(0);
    // Not a terminal: one plain line per pair and timeframe.
    expect(first.stdout).toMatch(/^BTC\/USDT 1h: already cached; cached .* 2,500 candles, no gaps$/m);
    expect(first.stdout).toMatch(/^ETH\/USDT 1h: 1,200 candles fetched in \d+ requests?; cached .* 1,200 candles, no gaps$/m);
    expect(await cached('ETH/USDT', '1h')).toEqual(eth);

    const holeFrom = new Date(eth[300]![0]!).toISOString();
    const holeTo = new Date(eth[349]![0]!).toISOString();
    await database.handle.db.execute(
      sql`delete from candles where symbol = 'ETH/USDT' and open_time between ${holeFrom}::timestamptz and ${holeTo}::timestamptz`,
    );
    const listed = await runCliHere(['data', 'list'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^EXCHANGE\s+PAIR\s+TIMEFRAME\s+FIRST\s+LAST\s+CANDLES\s+GAPS\s+MISSING BARS$/);
    expect(lines.find((line) => line.includes('ETH/USDT'))).toMatch(/^binance\s+ETH\/USDT\s+1h\s+\S+ \S+\s+\S+ \S+\s+1,150\s+1\s+50$/);
    const listedJson = JSON.parse((await runCliHere(['data', 'list', '--json', '--pair', 'ETH/USDT'], env)).stdout) as unknown[];
    expect(listedJson).toEqual([
      {
        exchange: 'binance',
        symbol: 'ETH/USDT',
        timeframe: '1h',
        candles: 1_150,
        gaps: 1,
        missingBars: 50,
        first: new Date(eth[0]![0]!).toISOString(),
        last: new Date(eth.at(-1)![0]!).toISOString(),
      },
    ]);

    const before = binance.klineRequests.length;
    const refill = await download('--pairs', 'ETH/USDT', '--timeframes', '1h', '--since', instant(eth[0]![0]!), '--json');
    expect(refill.code, refill.stderr).toBe(0);
    expect(JSON.parse(refill.stdout)).toMatchObject({
      storedCandles: 50,
      jobs: [{ missingBefore: 50, cached: { candles: 1_200, gaps: 0, missingBars: 0 } }],
    });
    expect(binance.klineRequests.slice(before).map((request) => request.startTime)).toEqual([eth[300]![0]]);
    expect(await cached('ETH/USDT', '1h')).toEqual(eth);
  });

  it('data import reads CSV and freqtrade JSON into the cache, and backtest --pair on it equals backtest --data on the file', async () => {
    const csv = await runCliHere(
      ['data', 'import', `${CANDLES}binance_BTCUSDT_5m.csv`, '--pair', 'BTC/USDT', '--timeframe', '5m', '--json'],
      env,
    );
    expect(csv.code, csv.stderr).toBe(0);
    expect(JSON.parse(csv.stdout)).toMatchObject({
      symbol: 'BTC/USDT',
      timeframe: '5m',
      imported: 8_352,
      gaps: 0,
      first: '2024-11-30T23:00:00.000Z',
    });
    const file = loadCandleFile(`${CANDLES}binance_BTCUSDT_5m.csv`, { cacheDir: null });
    const stored = await cached('BTC/USDT', '5m');
    expect(stored).toHaveLength(8_352);
    expect(stored[4_321]).toEqual([
      file.time[4_321],
      file.open[4_321],
      file.high[4_321],
      file.low[4_321],
      file.close[4_321],
      file.volume[4_321],
    ]);

    // freqtrade JSON of the 15m file's first 500 bars, into the cache under another exchange.
    const quarter = loadCandleFile(`${CANDLES}binance_BTCUSDT_15m.csv`, { cacheDir: null });
    const jsonFile = path.join(tmp, 'BTC_USDT-15m.json');
    fs.writeFileSync(
      jsonFile,
      JSON.stringify(
        Array.from({ length: 500 }, (_, i) => [
          quarter.time[i],
          quarter.open[i],
          quarter.high[i],
          quarter.low[i],
          quarter.close[i],
          quarter.volume[i],
        ]),
      ),
    );
    const json = await runCliHere(['data', 'import', jsonFile, '--pair', 'BTC/USDT', '--timeframe', '15m', '--exchange', 'kraken'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toMatch(/^Imported 500 candles of BTC\/USDT 15m \(kraken\) from .*BTC_USDT-15m\.json: .* no gaps$/m);
    expect(JSON.parse((await runCliHere(['data', 'list', '--json', '--exchange', 'kraken'], env)).stdout)).toMatchObject([
      { symbol: 'BTC/USDT', timeframe: '15m', candles: 500, gaps: 0 },
    ]);

    const comparable = (stdout: string) => {
      const { elapsedMs, loadMs, candlesPerSecond, ...rest } = JSON.parse(stdout) as Record<string, unknown>;
      return rest;
    };
    const fromFile = await runCliHere(
      ['backtest', '--strategy', 'rsi-reference', '--data', `${CANDLES}binance_BTCUSDT_5m.csv`, '--json', '--trade-list'],
      env,
    );
    const fromCache = await runCliHere(
      ['backtest', '--strategy', 'rsi-reference', '--pair', 'BTC/USDT', '--timeframe', '5m', '--json', '--trade-list'],
      env,
    );
    expect(fromCache.code, fromCache.stderr).toBe(0);
    expect(comparable(fromCache.stdout)).toEqual(comparable(fromFile.stdout));
    expect(comparable(fromCache.stdout)).toMatchObject({ candles: 8_352, trades: 100 });

    // --from and --to are whole UTC days: December 10th to 12th is 3 × 288 bars.
    const window = await runCliHere(
      [
        'backtest',
        '--strategy',
        'rsi-reference',
        '--pair',
        'btc/usdt',
        '--timeframe',
        '5m',
        '--from',
        '2024-12-10',
        '--to',
        '2024-12-12',
        '--json',
      ],
      env,
    );
    expect(JSON.parse(window.stdout)).toMatchObject({ candles: 864, from: '2024-12-10T00:00:00.000Z', to: '2024-12-12T23:55:00.000Z' });
  });

  it('wrong usage exits 2 with one line; an exchange that does not answer exits 1', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['data', 'download', '--pairs', 'BTC/USDT', '--timeframes', '1h', '--days', '3', '--since', '2026-01-01'],
        /^--days and --since both say where to start: give one$/,
      ],
      [['data', 'download', '--pairs', 'BTCUSDT', '--timeframes', '1h'], /^--pairs: expected a pair such as BTC\/USDT, got "BTCUSDT"$/],
      [['data', 'download', '--pairs', 'BTC/USDT', '--timeframes', '1x'], /^--timeframes: expected a timeframe such as/],
      [
        ['data', 'download', '--exchange', 'nosuchexchange', '--pairs', 'BTC/USDT', '--timeframes', '1h'],
        /^--exchange: ccxt knows no exchange "nosuchexchange"/,
      ],
      [
        ['data', 'download', '--api-url', binance.url, '--pairs', 'DOGE/BRL', '--timeframes', '1h'],
        /^--pairs: binance has no market DOGE\/BRL$/,
      ],
      [
        ['data', 'import', `${CANDLES}binance_BTCUSDT_1h.csv`, '--pair', 'BTC/USDT', '--timeframe', '5m'],
        /holds 1h bars, not 5m: pass --timeframe 1h$/,
      ],
      [['backtest', '--strategy', 'rsi', '--pair', 'BTC/USDT'], /^--pair needs --timeframe/],
      [['backtest', '--strategy', 'rsi'], /^backtest needs candles: --data FILE or --pair PAIR --timeframe TF/],
      [
        ['backtest', '--strategy', 'rsi', '--pair', 'ADA/USDT', '--timeframe', '1h'],
        /^No cached candles of binance ADA\/USDT 1h: fetch them with `botcriptofy data download/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCliHere(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0], args.join(' ')).toMatch(message);
    }
    const down = await runCliHere(
      ['data', 'download', '--api-url', 'http://127.0.0.1:9', '--pairs', 'BTC/USDT', '--timeframes', '1h'],
      env,
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^Error: binance did not answer/);
  });
});

describe('data download on a terminal', () => {
  it('draws one bar per pair and timeframe, and redraws them in place', async () => {
    const { ProgressBoard } = await import('../../cli/commands/market-data.ts');
    let screen = '';
    const board = new ProgressBoard(['BTC/USDT 5m', 'ETH/USDT 1h'], { write: (text: string) => (screen += text), columns: 200 });
    const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
    board.update(0, { key, missingBars: 4_000, coveredBars: 1_000, storedCandles: 1_000, requests: 1 });
    board.finish(1, {
      key: { ...key, symbol: 'ETH/USDT', timeframe: '1h' },
      range: { fromMs: 0, toMs: 0 },
      missingRanges: [{ fromMs: 0, toMs: 0 }],
      missingBars: 24,
      requests: 1,
      storedCandles: 24,
      interrupted: false,
      cached: { candles: 24, firstMs: Date.UTC(2026, 0, 1), lastMs: Date.UTC(2026, 0, 1, 23), gaps: 0, missingBars: 0 },
    });
    const frames = screen.split('\x1b[2A');
    expect(frames).toHaveLength(3); // drawn once, then moved up two lines before each redraw
    const last = frames[2]!
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace('\r\x1b[2K', ''));
    expect(last).toEqual([
      `BTC/USDT 5m  [######..................]  25 %  1,000 candles, 1 request`,
      `ETH/USDT 1h  [########################] 100 %  24 candles fetched in 1 request; cached 2026-01-01 00:00Z → 2026-01-01 23:00Z, 24 candles, no gaps`,
    ]);
    // A narrow terminal: lines are cut to its width, so none wraps and the redraw stays in place.
    let narrow = '';
    new ProgressBoard(['BTC/USDT 5m'], { write: (text: string) => (narrow += text), columns: 30 });
    expect(narrow).toBe(`\r\x1b[2KBTC/USDT 5m  [${'.'.repeat(15)}\n`); // 29 columns
  });
});
