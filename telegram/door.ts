import { Counter, Histogram, type Registry } from 'prom-client';
import { Telegraf, type Context } from 'telegraf';
import type { CallbackQuery, Message, Update, User } from 'telegraf/types';
import { z } from 'zod';
import { settleTurns, type AgentRuntime } from '../agents/index.ts';
import type { BillingService } from '../billing/index.ts';
import type { Database } from '../db/index.ts';
import {
  groupDepartment,
  guessPersonLocale,
  linkCodeOwner,
  linkedPerson,
  normalizeLinkCode,
  redeemLinkCode,
  setPersonLocale,
  unlinkTelegram,
  type LinkedPerson,
} from '../identity/index.ts';
import { LANGUAGE_NAMES, localeScores, locales, parseLanguage, type Locale } from '../i18n/index.ts';
import type { Logger } from '../observability/index.ts';
import { mayCall, type ToolContext, type TradingAccess } from '../tools/index.ts';
import type { MarketDataSource } from '../trading/index.ts';
import { askableAgents, homeAgent, mayAsk } from './access.ts';
import {
  announcePendingApprovals,
  approvalButton,
  approvalCard,
  onApprovalButton,
  pendingFor,
  type ApprovalServices,
} from './approvals.ts';
import { ChatScheduler } from './chat-scheduler.ts';
import {
  countCommand,
  entriesCommand,
  forceExitPicker,
  healthCommand,
  notificationButton,
  notificationDecision,
  notificationsCommand,
  performanceCommand,
  statsCommand,
  tradesCommand,
  versionCommand,
  whitelistCommand,
} from './trader-reports.ts';
import { cancelData, cancelDecision, customerReply, customerTurn } from './customer.ts';
import { lockCommand, locksCommand, unlockButton, unlockCommand, unlockPressed } from './locks.ts';
import { agreeToTerms, askTerms, consentData, sendTerms } from './consent.ts';
import { portalData, portalReply } from './billing-portal.ts';
import { keyboardCommand, traderKeyboard } from './reply-keyboard.ts';
import { assistantButton, assistantReply, onAssistantPress, type PressContext } from './assistant.ts';
import { historyCommand } from './history.ts';
import { improveButton, improveCommand, improveWords, onImprovePress } from './improve.ts';
import { StartWatch } from './start-watch.ts';
import {
  answerPrompt,
  answerTicket,
  closeTicket,
  escalateTicket,
  findTicket,
  ticketButton,
  ticketLineCommand,
  ticketsCommand,
  worksTickets,
} from './tickets.ts';
import { escapeMarkdown as md, markdownToTelegramHtml } from './markdown.ts';
import type { TelegramDelivery } from './outbox/index.ts';
import { describe, Poller, type PollerOptions } from './poller.ts';
import {
  sendHtml,
  sendMarkdown,
  sendPhoto,
  telegrafOutgoing,
  updateTiming,
  withTyping,
  type OutgoingMessages,
  type UpdateTiming,
} from './send.ts';
import { agentTurn, askCommand, decidesApprovals, MAX_MESSAGE_CHARS, reportCommand, type AgentTurnDeps } from './staff.ts';
import {
  commandMenu,
  departmentName,
  failureText,
  linkFailureText,
  staffHelp,
  t,
  telegramLocale,
  textOnlyText,
  tooLongText,
  traderHelp,
  unknownCommandText,
  unknownPersonText,
} from './texts.ts';
import type { UpdateContext } from './update-context.ts';
import {
  backtestCommand,
  balanceCommand,
  botControlCommand,
  botsCommand,
  chartCommand,
  forceExitCommand,
  forceExitData,
  forceExitDecision,
  startLiveData,
  startLiveDecision,
  periodCommand,
  planCommand,
  profitCommand,
  statusCommand,
} from './trader.ts';

export interface TelegramDoorOptions {
  readonly botToken: string;
  /** Telegram's API root (TELEGRAM_API_ROOT), or the emulator's in tests. */
  readonly apiRoot: string;
  readonly db: Database;
  readonly billing: BillingService;
  readonly agents: AgentRuntime;
  readonly logger: Logger;
  /** Webhook mode: Telegram pushes updates to `url` with `secret` in X-Telegram-Bot-Api-Secret-Token. Absent: long polling. */
  readonly webhook?: { readonly url: string; readonly secret: string } | undefined;
  /** The outbox and its rate-limited sender: replies then share Telegram's limits with notifications, and approvals are delivered. */
  readonly delivery?: TelegramDelivery | undefined;
  readonly trading?: TradingAccess | undefined;
  /** TRADING_MODE: where a live bot's orders go (paper → the exchange's testnet), to say it as it is. Default paper. */
  readonly tradingMode?: 'paper' | 'live' | undefined;
  readonly marketData?: MarketDataSource | undefined;
  readonly now?: () => Date;
  /** How often pending approvals made elsewhere (CLI, API, jobs) are looked for; 0: never. Default 15 s. */
  readonly approvalsEveryMs?: number;
  /** How often bots started from the chat are looked at until their first tick (start-watch.ts); 0: never. Default 5 s. */
  readonly startFollowUpEveryMs?: number;
  readonly poll?: PollerOptions;
  /** Updates handled at once (all chats); with 8 times as many waiting, polling waits. Default 32. */
  readonly maxConcurrentUpdates?: number;
  /** Each handled update's timing (receipt, last reply, model time): metrics and benchmarks. */
  readonly onUpdateHandled?: (timing: UpdateTiming) => void;
  /** Where telegram_updates_total and telegram_reply_seconds are registered (/metrics). */
  readonly metricsRegistry?: Registry | undefined;
}

/** What the HTTP server needs in webhook mode. */
export interface TelegramWebhook {
  readonly secret: string;
  handle(update: unknown): Promise<'accepted' | 'invalid' | 'unavailable'>;
}

interface ParsedCommand {
  readonly name: string;
  readonly mention: string | undefined;
  readonly rest: string;
  readonly valid: boolean;
}

/** `/name[@bot] rest`; a text starting with "/" and a letter that does not fit is an invalid command. */
export function parseCommand(text: string): ParsedCommand | undefined {
  const match = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+([\s\S]*))?$/.exec(text);
  if (match) return { name: match[1]!.toLowerCase(), mention: match[2], rest: (match[3] ?? '').trim(), valid: true };
  const loose = /^\/([A-Za-z][A-Za-z0-9_]{0,31})/.exec(text);
  return loose ? { name: loose[1]!.toLowerCase(), mention: undefined, rest: '', valid: false } : undefined;
}

/** `sw:<code>:y|n`: a linked person confirming (or not) a switch to the person of another code. */
const switchButton = z
  .string()
  .regex(/^sw:[A-Z0-9]{6,64}:[yn]$/)
  .transform((data) => {
    const [, code, answer] = data.split(':') as [string, string, string];
    return { code, confirmed: answer === 'y' };
  });
