import crypto from 'node:crypto';
import type * as schema from '../db/index.ts';
import { TICKET_SLA_HOURS, departments, type Department, type PlanId } from '../db/index.ts';
import { PLANS, monthlyRecurringCents } from '../billing/index.ts';
import type { SecretBox } from '../secrets/index.ts';
import { replayedBar, timeframeToMs } from '../trading/index.ts';
import {
  CAMPAIGN_THEMES,
  COMPANY_DOMAINS,
  CONFIG_ENTRIES,
  DEPARTMENT_TITLES,
  DOCUMENTS,
  FIRST_NAMES,
  INFLUENCER_HANDLES,
  LAST_NAMES,
  LEAD_SOURCES,
  STRATEGY_DEFAULTS,
  SYMBOLS,
  TICKET_SUBJECTS,
} from './content.ts';
import { SeededRandom } from './random.ts';

type Insert<T extends { $inferInsert: unknown }> = T['$inferInsert'];

/** Every row of the demo company, in insertion order (parents before children). */
export interface DemoCompany {
  tenants: Insert<typeof schema.tenants>[];
  users: Insert<typeof schema.users>[];
  staff: Insert<typeof schema.staff>[];
  plans: Insert<typeof schema.plans>[];
  customers: Insert<typeof schema.customers>[];
  subscriptions: Insert<typeof schema.subscriptions>[];
  subscriptionChanges: Insert<typeof schema.subscriptionChanges>[];
  invoices: Insert<typeof schema.invoices>[];
  payments: Insert<typeof schema.payments>[];
  refunds: Insert<typeof schema.refunds>[];
  strategies: Insert<typeof schema.strategies>[];
  exchangeAccounts: Insert<typeof schema.exchangeAccounts>[];
  bots: Insert<typeof schema.bots>[];
  orders: Insert<typeof schema.orders>[];
  trades: Insert<typeof schema.trades>[];
  positions: Insert<typeof schema.positions>[];
  supportTickets: Insert<typeof schema.supportTickets>[];
  ticketMessages: Insert<typeof schema.ticketMessages>[];
  leads: Insert<typeof schema.leads>[];
  influencers: Insert<typeof schema.influencers>[];
  campaigns: Insert<typeof schema.campaigns>[];
  documents: Insert<typeof schema.documents>[];
  documentVersions: Insert<typeof schema.documentVersions>[];
  configEntries: Insert<typeof schema.configEntries>[];
  configEntryVersions: Insert<typeof schema.configEntryVersions>[];
  securityEvents: Insert<typeof schema.securityEvents>[];
  approvals: Insert<typeof schema.approvals>[];
  /** Each bot's paper wallet: its stake plus what its trades made, less what its open positions hold. */
  paperBalances: Insert<typeof schema.paperBalances>[];
}

