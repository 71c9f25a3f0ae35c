// The dashboard's client of the HTTP API (/api/v1, issue 16): the session cookie goes with
// every request (same origin), errors come back in the API's one shape and are thrown as
// ApiError with its words. The types mirror the OpenAPI document's schemas
// (/api/v1/openapi.json); test/web/serving.test.ts checks every path used here is in it.

import type { Language } from './messages.ts';

export const API = '/api/v1';

export class ApiError extends Error {
  readonly status: number;
  readonly category: string;
  /** How long to wait before trying again (a 429's Retry-After), when the server said. */
  readonly retryAfterS: number | undefined;
  constructor(status: number, category: string, message: string, retryAfterS?: number) {
    super(message);
    this.status = status;
    this.category = category;
    this.retryAfterS = retryAfterS;
  }
}

/** The server could not be reached at all. */
export class NetworkError extends Error {}

export interface Me {
  kind: 'staff' | 'trader';
  userId: string;
  name: string;
  email: string;
  department: string | null;
  role: string | null;
  plan: string | null;
  /** Not in the API yet: the person's setting once it has one. */
  language?: string;
  twoFactorEnabled: boolean;
  /** What the server's permission code allows this person (the menu shows only these pages). */
  access: { tools: string[]; agents: string[]; decidesApprovals: boolean };
}

export interface Bot {
  id: string;
  name: string;
  strategy: string;
  symbols: string[];
  mode: string;
  status: string;
  stakeQuote: string;
  owner: string | null;
  timeframe: string;
  lastError: string | null;
  createdAt: string;
  startedAt: string | null;
  lastTickAt: string | null;
}

export interface Position {
  symbol: string;
  amountBase: string;
  entryPriceQuote: string;
  stopLossQuote: string | null;
  takeProfitQuote: string | null;
  openedAt: string;
}

export interface BotDetails {
  bot: Bot & { parameters: Record<string, unknown>; stoppedAt: string | null; hasExchangeAccount: boolean };
  positions: Position[];
  trades: {
    open: number;
    closed: number;
    wins: number;
    profitQuote: number;
    /** The bot's result today: trades closed since `since` (00:00 UTC), the product's today_result. */
    today: { since: string; closed: number; profitQuote: number };
  };
}

export interface Trade {
  id: string;
  symbol: string;
  status: 'open' | 'closed';
  amountBase: string;
  openPriceQuote: string;
  closePriceQuote: string | null;
  feeQuote: string | null;
  profitQuote: string | null;
  profitPct: string | null;
  exitReason: string | null;
  openedAt: string;
  closedAt: string | null;
}

export interface Candles {
  symbol: string;
  timeframe: string;
  candles: { time: string; open: number; high: number; low: number; close: number; volume: number }[];
  indicators: {
    rsi?: { period: number; values: (number | null)[] };
    macd?: { fast: number; slow: number; signal: number; values: ({ macd: number; signal: number; histogram: number } | null)[] };
    bollinger?: { period: number; stdDevs: number; values: ({ lower: number; middle: number; upper: number } | null)[] };
  };
}

export interface Strategy {
  name: string;
  description: string;
  parameters: { properties?: Record<string, ParameterSchema> };
  defaults: Record<string, number>;
}

export interface ParameterSchema {
  type?: 'integer' | 'number';
  default?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
}

export interface NewBacktest {
  strategy: string;
  parameters: Record<string, number>;
  symbol: string;
  timeframe: string;
  from?: string;
  to?: string;
  startingCashQuote?: number;
  feeRate?: number;
}

export interface Backtest {
  backtest: {
    id: string;
    strategy: string;
    parameters: Record<string, unknown>;
    symbol: string;
    timeframe: string;
    rangeStart: string | null;
    rangeEnd: string | null;
    feeRate: string;
    startingCashQuote: string;
    status: 'queued' | 'running' | 'succeeded' | 'failed';
    error: string | null;
    createdAt: string;
    finishedAt: string | null;
  };
  metrics: {
    candles: number;
    trades: number;
    finalEquity: number;
    totalReturnPct: number;
    maxDrawdownPct: number;
    winRatePct: number | null;
    profitFactor: number | null;
    sharpe: number | null;
    exposurePct: number;
    feesPaid: number;
    elapsedMs: number | null;
  } | null;
  trades: {
    entryTime: string;
    exitTime: string;
    quantity: number;
    entryPrice: number;
    exitPrice: number;
    profit: number;
    profitPct: number;
    exitReason: string;
  }[];
  equityCurve: { time: string; equity: number }[];
}

