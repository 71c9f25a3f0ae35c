import type { MastraModelConfig } from '@mastra/core/llm';
import { Ollama } from 'ollama';
import { createOllama } from 'ollama-ai-provider-v2';
import type { AgentName } from './intents.ts';
import { withStructuredTools, type ToolMode } from './structured-tools.ts';

export interface ModelSettings {
  /** Ollama's address, e.g. http://127.0.0.1:11434. */
  readonly host: string;
  readonly model: string;
  /** Agent → model, overriding `model` for that agent. */
  readonly agentModels: Readonly<Record<string, string>>;
  /** Longest wait for one model call. */
  readonly timeoutMs: number;
  /** How agents choose tools (native when unset here; the configuration's default is structured). */
  readonly toolMode?: ToolMode | undefined;
  /** Agent → tool mode, overriding `toolMode` for that agent. */
  readonly agentToolModes?: Readonly<Record<string, ToolMode>> | undefined;
}

export type ModelState =
  | { readonly state: 'ready'; readonly models: readonly string[] }
  | { readonly state: 'missing'; readonly models: readonly string[]; readonly message: string }
  | { readonly state: 'down'; readonly message: string };

type ChatModel = ReturnType<ReturnType<typeof createOllama>>;

/** What one turn spent in the model: calls and wall time inside them. */
export interface ModelMeter {
  calls: number;
  ms: number;
}

const STATUS_TTL_MS = 10_000;

/**
 * The one way to the local model: health and model list through the `ollama` client, chat
 * through Ollama's native /api/chat (so `think: false` reaches qwen3), metered per turn.
 */
export class ModelGateway {
  readonly settings: ModelSettings;
  readonly client: Ollama;
  readonly #provider: ReturnType<typeof createOllama>;
  #status: { at: number; value: ModelState } | undefined;

  constructor(settings: ModelSettings) {
    this.settings = settings;
    this.client = new Ollama({ host: settings.host });
    this.#provider = createOllama({ baseURL: `${settings.host}/api` });
  }

  modelFor(agent: AgentName): string {
    return this.settings.agentModels[agent] ?? this.settings.model;
  }

  toolModeFor(agent: AgentName): ToolMode {
    return this.settings.agentToolModes?.[agent] ?? this.settings.toolMode ?? 'native';
  }

  /**
   * Whether Ollama answers and has the configured models. Cached for a few seconds so a busy
   * channel doesn't ask before every message; a failed turn clears it.
   */
  async status(options: { timeoutMs?: number; fresh?: boolean } = {}): Promise<ModelState> {
    if (!options.fresh && this.#status && Date.now() - this.#status.at < STATUS_TTL_MS) return this.#status.value;
    const value = await this.#probe(options.timeoutMs ?? 1_500);
    this.#status = { at: Date.now(), value };
    return value;
  }

  forgetStatus(): void {
    this.#status = undefined;
  }

  async #probe(timeoutMs: number): Promise<ModelState> {
    const client = new Ollama({
      host: this.settings.host,
      fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    });
    let models: string[];
    try {
      models = (await client.list()).models.map((m) => m.name);
    } catch (error) {
      return { state: 'down', message: `Ollama at ${this.settings.host} is not answering (${describeError(error)})` };
    }
    const wanted = [...new Set([this.settings.model, ...Object.values(this.settings.agentModels)])];
    const absent = wanted.filter((name) => !models.some((m) => m === name || m === `${name}:latest`));
    if (absent.length > 0)
      return { state: 'missing', models, message: `model ${absent.join(', ')} not pulled in Ollama (run: botcriptofy model pull)` };
    return { state: 'ready', models };
  }

  /** The chat model for an agent, counting calls and time into `meter`. */
  chatModel(agent: AgentName, meter: ModelMeter): MastraModelConfig {
    // The provider's copy of the AI SDK spec types is a different package instance from
    // Mastra's; the runtime contract (specificationVersion v4) is the same.
    const model = this.#provider(this.modelFor(agent));
    return metered(this.toolModeFor(agent) === 'structured' ? withStructuredTools(model) : model, meter) as unknown as MastraModelConfig;
  }

  /** Pulls a model, reporting progress (bytes done of total) as Ollama streams it. */
  async pull(model: string, onProgress: (status: string, completed?: number, total?: number) => void): Promise<void> {
    const stream = await this.client.pull({ model, stream: true });
    for await (const part of stream) onProgress(part.status, part.completed || undefined, part.total || undefined);
  }
}

/** Wraps a chat model so each call counts, and the time until its stream ends is added. */
function metered(inner: ChatModel, meter: ModelMeter): ChatModel {
  const model = Object.create(inner) as ChatModel;
  model.doGenerate = async (options) => {
    const started = performance.now();
    meter.calls += 1;
    try {
      return await inner.doGenerate(options);
    } finally {
      meter.ms += performance.now() - started;
    }
  };
  model.doStream = async (options) => {
    const started = performance.now();
    meter.calls += 1;
    let result: Awaited<ReturnType<ChatModel['doStream']>>;
    try {
      result = await inner.doStream(options);
    } catch (error) {
      meter.ms += performance.now() - started;
      throw error;
    }
    const stop = () => {
      meter.ms += performance.now() - started;
    };
    const timing = new TransformStream({ transform: (chunk, controller) => controller.enqueue(chunk), flush: stop });
    return { ...result, stream: result.stream.pipeThrough(timing) };
  };
  return model;
}

export function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code) return cause.code;
  if ((error as Error).name === 'TimeoutError') return 'timed out';
  return (error as Error).message ?? String(error);
}
