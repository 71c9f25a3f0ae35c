import crypto from 'node:crypto';
import { betterAuth } from 'better-auth';
import { APIError } from 'better-auth/api';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { hashPassword } from 'better-auth/crypto';
import { twoFactor } from 'better-auth/plugins/two-factor';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock/index.ts';
import { locales } from '../i18n/index.ts';
import {
  authAccounts,
  authRateLimits,
  authSessions,
  authTwoFactors,
  authVerifications,
  securityEvents,
  tenants,
  users,
  type ApiKeyScope,
  type Database,
} from '../db/index.ts';
import {
  ApiKeyLimitReached,
  authenticateApiKey,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyHolder,
  type ApiKeySummary,
} from './api-keys.ts';

// Accounts and sign-in (issue 16) on Better-Auth, in our own PostgreSQL through drizzle.
//
// Better-Auth's `user` model is our `users` table (modelName below): one person, one id, the
// same row the tool layer, Telegram links and the audit log already point at. Staff and traders
// are people the company creates (the seed, staff tools); a trader may also create their own
// account when the operator leaves sign-up open (`signUp`): Better-Auth's sign-up then makes the
// person the one user of a new trader tenant (the user-create hook below), so `users.tenant_id`
// is still decided by our code, never by a client. The
// password hash lives in Better-Auth's own `auth_accounts` (provider `credential`), not in
// `users`, so the demo company's generated rows are unchanged by passwords.

export interface SignInLimit {
  /** Seconds of the window. */
  readonly window: number;
  /** Sign-in requests one client IP may make in a window (successful ones count too). */
  readonly max: number;
}

/** Failed sign-ins (wrong password or TOTP code) one account may have in a window before it is locked. */
export interface AccountLockPolicy {
  /** Seconds of the window. */
  readonly window: number;
  /** Failures in the window (since the account's last successful sign-in) that lock it. */
  readonly maxFailures: number;
}

export interface AccountsOptions {
  readonly db: Database;
  /** Signs the session cookie (at least 32 characters). */
  readonly secret: string;
  /** Where the server is reached, e.g. http://127.0.0.1:3000 (Better-Auth's origin checks). */
  readonly baseURL: string;
  /** `Secure` cookies: on everywhere but loopback (default: decided from baseURL). */
  readonly secureCookies?: boolean;
  readonly signInLimit?: SignInLimit;
  /** Per account, whatever the address (default 10 failures in 15 minutes). */
  readonly accountLock?: AccountLockPolicy;
  /** What time it is for the account lock, API keys and security events (default: the system clock). */
  readonly clock?: Pick<Clock, 'now'>;
  /**
   * Origins a browser may sign in from besides the server's own (API_CORS_ORIGINS: a web app
   * served elsewhere). The server's own origin is the one the request was addressed to.
   */
  readonly trustedOrigins?: readonly string[];
  /**
   * How long a session cookie this process has checked is taken at its word (default
   * SESSION_CACHE_MS; 0: checked on every request).
   */
  readonly sessionCacheMs?: number;
  /**
   * Whether a trader may create their own account (POST /auth/sign-up/email): a new trader
   * tenant with them as its one person, signed in at once. Default false (accounts come from the
   * company only); the server takes AUTH_SIGN_UP.
   */
  readonly signUp?: boolean;
  /** Where Better-Auth's own log lines go (default: nowhere; our security events record sign-ins). */
  readonly log?: (level: 'debug' | 'info' | 'success' | 'warn' | 'error', message: string) => void;
}

