// The same small application on Express and on Koa, each made its own gateway by Gatehouse from one
// configuration file (gatehouse.yaml): request ids, tracing, auth, rate limits, the route being
// migrated and the BFF screen are all there; this file holds only the application itself.

import type { Client } from '@gatehousejs/client';
import { GatehouseError } from '@gatehousejs/core';
import { gatewayFromFile as expressGateway } from '@gatehousejs/express';
import type { FromConfigOptions } from '@gatehousejs/gateway';
import { gatewayFromFile as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import { orderView } from './orders.js';

function orderOf(id: string) {
  const order = orderView(id);
  if (order === undefined) throw Object.assign(new Error(`No order '${id}'`), { status: 404, expose: true });
  return order;
}

/** The demo's API key, printed by `npm run demo:gateways`; gatehouse.yaml reads it as ${DEMO_API_KEY}. */
export const DEMO_API_KEY = 'gh_demo_localhost_only_4f9c2b';

const OutOfStock = { code: 'GH_DEMO_OUT_OF_STOCK', status: 409, title: 'Out of stock', expose: true };

/**
 * Calls the inventory service through the gateway's mesh client for it (`services.inventory` in
 * gatehouse.yaml): a client span and trace headers when an OpenTelemetry SDK is registered, client
 * metrics either way, the request id forwarded.
 */
async function stock(gw: { client(name: string): Client }, sku: string, requestId: string) {
  const res = await gw.client('inventory').request({
    path: `/stock/${encodeURIComponent(sku)}`,
    headers: { 'x-request-id': requestId },
  });
  if (res.statusCode === 404) {
    await res.body.dump();
    throw Object.assign(new Error(`No SKU '${sku}'`), { status: 404, expose: true });
  }
  const body = (await res.body.json()) as { available: number };
  if (body.available === 0)
    throw new GatehouseError(OutOfStock, `'${sku}' is out of stock`, { extensions: { sku } });
  return body;
}

/** The Express app: the gateway gatehouse.yaml describes, mounted first; the app's routes; errors last. */
export async function expressApp(file: string, options: FromConfigOptions) {
  const gw = await expressGateway(file, options);
  const app = express();
  gw.mount(app);
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

/** The Koa app: the same gateway (mount() puts errors() first), the same routes. */
export async function koaApp(file: string, options: FromConfigOptions) {
  const gw = await koaGateway(file, options);
  const app = new Koa();
  gw.mount(app);
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
