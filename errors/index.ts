/**
 * The product's errors, typed by what the caller should do about them. A door turns the
 * category into its own answer — the CLI into an exit code (`exitCodeFor`), the HTTP API into
 * a status (`httpStatusFor`) — without knowing every error class, and without importing the
 * modules that throw them (which is what keeps each CLI command's start-up down to what it
 * uses).
 *
 * - `usage`: the caller asked wrongly (an option, an argument, a parameter); fix the request.
 * - `config`: the settings are wrong (an environment variable, a file); fix the settings.
 * - `unavailable`: something needed does not answer or is not set up (a database, Redis,
 *   Stripe, the master key, Telegram); try again once it is there.
 * - `conflict`: the state forbids it (the database already holds a company); nothing to retry.
 * - `bad_data`: the data given is unusable (a candle file, an evaluation file); fix the data.
 * - `forbidden`: this person may not do it (the tool policy, another trader's data, tenant
 *   data reached without a scope); asking again changes nothing.
 * - `not_found`: what the request names does not exist (no such trader, bot, ticket).
 */
export type ErrorCategory = 'usage' | 'config' | 'unavailable' | 'conflict' | 'bad_data' | 'forbidden' | 'not_found';

export const ERROR_CATEGORIES: readonly ErrorCategory[] = [
  'usage',
  'config',
  'unavailable',
  'conflict',
  'bad_data',
  'forbidden',
  'not_found',
];

export abstract class ProductError extends Error {
  abstract readonly category: ErrorCategory;
}

export function isProductError(error: unknown): error is ProductError {
  return error instanceof ProductError;
}

/** The CLI's exit code for a category: 2 for what the person typed or set, 1 for the rest. */
export function exitCodeFor(category: ErrorCategory): 1 | 2 {
  return category === 'usage' || category === 'config' ? 2 : 1;
}

/**
 * The HTTP status for a category. `config` is 500: the request was fine, the server's
 * settings are not (the operator fixes them, not the client); `unavailable` is 503, which
 * invites a retry.
 */
export function httpStatusFor(category: ErrorCategory): 400 | 403 | 404 | 409 | 422 | 500 | 503 {
  switch (category) {
    case 'usage':
      return 400;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'bad_data':
      return 422;
    case 'config':
      return 500;
    case 'unavailable':
      return 503;
  }
}

/** The request itself is wrong (an option, an argument, an id): the caller should change it. */
export class UsageError extends ProductError {
  readonly category = 'usage' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