/** `lang:pt-BR|en`, the /language buttons. */
const languageButton = z
  .string()
  .regex(/^lang:/)
  .transform((data) => data.slice(5))
  .pipe(z.enum(locales));
const linkCode = z.string().regex(/^[A-Za-z0-9-]{6,64}$/);
const webhookUpdate = z.looseObject({ update_id: z.number().int().nonnegative() });

/** A command's handler: the update's context, the words after the command, and the whole rest. */
type CommandHandler = (ctx: UpdateContext, args: readonly string[], rest: string) => Promise<void>;

/** A trader's commands (trader.ts), by name. */
const TRADER_HANDLERS: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ['status', (ctx) => statusCommand(ctx)],
  ['profit', (ctx, args) => profitCommand(ctx, args)],
  ['daily', (ctx, args) => periodCommand(ctx, 'daily', args)],
  ['weekly', (ctx, args) => periodCommand(ctx, 'weekly', args)],
  ['monthly', (ctx, args) => periodCommand(ctx, 'monthly', args)],
  ['balance', (ctx) => balanceCommand(ctx)],
  ['bots', (ctx) => botsCommand(ctx)],
  ['startbot', (ctx, args) => botControlCommand(ctx, 'startbot', args)],
  ['stopbot', (ctx, args) => botControlCommand(ctx, 'stopbot', args)],
  ['forceexit', (ctx, args) => (args.length === 0 ? forceExitPicker(ctx) : forceExitCommand(ctx, args))],
  ['trades', (ctx, args) => tradesCommand(ctx, args)],
  ['performance', (ctx, args) => performanceCommand(ctx, args)],
  ['stats', (ctx, args) => statsCommand(ctx, args)],
  ['count', (ctx) => countCommand(ctx)],
  ['whitelist', (ctx) => whitelistCommand(ctx)],
  ['health', (ctx) => healthCommand(ctx)],
  ['version', (ctx) => versionCommand(ctx)],
  ['notifications', (ctx, args) => notificationsCommand(ctx, args)],
  ['stopentry', (ctx, args) => entriesCommand(ctx, 'stopentry', args)],
  ['startentry', (ctx, args) => entriesCommand(ctx, 'startentry', args)],
  ['locks', (ctx) => locksCommand(ctx)],
  ['lock', (ctx, args) => lockCommand(ctx, args)],
  ['unlock', (ctx, args) => unlockCommand(ctx, args)],
  ['backtest', (ctx, args) => backtestCommand(ctx, args)],
  ['plan', (ctx) => planCommand(ctx)],
  ['chart', (ctx, args) => chartCommand(ctx, args)],
  ['history', (ctx, args) => historyCommand(ctx, args)],
  ['improve', (ctx, args) => improveCommand(ctx, args)],
]);
/** Staff commands (their handlers need the door: see `staffHandlers`). */
const STAFF_COMMANDS = new Set(['ask', 'report', 'approvals', 'tickets', 'answer', 'escalate', 'close', 'cancel']);
/** How long an Answer press waits for the staff member's reply text. */
const ANSWER_WAIT_MS = 30 * 60_000;
const TRADER_COMMANDS = new Set(TRADER_HANDLERS.keys());
/** Command names kept as metric labels (anything else is counted as /other). */
const KNOWN_COMMANDS = new Set([...STAFF_COMMANDS, ...TRADER_COMMANDS, 'start', 'help', 'unlink', 'language', 'invalid']);
/** People who wrote without being linked: told once a day at most. */
const STRANGER_QUIET_MS = 24 * 3_600_000;
/** `/start` without a code from someone not linked is always answered, but once a minute at most. */
const START_QUIET_MS = 60_000;
const MAX_REMEMBERED = 10_000;
/** Wrong link codes allowed per Telegram account in LINK_WINDOW_MS before it is ignored. */
const LINK_ATTEMPTS = 5;
const LINK_WINDOW_MS = 15 * 60_000;
/** Updates of one chat waiting behind the one being handled; more are dropped (a flood). */
const MAX_QUEUED_PER_CHAT = 20;

/**
 * The Telegram door: staff talk to their agents, traders control their bots, deciders approve
 * with buttons. Nobody is served until linked; groups only when registered for a department.
 * Updates are handled concurrently across chats and in order within one chat (ChatScheduler);
 * this class routes each one: a button to its decision, a command to its handler (staff.ts,
 * trader.ts), free text to an agent. It reads no table: people and groups come from
 * ../identity, figures and actions from the tool layer.
 */
