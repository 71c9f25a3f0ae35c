import crypto from 'node:crypto';
import type { Mastra } from '@mastra/core';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';
import { checkBotStart, currentPlan } from '../billing/index.ts';
import { appendAuditOnce } from '../audit/index.ts';
import { tenantScope } from '../db/index.ts';
import { userByEmail } from '../identity/index.ts';
import { findApprovalFor, invokeTool, requestApproval, TOOLS, type BacktestRun, type ToolName } from '../tools/index.ts';
import {
  createBot as createTraderBot,
  DEFAULT_RISK_LIMITS,
  findRecentBacktest,
  getBot,
  getStrategy,
  MAX_DRAFT_BACKTEST_DRAWDOWN_PCT,
  newestActiveExchangeAccount,
  parseStrategyParameters,
  recordStoppedBotError,
  STRATEGIES,
  type RiskLimits,
} from '../trading/index.ts';
import { toolContext, type WorkflowDeps } from './deps.ts';
import { notify } from './notify.ts';
import { approvalOutcome, resumeDueRuns, runOnce, waitForApprovalSchema, wokenSchema, type RunOutcome } from './runs.ts';

// bot-onboarding: a trader asks for a new bot → it is created stopped → backtested on recent
// candles (run_backtest, as the trader's request) → reviewed against the plan (bots, symbols,
// live trading) and the risk limits → approved (at once for paper; by a person for live, through
// the approvals table) → started (start_bot) → the trader told.
//
//   create-bot ─ backtest ─ risk-review ─ approval (suspends for live) ─ start ─ notify
//
// The bot's id comes from the request id, so the bot is created once; a backtest already
// stored for this request is reused; the live approval is found again by the bot's id; the
// start is a no-op on a running bot; the notice has a dedupe key.

export const BOT_ONBOARDING = 'bot-onboarding';

/** A live bot's backtest losing more than this from a peak fails the review (paper runs it: simulated money is how it is learnt). */
export const MAX_BACKTEST_DRAWDOWN_PCT = MAX_DRAFT_BACKTEST_DRAWDOWN_PCT;
/** A live bot's backtest must not lose more than this over the period. */
export const MIN_LIVE_BACKTEST_RETURN_PCT = -5;

export const onboardingRequestSchema = z.object({
  /** The request's own id (a Telegram message, an API call): one bot per request. */
  requestId: z.string().min(1).max(200),
  email: z.email(),
  name: z.string().min(1).max(100),
  strategy: z.string().refine((name) => STRATEGIES.has(name), { error: `a strategy: ${[...STRATEGIES.keys()].join(', ')}` }),
  parameters: z.record(z.string(), z.number()).default({}),
  symbols: z
    .array(z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/))
    .min(1)
    .max(20),
  timeframe: z.enum(['5m', '15m', '1h', '4h', '1d']).default('1h'),
  mode: z.enum(['paper', 'live']).default('paper'),
  /** Cash the bot may commit, in quote currency (USDT). */
  stakeQuote: z.number().positive(),
  /** Days of recent candles to backtest on. */
  backtestDays: z.number().int().min(7).max(365).default(30),
  /** When the trader asked (ISO): backtests stored since then belong to this request. */
  requestedAt: z.string(),
});
export type OnboardingRequest = z.input<typeof onboardingRequestSchema>;

const created = onboardingRequestSchema.extend({
  botId: z.string(),
  tenantId: z.string(),
  userId: z.string(),
  locale: z.enum(['pt-BR', 'en']),
});
const backtestSummary = z.object({
  symbol: z.string(),
  backtestId: z.string().nullable(),
  candles: z.number(),
  trades: z.number(),
  totalReturnPct: z.number().nullable(),
  maxDrawdownPct: z.number().nullable(),
  winRatePct: z.number().nullable(),
  error: z.string().nullable(),
});
const backtested = created.extend({ backtests: z.array(backtestSummary) });
const reviewed = backtested.extend({ passed: z.boolean(), reasons: z.array(z.string()), plan: z.string() });
const approved = reviewed.extend({
  decision: z.enum(['automatic', 'approved', 'rejected', 'expired', 'refused', 'failed']),
  approvalId: z.string().nullable(),
});
const finished = approved.extend({ status: z.string(), started: z.boolean() });