export interface Profit {
  period: string;
  rows: { start: string; closedTrades: number; wins: number; profitQuote: number }[];
  totalProfitQuote: number;
}

export interface Plan {
  subscription: {
    plan: string;
    status: string;
    amountCents?: number;
    interval?: string;
    renewsAt?: string | null;
    cancelAtPeriodEnd?: boolean;
  };
  limits: { botsAllowed: number; liveTradingAllowed: boolean; backtestsPerDay: number; symbolsPerBot: number };
  name: string;
  monthlyPriceCents: number;
  yearlyPriceCents: number;
}

export interface BotStatusChange {
  botId: string;
  name: string;
  mode: string;
  previousStatus: string;
  status: string;
}

export interface PendingApproval {
  pendingApproval: { id: string; summary: string; approverDepartment: string };
  message: string;
}

export interface ForceExitResult {
  botId: string;
  exits: {
    symbol: string;
    outcome: string;
    amountBase: string;
    priceQuote: string | null;
    profitQuote: string | null;
    reason: string | null;
  }[];
}

export interface Approval {
  id: string;
  status: string;
  tool: string;
  summary: string;
  approverDepartment: string;
  requestedAt: string;
  expiresAt: string;
}

export interface ApprovalDecision {
  approvalId: string;
  status: 'executed' | 'failed' | 'rejected';
  message: string | null;
}

export interface AgentTurn {
  agent: string;
  answer: string;
  toolCalls: { tool: string; ok: boolean; args?: unknown; by: 'model' | 'router' }[];
  mode: 'ollama' | 'offline';
  grounded: boolean;
  answerFrom: 'model' | 'template';
  rejectedBecause: string | null;
  actions: { tool: string | null; status: 'done' | 'awaiting_approval' | 'refused' | 'not_done'; approvalId: string | null }[];
  elapsedMs: number;
}

export interface ExecutiveReport {
  period: 'daily' | 'weekly';
  asOf: string;
  runId: string;
  text: string;
  figures: Record<string, unknown>;
  summaryFrom: 'model' | 'template';
  fallback: string | null;
  grounded: boolean;
  unsupported: string[];
  elapsedMs: number;
  /** The revenue/MRR chart's series (the revenue_months tool), the current month last. */
  revenue: { asOf: string; months: { month: string; mrrCents: number; revenueCents: number }[] };
}

export interface Kpis {
  windowDays: number;
  securityWindowHours: number;
  finance: {
    mrrCents: number;
    arrCents: number;
    payingCustomers: number;
    customerChurn30dPct: number | null;
    netNewMrr30dCents: number;
    failedPayments30d: number;
    atRiskCents: number;
  };
  trading: { runningBots: number; closedTrades30d: number; profit30dQuote: number; winRate30dPct: number | null };
  support: { openTickets: number; overdueTickets: number };
  sales: { openLeads: number; won30d: number };
  marketing: { activeCampaigns: number };
  security: { highSeverityEvents24h: number };
  approvals: { pending: number };
}

export interface AuditEntries {
  hours: number;
  entries: { id: number; at: string; actor: string | null; agent: string | null; action: string; tool: string | null; outcome: string }[];
}

export interface SecurityEvents {
  hours: number;
  total: number;
  byType: Record<string, number>;
  latest: { type: string; severity: string; ip: string | null; country: string | null; at: string }[];
}

export type ConsentKind = 'terms' | 'marketing';

export interface ConsentStatus {
  current: { kind: ConsentKind; version: string; granted: boolean; source: string; recordedAt: string }[];
  texts: { kind: ConsentKind; slug: string; title: string; version: string }[];
  /** True until the person agrees to the terms of use as published now. */
  termsRequired: boolean;
  unanswered: ConsentKind[];
}

/** A text people agree to (GET /documents/{slug}): the terms of use or the privacy policy as published now. */
export interface ConsentDocument {
  slug: string;
  kind: ConsentKind;
  title: string;
  /** `v` and the version number, as GET /consents names it. */
  version: string;
  body: string;
  sha256: string;
  publishedAt: string;
}

export interface AuditVerification {
  ok: boolean;
  rowsChecked: number;
  badRowId: number | null;
  message: string;
}

