import crypto from 'node:crypto';
import { betterAuth } from 'better-auth';
import { APIError } from 'better-auth/api';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { hashPassword } from 'better-auth/crypto';
import { and, eq, sql } from 'drizzle-orm';
import { authAccounts, authRateLimits, authSessions, authVerifications, securityEvents, users, type Database } from '../db/index.ts';

// Accounts and sign-in (issue 16) on Better-Auth, in our own PostgreSQL through drizzle.
//
// Better-Auth's `user` model is our `users` table (modelName below): one person, one id, the
// same row the tool layer, Telegram links and the audit log already point at. Staff and traders
// are people the company creates (the seed, staff tools), never the public, so sign-up is off:
// `users.tenant_id` is required and only our code knows which tenant a person belongs to. The
// password hash lives in Better-Auth's own `auth_accounts` (provider `credential`), not in
// `users`, so the demo company's generated rows are unchanged by passwords.

export interface SignInLimit {
  /** Seconds of the window. */
  readonly window: number;
  /** Sign-in requests one client IP may make in a window (successful ones count too). */
  readonly max: number;
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
  /** Extra origins a browser may sign in from (the web app, later). */
  readonly trustedOrigins?: readonly string[];
  /** Where Better-Auth's own log lines go (default: nowhere; our security events record sign-ins). */
  readonly log?: (level: 'debug' | 'info' | 'success' | 'warn' | 'error', message: string) => void;
}

export const AUTH_BASE_PATH = '/api/v1/auth';
/** The header the HTTP door sets to the connection's address (any client value is replaced). */
export const CLIENT_IP_HEADER = 'x-botcriptofy-client-ip';
export const DEFAULT_SIGN_IN_LIMIT: SignInLimit = { window: 60, max: 5 };

function isLoopback(baseURL: string): boolean {
  const host = new URL(baseURL).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

function buildAuth(options: AccountsOptions) {
  const limit = options.signInLimit ?? DEFAULT_SIGN_IN_LIMIT;
  return betterAuth({
    appName: 'BotCriptoFy',
    baseURL: options.baseURL,
    basePath: AUTH_BASE_PATH,
    secret: options.secret,
    trustedOrigins: [...(options.trustedOrigins ?? [])],
    database: drizzleAdapter(options.db, {
      provider: 'pg',
      schema: { users, authSessions, authAccounts, authVerifications, authRateLimits },
    }),
    user: {
      modelName: 'users',
      // Our column, set by whoever creates the person (the seed, staff tools), never by a client.
      additionalFields: { tenantId: { type: 'string', required: true, input: false } },
    },
    session: { modelName: 'authSessions' },
    account: { modelName: 'authAccounts' },
    verification: { modelName: 'authVerifications' },
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 10 },
    rateLimit: {
      enabled: true,
      storage: 'database',
      modelName: 'authRateLimits',
      window: 60,
      max: 100,
      customRules: { '/sign-in/email': { window: limit.window, max: limit.max } },
    },
    advanced: {
      database: { generateId: 'uuid' },
      useSecureCookies: options.secureCookies ?? !isLoopback(options.baseURL),
      cookiePrefix: 'botcriptofy',
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    databaseHooks: {
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

/** The signed-in person behind a request, as Better-Auth's session knows them. */
export interface SessionPerson {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly sessionId: string;
  readonly expiresAt: Date;
}

export interface Accounts {
  readonly auth: Auth;
  /**
   * Passes a request to Better-Auth (the sign-in, sign-out and session routes) and records every
   * sign-in attempt as a security event: `login_succeeded`, `login_failed` (a wrong password or
   * an unknown email) or `login_throttled` (refused by the rate limiter, 429 with Retry-After).
   */
  handle(request: Request, clientIp: string | undefined): Promise<Response>;
  /** The person signed in with this request's session cookie, or undefined. */
  sessionOf(headers: Headers): Promise<SessionPerson | undefined>;
}

export function createAccounts(options: AccountsOptions): Accounts {
  const auth = buildAuth(options);
  return {
    auth,
    async handle(request, clientIp) {
      const headers = new Headers(request.headers);
      headers.delete(CLIENT_IP_HEADER);
      if (clientIp) headers.set(CLIENT_IP_HEADER, clientIp);
      const signIn = request.method === 'POST' && new URL(request.url).pathname === `${AUTH_BASE_PATH}/sign-in/email`;
      const body = signIn ? await request.text() : undefined;
      const forwarded = new Request(request.url, {
        method: request.method,
        headers,
        ...(body === undefined ? (request.body ? { body: request.body, duplex: 'half' } : {}) : { body }),
      } as RequestInit);
      let response = await auth.handler(forwarded);
      if (response.status === 429) {
        // Better-Auth says when to retry in X-Retry-After; HTTP's header is Retry-After.
        response = new Response(response.body, response);
        response.headers.set('retry-after', response.headers.get('x-retry-after') ?? '60');
      }
      if (signIn) {
        const email = emailOf(body);
        const type = response.ok ? 'login_succeeded' : response.status === 429 ? 'login_throttled' : 'login_failed';
        await recordSignIn(options.db, {
          type,
          email,
          ip: clientIp ?? null,
          status: response.status,
          userAgent: headers.get('user-agent'),
        });
      }
      return response;
    },
    async sessionOf(headers) {
      const session = await auth.api.getSession({ headers });
      if (!session) return undefined;
      return {
        userId: session.user.id,
        email: session.user.email,
        name: session.user.name,
        sessionId: session.session.id,
        expiresAt: session.session.expiresAt,
      };
    },
  };
}

function emailOf(body: string | undefined): string | null {
  try {
    const parsed = JSON.parse(body ?? '') as { email?: unknown };
    return typeof parsed.email === 'string' ? parsed.email.trim().slice(0, 320) : null;
  } catch {
    return null;
  }
}

/** One sign-in attempt in `security_events`, where recent_security_events and detect_anomalies (brute force) read them. */
async function recordSignIn(
  db: Database,
  attempt: { type: string; email: string | null; ip: string | null; status: number; userAgent: string | null },
): Promise<void> {
  const [person] = attempt.email
    ? await db
        .select({ id: users.id, tenantId: users.tenantId })
        .from(users)
        .where(sql`lower(${users.email}) = lower(${attempt.email})`)
        .limit(1)
    : [];
  await db.insert(securityEvents).values({
    tenantId: person?.tenantId ?? null,
    userId: person?.id ?? null,
    type: attempt.type,
    severity: attempt.type === 'login_succeeded' ? 'info' : attempt.type === 'login_throttled' ? 'medium' : 'low',
    ip: attempt.ip,
    details: {
      channel: 'api',
      status: attempt.status,
      // The email as typed only when it matches nobody (a person's row already names them).
      ...(person ? {} : { email: attempt.email }),
      ...(attempt.userAgent ? { userAgent: attempt.userAgent.slice(0, 200) } : {}),
    },
    occurredAt: new Date(),
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