/** A stable UUID from the request id: asking twice creates one bot. */
function botIdFor(requestId: string): string {
  const hex = crypto.createHash('sha256').update(`bot-onboarding:${requestId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

export function createBotOnboardingWorkflow(deps: WorkflowDeps & { riskLimits?: RiskLimits }) {
  const limits = deps.riskLimits ?? DEFAULT_RISK_LIMITS;

  const createBot = createStep({
    id: 'create-bot',
    description: 'the bot, stopped, in the trader’s account (once per request)',
    inputSchema: onboardingRequestSchema,
    outputSchema: created,
    execute: async ({ inputData: request }) => {
      const user = await userByEmail(deps.db, request.email);
      if (!user) throw new Error(`no trader with the email ${request.email}`);
      const parameters = parseStrategyParameters(getStrategy(request.strategy), request.parameters);
      const botId = botIdFor(request.requestId);
      const account = request.mode === 'live' ? await newestActiveExchangeAccount(deps.db, tenantScope(user.tenantId)) : undefined;
      // Once per request (the id); a paper bot gets its paper wallet (its stake) with it.
      await createTraderBot(deps.db, tenantScope(user.tenantId), {
        id: botId,
        name: request.name,
        strategyName: request.strategy,
        parameters,
        symbols: request.symbols,
        timeframe: request.timeframe,
        mode: request.mode,
        stakeQuote: String(request.stakeQuote),
        exchangeAccountId: account?.id ?? null,
      });
      return { ...request, parameters, botId, tenantId: user.tenantId, userId: user.id, locale: user.locale };
    },
  });

  const backtest = createStep({
    id: 'backtest',
    description: 'backtest the strategy on recent candles of each symbol (run_backtest)',
    inputSchema: created,
    outputSchema: backtested,
    execute: async ({ inputData: newBot }) => {
      const ctx = toolContext(deps, BOT_ONBOARDING, deps.now());
      const scope = tenantScope(newBot.tenantId);
      const results: z.infer<typeof backtestSummary>[] = [];
      for (const symbol of newBot.symbols) {
        // Stored already for this request (the step is running again after a crash): reuse it.
        const stored = await findRecentBacktest(deps.db, scope, {
          strategy: newBot.strategy,
          symbol,
          timeframe: newBot.timeframe,
          parameters: newBot.parameters,
          since: new Date(newBot.requestedAt),
        });
        if (stored) {
          results.push({
            symbol,
            backtestId: stored.id,
            candles: stored.candles,
            trades: stored.trades,
            totalReturnPct: Number(stored.totalReturnPct),
            maxDrawdownPct: Number(stored.maxDrawdownPct),
            winRatePct: stored.winRatePct === null ? null : Number(stored.winRatePct),
            error: null,
          });
          continue;
        }
        const outcome = await invokeTool(TOOLS, ctx, 'run_backtest', {
          strategy: newBot.strategy,
          symbol,
          timeframe: newBot.timeframe,
          days: newBot.backtestDays,
          parameters: newBot.parameters,
          email: newBot.email,
        });
        if (outcome.ok && 'result' in outcome) {
          const r = outcome.result as BacktestRun;
          results.push({
            symbol,
            backtestId: r.backtestId,
            candles: r.candles,
            trades: r.trades,
            totalReturnPct: r.totalReturnPct,
            maxDrawdownPct: r.maxDrawdownPct,
            winRatePct: r.winRatePct,
            error: null,
          });
        } else {
          results.push({
            symbol,
            backtestId: null,
            candles: 0,
            trades: 0,
            totalReturnPct: null,
            maxDrawdownPct: null,
            winRatePct: null,
            error: 'message' in outcome ? outcome.message : 'no result',
          });
        }
      }
      return { ...newBot, backtests: results };
    },
  });

  const riskReview = createStep({
    id: 'risk-review',
    description: 'plan entitlements (bots, symbols, live trading), risk limits and the backtest',
    inputSchema: backtested,
    outputSchema: reviewed,
    execute: async ({ inputData: testedBot }) => {
      const scope = tenantScope(testedBot.tenantId);
      const plan = await currentPlan(deps.db, scope);
      const reasons: string[] = [];
      const entitlement = await checkBotStart(deps.db, scope, { id: testedBot.botId, mode: testedBot.mode, symbols: testedBot.symbols });
      if (!entitlement.allowed) reasons.push(entitlement.reason);
      if (testedBot.stakeQuote > limits.maxPositionQuote)
        reasons.push(`The stake ${testedBot.stakeQuote} USDT is above the ${limits.maxPositionQuote} USDT a bot may hold in one position.`);
      if (testedBot.symbols.length > limits.maxOpenPositions)
        reasons.push(`${testedBot.symbols.length} symbols: a bot may hold at most ${limits.maxOpenPositions} positions at once.`);
      for (const t of testedBot.backtests) {
        if (t.error) reasons.push(`No backtest of ${t.symbol}: ${t.error}`);
        else if (testedBot.mode === 'live' && t.maxDrawdownPct !== null && t.maxDrawdownPct > MAX_BACKTEST_DRAWDOWN_PCT)
          reasons.push(`The backtest of ${t.symbol} fell ${t.maxDrawdownPct} % from a peak (at most ${MAX_BACKTEST_DRAWDOWN_PCT} %).`);
        else if (testedBot.mode === 'live' && t.totalReturnPct !== null && t.totalReturnPct < MIN_LIVE_BACKTEST_RETURN_PCT)
          reasons.push(
            `The backtest of ${t.symbol} returned ${t.totalReturnPct} % (live bots need at least ${MIN_LIVE_BACKTEST_RETURN_PCT} %).`,
          );
      }
      if (testedBot.mode === 'live') {
        const bot = await getBot(deps.db, scope, testedBot.botId);
        if (!bot?.exchangeAccountId) reasons.push('A live bot needs an active exchange API key; connect one first.');
      }
      return { ...testedBot, passed: reasons.length === 0, reasons, plan: plan.id };
    },
  });

  const approval = createStep({
    id: 'approval',
    description: 'paper: approved at once; live: a person decides (the approvals table)',
    inputSchema: reviewed,
    outputSchema: approved,
    resumeSchema: wokenSchema,
    suspendSchema: waitForApprovalSchema,
    execute: async ({ inputData: reviewedBot, suspend }) => {
      if (!reviewedBot.passed) return { ...reviewedBot, decision: 'refused' as const, approvalId: null };
      if (reviewedBot.mode === 'paper') return { ...reviewedBot, decision: 'automatic' as const, approvalId: null };
      // Found again by the bot (a resumed run asks once).
      const existing = await findApprovalFor(deps.db, 'start_bot' satisfies ToolName, 'botId', reviewedBot.botId);
      let approvalId = existing?.id;
      if (!approvalId) {
        const best = reviewedBot.backtests
          .map((t) => `${t.symbol} ${t.totalReturnPct ?? '?'} % (queda máx. ${t.maxDrawdownPct ?? '?'} %)`)
          .join(', ');
        const summary = `Iniciar em modo REAL o robô "${reviewedBot.name}" de ${reviewedBot.email} (${reviewedBot.strategy}, ${reviewedBot.symbols.join(', ')}, ${reviewedBot.stakeQuote} USDT); backtest de ${reviewedBot.backtestDays} dias: ${best}`;
        approvalId = await requestApproval(deps.db, {
          tenantId: reviewedBot.tenantId,
          requestedByUserId: reviewedBot.userId,
          agent: `workflow:${BOT_ONBOARDING}`,
          tool: 'start_bot' satisfies ToolName,
          args: { botId: reviewedBot.botId, email: reviewedBot.email },
          summary: summary.slice(0, 1000),
          approverDepartment: 'security',
          expiresAt: new Date(deps.now().getTime() + 48 * 3_600_000),
        });
      }
      // Audited once, even when the run stopped between asking and auditing. The Telegram layer
      // announces pending approvals to the people who may decide them.
      await appendAuditOnce(deps.db, `approval:${approvalId}`, {
        tenantId: reviewedBot.tenantId,
        actorKind: 'system',
        actorId: `workflow:${BOT_ONBOARDING}`,
        action: 'tool.call',
        tool: 'start_bot',
        args: { botId: reviewedBot.botId, email: reviewedBot.email },
        outcome: 'pending_approval',
        details: { approvalId },
      });
      const decision = await approvalOutcome(deps, approvalId);
      if (decision === 'wait') return suspend({ wake: { approvalId, reason: 'a person decides live trading' } });
      return { ...reviewedBot, decision, approvalId };
    },
  });

  const start = createStep({
    id: 'start',
    description: 'start the bot (start_bot; already running after a live approval)',
    inputSchema: approved,
    outputSchema: finished,
    execute: async ({ inputData: decidedBot }) => {
      const scope = tenantScope(decidedBot.tenantId);
      const bot = await getBot(deps.db, scope, decidedBot.botId);
      if (decidedBot.decision !== 'automatic' && decidedBot.decision !== 'approved') {
        const why = decidedBot.decision === 'refused' ? decidedBot.reasons.join(' ') : `live trading ${decidedBot.decision}`;
        await recordStoppedBotError(deps.db, scope, decidedBot.botId, `onboarding: ${why}`, deps.now());
        return { ...decidedBot, status: bot?.status ?? 'stopped', started: false };
      }
      if (bot?.status === 'running') return { ...decidedBot, status: 'running', started: true };
      const outcome = await invokeTool(TOOLS, toolContext(deps, BOT_ONBOARDING, deps.now()), 'start_bot', {
        botId: decidedBot.botId,
        email: decidedBot.email,
      });
      if (outcome.ok && 'result' in outcome) return { ...decidedBot, status: (outcome.result as { status: string }).status, started: true };
      return {
        ...decidedBot,
        decision: 'failed' as const,
        reasons: [...decidedBot.reasons, 'message' in outcome ? outcome.message : 'start failed'],
        status: bot?.status ?? 'stopped',
        started: false,
      };
    },
  });

  const tell = createStep({
    id: 'notify',
    description: 'tell the trader how it went (once), and audit it',
    inputSchema: finished,
    outputSchema: finished,
    execute: async ({ inputData: onboarding, runId }) => {
      const en = onboarding.locale === 'en';
      const tests = onboarding.backtests
        .filter((t) => !t.error)
        .map(
          (t) =>
            `${t.symbol}: ${t.totalReturnPct} % ${en ? 'return' : 'de retorno'}, ${en ? 'max drawdown' : 'queda máxima'} ${t.maxDrawdownPct} %, ${t.trades} ${en ? 'trades' : 'operações'}`,
        )
        .join('; ');
      const text = onboarding.started
        ? en
          ? `Your bot "${onboarding.name}" (${onboarding.strategy}, ${onboarding.mode}) is running. Backtest over ${onboarding.backtestDays} days — ${tests}.`
          : `Seu robô "${onboarding.name}" (${onboarding.strategy}, ${onboarding.mode === 'live' ? 'real' : 'simulado'}) está rodando. Backtest de ${onboarding.backtestDays} dias — ${tests}.`
        : en
          ? `Your bot "${onboarding.name}" was not started: ${onboarding.decision === 'refused' ? onboarding.reasons.join(' ') : `live trading ${onboarding.decision}.`}${tests ? ` Backtest — ${tests}.` : ''}`
          : `Seu robô "${onboarding.name}" não foi iniciado: ${onboarding.decision === 'refused' ? onboarding.reasons.join(' ') : { approved: 'aprovado', rejected: 'a operação real foi recusada.', expired: 'a aprovação expirou sem decisão.', failed: `falha ao iniciar. ${onboarding.reasons.join(' ')}`, automatic: '' }[onboarding.decision]}${tests ? ` Backtest — ${tests}.` : ''}`;
      await notify(deps.db, {
        tenantId: onboarding.tenantId,
        to: { userId: onboarding.userId },
        type: 'message',
        payload: { text: text.slice(0, 4000) },
        dedupeKey: `${BOT_ONBOARDING}:${onboarding.requestId}:trader`,
      });
      await appendAuditOnce(deps.db, `${BOT_ONBOARDING}:${runId}`, {
        tenantId: onboarding.tenantId,
        actorKind: 'system',
        actorId: `workflow:${BOT_ONBOARDING}`,
        action: 'trading.bot_onboarded',
        outcome: onboarding.started ? 'ok' : 'denied',
        args: {
          botId: onboarding.botId,
          mode: onboarding.mode,
          decision: onboarding.decision,
          approvalId: onboarding.approvalId,
          reasons: onboarding.reasons,
          backtests: onboarding.backtests.map((t) => t.backtestId),
        },
      });
      return onboarding;
    },
  });

  return createWorkflow({
    id: BOT_ONBOARDING,
    description: 'New bot → backtest → risk review → approval (paper automatic, live by a person) → start',
    inputSchema: onboardingRequestSchema,
    outputSchema: finished,
  })
    .then(createBot)
    .then(backtest)
    .then(riskReview)
    .then(approval)
    .then(start)
    .then(tell)
    .commit();
}

/** Onboards the bot a trader asked for (once per request id). */
export function onboardBot(
  mastra: Mastra,
  request: Omit<OnboardingRequest, 'requestedAt'> & { requestedAt?: string },
  now: Date = new Date(),
): Promise<RunOutcome> {
  const parsed = onboardingRequestSchema.parse({ requestedAt: now.toISOString(), ...request });
  return runOnce(mastra, BOT_ONBOARDING, { runId: `${BOT_ONBOARDING}:${parsed.requestId}`, resourceId: parsed.email, inputData: parsed });
}

/** Wakes the onboardings whose live approval was decided (the job layer schedules it). */
export function resumeDecidedOnboardings(mastra: Mastra, deps: Pick<WorkflowDeps, 'db' | 'now' | 'logger'>): Promise<RunOutcome[]> {
  return resumeDueRuns(mastra, deps, [BOT_ONBOARDING]);
}
