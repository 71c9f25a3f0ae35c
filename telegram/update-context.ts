import { readerError, type Locale } from '../i18n/index.ts';
import { invokeTool, TOOLS, type ToolContext, type ToolOutcome } from '../tools/index.ts';
import type { LinkedPerson } from '../identity/index.ts';
import type { Logger } from '../observability/index.ts';
import type { InlineKeyboard } from './send.ts';

/**
 * The context of one update from a linked person being answered: who sent it, in which
 * language to answer, the tool layer as them, and how to reply in their chat. Made by the
 * door for each update; the command handlers (staff.ts, trader.ts) take it.
 */
export interface UpdateContext {
  readonly person: LinkedPerson;
  readonly locale: Locale;
  readonly chatId: number;
  /** The person as the tool layer sees them (their actor, the database and services). */
  readonly tools: ToolContext;
  reply(markdown: string, keyboard?: InlineKeyboard): Promise<number[]>;
  /** Sends a PNG (a chart) as a photo with a plain-text caption. */
  photo(png: Buffer, caption: string): Promise<void>;
  /** Runs slow work with "typing…" shown. */
  typing<T>(work: () => Promise<T>): Promise<T>;
  /** Where a failure's technical reason goes (the reader gets a sentence instead). */
  readonly logger?: Logger;
  /** TRADING_MODE, so a live bot on the testnet is not called "real". */
  readonly tradingMode?: 'paper' | 'live';
  /** Follows a bot just started until its first tick, then tells the person how it went (start-watch.ts). */
  watchStart?(botId: string, label: string): void;
}

export type ToolCall<T> =
  | { readonly ok: true; readonly result: T }
  | { readonly ok: false; readonly tool: string; readonly message: string; readonly error: string; readonly category?: string };

/** A tool call as the person, through the tool layer (policy, scope, validation, audit). */
export async function callTool<T>(
  ctx: Pick<UpdateContext, 'tools'>,
  name: string,
  args: Record<string, unknown>,
  options: { liveTradingConfirmed?: boolean } = {},
): Promise<ToolCall<T>> {
  const outcome: ToolOutcome = await invokeTool(
    TOOLS,
    options.liveTradingConfirmed ? { ...ctx.tools, liveTradingConfirmed: true } : ctx.tools,
    name,
    args,
  );
  if (outcome.ok && 'result' in outcome) return { ok: true, result: outcome.result as T };
  if (outcome.ok) return { ok: false, tool: name, error: 'pending_approval', message: outcome.message };
  // "start_bot failed: Your Free plan …" reads better without the tool's name.
  return {
    ok: false,
    tool: name,
    error: outcome.error,
    message: outcome.message.replace(new RegExp(`^${name} failed: `), ''),
    ...(outcome.category ? { category: outcome.category } : {}),
  };
}

/**
 * A failed call as its reader should see it: one sentence in their language (readerError);
 * the technical reason goes to the log here (the tool layer already audited it).
 */
export function failureSentence(ctx: Pick<UpdateContext, 'locale' | 'logger'>, call: Extract<ToolCall<unknown>, { ok: false }>): string {
  ctx.logger?.warn({ tool: call.tool, error: call.error, category: call.category, reason: call.message }, 'Telegram: a tool call failed');
  return readerError(call, ctx.locale);
}
