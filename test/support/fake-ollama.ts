import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A scripted server speaking Ollama's HTTP protocol (/api/tags, /api/chat with tool calls,
// streaming or not, /api/pull with progress, /api/version), so the real client and provider
// code runs in tests. The "model" is a function of the request the test writes.

export interface OllamaChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  readonly tool_calls?: readonly { function: { name: string; arguments: unknown } }[];
  readonly tool_name?: string;
}

export interface OllamaChatRequest {
  readonly model: string;
  readonly messages: readonly OllamaChatMessage[];
  readonly tools?: readonly { type: 'function'; function: { name: string; description: string; parameters: unknown } }[];
  readonly stream?: boolean;
  readonly think?: boolean;
  /** A JSON Schema the reply must match (structured tool choice), or "json". */
  readonly format?: unknown;
  readonly options?: Record<string, unknown>;
}

export type ScriptedReply =
  | { readonly content: string }
  | { readonly toolCalls: readonly { name: string; arguments: Record<string, unknown> | string }[] }
  | { readonly status: number; readonly error: string }
  /** Streams the first part of an answer, then goes silent until the client gives up. */
  | { readonly stall: string };

export type ChatScript = (request: OllamaChatRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface FakeOllama {
  readonly url: string;
  /** Every /api/chat request received, in order. */
  readonly chats: OllamaChatRequest[];
  script: ChatScript;
  /** Models /api/tags lists. */
  models: string[];
  /** Milliseconds to wait before answering /api/chat (a slow model). */
  delayMs: number;
  close(): Promise<void>;
}

const MODEL_DETAILS = {
  parent_model: '',
  format: 'gguf',
  family: 'qwen3',
  families: ['qwen3'],
  parameter_size: '751.63M',
  quantization_level: 'Q4_K_M',
};

export async function startFakeOllama(script: ChatScript, options: { models?: string[] } = {}): Promise<FakeOllama> {
  const state = { script, models: options.models ?? ['qwen3:0.6b'], delayMs: 0 };
  const chats: OllamaChatRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.url === '/api/version') return json(200, { version: '0.12.6' });
      if (req.url === '/api/tags') {
        return json(200, {
          models: state.models.map((name) => ({
            name,
            model: name,
            modified_at: '2026-11-01T00:00:00Z',
            size: 522_653_767,
            digest: 'sha256:7df6b6e09427',
            details: MODEL_DETAILS,
          })),
        });
      }
      if (req.url === '/api/pull') return pull(JSON.parse(body) as { model?: string; name?: string; stream?: boolean }, res, state.models);
      if (req.url === '/api/chat') {
        const request = JSON.parse(body) as OllamaChatRequest;
        chats.push(request);
        if (!state.models.includes(request.model)) return json(404, { error: `model "${request.model}" not found, try pulling it first` });
        if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
        if (res.destroyed) return;
        const structured = structuredTools(request.format);
        // Scripts see the tools offered either way; in structured mode they are the schema's branches.
        const raw = await state.script(
          structured && !request.tools
            ? {
                ...request,
                tools: structured.map((name) => ({ type: 'function' as const, function: { name, description: '', parameters: {} } })),
              }
            : request,
        );
        const reply = structured ? constrain(raw, structured) : raw;
        if ('status' in reply) return json(reply.status, { error: reply.error });
        if ('stall' in reply) {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          res.write(
            `${JSON.stringify({ model: request.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: reply.stall }, done: false })}\n`,
          );
          await new Promise<void>((resolve) => res.once('close', () => resolve()));
          return;
        }
        const message =
          'content' in reply
            ? { role: 'assistant', content: reply.content }
            : {
                role: 'assistant',
                content: '',
                tool_calls: reply.toolCalls.map((call) => ({ function: { name: call.name, arguments: call.arguments } })),
              };
        const done = {
          model: request.model,
          created_at: new Date().toISOString(),
          done: true,
          done_reason: 'stop',
          total_duration: 1_000_000,
          load_duration: 0,
          prompt_eval_count: 100,
          prompt_eval_duration: 1,
          eval_count: 20,
          eval_duration: 1,
        };
        if (request.stream === false) return json(200, { ...done, message });
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ model: request.model, created_at: done.created_at, message, done: false })}\n`);
        res.end(`${JSON.stringify({ ...done, message: { role: 'assistant', content: '' } })}\n`);
        return;
      }
      json(404, { error: `unknown path ${req.url}` });
    } catch (error) {
      if (!res.headersSent) json(500, { error: (error as Error).message });
      else res.end();
    }
  });
  // Ollama (a Go server) keeps idle connections open; Node's 5 s default would reset a pooled
  // connection that a client reuses after a long pause (a seeding, a slow test).
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    chats,
    get script() {
      return state.script;
    },
    set script(value) {
      state.script = value;
    },
    get models() {
      return state.models;
    },
    set models(value) {
      state.models = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value) {
      state.delayMs = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The tool names a structured-output schema allows (agents/structured-tools.ts), or undefined. */
function structuredTools(format: unknown): string[] | undefined {
  const branches = (format as { anyOf?: { properties?: { tool?: { enum?: string[] } } }[] } | undefined)?.anyOf;
  if (!Array.isArray(branches)) return undefined;
  return branches.flatMap((branch) => branch.properties?.tool?.enum ?? []);
}

/**
 * What Ollama's grammar lets through for a structured request: one JSON object, a tool call
 * (only a name of the schema: a name outside it cannot be generated, so the first allowed
 * name comes out instead; the arguments are not checked against their schema here) or an answer.
 */
function constrain(reply: ScriptedReply, tools: readonly string[]): ScriptedReply {
  if ('toolCalls' in reply) {
    const call = reply.toolCalls[0]!;
    const args = typeof call.arguments === 'string' ? {} : call.arguments;
    return { content: JSON.stringify({ tool: tools.includes(call.name) ? call.name : tools[0], arguments: args }) };
  }
  if ('content' in reply) return { content: JSON.stringify({ answer: reply.content }) };
  if ('stall' in reply) return { stall: '{"answer": "' };
  return reply;
}

function pull(request: { model?: string; name?: string; stream?: boolean }, res: http.ServerResponse, models: string[]) {
  const name = request.model ?? request.name ?? '';
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const total = 522_653_767;
  const lines = [
    { status: 'pulling manifest' },
    ...[0, 0.25, 0.5, 0.75, 1].map((share) => ({
      status: 'pulling 7df6b6e09427',
      digest: 'sha256:7df6b6e09427',
      total,
      completed: Math.round(total * share),
    })),
    { status: 'verifying sha256 digest' },
    { status: 'writing manifest' },
    { status: 'success' },
  ];
  if (!models.includes(name)) models.push(name);
  res.end(`${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The last message of a request, and the tool results the model has seen this turn. */
export function lastMessage(request: OllamaChatRequest): OllamaChatMessage {
  return request.messages[request.messages.length - 1]!;
}

export function toolResults(request: OllamaChatRequest): unknown[] {
  const lastUser = request.messages.map((m) => m.role).lastIndexOf('user');
  return request.messages
    .slice(lastUser + 1)
    .filter((m) => m.role === 'tool')
    .map((m) => {
      try {
        return JSON.parse(m.content) as unknown;
      } catch {
        return m.content;
      }
    });
}
