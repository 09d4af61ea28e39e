// Builds the same application on every supported framework (Express 5 and 4, Koa 3 and 2 with
// @koa/router) from one specification: the same gateway configuration, the same Gatehouse chain, and
// the same native test routes, written once per framework family. Route templates are written once, in
// path-to-regexp 8 syntax (Express 5 and @koa/router share it), and translated here for Express 4.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exchangeOf, GatehouseError, type GatewayConfig, type GatewayOptions } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { gateway as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import express5, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { testScope } from './probes.js';

/** A framework and major version Gatehouse supports; readable in test titles. */
export type Framework = 'express5' | 'express4' | 'koa3' | 'koa2';
/** Every supported framework; the first one's answers are the ones the others must match. */
export const FRAMEWORKS: readonly Framework[] = ['express5', 'express4', 'koa3', 'koa2'];
/** The adapter a framework uses: `@gatehousejs/express` or `@gatehousejs/koa`. */
export type Family = 'express' | 'koa';

export const familyOf = (framework: Framework): Family =>
  framework.startsWith('express') ? 'express' : 'koa';
export const isExpress = (framework: Framework): boolean => familyOf(framework) === 'express';

/** The `express` module of this framework's major version (Express 4 typed with Express 5's types). */
export function expressOf(framework: Framework): typeof express5 {
  if (framework === 'express5') return express5;
  if (framework === 'express4') return express4;
  throw new Error(`${framework} is not Express`);
}

/** The Koa class of this framework's major version (Koa 2 typed with Koa 3's types). */
export function koaOf(framework: Framework): typeof Koa3 {
  if (framework === 'koa3') return Koa3;
  if (framework === 'koa2') return Koa2;
  throw new Error(`${framework} is not Koa`);
}

/** The gateway object of this framework's adapter. */
export function gatewayOf(
  framework: Framework,
  ...args: Parameters<typeof expressGateway>
): FrameworkGateway<unknown> {
  return (isExpress(framework) ? expressGateway(...args) : koaGateway(...args)) as FrameworkGateway<unknown>;
}

// An optional wildcard tail: `/view{/*rest}` and `/hash/{*rest}` (a prefix, optionally followed by
// `/anything`); `/{*rest}` is everything.
const OPTIONAL_TAIL = /^(.*?)(?:\{\/\*\w+\}|\/\{\*\w+\})$/;

/**
 * The paths to register on this framework's router for a template in path-to-regexp 8 syntax. Express
 * 4 (path-to-regexp 0.1) has no `{…}` groups and no named wildcards: an optional wildcard tail becomes
 * the prefix and `prefix/*` (two routes, which match exactly what the template matches), `/{*rest}`
 * becomes `*`, and `*name` becomes `*`. A template this cannot translate throws, so that a new route
 * never runs with a meaning of its own on Express 4.
 */
export function routePaths(framework: Framework, template: string): string[] {
  if (framework !== 'express4') return [template];
  const tail = OPTIONAL_TAIL.exec(template);
  if (tail !== null) return tail[1] === '' ? ['*'] : [tail[1]!, `${tail[1]}/*`];
  const translated = template.replace(/\*\w+/g, '*');
  if (/[{}()]/.test(translated))
    throw new Error(`apps.ts cannot translate the route ${template} for Express 4`);
  return [translated];
}

/**
 * Registers one handler for a template on an Express app or router, under each path Express 4 needs,
 * and remembers which template each native path stands for (see {@link RunningApp.specRoute}).
 */
function expressRoute(
  framework: Framework,
  templates: Map<string, string>,
  template: string,
  register: (path: string) => void,
): void {
  for (const path of routePaths(framework, template)) {
    if (path !== template) templates.set(path, template);
    register(path);
  }
}

/**
 * Express 5 passes a rejected promise from a handler to the error handlers; Express 4 does not (the
 * request would hang), so an Express 4 app hands it to next() itself, as this does.
 */
