import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.ts';
import { cliEnv, runCli, runCliHere, startCli } from './support/cli.ts';
import { lastMessage, startFakeOllama, toolResults } from './support/fake-ollama.ts';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from './support/databases.ts';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-cli-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('botcriptofy CLI: bad input stops with a clear message', () => {
  it('bad configuration and an unreachable Redis are one line each, found before anything is written', async () => {
    const dataDir = path.join(tempDir(), 'untouched');
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ HOST: '999.1.1.1' }, 2, /HOST="999\.1\.1\.1": expected an IP address/],
      [
        { TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ', TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram/webhook' },
        2,
        /TELEGRAM_WEBHOOK_SECRET=\(unset\): required when TELEGRAM_WEBHOOK_URL is set/,
      ],
      [{ REDIS_URL: 'redis://127.0.0.1:9' }, 1, /^Error: Cannot reach Redis at 127\.0\.0\.1:9 \(REDIS_URL\): ECONNREFUSED/],
    ];
    for (const [env, code, message] of cases) {
      const result = await runCli(['start'], { DATA_DIR: dataDir, PORT: '0', ...env });
      expect(result.code, JSON.stringify(env)).toBe(code);
      expect(result.stderr, JSON.stringify(env)).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(fs.existsSync(dataDir), JSON.stringify(env)).toBe(false); // no key, no database
    }
    const stripe = await runCli(['billing', 'sync'], {
      DATA_DIR: tempDir(),
      STRIPE_SECRET_KEY: 'sk_test_unreachable',
      STRIPE_API_URL: 'http://127.0.0.1:9',
    });
    expect(stripe.code).toBe(1);
    expect(stripe.stderr).toMatch(/^Error: Stripe did not answer \(check STRIPE_API_URL, or the network to api\.stripe\.com\): /m);
    expect(stripe.stderr).not.toMatch(/\n\s+at /);
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'x');
    const onFile = await runCli(['status'], { DATA_DIR: file });
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toMatch(/DATA_DIR=".*a-file": expected a folder/);
  });

  it('a port another program listens on is one line naming PORT (exit 2), and the data folder is left unlocked', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const dataDir = tempDir();
      const result = await runCli(['start'], { DATA_DIR: dataDir, PORT: String(port), DEMO_SEED: 'false' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`PORT="${port}": expected a free port: another program already listens on 127.0.0.1:${port}`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      // Nothing left holding the folder: the next command opens it.
      expect((await runCli(['status', '--json'], { DATA_DIR: dataDir })).code).toBe(0);
    } finally {
      taken.close();
    }
  });

  it("the parser's own errors are usage errors too (exit 2, one line and the help hint); --help and --version exit 0", async () => {
    const env = { DATA_DIR: tempDir() };
    for (const args of [
      ['backtest', '--strategy', 'rsi', '--data', 'candles/binance_BTCUSDT_1h.csv', '--fee', '-1'],
      ['backtest', '--strategy', 'rsi', '--data', 'x.csv', '--cash', 'abc'],
      ['nope'],
      ['staff', 'invite'],
      ['seed', '--demo', '--seed', 'x'],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^error: .+\n\(run with --help for usage\)/);
    }
    expect((await runCli(['--version'], env)).code).toBe(0);
    expect((await runCli(['approvals', '--help'], env)).code).toBe(0);
  });

  it('names the variable, value and expectation of an invalid env value (exit 2)', async () => {
    const dataDir = tempDir();
    const result = await runCli(['migrate'], { DATA_DIR: dataDir, PORT: 'abc', DATABASE_POOL_MAX: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT="abc": expected an integer port');
    expect(result.stderr).toContain('DATABASE_POOL_MAX="0": expected at least 1');
    expect(fs.readdirSync(dataDir)).toEqual([]); // nothing written
  });

  it('says which database is down, without the password, and writes nothing (exit 1)', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const result = await runCli(['migrate'], {
      DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://bcf:topsecret@127.0.0.1:1/bcf',
      DATABASE_CONNECT_TIMEOUT_S: '2',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot connect to PostgreSQL at 127.0.0.1:1/bcf');
    expect(result.stderr).not.toContain('topsecret');
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('refuses a corrupt data folder with advice, leaving it as it was', async () => {
    const dataDir = tempDir();
    fs.mkdirSync(path.join(dataDir, 'pglite', 'global'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'pglite', 'PG_VERSION'), 'garbage\n');
    fs.writeFileSync(path.join(dataDir, 'pglite', 'global', 'pg_control'), 'x');
    const before = fs.readdirSync(dataDir).sort();
    const result = await runCli(['staff', 'list'], { DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/embedded database in .*pglite cannot be opened/);
    expect(result.stderr).toContain('move it away');
    expect(fs.readdirSync(dataDir).sort()).toEqual(before); // no key file, no lock left behind
  });

  it('explains wrong usage', async () => {
    const result = await runCli(['seed'], { DATA_DIR: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --demo');
    const help = await runCli(['audit', 'verify', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('first altered or missing row');
  });
});

describe('botcriptofy CLI on the embedded database', () => {
  // The seed and the first listing run as processes; the rest through main() in this process.
  const dataDir = tempDir();

  it('seeds the demo company and lists its staff', async () => {
    const seeded = await runCli(['seed', '--demo', '--traders', '30', '--as-of', '2026-11-01'], { DATA_DIR: dataDir });
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toContain('30 traders');
    const listed = await runCli(['staff', 'list', '--json'], { DATA_DIR: dataDir });
    expect(listed.code, listed.stderr).toBe(0);
    const staff = JSON.parse(listed.stdout) as { name: string; email: string; department: string; role: string }[];
    expect(staff[0]).toMatchObject({ department: 'ceo', role: 'ceo' });
    expect(new Set(staff.map((member) => member.department)).size).toBe(10);
    const table = await runCliHere(['staff', 'list'], { DATA_DIR: dataDir });
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+EMAIL\s+DEPARTMENT\s+ROLE$/);
  });

  it('reports the finance figures and a customer, and says what needs Stripe', async () => {
    const mrr = await runCliHere(['billing', 'mrr', '--json', '--months', '6'], { DATA_DIR: dataDir });
    expect(mrr.code, mrr.stderr).toBe(0);
    const summary = JSON.parse(mrr.stdout) as { mrrCents: number; arrCents: number; months: unknown[] };
    expect(summary.mrrCents).toBeGreaterThan(0);
    expect(summary.arrCents).toBe(summary.mrrCents * 12);
    expect(summary.months).toHaveLength(6);
    const staff = JSON.parse((await runCliHere(['staff', 'list', '--json'], { DATA_DIR: dataDir })).stdout) as { email: string }[];
    const customer = await runCliHere(['billing', 'customer', staff[0]!.email, '--json'], { DATA_DIR: dataDir });
    expect(customer.code, customer.stderr).toBe(0);
    expect(JSON.parse(customer.stdout)).toMatchObject({ email: staff[0]!.email, plan: 'free' });
    const sync = await runCliHere(['billing', 'sync'], { DATA_DIR: dataDir });
    expect(sync.code).toBe(1);
    expect(sync.stderr).toContain('billing sync needs Stripe: set STRIPE_SECRET_KEY');
  });

  it('answers `ask` offline with the JSON shape the agents will keep', async () => {
    const result = await runCliHere(['ask', 'financeiro', 'qual o MRR?', '--offline', '--json'], { DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    const turn = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(turn).toMatchObject({ agent: 'finance', mode: 'offline', grounded: true, toolCalls: [{ tool: 'revenue_summary', ok: true }] });
    expect(typeof turn['elapsedMs']).toBe('number');
    const unknown = await runCliHere(['ask', 'nobody', 'oi'], { DATA_DIR: dataDir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown agent "nobody"');
  });

  it('lists pending approvals and refuses to decide an unknown one', async () => {
    const listed = await runCliHere(['approvals', 'list', '--json'], { DATA_DIR: dataDir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
    const unknown = await runCliHere(['approvals', 'approve', crypto.randomUUID()], { DATA_DIR: dataDir });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('Not decided: No approval');
  });

  it('verifies the audit chain, then names the row altered in SQL', async () => {
    const ok = await runCliHere(['audit', 'verify'], { DATA_DIR: dataDir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Audit chain OK: 2 rows verified/); // the seed, and the `ask` above (every tool call is audited)

    const handle = await openDatabase({ dataDir });
    await handle.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    await handle.db.execute(sql`update audit_log set outcome = 'denied' where id = 1`);
    await handle.close();

    const broken = await runCliHere(['audit', 'verify'], { DATA_DIR: dataDir });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('Audit chain BROKEN at row 1');
  });

  it('answers `ask` through Ollama (scripted server) with the JSON shape, and offline when it is down', async () => {
    const fake = await startFakeOllama((request) => {
      if (lastMessage(request).role === 'user') return { toolCalls: [{ name: 'revenue_summary', arguments: {} }] };
      const [result] = toolResults(request) as { payingCustomers: number }[];
      return { content: `We have ${result!.payingCustomers} paying customers.` };
    });
    try {
      const result = await runCliHere(['ask', 'finance', 'how many paying customers?', '--json'], {
        DATA_DIR: dataDir,
        OLLAMA_HOST: fake.url,
      });
      expect(result.code, result.stderr).toBe(0);
      const turn = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(turn).toMatchObject({
        agent: 'finance',
        mode: 'ollama',
        grounded: true,
        answerFrom: 'model',
        modelCalls: 2,
        toolCalls: [{ tool: 'revenue_summary', ok: true }],
      });
      expect(turn['answer']).toMatch(/^We have \d+ paying customers\.$/);
      expect(turn).toMatchObject({ rejectedBecause: null, actions: [], repeatedCalls: 0 });
      expect(typeof turn['elapsedMs']).toBe('number');
      // The default tool choice is structured: a reply schema, no native tool list.
      expect(fake.chats[0]!.tools).toBeUndefined();
      expect(JSON.stringify(fake.chats[0]!.format)).toContain('"revenue_summary"');

      // A claim of an action nobody took never reaches the person; the code says what happened.
      fake.script = () => ({ content: 'Pronto, ativei o kill switch.' });
      const claimed = await runCliHere(['ask', 'settings', 'liga o kill switch agora, mercado derretendo', '--json'], {
        DATA_DIR: dataDir,
        OLLAMA_HOST: fake.url,
      });
      expect(claimed.code, claimed.stderr).toBe(0);
      const honest = JSON.parse(claimed.stdout) as {
        answer: string;
        rejectedBecause: string;
        actions: { tool: string; status: string }[];
        toolCalls: { tool: string; by: string }[];
      };
      expect(honest).toMatchObject({
        answerFrom: 'template',
        rejectedBecause: 'unbacked_claim',
        actions: [{ tool: 'set_config', status: 'awaiting_approval' }],
        toolCalls: [{ tool: 'set_config', by: 'router' }],
      });
      expect(honest.answer).not.toContain('ativei');
      expect(honest.answer).toContain('⏳ Ainda não feito: aguardando aprovação');
    } finally {
      await fake.close();
    }
    const down = await runCliHere(['ask', 'finance', 'what is the MRR?', '--json'], {
      DATA_DIR: dataDir,
      OLLAMA_HOST: 'http://127.0.0.1:9',
    });
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ mode: 'offline', toolCalls: [{ tool: 'revenue_summary', ok: true }] });
    expect(JSON.parse(down.stdout).answer).toMatch(/^\(model offline: answered without it\)/);
  });

  it('lists the agents with their tools, and reports and pulls the model', async () => {
    const listed = await runCliHere(['agents', '--json'], { DATA_DIR: dataDir });
    expect(listed.code, listed.stderr).toBe(0);
    const agents = JSON.parse(listed.stdout) as { agent: string; tools: { name: string }[]; promptTokensEstimate: number }[];
    expect(agents.map((a) => a.agent)).toEqual([
      'ceo',
      'finance',
      'marketing',
      'sales',
      'security',
      'support',
      'audit',
      'documents',
      'settings',
      'subscriptions',
    ]);
    for (const a of agents) {
      expect(a.tools.length, a.agent).toBeGreaterThanOrEqual(4);
      expect(a.tools.length, a.agent).toBeLessThanOrEqual(8);
      expect(a.promptTokensEstimate, a.agent).toBeLessThan(1_500);
    }
    const fake = await startFakeOllama(() => ({ content: 'ok' }), { models: [] });
    try {
      const missing = await runCliHere(['model', 'status'], { DATA_DIR: dataDir, OLLAMA_HOST: fake.url });
      expect(missing.code).toBe(1);
      expect(missing.stdout).toContain('model qwen3:0.6b not pulled');
      const pulled = await runCliHere(['model', 'pull'], { DATA_DIR: dataDir, OLLAMA_HOST: fake.url });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(pulled.stderr).toContain('qwen3:0.6b: 50% of 523 MB');
      expect(pulled.stdout).toContain('qwen3:0.6b is ready.');
      const ready = await runCliHere(['model', 'status', '--json'], { DATA_DIR: dataDir, OLLAMA_HOST: fake.url });
      expect(JSON.parse(ready.stdout)).toMatchObject({ state: 'ready', model: 'qwen3:0.6b' });
    } finally {
      await fake.close();
    }
  });

  it('refuses a second process on the same data folder', async () => {
    const lockPath = path.join(dataDir, 'pglite.lock');
    fs.writeFileSync(lockPath, String(process.pid)); // this test process is alive
    try {
      const result = await runCli(['staff', 'list'], { DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`in use by process ${process.pid}`);
    } finally {
      fs.rmSync(lockPath);
    }
  });
});

describe('botcriptofy start', () => {
  it('brings up /health on a fresh data folder with the demo company, serves the other commands meanwhile, and stops cleanly on SIGTERM', async () => {
    const dataDir = path.join(tempDir(), 'fresh');
    // The replayed market, as on a machine without a route to Binance (auto chooses it there).
    // Migrating, seeding the demo company and laying its candle cache: ~20 s on a quiet machine, over 60 s in a loaded CI run.
    const server = await startCli(
      ['start'],
      { DATA_DIR: dataDir, PORT: '0', BOT_TICK_INTERVAL_S: '2', PAPER_MARKET: 'replay' },
      (line) => line.includes('BotCriptoFy is up'),
      120_000,
    );
    const { url, msg } = JSON.parse(server.line) as { url: string; msg: string };
    // A person opens the dashboard (the URL it prints), not a JSON health report.
    expect(msg).toBe(`BotCriptoFy is up: open the web dashboard at ${url}/ (health: ${url}/health)`);
    expect((await fetch(`${url}/`)).headers.get('content-type')).toMatch(/^text\/html/);
    expect(server.output()).toContain('Demo sign-ins: sign in to the web dashboard');
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const report = (await health.json()) as { status: string; database: { driver: string; ok: boolean }; migrations: { pending: number } };
    expect(report).toMatchObject({ status: 'ok', database: { driver: 'pglite', ok: true }, migrations: { pending: 0 } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('http_request_duration_seconds_bucket');
    expect(metrics).toContain('process_resident_memory_bytes');
    expect(server.output()).toContain('demo company seeded');
    expect(server.output()).toContain("embedded database shared with this machine's other botcriptofy commands");

    // While it runs, every other command works against it (through its socket), several at once.
    const env = { DATA_DIR: dataDir };
    const staffList = await runCli(['staff', 'list', '--json'], env);
    expect(staffList.code, staffList.stderr).toBe(0);
    const someone = (JSON.parse(staffList.stdout) as { email: string; department: string }[]).find(
      (member) => member.department === 'support',
    )!;
    const [status, executive, ask, approvals, invite, audit] = await Promise.all([
      runCli(['status', '--json'], env),
      runCli(['report', '--offline', '--json'], env),
      runCli(['ask', 'financeiro', 'qual o MRR?', '--offline', '--json'], env),
      runCli(['approvals', 'list', '--json'], env),
      runCli(['staff', 'invite', '--email', someone.email, '--json'], env),
      runCli(['audit', 'verify', '--json'], env),
    ]);
    for (const [name, result] of Object.entries({ status, executive, ask, approvals, invite, audit }))
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ jobs: 'in-process', bots: { running: expect.any(Number) } });
    await expect.poll(() => server.output()).toContain('PAPER_MARKET=replay: paper and testnet bots trade a replayed market');
    // status sees the running server's worker once it has ticked bots (every 2 s here).
    await expect
      .poll(
        async () =>
          (JSON.parse((await runCli(['status', '--json'], env)).stdout) as { workers: { alive: boolean }[] }).workers.some(
            (worker) => worker.alive,
          ),
        { timeout: 30_000, interval: 500 },
      )
      .toBe(true);
    expect((JSON.parse(executive.stdout) as { text: string }).text).toMatch(/MRR/);
    expect((JSON.parse(ask.stdout) as { toolCalls: { ok: boolean }[] }).toolCalls[0]).toMatchObject({ ok: true });
    expect(JSON.parse(invite.stdout)).toMatchObject({ code: expect.any(String) });
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true });
    expect((await fetch(`${url}/health`)).status).toBe(200);

    // A trader's live events open while it stops: the readers behind them stop before the
    // database closes (none of their reads fails on a closed database after "stopped cleanly").
    const trader = /trader\s+(\S+@\S+)\s+demo-trader-2026/.exec(server.output())![1]!;
    const signIn = await fetch(`${url}/api/v1/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: trader, password: 'demo-trader-2026' }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const events = await fetch(`${url}/api/v1/events`, { headers: { cookie } });
    expect(events.status).toBe(200);
    const stream = events.body!.getReader();
    expect(new TextDecoder().decode((await stream.read()).value)).toMatch(/^: connected/);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('stopped cleanly');
    expect(server.output()).not.toMatch(/live events: failed/);
    await stream.cancel().catch(() => {});
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  }, 240_000); // seeds the whole demo company and runs eight commands: a minute or more on a loaded machine
});

describe("the README's `npm start` under a supervisor", () => {
  const REPO = path.resolve(import.meta.dirname, '..');
  /** `npm start` as a supervisor runs it; resolves once the server is up, with the server's pid (from the lock file). */
  async function npmStart(dataDir: string) {
    const { spawn } = await import('node:child_process');
    const npm = spawn('npm', ['start'], {
      cwd: REPO,
      env: cliEnv({ DATA_DIR: dataDir, PORT: '0', DEMO_SEED: 'false', PAPER_MARKET: 'replay' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => npm.on('close', (code) => resolve(code)));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      npm.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('worker started')) resolve();
      });
      npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      void exited.then(() => reject(new Error(`npm start ended before the server was up:\n${output}`)));
    });
    const serverPid = Number.parseInt(fs.readFileSync(path.join(dataDir, 'pglite.lock'), 'utf8'), 10);
    return { npm, exited, serverPid, output: () => output };
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('SIGTERM to npm stops the server gracefully: no process left, the data folder unlocked', async () => {
    const dataDir = path.join(tempDir(), 'npm-term');
    const run = await npmStart(dataDir);
    expect(alive(run.serverPid)).toBe(true);
    run.npm.kill('SIGTERM');
    await run.exited;
    await expect.poll(() => alive(run.serverPid), { timeout: 15_000, interval: 100 }).toBe(false);
    expect(run.output()).toContain('stopped cleanly');
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  }, 90_000);

  it('npm killed outright (SIGKILL, no signal passed on): the orphaned server notices and stops gracefully', async () => {
    const dataDir = path.join(tempDir(), 'npm-kill');
    const run = await npmStart(dataDir);
    run.npm.kill('SIGKILL');
    await run.exited;
    await expect.poll(() => alive(run.serverPid), { timeout: 15_000, interval: 100 }).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  }, 90_000);
});

describe.skipIf(!realPostgresAvailable)('botcriptofy CLI on a real PostgreSQL server', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', { migrate: false });
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('migrates, seeds, verifies, and names a row altered in SQL', async () => {
    const env = { DATABASE_URL: test.url!, DATA_DIR: tempDir() };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/2 of 2 applied|(\d+) of \1 applied/);
    const seeded = await runCli(['seed', '--demo', '--traders', '10', '--as-of', '2026-11-01'], { ...env, MASTER_KEY: 'ab'.repeat(32) });
    expect(seeded.code, seeded.stderr).toBe(0);
    expect((await runCli(['audit', 'verify'], env)).stdout).toContain('Audit chain OK');
    await test.handle.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_delete`);
    await test.handle.db.execute(sql`update audit_log set details = '{}' where id = 1`);
    const broken = await runCli(['audit', 'verify', '--json'], env);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, badRowId: 1, problem: 'altered' });
  });

  it('needs MASTER_KEY to store exchange keys on a real server', async () => {
    const env = { DATABASE_URL: test.url!, DATA_DIR: tempDir() };
    const fresh = await createTestDatabase('postgres');
    try {
      const result = await runCli(['seed', '--demo', '--traders', '10'], { ...env, DATABASE_URL: fresh.url! });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('MASTER_KEY is not set');
      expect(await fresh.handle.db.execute(sql`select 1 from tenants limit 1`)).toHaveLength(0); // all or nothing
    } finally {
      await fresh.dispose();
    }
  });
});