export interface DemoOptions {
  /** Same seed and date, same company. */
  readonly seed: number;
  /** The demo's "today": history runs up to this instant. */
  readonly asOf: Date;
  readonly traders: number;
  /** Seals the demo exchange API keys of live bots. */
  readonly secretBox: SecretBox;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FEE_RATE = 0.001;

function addMonths(date: Date, months: number): Date {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
}

function slugify(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.');
}

/** Quote-currency decimal with enough places for cheap coins, as a string (exact in numeric). */
function quote(value: number): string {
  return value.toFixed(value < 10 ? 6 : 2);
}

// The paper wallets are kept exactly, as the database keeps them (numeric): amounts in units
// of 10^-8, the wallet's places, added up as integers from the decimal strings the trades
// store, so a wallet equals its bot's stake plus the recorded profits less what its open
// positions cost, to the last place.
const WALLET_PLACES = 8;
const WALLET_UNIT = 10n ** BigInt(WALLET_PLACES);

function parseDecimal(text: string): { digits: bigint; places: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a decimal`);
  const digits = BigInt(`${match[2]}${match[3] ?? ''}`);
  return { digits: match[1] ? -digits : digits, places: match[3]?.length ?? 0 };
}

/** A decimal (at most 8 places) in wallet units. */
function walletUnits(text: string): bigint {
  const { digits, places } = parseDecimal(text);
  if (places > WALLET_PLACES) throw new Error(`${text} has more than ${WALLET_PLACES} decimal places`);
  return digits * 10n ** BigInt(WALLET_PLACES - places);
}

/** a × b of two non-negative decimals in wallet units, rounded half up (numeric's round(…, 8)). */
function productUnits(a: string, b: string): bigint {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const excess = x.places + y.places - WALLET_PLACES;
  const product = x.digits * y.digits;
  if (excess <= 0) return product * 10n ** BigInt(-excess);
  const divisor = 10n ** BigInt(excess);
  return (product + divisor / 2n) / divisor;
}

function walletDecimal(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  return `${sign}${abs / WALLET_UNIT}.${(abs % WALLET_UNIT).toString().padStart(WALLET_PLACES, '0')}`;
}

export function generateDemoCompany(options: DemoOptions): DemoCompany {
  const rng = new SeededRandom(options.seed);
  const asOf = options.asOf.getTime();
  const data: DemoCompany = {
    tenants: [], users: [], staff: [], plans: [], customers: [], subscriptions: [], subscriptionChanges: [],
    invoices: [], payments: [], refunds: [], strategies: [], exchangeAccounts: [], bots: [], orders: [],
    trades: [], positions: [], supportTickets: [], ticketMessages: [], leads: [], influencers: [], campaigns: [],
    documents: [], documentVersions: [], configEntries: [], configEntryVersions: [], securityEvents: [], approvals: [],
    paperBalances: [],
  };
  const usedEmails = new Set<string>();
  const person = (domain: string) => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    let email = `${slugify(first)}.${slugify(last)}@${domain}`;
    for (let n = 2; usedEmails.has(email); n++) email = `${slugify(first)}.${slugify(last)}${n}@${domain}`;
    usedEmails.add(email);
    return { name: `${first} ${last}`, email };
  };

  // --- The company and its staff --------------------------------------------------------
  const companyId = rng.uuid();
  const companyCreated = new Date(asOf - 900 * DAY);
  data.tenants.push({ id: companyId, kind: 'company', name: 'BotCriptoFy Tecnologia Ltda', locale: 'pt-BR', createdAt: companyCreated });
  const staffByDepartment = new Map<Department, { staffId: string; userId: string }[]>();
  const addStaff = (department: Department, role: 'member' | 'head' | 'ceo' | 'admin', title: string) => {
    const who = person('botcriptofy.com.br');
    const userId = rng.uuid();
    const staffId = rng.uuid();
    const createdAt = new Date(companyCreated.getTime() + rng.int(0, 400) * DAY);
    data.users.push({ id: userId, tenantId: companyId, email: who.email, name: who.name, locale: rng.chance(0.85) ? 'pt-BR' : 'en', createdAt });
    data.staff.push({ id: staffId, userId, tenantId: companyId, department, role, title, createdAt });
    const list = staffByDepartment.get(department) ?? [];
    list.push({ staffId, userId });
    staffByDepartment.set(department, list);
  };
  addStaff('ceo', 'ceo', 'CEO');
  for (const department of departments) {
    if (department === 'ceo') continue;
    const titles = DEPARTMENT_TITLES[department]!;
    addStaff(department, 'head', titles.head);
    const members = rng.int(2, 3);
    for (let i = 0; i < members; i++) addStaff(department, 'member', titles.member);
  }
  addStaff('settings', 'admin', 'Administrador de Sistemas');
  const staffOf = (department: Department) => rng.pick(staffByDepartment.get(department)!);
  const ceoUserId = staffByDepartment.get('ceo')![0]!.userId;

  // --- Plans and strategies ---------------------------------------------------------------
  for (const plan of Object.values(PLANS)) {
    data.plans.push({
      id: plan.id, name: plan.name, currency: plan.currency, monthlyPriceCents: plan.monthlyPriceCents,
      yearlyPriceCents: plan.yearlyPriceCents, limits: plan.limits, updatedAt: companyCreated,
    });
  }
  for (const [name, description, parameters] of STRATEGY_DEFAULTS) {
    data.strategies.push({ id: rng.uuid(), tenantId: null, name, description, parameters, createdAt: companyCreated, updatedAt: companyCreated });
  }

  // --- Traders: accounts, 12+ months of billing, bots ------------------------------------
  const traderTenants: { tenantId: string; userId: string; planId: PlanId; name: string; email: string }[] = [];
  let invoiceNumber = 1000;
  for (let t = 0; t < options.traders; t++) {
    const tenantId = rng.uuid();
    const userId = rng.uuid();
    const who = person(rng.pick(['gmail.com', 'hotmail.com', 'outlook.com', 'yahoo.com.br', 'uol.com.br']));
    const signup = new Date(asOf - rng.int(1, 450) * DAY - rng.int(0, 23) * HOUR);
    const locale = rng.chance(0.85) ? 'pt-BR' : 'en';
    data.tenants.push({ id: tenantId, kind: 'trader', name: who.name, locale, createdAt: signup });
    data.users.push({ id: userId, tenantId, email: who.email, name: who.name, locale, createdAt: signup });
    const customerId = rng.uuid();
    data.customers.push({ id: customerId, tenantId, email: who.email, name: who.name, createdAt: signup });
    const planId = simulateBilling(tenantId, customerId, signup);
    traderTenants.push({ tenantId, userId, planId, name: who.name, email: who.email });
    if (rng.chance(0.6)) addBots(tenantId, planId);
  }

  /** Month-by-month life of one customer; returns the plan held at `asOf`. */
  function simulateBilling(tenantId: string, customerId: string, signup: Date): PlanId {
    let planId: PlanId = rng.weighted([['free', 50], ['pro', 38], ['enterprise', 12]] as const);
    let interval: 'month' | 'year' = planId !== 'free' && rng.chance(0.2) ? 'year' : 'month';
    let subscriptionId = rng.uuid();
    let startedAt = signup;
    let periodStart = signup;
    const trial = planId === 'pro' && asOf - signup.getTime() < 14 * DAY && rng.chance(0.6);
    const price = (p: PlanId, i: 'month' | 'year') => (i === 'year' ? PLANS[p].yearlyPriceCents : PLANS[p].monthlyPriceCents);
    const mrr = (p: PlanId, i: 'month' | 'year') => monthlyRecurringCents(price(p, i), i);
    const openSubscription = (at: Date) => {
      subscriptionId = rng.uuid();
      startedAt = at;
      periodStart = at;
      data.subscriptionChanges.push({
        id: rng.uuid(), tenantId, subscriptionId, kind: 'created', fromPlanId: null, toPlanId: planId,
        // A trial brings no revenue until it converts.
        mrrBeforeCents: 0, mrrAfterCents: trial ? 0 : mrr(planId, interval), occurredAt: at,
      });
    };
    openSubscription(signup);
    const push = (status: typeof schema.subscriptionStatuses[number], periodEnd: Date, extra: Partial<Insert<typeof schema.subscriptions>> = {}) => {
      data.subscriptions.push({
        id: subscriptionId, tenantId, customerId, planId, interval, status, amountCents: price(planId, interval),
        currentPeriodStart: periodStart, currentPeriodEnd: periodEnd, startedAt, createdAt: startedAt,
        updatedAt: new Date(Math.min(asOf, periodStart.getTime())), ...extra,
      });
    };
    if (trial) {
      push('trialing', new Date(signup.getTime() + 14 * DAY), { trialEnd: new Date(signup.getTime() + 14 * DAY) });
      return planId;
    }
    for (;;) {
      const periodEnd = addMonths(periodStart, interval === 'year' ? 12 : 1);
      let endStatus: 'canceled' | null = null;
      if (planId !== 'free') {
        const amount = price(planId, interval);
        const invoiceId = rng.uuid();
        const failed = rng.chance(0.07);
        const recovered = failed && rng.chance(0.6);
        const paid = !failed || recovered;
        // Stripe retries for up to 3 weeks; until then the invoice stays open and the subscription past_due.
        const open = failed && !recovered && asOf - periodStart.getTime() < 21 * DAY;
        const paidAt = paid ? new Date(periodStart.getTime() + (recovered ? rng.int(3, 7) * DAY : rng.int(1, 60) * 60_000)) : null;
        data.invoices.push({
          id: invoiceId, tenantId, customerId, subscriptionId, planId, number: `BCF-${++invoiceNumber}`,
          status: paid ? 'paid' : open ? 'open' : 'uncollectible', amountDueCents: amount, amountPaidCents: paid ? amount : 0,
          periodStart, periodEnd, dueAt: periodStart, paidAt, attemptCount: failed ? (recovered ? 2 : 4) : 1,
          nextPaymentAttemptAt: open ? new Date(asOf + 2 * DAY) : null, createdAt: periodStart, updatedAt: paidAt ?? periodStart,
        });
        if (failed) {
          data.payments.push({
            id: rng.uuid(), tenantId, invoiceId, status: 'failed', amountCents: amount,
            failureCode: rng.pick(['card_declined', 'insufficient_funds', 'expired_card']),
            failureMessage: 'Pagamento recusado pelo emissor', createdAt: new Date(periodStart.getTime() + 60_000),
          });
        }
        if (paid && paidAt) {
          const paymentId = rng.uuid();
          const refunded = rng.chance(0.015);
          data.payments.push({
            id: paymentId, tenantId, invoiceId, status: refunded ? 'refunded' : 'succeeded', amountCents: amount,
            refundedCents: refunded ? amount : 0, createdAt: paidAt, updatedAt: paidAt,
          });
          if (refunded) {
            data.refunds.push({ id: rng.uuid(), tenantId, paymentId, amountCents: amount, reason: 'requested_by_customer', createdAt: new Date(paidAt.getTime() + rng.int(1, 6) * DAY) });
          }
        }
        if (!paid && !open) endStatus = 'canceled';
        if (!paid && open) {
          push('past_due', periodEnd);
          return planId;
        }
      }
      if (periodEnd.getTime() > asOf) {
        if (endStatus === null) {
          const cancelAtPeriodEnd = planId !== 'free' && rng.chance(0.05);
          push('active', periodEnd, { cancelAtPeriodEnd });
          return planId;
        }
      }
      // What happens at the end of this period.
      const roll = rng.next();
      const voluntaryChurn = planId !== 'free' && roll < 0.03;
      if (endStatus === 'canceled' || voluntaryChurn || periodEnd.getTime() > asOf) {
        const endedAt = endStatus === 'canceled' ? new Date(periodStart.getTime() + 21 * DAY) : periodEnd;
        if (endedAt.getTime() > asOf) {
          // Still within the period (or Stripe's retries): the subscription has not ended yet.
          push(endStatus === 'canceled' ? 'past_due' : 'active', periodEnd, { cancelAtPeriodEnd: endStatus !== 'canceled' });
          return planId;
        }
        push('canceled', periodEnd, { canceledAt: endedAt, endedAt, updatedAt: endedAt });
        data.subscriptionChanges.push({
          id: rng.uuid(), tenantId, subscriptionId, kind: 'canceled', fromPlanId: planId, toPlanId: null,
          mrrBeforeCents: mrr(planId, interval), mrrAfterCents: 0, occurredAt: endedAt,
        });
        planId = 'free';
        interval = 'month';
        openSubscription(endedAt);
        continue;
      }
      const change = rng.next();
      const upgrade = (planId === 'free' && change < 0.05) || (planId === 'pro' && change < 0.015);
      const downgrade = planId === 'enterprise' && change < 0.03;
      if ((upgrade || downgrade) && interval === 'month') {
        const from = planId;
        planId = upgrade ? (planId === 'free' ? 'pro' : 'enterprise') : 'pro';
        data.subscriptionChanges.push({
          id: rng.uuid(), tenantId, subscriptionId, kind: upgrade ? 'upgraded' : 'downgraded', fromPlanId: from, toPlanId: planId,
          mrrBeforeCents: mrr(from, interval), mrrAfterCents: mrr(planId, interval), occurredAt: periodEnd,
        });
      }
      periodStart = periodEnd;
    }
  }

  function addBots(tenantId: string, planId: PlanId) {
    const limits = PLANS[planId].limits;
    const count = Math.min(limits.botsAllowed, rng.int(1, 3));
    let accountId: string | null = null;
    for (let b = 0; b < count; b++) {
      const strategy = rng.weighted([['rsi', 50], ['macd-cross', 20], ['ema-cross', 20], ['bollinger-reversion', 10]] as const);
      const symbolPool = [...SYMBOLS];
      const symbols = symbolPool.filter(() => rng.chance(0.5)).slice(0, limits.symbolsPerBot);
      if (symbols.length === 0) symbols.push(rng.pick(symbolPool));
      const live = limits.liveTradingAllowed && rng.chance(0.3);
      if (live && accountId === null) {
        accountId = rng.uuid();
        const apiKey = rng.token(64);
        data.exchangeAccounts.push({
          id: accountId, tenantId, exchange: 'binance', label: 'Binance principal',
          apiKeyEncrypted: options.secretBox.seal(apiKey, `exchange_accounts:${tenantId}:api_key`),
          apiSecretEncrypted: options.secretBox.seal(rng.token(64), `exchange_accounts:${tenantId}:api_secret`),
          apiKeyLast4: apiKey.slice(-4), sandbox: false, createdAt: new Date(asOf - rng.int(30, 200) * DAY),
        });
      }
      const status = rng.weighted([['running', 55], ['stopped', 33], ['paused', 6], ['error', 6]] as const);
      const stake = rng.pick([500, 1000, 2000, 5000, 10000, 20000]);
      const botId = rng.uuid();
      const createdAt = new Date(asOf - rng.int(20, 120) * DAY);
      const timeframe = rng.pick(['5m', '15m', '1h']);
      const bot: Insert<typeof schema.bots> = {
        id: botId, tenantId, name: `${strategy} ${symbols[0]}`, strategyName: strategy, parameters: {},
        symbols, timeframe, mode: live ? 'live' : 'paper', status,
        exchangeAccountId: live ? accountId : null, stakeQuote: String(stake), paperBalanceQuote: null,
        lastError: status === 'error' ? 'binance: Timestamp for this request is outside of the recvWindow' : null,
        startedAt: status === 'running' ? new Date(asOf - rng.int(1, 15) * DAY) : createdAt,
        stoppedAt: status === 'stopped' ? new Date(asOf - rng.int(1, 10) * DAY) : null,
        lastTickAt: status === 'running' ? new Date(asOf - rng.int(1, 10) * 1000) : null,
        createdAt, updatedAt: createdAt,
      };
      data.bots.push(bot);
      const cash = addTrades(tenantId, botId, symbols, timeframe, stake, createdAt.getTime(), status === 'running');
      // A paper bot's own record of its wallet's cash agrees with the wallet.
      if (!live) bot.paperBalanceQuote = cash;
    }
  }

  /**
   * The bot's trading history, and the paper wallet it leaves behind so the bot goes on
   * trading where the history stops: its stake plus the recorded profits in the quote
   * currency, less what its open position cost, and the coins of that position. Each trade
   * is sized as the runner sizes an entry (95 % of the stake's share per symbol, never more
   * than the cash the wallet holds), so the wallet can always pay for it. No random draws
   * depend on the amounts: the rest of the company stays the same. Returns the cash, a decimal.
   *
   * Prices come from the market the bot trades when no exchange can be reached: the bundled
   * candles of its symbol and timeframe, replayed on the wall clock (BundledReplayMarket). A
   * closed trade was bought somewhere in the range of the replayed bar in progress when it was
   * placed and sold at its outcome's move from there (stop −3 %, take profit +2 %, a signal in
   * between). A position still open was bought at the replay's last price at `asOf` (the close
   * of the last bar closed then, which is what the runner fills at and what a bot started at
   * `asOf` reads on its first tick) and is dated at that bar's close. Opened days earlier at
   * that day's price, the candles from then to `asOf` (the replayed SOL moves tens of per cent
   * in weeks) would stop it out on the first tick at a loss the demo never lived through, and
   * its unrealised loss would pause the bot on its daily loss limit.
   */
  function addTrades(tenantId: string, botId: string, symbols: string[], timeframe: string, stake: number, from: number, running: boolean): string {
    const quoteAsset = symbols[0]!.split('/')[1]!;
    let cash = walletUnits(String(stake));
    const heldBase = new Map<string, bigint>();
    const count = rng.int(4, 40);
    let clock = from + rng.int(1, 48) * HOUR;
    let orderSeq = 0;
    const barMs = timeframeToMs(timeframe);
    /** When the last bar that had closed by asOf closed. */
    const lastClose = Math.floor(asOf / barMs) * barMs;
    for (let i = 0; i < count && clock < asOf - HOUR; i++) {
      const symbol = rng.pick(symbols);
      const withinBar = rng.next();
      const open = i === count - 1 && running && rng.chance(0.6);
      const bar = replayedBar(symbol, timeframe, open ? lastClose - barMs : clock);
      if (!bar) throw new Error(`demo: no bundled candles for ${symbol}`);
      const entry = open ? bar.close : bar.low + withinBar * (bar.high - bar.low);
      const budget = Math.min(stake / symbols.length, Number(cash) / Number(WALLET_UNIT));
      const amount = (budget * 0.95) / entry;
      const amountBase = amount.toFixed(8);
      const openedAt = new Date(open ? lastClose : clock);
      const order = (side: 'buy' | 'sell', price: number, at: Date, reason: string) => ({
        id: rng.uuid(), tenantId, botId, clientOrderId: `bcf-${botId.slice(0, 8)}-${++orderSeq}`,
        exchangeOrderId: String(rng.int(1e9, 9e9)), symbol, side, type: 'market' as const, status: 'filled' as const,
        amountBase, filledBase: amountBase, averagePriceQuote: quote(price),
        feeQuote: quote(amount * price * FEE_RATE), reason, createdAt: at, updatedAt: at,
      });
      data.orders.push(order('buy', entry, openedAt, 'entry'));
      if (open) {
        const openPriceQuote = quote(entry);
        const feeQuote = quote(amount * entry * FEE_RATE);
        data.trades.push({ id: rng.uuid(), tenantId, botId, symbol, status: 'open', amountBase, openPriceQuote, feeQuote, openedAt });
        data.positions.push({
          id: rng.uuid(), tenantId, botId, symbol, amountBase, averageEntryPriceQuote: openPriceQuote,
          stopLossPriceQuote: quote(entry * 0.97), takeProfitPriceQuote: quote(entry * 1.02), openedAt, updatedAt: openedAt,
        });
        cash -= productUnits(amountBase, openPriceQuote) + walletUnits(feeQuote);
        heldBase.set(symbol, (heldBase.get(symbol) ?? 0n) + walletUnits(amountBase));
        break;
      }
      const outcome = rng.weighted([['take_profit', 45], ['exit_signal', 30], ['stop_loss', 25]] as const);
      const change = outcome === 'take_profit' ? 0.02 : outcome === 'stop_loss' ? -0.03 : rng.float(-0.012, 0.018);
      const exit = entry * (1 + change);
      const closedAt = new Date(clock + rng.int(1, 36) * HOUR);
      data.orders.push(order('sell', exit, closedAt, outcome));
      const fee = amount * (entry + exit) * FEE_RATE;
      const profit = amount * (exit - entry) - fee;
      const profitQuote = profit.toFixed(8);
      data.trades.push({
        id: rng.uuid(), tenantId, botId, symbol, status: 'closed', amountBase,
        openPriceQuote: quote(entry), closePriceQuote: quote(exit), feeQuote: quote(fee),
        profitQuote, profitPct: ((profit / (amount * entry)) * 100).toFixed(4),
        exitReason: outcome, openedAt, closedAt,
      });
      cash += walletUnits(profitQuote);
      clock = closedAt.getTime() + rng.int(1, 72) * HOUR;
    }
    if (cash < 0n) throw new Error(`demo: bot ${botId}'s trades left its wallet at ${walletDecimal(cash)} ${quoteAsset}`);
    data.paperBalances.push({ botId, tenantId, asset: quoteAsset, amount: walletDecimal(cash), updatedAt: new Date(asOf) });
    for (const [symbol, units] of heldBase) data.paperBalances.push({ botId, tenantId, asset: symbol.split('/')[0]!, amount: walletDecimal(units), updatedAt: new Date(asOf) });
    return walletDecimal(cash);
  }

