// One table of route patterns, and real applications built from it on Express 5, Express 4, Koa 3 and
// Koa 2 (with @koa/router): the handlers the frameworks' routers dispatch to, and the Gatehouse auth
// rules, rate-limit routes and routes-table entries written for the same patterns.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { exchangeOf, type GatewayConfig, type Middleware } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { gateway as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import express5, { type RequestHandler } from 'express';
import express4 from 'express4';
import Koa3, { type Context } from 'koa';
import Koa2 from 'koa2';

export type Framework = 'express5' | 'express4' | 'koa3' | 'koa2';
export const FRAMEWORKS: readonly Framework[] = ['express5', 'express4', 'koa3', 'koa2'];

/** Where a route lives: the app itself, the router mounted at `/api`, or the one nested in it at `/v1`. */
type Mount = 'app' | 'api' | 'v1';

interface RouteSpec {
  /** Names the handler, the auth scope, the rate-limit window and the route-table entry. */
  readonly id: string;
  readonly mount: Mount;
  /** The pattern as Gatehouse reads it, from the root (rules are written for full paths). */
  readonly gate: string;
  /** The same pattern on the mount's router: path-to-regexp 8 (Express 5, @koa/router). */
  readonly native: string;
  /** The same pattern for Express 4 (path-to-regexp 0.1: no `{…}` groups, bare `*`). */
  readonly express4: string | string[];
}

/**
 * The one table, in registration order (routers and Gatehouse both take the first match): static,
 * parameters, wildcards, a dot, a parameter before a literal, a router mounted at `/api` (Express
 * `app.use('/api', router)`, @koa/router `prefix`) and one nested in it at `/v1`.
 */
export const ROUTES: readonly RouteSpec[] = [
  { id: 'root', mount: 'app', gate: '/', native: '/', express4: '/' },
  { id: 'admin', mount: 'app', gate: '/admin', native: '/admin', express4: '/admin' },
  {
    id: 'adminTree',
    mount: 'app',
    gate: '/admin/*',
    native: '/admin{/*rest}',
    express4: ['/admin', '/admin/*'],
  },
  { id: 'user', mount: 'app', gate: '/users/:id', native: '/users/:id', express4: '/users/:id' },
  {
    id: 'userPosts',
    mount: 'app',
    gate: '/users/:id/posts',
    native: '/users/:id/posts',
    express4: '/users/:id/posts',
  },
  { id: 'files', mount: 'app', gate: '/files/*', native: '/files{/*rest}', express4: ['/files', '/files/*'] },
  { id: 'dotted', mount: 'app', gate: '/a.b/c', native: '/a.b/c', express4: '/a.b/c' },
  {
    id: 'section',
    mount: 'app',
    gate: '/:section/secret',
    native: '/:section/secret',
    express4: '/:section/secret',
  },
  { id: 'apiOrders', mount: 'api', gate: '/api/orders', native: '/orders', express4: '/orders' },
  { id: 'apiOrder', mount: 'api', gate: '/api/orders/:id', native: '/orders/:id', express4: '/orders/:id' },
  { id: 'v1Status', mount: 'v1', gate: '/api/v1/status', native: '/status', express4: '/status' },
  { id: 'apiAll', mount: 'api', gate: '/api/*', native: '/{*rest}', express4: '*' },
];

export const ROUTE_IDS: readonly string[] = ROUTES.map((r) => r.id);
export const IN_API: ReadonlySet<string> = new Set(ROUTES.filter((r) => r.mount !== 'app').map((r) => r.id));

/** The API key the differential requests carry: it holds every scope, so no auth rule refuses. */
export const API_KEY = 'differential-key-0123456789';

/**
 * - `bare`: the frameworks alone, no Gatehouse (what their routers do with a target as sent);
 * - `rules`: at the top of the app, every pattern's auth rule, rate-limit route and route-table entry
 *   (mode `local`), none of which refuses: each records its decision, and the router's handler runs
 *   and names itself, so one answer shows what the router chose and what each capability applied;
 * - `inner`: the same rules inside the `/api` router (the exchange is made after routing), with the
 *   route-table entries `remote`: a request they take never reaches a local handler.
 */
export type Variant = 'bare' | 'rules' | 'inner';

/**
 * Makes every Gatehouse decision visible without refusing anything: the auth rule's `allow` records
 * its pattern (answered as `x-auth-rule`), the route table annotates the entry it matched
 * (`x-route-entry`), and each rate-limit route has a window named after its pattern
 * (`RateLimit-Policy`). A local handler answers with `x-handler`; the upstream echoes `x-route`.
 */
