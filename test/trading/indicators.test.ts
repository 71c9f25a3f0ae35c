import { describe, expect, it } from 'vitest';
import { Atr, Bollinger, Ema, Macd, Rsi, Sma, atr, bollinger, ema, macd, rsi, sma } from '../../trading/indicators/index.ts';
import { lcg } from '../support/random.ts';

// Reference vectors: Tulip Indicators' test data (tests/atoz.txt), taken from "Technical
// Analysis from A to Z" (Achelis) and its companion spreadsheet. Each output list starts at
// the indicator's first valid bar. The book prints 3–4 decimals (the MACD spreadsheet 9), so
// a value matches when it is within 1e-6 relative OR within half a unit of the last printed
// decimal, whichever is looser: that is all the printed figure can tell.

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Compares computed values (from `start`) with printed reference figures. */
function expectMatches(actual: ArrayLike<number>, start: number, printed: string): void {
  const figures = printed.split(',');
  expect(actual.length - start).toBe(figures.length);
  figures.forEach((figure, k) => {
    const expected = Number(figure);
    const tolerance = Math.max(1e-6 * Math.abs(expected), 0.5 * 10 ** -decimalsOf(figure.trim())) + 1e-12;
    const value = actual[start + k]!;
    if (!(Math.abs(value - expected) <= tolerance)) {
      throw new Error(`index ${start + k}: computed ${value}, reference ${figure} (tolerance ${tolerance})`);
    }
  });
  for (let i = 0; i < start; i++) expect(actual[i], `warm-up index ${i}`).toBeNaN();
}

const nums = (text: string) => text.split(',').map(Number);

describe('indicators against Technical Analysis from A to Z', () => {
  it('SMA(5), page 207', () => {
    expectMatches(sma(nums('25,24.875,24.781,24.594,24.5,24.625,25.219,27.25'), 5), 4, '24.75,24.675,24.744,25.238');
  });

  it('EMA(5), page 209, seeded with the first value', () => {
    const out = ema(nums('25,24.875,24.781,24.594,24.5,24.625,25.219,27.25'), 5);
    expectMatches(out, 0, '25,24.958,24.899,24.797,24.698,24.674,24.856,25.654');
  });

  it("Wilder's RSI(5), page 299", () => {
    const closes = nums(
      '37.875,39.5,38.75,39.8125,40,39.875,40.1875,41.25,41.125,41.625,41.25,40.1875,39.9375,39.9375,40.5,41.9375,42.25,42.25,41.875,41.875',
    );
    expectMatches(
      rsi(closes, 5),
      5,
      '76.6667,78.8679,84.9158,81.4863,84.5968,73.0851,49.3173,45.0119,45.0119,57.9252,75.9596,78.4676,78.4676,65.6299,65.6299',
    );
  });

  it("MACD(12, 26, 9), page 202 companion spreadsheet (Appel's 0.15/0.075 smoothing)", () => {
    const closes = nums(
      '63.75,63.625,63,62.75,63.25,65.375,66,65,64.875,64.75,64.375,64.375,64.625,64.375,64.5,65.25,67.875,68,66.875,66.25,65.875,66,65.875,64.75,63,63.375,63.375,63.375,63.875,65.5,63.25,60.75,57.25,59.125,59.25,58.5,59.125,59.75,60.625,60.5,59,59.5,58.875,59.625,59.875,59.75,59.625,59.25,58.875,59.125,60.875,60.75,61.125,62.5,63.25',
    );
    const out = macd(closes, 12, 26, 9, { smoothing: 'appel' });
    expectMatches(
      out.macd,
      25,
      '0.069246173,-0.056749361,-0.155174919,-0.193316296,-0.099255145,-0.192932945,-0.45191662,-0.912958472,-1.124556845,-1.268899802,-1.424364329,-1.483699214,-1.466784652,-1.37135925,-1.290278236,-1.324512659,-1.299028706,-1.311252875,-1.249862534,-1.168783424,-1.101261161,-1.045157593,-1.01741314,-1.012278166,-0.978102663,-0.808978519,-0.676278653,-0.536210248,-0.316924099,-0.084694969',
    );
    expectMatches(
      out.signal,
      25,
      '0.069246173,0.044047066,0.004202669,-0.035301124,-0.048091928,-0.077060132,-0.152031429,-0.304216838,-0.468284839,-0.628407832,-0.787599131,-0.926819148,-1.034812249,-1.102121649,-1.139752966,-1.176704905,-1.201169665,-1.223186307,-1.228521552,-1.216573927,-1.193511374,-1.163840617,-1.134555122,-1.110099731,-1.083700317,-1.028755957,-0.958260496,-0.873850447,-0.762465177,-0.626911135',
    );
    expectMatches(
      out.histogram,
      25,
      '0,-0.100796427,-0.159377588,-0.158015172,-0.051163217,-0.115872813,-0.29988519,-0.608741634,-0.656272006,-0.64049197,-0.636765198,-0.556880067,-0.431972403,-0.269237601,-0.15052527,-0.147807754,-0.097859041,-0.088066568,-0.021340981,0.047790503,0.092250213,0.118683025,0.117141982,0.097821565,0.105597654,0.219777438,0.281981844,0.337640199,0.445541078,0.542216167',
    );
  });

  it('Bollinger bands(5, 2), page 73', () => {
    const closes = nums(
      '31.875,32.125,32.3125,32.125,31.875,32.3125,32.25,32.4375,32.8125,32.375,32.5,32.4375,32.75,33.1875,33.0625,33.0625,33.125,33.0625,32.8125,32.875,33.25,33.125',
    );
    const out = bollinger(closes, 5, 2);
    expectMatches(
      out.lower,
      4,
      '31.7271,31.8279,31.8452,31.8176,31.7323,32.0422,32.0992,32.2023,32.2268,32.0552,32.1927,32.3546,32.7354,33.0,32.8071,32.7451,32.7029,32.7029',
    );
    expectMatches(
      out.middle,
      4,
      '32.0625,32.15,32.175,32.2,32.3375,32.4375,32.475,32.5125,32.575,32.65,32.7875,32.9,33.0375,33.1,33.025,32.9875,33.025,33.025',
    );
    expectMatches(
      out.upper,
      4,
      '32.3979,32.4721,32.5048,32.5824,32.9427,32.8328,32.8508,32.8227,32.9232,33.2448,33.3823,33.4454,33.3396,33.2,33.2429,33.2299,33.3471,33.3471',
    );
  });

  it('ATR(4), page 70', () => {
    const high = nums(
      '12.3125,12.25,12.3125,12.2812,12.375,12.375,12.3125,12.375,12.5,12.5938,12.3438,12.4062,12.375,12.4062,12.375,12.2812,12.25,12.0625,12.3125,12.3125',
    );
    const low = nums(
      '12.1875,12.1562,12.1875,12.125,12.125,12.2812,12.1875,12.1875,12.2812,12.3125,12.2812,12.2812,12.2812,12.2812,11.9688,12.0938,12.,11.6562,12.1562,12.125',
    );
    const close = nums(
      '12.25,12.1875,12.25,12.1875,12.375,12.3125,12.2188,12.3438,12.5,12.375,12.3438,12.3438,12.2812,12.375,12.0938,12.1562,12.0625,11.9688,12.1875,12.1562',
    );
    expectMatches(
      atr(high, low, close, 4),
      3,
      '.125,.1563,.1406,.1367,.1494,.1668,.1954,.17,.1587,.1425,.1381,.2052,.2007,.213,.2614,.2819,.2583',
    );
  });
});