  // --- Support tickets --------------------------------------------------------------------
  for (let i = 0; i < 220; i++) {
    const trader = rng.pick(traderTenants);
    const [subject, category] = rng.pick(TICKET_SUBJECTS);
    const createdAt = new Date(asOf - rng.int(0, 365) * DAY - rng.int(0, 23) * HOUR);
    const priority = rng.weighted([['low', 20], ['normal', 50], ['high', 22], ['urgent', 8]] as const);
    const ageHours = (asOf - createdAt.getTime()) / HOUR;
    const status = ageHours < 48
      ? rng.weighted([['open', 50], ['pending', 25], ['escalated', 10], ['resolved', 15]] as const)
      : rng.weighted([['resolved', 60], ['closed', 35], ['escalated', 5]] as const);
    const slaDueAt = new Date(createdAt.getTime() + TICKET_SLA_HOURS[priority] * HOUR);
    const responded = status !== 'open' || rng.chance(0.3);
    const firstResponseAt = responded ? new Date(createdAt.getTime() + rng.float(0.1, TICKET_SLA_HOURS[priority] * 1.3) * HOUR) : null;
    const resolvedAt = status === 'resolved' || status === 'closed' ? new Date(createdAt.getTime() + rng.int(2, 96) * HOUR) : null;
    const ticketId = rng.uuid();
    const agent = staffOf('support');
    data.supportTickets.push({
      id: ticketId, tenantId: trader.tenantId, requesterUserId: trader.userId, subject, category, status, priority,
      channel: rng.pick(['telegram', 'email', 'api']), assigneeStaffId: status === 'open' ? null : agent.staffId,
      slaDueAt, firstResponseAt, resolvedAt, createdAt, updatedAt: resolvedAt ?? firstResponseAt ?? createdAt,
    });
    data.ticketMessages.push({ id: rng.uuid(), ticketId, tenantId: trader.tenantId, authorKind: 'customer', authorUserId: trader.userId, body: `${subject}. Podem me ajudar?`, createdAt });
    if (firstResponseAt) {
      data.ticketMessages.push({ id: rng.uuid(), ticketId, tenantId: trader.tenantId, authorKind: 'staff', authorUserId: agent.userId, body: 'Olá! Estamos verificando e retornamos em breve.', createdAt: firstResponseAt });
    }
  }

