import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededCliCompany } from '../support/seeded-cli.ts';

// `botcriptofy assistant …` (issue 22) on the demo company: a trader goes from one sentence to
// a paper bot through the same tools the Telegram door will call — draft, backtest (on the
// cached candles: no exchange in tests), start only with --confirm — in their language.

const HOUR = 3_600_000;

describe('botcriptofy assistant (pglite)', () => {
  const company = seededCliCompany('pglite', { name: 'assistant', masterKey: 'a'.repeat(64) });

  it('drafts from one sentence, backtests a year beside buy-and-hold, starts on paper only with --confirm', async () => {
    // A trader of the demo with no running bot (the Free plan allows one).
    const bots = JSON.parse(company.ok(await company.cli('bots', 'list', '--json')).stdout) as {
      bots: { owner: string; status: string }[];
    };
    const running = new Set(bots.bots.filter((b) => b.status === 'running').map((b) => b.owner));
    const trader = bots.bots.map((b) => b.owner).find((owner) => !running.has(owner)) ?? company.trader;

    // A year of BTC/USDT 1h candles in the cache: the bundled file, moved to end at the last
    // closed hour (the backtest takes the last year; there is no exchange in tests).
    const rows = fs.readFileSync('candles/binance_BTCUSDT_1h.csv', 'utf8').trim().split('\n').slice(1);
    const shiftMs = Math.floor(Date.now() / HOUR) * HOUR - HOUR - Number(rows.at(-1)!.split(',')[0]);
    const moved = path.join(company.tmp, 'btc-1h.csv');
    const shifted = rows.map((row) => row.replace(/^\d+/, (t) => String(Number(t) + shiftMs)));
    fs.writeFileSync(moved, ['timestamp,open,high,low,close,volume', ...shifted].join('\n'));
    company.ok(await company.cli('data', 'import', moved, '--pair', 'BTC/USDT', '--timeframe', '1h'));

    const sentence = 'quero um robô de médias 20 e 50 no BTC de 1h, stop de 3 %, sem gastar mais que 500 USDT';
    const drafted = company.ok(await company.cli('assistant', 'draft', '--email', trader, '--no-model', sentence));
    expect(drafted.stdout).toContain('Rascunho de robô "EMA BTC 1h"');
    expect(drafted.stdout).toContain('Próximo: testar');
    const shown = JSON.parse(company.ok(await company.cli('assistant', 'show', '--email', trader, '--json')).stdout) as {
      draft: {
        draftId: string;
        symbols: string[];
        stakeQuote: string;
        stopLossPct: number;
        mode: string;
        parameters: Record<string, number>;
      };
    };
    expect(shown.draft).toMatchObject({ symbols: ['BTC/USDT'], stakeQuote: '500', stopLossPct: 3, mode: 'paper' });
    expect(shown.draft.parameters).toMatchObject({ fastPeriod: 20, slowPeriod: 50 });

    const tested = company.ok(await company.cli('assistant', 'backtest', '--email', trader));
    expect(tested.stdout).toMatch(/Backtest BTC\/USDT: .* buy-and-hold/);

    const unconfirmed = await company.cli('assistant', 'start', '--email', trader);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--confirm');

    const started = await company.cli('assistant', 'start', '--email', trader, '--confirm', '--json');
    const result = JSON.parse(started.stdout) as { ok: boolean; mode?: string; status?: string; message?: string };
    expect(result).toMatchObject({ ok: true, mode: 'paper', status: 'running', draft: { status: 'started' } });
    const after = JSON.parse(company.ok(await company.cli('bots', 'list', '--json')).stdout) as {
      bots: { owner: string; status: string; mode: string; strategy: string }[];
    };
    expect(after.bots.filter((b) => b.owner === trader && b.strategy === 'ema-cross')).toEqual([
      expect.objectContaining({ status: 'running', mode: 'paper' }),
    ]);
  }, 120_000);

  it('answers the questions of a draft the words left open, and refuses someone who is not a trader', async () => {
    const open = company.ok(await company.cli('assistant', 'draft', '--email', company.trader, '--no-model', 'RSI bot on ETH, 1h'));
    expect(open.stdout).toContain('? How many USDT may the bot use at most?');
    const answered = company.ok(await company.cli('assistant', 'answer', '--email', company.trader, '400 USDT'));
    expect(answered.stdout).not.toContain('? How many');
    expect(answered.stdout).toContain('Next: backtest');
    const discarded = company.ok(await company.cli('assistant', 'discard', '--email', company.trader));
    expect(discarded.stdout).toContain('(discarded)');
    const notTrader = await company.cli('assistant', 'show', '--email', 'nobody@example.com');
    expect(notTrader.code).toBe(2);
  }, 120_000);
});
