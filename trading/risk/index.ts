export {
  DEFAULT_RISK_LIMITS,
  checkOrder,
  riskLimitsSchema,
  roundToStep,
  type MarketRules,
  type OrderProposal,
  type RiskDecision,
  type RiskLimits,
  type RiskRule,
  type RiskState,
} from './gate.ts';