  // --- Sales leads ------------------------------------------------------------------------
  for (let i = 0; i < 260; i++) {
    const domain = rng.chance(0.3) ? rng.pick(COMPANY_DOMAINS) : rng.pick(['gmail.com', 'hotmail.com', 'outlook.com']);
    const who = person(domain);
    const createdAt = new Date(asOf - rng.int(0, 365) * DAY);
    const stage = rng.weighted([['new', 25], ['contacted', 22], ['qualified', 18], ['proposal', 10], ['won', 12], ['lost', 13]] as const);
    const plan = rng.weighted([['pro', 70], ['enterprise', 30]] as const);
    const converted = stage === 'won' ? rng.pick(traderTenants).tenantId : null;
    data.leads.push({
      id: rng.uuid(), name: who.name, email: who.email, company: domain.includes('.com.br') && !domain.startsWith('g') ? domain.split('.')[0] : null,
      source: rng.pick(LEAD_SOURCES), stage, score: rng.int(stage === 'new' ? 5 : 30, stage === 'lost' ? 40 : 98),
      interestedPlanId: plan, estimatedMonthlyValueCents: PLANS[plan].monthlyPriceCents,
      ownerStaffId: stage === 'new' ? null : staffOf('sales').staffId,
      nextFollowUpAt: ['contacted', 'qualified', 'proposal'].includes(stage) ? new Date(asOf + rng.int(-5, 14) * DAY) : null,
      convertedTenantId: converted, lostReason: stage === 'lost' ? rng.pick(['preço', 'sem tempo', 'concorrente', 'sem resposta']) : null,
      createdAt, updatedAt: new Date(Math.min(asOf, createdAt.getTime() + rng.int(0, 30) * DAY)),
    });
  }

