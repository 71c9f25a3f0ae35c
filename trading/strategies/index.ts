export { ENTER, EXIT, HOLD, type Signal, type Strategy, type StrategyExits, type StrategyRules, type StrategyRunner } from './types.ts';
export { STRATEGY_RULES, strategyRules } from './rules.ts';
export { bollingerReversion, emaCross, macdCross, rsiReference, rsiStrategy } from './catalogue.ts';
export {
  DEFAULT_STRATEGY,
  STRATEGIES,
  StrategyError,
  describeParameters,
  getStrategy,
  parseParameterAssignments,
  parseStrategyParameters,
} from './registry.ts';