export interface SystemStatus {
  jobs: 'bullmq' | 'in-process';
  tickIntervalS: number;
  workers: { workerId: string; lastSeenMs: number; alive: boolean; bots: number }[];
  queues: Record<string, { waiting: number; delayed: number; active: number; completed: number; failed: number } | null>;
  bots: Record<string, number>;
  runningBotsNotTicked: number;
  feeds: {
    exchange: string;
    symbol: string;
    timeframe: string;
    lastBarOpenMs: number | null;
    lastBarAgeMs: number | null;
    stale: boolean;
  }[];
  staleFeeds: number;
}

/** One live event of GET /events (Server-Sent Events). */
export type LiveEvent =
  | {
      event: 'trade';
      data: {
        kind: 'opened' | 'closed' | 'stop_loss';
        botId: string;
        botName?: string;
        tradeId?: string;
        symbol: string;
        amountBase: string;
        priceQuote?: string;
        openPriceQuote?: string;
        closePriceQuote?: string;
        profitQuote?: string;
        /** When the runner reported it (right after writing the trade). */
        at?: string;
      };
    }
  | { event: 'bot_status'; data: { botId: string; botName?: string; status: string; previousStatus?: string; reason?: string } }
  | { event: 'backtest_finished'; data: { backtestId: string; status: 'succeeded' | 'failed' } }
  | { event: 'approval_requested'; data: { approvalId: string; tool: string; summary: string } }
  | { event: 'approval_decided'; data: { approvalId: string; summary: string; decision: string } };

export const LIVE_EVENTS = ['trade', 'bot_status', 'backtest_finished', 'approval_requested', 'approval_decided'] as const;

/** A bot draft as the trader's assistant shows it (the draft tools' card, /assistant/…). */
export interface DraftCard {
  draftId: string;
  status: 'draft' | 'started' | 'discarded';
  locale: 'pt-BR' | 'en';
  name: string;
  description: string;
  strategy: string | null;
  parameters: Record<string, number>;
  symbols: string[];
  timeframe: string | null;
  stakeQuote: string | null;
  stopLossPct: number | null;
  takeProfitPct: number | null;
  maxOpenPositions: number | null;
  mode: 'paper';
  questions: { field: string; question: string }[];
  assumed: string[];
  blocked: { reason: string; upgradeTo: string | null } | null;
  liveNote: string | null;
  riskNote: string | null;
  backtests:
    | {
        symbol: string;
        backtestId: string;
        candles: number;
        expectedCandles: number;
        rangeStart: string;
        rangeEnd: string;
        trades: number;
        totalReturnPct: number;
        maxDrawdownPct: number;
        winRatePct: number | null;
        buyAndHoldReturnPct: number;
        buyAndHoldMaxDrawdownPct: number;
        missing: string | null;
      }[]
    | null;
  botId: string | null;
  updatedAt: string;
  next: ('answer' | 'backtest' | 'start_on_paper' | 'discard')[];
}

/** What the assistant made of the trader's words. */
export interface AssistantReply {
  kind: 'new' | 'change' | 'none';
  draft: DraftCard | null;
  hint: string | null;
}

/** A draft backtest's equity beside holding the coin, per pair. */
export interface DraftCurves {
  backtestId: string;
  symbol: string;
  timeframe: string;
  quote: string;
  startQuote: number;
  strategy: { time: string; equityQuote: number }[];
  buyAndHold: { time: string; equityQuote: number }[];
}