  // --- Marketing: influencers and campaigns ----------------------------------------------
  const influencerIds: string[] = [];
  for (const [handle, platform] of INFLUENCER_HANDLES) {
    const tenantId = rng.uuid();
    const userId = rng.uuid();
    const createdAt = new Date(asOf - rng.int(30, 500) * DAY);
    const who = person('parceiros.botcriptofy.com.br');
    data.tenants.push({ id: tenantId, kind: 'influencer', name: handle, locale: 'pt-BR', createdAt });
    data.users.push({ id: userId, tenantId, email: who.email, name: who.name, locale: 'pt-BR', createdAt });
    const id = rng.uuid();
    influencerIds.push(id);
    data.influencers.push({
      id, tenantId, handle, platform, followers: rng.int(8_000, 900_000), commissionPct: rng.pick(['10', '15', '20', '25']),
      status: rng.weighted([['active', 80], ['paused', 12], ['ended', 8]] as const), createdAt,
    });
  }
  for (let i = 0; i < 24; i++) {
    const startsAt = new Date(asOf - rng.int(-20, 360) * DAY);
    const endsAt = new Date(startsAt.getTime() + rng.int(7, 45) * DAY);
    const status = startsAt.getTime() > asOf ? rng.weighted([['draft', 40], ['scheduled', 60]] as const)
      : endsAt.getTime() < asOf ? 'finished' : rng.weighted([['active', 85], ['paused', 15]] as const);
    const started = status !== 'draft' && status !== 'scheduled';
    const budget = rng.pick([200_000, 500_000, 1_000_000, 2_500_000]);
    const impressions = started ? rng.int(20_000, 1_500_000) : 0;
    const clicks = Math.round(impressions * rng.float(0.005, 0.04));
    const signups = Math.round(clicks * rng.float(0.03, 0.12));
    const channel = rng.pick(['instagram', 'youtube', 'email', 'telegram', 'google-ads', 'tiktok']);
    data.campaigns.push({
      id: rng.uuid(), name: `${rng.pick(CAMPAIGN_THEMES)} ${new Date(startsAt).getUTCFullYear()}`, channel, status,
      influencerId: ['instagram', 'youtube', 'tiktok'].includes(channel) && rng.chance(0.5) ? rng.pick(influencerIds) : null,
      budgetCents: budget, spentCents: started ? Math.round(budget * rng.float(0.3, status === 'finished' ? 1 : 0.8)) : 0,
      impressions, clicks, signups, conversions: Math.round(signups * rng.float(0.1, 0.35)),
      startsAt, endsAt, createdByStaffId: staffOf('marketing').staffId, createdAt: new Date(startsAt.getTime() - rng.int(3, 20) * DAY),
    });
  }