function observer(): Middleware {
  return {
    name: 'differentialObserver',
    onResponse(exchange) {
      const rule = exchange.annotations.get('auth-rule');
      if (rule !== undefined) exchange.setHeader('x-auth-rule', String(rule));
      const entry = exchange.annotations.get('gatehouse.route');
      if (entry !== undefined) exchange.setHeader('x-route-entry', String(entry));
    },
  };
}

function gatehouseChain<M>(gw: FrameworkGateway<M>, mode: 'local' | 'remote'): M[] {
  return [
    gw.use(observer()),
    gw.auth({
      methods: [
        apiKeyAuthenticator({ keys: [{ key: API_KEY, id: 'differential', scopes: [...ROUTE_IDS] }] }),
      ],
      rules: ROUTES.map((r) => ({
        path: r.gate,
        scopes: [r.id],
        allow: (_principal, exchange) => {
          exchange.annotate('auth-rule', r.id);
          return true;
        },
      })),
      default: 'anonymous',
    }),
    gw.rateLimit({
      name: 'differential',
      limits: [{ name: 'top', points: 1_000_000_000, duration: 3600 }],
      routes: ROUTES.map((r) => ({
        path: r.gate,
        limits: [{ name: r.id, points: 1_000_000_000, duration: 3600 }],
      })),
    }),
    gw.routes({
      table: ROUTES.map((r) =>
        mode === 'local'
          ? { name: r.id, path: r.gate, mode: 'local' as const }
          : {
              name: r.id,
              path: r.gate,
              service: 'upstream',
              mode: 'remote' as const,
              requestHeaders: { set: { 'x-route': r.id } },
            },
      ),
    }),
  ];
}

const gatewayConfig = (upstreamPort: number) => ({
  services: { upstream: { url: `http://127.0.0.1:${upstreamPort}` } },
});

function answer(res: ServerResponse, id: string, url: string, original: string | undefined) {
  const body = JSON.stringify({ handler: id, url, originalUrl: original });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-handler': id,
  });
  res.end(body);
}

function buildExpress(framework: 'express5' | 'express4', variant: Variant, upstreamPort: number) {
  const express = framework === 'express5' ? express5 : (express4 as typeof express5);
  const gw = variant === 'bare' ? undefined : expressGateway(gatewayConfig(upstreamPort));
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (gw !== undefined && variant === 'rules') for (const mw of gatehouseChain(gw, 'local')) app.use(mw);
  const routers: Record<Mount, ReturnType<typeof express.Router>> = {
    app: app as unknown as ReturnType<typeof express.Router>,
    api: express.Router(),
    v1: express.Router(),
  };
  if (gw !== undefined && variant === 'inner')
    for (const mw of gatehouseChain(gw, 'remote')) routers.api.use(mw);
  let mounted = false;
  for (const route of ROUTES) {
    if (route.mount === 'v1' && !mounted) {
      routers.api.use('/v1', routers.v1);
      mounted = true;
    }
    // What the router dispatched on, from the root (a mounted router sees req.url without its mount).
    const handler: RequestHandler = (req, res) =>
      answer(res, route.id, req.baseUrl + req.url, req.originalUrl);
    const paths = framework === 'express4' ? [route.express4].flat() : [route.native];
    for (const path of paths) routers[route.mount].get(path, handler);
  }
  app.use('/api', routers.api);
  if (gw !== undefined) app.use(gw.errors());
  return { gw, listener: app as unknown as (req: IncomingMessage, res: ServerResponse) => void };
}

function buildKoa(framework: 'koa3' | 'koa2', variant: Variant, upstreamPort: number) {
  const Koa = framework === 'koa3' ? Koa3 : (Koa2 as typeof Koa3);
  const gw = variant === 'bare' ? undefined : koaGateway(gatewayConfig(upstreamPort));
  const app = new Koa();
  app.silent = true;
  if (gw !== undefined) app.use(gw.errors());
  if (gw !== undefined && variant === 'rules') for (const mw of gatehouseChain(gw, 'local')) app.use(mw);
  const routers: Record<Mount, Router> = {
    app: new Router(),
    api: new Router({ prefix: '/api' }),
    v1: new Router(),
  };
  // With an explicit path: in a prefixed router, @koa/router compiles `use(mw)` without one
  // case-sensitively while its routes ignore case, so '/API/orders' would skip the middleware (a
  // @koa/router bug, shown by the test 'a prefixed @koa/router ...').
  if (gw !== undefined && variant === 'inner')
    for (const mw of gatehouseChain(gw, 'remote')) routers.api.use('', mw);
  const handler = (id: string) => (ctx: Context) => {
    ctx.set('x-handler', id);
    ctx.body = { handler: id, url: ctx.url, originalUrl: ctx.originalUrl };
  };
  // @koa/router copies a nested router's routes when it is mounted: declare them first, and mount the
  // nested router where its first route stands in the table.
  for (const route of ROUTES) if (route.mount === 'v1') routers.v1.get(route.native, handler(route.id));
  let nested = false;
  for (const route of ROUTES) {
    if (route.mount !== 'v1') routers[route.mount].get(route.native, handler(route.id));
    else if (!nested) {
      routers.api.use('/v1', routers.v1.routes());
      nested = true;
    }
  }
  app.use(routers.app.routes());
  app.use(routers.api.routes());
  return { gw, listener: app.callback() };
}