export class TelegramDoor {
  readonly bot: Telegraf;
  readonly mode: 'polling' | 'webhook';
  private readonly options: TelegramDoorOptions;
  private readonly logger: Logger;
  private readonly out: OutgoingMessages;
  private readonly now: () => Date;
  private readonly approvals: ApprovalServices;
  private readonly poller: Poller | undefined;
  /** In order within a chat, concurrently across chats, bounded (chat-scheduler.ts). */
  private readonly scheduler: ChatScheduler;
  /** Staff commands by name (STAFF_COMMANDS). */
  private readonly staffHandlers: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
    ['ask', (ctx, _args, rest) => askCommand(ctx, this.turnDeps, rest, 'telegram')],
    ['report', (ctx) => reportCommand(ctx)],
    ['approvals', (ctx) => this.approvalsCommand(ctx)],
    ['tickets', (ctx) => ticketsCommand(ctx)],
    ['answer', (ctx, _args, rest) => ticketLineCommand(ctx, 'answer', rest)],
    ['escalate', (ctx, _args, rest) => ticketLineCommand(ctx, 'escalate', rest)],
    ['close', (ctx, _args, rest) => ticketLineCommand(ctx, 'close', rest)],
    ['cancel', (ctx) => this.cancelAnswer(ctx)],
  ]);
  /** Staff who pressed Answer on a ticket, by chat: their next message is the reply. */
  private readonly awaitingAnswer = new Map<number, { userId: string; ticket: { id: string; subject: string }; at: number }>();
  private readonly strangers = new Map<number, number>();
  private readonly startsAnswered = new Map<number, number>();
  private readonly linkFailures = new Map<number, { count: number; since: number }>();
  private readonly recentUpdates = new Set<number>();
  private readonly answeredConfirmations = new Set<string>();
  private approvalsTimer: NodeJS.Timeout | undefined;
  private startWatchTimer: NodeJS.Timeout | undefined;
  /** Bots started from a chat, followed until their first tick. */
  private readonly startWatch = new StartWatch((person, chatId) => this.updateContext(person, chatId, person.locale));
  private readonly metrics: { updates: Counter<'kind'>; reply: Histogram<'kind'> } | undefined;
  private started = false;
  private stopped = false;

  constructor(options: TelegramDoorOptions) {
    this.options = options;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
    this.mode = options.webhook ? 'webhook' : 'polling';
    // Handlers are bounded by the agents' own timeouts; telegraf's 90 s cut-off only logs.
    this.bot = new Telegraf(options.botToken, { telegram: { apiRoot: options.apiRoot, webhookReply: false }, handlerTimeout: 10 * 60_000 });
    const sender = options.delivery?.sender;
    this.out = sender
      ? {
          sendMessage: (chatId, text, extra) => sender.withRetryOn429(() => sender.sendMessage(chatId, text, extra)),
          sendPhoto: (chatId, png, caption) =>
            sender.withRetryOn429(() => sender.sendPhoto(chatId, png, { caption: caption.slice(0, 1024) })),
        }
      : telegrafOutgoing(this.bot.telegram);
    this.approvals = {
      db: options.db,
      telegram: this.bot.telegram,
      logger: options.logger,
      toolContext: this.toolContextBase(),
      ...(options.delivery ? { wakeOutbox: () => options.delivery!.outbox.wake() } : {}),
    };
    this.bot.use((tg) => this.route(tg));
    this.bot.catch((error, tg) => this.onError(error, tg));
    const registry = options.metricsRegistry;
    this.metrics = registry
      ? {
          updates: new Counter({
            name: 'telegram_updates_total',
            help: 'Telegram updates handled, by kind (a command, agent, callback, stranger, ignored, …).',
            labelNames: ['kind'],
            registers: [registry],
          }),
          reply: new Histogram({
            name: 'telegram_reply_seconds',
            help: 'Time from an update received to its last reply sent, excluding time inside model calls.',
            labelNames: ['kind'],
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            registers: [registry],
          }),
        }
      : undefined;
    const limit = options.maxConcurrentUpdates ?? 32;
    this.scheduler = new ChatScheduler({ concurrency: limit, maxPending: limit * 8, maxQueuedPerChat: MAX_QUEUED_PER_CHAT });
    this.poller =
      this.mode === 'polling' ? new Poller(this.bot.telegram, this.logger, (update) => this.accept(update), options.poll) : undefined;
  }

  /** For the HTTP server in webhook mode: the secret to check and where to hand the update. */
  get webhook(): TelegramWebhook | undefined {
    const hook = this.options.webhook;
    if (!hook) return undefined;
    return {
      secret: hook.secret,
      handle: async (body) => {
        // While stopping, Telegram is asked to come back later (it retries) rather than told "done".
        if (this.stopped) return 'unavailable';
        const parsed = webhookUpdate.safeParse(body);
        if (!parsed.success) return 'invalid';
        return (await this.accept(parsed.data as unknown as Update)) ? 'accepted' : 'unavailable';
      },
    };
  }

  /** Polling: starts the loop. Webhook: registers the URL with Telegram. Returns at once. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      this.bot.botInfo = await this.bot.telegram.getMe();
    } catch (error) {
      this.logger.warn({ reason: describe(error) }, 'Telegram getMe failed; will retry on the first update');
    }
    if (this.options.webhook) {
      const { url, secret } = this.options.webhook;
      await this.bot.telegram
        .setWebhook(url, {
          secret_token: secret,
          allowed_updates: ['message', 'edited_message', 'callback_query', 'my_chat_member'],
          drop_pending_updates: false,
        })
        .then(() => this.logger.info({ url }, 'Telegram webhook registered'))
        .catch((error: unknown) =>
          this.logger.error({ reason: describe(error) }, 'could not register the Telegram webhook; updates will not arrive until it is'),
        );
    } else {
      await this.bot.telegram
        .deleteWebhook({ drop_pending_updates: false })
        .catch((error: unknown) => this.logger.warn({ reason: describe(error) }, 'deleteWebhook failed'));
      this.poller!.start();
    }
    const every = this.options.approvalsEveryMs ?? 15_000;
    if (every > 0) {
      this.approvalsTimer = setInterval(() => void this.announceApprovals(), every);
      this.approvalsTimer.unref();
    }
    const followEvery = this.options.startFollowUpEveryMs ?? 5_000;
    if (followEvery > 0) {
      this.startWatchTimer = setInterval(() => void this.followUpStartedBots(), followEvery);
      this.startWatchTimer.unref();
    }
    await this.registerCommands();
    this.logger.info({ mode: this.mode, bot: this.bot.botInfo?.username }, 'Telegram door open');
  }

  /**
   * Graceful stop: no new updates; the ones being handled finish (up to `timeoutMs`); in
   * polling mode Telegram is told what was handled, so a restart does not answer twice.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.approvalsTimer) clearInterval(this.approvalsTimer);
    if (this.startWatchTimer) clearInterval(this.startWatchTimer);
    await this.poller?.stop();
    const drained = await this.idle(timeoutMs);
    if (!drained) this.logger.warn({ inFlight: this.scheduler.inFlight }, 'Telegram door stopped with updates still being handled');
    if (drained) await this.poller?.confirm();
    // Conversations answered are written after their replies went out; they land before the database closes.
    await settleTurns(this.options.agents);
  }

  /** Whether this update was taken (handled, being handled or queued; the last 10,000 remembered): with idle(), a test knows its updates are done. */
  hasTaken(updateId: number): boolean {
    return this.recentUpdates.has(updateId);
  }

  /** The "/" menu: traders' commands for every private chat (pt-BR, English for English apps); staff get theirs per chat on linking. */
  private async registerCommands(): Promise<void> {
    const menus: [ReturnType<typeof commandMenu>, { language_code?: string }][] = [
      [commandMenu('trader', 'pt-BR'), {}],
      [commandMenu('trader', 'pt-BR'), { language_code: 'pt' }],
      [commandMenu('trader', 'en'), { language_code: 'en' }],
    ];
    for (const [commands, extra] of menus)
      await this.bot.telegram
        .setMyCommands(commands, { scope: { type: 'all_private_chats' }, ...extra })
        .catch((error: unknown) => this.logger.warn({ reason: describe(error) }, 'setMyCommands failed; the "/" menu may be out of date'));
  }

  /** A linked person's own "/" menu in their chat, in their language (staff have other commands than traders). */
  private async registerChatCommands(person: LinkedPerson, chatId: number, locale: Locale): Promise<void> {
    await this.bot.telegram
      .setMyCommands(commandMenu(person.actor.kind, locale, mayCall(person.actor, 'open_tickets').allowed), {
        scope: { type: 'chat', chat_id: chatId },
      })
      .catch((error: unknown) => this.logger.warn({ reason: describe(error) }, 'setMyCommands for a chat failed'));
  }

  /** Waits until no update is being handled; false when `timeoutMs` passed first. */
  async idle(timeoutMs = 30_000): Promise<boolean> {
    return this.scheduler.idle(timeoutMs);
  }

  /** Tells the owners of bots started from the chat how their first tick went (once each); also runs on a timer. */
  async followUpStartedBots(): Promise<number> {
    if (this.startWatch.size === 0) return 0;
    try {
      return await this.startWatch.check(this.now());
    } catch (error) {
      this.logger.error({ err: error }, 'following up started bots failed');
      return 0;
    }
  }

  /** Queues pending approvals for their deciders (once each); also runs on a timer. */
  async announceApprovals(onlyIds?: readonly string[]): Promise<number> {
    try {
      return await announcePendingApprovals(this.approvals, onlyIds);
    } catch (error) {
      this.logger.error({ err: error }, 'announcing pending approvals failed');
      return 0;
    }
  }

  /**
   * Takes one update (from the poller or the webhook): waits while too many are in hand
   * (back-pressure), then queues it behind its chat's earlier updates and returns without
   * waiting for it. False when the door is stopping (the update was not taken: the poller
   * keeps it unconfirmed, the webhook answers 503, so Telegram delivers it again later).
   */
  async accept(update: Update): Promise<boolean> {
    if (this.stopped) return false;
    if (this.recentUpdates.has(update.update_id)) return true; // a webhook delivery retried
    while (this.scheduler.full) await this.scheduler.room();
    if (this.stopped) return false;
    this.recentUpdates.add(update.update_id);
    if (this.recentUpdates.size > MAX_REMEMBERED) this.recentUpdates.delete(this.recentUpdates.values().next().value!);
    const timing: UpdateTiming = { updateId: update.update_id, receivedAt: performance.now(), kind: 'other', modelMs: 0, replies: 0 };
    const key = chatKeyOf(update);
    const queued = this.scheduler.schedule(
      key,
      () => updateTiming.run(timing, () => this.bot.handleUpdate(update)),
      (outcome) => {
        if (!outcome.ok) this.logger.error({ err: outcome.error, updateId: update.update_id }, 'Telegram update failed');
        this.updateHandled(timing);
      },
    );
    if (!queued) this.logger.warn({ chat: key }, 'Telegram chat flooding: update dropped');
    return true;
  }

  /** Metrics and the `onUpdateHandled` hook, once an update is over. */
  private updateHandled(timing: UpdateTiming): void {
    const kind = timing.kind.startsWith('/') && !KNOWN_COMMANDS.has(timing.kind.slice(1)) ? '/other' : timing.kind;
    this.metrics?.updates.inc({ kind });
    if (timing.repliedAt !== undefined)
      this.metrics?.reply.observe({ kind }, Math.max(0, timing.repliedAt - timing.receivedAt - timing.modelMs) / 1000);
    this.options.onUpdateHandled?.(timing);
  }

  private toolContextBase(): Omit<ToolContext, 'actor'> {
    return {
      db: this.options.db,
      billing: this.options.billing,
      now: this.now,
      marketData: this.options.marketData,
      trading: this.options.trading,
    };
  }

  private updateContext(person: LinkedPerson, chatId: number, locale: Locale): UpdateContext {
    return {
      person,
      locale,
      chatId,
      tools: { ...this.toolContextBase(), actor: person.actor },
      reply: (markdown, keyboard) => sendMarkdown(this.out, chatId, markdown, keyboard, this.logger),
      photo: (png, caption) => sendPhoto(this.out, chatId, png, caption),
      typing: (work) => withTyping(this.bot.telegram, chatId, work),
      logger: this.logger,
      tradingMode: this.options.tradingMode ?? 'paper',
      watchStart: (botId, label) => this.startWatch.watch(person, chatId, botId, label, this.now()),
    };
  }

  private get turnDeps(): AgentTurnDeps {
    return { agents: this.options.agents, onPendingApprovals: async (ids) => void (await this.announceApprovals(ids)) };
  }

  private setKind(kind: string): void {
    const timing = updateTiming.getStore();
    if (timing) timing.kind = kind;
  }

  // ---- routing

  private async route(tg: Context): Promise<void> {
    const update = tg.update;
    if ('callback_query' in update) return this.onCallback(tg, update.callback_query);
    if ('message' in update) return this.onMessage(update.message);
    // Edited messages, channel posts, membership changes, …: nothing to answer.
    this.setKind('ignored');
  }

  private async onMessage(message: Message): Promise<void> {
    const from = message.from;
    if (!from || from.is_bot || message.chat.type === 'channel') return this.setKind('ignored');
    const text = 'text' in message && typeof message.text === 'string' ? message.text : undefined;
    if (message.chat.type !== 'private') return this.onGroupMessage(message, from, text);
    const chatId = message.chat.id;
    // A reply-keyboard button (reply-keyboard.ts) sends its label: read as the command it stands for.
    const command = text ? parseCommand(keyboardCommand(text) ?? text) : undefined;
    const person = await linkedPerson(this.options.db, from.id);
    if (command?.name === 'start' && command.valid) return this.onStart(from, chatId, person, command.rest);
    if (!person) return this.onStranger(from, chatId);
    // The person's own language setting (/language changes it), whatever the message's words —
    // unless they never chose one: then the language of what they write is the first guess.
    const locale = await this.localeFor(person, chatId, command ? undefined : text);
    const ctx = this.updateContext(locale === person.locale ? person : { ...person, locale }, chatId, locale);
    if (text === undefined) {
      this.setKind('non-text');
      await ctx.reply(textOnlyText(locale));
      return;
    }
    if (text.length > MAX_MESSAGE_CHARS) {
      this.setKind('too-long');
      await ctx.reply(tooLongText(text.length, locale));
      return;
    }
    if (command) {
      if (command.mention && this.bot.botInfo && command.mention.toLowerCase() !== this.bot.botInfo.username.toLowerCase())
        return this.setKind('ignored');
      return this.onCommand(ctx, command);
    }
    if (person.actor.kind === 'staff') {
      const waiting = this.awaitingAnswer.get(chatId);
      if (waiting && waiting.userId === person.userId && this.now().getTime() - waiting.at < ANSWER_WAIT_MS) {
        this.setKind('ticket-answer');
        this.awaitingAnswer.delete(chatId);
        return answerTicket(ctx, waiting.ticket, text);
      }
      this.setKind('agent');
      return agentTurn(ctx, this.turnDeps, homeAgent(person.actor), text, 'telegram');
    }
    // A trader describing a bot (or answering its draft's questions) is the assistant's; else a
    // trader is a customer: their own questions answered through their own tools, the rest by
    // Support, whose tools see only the trader's own data.
    this.setKind('assistant');
    // "melhore meu robô N": the walk-forward review of the trader's bot N.
    const improveRef = improveWords(text);
    if (improveRef) return improveCommand(ctx, [improveRef]);
    if (await assistantReply(ctx, this.options.agents.gateway, text)) return;
    this.setKind('customer');
    if (await customerReply(ctx, text)) return;
    this.setKind('agent');
    return customerTurn(ctx, this.turnDeps, text);
  }

  /**
   * The language to answer in: the person's setting; while they never chose one, a message
   * clearly written in the other language becomes their setting (and their "/" menu follows).
   */
  private async localeFor(person: LinkedPerson, chatId: number, text: string | undefined): Promise<Locale> {
    if (person.localeChosen || text === undefined) return person.locale;
    const { pt, en } = localeScores(text);
    const guessed: Locale | undefined = en > pt ? 'en' : pt > en ? 'pt-BR' : undefined;
    if (!guessed || guessed === person.locale) return person.locale;
    if (await guessPersonLocale(this.options.db, person.userId, guessed, this.now())) {
      this.logger.info({ userId: person.userId, locale: guessed }, 'language guessed from a message (the person never chose one)');
      await this.registerChatCommands(person, chatId, guessed);
    }
    return guessed;
  }

  private async onCommand(ctx: UpdateContext, command: ParsedCommand): Promise<void> {
    const { person, locale } = ctx;
    this.setKind(`/${command.valid ? command.name : 'invalid'}`);
    if (!command.valid) return void (await ctx.reply(unknownCommandText(command.name, locale)));
    const args = command.rest === '' ? [] : command.rest.split(/\s+/);
    if (command.name === 'help') return this.help(ctx);
    if (command.name === 'language') return this.languageCommand(ctx, command.rest);
    if (command.name === 'unlink') {
      await unlinkTelegram(this.options.db, { telegramUserId: person.telegramUserId }, this.now());
      await ctx.reply(
        t(
          locale,
          'Conta desconectada. Para conectar de novo, peça um novo código.',
          'Account disconnected. To connect again, ask for a new code.',
        ),
      );
      return;
    }
    if (person.actor.kind === 'staff') {
      const handler = this.staffHandlers.get(command.name);
      if (handler) return handler(ctx, args, command.rest);
      if (TRADER_COMMANDS.has(command.name))
        return void (await ctx.reply(
          t(
            locale,
            `/${command.name} é um comando dos clientes (traders). Envie /help.`,
            `/${command.name} is a command for traders. Send /help.`,
          ),
        ));
    } else {
      if (STAFF_COMMANDS.has(command.name))
        return void (await ctx.reply(
          t(
            locale,
            `/${command.name} é para a equipe. Envie /help para ver seus comandos.`,
            `/${command.name} is for staff. Send /help to see your commands.`,
          ),
        ));
      if (args.length > 6) return void (await ctx.reply(t(locale, 'Argumentos demais. Envie /help.', 'Too many arguments. Send /help.')));
      const handler = TRADER_HANDLERS.get(command.name);
      if (handler) return handler(ctx, args, command.rest);
    }
    await ctx.reply(unknownCommandText(command.name, locale));
  }

  private async help(ctx: UpdateContext): Promise<void> {
    const { actor } = ctx.person;
    // A trader's help brings their reply keyboard (the common commands as buttons), in their language.
    if (actor.kind === 'trader')
      return void (await sendMarkdown(this.out, ctx.chatId, traderHelp(ctx.locale), traderKeyboard(ctx.locale), this.logger));
    const reports = actor.role === 'ceo' || actor.role === 'admin' || actor.department === 'ceo';
    await ctx.reply(
      staffHelp(
        ctx.locale,
        homeAgent(actor as Extract<typeof actor, { kind: 'staff' }>),
        askableAgents(actor),
        decidesApprovals(ctx),
        reports,
        worksTickets(ctx),
      ),
    );
  }

  /** /language [pt|en]: shows the setting with a button per language, or sets it. */
  private async languageCommand(ctx: UpdateContext, rest: string): Promise<void> {
    const { locale, person } = ctx;
    if (rest === '') {
      await ctx.reply(
        t(locale, `🌐 Idioma: **${LANGUAGE_NAMES[locale]}**. Escolha:`, `🌐 Language: **${LANGUAGE_NAMES[locale]}**. Choose:`),
        { inline_keyboard: [locales.map((l) => ({ text: LANGUAGE_NAMES[l], callback_data: `lang:${l}` }))] },
      );
      return;
    }
    const chosen = parseLanguage(rest);
    if (!chosen) return void (await ctx.reply(t(locale, 'Uso: /language pt ou /language en', 'Usage: /language pt or /language en')));
    const text = await this.setLanguage(person, chosen);
    // A trader's reply keyboard follows the language (only a sent message can set it).
    if (person.actor.kind === 'trader') await sendMarkdown(this.out, ctx.chatId, text, traderKeyboard(chosen), this.logger);
    else await ctx.reply(text);
  }

  /** Stores the person's language and says so in it. */
  private async setLanguage(person: LinkedPerson, chosen: Locale): Promise<string> {
    const changed = await setPersonLocale(this.options.db, person.userId, chosen, this.now());
    if (changed) await this.registerChatCommands(person, person.chatId, chosen);
    this.logger.info({ userId: person.userId, locale: chosen, changed }, 'language setting chosen on Telegram');
    return t(
      chosen,
      `✅ Pronto: falo com você em ${LANGUAGE_NAMES[chosen]}. Envie /help para ver os comandos.`,
      `✅ Done: I will talk to you in ${LANGUAGE_NAMES[chosen]}. Send /help for the commands.`,
    );
  }

  /** The terms' Agree (recorded once, then the help and keyboard) or Read (the text) button. */
  private async onConsentButton(
    person: LinkedPerson | undefined,
    chatId: number | undefined,
    messageId: number | undefined,
    action: 'agree' | 'read',
    answer: (text: string, alert?: boolean) => Promise<void>,
    locale: Locale,
  ): Promise<void> {
    this.setKind('consent');
    if (!person || chatId === undefined || messageId === undefined)
      return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
    const ctx = this.updateContext(person, chatId, person.locale);
    if (action === 'read') {
      await answer(t(locale, 'Os termos:', 'The terms:'));
      return sendTerms(ctx);
    }
    const key = `${chatId}:${messageId}`;
    if (this.answeredConfirmations.has(key)) return answer(t(locale, 'Já respondido.', 'Already answered.'));
    this.answeredConfirmations.add(key);
    if (this.answeredConfirmations.size > MAX_REMEMBERED)
      this.answeredConfirmations.delete(this.answeredConfirmations.values().next().value!);
    await answer(t(locale, 'Registrando…', 'Recording…'));
    const outcome = await agreeToTerms(ctx);
    await this.bot.telegram
      .editMessageText(chatId, messageId, undefined, markdownToTelegramHtml(outcome.text), {
        parse_mode: 'HTML',
        reply_markup: { inline_keyboard: [] },
      })
      .catch(async () => void (await ctx.reply(outcome.text)));
    if (outcome.agreed) await this.help(ctx);
    else this.answeredConfirmations.delete(key);
  }

  /** /cancel: an Answer press given up. */
  private async cancelAnswer(ctx: UpdateContext): Promise<void> {
    const had = this.awaitingAnswer.delete(ctx.chatId);
    await ctx.reply(
      had
        ? t(ctx.locale, 'Cancelado: nenhuma resposta foi enviada.', 'Cancelled: no answer was sent.')
        : t(ctx.locale, 'Nada para cancelar.', 'Nothing to cancel.'),
    );
  }

  /** A ticket's Answer or Escalate button. */
  private async onTicketButton(
    person: LinkedPerson | undefined,
    chatId: number | undefined,
    choice: { action: 'answer' | 'escalate' | 'close'; ticketId: string },
    answer: (text: string, alert?: boolean) => Promise<void>,
    locale: Locale,
  ): Promise<void> {
    this.setKind('ticket');
    if (person?.actor.kind !== 'staff' || chatId === undefined)
      return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
    const ctx = this.updateContext(person, chatId, person.locale);
    if (!worksTickets(ctx)) return answer(t(locale, 'Tickets são do Suporte.', 'Tickets are for Support.'), true);
    await answer(
      choice.action === 'answer'
        ? t(locale, 'Escreva a resposta.', 'Write the answer.')
        : choice.action === 'escalate'
          ? t(locale, 'Escalando…', 'Escalating…')
          : t(locale, 'Fechando…', 'Closing…'),
    );
    const ticket = await findTicket(ctx, choice.ticketId);
    if (!ticket) return;
    if (choice.action === 'close')
      return closeTicket(
        ctx,
        ticket,
        t(person.locale, `Fechado no Telegram por ${person.actor.name}`, `Closed on Telegram by ${person.actor.name}`),
      );
    if (choice.action === 'escalate')
      return escalateTicket(
        ctx,
        ticket,
        t(person.locale, `Escalado no Telegram por ${person.actor.name}`, `Escalated on Telegram by ${person.actor.name}`),
      );
    this.awaitingAnswer.set(chatId, {
      userId: person.userId,
      ticket: { id: ticket.id, subject: ticket.subject },
      at: this.now().getTime(),
    });
    if (this.awaitingAnswer.size > MAX_REMEMBERED) this.awaitingAnswer.delete(this.awaitingAnswer.keys().next().value!);
    await ctx.reply(answerPrompt(person.locale, ticket));
  }

  private async approvalsCommand(ctx: UpdateContext): Promise<void> {
    const pending = await pendingFor(this.approvals, ctx.person);
    if (pending.length === 0)
      return void (await ctx.reply(t(ctx.locale, 'Nenhuma aprovação pendente para você.', 'No pending approvals for you.')));
    const shown = pending.slice(-10);
    if (pending.length > shown.length)
      await ctx.reply(t(ctx.locale, `${pending.length} pendentes; as 10 mais recentes:`, `${pending.length} pending; the 10 most recent:`));
    for (const approval of shown) {
      const card = await approvalCard(this.approvals, approval, ctx.locale);
      await sendHtml(this.out, ctx.chatId, card.text, card.replyMarkup);
    }
  }

  // ---- strangers and linking

  private async onStranger(from: User, chatId: number): Promise<void> {
    this.setKind('stranger');
    const now = this.now().getTime();
    const last = this.strangers.get(from.id);
    if (last !== undefined && now - last < STRANGER_QUIET_MS) return;
    this.strangers.delete(from.id);
    this.strangers.set(from.id, now);
    if (this.strangers.size > MAX_REMEMBERED) this.strangers.delete(this.strangers.keys().next().value!);
    await sendMarkdown(this.out, chatId, unknownPersonText(telegramLocale(from.language_code)), undefined, this.logger);
  }

  private async onStart(from: User, chatId: number, person: LinkedPerson | undefined, rest: string): Promise<void> {
    this.setKind('/start');
    const code = rest.split(/\s+/)[0] ?? '';
    if (code === '') {
      if (person) {
        const ctx = this.updateContext(person, chatId, person.locale);
        // The terms first, when the person has not agreed to the version published now.
        if (await askTerms(ctx)) return;
        return this.help(ctx);
      }
      // A person pressing Start expects an answer even after the one-a-day message; once a minute at most.
      const at = this.now().getTime();
      const last = this.startsAnswered.get(from.id);
      if (last !== undefined && at - last < START_QUIET_MS) return;
      this.startsAnswered.delete(from.id);
      this.startsAnswered.set(from.id, at);
      if (this.startsAnswered.size > MAX_REMEMBERED) this.startsAnswered.delete(this.startsAnswered.keys().next().value!);
      this.strangers.set(from.id, at);
      await sendMarkdown(this.out, chatId, unknownPersonText(telegramLocale(from.language_code)), undefined, this.logger);
      return;
    }
    const locale = person?.locale ?? telegramLocale(from.language_code);
    const failures = this.linkFailures.get(from.id);
    const now = this.now().getTime();
    if (failures && now - failures.since < LINK_WINDOW_MS && failures.count >= LINK_ATTEMPTS) {
      if (failures.count === LINK_ATTEMPTS) {
        failures.count++;
        const minutes = Math.max(1, Math.ceil((failures.since + LINK_WINDOW_MS - now) / 60_000));
        await sendMarkdown(this.out, chatId, linkFailureText('throttled', locale, minutes), undefined, this.logger);
      }
      return;
    }
    const fail = async (reason: Parameters<typeof linkFailureText>[0]) => {
      const entry = failures && now - failures.since < LINK_WINDOW_MS ? failures : { count: 0, since: now };
      entry.count++;
      this.linkFailures.set(from.id, entry);
      if (this.linkFailures.size > MAX_REMEMBERED) this.linkFailures.delete(this.linkFailures.keys().next().value!);
      await sendMarkdown(this.out, chatId, linkFailureText(reason, locale), undefined, this.logger);
    };
    if (!linkCode.safeParse(code).success) return fail('malformed');
    if (person) {
      // Someone already linked sending another person's code: asked first, never switched silently.
      const owner = await linkCodeOwner(this.options.db, code, this.now());
      if (owner && owner.userId !== person.userId) {
        const l = person.locale;
        const data = (answer: 'y' | 'n') => `sw:${normalizeLinkCode(code)}:${answer}`;
        await this.updateContext(person, chatId, l).reply(
          t(
            l,
            `⚠️ Este Telegram está conectado como **${md(person.actor.name)}**. Este código é de **${md(owner.name)}**. Trocar para ${md(owner.name)}?`,
            `⚠️ This Telegram is linked as **${md(person.actor.name)}**. This code belongs to **${md(owner.name)}**. Switch to ${md(owner.name)}?`,
          ),
          {
            inline_keyboard: [
              [
                { text: t(l, `Trocar para ${owner.name}`, `Switch to ${owner.name}`).slice(0, 60), callback_data: data('y') },
                { text: t(l, `Continuar como ${person.actor.name}`, `Stay ${person.actor.name}`).slice(0, 60), callback_data: data('n') },
              ],
            ],
          },
        );
        return;
      }
    }
    return this.redeem(from, chatId, code, fail);
  }

  /** Uses a code for this Telegram account, then greets the person it links with their commands. */
  private async redeem(
    from: User,
    chatId: number,
    code: string,
    fail: (reason: Parameters<typeof linkFailureText>[0]) => Promise<void>,
  ): Promise<void> {
    const result = await redeemLinkCode(this.options.db, code, { userId: from.id, chatId, username: from.username }, this.now());
    if (!result.ok) return fail(result.reason);
    this.linkFailures.delete(from.id);
    this.strangers.delete(from.id);
    const linked = result.person;
    const l = linked.locale;
    const who =
      linked.actor.kind === 'staff'
        ? t(
            l,
            `${md(linked.actor.name)} (${departmentName(linked.actor.department, l)}, ${roleName(linked.actor.role, l)})`,
            `${md(linked.actor.name)} (${departmentName(linked.actor.department, l)}, ${roleName(linked.actor.role, l)})`,
          )
        : md(linked.actor.name);
    const ctx = this.updateContext(linked, chatId, l);
    await ctx.reply(t(l, `✅ Conectado como ${who}.`, `✅ Linked as ${who}.`));
    await this.registerChatCommands(linked, chatId, l);
    // A trader who has not agreed to the terms as published now is asked first; the rest after Agree.
    if (await askTerms(ctx)) return;
    await this.help(ctx);
  }

  // ---- groups

  private async onGroupMessage(message: Message, from: User, text: string | undefined): Promise<void> {
    this.setKind('group');
    const department = await groupDepartment(this.options.db, message.chat.id);
    if (!department || text === undefined) return this.setKind('ignored');
    const person = await linkedPerson(this.options.db, from.id);
    if (person?.actor.kind !== 'staff') return this.setKind('ignored');
    const username = this.bot.botInfo?.username;
    const command = parseCommand(text);
    const mention = username ? new RegExp(`@${username}\\b`, 'i') : undefined;
    const repliesToBot = 'reply_to_message' in message && message.reply_to_message?.from?.id === this.bot.botInfo?.id;
    const addressed = command
      ? command.valid && (!command.mention || command.mention.toLowerCase() === username?.toLowerCase())
      : (mention?.test(text) ?? false) || repliesToBot;
    if (!addressed) return this.setKind('ignored');
    const locale = person.locale;
    const ctx = this.updateContext(person, message.chat.id, locale);
    if (text.length > MAX_MESSAGE_CHARS) return void (await ctx.reply(tooLongText(text.length, locale)));
    const channel = `telegram-group:${message.chat.id}`;
    if (command?.name === 'ask') return askCommand(ctx, this.turnDeps, command.rest, channel);
    if (command) {
      await ctx.reply(
        t(
          locale,
          `Neste grupo: escreva para @${md(username ?? 'bot')} ou use /ask DEPARTAMENTO pergunta.`,
          `In this group: mention @${md(username ?? 'bot')} or use /ask DEPARTMENT question.`,
        ),
      );
      return;
    }
    const question = mention ? text.replace(mention, '').trim() : text.trim();
    if (question === '') return;
    const decision = mayAsk(person.actor, department);
    if (!decision.allowed) {
      await ctx.reply(
        t(
          locale,
          `🚫 Seu cargo não permite perguntar ao agente de ${departmentName(department, locale)}.`,
          `🚫 Your role does not allow asking the ${departmentName(department, locale)} agent.`,
        ),
      );
      return;
    }
    this.setKind('agent');
    await agentTurn(ctx, this.turnDeps, department, question, channel);
  }

  // ---- buttons

  private async onCallback(tg: Context, query: CallbackQuery): Promise<void> {
    this.setKind('callback');
    const data = 'data' in query ? query.data : undefined;
    const person = await linkedPerson(this.options.db, query.from.id);
    const locale = person?.locale ?? telegramLocale(query.from.language_code) ?? 'pt-BR';
    const chatId = query.message?.chat.id;
    const messageId = query.message?.message_id;
    const answer = async (text: string, alert = false) => {
      await tg
        .answerCbQuery(text.slice(0, 200), { show_alert: alert })
        .catch((error: unknown) => this.logger.debug({ reason: describe(error) }, 'answerCallbackQuery failed'));
    };
    const switching = switchButton.safeParse(data);
    if (switching.success) {
      this.setKind('switch');
      if (!person || chatId === undefined || messageId === undefined)
        return answer(t(locale, 'Este botão não vale mais.', 'This button is no longer valid.'));
      const key = `${chatId}:${messageId}`;
      if (this.answeredConfirmations.has(key)) return answer(t(locale, 'Já respondido.', 'Already answered.'));
      this.answeredConfirmations.add(key);
      const edit = (text: string) =>
        this.bot.telegram
          .editMessageText(chatId, messageId, undefined, markdownToTelegramHtml(text), {
            parse_mode: 'HTML',
            reply_markup: { inline_keyboard: [] },
          })
          .catch(() => undefined);
      if (!switching.data.confirmed) {
        await answer(t(locale, 'Nada mudou.', 'Nothing changed.'));
        await edit(
          t(
            locale,
            `Nada mudou: você continua conectado como ${md(person.actor.name)}.`,
            `Nothing changed: you are still linked as ${md(person.actor.name)}.`,
          ),
        );
        return;
      }
      await answer(t(locale, 'Trocando…', 'Switching…'));
      await edit(t(locale, 'Trocando de conta…', 'Switching accounts…'));
      return this.redeem(query.from, chatId, switching.data.code, (reason) =>
        sendMarkdown(this.out, chatId, linkFailureText(reason, locale), undefined, this.logger).then(() => undefined),
      );
    }
    const language = languageButton.safeParse(data);
    if (language.success) {
      this.setKind('language');
      if (!person || chatId === undefined) return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
      const text = await this.setLanguage(person, language.data);
      await answer(LANGUAGE_NAMES[language.data]);
      if (person.actor.kind === 'trader') {
        // The buttons go; the answer comes as a new message, which can bring the keyboard in the new language.
        if (messageId !== undefined)
          await this.bot.telegram.editMessageReplyMarkup(chatId, messageId, undefined, { inline_keyboard: [] }).catch(() => undefined);
        await sendMarkdown(this.out, chatId, text, traderKeyboard(language.data), this.logger);
      } else if (messageId !== undefined)
        await this.bot.telegram
          .editMessageText(chatId, messageId, undefined, markdownToTelegramHtml(text), {
            parse_mode: 'HTML',
            reply_markup: { inline_keyboard: [] },
          })
          .catch(async () => void (await sendMarkdown(this.out, chatId, text, undefined, this.logger)));
      else await sendMarkdown(this.out, chatId, text, undefined, this.logger);
      return;
    }
    const ticket = ticketButton.safeParse(data);
    if (ticket.success) return this.onTicketButton(person, chatId, ticket.data, answer, locale);
    const consent = consentData.safeParse(data);
    if (consent.success) return this.onConsentButton(person, chatId, messageId, consent.data.action, answer, locale);
    const unlockPress = unlockButton.safeParse(data);
    if (unlockPress.success) {
      this.setKind('unlock');
      if (person?.actor.kind !== 'trader' || chatId === undefined)
        return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
      await answer(t(locale, 'Destravando…', 'Unlocking…'));
      return unlockPressed(this.updateContext(person, chatId, person.locale), unlockPress.data.lockId);
    }
    if (portalData.safeParse(data).success) {
      this.setKind('portal');
      if (person?.actor.kind !== 'trader' || chatId === undefined)
        return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
      await answer(t(locale, 'Abrindo…', 'Opening…'));
      // Stripe's portal sends the trader back to this chat.
      return portalReply(this.updateContext(person, chatId, person.locale), `https://t.me/${this.bot.botInfo?.username ?? ''}`);
    }
    const approval = approvalButton.safeParse(data);
    if (approval.success) {
      this.setKind('approval');
      return onApprovalButton(this.approvals, { person, locale, chatId, messageId, answer }, approval.data);
    }
    // The assistant's buttons, the trader's own presses, their buttons cleared once handled: a
    // draft card, a bot review, and Apply / Discard / Roll back on a walk-forward proposal (the
    // press is the trader's confirmation).
    const traderPress = async (handle: (press: PressContext) => Promise<void>) => {
      this.setKind('assistant');
      if (person?.actor.kind !== 'trader' || chatId === undefined || messageId === undefined)
        return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
      const clearButtons = () =>
        this.bot.telegram.editMessageReplyMarkup(chatId, messageId, undefined, { inline_keyboard: [] }).then(
          () => undefined,
          () => undefined,
        );
      return handle({ ctx: this.updateContext(person, chatId, person.locale), answer, clearButtons });
    };
    const improvePress = improveButton.safeParse(data);
    if (improvePress.success) return traderPress((press) => onImprovePress(press, improvePress.data));
    const assistantPress = assistantButton.safeParse(data);
    if (assistantPress.success) return traderPress((press) => onAssistantPress(press, assistantPress.data));
    // A trader's own confirmation (a forced exit, a live bot's start): answered once, then the
    // confirmation message is replaced by what happened.
    const confirmation = async (
      kind: string,
      confirmed: boolean,
      acknowledgement: [string, string],
      decide: (ctx: UpdateContext) => Promise<string>,
    ) => {
      this.setKind(kind);
      if (person?.actor.kind !== 'trader' || chatId === undefined || messageId === undefined)
        return answer(t(locale, 'Este botão não é para você.', 'This button is not for you.'), true);
      const key = `${chatId}:${messageId}`;
      if (this.answeredConfirmations.has(key)) return answer(t(locale, 'Já respondido.', 'Already answered.'));
      this.answeredConfirmations.add(key);
      if (this.answeredConfirmations.size > MAX_REMEMBERED)
        this.answeredConfirmations.delete(this.answeredConfirmations.values().next().value!);
      const ctx = this.updateContext(person, chatId, person.locale);
      await answer(confirmed ? t(locale, ...acknowledgement) : t(locale, 'Cancelado.', 'Cancelled.'));
      const text = await ctx.typing(() => decide(ctx));
      await this.bot.telegram
        .editMessageText(chatId, messageId, undefined, markdownToTelegramHtml(text), {
          parse_mode: 'HTML',
          reply_markup: { inline_keyboard: [] },
        })
        .catch(async () => void (await ctx.reply(text)));
    };
    const live = startLiveData.safeParse(data);
    if (live.success)
      return confirmation('startlive', live.data.confirmed, ['Ligando…', 'Starting…'], (ctx) => startLiveDecision(ctx, live.data));
    const notices = notificationButton.safeParse(data);
    if (notices.success)
      return confirmation('notifications', true, ['Salvando…', 'Saving…'], (ctx) => notificationDecision(ctx, notices.data));
    const cancel = cancelData.safeParse(data);
    if (cancel.success)
      return confirmation('cancel', cancel.data.confirmed, ['Pedindo…', 'Asking…'], (ctx) => cancelDecision(ctx, cancel.data));
    const exit = forceExitData.safeParse(data);
    if (exit.success)
      return confirmation('forceexit', exit.data.confirmed, ['Enviando a saída…', 'Sending the exit…'], (ctx) =>
        forceExitDecision(ctx, exit.data),
      );
    await answer(t(locale, 'Este botão não vale mais.', 'This button is no longer valid.'));
  }

  private async onError(error: unknown, tg: Context): Promise<void> {
    this.logger.error({ err: error, updateId: tg.update.update_id }, 'error handling a Telegram update');
    const update = tg.update;
    try {
      if ('callback_query' in update) {
        await tg.answerCbQuery(failureText('pt-BR').slice(0, 200)).catch(() => {});
      } else if ('message' in update && update.message.chat.type === 'private') {
        const person = await linkedPerson(this.options.db, update.message.from?.id ?? 0).catch(() => undefined);
        if (person) await sendMarkdown(this.out, update.message.chat.id, failureText(person.locale));
      }
    } catch (reportError) {
      this.logger.warn({ reason: describe(reportError) }, 'could not tell the user about the error');
    }
  }
}

function chatKeyOf(update: Update): string {
  if ('message' in update) return `chat:${update.message.chat.id}`;
  if ('callback_query' in update) return `press:${update.callback_query.from.id}`;
  return `update:${update.update_id}`;
}

function roleName(role: string, locale: Locale): string {
  const names: Record<string, [string, string]> = {
    member: ['membro', 'member'],
    head: ['responsável', 'head'],
    ceo: ['CEO', 'CEO'],
    admin: ['administrador', 'admin'],
  };
  const name = names[role];
  return name ? (locale === 'en' ? name[1] : name[0]) : role;
}
