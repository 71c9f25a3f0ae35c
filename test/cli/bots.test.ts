import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../db/index.ts';
import { runCli, runCliHere, type CliResult } from '../support/cli.ts';

// `botcriptofy bots …` against a demo company in a temporary folder: through the CLI's own
// main() in this process (runCliHere), and as real processes where exiting is part of it.
// Every read and change goes through the tool layer as the person named by --as (default:
// the CEO); paper bots price on the bundled replay (PAPER_MARKET=replay), so no network.

type Bot = {
  id: string;
  name: string;
  owner: string | null;
  strategy: string;
  symbols: string[];
  timeframe: string;
  mode: string;
  status: string;
  stakeQuote: string;
  lastError: string | null;
  createdAt: string;
  startedAt: string | null;
  lastTickAt: string | null;
};
type Details = {
  bot: Bot & { parameters: Record<string, number>; stoppedAt: string | null; hasExchangeAccount: boolean };
  positions: { symbol: string; amountBase: string }[];
  trades: {
    open: number;
    closed: number;
    wins: number;
    profitQuote: number;
    today: { since: string; closed: number; profitQuote: number };
  };
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-cli-bots-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
const env = { DATA_DIR: dataDir, PAPER_MARKET: 'replay', LOG_LEVEL: 'error' };
const bots = (...args: string[]) => runCliHere(['bots', ...args], env);
/** The same, as a real process. */
const botsProcess = (...args: string[]) => runCli(['bots', ...args], env);
const json = <T>(result: CliResult): T => {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};
/** A refusal or failure: exit 1 and the reason in one line. */
const refused = (result: CliResult, reason: string) => {
  expect(result.code, result.stdout).toBe(1);
  expect(result.stderr.trim().split('\n')).toEqual([`Error: ${reason}`]);
};
const usage = (result: CliResult, message: string) => {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain(message);
};

// Each command is a process opening the embedded database: a few seconds apiece on a busy machine.
describe('botcriptofy bots', { timeout: 300_000 }, () => {
  const people: Record<string, string> = {};
  let counts: { total: number; running: number };
  let trader: { email: string; bots: number };
  let otherTrader: string;
  let freeTrader: string;
  let liveBot: { id: string; owner: string };
  let heldBot: { id: string; symbol: string };

  beforeAll(async () => {
    const seeded = await runCli(['seed', '--demo', '--traders', '30', '--as-of', '2026-11-01'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    const staff = JSON.parse((await runCli(['staff', 'list', '--json'], env)).stdout) as {
      email: string;
      department: string;
      role: string;
    }[];
    for (const member of staff) people[`${member.department}:${member.role}`] ??= member.email;
    // What the assertions compare against, read straight from the database (the CLI is not running).
    const handle = await openDatabase({ dataDir });
    try {
      const [c] = await queryRows<{ total: number; running: number }>(
        handle.db,
        sql`select count(*)::int as total, count(*) filter (where status = 'running')::int as running from bots`,
      );
      counts = c!;
      const owners = await queryRows<{ email: string; bots: number; plan: string | null }>(
        handle.db,
        sql`select u.email, count(b.id)::int as bots,
                   (select s.plan_id from subscriptions s where s.tenant_id = u.tenant_id and s.status in ('active', 'trialing', 'past_due') order by s.started_at desc limit 1) as plan
            from users u join tenants t on t.id = u.tenant_id and t.kind = 'trader' join bots b on b.tenant_id = u.tenant_id
            group by u.email, u.tenant_id order by u.email`,
      );
      trader = owners.find((o) => o.bots >= 2) ?? owners[0]!;
      otherTrader = owners.find((o) => o.email !== trader.email)!.email;
      freeTrader = (owners.find((o) => o.plan === null || o.plan === 'free') ?? owners[0]!).email;
      const [live] = await queryRows<{ id: string; owner: string }>(
        handle.db,
        sql`select b.id, u.email as owner from bots b join users u on u.tenant_id = b.tenant_id where b.mode = 'live' and b.status = 'running' and b.exchange_account_id is not null order by b.id limit 1`,
      );
      liveBot = live!;
      // The demo backs each open position with its coins in the bot's paper wallet, so the sale fills as seeded.
      const [held] = await queryRows<{ id: string; symbol: string }>(
        handle.db,
        sql`select b.id, p.symbol from positions p join bots b on b.id = p.bot_id where b.mode = 'paper' order by b.id limit 1`,
      );
      heldBot = held!;
    } finally {
      await handle.close();
    }
    expect(liveBot).toBeDefined();
    expect(heldBot).toBeDefined();
  }, 120_000);

  it("lists every trader's bots for the CEO, by status, as a table or JSON", async () => {
    const all = json<{ bots: Bot[]; total: number; byStatus: Record<string, number> }>(
      await botsProcess('list', '--limit', '1000', '--json'),
    );
    expect(all.total).toBe(counts.total);
    expect(all.bots).toHaveLength(counts.total);
    expect(all.byStatus['running']).toBe(counts.running);
    expect(new Set(all.bots.map((b) => b.owner)).size).toBeGreaterThan(1);
    expect(Object.keys(all.bots[0]!).sort()).toEqual([
      'createdAt',
      'id',
      'lastError',
      'lastTickAt',
      'mode',
      'name',
      'owner',
      'stakeQuote',
      'startedAt',
      'status',
      'strategy',
      'symbols',
      'timeframe',
    ]);
    const running = json<{ bots: Bot[]; total: number }>(await bots('list', '--status', 'running', '--json'));
    expect(running.total).toBe(counts.running);
    expect(running.bots.every((b) => b.status === 'running')).toBe(true);
    const table = await bots('list', '--tenant', trader.email);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+OWNER\s+STRATEGY\s+SYMBOLS\s+TF\s+MODE\s+STATUS\s+STAKE$/);
    expect(lines).toHaveLength(trader.bots + 2);
    expect(lines.at(-1)).toMatch(new RegExp(`^${trader.bots} of ${trader.bots} bots shown`));
  });

  it('shows a trader only their own bots, and refuses the others', async () => {
    const own = json<{ bots: Bot[]; total: number }>(await bots('list', '--as', trader.email, '--json'));
    expect(own.total).toBe(trader.bots);
    expect(own.bots.every((b) => b.owner === trader.email)).toBe(true);
    refused(await bots('list', '--as', trader.email, '--tenant', otherTrader), 'A trader can only see their own account.');
    const theirs = json<{ bots: Bot[] }>(await bots('list', '--tenant', otherTrader, '--json')).bots[0]!;
    refused(await bots('stop', theirs.id, '--as', trader.email), `No bot ${theirs.id} in this account.`);
  });

  it('refuses staff whose department may not use the tool, with its reason (exit 1)', async () => {
    refused(await botsProcess('list', '--as', people['marketing:head']!), 'Not allowed: the marketing department may not use list_bots.');
    const failed = await bots('show', heldBot.id, '--as', people['sales:member']!, '--json');
    refused(failed, 'Not allowed: the sales department may not use bot_details.');
    expect(JSON.parse(failed.stdout)).toEqual({
      ok: false,
      tool: 'bot_details',
      error: 'forbidden',
      message: 'Not allowed: the sales department may not use bot_details.',
    });
    // Finance may look at a bot but not stop it; Support may not force an exit.
    refused(await bots('stop', heldBot.id, '--as', people['finance:member']!), 'Not allowed: the finance department may not use stop_bot.');
    refused(
      await bots('forceexit', heldBot.id, '--as', people['support:member']!),
      'Not allowed: the support department may not use force_exit.',
    );
  });

  it('says what is wrong with the command line (exit 2)', async () => {
    usage(
      await bots('list', '--status', 'sleeping'),
      'Unknown status "sleeping". Statuses: stopped, starting, running, stopping, paused, error, frozen.',
    );
    usage(await bots('show'), 'Which bot? Pass its id');
    usage(await bots('start', 'abc'), '"abc" is not a bot id');
    usage(
      await bots('create', '--name', 'x', '--strategy', 'rsi', '--symbols', 'BTCUSDT', '--timeframe', '1h', '--as', trader.email),
      '--symbols: "BTCUSDT" is not a symbol',
    );
    usage(
      await bots('create', '--name', 'x', '--strategy', 'rsi', '--symbols', 'BTC/USDT', '--timeframe', '1h'),
      'As staff, name the trader with --tenant EMAIL',
    );
    usage(await bots('forceexit', heldBot.id, '--symbol', 'bitcoin'), '--symbol: "bitcoin" is not a symbol');
    usage(await botsProcess('list', '--colour'), "unknown option '--colour'");
    usage(await bots('list', '--as', 'nobody@example.com'), 'No staff member or trader nobody@example.com');
  });

  it('creates a paper bot as a trader, shows it, starts and stops it', async () => {
    const { bot } = json<{ bot: Details['bot'] }>(
      await bots(
        'create',
        '--name',
        'CLI test bot',
        '--strategy',
        'rsi',
        '--symbols',
        'btc/usdt',
        '--timeframe',
        '15m',
        '--stake',
        '250',
        '--param',
        'rsiBuy=35',
        '--as',
        freeTrader,
        '--json',
      ),
    );
    expect(bot).toMatchObject({
      name: 'CLI test bot',
      owner: freeTrader,
      strategy: 'rsi',
      symbols: ['BTC/USDT'],
      timeframe: '15m',
      mode: 'paper',
      status: 'stopped',
      stakeQuote: '250',
      hasExchangeAccount: false,
    });
    expect(bot.parameters).toEqual({ rsiPeriod: 14, rsiBuy: 35, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 });

    const details = json<Details>(await bots('show', bot.id, '--as', freeTrader, '--json'));
    expect(details).toEqual({
      bot,
      positions: [],
      trades: {
        open: 0,
        closed: 0,
        wins: 0,
        profitQuote: 0,
        today: { since: expect.stringMatching(/T00:00:00\.000Z$/), closed: 0, profitQuote: 0 },
      },
    });
    const text = await bots('show', bot.id);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`owner      ${freeTrader}`);

    // The trader's plan decides whether it may run alongside their other bots.
    const started = await bots('start', bot.id, '--as', freeTrader, '--json');
    if (started.code === 0) {
      expect(JSON.parse(started.stdout)).toEqual({
        botId: bot.id,
        name: 'CLI test bot',
        mode: 'paper',
        previousStatus: 'stopped',
        status: 'running',
      });
    } else {
      expect(started.code).toBe(1);
      expect(started.stderr).toMatch(/^Error: start_bot failed: The \w+ plan allows/);
      // The CEO stops the owner's other bots, then the start is within the plan.
      for (const other of json<{ bots: Bot[] }>(await bots('list', '--tenant', freeTrader, '--status', 'running', '--json')).bots)
        json(await bots('stop', other.id, '--json'));
      expect(JSON.parse((await bots('start', bot.id, '--as', freeTrader, '--json')).stdout)).toMatchObject({
        botId: bot.id,
        status: 'running',
      });
    }
    // Staff act on the owner's account without naming it.
    expect(json(await bots('stop', bot.id, '--as', people['support:member']!, '--json'))).toEqual({
      botId: bot.id,
      name: 'CLI test bot',
      mode: 'paper',
      previousStatus: 'running',
      status: 'stopped',
    });
    const again = await bots('start', bot.id, '--as', people['support:head']!);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`Started bot ${bot.id} "CLI test bot" (paper): running.\n`);
  });

  it('starts a live-mode bot only by a person: its owner with --confirm-live, or staff through an approval', async () => {
    expect(json(await bots('stop', liveBot.id, '--as', people['security:member']!, '--json'))).toMatchObject({
      botId: liveBot.id,
      mode: 'live',
      status: 'stopped',
    });
    const { name } = json<Details>(await bots('show', liveBot.id, '--json')).bot;
    const unconfirmed = await bots('start', liveBot.id, '--json');
    refused(
      unconfirmed,
      `Bot ${liveBot.id} "${name}" is in live mode: starting it trades on ${liveBot.owner}'s exchange account (real money when TRADING_MODE=live). Nothing was started; run again with --confirm-live to confirm (staff: that asks the Security head or the CEO to approve).`,
    );
    expect(JSON.parse(unconfirmed.stdout)).toMatchObject({ ok: false, error: 'needs_confirmation' });
    expect(json<Details>(await bots('show', liveBot.id, '--json')).bot.status).toBe('stopped');
    // Staff (the CEO by default) confirming is a request: an approval for a person to decide.
    expect(json(await bots('start', liveBot.id, '--confirm-live', '--json'))).toMatchObject({
      ok: true,
      pendingApproval: { approverDepartment: 'security', summary: `Start bot ${liveBot.id} in LIVE mode (real money)` },
    });
    expect(json<Details>(await bots('show', liveBot.id, '--json')).bot.status).toBe('stopped');
    // The owner confirming starts it.
    expect(json(await bots('start', liveBot.id, '--confirm-live', '--as', liveBot.owner, '--json'))).toMatchObject({
      botId: liveBot.id,
      mode: 'live',
      previousStatus: 'stopped',
      status: 'running',
    });
  });

  it('forces the exit of an open position once', async () => {
    const before = json<Details>(await bots('show', heldBot.id, '--json'));
    const position = before.positions.find((p) => p.symbol === heldBot.symbol)!;
    const exit = json<{
      botId: string;
      exits: {
        symbol: string;
        outcome: string;
        amountBase: string;
        priceQuote: string | null;
        profitQuote: string | null;
        reason: string | null;
      }[];
    }>(await bots('forceexit', heldBot.id, '--symbol', heldBot.symbol, '--as', people['security:head']!, '--json'));
    expect(exit).toMatchObject({
      botId: heldBot.id,
      exits: [{ symbol: heldBot.symbol, outcome: 'filled', amountBase: position.amountBase, reason: null }],
    });
    expect(Number(exit.exits[0]!.priceQuote)).toBeGreaterThan(0);
    const after = json<Details>(await bots('show', heldBot.id, '--json'));
    expect(after.positions.map((p) => p.symbol)).not.toContain(heldBot.symbol);
    expect(after.trades.closed).toBe(before.trades.closed + 1);
    const twice = await bots('forceexit', heldBot.id, '--symbol', heldBot.symbol);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout).toContain(`has no open position in ${heldBot.symbol}; nothing was sold.`);
  });

  it('audited every call, refusals included, and the chain is intact', async () => {
    const handle = await openDatabase({ dataDir });
    try {
      const rows = await queryRows<{ tool: string; outcome: string; n: number }>(
        handle.db,
        sql`select tool, outcome::text, count(*)::int as n from audit_log where action = 'tool.call' group by tool, outcome`,
      );
      const n = (tool: string, outcome: string) => rows.find((r) => r.tool === tool && r.outcome === outcome)?.n ?? 0;
      expect(n('list_bots', 'denied')).toBeGreaterThanOrEqual(2);
      expect(n('create_bot', 'ok')).toBe(1);
      expect(n('force_exit', 'ok')).toBe(2);
      expect(n('start_bot', 'ok')).toBeGreaterThanOrEqual(3);
    } finally {
      await handle.close();
    }
    const verified = await runCli(['audit', 'verify'], env);
    expect(verified.code, verified.stderr).toBe(0);
  });
});
