import { z } from 'zod';
import {
  bollingerReversionRules,
  emaCrossRules,
  macdCrossRules,
  rsiReferenceRules,
  rsiRules,
  type BollingerParameters,
  type EmaParameters,
  type MacdParameters,
  type RsiParameters,
  type RsiStopParameters,
} from './rules.ts';
import type { Strategy } from './types.ts';

// Each strategy of rules.ts with the schema of its parameters; the defaults come from the rules.

const percent = (fallback: number) => z.number().gt(0, { error: 'must be > 0 %' }).max(100, { error: 'must be ≤ 100 %' }).default(fallback);
const period = (fallback: number, max = 500) =>
  z
    .number()
    .int({ error: 'must be a whole number' })
    .min(2, { error: 'must be ≥ 2' })
    .max(max, { error: `must be ≤ ${max}` })
    .default(fallback);
const level = (fallback: number) => z.number().gt(0, { error: 'must be > 0' }).lt(100, { error: 'must be < 100' }).default(fallback);

const rsiThresholds = (d: RsiParameters) => ({
  rsiPeriod: period(d.rsiPeriod),
  rsiBuy: level(d.rsiBuy),
  rsiSell: level(d.rsiSell),
});
const buyBelowSell = (p: { rsiBuy: number; rsiSell: number }) => p.rsiBuy < p.rsiSell;
const buyBelowSellMessage = { error: 'rsiBuy must be below rsiSell' };

export const rsiReference: Strategy<RsiParameters> = {
  ...rsiReferenceRules,
  parameters: z.strictObject(rsiThresholds(rsiReferenceRules.defaults)).refine(buyBelowSell, buyBelowSellMessage),
};

const rsiDefaults = rsiRules.defaults;
export const rsiStrategy: Strategy<RsiStopParameters> = {
  ...rsiRules,
  parameters: z
    .strictObject({
      ...rsiThresholds(rsiDefaults),
      stopLossPct: percent(rsiDefaults.stopLossPct),
      takeProfitPct: percent(rsiDefaults.takeProfitPct),
    })
    .refine(buyBelowSell, buyBelowSellMessage),
};

const macdDefaults = macdCrossRules.defaults;
export const macdCross: Strategy<MacdParameters> = {
  ...macdCrossRules,
  parameters: z
    .strictObject({
      fastPeriod: period(macdDefaults.fastPeriod),
      slowPeriod: period(macdDefaults.slowPeriod),
      signalPeriod: period(macdDefaults.signalPeriod),
      stopLossPct: percent(macdDefaults.stopLossPct),
      takeProfitPct: percent(macdDefaults.takeProfitPct),
    })
    .refine((p) => p.fastPeriod < p.slowPeriod, { error: 'fastPeriod must be below slowPeriod' }),
};

const emaDefaults = emaCrossRules.defaults;
export const emaCross: Strategy<EmaParameters> = {
  ...emaCrossRules,
  parameters: z
    .strictObject({
      fastPeriod: period(emaDefaults.fastPeriod),
      slowPeriod: period(emaDefaults.slowPeriod),
      stopLossPct: percent(emaDefaults.stopLossPct),
      takeProfitPct: percent(emaDefaults.takeProfitPct),
    })
    .refine((p) => p.fastPeriod < p.slowPeriod, { error: 'fastPeriod must be below slowPeriod' }),
};

const bollingerDefaults = bollingerReversionRules.defaults;
export const bollingerReversion: Strategy<BollingerParameters> = {
  ...bollingerReversionRules,
  parameters: z.strictObject({
    period: period(bollingerDefaults.period),
    stdDevs: z.number().gt(0, { error: 'must be > 0' }).max(5, { error: 'must be ≤ 5' }).default(bollingerDefaults.stdDevs),
    stopLossPct: percent(bollingerDefaults.stopLossPct),
    takeProfitPct: percent(bollingerDefaults.takeProfitPct),
  }),
};
