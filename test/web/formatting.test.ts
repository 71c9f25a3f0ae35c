import { describe, expect, it } from 'vitest';
import {
  formatBrl,
  formatDateTime,
  formatDay,
  formatPct,
  formatPrice,
  formatQuote,
  translate,
  viewerTimeZone,
  type Locale,
} from '../../web/src/i18n.ts';
import { MESSAGES } from '../../web/src/messages.ts';
import { candlesOfCsv, toCsv } from '../../web/src/csv.ts';
import type { UTCTimestamp } from 'lightweight-charts';
import { localFormat, timeFormatters } from '../../web/src/chart.ts';

// The dashboard's formatting of money, percentages and times in both languages (issue 17), and
// its texts: the two tables have the same keys and the same placeholders.

const pt: Locale = { language: 'pt-BR', timeZone: 'America/Sao_Paulo' };
const en: Locale = { language: 'en', timeZone: 'America/Sao_Paulo' };
// Intl separates a currency symbol or a percent sign with a no-break space in pt-BR.
const nb = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('dashboard formatting', () => {
  it('writes USDT amounts with each language’s separators, exact decimal strings rounded only for display', () => {
    expect(formatQuote(pt, 1234.5)).toBe('1.234,50 USDT');
    expect(formatQuote(en, 1234.5)).toBe('1,234.50 USDT');
    expect(formatQuote(pt, '-11.43230144', { signed: true })).toBe('-11,43 USDT');
    expect(formatQuote(en, '32.11074421', { signed: true })).toBe('+32.11 USDT');
    expect(formatQuote(en, 0, { signed: true })).toBe('0.00 USDT');
    expect(formatQuote(pt, null)).toBe('—');
  });

  it("shows times in the viewer's own time zone, the one the runtime's Intl reports", () => {
    const before = process.env.TZ;
    try {
      // Node reads TZ again when it changes, as a browser reports the device's zone.
      process.env.TZ = 'Asia/Tokyo';
      expect(viewerTimeZone()).toBe('Asia/Tokyo');
      process.env.TZ = 'Europe/Lisbon';
      expect(viewerTimeZone()).toBe('Europe/Lisbon');
      expect(formatDateTime({ language: 'pt-BR', timeZone: viewerTimeZone() }, '2026-07-01T12:00:00Z')).toBe('01/07/2026, 13:00');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('writes prices with the decimals they need', () => {
    expect(formatPrice(pt, '45185.93')).toBe('45.185,93');
    expect(formatPrice(en, 0.512345)).toBe('0.512345');
    expect(formatPrice(en, 3.5)).toBe('3.50');
  });

  it('writes plan prices in reais', () => {
    expect(nb(formatBrl(pt, 14_990))).toBe('R$ 149,90');
    expect(formatBrl(en, 14_990)).toBe('R$149.90');
  });

  it('writes percentages given in percent', () => {
    expect(nb(formatPct(pt, '-0.6294', { signed: true }))).toBe('-0,63%');
    expect(formatPct(en, 1.798, { signed: true })).toBe('+1.80%');
    expect(nb(formatPct(pt, 72.727))).toBe('72,73%');
    expect(formatPct(en, null)).toBe('—');
  });

  it('shows times in the person’s time zone (São Paulo, UTC−3) and the API’s UTC days as those days', () => {
    expect(nb(formatDateTime(pt, '2026-10-29T18:00:00.000Z'))).toBe('29/10/2026, 15:00');
    expect(nb(formatDateTime(en, '2026-10-29T18:00:00.000Z'))).toBe('10/29/26, 3:00 PM');
    expect(nb(formatDateTime({ language: 'en', timeZone: 'UTC' }, '2026-10-29T18:00:00.000Z'))).toBe('10/29/26, 6:00 PM');
    // 2026-12-01 is that day, not the evening before in São Paulo.
    expect(formatDay(pt, '2026-12-01')).toBe('1 de dez. de 2026');
    expect(formatDay(en, '2026-12-01')).toBe('Dec 1, 2026');
  });

  it('has every text in both languages with the same placeholders', () => {
    const keys = Object.keys(MESSAGES.en).sort();
    expect(Object.keys(MESSAGES['pt-BR']).sort()).toEqual(keys);
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of keys as (keyof typeof MESSAGES.en)[]) {
      expect(placeholders(MESSAGES['pt-BR'][key]), key).toEqual(placeholders(MESSAGES.en[key]));
      if (key !== 'appName' && key !== 'chartTitle' && key !== 'actionDone') expect(MESSAGES['pt-BR'][key], key).not.toBe('');
    }
    expect(translate('pt-BR', 'signedInAs', { name: 'Ana' })).toBe('Conectado como Ana');
    expect(translate('en', 'signedInAs', { name: 'Ana' })).toBe('Signed in as Ana');
  });

  it('exports CSV with quoting where a cell needs it', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['1', 'x,y'],
          ['say "hi"', null],
        ],
      ),
    ).toBe('a,b\r\n1,"x,y"\r\n"say ""hi""",\r\n');
  });
});

describe('an uploaded candle file, drawn', () => {
  it('reads timestamp,open,high,low,close,volume lines, skips a header and bad lines, keeps the last bars', () => {
    const text = 'timestamp,open,high,low,close,volume\r\n1704063600000,1,2,0.5,1.5,10\nbad,line\n1704067200000,1.5,3,1,2,20\n';
    const drawn = candlesOfCsv(text, 'BTC/USDT', '1h');
    expect(drawn.candles).toEqual([
      { time: '2023-12-31T23:00:00.000Z', open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
      { time: '2024-01-01T00:00:00.000Z', open: 1.5, high: 3, low: 1, close: 2, volume: 20 },
    ]);
    expect(candlesOfCsv(text, 'BTC/USDT', '1h', 1).candles.map((c) => c.close)).toEqual([2]);
  });
});

describe("a chart's time axis", () => {
  it('labels moments in the time zone and calendar days (the profit bars) as the day itself, never an invalid date', () => {
    const f = timeFormatters(pt);
    // 2026-12-01T00:00Z is still 30 Nov in São Paulo.
    expect(f.tick((Date.UTC(2026, 11, 1) / 1000) as UTCTimestamp, 2)).toBe('30 de nov.');
    expect(f.tick((Date.UTC(2026, 11, 1, 15) / 1000) as UTCTimestamp, 3)).toBe('12:00');
    // A day string or a business day is that day, whatever the zone; a month's mark names the month.
    expect(f.tick('2026-12-01', 2)).toBe('01 de dez.');
    expect(f.tick({ year: 2026, month: 12, day: 1 }, 2)).toBe('01 de dez.');
    expect(f.tick('2026-12-01', 1)).toBe('dez. de 2026');
    expect(f.crosshair('2026-12-01')).toBe('1 de dez. de 2026');
    expect(timeFormatters(en).crosshair('2026-12-01')).toBe('Dec 1, 2026');
  });
});

describe("a chart pane's own number format", () => {
  it('writes equity with 2 decimals and the drawdown with its percent sign, in each language', () => {
    expect(localFormat(pt, 2).formatter(10218.8123)).toBe('10.218,81');
    expect(localFormat(en, 2).formatter(10218.8123)).toBe('10,218.81');
    expect(localFormat(pt, 2, ' %').formatter(-8.6)).toBe('-8,60 %');
    expect(localFormat(en, 2, ' %').formatter(-8.6)).toBe('-8.60 %');
  });
});