/** Called when an answer says the session is gone (401), so the app shows the sign-in page. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  let response: Response;
  const form = body instanceof FormData;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      credentials: 'same-origin',
      // A form (a file upload) sets its own multipart content type.
      headers: {
        ...extraHeaders,
        ...(body === undefined || form
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: form ? body : JSON.stringify(body) }),
    });
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } | string; message?: string } | undefined)?.error;
    const category = typeof error === 'object' ? (error.code ?? 'error') : (error ?? 'error');
    const message =
      (typeof error === 'object' ? error.message : (parsed as { message?: string } | undefined)?.message) ??
      `${response.status} ${response.statusText}`;
    if (response.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
    const retryAfterS = Number(response.headers.get('retry-after') ?? Number.NaN);
    throw new ApiError(response.status, category, message, Number.isFinite(retryAfterS) ? retryAfterS : undefined);
  }
  return { status: response.status, body: parsed as T };
}

const get = async <T>(path: string): Promise<T> => (await call<T>('GET', path)).body;
const query = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

export const api = {
  me: () => get<Me>('/me'),
  signIn: (email: string, password: string) =>
    call<{ twoFactorRedirect?: boolean; user?: { name: string } }>('POST', '/auth/sign-in/email', { email, password }).then((r) => r.body),
  signUp: (name: string, email: string, password: string, locale: Language) =>
    call<{ user: { name: string } }>('POST', '/auth/sign-up/email', { name, email, password, locale }).then((r) => r.body),
  verifyTotp: (code: string) => call<unknown>('POST', '/auth/two-factor/verify-totp', { code }).then((r) => r.body),
  enableTotp: (password: string) =>
    call<{ totpURI: string; backupCodes: string[] }>('POST', '/auth/two-factor/enable', { password }).then((r) => r.body),
  signOut: () => call<unknown>('POST', '/auth/sign-out').then((r) => r.body),
  bots: () => get<{ bots: Bot[]; total: number; byStatus: Record<string, number> }>('/bots?limit=1000'),
  bot: (id: string) => get<BotDetails>(`/bots/${encodeURIComponent(id)}`),
  startBot: (id: string, confirmLive: boolean) =>
    call<BotStatusChange | PendingApproval>('POST', `/bots/${encodeURIComponent(id)}/start`, confirmLive ? { confirmLive: true } : {}).then(
      (r) => r.body,
    ),
  stopBot: (id: string) => call<BotStatusChange>('POST', `/bots/${encodeURIComponent(id)}/stop`).then((r) => r.body),
  forceExit: (id: string) => call<ForceExitResult>('POST', `/bots/${encodeURIComponent(id)}/forceexit`, {}).then((r) => r.body),
  trades: (id: string, params: { status?: 'open' | 'closed'; limit?: number; before?: string }) =>
    get<{ botId: string; trades: Trade[]; nextBefore: string | null }>(`/bots/${encodeURIComponent(id)}/trades${query(params)}`),
  candles: (params: { symbol: string; timeframe: string; from?: string; to?: string; indicators?: string }) =>
    get<Candles>(`/candles${query(params)}`),
  strategies: () => get<{ strategies: Strategy[] }>('/strategies'),
  submitBacktest: (body: NewBacktest) =>
    call<{ backtestId: string; status: 'queued'; candles: number }>('POST', '/backtests', body).then((r) => r.body),
  /** The same backtest on candles uploaded as CSV (multipart: file, strategy, parameters as JSON, …). */
  submitBacktestUpload: (form: FormData) =>
    call<{ backtestId: string; status: 'queued'; candles: number }>('POST', '/backtests', form).then((r) => r.body),
  backtest: (id: string) => get<Backtest>(`/backtests/${encodeURIComponent(id)}`),
  profit: (period: 'day' | 'week' | 'month', count: number) => get<Profit>(`/profit${query({ period, count })}`),
  plan: () => get<Plan>('/plan'),
  billingCheckout: (body: { planId: string; interval: 'month' | 'year'; successUrl: string; cancelUrl: string }) =>
    call<{ url: string }>('POST', '/billing/checkout', body).then((r) => r.body),
  billingPortal: (returnUrl: string) => call<{ url: string }>('POST', '/billing/portal', { returnUrl }).then((r) => r.body),
  approvals: () => get<{ approvals: Approval[] }>('/approvals'),
  decide: (id: string, decision: 'approve' | 'reject', note?: string) =>
    call<ApprovalDecision>('POST', `/approvals/${encodeURIComponent(id)}/${decision}`, note ? { note } : {}).then((r) => r.body),
  ask: (agent: string, message: string, offline: boolean) =>
    call<AgentTurn>('POST', `/agents/${encodeURIComponent(agent)}/ask`, { message, ...(offline ? { offline: true } : {}) }).then(
      (r) => r.body,
    ),
  executiveReport: (period: 'daily' | 'weekly', offline: boolean, lang: string) =>
    get<ExecutiveReport>(`/reports/executive${query({ period, offline: offline ? 'true' : undefined, lang })}`),
  kpis: () => get<Kpis>('/kpis'),
  audit: (params: { tool?: string; outcome?: string; hours?: number; limit?: number }) => get<AuditEntries>(`/audit${query(params)}`),
  verifyAudit: () => call<AuditVerification>('POST', '/audit/verify').then((r) => r.body),
  status: () => get<SystemStatus>('/status'),
  securityEvents: (params: { hours?: number; severity?: string; type?: string }) => get<SecurityEvents>(`/security-events${query(params)}`),
  consents: () => get<ConsentStatus>('/consents'),
  answerConsent: (kind: ConsentKind, granted: boolean) => call<unknown>('POST', '/consents', { kind, granted }).then((r) => r.body),
  consentDocument: (slug: string) => get<ConsentDocument>(`/documents/${encodeURIComponent(slug)}`),
  assistantSay: (text: string) => call<AssistantReply>('POST', '/assistant/messages', { text }).then((r) => r.body),
  openDraft: () => get<{ draft: DraftCard | null }>('/assistant/draft'),
  draft: (id: string) => get<{ draft: DraftCard }>(`/assistant/drafts/${encodeURIComponent(id)}`),
  changeDraft: (id: string, text: string) =>
    call<{ draft: DraftCard }>('POST', `/assistant/drafts/${encodeURIComponent(id)}/change`, { text }).then((r) => r.body),
  backtestDraft: (id: string) =>
    call<{ draft: DraftCard; curves: DraftCurves[] }>('POST', `/assistant/drafts/${encodeURIComponent(id)}/backtest`, {}).then(
      (r) => r.body,
    ),
  /** The curves of the backtests a draft's card shows, read again (a reloaded page's chart; nothing is run). */
  draftCurves: (id: string) => get<{ curves: DraftCurves[] }>(`/assistant/drafts/${encodeURIComponent(id)}/curves`),
  /** The trader's press of "Start on paper", confirmed in the dialog; `idempotencyKey` makes a retry of that press start one bot. */
  startDraft: (id: string, idempotencyKey: string) =>
    call<{ draft: DraftCard; botId: string; status: string; mode: 'paper' }>(
      'POST',
      `/assistant/drafts/${encodeURIComponent(id)}/start`,
      { confirm: true },
      { 'idempotency-key': idempotencyKey },
    ).then((r) => r.body),
  discardDraft: (id: string) =>
    call<{ draft: DraftCard }>('POST', `/assistant/drafts/${encodeURIComponent(id)}/discard`, {}).then((r) => r.body),
};

