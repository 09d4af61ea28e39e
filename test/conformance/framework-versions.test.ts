// What differs between the framework majors Gatehouse supports (Express 5 and 4, Koa 3 and 2) where it
// reaches Gatehouse, on all four over real sockets: failures after an asynchronous onRequest reach the
// app's error handler (Express 4 ignores rejected promises), the matched route template read from each
// router, response hooks however the app sets its status, and the framework's own query parsing and
// proxy trust, which must change no answer.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { exchangeOf, type Middleware } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  closeAll,
  expressOf,
  FRAMEWORKS,
  type Framework,
  isExpress,
  koaOf,
  type RunningApp,
  routePaths,
  startAll,
} from '../support/apps.js';
import { check, conformance, type Suite } from '../support/conformance.js';
import { routeProbe } from '../support/probes.js';
import { request } from '../support/raw-http.js';

const API_KEY = 'gh_live_versions_0001';

/**
 * Fails in each way that escapes core's own error handling, after an await: Express 4 does not catch
 * a rejected promise, and Express 5 catches only one a handler returns, so the adapter must hand these
 * to next(err) itself (Koa's middleware promise carries them to `gw.errors()`).
 */
const asyncFailures: Middleware = {
  name: 'asyncFailures',
  async onRequest(ex) {
    if (!ex.path.startsWith('/fail/')) return undefined;
    await sleep(1);
    switch (ex.path) {
      case '/fail/reject':
        throw new Error('async secret at /srv/app.js:7');
      case '/fail/bad-header':
        // Node refuses the value when the adapter writes it: the answer cannot be sent.
        return { status: 200, headers: { 'x-note': 'one\r\ntwo' }, body: 'never sent' };
      case '/fail/scope':
        ex.enterScope(() => {
          throw new Error('scope secret: the context manager broke');
        });
        return undefined;
      case '/fail/uncommon-status':
        return { status: 599, body: { uncommon: true } };
      default:
        return undefined;
    }
  },
};

/** The same failure as `/fail/bad-header`, before any await (the framework's own try/catch sees it). */
const syncBadHeader: Middleware = {
  name: 'syncBadHeader',
  onRequest: (ex) =>
    ex.path === '/fail/bad-header-sync'
      ? { status: 200, headers: { 'x-note': 'one\r\ntwo' }, body: 'never sent' }
      : undefined,
};

const failureSuite: Suite = {
  name: 'failures after an async onRequest reach the error handler',
  app: {
    chain: (gw) => [
      gw.requestId(),
      gw.use(syncBadHeader),
      gw.use(asyncFailures),
      gw.auth({
        methods: [apiKeyAuthenticator({ keys: [{ key: API_KEY, id: 'svc-versions', scopes: ['read'] }] })],
        rules: [
          { path: '/hello', anonymous: true },
          { path: '/fail/*', anonymous: true },
          { path: '/view/*', anonymous: true },
        ],
      }),
    ],
    guards: (gw) => ({
      'policy-down': [
        gw.authorize({
          allow: async () => {
            await sleep(1);
            throw new Error('policy store at 10.0.0.7 is down');
          },
        }),
      ],
      'policy-no': [gw.authorize({ allow: async () => false })],
    }),
  },
  scenarios: [
    {
      name: 'a rejected onRequest is a 500 that reveals nothing',
      request: { path: '/fail/reject' },
      expect: { status: 500, problem: 'GH_INTERNAL', absent: ['async secret', '/srv/app.js'] },
    },
    {
      name: 'an async answer Node refuses to write is a 500 from the error handler, not a hang',
      request: { path: '/fail/bad-header' },
      expect: { status: 500, problem: 'GH_INTERNAL', headers: { 'x-note': null }, absent: ['never sent'] },
    },
    {
      name: 'the same answer, synchronously, is the same 500',
      request: { path: '/fail/bad-header-sync' },
      expect: { status: 500, problem: 'GH_INTERNAL', headers: { 'x-note': null }, absent: ['never sent'] },
    },
    {
      name: 'a scope that throws when the rest of the request enters it is a 500, not a hang',
      request: { path: '/fail/scope' },
      expect: { status: 500, problem: 'GH_INTERNAL', absent: ['scope secret'] },
    },
    {
      name: 'a route guard (gw.authorize) whose async check rejects is a 500 that reveals nothing',
      request: { path: '/guarded/policy-down', headers: { 'x-api-key': API_KEY } },
      expect: { status: 500, problem: 'GH_INTERNAL', absent: ['10.0.0.7', 'policy store'] },
    },
    {
      name: 'a route guard whose async check says no is a 403',
      request: { path: '/guarded/policy-no', headers: { 'x-api-key': API_KEY } },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'a status without a reason phrase (599) from a Gatehouse answer',
      request: { path: '/fail/uncommon-status' },
      expect: { status: 599, body: { uncommon: true } },
    },
  ],
};

