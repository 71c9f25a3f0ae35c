import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { apiErrorSchema, errorResponses } from './errors.ts';
import { idempotencyHeaders } from './idempotency.ts';
import type { ApiEnv } from './app.ts';
import type { ApiRouteKit } from './trader-routes.ts';

// The trader's own billing links (issue 16): a Stripe Checkout link to buy a plan and a customer
// portal link, each the tool of the same name (checkout_link, billing_portal_link) as the
// signed-in trader; this door never calls Stripe. Staff have no plan of their own to pay for
// (403); without STRIPE_SECRET_KEY the answer is 503 in the one error shape.

const stripeErrors = {
  409: {
    description:
      'The trader already has a current subscription (change or cancel it in the portal), or the plan has no Stripe price yet (an operator runs `botcriptofy billing sync`).',
    content: { 'application/json': { schema: apiErrorSchema } },
  },
  503: {
    description: 'Stripe is not configured on this server (no STRIPE_SECRET_KEY), or it did not answer.',
    content: { 'application/json': { schema: apiErrorSchema } },
  },
} as const;

export function registerBillingRoutes(kit: ApiRouteKit): void {
  const { api, callTool, toolInput, toolOutput } = kit;
  api.use('/billing/*', kit.requirePerson);

  const checkoutBody = toolInput('checkout_link').openapi('CheckoutRequest', {
    description: 'The paid plan and interval to buy, and the pages of your site Stripe sends the trader back to.',
  });
  api.openapi(
    createRoute({
      method: 'post',
      path: '/billing/checkout',
      tags: ['billing'],
      summary: 'A Stripe Checkout link to subscribe the signed-in trader to a paid plan',
      description:
        'The checkout_link tool: Stripe Checkout for the plan (the trader pays on Stripe’s page; the subscription arrives by webhook and GET /plan shows it). Traders only.',
      security: [{ session: [] }],
      request: { headers: idempotencyHeaders, body: { content: { 'application/json': { schema: checkoutBody } }, required: true } },
      responses: {
        200: {
          description: 'The link (open `url` in the browser).',
          content: { 'application/json': { schema: toolOutput('checkout_link').openapi('CheckoutLink') } },
        },
        ...errorResponses,
        ...stripeErrors,
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<ReturnType<typeof toolInput>> } }>) => {
      return c.json(await callTool(c, 'checkout_link', c.req.valid('json') as Record<string, unknown>));
    }) as never,
  );

  const portalBody = toolInput('billing_portal_link').openapi('BillingPortalRequest', {
    description: 'The page of your site the portal sends the trader back to.',
  });
  api.openapi(
    createRoute({
      method: 'post',
      path: '/billing/portal',
      tags: ['billing'],
      summary: "A Stripe customer portal link for the signed-in trader's card, invoices and cancellation",
      description: 'The billing_portal_link tool (the trader’s Stripe customer is created on first use). Traders only.',
      security: [{ session: [] }],
      request: { headers: idempotencyHeaders, body: { content: { 'application/json': { schema: portalBody } }, required: true } },
      responses: {
        200: {
          description: 'The link (open `url` in the browser).',
          content: { 'application/json': { schema: toolOutput('billing_portal_link').openapi('BillingPortalLink') } },
        },
        ...errorResponses,
        503: stripeErrors[503],
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { json: z.infer<ReturnType<typeof toolInput>> } }>) => {
      return c.json(await callTool(c, 'billing_portal_link', c.req.valid('json') as Record<string, unknown>));
    }) as never,
  );
}
