export { BotWorker, type BotWorkerOptions } from './bot-worker.ts';
export { LocalBotLocks, RedisBotLocks, type BotLocks } from './locks.ts';
