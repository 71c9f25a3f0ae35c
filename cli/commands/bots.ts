import { z } from 'zod';
import { botStatuses } from '../../db/index.ts';
import {
  TOOLS,
  actorForEmail,
  ceoEmail,
  invokeTool,
  type Actor,
  type ForceExitResult,
  type ToolContext,
  type ToolName,
  type ToolOutcome,
  type TradingAccess,
} from '../../tools/index.ts';
import {
  DEFAULT_RISK_LIMITS,
  exchangeForBot,
  getStrategy,
  killSwitchEngaged,
  paperMarketOptions,
  parseParameterAssignments,
  parseStrategyParameters,
} from '../../trading/index.ts';
import { withRuntime, type Runtime } from '../open-runtime.ts';
import { printTable } from '../table.ts';
import { UsageError } from '../../errors/index.ts';

// `botcriptofy bots …`: an operator's (or a trader's) bot commands. Like every door, this one
// reads nothing itself: each figure and each change is a tool call (list_bots, bot_details,
// create_bot, start_bot, stop_bot, force_exit) as the person named by --as (default: the CEO),
// so the tool layer's policy, trader scope and audit decide and record it.

const TIMEFRAMES = ['5m', '15m', '1h', '4h', '1d'] as const;
const SYMBOL = /^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/;
const email = z.email();
const uuid = z.uuid();

interface Common {
  as?: string;
  json?: boolean;
}

type Bot = {
  id: string;
  name: string;
  owner: string | null;
  strategy: string;
  symbols: string[];
  timeframe: string;
  mode: string;
  status: string;
  stakeQuote: string;
  lastError: string | null;
  createdAt: string;
  startedAt: string | null;
  lastTickAt: string | null;
};
type BotDetails = {
  bot: Bot & { parameters: Record<string, unknown>; stoppedAt: string | null; hasExchangeAccount: boolean };
  positions: {
    symbol: string;
    amountBase: string;
    entryPriceQuote: string;
    stopLossQuote: string | null;
    takeProfitQuote: string | null;
    openedAt: string;
  }[];
  trades: { open: number; closed: number; wins: number; profitQuote: number };
};

/** A tool said no or failed: one line on stderr (and a JSON object on stdout with --json), exit 1. */
class Refused extends Error {
  readonly tool: string;
  readonly code: string;
  constructor(tool: string, code: string, message: string) {
    super(message);
    this.name = 'Refused';
    this.tool = tool;
    this.code = code;
  }
}

/** The tool layer turned the call into a pending approval: nothing done yet; a person decides (`approvals`). */
class AwaitingApproval extends Error {
  readonly approval: { readonly id: string; readonly summary: string; readonly approverDepartment: string };
  constructor(message: string, approval: { readonly id: string; readonly summary: string; readonly approverDepartment: string }) {
    super(message);
    this.name = 'AwaitingApproval';
    this.approval = approval;
  }
}

function botId(id: string | undefined): string {
  if (id === undefined || id.trim() === '') throw new UsageError('Which bot? Pass its id (see `botcriptofy bots list`).');
  if (!uuid.safeParse(id.trim()).success)
    throw new UsageError(
      `"${id}" is not a bot id: expected a UUID such as 1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b (see \`botcriptofy bots list\`).`,
    );
  return id.trim().toLowerCase();
}

function emailOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!email.safeParse(value).success) throw new UsageError(`${name} expects an email, got "${value}".`);
  return value;
}

function symbolOption(name: string, value: string): string {
  const symbol = value.trim().toUpperCase();
  if (!SYMBOL.test(symbol)) throw new UsageError(`${name}: "${value}" is not a symbol; expected BASE/QUOTE such as BTC/USDT.`);
  return symbol;
}

/** Opens the runtime, resolves --as (default: the CEO) and runs `work` with a tool context as that person. */
type Call = <T>(tool: ToolName, args: Record<string, unknown>, extra?: { liveTradingConfirmed?: boolean }) => Promise<T>;

