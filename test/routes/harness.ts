// The same monolith on every framework (Express 5 and 4, Koa 3 and 2) with `gw.routes()` in front of its own handlers, and real
// node:http upstreams standing in for the extracted services. Local and remote handlers answer in the
// same shape (`side` tells which answered), so tests can see who served a request and what reached it.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { exchangeOf, type GatewayConfig, type GatewayOptions } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { gateway as koaGateway } from '@gatehousejs/koa';
import type { Routes, RoutesOptions } from '@gatehousejs/routes';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Request } from 'express';
import {
  asyncHandler,
  expressOf,
  FRAMEWORKS,
  type Framework,
  isExpress,
  koaOf,
  routePaths,
} from '../support/apps.js';

export { FRAMEWORKS, type Framework };

/** What an upstream received. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: string;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A real service on a free loopback port; `handler` may be swapped at any time. */
export interface Upstream {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly received: Received[];
  handler: UpstreamHandler;
  close(): Promise<void>;
}

/** The default service: echoes what reached it as JSON, as the local handlers do. */
export const echo: UpstreamHandler = (req, res, body) => {
  const text = body.toString('utf8');
  let parsed: unknown = text === '' ? null : text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ side: 'remote', method: req.method, url: req.url, body: parsed }));
};

export async function startUpstream(handler: UpstreamHandler = echo): Promise<Upstream> {
  const received: Received[] = [];
  const upstream = {
    received,
    handler,
  } as Upstream & { handler: UpstreamHandler };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: body.toString('utf8'),
      });
      upstream.handler(req, res, body);
    });
    req.on('error', () => {});
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  Object.assign(upstream, {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return upstream;
}

export interface RoutesAppSpec {
  config?: GatewayConfig;
  /** The gateway's options beside the harness's own `onError` (`problems.render`, …). */
  gatewayOptions?: Omit<GatewayOptions, 'onError'>;
  /** Gatehouse middleware mounted before the routes (request ids, auth, …). */
  before?: <M>(gw: FrameworkGateway<M>) => M[];
  /** The routes controller options; a function may first make clients with options of its own. */
  routes: RoutesOptions | ((gw: FrameworkGateway<unknown>) => RoutesOptions);
  /** Mount the body parsers before the routes (the mistake GH_ROUTE_BODY_CONSUMED reports). */
  parserFirst?: boolean;
}

/** What the hashing handler (`/hash/*`) saw of the body it is reading, updated per chunk. */
export interface BodyProgress {
  bytes: number;
}

export interface RoutesApp {
  framework: Framework;
  port: number;
  url: string;
  server: Server;
  gateway: FrameworkGateway<unknown>;
  routes: Routes;
  reported: Array<{ error: unknown; phase: string }>;
  /** Requests the local handlers answered. */
  local: Array<{ method: string; path: string; body: unknown }>;
  /** Bytes of the current `/hash/*` body read so far by the local handler. */
  progress: BodyProgress;
  close(): Promise<void>;
}

/** Reads a raw request body chunk by chunk, counting as it goes, and reports its length and SHA-256. */
async function hashBody(req: IncomingMessage, progress: BodyProgress) {
  progress.bytes = 0;
  const hash = createHash('sha256');
  for await (const chunk of req) {
    hash.update(chunk as Buffer);
    progress.bytes += (chunk as Buffer).length;
  }
  return { side: 'local', method: req.method, length: progress.bytes, sha256: hash.digest('hex') };
}

let counter = 0;

/**
 * The body an Express handler saw, null when none was parsed: Express 5's parsers leave `req.body`
 * undefined then, Express 4's set it to `{}` even for a request without a body.
 */
function expressBody(framework: Framework, req: Request): unknown {
  const body = req.body as unknown;
  if (body === undefined) return null;
  const sent =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (
    framework === 'express4' &&
    !sent &&
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).length === 0
  )
    return null;
  return body;
}

/** What a local handler answers: the same shape as the echo service, `side: 'local'`. */
function localAnswer(req: IncomingMessage, body: unknown) {
  return { side: 'local', method: req.method, url: req.url, body: body ?? null };
}

/**
 * What `/gz/:id` answers: `{ id, name }`, gzip-compressed when the client accepts it (as a compression
 * middleware would), for shadow comparisons against a service that does not compress.
 */
function compressedItem(
  id: string,
  acceptEncoding: string | undefined,
): { body: Buffer; headers: Record<string, string> } {
  const text = JSON.stringify({ id, name: `item ${id}` });
  return /\bgzip\b/.test(acceptEncoding ?? '')
    ? { body: gzipSync(text), headers: { 'content-encoding': 'gzip', vary: 'accept-encoding' } }
    : { body: Buffer.from(text), headers: { vary: 'accept-encoding' } };
}

/** Data for noise tests: `id` is stable, `at` and `nonce` differ on every call. */
const item = (id: string) => ({ id, name: `item ${id}`, at: Date.now() + counter, nonce: `n${++counter}` });