conformance(failureSuite);

describe('failures after an async onRequest: who handled them', () => {
  let apps: Record<Framework, RunningApp>;
  beforeAll(async () => {
    apps = await startAll(failureSuite.app);
  });
  afterAll(() => closeAll(apps));

  test.each([
    // Past core's own handling: only the app's error handler (gw.errors(), phase 'handler') saw them.
    { path: '/fail/bad-header', phase: 'handler', message: /Invalid character in header content/ },
    { path: '/fail/scope', phase: 'handler', message: /^scope secret/ },
    // Inside onRequest: core rendered the problem and reported it under the middleware's name.
    { path: '/fail/reject', phase: 'asyncFailures.onRequest', message: /^async secret/ },
  ])('$path is reported once, in phase $phase, on every framework', async ({ path, phase, message }) => {
    for (const fw of FRAMEWORKS) {
      apps[fw].reported.length = 0;
      expect((await request(apps[fw].port, { path })).status, fw).toBe(500);
      expect(
        apps[fw].reported.map((r) => r.phase),
        fw,
      ).toEqual([phase]);
      expect(String((apps[fw].reported[0]!.error as Error).message), fw).toMatch(message);
    }
  });
});

conformance({
  name: "the framework's own query parsing and proxy trust change nothing",
  app: { chain: (gw) => [gw.requestId()], frameworkProxyTrust: true },
  scenarios: [
    {
      // Express 4 parses req.query with qs (`a[b]` becomes an object); Gatehouse reads the raw query.
      name: 'bracketed and repeated query parameters',
      request: { path: '/view/q?a[b]=1&c=2&c=3&d' },
      expect: {
        status: 200,
        body: (json: unknown) =>
          expect((json as { query: unknown }).query).toEqual({ 'a[b]': '1', c: '3', d: '' }),
      },
    },
    {
      name: 'forwarded headers from an untrusted peer, with the framework trusting every proxy',
      request: {
        path: '/view/x',
        headers: {
          'x-forwarded-for': '203.0.113.9',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example',
        },
      },
      expect: {
        status: 200,
        body: (json: unknown) =>
          expect(json).toMatchObject({ clientIp: '127.0.0.1', protocol: 'http', host: 'conformance.test' }),
      },
    },
    {
      name: 'a JSON answer keeps its charset',
      request: { path: '/hello' },
      expect: { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' } },
    },
  ],
});

// A small app per framework with the routes people write: a parameter, a router mounted under a
// prefix, the response set in each framework's idioms, and a catch-all (`app.get('*')` on Express 4,
// the route the trial app lost when it had to move to Express 5).
interface NativeApp {
  framework: Framework;
  port: number;
  close(): Promise<void>;
}

interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Serves a native app through its gateway on a free loopback port. */
async function listen(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  gw: ReturnType<typeof expressGateway> | ReturnType<typeof koaGateway>,
): Promise<Listening> {
  const server = gw.serve(createServer(listener));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw.start();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => gw.close({ deadlineMs: 500 }),
  };
}

/** Reports the status the response hooks saw when the head went out. */
const statusProbe: Middleware = {
  name: 'statusProbe',
  onResponse(ex) {
    ex.setHeader('x-hook-status', String(ex.res.statusCode));
  },
};

/** What the handler itself sees of the matched route. */
const seen = (req: import('node:http').IncomingMessage) => ({
  route: exchangeOf(req)?.matchedRoute ?? null,
});

