import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Parses Stripe's form encoding (`items[0][price]=…`) into nested objects and arrays. */
function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const parts = rawKey.replace(/\]/g, '').split('[');
    let node: Record<string, unknown> = out;
    for (const [i, part] of parts.entries()) {
      const key = part === '' ? String(Object.keys(node).length) : part;
      if (i === parts.length - 1) node[key] = value;
      else {
        node[key] ??= {};
        node = node[key] as Record<string, unknown>;
      }
    }
  }
  return out;
}

const toArray = (value: unknown): unknown[] =>
  value && typeof value === 'object' ? Object.values(value as object) : value === undefined ? [] : [value];

/**
 * A scripted stand-in for the parts of Stripe's API that billing calls (products, prices with
 * lookup keys, customers, checkout and customer portal sessions, subscriptions, refunds), on loopback, so the real SDK's
 * requests are exercised. `subscribe()` plays the customer finishing a checkout.
 */
export async function startFakeStripe() {
  let seq = 0;
  const next = (prefix: string) => `${prefix}_${++seq}`;
  const products = new Map<string, Record<string, unknown>>();
  const prices = new Map<string, Record<string, unknown>>();
  const customers = new Map<string, Record<string, unknown>>();
  const sessions = new Map<string, Record<string, unknown>>();
  const subscriptions = new Map<string, Record<string, unknown>>();
  const portalSessions = new Map<string, Record<string, unknown>>();
  const refunds = new Map<string, Record<string, unknown>>();
  const requests: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);

  const subscriptionFor = (customer: string, priceId: string, metadata: Record<string, unknown> = {}, trialDays?: number) => {
    const start = now();
    const sub = {
      id: next('sub'),
      object: 'subscription',
      customer,
      status: trialDays ? 'trialing' : 'active',
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      trial_end: trialDays ? start + trialDays * 86_400 : null,
      start_date: start,
      metadata,
      items: {
        object: 'list',
        data: [
          {
            id: next('si'),
            object: 'subscription_item',
            price: prices.get(priceId),
            quantity: 1,
            current_period_start: start,
            current_period_end: start + 30 * 86_400,
          },
        ],
      },
    };
    subscriptions.set(sub.id, sub);
    return sub;
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push(`${req.method} ${url.pathname}`);
      const params = { ...parseForm(url.search.slice(1)), ...parseForm(body) };
      const send = (status: number, payload: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      const notFound = () => send(404, { error: { type: 'invalid_request_error', message: `No such resource: ${url.pathname}` } });
      const path = url.pathname.split('/').filter(Boolean); // ['v1', resource, id?]
      const [, resource, id, extra] = path;
      if (req.method === 'GET' && resource === 'prices' && !id) {
        const keys = toArray(params['lookup_keys']);
        const data = [...prices.values()]
          .filter((p) => p['active'] && keys.includes(p['lookup_key']))
          .map((p) => ({ ...p, product: products.get(p['product'] as string) }));
        return send(200, { object: 'list', data, has_more: false, url: '/v1/prices' });
      }
      if (req.method === 'POST' && resource === 'products') {
        if (id) {
          const product = products.get(id);
          if (!product) return notFound();
          Object.assign(product, params);
          return send(200, product);
        }
        const product = { id: next('prod'), object: 'product', active: true, ...params };
        products.set(product.id, product);
        return send(200, product);
      }
      if (req.method === 'POST' && resource === 'prices' && !id) {
        if (params['transfer_lookup_key'] === 'true')
          for (const p of prices.values()) if (p['lookup_key'] === params['lookup_key']) p['lookup_key'] = null;
        const recurring = params['recurring'] as { interval: string };
        const price = {
          id: next('price'),
          object: 'price',
          active: true,
          product: params['product'],
          currency: params['currency'],
          unit_amount: Number(params['unit_amount']),
          recurring: { interval: recurring.interval },
          lookup_key: params['lookup_key'],
          metadata: params['metadata'] ?? {},
        };
        prices.set(price.id, price);
        return send(200, price);
      }
      if (req.method === 'POST' && resource === 'customers' && !id) {
        const customer = { id: next('cus'), object: 'customer', ...params };
        customers.set(customer.id, customer);
        return send(200, customer);
      }
      if (req.method === 'POST' && resource === 'checkout' && id === 'sessions') {
        const session = { id: next('cs'), object: 'checkout.session', url: `https://checkout.example/pay/${seq}`, ...params };
        sessions.set(session.id, session);
        return send(200, session);
      }
      if (req.method === 'POST' && resource === 'billing_portal' && id === 'sessions') {
        if (!customers.has(params['customer'] as string)) return notFound();
        const session = { id: next('bps'), object: 'billing_portal.session', url: `https://billing.example/p/session/${seq}`, ...params };
        portalSessions.set(session.id, session);
        return send(200, session);
      }
      if (req.method === 'POST' && resource === 'refunds' && !id) {
        if (!params['charge'] && !params['payment_intent'])
          return send(400, { error: { type: 'invalid_request_error', message: 'Must provide charge or payment_intent.' } });
        const refund = { id: next('re'), object: 'refund', status: 'succeeded', ...params, amount: Number(params['amount']) };
        refunds.set(refund.id, refund);
        return send(200, refund);
      }
      if (resource === 'subscriptions' && id && !extra) {
        const sub = subscriptions.get(id) as Record<string, unknown> & { items: { data: Record<string, unknown>[] } };
        if (!sub) return notFound();
        if (req.method === 'GET') return send(200, sub);
        if (params['cancel_at_period_end'] !== undefined) sub['cancel_at_period_end'] = params['cancel_at_period_end'] === 'true';
        for (const item of toArray(params['items']) as { id: string; price: string }[]) {
          const target = sub.items.data.find((i) => i['id'] === item.id);
          if (target) target['price'] = prices.get(item.price);
        }
        sub['last_proration_behavior'] = params['proration_behavior'];
        return send(200, sub);
      }
      return notFound();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    products,
    prices,
    customers,
    sessions,
    subscriptions,
    portalSessions,
    refunds,
    requests,
    /** The customer completes checkout session `sessionId`: a subscription starts. */
    completeCheckout(sessionId: string) {
      const session = sessions.get(sessionId)!;
      const item = toArray(session['line_items'])[0] as { price: string };
      const data = (session['subscription_data'] ?? {}) as { metadata?: Record<string, unknown>; trial_period_days?: string };
      return subscriptionFor(
        session['customer'] as string,
        item.price,
        data.metadata,
        data.trial_period_days ? Number(data.trial_period_days) : undefined,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
