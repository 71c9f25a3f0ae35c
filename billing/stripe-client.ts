import type Stripe from 'stripe';

/** The SDK (218 modules): imported by the first client, not by every command that links billing. */
let sdk: typeof Stripe | undefined;

export interface StripeClientOptions {
  /** sk_live_… or sk_test_…; absent means billing runs in local mode. */
  readonly secretKey: string | undefined;
  /** Another API base (stripe-mock, a test server): `http://127.0.0.1:12111`. */
  readonly apiUrl?: string | undefined;
}

/**
 * The Stripe SDK, or undefined in local mode (no key). Webhook signatures are checked by the
 * SDK even in local mode, so a client without a key is made for that purpose only.
 */
export async function createStripeClient(options: StripeClientOptions): Promise<Stripe> {
  sdk ??= (await import('stripe')).default;
  const config: ConstructorParameters<typeof Stripe>[1] = { maxNetworkRetries: 2, timeout: 20_000, appInfo: { name: 'botcriptofy' } };
  if (options.apiUrl) {
    const url = new URL(options.apiUrl);
    Object.assign(config, {
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      protocol: url.protocol.replace(':', ''),
    });
  }
  // A key that cannot call the API: only webhook verification works with it.
  return new sdk(options.secretKey ?? 'sk_local_mode_no_api_access', config);
}

/**
 * One line for a failure of Stripe itself (unreachable, a key it refuses, an error it
 * returned), naming the settings involved; undefined for anything that is not Stripe's.
 */
export function describeStripeFailure(error: unknown): string | undefined {
  // Without a client made, nothing can have come from Stripe.
  if (!sdk || !(error instanceof sdk.errors.StripeError)) return undefined;
  const where =
    error instanceof sdk.errors.StripeConnectionError
      ? 'Stripe did not answer (check STRIPE_API_URL, or the network to api.stripe.com)'
      : error instanceof sdk.errors.StripeAuthenticationError
        ? 'Stripe refused the key (check STRIPE_SECRET_KEY)'
        : 'Stripe refused the request';
  return `${where}: ${error.message.split('\n')[0]}`;
}
