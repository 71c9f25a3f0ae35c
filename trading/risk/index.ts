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
export {
  activePairLocks,
  ALL_PAIRS,
  entryLock,
  lockPair,
  STOP_LOSS_COOLDOWN_REASON,
  unlockPairs,
  type NewPairLock,
  type PairLockRow,
} from './locks.ts';