  // --- Documents with versions ------------------------------------------------------------
  for (const [slug, title, category, department, paragraphs] of DOCUMENTS) {
    const documentId = rng.uuid();
    const versions = rng.int(1, 4);
    const createdAt = new Date(asOf - rng.int(200, 700) * DAY);
    let at = createdAt.getTime();
    for (let v = 1; v <= versions; v++) {
      const body = [...paragraphs.slice(0, Math.max(1, paragraphs.length - (versions - v))), v > 1 ? `Revisão ${v}: texto atualizado.` : '']
        .filter(Boolean)
        .join('\n\n');
      data.documentVersions.push({
        id: rng.uuid(), documentId, version: v, title, body, sha256: crypto.createHash('sha256').update(body).digest('hex'),
        authorStaffId: staffOf(department as Department).staffId, changeNote: v === 1 ? 'Versão inicial' : 'Atualização periódica',
        createdAt: new Date(at),
      });
      at += rng.int(20, 150) * DAY;
    }
    data.documents.push({
      id: documentId, slug, title, category, department: department as Department, status: 'published',
      currentVersion: versions, createdAt, updatedAt: new Date(Math.min(asOf, at)),
    });
  }

  // --- Configuration with history ----------------------------------------------------------
  const settingsHead = staffByDepartment.get('settings')![0]!.userId;
  for (const [key, description, values] of CONFIG_ENTRIES) {
    let at = asOf - rng.int(300, 600) * DAY;
    values.forEach((value, index) => {
      data.configEntryVersions.push({ key, version: index + 1, value, changedByUserId: settingsHead, reason: index === 0 ? 'Valor inicial' : 'Ajuste após revisão', createdAt: new Date(at) });
      if (index < values.length - 1) at += rng.int(30, 200) * DAY;
    });
    data.configEntries.push({ key, value: values[values.length - 1], version: values.length, description, updatedByUserId: settingsHead, updatedAt: new Date(at) });
  }

