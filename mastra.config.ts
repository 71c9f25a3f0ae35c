import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { MastraLogger } from '@mastra/core/logger';
import { MastraCompositeStore } from '@mastra/core/storage';
import { AGENT_NAMES, type ModelGateway, instructionsFor, mastraToolsFor, turnOf, type AgentName } from './agents/index.ts';
import { BillingService } from './billing/index.ts';
import { PostgresMemoryStorage, PostgresWorkflowsStorage, type Database } from './db/index.ts';
import type { Logger, Metrics } from './observability/index.ts';
import type { MarketDataSource } from './trading/index.ts';
import { createWorkflows } from './workflows/index.ts';

// The one Mastra instance: the ten agents on the local Ollama model, their tools, and Mastra
// storage in the company's own PostgreSQL, embedded or server: conversation memory (threads
// and messages; a turn reads and writes them itself, see agents/conversation.ts) and workflow
// snapshots (db/mastra-workflows.ts: a run resumes from its last completed step after a crash).

export interface MastraOptions {
  readonly db: Database;
  readonly gateway: ModelGateway;
  readonly logger: Logger;
  /** What the workflows bill through (local mode without it). */
  readonly billing?: BillingService | undefined;
  readonly metrics?: Metrics | undefined;
  /** The workflows' clock (tests pin it). */
  readonly now?: (() => Date) | undefined;
  /** Where workflow backtests fetch candles (only the cache without it). */
  readonly marketData?: MarketDataSource | undefined;
  /** Configured secret values: a model text quoting one is never shown (the answer gate). */
  readonly secrets?: readonly string[] | undefined;
}

/** Mastra's logger interface over the process's pino logger. */
class PinoMastraLogger extends MastraLogger {
  readonly #pino: Logger;
  constructor(pino: Logger) {
    super({ name: 'mastra' });
    this.#pino = pino.child({ component: 'mastra' });
  }
  debug(message: string, ...args: unknown[]): void {
    this.#pino.debug({ args }, message);
  }
  info(message: string, ...args: unknown[]): void {
    this.#pino.info({ args }, message);
  }
  warn(message: string, ...args: unknown[]): void {
    this.#pino.warn({ args }, message);
  }
  error(message: string, ...args: unknown[]): void {
    this.#pino.error({ args }, message);
  }
}

export function createMastra({ db, gateway, logger, billing, metrics, now, marketData, secrets }: MastraOptions): Mastra {
  const agents: Record<string, Agent> = {};
  for (const name of AGENT_NAMES) {
    agents[name] = new Agent({
      id: name,
      name,
      instructions: instructionsFor(name),
      // The model is chosen per turn so that each turn meters its own calls.
      model: ({ requestContext }) => gateway.chatModel(name as AgentName, turnOf(requestContext).meter),
      tools: mastraToolsFor(name),
    });
  }
  return new Mastra({
    agents,
    workflows: createWorkflows({
      db,
      gateway,
      logger,
      metrics,
      billing: billing ?? new BillingService(db, undefined),
      now: now ?? (() => new Date()),
      marketData,
      secrets,
    }),
    storage: new MastraCompositeStore({
      id: 'botcriptofy',
      domains: { memory: new PostgresMemoryStorage(db), workflows: new PostgresWorkflowsStorage(db) },
    }),
    logger: new PinoMastraLogger(logger),
  });
}
