import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bots, openDatabase, queryRows, runMigrations, tenantScope, trades, type DatabaseHandle } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { botEquityCurve } from '../../trading/index.ts';
import {
  ChartDataError,
  chartSvg,
  equityChart,
  fontSetup,
  niceTicks,
  pngSize,
  renderEquityChart,
  renderRevenueChart,
  revenueChart,
  svgToPng,
} from '../../telegram/charts/index.ts';
import { RateLimiter, TelegramSender } from '../../telegram/outbox/index.ts';
import { startTelegramEmulator } from '../support/telegram-emulator.ts';

const AS_OF = new Date('2026-11-01T00:00:00Z');
/** Set CHART_PREVIEW_DIR to keep the PNGs for a look. */
const previewDir = process.env.CHART_PREVIEW_DIR;
const keep = (name: string, png: Buffer) => {
  if (!previewDir) return;
  fs.mkdirSync(previewDir, { recursive: true });
  fs.writeFileSync(path.join(previewDir, name), png);
};

function expectPng(png: Buffer, width = 960, height = 540) {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(pngSize(png)).toEqual({ width, height });
  expect(png.subarray(-8, -4).toString('latin1')).toBe('IEND');
}

describe('chart geometry', () => {
  it('round ticks covering the data', () => {
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(951.3, 1043.9)).toEqual([940, 960, 980, 1000, 1020, 1040, 1060]);
    expect(niceTicks(960, 1090)).toEqual([950, 1000, 1050, 1100]);
    expect(niceTicks(900, 1000)).toEqual([900, 920, 940, 960, 980, 1000]);
    expect(niceTicks(0.1, 0.7)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(5, 5).length).toBeGreaterThan(1);
  });

  it('escapes text into the SVG', () => {
    const svg = chartSvg({ title: 'A <b> & "c"', x: { kind: 'category', labels: ['x'] }, y: { format: String }, series: [] });
    expect(svg).toContain('A &lt;b&gt; &amp; &quot;c&quot;');
  });
});

describe('charts from the demo company', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openDatabase({ dataDir: '', inMemory: true });
    await runMigrations(handle);
    await seedDemoCompany(handle.db, { secretBox: createSecretBox(crypto.randomBytes(32)), asOf: AS_OF, traders: 60 });
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('revenue and MRR for the CEO: a 960×540 PNG with BRL figures', async () => {
    const chart = await revenueChart(handle.db, { asOf: AS_OF, months: 12 });
    expectPng(chart.png);
    expect(chart.png.length).toBeGreaterThan(15_000);
    expect(chart.svg).toContain('Receita e MRR — últimos 12 meses');
    expect(chart.svg).toMatch(/MRR R\$\u00a0[\d.]+,\d\d · ARR R\$\u00a0[\d.]+,\d\d/);
    expect(chart.svg).toMatch(/R\$\u00a0\d+(,\d)?\u00a0mil/); // compact axis ticks
    expect(chart.svg).toContain('nov/26');
    expect(chart.caption).toMatch(/^Receita e MRR: MRR R\$/);
    keep('revenue-mrr.png', chart.png);
    const english = await revenueChart(handle.db, { asOf: AS_OF, months: 6, locale: 'en' });
    expect(english.svg).toContain('Revenue and MRR — last 6 months');
    expect(english.svg).toContain('Nov 26');
    keep('revenue-mrr-en.png', english.png);
  });

  it('equity curve of a trader’s bot, from its closed trades, for that trader only', async () => {
    const [busiest] = await queryRows<{ bot_id: string; tenant_id: string; n: string | number }>(
      handle.db,
      sql`select bot_id, tenant_id, count(*) as n from trades where status = 'closed' group by 1, 2 order by 3 desc limit 1`,
    );
    const scope = tenantScope(busiest!.tenant_id);
    const curve = await botEquityCurve(handle.db, scope, busiest!.bot_id);
    expect(curve.closedTrades).toBe(Number(busiest!.n));
    expect(curve.points).toHaveLength(curve.closedTrades + 1);
    // The last point is the stake plus every closed trade's profit, exactly.
    const [sum] = await queryRows<{ total: string }>(
      handle.db,
      sql`select (b.stake_quote + sum(t.profit_quote))::text as total from trades t join bots b on b.id = t.bot_id where t.bot_id = ${busiest!.bot_id} and t.status = 'closed' group by b.stake_quote`,
    );
    expect(Number(curve.points.at(-1)!.equityQuote)).toBe(Number(sum!.total));
    const chart = renderEquityChart(curve);
    expectPng(chart.png);
    expect(chart.svg).toContain('Curva de capital');
    expect(chart.caption).toMatch(/USDT → [\d.]+,\d\d USDT \([+-]?\d+,\d\d %\)/);
    keep('equity.png', chart.png);
    keep('equity-en.png', renderEquityChart(curve, { locale: 'en' }).png);
    const other = tenantScope(crypto.randomUUID());
    await expect(equityChart(handle.db, other, busiest!.bot_id)).rejects.toThrow(ChartDataError);
  });

  it('a bot without closed trades still gets a chart (flat, with a note)', async () => {
    const [bot] = await handle.db.select().from(bots).orderBy(desc(bots.createdAt)).limit(1);
    const scope = tenantScope(bot!.tenantId);
    await handle.db.delete(trades).where(eq(trades.botId, bot!.id));
    const chart = await equityChart(handle.db, scope, bot!.id, { locale: 'en' });
    expectPng(chart.png);
    expect(chart.caption).toContain('0 closed trades');
  });
});