export function asyncHandler(
  framework: Framework,
  handler: (req: Request, res: Response) => Promise<void>,
): RequestHandler {
  if (framework !== 'express4') return handler;
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).catch(next);
  };
}
export interface AppSpec {
  config?: GatewayConfig;
  /** The gateway's own options besides `onError` (which records reports): `problems.render`, say. */
  gatewayOptions?: Omit<GatewayOptions, 'onError'>;
  /**
   * Builds the gateway object instead of `gateway(config)` (one built from a configuration file,
   * whose `chain` is then `[gw.middleware()]`); `options` carries the test's `onError`.
   */
  gateway?: (
    framework: Framework,
    options: { onError: (error: unknown, context: { phase: string }) => void },
  ) => Promise<FrameworkGateway<unknown>>;
  /** The Gatehouse chain, in order, from the framework's gateway object. */
  chain?: <M>(gw: FrameworkGateway<M>) => M[];
  /**
   * Route-level middleware: each entry mounts `/guarded/<name>` (every method) behind the given
   * native middleware, answering with the same view as `/view`.
   */
  guards?: <M>(gw: FrameworkGateway<M>) => Record<string, M[]>;
  /** Serve over TLS (node:https) with these options instead of plain HTTP. */
  tls?: import('node:https').ServerOptions;
  /**
   * Turn on the framework's own proxy trust (Express `trust proxy`, Koa `app.proxy`): Gatehouse reads
   * client addresses through its own configuration only, so this must change no answer.
   */
  frameworkProxyTrust?: boolean;
}

export interface RunningApp {
  framework: Framework;
  port: number;
  server: Server;
  gateway: FrameworkGateway<unknown>;
  /** Errors the gateway reported (5xx, failing hooks). */
  reported: Array<{ error: unknown; phase: string }>;
  /**
   * The spec's template for a route template this framework reported (`exchange.matchedRoute`):
   * Express 4's `/view/*` stands for `/view{/*rest}`. Anything else is returned unchanged.
   */
  specRoute(native: string): string;
  close(): Promise<void>;
}

const TEST_CODE = { code: 'GH_TEST_TEAPOT', status: 418, title: "I'm a teapot", expose: true };

/** What the app's own handler saw: the exchange view plus the headers that reached it. */
function view(req: import('node:http').IncomingMessage) {
  const ex = exchangeOf(req);
  return {
    path: ex?.path,
    rawPath: ex?.rawPath,
    requestId: ex?.requestId,
    clientIp: ex?.clientIp,
    protocol: ex?.protocol,
    host: ex?.host,
    query: ex ? Object.fromEntries(ex.query) : undefined,
    scope: testScope.getStore() ?? null,
    ...(principalOf(ex) === undefined ? {} : { principal: principalOf(ex) }),
    headers: Object.fromEntries(
      Object.entries(req.headers).filter(([n]) => n !== 'host' && n !== 'connection'),
    ),
  };
}

// The principal `gw.auth()` put on the exchange, as the app sees it (id, method, scopes, roles).
function principalOf(ex: ReturnType<typeof exchangeOf>) {
  const principal = (ex?.state as { principal?: Record<string, unknown> } | undefined)?.principal;
  if (principal === undefined) return undefined;
  const { id, method, scopes, roles } = principal;
  return { id, method, scopes, roles };
}

/**
 * Calls the configured service through `gw.client(service)` with the request's query string and
 * relays its status and JSON body: how an application handler uses the mesh client.
 */
