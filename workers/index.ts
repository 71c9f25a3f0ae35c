export { BotWorker, type BotWorkerOptions } from './bot-worker.ts';
export { LocalBotLocks, RedisBotLocks, workerHeartbeats, type BotLocks } from './locks.ts';
export { createWorkerService, type ScheduledTask, type WorkerService, type WorkerServiceOptions } from './service.ts';
