import { ModelGateway, type AgentRuntime } from '../agents/index.ts';
import { createMastra } from '../mastra.config.ts';
import type { Metrics } from '../observability/index.ts';
import { exchangeWhenReachable } from '../trading/index.ts';
import type { Runtime } from './open-runtime.ts';

/**
 * The agents over an open runtime: the model gateway and the one Mastra instance. Its workflows'
 * backtests (bot onboarding) download missing candles as `run_backtest` does for `ask`.
 */
export function openAgents(runtime: Runtime, metrics?: Metrics): AgentRuntime {
  const gateway = new ModelGateway(runtime.config.ollama);
  return {
    mastra: createMastra({
      db: runtime.database.db,
      gateway,
      logger: runtime.logger,
      billing: runtime.billing,
      metrics,
      secrets: runtime.secrets,
      marketData: exchangeWhenReachable(runtime.paperMarkets),
    }),
    gateway,
    logger: runtime.logger,
    metrics,
    secrets: runtime.secrets,
  };
}
