import crypto from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { apiError } from './errors.ts';

// The HTTP door's own limits on /api/v1 (issue 16): secure headers on every answer, CORS closed
// unless origins are configured, request bodies capped, and request rates limited per
// credential (API key or session) and per client address, in Redis when the deployment has it
// (every process shares the count) or in this process otherwise. A file upload (UPLOAD_ROUTES) has its own cap. A refusal is the API's error
// shape with the right status (413, 429 with Retry-After).

export interface ApiLimits {
  /** Requests per minute for one API key or session (default 1,200). */
  readonly perCredentialPerMinute?: number;
  /** Requests per minute from one client address, signed in or not (default 2,400). */
  readonly perAddressPerMinute?: number;
  /** Largest request body in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Largest CSV upload in bytes, on the routes that take one (UPLOAD_ROUTES; default 50 MiB). */
  readonly maxUploadBytes?: number;
  /** Origins allowed to call the API from a browser (default none: same origin only). */
  readonly corsOrigins?: readonly string[];
  /**
   * Shares the request counts across processes (a client the caller owns and closes, see
   * rateLimitRedis); without it they are counted in this process.
   */
  readonly redis?: Redis | undefined;
}

export const DEFAULT_API_LIMITS = {
  perCredentialPerMinute: 1_200,
  perAddressPerMinute: 2_400,
  maxBodyBytes: 1024 * 1024,
  maxUploadBytes: 50 * 1024 * 1024,
} as const;

/**
 * The routes that take a file (multipart/form-data): their own body cap (`maxUploadBytes`); the
 * same route with a JSON body, and every other route, keep `maxBodyBytes`.
 */
export const UPLOAD_ROUTES: readonly { readonly method: string; readonly path: string }[] = [{ method: 'POST', path: '/api/v1/backtests' }];

/** Whether this request is a file upload to one of UPLOAD_ROUTES. */
export function isUploadRequest(c: Context): boolean {
  return (
    /^multipart\/form-data/i.test(c.req.header('content-type') ?? '') &&
    UPLOAD_ROUTES.some((route) => route.method === c.req.method && route.path === c.req.path)
  );
}

/** The credential a request carries, hashed (never kept or logged as given): API key first, then the session cookie. */
export function credentialOf(c: Context): string | undefined {
  const bearer = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
  const key = bearer ?? c.req.header('x-api-key');
  const session = c.req.header('cookie')?.match(/(?:^|;\s*)(?:__Secure-)?botcriptofy\.session_token=([^;]+)/)?.[1];
  const given = key ?? session;
  return given ? crypto.createHash('sha256').update(given).digest('hex').slice(0, 32) : undefined;
}

export interface ApiHardening {
  readonly middleware: MiddlewareHandler[];
}

/**
 * The Redis client the rate limits count in. Commands wait for the connection at start (the
 * offline queue), each retried once: Redis unreachable then falls back to counting in this
 * process (the insurance limiter) rather than refusing everyone.
 */
export function rateLimitRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
  return redis;
}

export function apiHardening(limits: ApiLimits, clientIp: (c: Context) => string | undefined): ApiHardening {
  const perCredential = limits.perCredentialPerMinute ?? DEFAULT_API_LIMITS.perCredentialPerMinute;
  const perAddress = limits.perAddressPerMinute ?? DEFAULT_API_LIMITS.perAddressPerMinute;
  const redis = limits.redis;
  const limiter = (keyPrefix: string, points: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration: 60 });
    return redis
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `api-rate:${keyPrefix}`, points, duration: 60, insuranceLimiter: memory })
      : memory;
  };
  const byCredential = limiter('credential', perCredential);
  const byAddress = limiter('address', perAddress);

  const rateLimit: MiddlewareHandler = async (c, next) => {
    const credential = credentialOf(c);
    const address = clientIp(c) ?? 'unknown';
    try {
      await byAddress.consume(address);
      if (credential) await byCredential.consume(credential);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      const answer = apiError(
        c,
        'rate_limited',
        `Too many requests from this ${credential ? 'API key or session' : 'address'}; try again in ${seconds} s.`,
      );
      answer.headers.set('Retry-After', String(seconds));
      return answer;
    }
    await next();
  };

  const maxBytes = limits.maxBodyBytes ?? DEFAULT_API_LIMITS.maxBodyBytes;
  const maxUploadBytes = limits.maxUploadBytes ?? DEFAULT_API_LIMITS.maxUploadBytes;
  const bodyCap = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => apiError(c, 'payload_too_large', `The request body is larger than ${maxBytes} bytes.`),
  });
  const uploadCap = bodyLimit({
    maxSize: maxUploadBytes,
    onError: (c) => apiError(c, 'payload_too_large', `The upload is larger than ${maxUploadBytes} bytes.`),
  });
  const middleware: MiddlewareHandler[] = [
    secureHeaders({ crossOriginResourcePolicy: 'same-origin' }),
    ...(limits.corsOrigins && limits.corsOrigins.length > 0
      ? [
          cors({
            origin: [...limits.corsOrigins],
            credentials: true,
            allowHeaders: ['Content-Type', 'Authorization', 'X-API-Key', 'Idempotency-Key', 'Last-Event-ID'],
            exposeHeaders: ['Retry-After', 'Location'],
            maxAge: 600,
          }),
        ]
      : []),
    rateLimit,
    // A GET or HEAD has no body any route reads; asking the request for one makes the Node
    // adapter build a whole fetch Request, ~5 % of a GET's CPU (measured on GET /me).
    (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : isUploadRequest(c) ? uploadCap(c, next) : bodyCap(c, next)),
  ];
  return { middleware };
}
