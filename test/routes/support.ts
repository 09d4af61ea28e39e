// Helpers for the routes fault, hygiene and stream tests: the monolith of harness.ts with two more
// knobs (a body parser mounted before the routes, and a local handler that hashes a raw body as it
// streams in), raw-socket calls answered by both frameworks, and small waiting helpers.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '@gatehouse/core';
import { gateway as expressGateway } from '@gatehouse/express';
import type { FrameworkGateway } from '@gatehouse/gateway';
import { gateway as koaGateway } from '@gatehouse/koa';
import type { Routes, RoutesOptions } from '@gatehouse/routes';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import express from 'express';
import Koa from 'koa';
import { expect } from 'vitest';
import { expectSame } from '../support/conformance.js';
import { type RawRequest, type RawResponse, request as rawRequest, sendRaw } from '../support/raw-http.js';
import { FRAMEWORKS, type Framework } from './harness.js';

export { FRAMEWORKS, type Framework };

export interface AppSpec {
  config?: GatewayConfig;
  /** Gatehouse middleware mounted before the routes (auth, …). */
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

export interface App {
  framework: Framework;
  port: number;
  url: string;
  gateway: FrameworkGateway<unknown>;
  routes: Routes;
  /** Requests the application's own handlers answered. */
  local: Array<{ method: string; path: string; body: unknown }>;
  /** Bytes of the current `/hash/*` body read so far by the local handler. */
  progress: BodyProgress;
  reported: Array<{ error: unknown; phase: string }>;
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

const localAnswer = (req: IncomingMessage, body: unknown) => ({
  side: 'local',
  method: req.method,
  url: req.url,
  body: body ?? null,
});

/** The monolith on one framework, `gw.routes()` in front of its handlers, on a free loopback port. */
export async function startApp(framework: Framework, spec: AppSpec): Promise<App> {
  const reported: App['reported'] = [];
  const local: App['local'] = [];
  const progress: BodyProgress = { bytes: 0 };
  const onError = (error: unknown, { phase }: { phase: string }) => reported.push({ error, phase });
  let gw: FrameworkGateway<unknown>;
  let routes: Routes;
  let listener: (req: IncomingMessage, res: ServerResponse) => void;
  if (framework === 'express') {
    const g = expressGateway(spec.config ?? {}, { onError });
    gw = g as FrameworkGateway<unknown>;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    for (const mw of spec.before?.(g) ?? []) app.use(mw);
    const parsers = [express.json({ limit: '20mb' }), express.text({ type: 'text/*', limit: '20mb' })];
    if (spec.parserFirst) app.use(...parsers);
    routes = g.router(typeof spec.routes === 'function' ? spec.routes(gw) : spec.routes);
    app.use(g.use(routes));
    app.all('/hash/{*rest}', async (req, res) => {
      local.push({ method: req.method, path: req.path, body: null });
      res.json(await hashBody(req, progress));
    });
    if (!spec.parserFirst) app.use(...parsers);
    app.all('/{*rest}', (req, res) => {
      local.push({ method: req.method, path: req.path, body: req.body ?? null });
      res.json(localAnswer(req, req.body));
    });
    app.use(g.errors());
    listener = app;
  } else {
    const g = koaGateway(spec.config ?? {}, { onError });
    gw = g as FrameworkGateway<unknown>;
    const app = new Koa();
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
    router.all('/{*rest}', (ctx) => {
      const given = (ctx.request as { body?: unknown }).body;
      const body =
        given === undefined ||
        (typeof given === 'object' && given !== null && Object.keys(given).length === 0)
          ? null
          : given;
      local.push({ method: ctx.method, path: ctx.path, body });
      ctx.body = localAnswer(ctx.req, body);
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
    gateway: gw,
    routes,
    local,
    progress,
    reported,
    close: () => gw.close({ deadlineMs: 1_000 }),
  };
}

/** The same app on both frameworks. */
export async function startBoth(spec: AppSpec): Promise<Record<Framework, App>> {
  const [express, koa] = await Promise.all(FRAMEWORKS.map((fw) => startApp(fw, spec)));
  return { express: express!, koa: koa! };
}

export async function closeBoth(apps: Partial<Record<Framework, App>> | undefined): Promise<void> {
  if (apps === undefined) return;
  await Promise.all(FRAMEWORKS.map((fw) => apps[fw]?.close()));
}

/** The route's line of `routes.migration()`. */
export function report(app: App, name: string) {
  const found = app.routes.migration().find((r) => r.name === name);
  if (found === undefined) throw new Error(`no route '${name}' in migration()`);
  return found;
}

/**
 * Sends the same raw request to both apps, checks each answer is a problem+json with `status` and
 * `code`, and that Express and Koa answered byte-for-byte the same (generated ids masked).
 */
export async function expectProblemOnBoth(
  apps: Record<Framework, App>,
  req: RawRequest | Buffer,
  want: { status: number; code: string },
): Promise<Record<Framework, RawResponse>> {
  const answers = {} as Record<Framework, RawResponse>;
  for (const fw of FRAMEWORKS) {
    const port = apps[fw].port;
    const res = Buffer.isBuffer(req) ? await sendRaw(port, req) : await rawRequest(port, req);
    expectProblem(res, want, fw);
    answers[fw] = res;
  }
  expectSame(answers.express, answers.koa);
  return answers;
}

/** A problem+json answer with this status and stable code. */
export function expectProblem(res: RawResponse, want: { status: number; code: string }, label: string): void {
  const text = res.body.toString('utf8');
  expect(res.status, `${label}: status (body: ${text.slice(0, 300)})`).toBe(want.status);
  expect(res.headers['content-type']?.[0], `${label}: content type`).toBe('application/problem+json');
  const body = res.json as Record<string, unknown>;
  expect(body.code, `${label}: problem code`).toBe(want.code);
  expect(body.status, `${label}: problem status`).toBe(want.status);
}

/** A loopback port nothing listens on (bound, then released): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 10 ms until it holds; fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 3_000, what = 'a condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Settles with the promise, or rejects after `ms` saying what hung. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
