export { BotWorker, type BotWorkerOptions } from './bot-worker.ts';
export { LocalBotLocks, RedisBotLocks, workerHeartbeats, type BotLocks } from './locks.ts';
export { readBotFleetHealth, type BotFleetHealth, type WorkerSeen } from './health.ts';
export { readDeploymentStatus, type DeploymentStatus, type DeploymentStatusOptions } from './status.ts';
export { createWorkerService, type ScheduledTask, type WorkerService, type WorkerServiceOptions } from './service.ts';
