import crypto from 'node:crypto';
import type { createOllama } from 'ollama-ai-provider-v2';

// Constrained tool choice for small models. In `structured` mode the model is not given
// Ollama's native tool list; instead the reply must match a JSON Schema (Ollama's `format`,
// enforced by grammar while the model generates): either {"tool": <one of the agent's tool
// names>, "arguments": <that tool's own schema>} or {"answer": "<text>"}. A 0.6B model then
// cannot name a tool that does not exist or write arguments that are not JSON of the right
// shape. The reply is turned back into a tool call or a text answer here, so Mastra's loop,
// the tool layer and the answer gate see exactly what they see in `native` mode.

export type ChatModel = ReturnType<ReturnType<typeof createOllama>>;
type StreamOptions = Parameters<ChatModel['doStream']>[0];
type StreamResult = Awaited<ReturnType<ChatModel['doStream']>>;
type GenerateResult = Awaited<ReturnType<ChatModel['doGenerate']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;
export type FunctionTool = { type: 'function'; name: string; description?: string; inputSchema: unknown };

/** How an agent's model chooses tools: Ollama's tool calling, or a reply constrained by a JSON Schema. */
export type ToolMode = 'native' | 'structured';

function functionTools(options: StreamOptions): FunctionTool[] {
  return ((options.tools ?? []) as readonly { type: string }[]).filter((tool): tool is FunctionTool => tool.type === 'function');
}

/** The reply's JSON Schema: one branch per tool (its name as the only value, its arguments' schema), and the answer. */
export function replySchema(tools: readonly FunctionTool[]): Record<string, unknown> {
  return {
    type: 'object',
    anyOf: [
      ...tools.map((tool) => ({
        type: 'object',
        properties: { tool: { type: 'string', enum: [tool.name] }, arguments: tool.inputSchema },
        required: ['tool', 'arguments'],
      })),
      { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
    ],
  };
}

/** What the model reads about the reply format and the tools (their schemas are in the grammar, not the prompt). */
export function replyInstructions(tools: readonly FunctionTool[]): string {
  return [
    'Reply with exactly one JSON object.',
    'To use a tool: {"tool": "<name>", "arguments": {…}}. To answer the person: {"answer": "<your answer>"}.',
    'Tools:',
    ...tools.map((tool) => `- ${tool.name}(${signature(tool.inputSchema)}): ${tool.description ?? ''}`.trimEnd()),
  ].join('\n');
}

/** A tool's arguments in a few tokens: `email, days?` (the grammar holds the full schema). */
function signature(schema: unknown): string {
  const { properties, required } = (schema ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.keys(properties ?? {})
    .map((name) => (required?.includes(name) ? name : `${name}?`))
    .join(', ');
}

/** The request without native tools, with the reply schema and its instructions. */
function constrained(options: StreamOptions, tools: readonly FunctionTool[]): StreamOptions {
  const prompt = [...(options.prompt as unknown as { role: string; content: unknown }[])];
  const note = replyInstructions(tools);
  const system = prompt.findIndex((message) => message.role === 'system');
  if (system >= 0) prompt[system] = { ...prompt[system]!, content: `${String(prompt[system]!.content)}\n${note}` };
  else prompt.unshift({ role: 'system', content: note });
  const { tools: _tools, toolChoice: _toolChoice, ...rest } = options as StreamOptions & { tools?: unknown; toolChoice?: unknown };
  return { ...rest, prompt, responseFormat: { type: 'json', schema: replySchema(tools) } } as unknown as StreamOptions;
}

export type StructuredReply =
  | { readonly kind: 'call'; readonly tool: string; readonly input: string }
  | { readonly kind: 'answer'; readonly text: string };

/**
 * Reads a reply: a tool call, an answer, or — when the text is not such an object (a server
 * that ignored the schema, a cut stream) — the text itself as the answer, for the answer gate.
 */
export function readStructuredReply(text: string): StructuredReply {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'answer', text };
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if (typeof record['tool'] === 'string') return { kind: 'call', tool: record['tool'], input: JSON.stringify(record['arguments'] ?? {}) };
    if (typeof record['answer'] === 'string') return { kind: 'answer', text: record['answer'] };
  }
  return { kind: 'answer', text };
}

/** The parts Mastra expects for a reply, in place of the JSON text the model streamed. */
function replyParts(reply: StructuredReply): StreamPart[] {
  if (reply.kind === 'call') {
    const id = `call_${crypto.randomUUID()}`;
    return [
      { type: 'tool-input-start', id, toolName: reply.tool },
      { type: 'tool-input-delta', id, delta: reply.input },
      { type: 'tool-input-end', id },
      { type: 'tool-call', toolCallId: id, toolName: reply.tool, input: reply.input },
    ] as StreamPart[];
  }
  const id = crypto.randomUUID();
  return [
    { type: 'text-start', id },
    { type: 'text-delta', id, delta: reply.text },
    { type: 'text-end', id },
  ] as StreamPart[];
}

/** A chat model whose tool calls go through the reply schema when tools are offered. */
export function withStructuredTools(inner: ChatModel): ChatModel {
  const model = Object.create(inner) as ChatModel;
  model.doStream = async (options) => {
    const tools = functionTools(options);
    if (tools.length === 0) return inner.doStream(options);
    const result = await inner.doStream(constrained(options, tools));
    let text = '';
    const rewrite = new TransformStream<StreamPart, StreamPart>({
      transform(part, controller) {
        const type = (part as { type: string }).type;
        if (type === 'text-delta') text += (part as { delta: string }).delta;
        else if (type === 'text-start' || type === 'text-end') return;
        else if (type === 'finish') {
          const reply = readStructuredReply(text.trim());
          for (const out of replyParts(reply)) controller.enqueue(out);
          const finish = part as { finishReason: unknown };
          controller.enqueue({
            ...part,
            finishReason: reply.kind === 'call' ? { unified: 'tool-calls', raw: 'tool_calls' } : finish.finishReason,
          } as StreamPart);
        } else controller.enqueue(part);
      },
    });
    return { ...result, stream: result.stream.pipeThrough(rewrite) };
  };
  model.doGenerate = async (options) => {
    const tools = functionTools(options as StreamOptions);
    if (tools.length === 0) return inner.doGenerate(options);
    const result = await inner.doGenerate(constrained(options as StreamOptions, tools) as Parameters<ChatModel['doGenerate']>[0]);
    const text = (result.content as { type: string; text?: string }[])
      .filter((c) => c.type === 'text')
      .map((c) => c.text ?? '')
      .join('');
    const reply = readStructuredReply(text.trim());
    const content =
      reply.kind === 'call'
        ? [{ type: 'tool-call', toolCallId: `call_${crypto.randomUUID()}`, toolName: reply.tool, input: reply.input }]
        : [{ type: 'text', text: reply.text }];
    return {
      ...result,
      content,
      finishReason: reply.kind === 'call' ? { unified: 'tool-calls', raw: 'tool_calls' } : result.finishReason,
    } as GenerateResult;
  };
  return model;
}
