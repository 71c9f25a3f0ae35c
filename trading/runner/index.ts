export { BotRunner, tickBots, type BotRunnerDeps, type TickReport } from './bot-runner.ts';
export { clientOrderIdFor } from './client-order-id.ts';
export type { BotEvent } from './events.ts';
export { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.ts';
