// The same small application on Express and on Koa, each made its own gateway by Gatehouse.

import type { AggregateOptions } from '@gatehousejs/aggregate';
import { type AuthOptions, apiKeyAuthenticator, hashApiKey } from '@gatehousejs/auth';
import { GatehouseError, type ResolvedConfig } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import type { RateLimitOptions } from '@gatehousejs/rate-limit';
import type { Tracing } from '@gatehousejs/tracing';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import { orderView } from './orders.js';

/** The route table file: `orders` moves to the orders service (edit it while the demo runs). */
const routesOptions = (file: string) => ({ file, watch: { intervalMs: 500 } });

function orderOf(id: string) {
  const order = orderView(id);
  if (order === undefined) throw Object.assign(new Error(`No order '${id}'`), { status: 404, expose: true });
  return order;
}

/** The demo's API key, printed by `npm run demo:gateways`. Real deployments store only `hashApiKey()` digests. */
export const DEMO_API_KEY = 'gh_demo_localhost_only_4f9c2b';

// Stock needs a key with the stock:read scope; hello stays public.
const authOptions = (): AuthOptions => ({
  methods: [
    apiKeyAuthenticator({
      keys: [{ hash: hashApiKey(DEMO_API_KEY), id: 'demo-client', scopes: ['stock:read'], tier: 'pro' }],
    }),
  ],
  rules: [{ path: '/api/stock/*', scopes: ['stock:read'] }],
  default: 'anonymous',
  forward: { headers: { 'x-user-id': 'id' } },
});

// Anonymous callers (keyed by address) get the free plan, the demo key the pro plan; health and
// metrics are never limited.
const rateLimitOptions = (): RateLimitOptions => ({
  tiers: {
    free: [{ name: 'free', points: 10, duration: '1m' }],
    pro: [
      { name: 'burst', points: 20, duration: '1s' },
      { name: 'daily', points: 10_000, per: 'day' },
    ],
  },
  defaultTier: 'free',
  routes: [
    { path: '/health', exempt: true },
    { path: '/ready', exempt: true },
    { path: '/metrics', exempt: true },
    { path: '/routes', exempt: true },
    { path: '/migration', exempt: true },
  ],
});

/**
 * A BFF screen (`@gatehousejs/aggregate`): the order from the orders service (required: its 404 is the
 * screen's 404) and, when `?sku=` is given, that item's stock from the inventory service (optional: when
 * it fails the screen still answers, marked partial). Values are placed in the upstream paths as single
 * encoded segments.
 */
const orderScreen = (): AggregateOptions => ({
  name: 'order-screen',
  path: '/api/screens/orders/:id',
  timeoutMs: 2_000,
  calls: {
    order: { service: 'orders', path: '/orders/{/params/id}', omit: ['/updatedAt'] },
    stock: {
      service: 'inventory',
      path: '/stock/{/query/sku}',
      when: '/query/sku',
      policy: 'optional',
      forward: ['x-request-id'],
      pick: ['/sku', '/available'],
      timeoutMs: 500,
    },
  },
});

const OutOfStock = { code: 'GH_DEMO_OUT_OF_STOCK', status: 409, title: 'Out of stock', expose: true };

/**
 * Calls the inventory service through the gateway's tracer (a client span and trace headers when an
 * OpenTelemetry SDK is registered; client metrics either way), forwarding the request id.
 */
async function stock(
  gw: { core: { config: ResolvedConfig }; tracer: Tracing },
  sku: string,
  requestId: string,
) {
  const service = gw.core.config.services.inventory;
  const base = service && 'url' in service ? service.url : service?.endpoints[0];
  const res = await gw.tracer.fetch(`${base}/stock/${encodeURIComponent(sku)}`, {
    headers: { 'x-request-id': requestId },
    signal: AbortSignal.timeout(2_000),
  });
  if (res.status === 404) throw Object.assign(new Error(`No SKU '${sku}'`), { status: 404, expose: true });
  const body = (await res.json()) as { available: number };
  if (body.available === 0)
    throw new GatehouseError(OutOfStock, `'${sku}' is out of stock`, { extensions: { sku } });
  return body;
}

export function expressApp(config: ResolvedConfig, routesFile: string) {
  const gw = expressGateway(config);
  const app = express();
  app.use(gw.tracing({ metrics: { prometheus: true } }));
  app.use(gw.requestId());
  app.use(gw.admin());
  app.use(gw.auth(authOptions()));
  app.use(gw.rateLimit(rateLimitOptions()));
  app.use(gw.routes(routesOptions(routesFile)));
  app.use(gw.aggregate(orderScreen()));
  app.get('/api/orders/:id', (req, res) => {
    res.json(orderOf(req.params.id));
  });
  app.get('/api/hello', (_req, res) => {
    res.json({ hello: 'from express' });
  });
  app.get('/api/stock/:sku', async (req, res) => {
    res.json(await stock(gw, req.params.sku, String(res.getHeader('x-request-id'))));
  });
  app.use(gw.errors());
  return { gw, listener: app };
}

export function koaApp(config: ResolvedConfig, routesFile: string) {
  const gw = koaGateway(config);
  const app = new Koa();
  app.use(gw.errors());
  app.use(gw.tracing({ metrics: { prometheus: true } }));
  app.use(gw.requestId());
  app.use(gw.admin());
  app.use(gw.auth(authOptions()));
  app.use(gw.rateLimit(rateLimitOptions()));
  app.use(gw.routes(routesOptions(routesFile)));
  app.use(gw.aggregate(orderScreen()));
  const router = new Router();
  router.get('/api/orders/:id', (ctx) => {
    ctx.body = orderOf(ctx.params.id!);
  });
  router.get('/api/hello', (ctx) => {
    ctx.body = { hello: 'from koa' };
  });
  router.get('/api/stock/:sku', async (ctx) => {
    ctx.body = await stock(gw, ctx.params.sku!, String(ctx.response.get('x-request-id')));
  });
  app.use(router.routes());
  return { gw, listener: app.callback() };
}
