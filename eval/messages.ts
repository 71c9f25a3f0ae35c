import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { departments } from '../db/index.ts';
import { TOOL_POLICY } from '../tools/policy.ts';
import { agentUsesTool } from '../agents/toolsets.ts';
import { ProductError } from '../errors/index.ts';

/** One staff message of the evaluation set, with the tool (and some arguments) it should lead to. */
export const evalMessageSchema = z.strictObject({
  id: z.string().min(1).max(60),
  agent: z.enum(departments),
  locale: z.enum(['pt-BR', 'en']),
  message: z.string().min(2).max(1000),
  /** The tool the agent should call. */
  tool: z.string().min(2).max(60),
  /** Arguments the call must carry (a partial match: other arguments may be there too). */
  args: z.record(z.string(), z.unknown()).optional(),
  /** Held out: never looked at while changing the router (eval/heldout.jsonl marks half its lines). */
  heldout: z.boolean().optional(),
});
export type EvalMessage = z.infer<typeof evalMessageSchema>;

export const DEFAULT_MESSAGES_FILE = new URL('./messages.jsonl', import.meta.url);
/** More phrasings written after the router, by someone who had not read it: training for its intent model only. */
export const TRAINING_MESSAGES_FILE = new URL('./training.jsonl', import.meta.url);
/** Harder phrasings (look-alike tools, reads worded with action words), written the same way. */
export const TRAINING2_MESSAGES_FILE = new URL('./training2.jsonl', import.meta.url);
/** Messages written after the router, by someone who had not read it; half of them held out. */
export const HELDOUT_MESSAGES_FILE = new URL('./heldout.jsonl', import.meta.url);

export class EvalFileError extends ProductError {
  readonly category = 'bad_data' as const;
  readonly source: string;
  readonly line: number;
  constructor(source: string, line: number, detail: string) {
    super(`${source}:${line}: ${detail}`);
    this.name = 'EvalFileError';
    this.source = source;
    this.line = line;
  }
}

/**
 * Parses and checks the JSON Lines text: each line valid, ids unique, and each expected tool
 * one the agent may really call (its tool set, or the policy of its department). Blank lines
 * are skipped. Throws EvalFileError naming the file and line of the first bad line.
 */
export function parseEvalMessages(text: string, source = 'messages.jsonl'): EvalMessage[] {
  const messages: EvalMessage[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new EvalFileError(source, line, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = evalMessageSchema.safeParse(json);
    if (!parsed.success) {
      throw new EvalFileError(
        source,
        line,
        parsed.error.issues.map((issue) => `${issue.path.join('.') || 'line'}: ${issue.message}`).join('; '),
      );
    }
    const message = parsed.data;
    const previous = seen.get(message.id);
    if (previous !== undefined) throw new EvalFileError(source, line, `duplicate id ${message.id} (first on line ${previous})`);
    seen.set(message.id, line);
    const rule = TOOL_POLICY[message.tool];
    if (!rule) throw new EvalFileError(source, line, `unknown tool ${message.tool}`);
    if (!agentUsesTool(message.agent, message.tool) && !rule.departments.includes(message.agent)) {
      throw new EvalFileError(source, line, `the ${message.agent} agent may not call ${message.tool}`);
    }
    messages.push(message);
  });
  return messages;
}

/** Loads the evaluation set (eval/messages.jsonl unless told otherwise). */
export async function loadEvalMessages(file: URL | string = DEFAULT_MESSAGES_FILE): Promise<EvalMessage[]> {
  const source = typeof file === 'string' ? file : file.pathname;
  return parseEvalMessages(await readFile(file, 'utf8'), source.split('/').slice(-2).join('/'));
}