export const AUTH_BASE_PATH = '/api/v1/auth';
/** The shortest password sign-up (and Better-Auth) accepts. */
export const MIN_PASSWORD_LENGTH = 10;
/** The header the HTTP door sets to the connection's address (any client value is replaced). */
export const CLIENT_IP_HEADER = 'x-botcriptofy-client-ip';
export const DEFAULT_SIGN_IN_LIMIT: SignInLimit = { window: 60, max: 5 };
export const DEFAULT_ACCOUNT_LOCK: AccountLockPolicy = { window: 15 * 60, maxFailures: 10 };
export const TOTP_ISSUER = 'BotCriptoFy';
/**
 * A session cookie checked by Better-Auth (its signature, then its session and user rows: two
 * queries and an HMAC, half of what an authenticated GET /me costs) is trusted for this long in
 * this process. A change this process makes (sign-out, a second factor turned on or off, any
 * other POST under /auth) forgets the person's checked cookies at once; a session ended by
 * another process or by an erasure stops working here within this time.
 */
export const SESSION_CACHE_MS = 5_000;
/** Checked cookies kept at most (the oldest is forgotten first). */
const SESSION_CACHE_MAX = 10_000;
const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?botcriptofy\.session_token=([^;]+)/;

function isLoopback(baseURL: string): boolean {
  const host = new URL(baseURL).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

/** The origins (http and https) of the host a request was addressed to (its URL is built from its Host). */
export function sameHostOrigins(request: Request | undefined): string[] {
  if (!request) return [];
  const { host } = new URL(request.url);
  return [`http://${host}`, `https://${host}`];
}

function buildAuth(options: AccountsOptions) {
  const limit = options.signInLimit ?? DEFAULT_SIGN_IN_LIMIT;
  return betterAuth({
    appName: 'BotCriptoFy',
    baseURL: options.baseURL,
    basePath: AUTH_BASE_PATH,
    secret: options.secret,
    // The page that posts is trusted when it was served by this server: its Origin names the host
    // the request was sent to (http://localhost:3000 and http://127.0.0.1:3000 alike, PORT=0, a
    // proxy's public name). A forged cross-site request carries the other site's Origin; a host
    // name rebound to us carries its own cookies, never ours.
    trustedOrigins: async (request) => [...(options.trustedOrigins ?? []), ...sameHostOrigins(request)],
    database: drizzleAdapter(options.db, {
      provider: 'pg',
      schema: { users, authSessions, authAccounts, authVerifications, authRateLimits, authTwoFactors },
    }),
    // TOTP second factor (authenticator apps), optional for everyone, required of staff who may
    // decide approvals before they decide one through the API (server/api/account-security.ts).
    plugins: [twoFactor({ issuer: TOTP_ISSUER, twoFactorTable: 'authTwoFactors' })],
    user: {
      modelName: 'users',
      // Our column, set by whoever creates the person (the seed, staff tools, the sign-up hook
      // below), never by a client. Not `required` here: Better-Auth checks that before its hooks
      // run, and the hook is what sets it; the column's NOT NULL still refuses a person without.
      // `locale`: the language a sign-up names (the route checks it is one of ours), with
      // `localeChosenAt` set by the hook — the person chose it, so messages need not guess.
      additionalFields: {
        tenantId: { type: 'string', required: false, input: false },
        locale: { type: 'string', required: false, input: true },
        localeChosenAt: { type: 'date', required: false, input: false },
      },
    },
    session: { modelName: 'authSessions' },
    account: { modelName: 'authAccounts' },
    verification: { modelName: 'authVerifications' },
    emailAndPassword: { enabled: true, disableSignUp: !options.signUp, minPasswordLength: MIN_PASSWORD_LENGTH, autoSignIn: true },
    rateLimit: {
      enabled: true,
      storage: 'database',
      modelName: 'authRateLimits',
      window: 60,
      max: 100,
      // A sign-up is throttled per address like a sign-in (each makes a tenant and a session).
      customRules: {
        '/sign-in/email': { window: limit.window, max: limit.max },
        '/sign-up/email': { window: limit.window, max: limit.max },
      },
    },
    advanced: {
      database: { generateId: 'uuid' },
      useSecureCookies: options.secureCookies ?? !isLoopback(options.baseURL),
      // Better-Auth turns its Origin check off under NODE_ENV=test; tests must run the production path.
      disableOriginCheck: false,
      cookiePrefix: 'botcriptofy',
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    databaseHooks: {
      user: {
        create: {
          // Only a sign-up creates a person through Better-Auth (the seed and staff tools write
          // users themselves): they become the one person of a new trader tenant. Should the
          // user's insert then fail (another sign-up with the same email a moment earlier), the
          // tenant stays behind with nobody in it and nothing of theirs.
          async before(user) {
            const { locale: chosen, ...person } = user as typeof user & { locale?: unknown };
            const language = locales.find((known) => known === chosen);
            const [tenant] = await options.db
              .insert(tenants)
              .values({ kind: 'trader', name: user.name, ...(language ? { locale: language } : {}) })
              .returning({ id: tenants.id });
            return { data: { ...person, tenantId: tenant!.id, ...(language ? { locale: language, localeChosenAt: new Date() } : {}) } };
          },
        },
      },
      session: {
        create: {
          // A disabled person (users.status) gets no new session, whatever their password.
          async before(session) {
            const [person] = await options.db.select({ status: users.status }).from(users).where(eq(users.id, session.userId));
            if (person?.status !== 'active') throw new APIError('FORBIDDEN', { message: 'This account is disabled.' });
          },
        },
      },
    },
    telemetry: { enabled: false },
    logger: options.log ? { log: (level, message) => options.log?.(level, message) } : { disabled: true },
  });
}

export type Auth = ReturnType<typeof buildAuth>;

/** The signed-in person behind a request: by Better-Auth's session cookie or by a personal API key. */
export interface SessionPerson {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  /** The session's id, or the API key's. */
  readonly sessionId: string;
  /** When the session ends (an API key without an expiry: null). */
  readonly expiresAt: Date | null;
  /** How the request proved who it is. */
  readonly via: 'session' | 'api_key';
  /** A session may do what the person may; a `read` API key only reads (GET). */
  readonly scope: ApiKeyScope;
  /** Whether the person has a verified TOTP second factor. */
  readonly twoFactorEnabled: boolean;
}

/** Who a request is from: a person, nobody (no credentials), or a credential that is not valid. */
export type Authentication =
  | { readonly kind: 'person'; readonly person: SessionPerson }
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'invalid_key' };

export interface Accounts {
  readonly auth: Auth;
  /** Whether traders may create their own account (POST /auth/sign-up/email; `signUp`). */
  readonly signUpOpen: boolean;
  /**
   * Passes a request to Better-Auth (the sign-in, sign-out and session routes) and records every
   * sign-in attempt as a security event: `login_succeeded`, `login_failed` (a wrong password or
   * an unknown email) or `login_throttled` (refused by the rate limiter, 429 with Retry-After).
   */
  handle(request: Request, clientIp: string | undefined): Promise<Response>;
  /** The person signed in with this request's session cookie, or undefined. */
  sessionOf(headers: Headers): Promise<SessionPerson | undefined>;
  /**
   * Who the request is from: an API key (`Authorization: Bearer bcf_…` or `X-API-Key`) if it
   * carries one, otherwise the session cookie. A key that is unknown, revoked or expired is
   * `invalid_key`, never a fall-back to the cookie.
   */
  authenticate(headers: Headers, clientIp: string | undefined): Promise<Authentication>;
  /** The owner's new key (shown once). Throws ApiKeyLimitReached past MAX_ACTIVE_API_KEYS. */
  createKey(
    userId: string,
    key: {
      name: string;
      scope: ApiKeyScope /** The key stops working this many days from now (default: never). */;
      expiresInDays?: number;
    },
    clientIp: string | undefined,
  ): Promise<ApiKeySummary & { key: string }>;
  listKeys(userId: string): Promise<ApiKeySummary[]>;
  revokeKey(userId: string, keyId: string, clientIp: string | undefined): ReturnType<typeof revokeApiKey>;
}

export { ApiKeyLimitReached, type ApiKeyHolder, type ApiKeySummary };

const SIGN_IN_PATH = `${AUTH_BASE_PATH}/sign-in/email`;
const SIGN_UP_PATH = `${AUTH_BASE_PATH}/sign-up/email`;
const VERIFY_TOTP_PATH = `${AUTH_BASE_PATH}/two-factor/verify-totp`;
const ENABLE_TOTP_PATH = `${AUTH_BASE_PATH}/two-factor/enable`;
const DISABLE_TOTP_PATH = `${AUTH_BASE_PATH}/two-factor/disable`;

export function createAccounts(options: AccountsOptions): Accounts {
  const auth = buildAuth(options);
  const now = () => new Date((options.clock ?? { now: () => Date.now() }).now());
  const lockPolicy = options.accountLock ?? DEFAULT_ACCOUNT_LOCK;
  const signInLimit = options.signInLimit ?? DEFAULT_SIGN_IN_LIMIT;
  const keyAddressesSeen = new Set<string>();

  const sessionCacheMs = options.sessionCacheMs ?? SESSION_CACHE_MS;
  /** Session cookies (as sent, signature included) checked lately, with whom they stand for. */
  const checkedSessions = new Map<string, { readonly person: SessionPerson; readonly until: number }>();
  const cookieOf = (headers: Headers) => (sessionCacheMs > 0 ? headers.get('cookie')?.match(SESSION_COOKIE)?.[1] : undefined);
  const forgetSessionsOf = (userId: string) => {
    for (const [cookie, checked] of checkedSessions) if (checked.person.userId === userId) checkedSessions.delete(cookie);
  };

  async function sessionOf(headers: Headers): Promise<SessionPerson | undefined> {
    const cookie = cookieOf(headers);
    if (!cookie) return checkSession(headers);
    const at = now().getTime();
    const checked = checkedSessions.get(cookie);
    if (checked && checked.until > at) return checked.person;
    checkedSessions.delete(cookie);
    const person = await checkSession(headers);
    if (person) {
      if (checkedSessions.size >= SESSION_CACHE_MAX) checkedSessions.delete(checkedSessions.keys().next().value!);
      checkedSessions.set(cookie, {
        person,
        until: Math.min(at + sessionCacheMs, person.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY),
      });
    }
    return person;
  }

  async function checkSession(headers: Headers): Promise<SessionPerson | undefined> {
    const session = await auth.api.getSession({ headers });
    if (!session) return undefined;
    return {
      userId: session.user.id,
      email: session.user.email,
      name: session.user.name,
      sessionId: session.session.id,
      expiresAt: session.session.expiresAt,
      via: 'session',
      scope: 'read_write',
      twoFactorEnabled: session.user.twoFactorEnabled === true,
    };
  }

  return {
    auth,
    signUpOpen: options.signUp === true,
    async handle(request, clientIp) {
      const headers = new Headers(request.headers);
      headers.delete(CLIENT_IP_HEADER);
      if (clientIp) headers.set(CLIENT_IP_HEADER, clientIp);
      // Better-Auth refuses a request with cookies but no Origin (its CSRF check). A browser
      // always sends Origin on a POST, and Sec-Fetch-Site besides; a request with neither (and
      // no Referer) is a program — curl, a script — which no other site can make on a person's
      // behalf, so it is taken as coming from this server's own origin.
      if (!headers.has('origin') && !headers.has('referer') && !headers.has('sec-fetch-site'))
        headers.set('origin', sameHostOrigins(request)[0]!);
      const path = new URL(request.url).pathname;
      const watched =
        request.method === 'POST' && [SIGN_IN_PATH, SIGN_UP_PATH, VERIFY_TOTP_PATH, ENABLE_TOTP_PATH, DISABLE_TOTP_PATH].includes(path);
      const body = watched ? await request.text() : undefined;
      const ip = clientIp ?? null;
      const userAgent = headers.get('user-agent');
      const event = (person: Person | undefined, type: string, status: number, details: Record<string, unknown> = {}) =>
        recordEvent(options.db, { type, person, ip, status, userAgent, at: now(), details });

      // Who this attempt is about, before Better-Auth answers: the account a sign-in names, the
      // person finishing a sign-in with their TOTP code, or the signed-in person enrolling.
      const signIn = path === SIGN_IN_PATH && watched;
      const signUp = path === SIGN_UP_PATH && watched;
      const signedIn = watched && !signIn && !signUp ? await sessionOf(headers) : undefined;
      const secondFactor = path === VERIFY_TOTP_PATH && watched && !signedIn;
      const typedEmail = signIn ? emailOf(body) : null;
      const person = signIn
        ? await personByEmail(options.db, typedEmail)
        : secondFactor
          ? await personInTwoFactorSignIn(options.db, headers)
          : signedIn
            ? await personById(options.db, signedIn.userId)
            : undefined;

      if ((signIn || secondFactor) && person) {
        const retryAfter = await lockedFor(options.db, person.id, now(), lockPolicy);
        if (retryAfter !== undefined) {
          await event(person, 'login_locked', 429, secondFactor ? { factor: 'totp' } : {});
          const minutes = Math.ceil(retryAfter / 60);
          return Response.json(
            {
              code: 'ACCOUNT_LOCKED',
              message: `This account is locked after ${lockPolicy.maxFailures} failed sign-ins in ${lockPolicy.window / 60} minutes; try again in ${minutes} minute${minutes === 1 ? '' : 's'} (Retry-After).`,
            },
            { status: 429, headers: { 'retry-after': String(retryAfter) } },
          );
        }
      }

      const forwarded = new Request(request.url, {
        method: request.method,
        headers,
        ...(body === undefined ? (request.body ? { body: request.body, duplex: 'half' } : {}) : { body }),
      } as RequestInit);
      // Whatever a POST changes (the session ended, a second factor on or off) shows at once.
      const cookie = request.method === 'POST' ? cookieOf(headers) : undefined;
      const changedPerson = cookie ? (checkedSessions.get(cookie)?.person ?? (await checkSession(headers)))?.userId : undefined;
      let response = await auth.handler(forwarded);
      if (cookie) {
        checkedSessions.delete(cookie);
        if (changedPerson) forgetSessionsOf(changedPerson);
      }
      if (response.status === 429) {
        // Better-Auth says when to retry in X-Retry-After; HTTP's header is Retry-After. Its own
        // message ("Too many requests") does not say which limit; a sign-in's or sign-up's does.
        const retryAfter = response.headers.get('x-retry-after') ?? '60';
        const limited = signIn || signUp;
        const headers = new Headers(response.headers);
        headers.delete('content-length');
        headers.delete('content-type');
        response = limited
          ? Response.json(
              {
                code: 'RATE_LIMITED',
                message: `Too many ${signUp ? 'sign-ups' : 'sign-in attempts'} from this address (at most ${signInLimit.max} in ${signInLimit.window} s); try again in ${retryAfter} s.`,
              },
              { status: 429, headers },
            )
          : new Response(response.body, response);
        response.headers.set('retry-after', retryAfter);
      }
      if (!watched) return response;
      const status = response.status;
      const throttled = status === 429;
      if (signIn) {
        const answer = response.ok ? ((await response.clone().json()) as { twoFactorRedirect?: boolean }) : {};
        const type = answer.twoFactorRedirect
          ? 'login_second_factor_required'
          : response.ok
            ? 'login_succeeded'
            : throttled
              ? 'login_throttled'
              : 'login_failed';
        // The email as typed only when it matches nobody (a person's row already names them).
        await event(person, type, status, person ? {} : { email: typedEmail });
      } else if (signUp) {
        const created = response.ok ? ((await response.clone().json()) as { user?: { id?: string } }).user?.id : undefined;
        const person = created ? await personById(options.db, created) : undefined;
        if (person) {
          await event(person, 'account_created', status);
          await appendAudit(options.db, {
            tenantId: person.tenantId,
            actorKind: 'trader',
            actorId: person.id,
            agent: null,
            action: 'account.sign_up',
            outcome: 'ok',
            details: { tenantKind: 'trader' },
          });
        } else await event(undefined, throttled ? 'sign_up_throttled' : 'sign_up_refused', status, { email: emailOf(body) });
      } else if (secondFactor) {
        const type = response.ok ? 'login_succeeded' : throttled ? 'login_throttled' : 'login_failed';
        await event(person, type, status, { factor: 'totp' });
      } else if (path === VERIFY_TOTP_PATH) {
        // A signed-in person's first code proves the enrolment.
        if (response.ok && signedIn && !signedIn.twoFactorEnabled) await event(person, 'totp_enrolled', status);
        else if (!response.ok) await event(person, 'totp_enrolment_failed', status);
      } else if (path === ENABLE_TOTP_PATH) {
        await event(person, response.ok ? 'totp_enrolment_started' : 'totp_enrolment_failed', status);
      } else if (path === DISABLE_TOTP_PATH && response.ok) {
        await event(person, 'totp_disabled', status);
      }
      return response;
    },
    sessionOf,
    async authenticate(headers, clientIp) {
      const authorization = headers.get('authorization');
      const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
      const key = bearer ?? headers.get('x-api-key')?.trim();
      if (key) {
        const holder = await authenticateApiKey(options.db, key, { now: now(), ip: clientIp ?? null, seen: keyAddressesSeen });
        if (!holder) return { kind: 'invalid_key' };
        return {
          kind: 'person',
          person: {
            userId: holder.userId,
            email: holder.email,
            name: holder.name,
            sessionId: holder.keyId,
            expiresAt: holder.expiresAt,
            via: 'api_key',
            scope: holder.scope,
            twoFactorEnabled: holder.twoFactorEnabled,
          },
        };
      }
      const person = await sessionOf(headers);
      return person ? { kind: 'person', person } : { kind: 'anonymous' };
    },
    createKey(userId, { name, scope, expiresInDays }, clientIp) {
      const at = now();
      const expiresAt = expiresInDays ? new Date(at.getTime() + expiresInDays * 86_400_000) : null;
      return createApiKey(options.db, { userId, name, scope, expiresAt, now: at, ip: clientIp ?? null });
    },
    listKeys: (userId) => listApiKeys(options.db, userId),
    revokeKey: (userId, keyId, clientIp) => revokeApiKey(options.db, { userId, keyId, now: now(), ip: clientIp ?? null }),
  };
}

interface Person {
  readonly id: string;
  readonly tenantId: string;
}

async function personByEmail(db: Database, email: string | null): Promise<Person | undefined> {
  if (!email) return undefined;
  const [person] = await db
    .select({ id: users.id, tenantId: users.tenantId })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`)
    .limit(1);
  return person;
}

async function personById(db: Database, userId: string): Promise<Person | undefined> {
  const [person] = await db.select({ id: users.id, tenantId: users.tenantId }).from(users).where(eq(users.id, userId));
  return person;
}

/**
 * The person a pending two-factor sign-in is for: Better-Auth's signed `two_factor` cookie holds
 * the identifier of a verification row whose value is the user's id. Only to attribute the
 * attempt (and apply the account lock); Better-Auth itself checks the cookie's signature.
 */
async function personInTwoFactorSignIn(db: Database, headers: Headers): Promise<Person | undefined> {
  const cookie = headers
    .get('cookie')
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => /^(__Secure-)?botcriptofy\.two_factor=/.test(part));
  if (!cookie) return undefined;
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  const identifier = value.slice(0, value.lastIndexOf('.'));
  if (!identifier.startsWith('2fa-')) return undefined;
  const [row] = await db
    .select({ userId: authVerifications.value })
    .from(authVerifications)
    .where(eq(authVerifications.identifier, identifier));
  return row ? personById(db, row.userId) : undefined;
}

/**
 * Seconds until the account may try again, or undefined when it is not locked: locked while it
 * has `maxFailures` failed sign-ins (password or TOTP code) in the window since its last
 * successful one, until the oldest of those leaves the window.
 */
async function lockedFor(db: Database, userId: string, at: Date, policy: AccountLockPolicy): Promise<number | undefined> {
  const windowStart = new Date(at.getTime() - policy.window * 1000);
  const [lastSuccess] = await db
    .select({ at: securityEvents.occurredAt })
    .from(securityEvents)
    .where(and(eq(securityEvents.userId, userId), eq(securityEvents.type, 'login_succeeded'), gt(securityEvents.occurredAt, windowStart)))
    .orderBy(desc(securityEvents.occurredAt))
    .limit(1);
  const since = lastSuccess && lastSuccess.at > windowStart ? lastSuccess.at : windowStart;
  const failures = await db
    .select({ at: securityEvents.occurredAt })
    .from(securityEvents)
    .where(and(eq(securityEvents.userId, userId), eq(securityEvents.type, 'login_failed'), gt(securityEvents.occurredAt, since)))
    .orderBy(desc(securityEvents.occurredAt))
    .limit(policy.maxFailures);
  if (failures.length < policy.maxFailures) return undefined;
  const oldest = failures[failures.length - 1]!.at;
  return Math.max(1, Math.ceil((oldest.getTime() + policy.window * 1000 - at.getTime()) / 1000));
}

function emailOf(body: string | undefined): string | null {
  try {
    const parsed = JSON.parse(body ?? '') as { email?: unknown };
    return typeof parsed.email === 'string' ? parsed.email.trim().slice(0, 320) : null;
  } catch {
    return null;
  }
}

const SEVERITY: Record<string, 'info' | 'low' | 'medium'> = {
  login_succeeded: 'info',
  login_second_factor_required: 'info',
  login_failed: 'low',
  login_throttled: 'medium',
  login_locked: 'medium',
  totp_enrolment_started: 'info',
  totp_enrolled: 'low',
  totp_enrolment_failed: 'low',
  totp_disabled: 'medium',
  account_created: 'info',
  sign_up_refused: 'low',
  sign_up_throttled: 'medium',
};

/** One sign-in attempt or second-factor change in `security_events`, where recent_security_events and detect_anomalies (brute force) read them. */
async function recordEvent(
  db: Database,
  event: {
    type: string;
    person: Person | undefined;
    ip: string | null;
    status: number;
    userAgent: string | null;
    at: Date;
    details: Record<string, unknown>;
  },
): Promise<void> {
  await db.insert(securityEvents).values({
    tenantId: event.person?.tenantId ?? null,
    userId: event.person?.id ?? null,
    type: event.type,
    severity: SEVERITY[event.type] ?? 'low',
    ip: event.ip,
    details: {
      channel: 'api',
      status: event.status,
      ...event.details,
      ...(event.userAgent ? { userAgent: event.userAgent.slice(0, 200) } : {}),
    },
    occurredAt: event.at,
  });
}

/**
 * Sets (or replaces) a person's email+password credential: Better-Auth's scrypt hash in
 * `auth_accounts`, provider `credential`. Used by `seed --demo` and, later, staff tools. Run it in
 * the caller's transaction when it goes with other writes.
 */
export async function setPassword(db: Database, userId: string, password: string): Promise<void> {
  const hash = await hashPassword(password);
  await db.delete(authAccounts).where(and(eq(authAccounts.userId, userId), eq(authAccounts.providerId, 'credential')));
  await db.insert(authAccounts).values({ userId, accountId: userId, providerId: 'credential', password: hash });
}

/**
 * The secret that signs session cookies, derived from the master key (HMAC-SHA256 under a fixed
 * label) so every process of a deployment agrees without another setting; a new master key signs
 * out everyone. Without a master key (a real PostgreSQL and no MASTER_KEY) a random one: sessions
 * then end when the process does (`ephemeral`).
 */
export function sessionSecret(masterKey: Buffer | undefined): { secret: string; ephemeral: boolean } {
  if (!masterKey) return { secret: crypto.randomBytes(32).toString('hex'), ephemeral: true };
  return {
    secret: crypto.createHmac('sha256', masterKey).update('botcriptofy/better-auth/session-cookie/v1').digest('hex'),
    ephemeral: false,
  };
}