/** The upstream every route-table entry sends to: it names the entry that sent the request. */
export async function startUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const route = String(req.headers['x-route'] ?? '');
    const body = JSON.stringify({ upstream: true, route, url: req.url });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-route': route,
    });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server),
  };
}

export interface DifferentialApp {
  framework: Framework;
  variant: Variant;
  port: number;
  close(): Promise<void>;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

/** Starts one variant of the table's app on one framework, on a free loopback port. */
export async function startDifferentialApp(
  framework: Framework,
  variant: Variant,
  upstreamPort: number,
): Promise<DifferentialApp> {
  const { gw, listener } =
    framework === 'express5' || framework === 'express4'
      ? buildExpress(framework, variant, upstreamPort)
      : buildKoa(framework, variant, upstreamPort);
  const server = createServer(listener);
  server.keepAliveTimeout = 60_000;
  // Responses queued behind others on a pipelined connection each hold a listener on the socket until
  // their turn (on-finished, in Express): up to the client's window of 32, not a leak.
  server.on('connection', (socket) => socket.setMaxListeners(80));
  // Node's parser refusals answered as problem+json, as every Gatehouse deployment does.
  if (gw !== undefined) gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw?.start();
  return {
    framework,
    variant,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      if (gw !== undefined) await gw.close({ deadlineMs: 1_000 });
      await closeServer(server);
    },
  };
}

/**
 * An app with Gatehouse at the top (`'top'`), as route-level middleware on `/files/…` (`'route'`), or
 * inside a router mounted at `/files` (`'mount'`); the handler answers with the path Gatehouse decided
 * on and the one the router dispatched on.
 */
export async function startRouteLevelApp(
  framework: Framework,
  where: 'route' | 'top' | 'mount',
  config: GatewayConfig = {},
): Promise<DifferentialApp> {
  const probe: Middleware = { name: 'probe' };
  const body = (path: string | undefined, url: string) => ({ path, url });
  let listener: (req: IncomingMessage, res: ServerResponse) => void;
  let gw: FrameworkGateway<unknown>;
  if (framework === 'express5' || framework === 'express4') {
    const express = framework === 'express5' ? express5 : (express4 as typeof express5);
    const g = expressGateway(config);
    gw = g as FrameworkGateway<unknown>;
    const app = express();
    if (where === 'top') app.use(g.use(probe));
    const handler: RequestHandler = (req, res) => {
      res.json(body(exchangeOf(req)?.path, req.baseUrl + req.url));
    };
    if (where === 'mount') {
      const router = express.Router();
      router.use(g.use(probe));
      router.get(framework === 'express5' ? '/{*rest}' : '*', handler);
      app.use('/files', router);
    } else {
      const chain: RequestHandler[] = where === 'route' ? [g.use(probe)] : [];
      app.get(framework === 'express5' ? '/files/{*rest}' : '/files/*', ...chain, handler);
    }
    app.use(g.errors());
    listener = app as unknown as typeof listener;
  } else {
    const Koa = framework === 'koa3' ? Koa3 : (Koa2 as typeof Koa3);
    const g = koaGateway(config);
    gw = g as FrameworkGateway<unknown>;
    const app = new Koa();
    app.silent = true;
    app.use(g.errors());
    if (where === 'top') app.use(g.use(probe));
    const handler = (ctx: Context) => {
      ctx.body = body(exchangeOf(ctx.req)?.path, ctx.url);
    };
    if (where === 'mount') {
      const router = new Router({ prefix: '/files' });
      router.use('', g.use(probe));
      router.get('{/*rest}', handler);
      app.use(router.routes());
    } else {
      const router = new Router();
      const chain = where === 'route' ? [g.use(probe)] : [];
      router.get('/files/{*rest}', ...chain, handler);
      app.use(router.routes());
    }
    listener = app.callback();
  }
  const server = createServer(listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    framework,
    variant: 'rules',
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await gw.close({ deadlineMs: 1_000 });
      await closeServer(server);
    },
  };
}
