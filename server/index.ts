export { createApp, checkHealth, type AppDependencies, type HealthReport } from './app.ts';
export { startHttpServer, type RunningHttpServer } from './http.ts';
export { rateLimitRedis } from './api/hardening.ts';
