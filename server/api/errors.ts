import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ERROR_CATEGORIES, httpStatusFor, isProductError, ProductError, type ErrorCategory } from '../../errors/index.ts';
import type { ToolOutcome } from '../../tools/index.ts';

// One error shape for every /api/v1 answer that is not a success:
//   { "error": { "code": "...", "message": "...", "details"?: [...] } }
// `code` is the error's category: the product's (errors/: usage 400, forbidden 403, not_found 404, conflict 409,
// bad_data 422, config 500, unavailable 503) or one of the HTTP door's own: `unauthorized`
// (401, no or an expired session), `payload_too_large` (413, a body over the cap), `rate_limited`
// (429, with Retry-After) and `internal` (500,
// logged; never a stack trace).

export type ApiErrorCategory = ErrorCategory | 'unauthorized' | 'payload_too_large' | 'rate_limited' | 'internal';

export const apiErrorSchema = z
  .object({
    error: z.object({
      code: z
        .enum([...ERROR_CATEGORIES, 'unauthorized', 'payload_too_large', 'rate_limited', 'internal'])
        .openapi({ description: 'What kind of failure, i.e. what the caller should do about it; each has its HTTP status.' }),
      message: z.string(),
      details: z
        .array(z.object({ field: z.string(), message: z.string() }))
        .optional()
        .openapi({ description: 'For a 400 on invalid input: each field (its path, dotted) and what is wrong with it.' }),
    }),
  })
  .openapi('Error');

export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

export function statusForApi(category: ApiErrorCategory): ContentfulStatusCode {
  if (category === 'unauthorized') return 401;
  if (category === 'payload_too_large') return 413;
  if (category === 'rate_limited') return 429;
  if (category === 'internal') return 500;
  return httpStatusFor(category);
}

export function apiError(c: Context, category: ApiErrorCategory, message: string, details?: ApiErrorBody['error']['details']): Response {
  return c.json({ error: { code: category, message, ...(details ? { details } : {}) } } satisfies ApiErrorBody, statusForApi(category));
}

/** A zod failure on a request's body, query or path: 400 naming each field. */
export function validationError(c: Context, error: z.ZodError, target: string): Response {
  const details = error.issues.map((issue) => ({ field: issue.path.length > 0 ? issue.path.join('.') : target, message: issue.message }));
  const message = `Invalid ${target}: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`;
  return apiError(c, 'usage', message, details);
}

/** The API's answer to any thrown error: a ProductError by its category, anything else 500. */
export function errorResponse(c: Context, error: unknown, log: (error: unknown, category: ApiErrorCategory) => void): Response {
  if (isProductError(error)) {
    log(error, error.category);
    return apiError(c, error.category, error.message);
  }
  // The router's own refusal of a body it cannot read (415: a Content-Type the route does not declare).
  if (error instanceof HTTPException && error.status === 415) {
    log(error, 'usage');
    return apiError(
      c,
      'usage',
      `This route does not take a ${c.req.header('content-type')?.split(';')[0] ?? 'body of that kind'} body; see ${c.req.method} ${c.req.path} in /api/v1/openapi.json.`,
    );
  }
  log(error, 'internal');
  return apiError(c, 'internal', 'Something went wrong; it has been logged.');
}

/** A tool call the tool layer refused (policy, scope, arguments, availability), answered as that kind of error. */
export class ToolCallRefused extends ProductError {
  readonly category: ErrorCategory;
  constructor(category: ErrorCategory, message: string) {
    super(message);
    this.name = 'ToolCallRefused';
    this.category = category;
  }
}

/** A tool's refusal as an error category (`internal`: a fault, not a refusal). */
export function toolRefusalCategory(outcome: Extract<ToolOutcome, { ok: false }>): ErrorCategory | 'internal' {
  switch (outcome.error) {
    case 'forbidden':
      return 'forbidden';
    case 'not_found':
      return 'not_found';
    case 'invalid_arguments':
      return 'usage';
    case 'unavailable':
      return 'unavailable';
    case 'failed':
      // A product error inside the tool (a plan limit on starting a bot: conflict) is that kind of refusal.
      return outcome.category ?? 'internal';
    default:
      return 'internal';
  }
}

/** The error responses every authenticated route can give, for its OpenAPI entry. */
export const errorResponses = {
  400: {
    description: 'Invalid input (`code: usage`; `details` names each field).',
    content: { 'application/json': { schema: apiErrorSchema } },
  },
  401: { description: 'Not signed in, or the session has expired.', content: { 'application/json': { schema: apiErrorSchema } } },
  403: { description: 'Signed in, but this person may not do it.', content: { 'application/json': { schema: apiErrorSchema } } },
  500: { description: 'A fault on the server (logged).', content: { 'application/json': { schema: apiErrorSchema } } },
} as const;

export const notFoundResponse = {
  404: { description: 'Nothing with that id for this person.', content: { 'application/json': { schema: apiErrorSchema } } },
} as const;
