import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { exportTableObjects, type ExportTable } from '../../privacy/index.ts';
import { getStrategy, parseCandleCsv, runBacktest } from '../../trading/index.ts';
import { apiFixture, type ApiFixture } from '../support/api.ts';
import { watchedBacktestJobs } from '../support/backtest-jobs.ts';
import { testDrivers } from '../support/databases.ts';

// POST /backtests with the trader's own candles as a CSV file (issue 16): multipart/form-data,
// read by the engine's CSV loader (a bad line: 422 naming it), run by the same job as a cached
// backtest, the plan's quota applied, an upload cap of its own (413), and the candles and the
// backtest visible only to their uploader.

const CSV_1H = fs.readFileSync(new URL('../../candles/binance_BTCUSDT_1h.csv', import.meta.url), 'utf8');
/** The first `rows` candles of the bundled 1h file, with its header. */
const firstRows = (rows: number) =>
  CSV_1H.split('\n')
    .slice(0, rows + 1)
    .join('\n');

type Answer = { error?: { code: string; message: string } } & Record<string, unknown>;

describe.each(testDrivers)('backtests on uploaded CSV on %s', (driver) => {
  let api: ApiFixture;
  let capped: ApiFixture;
  let ceo: string;
  let traderA: string;
  let traderB: string;
  const { jobs, jobFinished } = watchedBacktestJobs();

  beforeAll(async () => {
    api = await apiFixture(driver, { traders: 6, jobs });
    const [ceoSignIn, a, b] = api.signIns;
    ceo = await api.signIn(ceoSignIn!.email, ceoSignIn!.password);
    traderA = await api.signIn(a!.email, a!.password);
    traderB = await api.signIn(b!.email, b!.password);
    capped = await apiFixture('pglite', { traders: 2, limits: { maxBodyBytes: 2_048, maxUploadBytes: 64 * 1024 } });
  }, 180_000);
  afterAll(async () => {
    await jobs.close(5_000);
    await api?.dispose();
    await capped?.dispose();
  });

  /** A multipart/form-data POST /backtests with the CSV as `file` and the other fields as given. */
  const upload = async (
    cookie: string | undefined,
    csv: string,
    fields: Record<string, string> = { strategy: 'rsi' },
    options: { fixture?: ApiFixture; fileName?: string; key?: string } = {},
  ) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    form.set('file', new File([csv], options.fileName ?? 'btc-1h.csv', { type: 'text/csv' }));
    const encoded = new Request('http://127.0.0.1/', { method: 'POST', body: form });
    const headers: Record<string, string> = { 'content-type': encoded.headers.get('content-type')! };
    if (options.key) headers['idempotency-key'] = options.key;
    const response = await (options.fixture ?? api).request('/api/v1/backtests', {
      method: 'POST',
      ...(cookie ? { cookie } : {}),
      headers,
      body: await encoded.arrayBuffer(),
    });
    return {
      status: response.status,
      location: response.headers.get('location'),
      replayed: response.headers.get('idempotent-replayed'),
      body: (await response.json()) as Answer,
    };
  };
  const get = async (path: string, cookie: string) => {
    const response = await api.request(path, { cookie });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  const count = async (table: 'backtests' | 'backtest_uploads') =>
    Number((await queryRows<{ n: number }>(api.test.handle.db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n);

  it('runs the uploaded candles as a job and answers the same figures as the engine on that file', async () => {
    const { status, location, body } = await upload(traderA, CSV_1H, {
      strategy: 'rsi',
      parameters: '{"rsiPeriod":10}',
      symbol: 'BTC/USDT',
      feeRate: '0.002',
    });
    expect(status).toBe(202);
    const series = parseCandleCsv(CSV_1H);
    expect(body).toMatchObject({ status: 'queued', candles: series.length, upload: { fileName: 'btc-1h.csv' } });
    const id = body['backtestId'] as string;
    expect(location).toBe(`/api/v1/backtests/${id}`);
    await jobFinished(id);

    const result = await get(`/api/v1/backtests/${id}`, traderA);
    expect(result.status).toBe(200);
    const strategy = getStrategy('rsi');
    const parameters = strategy.parameters.parse({ rsiPeriod: 10 }) as Record<string, number>;
    const expected = runBacktest(series, strategy, parameters, { feeRate: 0.002, startingCash: 10_000 });
    expect(result.body).toMatchObject({
      backtest: {
        status: 'succeeded',
        symbol: 'BTC/USDT',
        timeframe: '1h',
        rangeStart: new Date(series.time[0]!).toISOString(),
        rangeEnd: new Date(series.time[series.length - 1]!).toISOString(),
      },
      metrics: { candles: series.length, trades: expected.trades },
    });
    expect((result.body['metrics'] as { finalEquity: number }).finalEquity).toBeCloseTo(expected.finalEquity, 6);
    // The audit log keeps the CSV's size and digest, not the candles.
    const [audited] = await queryRows<{ args: unknown }>(
      api.test.handle.db,
      sql`select args from audit_log where tool = 'submit_backtest_csv' and outcome = 'ok' order by id limit 1`,
    );
    const args = (typeof audited!.args === 'string' ? JSON.parse(audited!.args) : audited!.args) as { csv: unknown };
    expect(args.csv).toEqual({ bytes: Buffer.byteLength(CSV_1H), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("keeps the upload and its backtest the uploader's: another trader gets 404 and no candles, staff may read it", async () => {
    const { body } = await upload(traderA, firstRows(400), { strategy: 'rsi', symbol: 'ZZZ/USDT' });
    const id = body['backtestId'] as string;
    await jobFinished(id);
    const stranger = await get(`/api/v1/backtests/${id}`, traderB);
    expect(stranger.status).toBe(404);
    expect(stranger.body['backtest']).toBeUndefined();
    expect((await get(`/api/v1/backtests/${id}`, ceo)).status).toBe(200);
    // The candles never entered the shared cache: nobody charts them, the uploader neither.
    for (const cookie of [traderB, traderA]) {
      const chart = await get('/api/v1/candles?symbol=ZZZ/USDT&timeframe=1h&from=2024-01-01T00:00:00Z&to=2024-02-01T00:00:00Z', cookie);
      expect(chart.status).toBe(200);
      expect(chart.body['candles']).toEqual([]);
    }
    const cached = await queryRows(api.test.handle.db, sql`select 1 from candles where symbol = 'ZZZ/USDT' limit 1`);
    expect(cached).toHaveLength(0);
    // Staff who may (the CEO) upload for a trader by email: the backtest is the trader's.
    const forA = await upload(ceo, firstRows(300), { strategy: 'rsi', email: api.signIns[1]!.email });
    expect(forA.status).toBe(202);
    expect((await get(`/api/v1/backtests/${forA.body['backtestId'] as string}`, traderA)).status).toBe(200);
    expect((await get(`/api/v1/backtests/${forA.body['backtestId'] as string}`, traderB)).status).toBe(404);
    // A trader naming another trader is refused.
    expect((await upload(traderB, firstRows(300), { strategy: 'rsi', email: api.signIns[1]!.email })).status).toBe(403);
    await jobFinished(forA.body['backtestId'] as string);
    // A's copy of their data lists the upload (name, size, digest), never the CSV; B's has none of A's.
    const exportOf = async (cookie: string) => {
      const response = await api.request('/api/v1/privacy/export', { method: 'POST', cookie });
      expect(response.status).toBe(200);
      return ((await response.json()) as { document: { data: Record<string, ExportTable>; omitted: Record<string, string[]> } }).document;
    };
    const exportA = await exportOf(traderA);
    expect(exportTableObjects(exportA.data['backtest_uploads']!)).toContainEqual(
      expect.objectContaining({ backtest_id: id, file_name: 'btc-1h.csv' }),
    );
    expect(exportA.data['backtest_uploads']!.columns).not.toContain('csv');
    expect(exportA.omitted['backtest_uploads']).toEqual(['csv']);
    expect(exportTableObjects((await exportOf(traderB)).data['backtest_uploads']!).some((row) => row['backtest_id'] === id)).toBe(false);
    // The stored upload is in trader A's tenant.
    const [row] = await queryRows<{ same: boolean }>(
      api.test.handle.db,
      sql`select u.tenant_id = b.tenant_id and b.tenant_id = (select tenant_id from users where email = ${api.signIns[1]!.email}) as same
          from backtest_uploads u join backtests b on b.id = u.backtest_id where u.backtest_id = ${id}::uuid`,
    );
    expect(row!.same).toBe(true);
  });

  it('refuses a bad CSV with 422 naming the file and line, queueing nothing', async () => {
    const before = [await count('backtests'), await count('backtest_uploads')];
    const lines = firstRows(300).split('\n');
    lines[3] = '1704070800000,42475.23,abc,42400.1,42500.0,900.5';
    const bad = await upload(traderA, lines.join('\n'), { strategy: 'rsi' }, { fileName: 'mine.csv' });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: 'bad_data', message: expect.stringMatching(/^mine\.csv line 4: /) });
    expect(bad.body.error!.message).toMatch(/^mine\.csv line 4: every field must be a number; column 3 \(high\) is "abc"/);
    const unordered = firstRows(300).split('\n');
    [unordered[10], unordered[11]] = [unordered[11]!, unordered[10]!];
    const order = await upload(traderA, unordered.join('\n'));
    expect(order.status).toBe(422);
    expect(order.body.error!.message).toMatch(/line 1[12]: timestamp \d+ is not after the previous row's/);
    const header = await upload(traderA, `date,o,h,l,c,v\n${firstRows(300).split('\n').slice(1).join('\n')}`);
    expect(header.status).toBe(422);
    expect(header.body.error!.message).toMatch(/line 1: expected the header "timestamp,open,high,low,close,volume"/);
    const short = await upload(traderA, firstRows(5));
    expect(short.status).toBe(422);
    expect(short.body.error!.message).toMatch(/has 5 candles; rsi with these parameters needs more than \d+/);
    expect([await count('backtests'), await count('backtest_uploads')]).toEqual(before);
  });

  it('refuses bad fields with 400 naming them, another Content-Type with 400, and no session with 401', async () => {
    const csv = firstRows(300);
    const cases: [Record<string, string>, RegExp][] = [
      [{ strategy: 'nope' }, /strategy: a strategy: /],
      [{ strategy: 'rsi', parameters: '{rsi' }, /^Invalid form: parameters: expected a JSON object of numbers/],
      [{ strategy: 'rsi', parameters: '{"rsiPeriod":-3}' }, /rsiPeriod/],
      [{ strategy: 'rsi', symbol: 'btc' }, /symbol: expected a symbol such as BTC\/USDT/],
      [{ strategy: 'rsi', feeRate: 'lots' }, /^Invalid form: feeRate: /],
    ];
    for (const [fields, message] of cases) {
      const answer = await upload(traderA, csv, fields);
      expect(answer.status, JSON.stringify(fields)).toBe(400);
      expect(answer.body.error!.message).toMatch(message);
    }
    // A form without the file.
    const form = new FormData();
    form.set('strategy', 'rsi');
    const encoded = new Request('http://127.0.0.1/', { method: 'POST', body: form });
    const noFile = await api.request('/api/v1/backtests', {
      method: 'POST',
      cookie: traderA,
      headers: { 'content-type': encoded.headers.get('content-type')! },
      body: await encoded.arrayBuffer(),
    });
    expect(noFile.status).toBe(400);
    expect(((await noFile.json()) as Answer).error!.message).toMatch(/^Invalid form: file: expected a file/);
    const plainText = await api.request('/api/v1/backtests', {
      method: 'POST',
      cookie: traderA,
      headers: { 'content-type': 'text/plain' },
      body: csv,
    });
    expect(plainText.status).toBe(400);
    expect(((await plainText.json()) as Answer).error!.message).toMatch(/does not take a text\/plain body/);
    expect((await upload(undefined, csv)).status).toBe(401);
  });

  it('answers a repeated Idempotency-Key with the first backtest, storing the upload once', async () => {
    const before = await count('backtest_uploads');
    const first = await upload(traderA, firstRows(300), { strategy: 'rsi' }, { key: 'upload-1' });
    expect(first.status).toBe(202);
    const again = await upload(traderA, firstRows(300), { strategy: 'rsi' }, { key: 'upload-1' });
    // The same form encoded again (a new multipart boundary) is the same request.
    expect(again).toMatchObject({ status: 202, replayed: 'true', body: first.body });
    // Another file under the same key is another request.
    const other = await upload(traderA, firstRows(301), { strategy: 'rsi' }, { key: 'upload-1' });
    expect(other.status).toBe(422);
    expect(other.body.error!.message).toMatch(/different request/);
    expect(await count('backtest_uploads')).toBe(before + 1);
    await jobFinished(first.body['backtestId'] as string);
  });

  it("stops at the plan's backtests a day (409), uploads counted with cached ones", async () => {
    // Trader B on the Free plan (their subscription ends): 5 backtests a day.
    await api.test.handle.db.execute(sql`update subscriptions set status = 'canceled' where tenant_id =
      (select tenant_id from users where email = ${api.signIns[2]!.email})`);
    const plan = await get('/api/v1/plan', traderB);
    expect(plan.body['subscription']).toMatchObject({ plan: 'free' });
    const limit = (plan.body['limits'] as { backtestsPerDay: number }).backtestsPerDay;
    const today = Number(
      (
        await queryRows<{ n: number }>(
          api.test.handle.db,
          sql`select count(*)::int as n from backtests where tenant_id = (select tenant_id from users where email = ${api.signIns[2]!.email})
              and created_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc'`,
        )
      )[0]!.n,
    );
    const ids: string[] = [];
    for (let i = today; i < limit; i++) {
      const queued = await upload(traderB, firstRows(300));
      expect(queued.status).toBe(202);
      ids.push(queued.body['backtestId'] as string);
    }
    const uploads = await count('backtest_uploads');
    const refused = await upload(traderB, firstRows(300));
    expect(refused.status).toBe(409);
    expect(refused.body.error!.message).toMatch(/Free plan allows \d+ backtests a day/);
    expect(await count('backtest_uploads')).toBe(uploads);
    await Promise.all(ids.map(jobFinished));
  });

  it('caps an upload at its own limit (413) while other bodies keep theirs', async () => {
    const [, trader] = capped.signIns;
    const cookie = await capped.signIn(trader!.email, trader!.password);
    // 300 candles (about 18 KB): over the 2 KB body cap, under the 64 KiB upload cap.
    const fits = await upload(cookie, firstRows(300), { strategy: 'rsi' }, { fixture: capped });
    expect(fits.status).toBe(202);
    const tooBig = await upload(cookie, firstRows(1_500), { strategy: 'rsi' }, { fixture: capped });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toMatchObject({ code: 'payload_too_large', message: 'The upload is larger than 65536 bytes.' });
    // A JSON body to the same route, and to another, keep the 2 KB cap.
    const json = await capped.request('/api/v1/backtests', {
      method: 'POST',
      cookie,
      body: JSON.stringify({ strategy: 'rsi', symbol: 'BTC/USDT', timeframe: '1h', padding: 'x'.repeat(3_000) }),
    });
    expect(json.status).toBe(413);
    expect(((await json.json()) as Answer).error!.message).toBe('The request body is larger than 2048 bytes.');
    const bots = await capped.request('/api/v1/bots', { method: 'POST', cookie, body: JSON.stringify({ name: 'x'.repeat(3_000) }) });
    expect(bots.status).toBe(413);
  });
});