async function startNative(framework: Framework): Promise<NativeApp> {
  let server: Listening;
  if (isExpress(framework)) {
    const express = expressOf(framework);
    const gw = expressGateway({}, { onError: () => {} });
    const app = express();
    app.use(gw.requestId(), gw.use(routeProbe, statusProbe));
    app.get('/orders/:id', (req, res) => {
      res.json(seen(req));
    });
    const api = express.Router();
    api.get('/items/:id', (req, res) => {
      res.json(seen(req));
    });
    app.use('/api', api);
    app.get('/status/created', (_req, res) => {
      res.status(201).json({ created: true });
    });
    app.get('/status/empty', (_req, res) => {
      res.sendStatus(204);
    });
    app.get('/status/moved', (_req, res) => {
      res.redirect(302, '/orders/1');
    });
    app.get('/status/raw', (_req, res) => {
      res.writeHead(202, { 'content-type': 'text/plain' });
      res.end('raw');
    });
    for (const path of routePaths(framework, '/{*splat}')) {
      app.get(path, (req, res) => {
        res.json(seen(req));
      });
    }
    app.use(gw.errors());
    server = await listen(app, gw);
  } else {
    const gw = koaGateway({}, { onError: () => {} });
    const app = new (koaOf(framework))();
    app.silent = true;
    app.use(gw.errors());
    app.use(gw.requestId());
    app.use(gw.use(routeProbe, statusProbe));
    const router = new Router();
    router.get('/orders/:id', (ctx) => {
      ctx.body = seen(ctx.req);
    });
    const api = new Router({ prefix: '/api' });
    api.get('/items/:id', (ctx) => {
      ctx.body = seen(ctx.req);
    });
    router.get('/status/created', (ctx) => {
      ctx.status = 201;
      ctx.body = { created: true };
    });
    router.get('/status/empty', (ctx) => {
      ctx.status = 204;
    });
    router.get('/status/moved', (ctx) => {
      ctx.status = 302;
      ctx.redirect('/orders/1');
    });
    router.get('/status/raw', (ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(202, { 'content-type': 'text/plain' });
      ctx.res.end('raw');
    });
    router.get('/{*splat}', (ctx) => {
      ctx.body = seen(ctx.req);
    });
    app.use(api.routes());
    app.use(router.routes());
    server = await listen(app.callback(), gw);
  }
  return { framework, port: server.port, close: server.close };
}

describe('each framework, as its users write it', () => {
  const apps = {} as Record<Framework, NativeApp>;
  beforeAll(async () => {
    for (const fw of FRAMEWORKS) apps[fw] = await startNative(fw);
  });
  afterAll(() => Promise.all(Object.values(apps).map((app) => app.close())));

  // The template each router reports, in its own syntax.
  const catchAll = (fw: Framework) => (fw === 'express4' ? '*' : '/{*splat}');
  test.each([
    { path: '/orders/42', route: () => '/orders/:id' },
    { path: '/api/items/7', route: () => '/api/items/:id' },
    { path: '/some/page/deep', route: catchAll },
    { path: '/', route: catchAll },
  ])('exchange.matchedRoute for $path', async ({ path, route }) => {
    for (const fw of FRAMEWORKS) {
      const res = await request(apps[fw].port, { path });
      expect(res.status, fw).toBe(200);
      expect(res.json, `${fw}: in the handler`).toEqual({ route: route(fw) });
      expect(res.headers['x-matched-route'], `${fw}: in onResponse`).toEqual([route(fw)]);
    }
  });

  test.each([
    { path: '/status/created', status: 201 },
    { path: '/status/empty', status: 204 },
    { path: '/status/moved', status: 302 },
    { path: '/status/raw', status: 202 },
  ])('response hooks see status $status however the app set it ($path)', async ({ path, status }) => {
    // The rest of these answers is each framework's own (Express adds an ETag, redirect bodies differ):
    // only what Gatehouse adds is checked.
    for (const fw of FRAMEWORKS) {
      const res = await request(apps[fw].port, { path });
      check(res, { status, headers: { 'x-hook-status': String(status), 'x-request-id': /.+/ } }, fw);
    }
  });
});

describe.each(FRAMEWORKS.filter((fw) => !isExpress(fw)))(
  "%s: errors() keeps errors from app.on('error')",
  (fw) => {
    test('a thrown error is answered as a problem and not emitted', async () => {
      const gw = koaGateway({}, { onError: () => {} });
      const app = new (koaOf(fw))();
      const emitted: unknown[] = [];
      app.on('error', (error: unknown) => emitted.push(error));
      app.use(gw.errors());
      app.use(() => {
        throw new Error('handler secret');
      });
      const server = await listen(app.callback(), gw);
      try {
        const res = await request(server.port, { path: '/x' });
        check(res, { status: 500, problem: 'GH_INTERNAL', absent: ['handler secret'] }, fw);
        await sleep(10);
        expect(emitted).toEqual([]);
      } finally {
        await server.close();
      }
    });
  },
);
