import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../errors/index.ts';
import { optimizeCommand, parseMinTrades, type OptimizeCommandOptions } from '../../cli/commands/trading.ts';
import { runCli } from '../support/cli.ts';
import { parkMiller } from '../support/random.ts';

// A choppy, deterministic hourly market written as a candle CSV in a temporary folder. With
// the grid below, low rsiBuy values close 0–5 trades and higher ones 14–32.
let dir: string;
let data: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-optimize-'));
  data = path.join(dir, 'candles.csv');
  const lines = ['timestamp,open,high,low,close,volume'];
  let price = 100;
  const random = parkMiller(3);
  for (let i = 0; i < 400; i++) {
    const open = price;
    price *= 1 + (random() - 0.5) * 0.04;
    lines.push([i * 3_600_000, open, Math.max(open, price) * 1.003, Math.min(open, price) * 0.997, price, 10].join(','));
  }
  fs.writeFileSync(data, `${lines.join('\n')}\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const GRID = 'rsiBuy=5|15|25|35|40,rsiPeriod=7|14';

function options(extra: Partial<OptimizeCommandOptions> = {}): OptimizeCommandOptions {
  return {
    strategy: 'rsi',
    data,
    grid: GRID,
    param: [],
    metric: 'totalReturnPct',
    workers: 2,
    top: 20,
    fee: 0.001,
    cash: 10_000,
    ...extra,
  };
}

/** Runs the command in this process and returns what it printed on stdout, line by line. */
async function run(extra: Partial<OptimizeCommandOptions> = {}): Promise<string[]> {
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  await optimizeCommand(options(extra));
  return printed.join('\n').split('\n');
}

// The table's first column (#) is right-aligned, so its header line may start with spaces.
const isHeader = (line: string) => line.trimStart().startsWith('#');
const tableHeader = (lines: string[]) =>
  lines
    .find(isHeader)!
    .trim()
    .split(/\s{2,}/);
function tableRows(lines: string[]): string[] {
  const header = lines.findIndex(isHeader);
  expect(header).toBeGreaterThanOrEqual(0);
  return lines.slice(header + 1).filter((line) => line.trim() !== '');
}

describe('botcriptofy optimize --min-trades', () => {
  it('ranks only combinations with at least 10 trades by default and says how many were set aside', async () => {
    const lines = await run();
    expect(lines.join('\n')).toMatch(/Ranked 5 by return %; 5 set aside for fewer than 10 trades \(--min-trades 10\)/);
    const header = tableHeader(lines);
    const trades = header.indexOf('trades');
    const rows = tableRows(lines);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(Number(row.trim().split(/\s+/)[trades])).toBeGreaterThanOrEqual(10);
  });

  it('takes a lower minimum, and 0 ranks every combination', async () => {
    expect(tableRows(await run({ minTrades: '3' }))).toHaveLength(7); // 4 and 5 trades come back
    const all = await run({ minTrades: '0' });
    expect(all.join('\n')).not.toContain('set aside');
    expect(tableRows(all)).toHaveLength(10);
  });

  it('prints the return column once, and labels another ranking metric by its name', async () => {
    const byReturn = tableHeader(await run());
    expect(byReturn).toEqual(['#', 'rsiBuy', 'rsiPeriod', 'return %', 'trades', 'drawdown %', 'win %']);
    const bySharpe = tableHeader(await run({ metric: 'sharpe' }));
    expect(bySharpe).toEqual(['#', 'rsiBuy', 'rsiPeriod', 'sharpe', 'trades', 'return %', 'drawdown %', 'win %']);
    const byDrawdown = tableHeader(await run({ metric: 'maxDrawdownPct' }));
    expect(byDrawdown.filter((title) => title === 'drawdown %')).toHaveLength(1);
    expect(byDrawdown.filter((title) => title === 'return %')).toHaveLength(1);
  });

  it('says so in one line, without a table, when no combination qualifies', async () => {
    const lines = await run({ minTrades: '1000' });
    expect(lines.some(isHeader)).toBe(false);
    const message = lines.filter((line) => line.startsWith('No combination'));
    expect(message).toHaveLength(1);
    expect(message[0]).toMatch(/^No combination made at least 1000 trades: all 10 set aside, the most was \d+; lower --min-trades/);
  });

  it('puts minTrades and the count set aside in --json', async () => {
    const result = JSON.parse((await run({ json: true })).join('\n')) as Record<string, unknown> & {
      ranked: { metrics: { trades: number } }[];
    };
    expect(result).toMatchObject({ evaluated: 10, minTrades: 10, tooFewTrades: 5, metric: 'totalReturnPct' });
    expect(result.ranked).toHaveLength(5);
    expect(result.ranked.every((entry) => entry.metrics.trades >= 10)).toBe(true);
    const none = JSON.parse((await run({ json: true, minTrades: 1000 })).join('\n')) as Record<string, unknown>;
    expect(none).toMatchObject({ minTrades: 1000, tooFewTrades: 10, ranked: [] });
  });

  it('refuses a value that is not a whole number ≥ 0 as a usage error naming the option, before reading the data', async () => {
    expect(parseMinTrades(undefined)).toBe(10);
    expect(parseMinTrades('0')).toBe(0);
    expect(parseMinTrades(25)).toBe(25);
    for (const bad of ['-1', '2.5', 'abc', '', '1e3', -3, 1.5]) {
      const attempt = optimizeCommand(options({ data: path.join(dir, 'missing.csv'), minTrades: bad }));
      await expect(attempt).rejects.toBeInstanceOf(UsageError);
      await expect(optimizeCommand(options({ data: path.join(dir, 'missing.csv'), minTrades: bad }))).rejects.toThrow(
        `--min-trades must be a whole number, 0 or more; got "${bad}"`,
      );
    }
  });

  it('exits 2 with a one-line message for a bad --min-trades on the command line', async (context) => {
    const help = await runCli(['optimize', '--help'], {});
    // cli/main.ts declares the command's options; this runs once it declares --min-trades.
    if (!help.stdout.includes('--min-trades')) context.skip('cli/main.ts does not declare --min-trades yet');
    const result = await runCli(['optimize', '--strategy', 'rsi', '--data', data, '--grid', GRID, '--min-trades', 'abc'], {});
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe('--min-trades must be a whole number, 0 or more; got "abc"');
    const ok = await runCli(['optimize', '--strategy', 'rsi', '--data', data, '--grid', GRID, '--workers', '2'], {});
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('5 set aside for fewer than 10 trades');
    expect(tableHeader(ok.stdout.split('\n')).filter((title) => title === 'return %')).toHaveLength(1);
  });
});