async function asPerson(options: Common, work: (call: Call, actor: Actor) => Promise<void>): Promise<void> {
  const as = emailOption('--as', options.as);
  await withRuntime(async (runtime) => {
    const who = as ?? (await ceoEmail(runtime.database.db));
    const actor = who ? await actorForEmail(runtime.database.db, who) : undefined;
    if (!actor) throw new UsageError(`No staff member or trader ${who ?? '(no CEO in the database)'}; pass --as EMAIL.`);
    const ctx: ToolContext = {
      db: runtime.database.db,
      actor,
      billing: runtime.billing,
      now: () => new Date(),
      trading: tradingAccess(runtime),
    };
    const call: Call = async <T>(
      tool: ToolName,
      args: Record<string, unknown>,
      extra: { liveTradingConfirmed?: boolean } = {},
    ): Promise<T> => {
      const outcome: ToolOutcome = await invokeTool(
        TOOLS,
        extra.liveTradingConfirmed ? { ...ctx, liveTradingConfirmed: true } : ctx,
        tool,
        args,
      );
      if (!outcome.ok) throw new Refused(tool, outcome.error, outcome.message);
      if ('pendingApproval' in outcome) throw new AwaitingApproval(outcome.message, outcome.pendingApproval);
      return outcome.result as T;
    };
    try {
      await work(call, actor);
    } catch (error) {
      if (error instanceof AwaitingApproval) {
        const { id, summary, approverDepartment } = error.approval;
        console.log(
          options.json
            ? JSON.stringify({ ok: true, pendingApproval: { id, summary, approverDepartment } })
            : `Not done yet: ${error.message}`,
        );
        return;
      }
      if (!(error instanceof Refused)) throw error;
      if (options.json) console.log(JSON.stringify({ ok: false, tool: error.tool, error: error.code, message: error.message }));
      console.error(`Error: ${error.message.replace(/\s+/g, ' ').trim()}`);
      process.exitCode = 1;
    }
  });
}

/**
 * How force_exit reaches a bot's exchange: as the workers do (paper, sandbox or live per the bot
 * and TRADING_MODE). Also the HTTP API's (`start`).
 */
export function tradingAccess(runtime: Runtime): TradingAccess {
  const { config, database } = runtime;
  return {
    async exchangeFor(bot) {
      const paperMarkets = await runtime.paperMarkets();
      await paperMarkets.decide();
      return exchangeForBot(database.db, bot, {
        tradingMode: config.trading.mode,
        secretBox: runtime.secretBox,
        ...paperMarketOptions(paperMarkets, bot.timeframe),
      });
    },
    limits: DEFAULT_RISK_LIMITS,
    killSwitch: () => killSwitchEngaged(database.db, config.trading.killSwitch),
  };
}

/** The trader's email to pass to a trading tool: staff act on the bot's owner, a trader on their own account. */
const ownerArg = (actor: Actor, details: BotDetails) => (actor.kind === 'staff' && details.bot.owner ? { email: details.bot.owner } : {});
const label = (bot: { id: string; name: string }) => `${bot.id} "${bot.name}"`;

