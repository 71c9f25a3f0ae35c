import type { z } from 'zod';
import type { BillingService } from '../billing/index.ts';
import type { bots, Database, Department } from '../db/index.ts';
import type { Exchange, MarketDataSource, RiskLimits } from '../trading/index.ts';

import type { Actor } from '../identity/index.ts';

export type { Actor };

export interface ToolContext {
  readonly db: Database;
  readonly actor: Actor;
  /** The agent that chose the tool, when an agent did. */
  readonly agent?: string | undefined;
  readonly billing: BillingService;
  readonly now: () => Date;
  /** Where missing candles are fetched from (an exchange); without it only the cache is used. */
  readonly marketData?: MarketDataSource | undefined;
  /**
   * Set by a door only after the person confirmed, themselves, that live trading may start
   * (Telegram's confirm button, the CLI's --confirm-live). A model's tool call never carries
   * it, so an agent that starts a live bot gets an approval for a person to decide.
   */
  readonly liveTradingConfirmed?: boolean;
  /**
   * Set by a door only when the person pressed the button (or passed --confirm) for this very
   * action: the trader's assistant starts a drafted bot on paper only with it. A model's tool
   * call never carries it.
   */
  readonly personConfirmed?: boolean;
  /** The trading engine, for tools that place orders on a bot's account (force_exit); absent: they say so. */
  readonly trading?: TradingAccess | undefined;
  /** The deployment's own state (workers, queues, feeds), for system_status; absent: it says so. */
  readonly operations?: OperationsAccess | undefined;
  /**
   * Set by a door that saves a tool's document itself (the CLI's `privacy export --out`): the
   * tool writes the document's text here, piece by piece, instead of returning it (an export of
   * a person with tens of thousands of orders is never built as one object in memory).
   */
  readonly documentSink?: ((text: string) => void | Promise<void>) | undefined;
  /**
   * Set when the call runs an approved request (tools/approvals.ts): which approval, and who
   * asked for it — the person an approved export is delivered to.
   */
  readonly approval?: { readonly id: string; readonly requestedByUserId: string | null } | undefined;
}

/**
 * How system_status reads the deployment: a door hands it workers/' reading with the process's
 * configuration (tick interval, Redis). The tool validates the answer with its output schema.
 */
export interface OperationsAccess {
  deploymentStatus(): Promise<unknown>;
}

/** How a tool reaches a bot's exchange: paper or live per the bot's mode and TRADING_MODE. */
export interface TradingAccess {
  exchangeFor(bot: typeof bots.$inferSelect): Promise<Exchange>;
  readonly limits: RiskLimits;
  killSwitch(): Promise<boolean>;
}

/** What a decider reads on an approval card beside the summary (tools' `explain`). */
export interface ApprovalFacts {
  /** Money moved, in integer cents of `currency` (ISO 4217, any case). */
  readonly amount?: { readonly cents: number; readonly currency: string };
  readonly customer?: { readonly name: string | null; readonly email: string };
  /** The invoice's number (or its Stripe id). */
  readonly invoice?: string;
  /** The payment's reference at the processor (charge or payment intent), or ours. */
  readonly payment?: string;
  readonly bot?: { readonly name: string; readonly mode: string; readonly stakeQuote: string };
  readonly plan?: { readonly from: string; readonly to: string };
  /** Why it cannot run as things stand (technical words; doors say it to their reader as a sentence). */
  readonly blocked?: string;
}

/**
 * - `read`: no side effect.
 * - `write`: a reversible change inside the company's own data (a ticket answer, a lead's stage).
 * - `approval`: moves money, trades live, changes plans or locks accounts: it becomes a pending
 *   approval and runs only once a person allowed to decide approves it.
 */
export type ToolEffect = 'read' | 'write' | 'approval';

/**
 * Who may call a tool, declared beside it: the departments whose staff may (the CEO and
 * admins may call every tool), and whether traders may (then only on their own data: the
 * tool's scope sees to that). Whether a call needs a person's approval is the tool's
 * `effect` (`approval`), `approverDepartment` and `needsApproval`.
 */
export interface ToolAccess {
  readonly departments: readonly Department[];
  readonly traders?: boolean;
}

export interface ToolDefinition<I = unknown, O = unknown, N extends string = string> {
  /** snake_case, what the model calls. */
  readonly name: N;
  /** One line a 0.6B model can follow. */
  readonly description: string;
  readonly domain:
    | 'trading'
    | 'billing'
    | 'subscriptions'
    | 'audit'
    | 'security'
    | 'support'
    | 'sales'
    | 'marketing'
    | 'documents'
    | 'settings'
    | 'company';
  readonly input: z.ZodType<I>;
  readonly output: z.ZodType<O>;
  readonly effect: ToolEffect;
  /** Who may call it (the policy, checked by `mayCall` before anything runs). */
  readonly access: ToolAccess;
  /** For `approval` tools: whose head (or the CEO) decides. */
  readonly approverDepartment?: Department;
  /** For `approval` tools: the one-line summary shown to the deciders and the requester, in their language. */
  summarize?(input: I, locale: 'pt-BR' | 'en'): string;
  /**
   * For `approval` tools (and `needsApproval` ones): what a decider needs beside the summary —
   * the amount, the customer, the invoice or bot — read from the arguments, and `blocked` when
   * the action cannot run as things stand (then it is refused when asked, and a card already
   * out says so instead of offering an approval that could only fail).
   */
  explain?(ctx: ToolContext, input: I): Promise<ApprovalFacts>;
  /** For `approval` tools: the tenant whose data the action touches. */
  tenantOf?(ctx: ToolContext, input: I): Promise<string>;
  /**
   * For `write` tools that need a person's decision only sometimes (starting a live bot):
   * true queues an approval, exactly as an `approval` tool does, instead of acting.
   */
  needsApproval?(ctx: ToolContext, input: I): Promise<boolean>;
  /**
   * The arguments as the audit log keeps them, when they must not be kept as given (an erasure's
   * email, once the person is erased). Default: as given.
   */
  auditedArgs?(args: unknown, outcome: 'ok' | 'denied' | 'error' | 'pending_approval'): unknown;
  /**
   * Who may never decide (approve, reject or retry) an approval of this tool, whatever the
   * four-eyes setting says: the reason, shown to `decider`, when they are one of them; else null.
   * (An erasure: neither the person who asked for it nor the person to be erased.)
   */
  conflictOfInterest?(
    ctx: Omit<ToolContext, 'actor'>,
    approval: { readonly requestedByUserId: string | null; readonly input: I },
    decider: Actor,
  ): Promise<string | null>;
  /** The result as an approval row keeps it, when the whole result must not be copied there (an export's document). */
  recordedResult?(output: O): unknown;
  execute(ctx: ToolContext, input: I): Promise<O>;
}

/** Erases a tool's input and output types for the catalogue, keeping its name (for `ToolName`). */
export function defineTool<const N extends string, I, O>(tool: ToolDefinition<I, O, N>): ToolDefinition<unknown, unknown, N> {
  return tool as unknown as ToolDefinition<unknown, unknown, N>;
}
