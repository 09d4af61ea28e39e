// Builds the same application on Express and on Koa from one specification: the same gateway
// configuration, the same Gatehouse chain, and the same native test routes written once per framework.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exchangeOf, GatehouseError, type GatewayConfig } from '@gatehousejs/core';
import { gateway as expressGateway } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { gateway as koaGateway } from '@gatehousejs/koa';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import { testScope } from './probes.js';

export type Framework = 'express' | 'koa';
export const FRAMEWORKS: readonly Framework[] = ['express', 'koa'];

export interface AppSpec {
  config?: GatewayConfig;
  /** The Gatehouse chain, in order, from the framework's gateway object. */
  chain?: <M>(gw: FrameworkGateway<M>) => M[];
  /**
   * Route-level middleware: each entry mounts `/guarded/<name>` (every method) behind the given
   * native middleware, answering with the same view as `/view`.
   */
  guards?: <M>(gw: FrameworkGateway<M>) => Record<string, M[]>;
  /** Serve over TLS (node:https) with these options instead of plain HTTP. */
  tls?: import('node:https').ServerOptions;
}

export interface RunningApp {
  framework: Framework;
  port: number;
  server: Server;
  gateway: FrameworkGateway<unknown>;
  /** Errors the gateway reported (5xx, failing hooks). */
  reported: Array<{ error: unknown; phase: string }>;
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

function buildExpress(spec: AppSpec, reported: RunningApp['reported']) {
  const gw = expressGateway(spec.config ?? {}, {
    onError: (error, { phase }) => reported.push({ error, phase }),
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  for (const mw of spec.chain?.(gw) ?? []) app.use(mw);
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  app.get('/view{/*rest}', (req, res) => {
    res.json(view(req));
  });
  app.post('/view{/*rest}', (req, res) => {
    res.json(view(req));
  });
  for (const [name, guards] of Object.entries(spec.guards?.(gw) ?? {})) {
    app.all(`/guarded/${name}`, ...guards, (req, res) => {
      res.json(view(req));
    });
  }
  app.get('/slow', async (req, res) => {
    await sleep(slowMs(req.query));
    res.json({ slow: true });
  });
  app.get('/upstream/:service', async (req, res) => {
    const answer = await relay(gw, req.params.service, req.url);
    res.status(answer.status).json(answer.body);
  });
  app.get('/throw/plain', () => {
    throw plainError();
  });
  app.get('/throw/http', () => {
    throw httpError();
  });
  app.get('/throw/hidden', () => {
    throw hiddenHttpError();
  });
  app.get('/throw/gatehouse', async () => {
    throw teapot();
  });
  app.use(gw.errors());
  return { gw, listener: app };
}

function buildKoa(spec: AppSpec, reported: RunningApp['reported']) {
  const gw = koaGateway(spec.config ?? {}, {
    onError: (error, { phase }) => reported.push({ error, phase }),
  });
  const app = new Koa();
  app.silent = true;
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
  const { gw, listener } = framework === 'express' ? buildExpress(spec, reported) : buildKoa(spec, reported);
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
    close: async () => {
      await gw.close({ deadlineMs: 1_000 });
    },
  };
}