/** Every (method, path) this client calls, in the OpenAPI document's spelling (checked by test/web). */
export const CLIENT_ROUTES: readonly (readonly [string, string])[] = [
  ['get', '/api/v1/me'],
  ['post', '/api/v1/auth/sign-in/email'],
  ['post', '/api/v1/auth/sign-up/email'],
  ['post', '/api/v1/auth/two-factor/verify-totp'],
  ['post', '/api/v1/auth/two-factor/enable'],
  ['post', '/api/v1/auth/sign-out'],
  ['get', '/api/v1/bots'],
  ['get', '/api/v1/bots/{id}'],
  ['post', '/api/v1/bots/{id}/start'],
  ['post', '/api/v1/bots/{id}/stop'],
  ['post', '/api/v1/bots/{id}/forceexit'],
  ['get', '/api/v1/bots/{id}/trades'],
  ['get', '/api/v1/candles'],
  ['get', '/api/v1/strategies'],
  ['post', '/api/v1/backtests'],
  ['get', '/api/v1/backtests/{id}'],
  ['get', '/api/v1/profit'],
  ['get', '/api/v1/plan'],
  ['post', '/api/v1/billing/checkout'],
  ['post', '/api/v1/billing/portal'],
  ['get', '/api/v1/approvals'],
  ['post', '/api/v1/approvals/{id}/approve'],
  ['post', '/api/v1/approvals/{id}/reject'],
  ['post', '/api/v1/agents/{agent}/ask'],
  ['get', '/api/v1/reports/executive'],
  ['get', '/api/v1/kpis'],
  ['get', '/api/v1/audit'],
  ['post', '/api/v1/audit/verify'],
  ['get', '/api/v1/status'],
  ['get', '/api/v1/security-events'],
  ['get', '/api/v1/consents'],
  ['post', '/api/v1/consents'],
  ['get', '/api/v1/documents/{slug}'],
  ['get', '/api/v1/events'],
  ['post', '/api/v1/assistant/messages'],
  ['get', '/api/v1/assistant/draft'],
  ['get', '/api/v1/assistant/drafts/{id}'],
  ['post', '/api/v1/assistant/drafts/{id}/change'],
  ['post', '/api/v1/assistant/drafts/{id}/backtest'],
  ['get', '/api/v1/assistant/drafts/{id}/curves'],
  ['post', '/api/v1/assistant/drafts/{id}/start'],
  ['post', '/api/v1/assistant/drafts/{id}/discard'],
];
