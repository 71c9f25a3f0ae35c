import { toolDefinitionsFor } from './mastra-tools.ts';
import { instructionsFor } from './profiles.ts';
import { replyInstructions } from './structured-tools.ts';
import type { AgentName } from './intents.ts';

/**
 * Characters per token assumed when estimating: Qwen's tokenizer averages about 4 characters
 * per token on English prose and JSON; 3.2 keeps the estimate on the safe side (Portuguese
 * and punctuation-heavy schemas tokenize worse).
 */
export const CHARS_PER_TOKEN = 3.2;

export interface PromptFootprint {
  readonly agent: AgentName;
  readonly tools: readonly string[];
  readonly instructionChars: number;
  readonly toolSchemaChars: number;
  /** System prompt plus tool schemas, estimated (native tool calling). */
  readonly estimatedTokens: number;
  /** System prompt plus the reply format and tool list (structured tool choice; the schemas go to the grammar, not the prompt), estimated. */
  readonly structuredTokens: number;
}

/** What an agent's fixed prompt costs before the conversation: instructions and tool schemas. */
export function promptFootprint(agent: AgentName): PromptFootprint {
  const instructions = instructionsFor(agent);
  const tools = toolDefinitionsFor(agent).map((def) => ({ type: 'function', function: def }));
  const toolSchemaChars = JSON.stringify(tools).length;
  return {
    agent,
    tools: tools.map((t) => t.function.name),
    instructionChars: instructions.length,
    toolSchemaChars,
    estimatedTokens: Math.ceil((instructions.length + toolSchemaChars) / CHARS_PER_TOKEN),
    structuredTokens: Math.ceil(
      (instructions.length +
        1 +
        replyInstructions(
          toolDefinitionsFor(agent).map((def) => ({
            type: 'function',
            name: def.name,
            description: def.description,
            inputSchema: def.parameters,
          })),
        ).length) /
        CHARS_PER_TOKEN,
    ),
  };
}