export async function startRoutesApp(framework: Framework, spec: RoutesAppSpec): Promise<RoutesApp> {
  const reported: RoutesApp['reported'] = [];
  const local: RoutesApp['local'] = [];
  const progress: BodyProgress = { bytes: 0 };
  const onError = (error: unknown, { phase }: { phase: string }) => reported.push({ error, phase });
  let gw: FrameworkGateway<unknown>;
  let routes: Routes;
  let listener: (req: IncomingMessage, res: ServerResponse) => void;
  if (isExpress(framework)) {
    const express = expressOf(framework);
    const g = expressGateway(spec.config ?? {}, { ...spec.gatewayOptions, onError });
    gw = g as FrameworkGateway<unknown>;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    for (const mw of spec.before?.(g) ?? []) app.use(mw);
    const parsers = [express.json({ limit: '20mb' }), express.text({ type: 'text/*', limit: '20mb' })];
    if (spec.parserFirst) app.use(...parsers);
    routes = g.router(typeof spec.routes === 'function' ? spec.routes(gw) : spec.routes);
    app.use(g.use(routes));
    for (const path of routePaths(framework, '/hash/{*rest}')) {
      app.all(
        path,
        asyncHandler(framework, async (req, res) => {
          local.push({ method: req.method, path: req.path, body: null });
          res.json(await hashBody(req, progress));
        }),
      );
    }
    // The body parsers come after the routes, as the routes README asks.
    if (!spec.parserFirst) app.use(...parsers);
    app.get('/items/:id', (req, res) => {
      local.push({ method: req.method, path: req.path, body: null });
      res.json(item(req.params.id));
    });
    app.get('/gz/:id', (req, res) => {
      local.push({ method: req.method, path: req.path, body: null });
      const answer = compressedItem(req.params.id, req.headers['accept-encoding']);
      res.set(answer.headers).type('application/json').send(answer.body);
    });
    app.get('/redirect', (_req, res) => {
      res.redirect(302, '/orders/1');
    });
    for (const path of routePaths(framework, '/{*rest}')) {
      app.all(path, (req, res) => {
        const body = expressBody(framework, req);
        local.push({ method: req.method, path: req.path, body });
        if (req.path.startsWith('/fail')) {
          res.status(500).json({ side: 'local', error: 'local failure' });
          return;
        }
        res.json(localAnswer(req, body));
      });
    }
    app.use(g.errors());
    listener = app;
  } else {
    const g = koaGateway(spec.config ?? {}, { ...spec.gatewayOptions, onError });
    gw = g as FrameworkGateway<unknown>;
    const app = new (koaOf(framework))();
    app.silent = true;
    app.use(g.errors());
    for (const mw of spec.before?.(g) ?? []) app.use(mw);
    const parser = bodyParser({ enableTypes: ['json', 'text'], jsonLimit: '20mb', textLimit: '20mb' });
    if (spec.parserFirst) app.use(parser);
    routes = g.router(typeof spec.routes === 'function' ? spec.routes(gw) : spec.routes);
    app.use(g.use(routes));
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith('/hash/')) return next();
      local.push({ method: ctx.method, path: ctx.path, body: null });
      ctx.body = await hashBody(ctx.req, progress);
    });
    if (!spec.parserFirst) app.use(parser);
    const router = new Router();
    router.get('/items/:id', (ctx) => {
      local.push({ method: ctx.method, path: ctx.path, body: null });
      ctx.body = item(ctx.params.id!);
    });
    router.get('/gz/:id', (ctx) => {
      local.push({ method: ctx.method, path: ctx.path, body: null });
      const answer = compressedItem(ctx.params.id!, ctx.get('accept-encoding'));
      ctx.set(answer.headers);
      ctx.type = 'application/json';
      ctx.body = answer.body;
    });
    router.get('/redirect', (ctx) => {
      ctx.status = 302;
      ctx.redirect('/orders/1');
    });
    router.all('/{*rest}', (ctx) => {
      const body = (ctx.request as { body?: unknown }).body;
      const parsed =
        body === undefined ||
        (typeof body === 'object' && body !== null && Object.keys(body).length === 0 && !ctx.request.length)
          ? null
          : body;
      local.push({ method: ctx.method, path: ctx.path, body: parsed });
      if (ctx.path.startsWith('/fail')) {
        ctx.status = 500;
        ctx.body = { side: 'local', error: 'local failure' };
        return;
      }
      ctx.body = localAnswer(ctx.req, parsed);
    });
    app.use(router.routes());
    listener = app.callback();
  }
  const server = createServer(listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw.start();
  const port = (server.address() as AddressInfo).port;
  return {
    framework,
    port,
    url: `http://127.0.0.1:${port}`,
    server,
    gateway: gw,
    routes,
    reported,
    local,
    progress,
    close: () => gw.close({ deadlineMs: 1_000 }),
  };
}

/** The exchange's annotations for a request the app served (for tests that look inside). */
export const annotationsOf = (req: IncomingMessage) => Object.fromEntries(exchangeOf(req)?.annotations ?? []);