async function relay(
  gw: { client(name: string): import('@gatehousejs/client').Client },
  service: string,
  url: string,
) {
  const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
  const answer = await gw.client(service).request({ path: `/echo${query}` });
  return { status: answer.statusCode, body: (await answer.body.json()) as unknown };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const slowMs = (query: unknown) => Math.min(Number((query as { ms?: string }).ms ?? 200) || 200, 10_000);
const httpError = () => Object.assign(new Error('The widget is bent'), { status: 422, expose: true });
const hiddenHttpError = () =>
  Object.assign(new Error('db password is hunter2'), { status: 503, expose: false });
const plainError = () => new Error('secret internals at /srv/app.js:42');
const teapot = () => new GatehouseError(TEST_CODE, 'Short and stout', { extensions: { spout: 1 } });

function buildExpress(
  framework: Framework,
  spec: AppSpec,
  reported: RunningApp['reported'],
  templates: Map<string, string>,
  made?: FrameworkGateway<unknown>,
) {
  const gw =
    (made as ReturnType<typeof expressGateway> | undefined) ??
    expressGateway(spec.config ?? {}, {
      ...spec.gatewayOptions,
      onError: (error, { phase }) => reported.push({ error, phase }),
    });
  const app = expressOf(framework)();
  const route = (template: string, register: (path: string) => void) =>
    expressRoute(framework, templates, template, register);
  app.disable('x-powered-by');
  app.set('etag', false);
  if (spec.frameworkProxyTrust === true) app.set('trust proxy', true);
  for (const mw of spec.chain?.(gw) ?? []) app.use(mw);
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  route('/view{/*rest}', (path) => {
    app.get(path, (req, res) => {
      res.json(view(req));
    });
    app.post(path, (req, res) => {
      res.json(view(req));
    });
  });
  for (const [name, guards] of Object.entries(spec.guards?.(gw) ?? {})) {
    app.all(`/guarded/${name}`, ...guards, (req, res) => {
      res.json(view(req));
    });
  }
  app.get(
    '/slow',
    asyncHandler(framework, async (req, res) => {
      await sleep(slowMs(req.query));
      res.json({ slow: true });
    }),
  );
  app.get(
    '/upstream/:service',
    asyncHandler(framework, async (req, res) => {
      const answer = await relay(gw, req.params.service as string, req.url);
      res.status(answer.status).json(answer.body);
    }),
  );
  app.get('/throw/plain', () => {
    throw plainError();
  });
  app.get('/throw/http', () => {
    throw httpError();
  });
  app.get('/throw/hidden', () => {
    throw hiddenHttpError();
  });
  app.get(
    '/throw/gatehouse',
    asyncHandler(framework, async () => {
      throw teapot();
    }),
  );
  app.use(gw.errors());
  return { gw, listener: app };
}

function buildKoa(
  framework: Framework,
  spec: AppSpec,
  reported: RunningApp['reported'],
  made?: FrameworkGateway<unknown>,
) {
  const gw =
    (made as ReturnType<typeof koaGateway> | undefined) ??
    koaGateway(spec.config ?? {}, {
      ...spec.gatewayOptions,
      onError: (error, { phase }) => reported.push({ error, phase }),
    });
  const app = new (koaOf(framework))();
  app.silent = true;
  app.proxy = spec.frameworkProxyTrust === true;
  app.use(gw.errors());
  for (const mw of spec.chain?.(gw) ?? []) app.use(mw);
  const router = new Router();
  router.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });
  router.get('/view{/*rest}', (ctx) => {
    ctx.body = view(ctx.req);
  });
  router.post('/view{/*rest}', (ctx) => {
    ctx.body = view(ctx.req);
  });
  for (const [name, guards] of Object.entries(spec.guards?.(gw) ?? {})) {
    router.all(`/guarded/${name}`, ...guards, (ctx) => {
      ctx.body = view(ctx.req);
    });
  }
  router.get('/slow', async (ctx) => {
    await sleep(slowMs(ctx.query));
    ctx.body = { slow: true };
  });
  router.get('/upstream/:service', async (ctx) => {
    const answer = await relay(gw, ctx.params.service!, ctx.url);
    ctx.status = answer.status;
    ctx.body = answer.body;
  });
  router.get('/throw/plain', () => {
    throw plainError();
  });
  router.get('/throw/http', () => {
    throw httpError();
  });
  router.get('/throw/hidden', () => {
    throw hiddenHttpError();
  });
  router.get('/throw/gatehouse', async () => {
    throw teapot();
  });
  app.use(router.routes());
  return { gw, listener: app.callback() };
}

/** Starts the app for one framework on a free loopback port. */
export async function startApp(framework: Framework, spec: AppSpec): Promise<RunningApp> {
  const reported: RunningApp['reported'] = [];
  const templates = new Map<string, string>();
  const made = await spec.gateway?.(framework, {
    onError: (error, { phase }) => reported.push({ error, phase }),
  });
  const { gw, listener } = isExpress(framework)
    ? buildExpress(framework, spec, reported, templates, made)
    : buildKoa(framework, spec, reported, made);
  const server = spec.tls === undefined ? createServer(listener) : createTlsServer(spec.tls, listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw.start();
  const port = (server.address() as AddressInfo).port;
  return {
    framework,
    port,
    server,
    gateway: gw as FrameworkGateway<unknown>,
    reported,
    specRoute: (native) => templates.get(native) ?? native,
    close: async () => {
      await gw.close({ deadlineMs: 1_000 });
    },
  };
}

/**
 * Starts the same app on every framework, in parallel, keyed by framework. If one fails to start, the
 * others are closed and its error is thrown.
 */
export async function startAll(spec: AppSpec): Promise<Record<Framework, RunningApp>> {
  const settled = await Promise.allSettled(FRAMEWORKS.map((fw) => startApp(fw, spec)));
  const failed = settled.find((s) => s.status === 'rejected');
  const apps = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed !== undefined) {
    await Promise.all(apps.map((app) => app.close()));
    throw failed.reason;
  }
  return Object.fromEntries(apps.map((app) => [app.framework, app])) as Record<Framework, RunningApp>;
}

/** Closes every app that started. */
export async function closeAll(apps: Partial<Record<Framework, RunningApp>> | undefined): Promise<void> {
  await Promise.all(Object.values(apps ?? {}).map((app) => app?.close()));
}
