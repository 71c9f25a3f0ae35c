import crypto from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { claimIdempotencyKey, recordIdempotentResponse, releaseIdempotencyKey, type Database } from '../../db/index.ts';
import { apiError } from './errors.ts';

// `Idempotency-Key` on the API's POST routes (issue 16): a client that retries a create or an
// action after a lost answer sends the same key, and gets the first answer instead of a second
// bot, backtest or forced exit. A key belongs to the signed-in person for 24 hours; the same
// key with another request (method, path or body) is refused (422); a repeat while the first
// still runs is a conflict (409). A server fault (5xx) forgets the key, so a retry runs again.
// Sign-in and sign-out (Better-Auth's) are not covered.

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header in a route's OpenAPI entry (headers are case-insensitive); the middleware below does the work. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description: 'A repeat with the same key within 24 hours gets the first answer (Idempotent-Replayed: true) and acts once.',
  }),
});

/**
 * POST routes whose answers are never kept for replays: a person's data export (kept 24 hours
 * under the asker's key, a copy of someone's data would sit outside the erasure's reach). It
 * creates nothing, so a repeat simply exports again.
 */
export const NOT_REPLAYED_PATHS: ReadonlySet<string> = new Set(['/api/v1/privacy/export']);

/**
 * A multipart body without its boundary: a client retrying an upload encodes the same form with a
 * new random boundary, and it is still the same request.
 */
function withoutBoundary(body: string, contentType: string | undefined): string {
  const boundary = contentType?.match(/^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;\s]+))/i);
  const marker = boundary?.[1] ?? boundary?.[2];
  return marker ? body.split(marker).join('') : body;
}

export function idempotency(options: {
  db: Database;
  now: () => Date;
  /** The signed-in person's user id for this request, if any (the routes' guard answers 401 otherwise). */
  principalOf(c: Context): Promise<string | undefined>;
}): MiddlewareHandler {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (c.req.method !== 'POST' || key === undefined || c.req.path.includes('/auth/') || NOT_REPLAYED_PATHS.has(c.req.path)) return next();
    if (!KEY_PATTERN.test(key))
      return apiError(c, 'usage', 'Invalid header: Idempotency-Key: 1 to 255 visible ASCII characters (a UUID, say).', [
        { field: 'Idempotency-Key', message: '1 to 255 visible ASCII characters' },
      ]);
    const principal = await options.principalOf(c);
    if (!principal) return next();
    const body = withoutBoundary(await c.req.text(), c.req.header('content-type'));
    const requestHash = crypto.createHash('sha256').update(`${c.req.method} ${c.req.path}\n`).update(body).digest('hex');
    const claim = await claimIdempotencyKey(options.db, { principal, key, requestHash, now: options.now() });
    if (claim.kind === 'mismatch')
      return apiError(c, 'bad_data', 'This Idempotency-Key was used with a different request in the last 24 hours; use a new key.');
    if (claim.kind === 'in_progress')
      return apiError(c, 'conflict', 'The first request with this Idempotency-Key is still running; retry later.');
    if (claim.kind === 'replay')
      return new Response(claim.body, {
        status: claim.statusCode,
        headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' },
      });
    try {
      await next();
    } catch (error) {
      await releaseIdempotencyKey(options.db, principal, key);
      throw error;
    }
    if (c.res.status >= 500) {
      await releaseIdempotencyKey(options.db, principal, key);
      return;
    }
    await recordIdempotentResponse(options.db, { principal, key, statusCode: c.res.status, body: await c.res.clone().text() });
  };
}
