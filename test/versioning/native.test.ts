// Per-version routers as a user writes them (the README's examples): express.Router() and @koa/router
// per version behind gw.version.route(), with the path version stripped so each router is written for
// `/orders`; and strip where a router has already matched (a mounted router), which cannot work and
// is reported instead of silently misrouting.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import { afterEach, describe, expect, test } from 'vitest';
import { expressOf, FRAMEWORKS, type Framework, isExpress, koaOf } from '../support/apps.js';
import { request } from '../support/raw-http.js';

const servers: Array<{ server: Server; close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function listen(
  listener: Parameters<typeof createServer>[1],
  gw: { serve: (s: Server) => Server; close: () => Promise<void> },
) {
  const server = createServer(listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push({ server, close: () => gw.close() });
  return (server.address() as AddressInfo).port;
}

const OPTIONS = {
  versions: ['1', '2', '3'],
  sources: [{ from: 'path' as const, strip: true }, 'header' as const],
  default: '3',
};

/** The README's app: one router per version, written for the unversioned paths. */
async function perVersionApp(framework: Framework, reported: unknown[]): Promise<number> {
  const onError = (error: unknown) => reported.push(error);
  if (isExpress(framework)) {
    const express = expressOf(framework);
    const gw = expressGateway({}, { onError });
    const v1 = express.Router();
    v1.get('/orders/:id', (req, res) => {
      res.json({ id: req.params.id, total: '12.50' });
    });
    const v2 = express.Router();
    v2.get('/orders/:id', (req, res) => {
      res.json({ id: req.params.id, total: { amount: 1250, currency: 'EUR' }, url: req.url });
    });
    const app = express();
    app.use(gw.version(OPTIONS));
    app.use(gw.version.route({ '1': v1, '2+': v2 }));
    app.use(gw.errors());
    return listen(app, gw);
  }
  const gw = koaGateway({}, { onError });
  const v1 = new Router();
  v1.get('/orders/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, total: '12.50' };
  });
  const v2 = new Router();
  v2.get('/orders/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, total: { amount: 1250, currency: 'EUR' }, url: ctx.url };
  });
  const app = new (koaOf(framework))();
  app.silent = true;
  app.use(gw.errors());
  app.use(gw.version(OPTIONS));
  app.use(gw.version.route({ '1': v1.routes(), '2+': v2.routes() }));
  return listen(app.callback(), gw);
}

describe.each(FRAMEWORKS)('%s: one native router per version', (framework) => {
  test('each version reaches its router, which sees the path without the version', async () => {
    const reported: unknown[] = [];
    const port = await perVersionApp(framework, reported);
    const v1 = await request(port, { path: '/v1/orders/7' });
    expect([v1.status, v1.json]).toEqual([200, { id: '7', total: '12.50' }]);
    const v2 = await request(port, { path: '/v2/orders/7?expand=lines' });
    expect([v2.status, v2.json]).toEqual([
      200,
      { id: '7', total: { amount: 1250, currency: 'EUR' }, url: '/orders/7?expand=lines' },
    ]);
    const v3 = await request(port, { path: '/orders/7', headers: { 'api-version': '3' } });
    expect(v3.json).toMatchObject({ total: { currency: 'EUR' } });
    const byDefault = await request(port, { path: '/orders/7' });
    expect(byDefault.json).toMatchObject({ total: { currency: 'EUR' } });
    // A path no version's router has: the routers pass it on, and it ends as the app's 404.
    const missing = await request(port, { path: '/v1/customers/1' });
    expect([missing.status, (missing.json as { code: string }).code]).toEqual([404, 'GH_NOT_FOUND']);
    expect(reported).toEqual([]);
  });
});

describe.each(FRAMEWORKS)('%s: strip where a router has already matched', (framework) => {
  test('is reported once and changes nothing (the router keeps the path it matched)', async () => {
    const reported: unknown[] = [];
    const onError = (error: unknown) => reported.push(error);
    let port: number;
    const options = { versions: ['1'], sources: [{ from: 'path' as const, index: 1, strip: true }] };
    if (isExpress(framework)) {
      const express = expressOf(framework);
      const gw = expressGateway({}, { onError });
      const api = express.Router();
      api.use(gw.version(options));
      api.get('/v1/orders', (req, res) => {
        res.json({ url: req.url, version: 'mounted' });
      });
      const app = express();
      app.use('/api', api);
      app.use(gw.errors());
      port = await listen(app, gw);
    } else {
      const gw = koaGateway({}, { onError });
      const api = new Router({ prefix: '/api' });
      api.use(gw.version(options));
      api.get('/v1/orders', (ctx) => {
        ctx.body = { url: ctx.url, version: 'mounted' };
      });
      const app = new (koaOf(framework))();
      app.silent = true;
      app.use(gw.errors());
      app.use(api.routes());
      port = await listen(app.callback(), gw);
    }
    for (let i = 0; i < 2; i++) {
      const res = await request(port, { path: '/api/v1/orders' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ version: 'mounted' });
    }
    expect(reported).toHaveLength(1);
    expect(String(reported[0])).toMatch(/strip has no effect where a router has already matched/);
  });
});