export async function botsListCommand(options: Common & { status?: string; tenant?: string; limit?: string }): Promise<void> {
  if (options.status !== undefined && !(botStatuses as readonly string[]).includes(options.status)) {
    throw new UsageError(`Unknown status "${options.status}". Statuses: ${botStatuses.join(', ')}.`);
  }
  const tenant = emailOption('--tenant', options.tenant);
  const limit = options.limit === undefined ? 100 : Number(options.limit);
  if (!/^\d+$/.test(options.limit ?? '100') || limit < 1 || limit > 1000)
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${options.limit}".`);
  await asPerson(options, async (call) => {
    const result = await call<{ bots: Bot[]; total: number; byStatus: Record<string, number> }>('list_bots', {
      ...(options.status ? { status: options.status } : {}),
      ...(tenant ? { email: tenant } : {}),
      limit,
    });
    if (options.json) return void console.log(JSON.stringify(result));
    if (result.bots.length === 0) {
      console.log(options.status ? `No ${options.status} bots.` : 'No bots.');
      return;
    }
    printTable(
      ['ID', 'NAME', 'OWNER', 'STRATEGY', 'SYMBOLS', 'TF', 'MODE', 'STATUS', 'STAKE'],
      result.bots.map((b) => [b.id, b.name, b.owner ?? '–', b.strategy, b.symbols.join(','), b.timeframe, b.mode, b.status, b.stakeQuote]),
      (column) => column === 8,
    );
    const statuses = Object.entries(result.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status} ${n}`)
      .join(', ');
    console.log(
      `${result.bots.length} of ${result.total} ${options.status ? `${options.status} ` : ''}bots shown${statuses ? ` (all statuses: ${statuses})` : ''}.`,
    );
  });
}

export async function botsShowCommand(id: string | undefined, options: Common): Promise<void> {
  const botIdArg = botId(id);
  await asPerson(options, async (call) => {
    const details = await call<BotDetails>('bot_details', { botId: botIdArg });
    if (options.json) return void console.log(JSON.stringify(details));
    const b = details.bot;
    const params = Object.entries(b.parameters)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    console.log(
      [
        `Bot ${b.id}`,
        `  name       ${b.name}`,
        `  owner      ${b.owner ?? '–'}`,
        `  status     ${b.status}${b.lastError ? ` (${b.lastError})` : ''}`,
        `  mode       ${b.mode}${b.mode === 'live' ? (b.hasExchangeAccount ? ' (exchange account linked)' : ' (no exchange account)') : ''}`,
        `  strategy   ${b.strategy}${params ? ` ${params}` : ''}`,
        `  symbols    ${b.symbols.join(', ')} on ${b.timeframe}`,
        `  stake      ${b.stakeQuote}`,
        `  created    ${b.createdAt}`,
        `  started    ${b.startedAt ?? '–'}`,
        `  stopped    ${b.stoppedAt ?? '–'}`,
        `  last tick  ${b.lastTickAt ?? '–'}`,
        `  trades     ${details.trades.closed} closed (${details.trades.wins} won, profit ${details.trades.profitQuote}), ${details.trades.open} open`,
      ].join('\n'),
    );
    if (details.positions.length === 0) console.log('  positions  none');
    else
      for (const p of details.positions)
        console.log(
          `  position   ${p.symbol} ${p.amountBase} @ ${p.entryPriceQuote} (stop ${p.stopLossQuote ?? '–'}, take profit ${p.takeProfitQuote ?? '–'}) since ${p.openedAt}`,
        );
  });
}

export async function botsCreateCommand(
  options: Common & {
    name?: string;
    strategy?: string;
    symbols?: string;
    timeframe?: string;
    stake?: string;
    mode?: string;
    param: string[];
    tenant?: string;
  },
): Promise<void> {
  const missing = (['name', 'strategy', 'symbols', 'timeframe'] as const).filter(
    (key) => options[key] === undefined || options[key]!.trim() === '',
  );
  if (missing.length > 0) throw new UsageError(`bots create needs ${missing.map((key) => `--${key}`).join(', ')}.`);
  const strategy = getStrategy(options.strategy!.trim());
  const parameters = parseStrategyParameters(strategy, parseParameterAssignments(options.param));
  const symbols = options.symbols!.split(',').map((s) => symbolOption('--symbols', s));
  if (new Set(symbols).size !== symbols.length) throw new UsageError('--symbols: each symbol once.');
  const timeframe = options.timeframe!.trim();
  if (!(TIMEFRAMES as readonly string[]).includes(timeframe))
    throw new UsageError(`--timeframe must be one of ${TIMEFRAMES.join(', ')}, got "${timeframe}".`);
  const stake = Number(options.stake ?? '100');
  if ((options.stake ?? '100').trim() === '' || !Number.isFinite(stake) || stake <= 0 || stake > 1_000_000_000)
    throw new UsageError(`--stake must be a positive amount of the quote currency, got "${options.stake}".`);
  const mode = options.mode ?? 'paper';
  if (mode !== 'paper' && mode !== 'live') throw new UsageError(`--mode must be paper or live, got "${mode}".`);
  const tenant = emailOption('--tenant', options.tenant);
  await asPerson(options, async (call, actor) => {
    if (actor.kind === 'staff' && !tenant)
      throw new UsageError('Whose bot? As staff, name the trader with --tenant EMAIL (or act as the trader with --as EMAIL).');
    const { bot } = await call<{ bot: BotDetails['bot'] }>('create_bot', {
      name: options.name!.trim(),
      strategy: strategy.name,
      symbols,
      timeframe,
      stakeQuote: stake,
      mode,
      parameters,
      ...(tenant ? { email: tenant } : {}),
    });
    if (options.json) return void console.log(JSON.stringify({ bot }));
    console.log(
      `Created bot ${label(bot)} for ${bot.owner ?? 'the trader'}: ${bot.strategy} on ${bot.symbols.join(', ')} (${bot.timeframe}), ${bot.mode}, stake ${bot.stakeQuote}, stopped.`,
    );
    console.log(
      bot.mode === 'live'
        ? `Start it with \`botcriptofy bots start ${bot.id} --confirm-live\`: a live bot trades on the trader's exchange account (real money when TRADING_MODE=live).`
        : `Start it with \`botcriptofy bots start ${bot.id}\`.`,
    );
  });
}

