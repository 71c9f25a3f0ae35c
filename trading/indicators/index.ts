export { Ema, Sma, ema, sma, runSeries } from './moving-averages.ts';
export { Macd, Rsi, macd, rsi, type MacdOptions, type MacdValue } from './oscillators.ts';
export { Atr, Bollinger, atr, bollinger, type BollingerValue } from './volatility.ts';
