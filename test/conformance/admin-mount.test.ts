// gw.admin() mounted on a framework router rather than on the app: express.Router() (at the root and
// at a sub-path) and @koa/router (without and with a prefix), on every framework. @koa/router runs a
// router's use() middleware only for paths one of its routes matches, so a router holding only
// gw.admin() used to answer 404 on Koa. Every answer must match the first framework's.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expressOf, FRAMEWORKS, type Framework, familyOf, gatewayOf, koaOf } from '../support/apps.js';
import { canonical, check, type Expectation } from '../support/conformance.js';
import { type RawRequest, type RawResponse, request } from '../support/raw-http.js';

interface Running {
  port: number;
  server: Server;
  gateway: FrameworkGateway<unknown>;
}

/** Registers endpoints as a capability would: one before the admin middleware is made, one after. */
function withEndpoints(gw: FrameworkGateway<unknown>): void {
  gw.core.addAdminEndpoint('/probe', () => ({ status: 200, body: { probe: true } }));
}

function build(framework: Framework): {
  gw: FrameworkGateway<unknown>;
  listener: Parameters<typeof createServer>[1];
} {
  const gw = gatewayOf(framework, { admin: { access: { peers: ['loopback'] } } });
  withEndpoints(gw);
  if (familyOf(framework) === 'express') {
    const express = expressOf(framework);
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const root = express.Router();
    root.use(gw.admin() as never);
    const ops = express.Router();
    ops.use(gw.admin({ prefix: '/ops' }) as never);
    app.use(root);
    app.use('/ops', ops);
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    gw.core.addAdminEndpoint('/late', () => ({ status: 200, body: { late: true } }));
    app.use(...(gw as unknown as { errors(): never[] }).errors());
    return { gw, listener: app };
  }
  const Koa = koaOf(framework);
  const app = new Koa();
  app.silent = true;
  app.use((gw as unknown as { errors(): never }).errors());
  // A router holding nothing but the admin middleware: the case that answered 404.
  const root = new Router();
  root.use(gw.admin() as never);
  const ops = new Router({ prefix: '/ops' });
  ops.use(gw.admin({ prefix: '/ops' }) as never);
  const routes = new Router();
  routes.get('/hello', (ctx) => {
    ctx.body = { hello: 'world' };
  });
  app.use(root.routes());
  app.use(ops.routes());
  app.use(routes.routes());
  gw.core.addAdminEndpoint('/late', () => ({ status: 200, body: { late: true } }));
  return { gw, listener: app.callback() };
}

async function start(framework: Framework): Promise<Running> {
  const { gw, listener } = build(framework);
  const server = createServer(listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw.start();
  return { port: (server.address() as AddressInfo).port, server, gateway: gw };
}

const cases: Array<{ name: string; request: RawRequest; expect: Expectation }> = [
  { name: 'GET /health', request: { path: '/health' }, expect: { status: 200, body: { status: 'ok' } } },
  { name: 'GET /ready', request: { path: '/ready' }, expect: { status: 200, body: { status: 'ready' } } },
  { name: 'HEAD /health', request: { method: 'HEAD', path: '/health' }, expect: { status: 200 } },
  {
    name: 'POST /health → 405',
    request: { method: 'POST', path: '/health', body: '' },
    expect: { status: 405, problem: 'GH_METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD' } },
  },
  {
    name: 'a registered endpoint',
    request: { path: '/probe' },
    expect: { status: 200, body: { probe: true } },
  },
  {
    name: 'an endpoint registered after mounting',
    request: { path: '/late' },
    expect: { status: 200, body: { late: true } },
  },
  {
    name: 'under a router with a prefix',
    request: { path: '/ops/health' },
    expect: { status: 200, body: { status: 'ok' } },
  },
  {
    name: 'a registered endpoint under the prefix',
    request: { path: '/ops/probe' },
    expect: { status: 200, body: { probe: true } },
  },
  {
    name: 'other paths pass through',
    request: { path: '/hello' },
    expect: { status: 200, body: { hello: 'world' } },
  },
  {
    name: 'unknown paths are 404',
    request: { path: '/nothing' },
    expect: { status: 404, problem: 'GH_NOT_FOUND' },
  },
];

describe('gw.admin() mounted on a router', () => {
  const apps = {} as Record<Framework, Running>;
  beforeAll(async () => {
    for (const framework of FRAMEWORKS) apps[framework] = await start(framework);
  });
  afterAll(async () => {
    await Promise.all(FRAMEWORKS.map((framework) => apps[framework]?.gateway.close({ deadlineMs: 1_000 })));
  });

  for (const each of cases) {
    test(each.name, async () => {
      const answers: Array<[Framework, RawResponse]> = [];
      for (const framework of FRAMEWORKS) {
        const res = await request(apps[framework].port, each.request);
        check(res, each.expect, framework);
        answers.push([framework, res]);
      }
      const [first, ...rest] = answers;
      for (const [framework, res] of rest) {
        expect(canonical(res), `${framework} answered differently from ${first![0]}`).toBe(
          canonical(first![1]),
        );
      }
    });
  }
});
