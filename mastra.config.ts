import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { MastraLogger } from '@mastra/core/logger';
import { ToolCallFilter } from '@mastra/core/processors';
import { MastraCompositeStore } from '@mastra/core/storage';
import { Memory } from '@mastra/memory';
import { AGENT_NAMES, ModelGateway, instructionsFor, mastraToolsFor, turnOf, type AgentName } from './agents/index.ts';
import { PostgresMemoryStorage, type Database } from './db/index.ts';
import type { Logger } from './observability/index.ts';

// The one Mastra instance: the ten agents on the local Ollama model, their tools, and Mastra
// storage (conversation memory) in the company's own PostgreSQL, embedded or server.

export interface MastraOptions {
  readonly db: Database;
  readonly gateway: ModelGateway;
  readonly logger: Logger;
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

/** How many earlier messages of the same conversation the model sees. */
export const MEMORY_LAST_MESSAGES = 6;

export function createMastra({ db, gateway, logger }: MastraOptions): Mastra {
  const memory = new Memory({ options: { lastMessages: MEMORY_LAST_MESSAGES, semanticRecall: false, generateTitle: false } });
  const agents: Record<string, Agent> = {};
  for (const name of AGENT_NAMES) {
    agents[name] = new Agent({
      id: name,
      name,
      instructions: instructionsFor(name),
      // The model is chosen per turn so that each turn meters its own calls.
      model: ({ requestContext }) => gateway.chatModel(name as AgentName, turnOf(requestContext).meter),
      tools: mastraToolsFor(name),
      memory,
      // Earlier turns' tool calls and results stay out of the prompt: they cost a small model
      // its context, and their figures are stale (grounding accepts only this turn's results).
      inputProcessors: [new ToolCallFilter()],
    });
  }
  return new Mastra({
    agents,
    storage: new MastraCompositeStore({ id: 'botcriptofy', domains: { memory: new PostgresMemoryStorage(db) } }),
    logger: new PinoMastraLogger(logger),
  });
}
