/**
 * The product's errors, typed by what the caller should do about them. A door turns the
 * category into its own answer (the CLI into an exit code; the HTTP API, when it exists,
 * into a status) without knowing every error class, and without importing the modules that
 * throw them — which is what keeps each CLI command's start-up down to what it uses.
 *
 * - `usage`: the caller asked wrongly (an option, an argument, a parameter); fix the request.
 * - `config`: the settings are wrong (an environment variable, a file); fix the settings.
 * - `unavailable`: something needed does not answer or is not set up (a database, Redis,
 *   Stripe, the master key); try again once it is there.
 * - `conflict`: the state forbids it (the database already holds a company); nothing to retry.
 * - `bad_data`: the data given is unusable (a candle file); fix the data.
 */
export type ErrorCategory = 'usage' | 'config' | 'unavailable' | 'conflict' | 'bad_data';

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

/** The request itself is wrong (an option, an argument, an id): the caller should change it. */
export class UsageError extends ProductError {
  readonly category = 'usage' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