/** What `bots start|stop --json` print: the bot, its status before and after. */
function statusChangeJson(details: BotDetails, result: { botId: string; status: string }) {
  return { botId: result.botId, name: details.bot.name, mode: details.bot.mode, previousStatus: details.bot.status, status: result.status };
}

export async function botsStartCommand(id: string | undefined, options: Common & { confirmLive?: boolean }): Promise<void> {
  const botIdArg = botId(id);
  await asPerson(options, async (call, actor) => {
    const details = await call<BotDetails>('bot_details', { botId: botIdArg });
    // A live bot starts only by a person: its owner confirming here (--confirm-live, every
    // time), or, when staff ask, an approval the Security head or the CEO decides.
    const live = details.bot.mode === 'live' && details.bot.status !== 'running';
    if (live && !options.confirmLive) {
      throw new Refused(
        'start_bot',
        'needs_confirmation',
        `Bot ${label(details.bot)} is in live mode: starting it trades on ${details.bot.owner ?? 'the trader'}'s exchange account (real money when TRADING_MODE=live). Nothing was started; run again with --confirm-live to confirm (staff: that asks the Security head or the CEO to approve).`,
      );
    }
    const result = await call<{ botId: string; status: string }>(
      'start_bot',
      { botId: details.bot.id, ...ownerArg(actor, details) },
      { liveTradingConfirmed: live && actor.kind === 'trader' },
    );
    if (options.json) return void console.log(JSON.stringify(statusChangeJson(details, result)));
    console.log(
      details.bot.status === 'running'
        ? `Bot ${label(details.bot)} was already running.`
        : `Started bot ${label(details.bot)} (${details.bot.mode}): ${result.status}.`,
    );
  });
}

export async function botsStopCommand(id: string | undefined, options: Common): Promise<void> {
  const botIdArg = botId(id);
  await asPerson(options, async (call, actor) => {
    const details = await call<BotDetails>('bot_details', { botId: botIdArg });
    const result = await call<{ botId: string; status: string }>('stop_bot', { botId: details.bot.id, ...ownerArg(actor, details) });
    if (options.json) return void console.log(JSON.stringify(statusChangeJson(details, result)));
    console.log(
      `Stopped bot ${label(details.bot)}: ${result.status}${details.positions.length > 0 ? ` (${details.positions.length} open position(s) kept; \`bots forceexit ${details.bot.id}\` sells them)` : ''}.`,
    );
  });
}

export async function botsForceExitCommand(id: string | undefined, options: Common & { symbol?: string }): Promise<void> {
  const botIdArg = botId(id);
  const symbol = options.symbol === undefined ? undefined : symbolOption('--symbol', options.symbol);
  await asPerson(options, async (call, actor) => {
    const details = await call<BotDetails>('bot_details', { botId: botIdArg });
    const result = await call<ForceExitResult>('force_exit', {
      botId: details.bot.id,
      ...(symbol ? { symbol } : {}),
      ...ownerArg(actor, details),
    });
    if (options.json) return void console.log(JSON.stringify(result));
    if (result.exits.length === 0) {
      console.log(`Bot ${label(details.bot)} has no open position${symbol ? ` in ${symbol}` : 's'}; nothing was sold.`);
      return;
    }
    for (const e of result.exits) {
      const at = e.priceQuote ? ` @ ${e.priceQuote}` : '';
      const profit = e.profitQuote ? `, profit ${e.profitQuote}` : '';
      console.log(
        e.outcome === 'filled'
          ? `${e.symbol}: sold ${e.amountBase}${at}${profit}`
          : e.outcome === 'already'
            ? `${e.symbol}: the exit order had already been placed`
            : e.outcome === 'open'
              ? `${e.symbol}: order placed, waiting for the fill`
              : `${e.symbol}: not sold (${e.outcome}${e.reason ? `: ${e.reason}` : ''})`,
      );
    }
    if (result.exits.some((e) => e.outcome === 'refused' || e.outcome === 'rejected')) process.exitCode = 1;
  });
}