  // --- Security events (90 days, with one brute-force burst) -----------------------------
  const countries = ['BR', 'BR', 'BR', 'BR', 'PT', 'US', 'AR'];
  for (let i = 0; i < 600; i++) {
    const trader = rng.pick(traderTenants);
    const type = rng.weighted([['login_succeeded', 50], ['login_failed', 20], ['api_key_used', 18], ['new_ip', 7], ['permission_denied', 4], ['withdrawal_attempt', 1]] as const);
    const severity = type === 'withdrawal_attempt' ? 'high' : type === 'new_ip' ? 'medium' : type === 'login_failed' || type === 'permission_denied' ? 'low' : 'info';
    data.securityEvents.push({
      id: rng.uuid(), tenantId: trader.tenantId, userId: trader.userId, type, severity,
      ip: `${rng.int(100, 201)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`, country: rng.pick(countries),
      details: {}, occurredAt: new Date(asOf - rng.int(0, 90 * 24 * 60) * 60_000),
    });
  }
  // The brute-force target has an exchange key, so the proposed freeze has something to freeze.
  const withKey = new Set(data.exchangeAccounts.map((account) => account.tenantId));
  const target = rng.pick(traderTenants.filter((trader) => withKey.has(trader.tenantId)).concat(withKey.size === 0 ? traderTenants : []));
  const burstAt = asOf - rng.int(1, 3) * DAY;
  for (let i = 0; i < 14; i++) {
    data.securityEvents.push({
      id: rng.uuid(), tenantId: target.tenantId, userId: target.userId, type: 'login_failed', severity: i > 5 ? 'high' : 'low',
      ip: '45.155.205.17', country: 'RU', details: { attempt: i + 1 }, occurredAt: new Date(burstAt + i * 25_000),
    });
  }

