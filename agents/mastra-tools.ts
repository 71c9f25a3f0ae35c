import { createTool } from '@mastra/core/tools';
import type { RequestContext } from '@mastra/core/request-context';
import { z } from 'zod';
import { departments } from '../db/index.ts';
import { TOOLS, type ToolDefinition, type ToolOutcome } from '../tools/index.ts';
import type { ModelMeter } from './model.ts';
import type { AgentName } from './intents.ts';
import { AGENT_TOOLSETS } from './toolsets.ts';

/** What a turn keeps while Mastra runs it; tools reach it through the request context. */
export interface TurnState {
  /** Model calls and time spent in them, for this turn. */
  readonly meter: ModelMeter;
  /** Runs a catalogue tool through the tool layer (policy, scope, approvals, audit). */
  callTool(name: string, args: unknown): Promise<ToolOutcome>;
  /** Asks a department agent (the CEO's delegation), bounded in depth and count. */
  delegate(department: AgentName, question: string): Promise<{ department: string; answer: string } | { error: string }>;
}

export const TURN_KEY = 'botcriptofy.turn';

export function turnOf(requestContext: RequestContext | undefined): TurnState {
  const state = requestContext?.get(TURN_KEY) as TurnState | undefined;
  if (!state) throw new Error('tool called outside an agent turn');
  return state;
}

/**
 * The schema the model sees is the tool's own zod schema as JSON Schema; validation is left to
 * the tool layer, so a malformed call is audited and answered with a message the model can
 * repair from (the turn allows one repair).
 */
function modelFacingSchema(input: z.ZodType) {
  const json = compactSchema(z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }));
  return {
    '~standard': {
      version: 1 as const,
      vendor: 'botcriptofy',
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: () => json, output: () => json },
    },
  };
}

/**
 * Drops what costs a small model tokens without helping it choose arguments: regular
 * expressions behind formats (uuid, email), the JSON Schema dialect, closed-object markers and
 * JavaScript's safe-integer bounds. The tool layer still validates against the full schema.
 */
export function compactSchema(schema: unknown): Record<string, unknown> {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$schema' || key === 'pattern' || key === 'additionalProperties') continue;
      if ((key === 'maximum' || key === 'minimum') && Math.abs(value as number) >= Number.MAX_SAFE_INTEGER) continue;
      out[key] = walk(value);
    }
    return out;
  };
  return walk(schema) as Record<string, unknown>;
}

const MAX_ITEMS_FOR_MODEL = 15;

/** Long lists are cut for the model's small context; grounding still sees the full result. */
function forModel(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS_FOR_MODEL).map(forModel);
    return value.length > MAX_ITEMS_FOR_MODEL ? [...items, `… ${value.length - MAX_ITEMS_FOR_MODEL} more`] : items;
  }
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forModel(v)]));
  return value;
}

function outcomeForModel(outcome: ToolOutcome): unknown {
  if (!outcome.ok) return { error: outcome.error, message: outcome.message };
  if ('pendingApproval' in outcome) return { status: 'awaiting_approval', message: outcome.message };
  return forModel(outcome.result);
}

function mastraTool(tool: ToolDefinition) {
  return createTool({
    id: tool.name,
    description: tool.description,
    inputSchema: modelFacingSchema(tool.input),
    execute: async (input, context) => outcomeForModel(await turnOf(context?.requestContext).callTool(tool.name, input)),
  });
}

const DELEGABLE = departments.filter((d) => d !== 'ceo') as [AgentName, ...AgentName[]];

const delegateInput = z.object({
  department: z.enum(DELEGABLE).describe('finance, marketing, sales, security, support, audit, documents, settings or subscriptions'),
  question: z.string().min(2).max(500).describe('the question for that department'),
});

/** The CEO's delegation: one department agent answers one question within this turn. */
const askDepartment = createTool({
  id: 'ask_department',
  description: "Ask a department's agent a question and get its answer.",
  inputSchema: delegateInput,
  execute: async (input, context) => turnOf(context?.requestContext).delegate(input.department, input.question),
});

/** Every tool name an agent has in Mastra: its catalogue set, and the CEO's delegation. */
export function agentToolNames(agent: AgentName): readonly string[] {
  return agent === 'ceo' ? [...AGENT_TOOLSETS[agent], askDepartment.id] : AGENT_TOOLSETS[agent];
}

/**
 * The tool definitions as they reach Ollama for an agent (name, description, JSON Schema),
 * to measure what each agent's prompt costs.
 */
export function toolDefinitionsFor(agent: AgentName): { name: string; description: string; parameters: Record<string, unknown> }[] {
  return agentToolNames(agent).map((name) => {
    if (name === askDepartment.id)
      return { name, description: askDepartment.description, parameters: compactSchema(z.toJSONSchema(delegateInput, { io: 'input' })) };
    const tool = TOOLS.get(name)!;
    return {
      name,
      description: tool.description,
      parameters: compactSchema(z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' })),
    };
  });
}

/** Each agent's Mastra tools: its catalogue tools, and the delegation for the CEO. */
export function mastraToolsFor(agent: AgentName): Record<string, ReturnType<typeof mastraTool> | typeof askDepartment> {
  const tools: Record<string, ReturnType<typeof mastraTool> | typeof askDepartment> = {};
  for (const name of agentToolNames(agent)) {
    if (name === askDepartment.id) {
      tools[name] = askDepartment;
      continue;
    }
    const tool = TOOLS.get(name);
    if (!tool) throw new Error(`agent ${agent} lists unknown tool ${name}`);
    tools[name] = mastraTool(tool);
  }
  return tools;
}