describe('incremental indicators give the batch values exactly', () => {
  // A long pseudo-random walk, so rounding paths are exercised over many bars.
  const n = 5000;
  const close = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const random = lcg(12345);
  let price = 30000;
  for (let i = 0; i < n; i++) {
    price *= 1 + (random() - 0.5) * 0.01;
    close[i] = price;
    high[i] = price * (1 + random() * 0.004);
    low[i] = price * (1 - random() * 0.004);
  }

  it('for every indicator, bar by bar', () => {
    const batch = {
      sma: sma(close, 20),
      ema: ema(close, 9),
      rsi: rsi(close, 14),
      macd: macd(close, 12, 26, 9),
      bb: bollinger(close, 20, 2),
      atr: atr(high, low, close, 14),
    };
    const live = {
      sma: new Sma(20),
      ema: new Ema(9),
      rsi: new Rsi(14),
      macd: new Macd(12, 26, 9),
      bb: new Bollinger(20, 2),
      atr: new Atr(14),
    };
    for (let i = 0; i < n; i++) {
      expect(Object.is(live.sma.update(close[i]!), batch.sma[i])).toBe(true);
      expect(Object.is(live.ema.update(close[i]!), batch.ema[i])).toBe(true);
      expect(Object.is(live.rsi.update(close[i]!), batch.rsi[i])).toBe(true);
      const m = live.macd.update(close[i]!);
      expect(Object.is(m, batch.macd.macd[i])).toBe(true);
      if (!Number.isNaN(m)) expect(live.macd.value.signal).toBe(batch.macd.signal[i]);
      const b = live.bb.update(close[i]!);
      if (!Number.isNaN(b)) expect(live.bb.value.upper).toBe(batch.bb.upper[i]);
      expect(Object.is(live.atr.update(high[i]!, low[i]!, close[i]!), batch.atr[i])).toBe(true);
    }
  });

  it('RSI stays within 0..100 and is 50 on a flat market', () => {
    for (const value of rsi(close, 14))
      if (!Number.isNaN(value)) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(100);
      }
    expect(rsi(new Float64Array(30).fill(100), 14)[20]).toBe(50);
  });

  it('rejects impossible periods', () => {
    expect(() => new Sma(0)).toThrow(RangeError);
    expect(() => new Rsi(2.5)).toThrow(/whole number/);
    expect(() => new Macd(26, 12, 9)).toThrow(/shorter/);
  });
});