  // --- Approvals waiting for people ---------------------------------------------------------
  // Each can be carried out on the demo as it stands (local mode: no refunds or plan changes,
  // which need Stripe; the tools refuse to propose those without a key).
  const paidTrader =
    traderTenants.find((trader) => trader.planId !== 'free' && data.payments.some((p) => p.tenantId === trader.tenantId && p.status === 'succeeded')) ?? traderTenants[0]!;
  const proposals: [Department, string, Record<string, unknown>, string, string][] = [
    ['security', 'freeze_api_key', { email: target.email, reason: 'acesso de IP novo (RU)' }, `Congelar as chaves de ${target.email} após 14 logins falhos vindos da Rússia`, target.tenantId],
    ['settings', 'set_config', { key: 'security.brute_force_threshold', value: 3, reason: 'ataque de força bruta vindo da Rússia' }, 'Mudar security.brute_force_threshold para 3: ataque de força bruta vindo da Rússia', companyId],
    ['settings', 'rollback_config', { key: 'risk.max_daily_loss_pct', reason: 'o limite de 5 % pausou robôs demais' }, 'Voltar risk.max_daily_loss_pct para a versão anterior: o limite de 5 % pausou robôs demais', companyId],
  ];
  for (const [department, tool, args, summary, tenantId] of proposals) {
    const createdAt = new Date(asOf - rng.int(1, 20) * HOUR);
    data.approvals.push({
      id: rng.uuid(), tenantId, requestedByUserId: staffOf(department).userId,
      agent: department, tool, args, summary, approverDepartment: department, status: 'pending',
      expiresAt: new Date(createdAt.getTime() + 2 * DAY), createdAt,
    });
  }
  data.approvals.push({
    id: rng.uuid(), tenantId: paidTrader.tenantId, requestedByUserId: staffOf('finance').userId, agent: 'finance', tool: 'refund_payment',
    args: { reason: 'insatisfação', amountCents: 49_990 }, summary: 'Reembolso de R$ 499,90', approverDepartment: 'finance', status: 'rejected',
    decidedByUserId: ceoUserId, decidedAt: new Date(asOf - 5 * DAY), decisionNote: 'Fora do prazo de 7 dias', expiresAt: new Date(asOf - 4 * DAY),
    createdAt: new Date(asOf - 6 * DAY),
  });
  return data;
}