describe('rendering', () => {
  const svg = chartSvg({
    title: 'Sem fontes',
    x: { kind: 'time', format: (ms) => new Date(ms).toISOString().slice(0, 10) },
    y: { format: (v) => String(v) },
    series: [
      {
        label: 'x',
        kind: 'area',
        color: '#2563eb',
        points: [
          { x: 0, y: 1 },
          { x: 86_400_000, y: 3 },
          { x: 2 * 86_400_000, y: 2 },
        ],
      },
    ],
  });

  it('without any font the chart still renders (shapes, no labels)', () => {
    const bare = svgToPng(svg, { noFonts: true });
    expectPng(bare);
    if (fontSetup().anyFont) {
      const withText = svgToPng(svg);
      expectPng(withText);
      expect(withText.equals(bare)).toBe(false);
    }
  });

  it('finds DejaVu Sans on this machine (or says it could not)', () => {
    const fonts = fontSetup();
    if (fs.existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'))
      expect(fonts.fontFiles.some((f) => f.endsWith('DejaVuSans.ttf'))).toBe(true);
    else console.warn('[charts] no DejaVu Sans found: charts render without text');
  });

  it('renders the revenue chart from plain months (no database) and sends it as a photo through the limiter', async () => {
    const chart = renderRevenueChart(
      [
        { month: '2026-09', mrrCents: 1_234_567, revenueCents: 1_100_000 },
        { month: '2026-10', mrrCents: 1_334_567, revenueCents: 1_290_090 },
      ],
      { width: 640, height: 360 },
    );
    expectPng(chart.png, 640, 360);
    expect(chart.caption).toContain('MRR R$\u00a013.345,67');
    const emulator = await startTelegramEmulator();
    try {
      const grants: number[] = [];
      const limiter = new RateLimiter({ ratePerS: 30, chatRatePerS: 1, onGrant: (_chat, at) => grants.push(at) });
      const sender = new TelegramSender({ botToken: emulator.token, apiRoot: emulator.apiRoot, limiter });
      const first = await sender.sendPhoto(4242, chart.png, { caption: chart.caption, silent: true });
      const second = await sender.sendPhoto(4242, chart.png, { caption: 'again' });
      expect(grants[1]! - grants[0]!).toBeGreaterThanOrEqual(1_000 - 1e-6); // 1 per second to one chat
      expect(first.message_id).toBeGreaterThan(0);
      expect(second.message_id).toBe(first.message_id + 1);
      expect(emulator.photos).toHaveLength(2);
      expect(emulator.photos[0]!.png.equals(chart.png)).toBe(true);
      expect(emulator.photos[0]!.caption).toBe(chart.caption);
      expect(emulator.requests[0]!.body?.disable_notification).toBe(true);
    } finally {
      await emulator.close();
    }
  });
});
