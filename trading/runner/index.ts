export { BotRunner, StaleOwnerError, tickBots, type BotRunnerDeps, type TickOptions, type TickReport } from './bot-runner.ts';
export { clientOrderIdFor, forceExitOrderIdFor } from './client-order-id.ts';
export type { BotEvent } from './events.ts';
export { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.ts';
export { notifyBotEvent, notifyBotStatus } from './notify.ts';
export {
  runningBots,
  takeOverBot,
  claimTickSlot,
  claimTickSlots,
  openPositionsOf,
  markBotsTicked,
  readTickActivity,
  type RunningBot,
  type TickActivity,
} from './ownership.ts';
