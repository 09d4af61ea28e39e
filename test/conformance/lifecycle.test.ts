// Lifecycle on every framework: readiness, graceful drain with a deadline, onFinish outcomes, client
// aborts, and configuration errors at start-up.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, type Middleware, type Outcome } from '@gatehousejs/core';
import { gateway as expressGateway, toExpress } from '@gatehousejs/express';
import { gateway as koaGateway, toKoa } from '@gatehousejs/koa';
import type { RequestHandler } from 'express';
import type { Middleware as KoaMiddleware } from 'koa';
import { describe, expect, test } from 'vitest';
import { expressOf, FRAMEWORKS, isExpress, koaOf, startApp } from '../support/apps.js';
import { request, sendRaw } from '../support/raw-http.js';

const portOf = (server: Server) => (server.address() as AddressInfo).port;

describe.each(FRAMEWORKS)('%s lifecycle', (framework) => {
  test('/ready is 503 until the gateway starts, then 200', async () => {
    const gw = isExpress(framework) ? expressGateway({}) : koaGateway({});
    let server: Server;
    if (isExpress(framework)) {
      const app = expressOf(framework)();
      app.use(gw.admin() as RequestHandler);
      server = createServer(app);
    } else {
      const app = new (koaOf(framework))();
      app.use(gw.admin() as KoaMiddleware);
      server = createServer(app.callback());
    }
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const before = await request(portOf(server), { path: '/ready' });
      expect(before.status).toBe(503);
      expect(before.json).toMatchObject({ code: 'GH_NOT_READY', detail: 'The gateway is created' });
      expect(before.headers['retry-after']).toEqual(['1']);
      expect((await request(portOf(server), { path: '/health' })).status).toBe(200);
      await gw.start();
      expect((await request(portOf(server), { path: '/ready' })).status).toBe(200);
    } finally {
      server.close();
    }
  });

  test('close() lets an in-flight request finish, refuses new connections, then closes', async () => {
    const app = await startApp(framework, { chain: (gw) => [gw.requestId(), gw.admin()] });
    const inflight = request(app.port, { path: '/slow?ms=400', headers: { connection: 'keep-alive' } });
    await sleep(100);
    const closing = app.gateway.close({ deadlineMs: 5_000 });
    expect(app.gateway.state).toBe('draining');
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(app.port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ slow: true });
    await closing;
    expect(app.gateway.state).toBe('closed');
  });

  test('with a readiness grace, /ready turns 503 while new connections are still accepted', async () => {
    const app = await startApp(framework, { chain: (gw) => [gw.requestId(), gw.admin()] });
    expect((await request(app.port, { path: '/ready' })).status).toBe(200);
    const closing = app.gateway.close({ deadlineMs: 1_000, readinessGraceMs: 400 });
    const during = await request(app.port, { path: '/ready' });
    expect(during.status).toBe(503);
    expect(during.json).toMatchObject({ code: 'GH_NOT_READY', detail: 'The gateway is draining' });
    expect(during.headers.connection).toEqual(['close']);
    expect((await request(app.port, { path: '/hello' })).status).toBe(200);
    await closing;
    await expect(request(app.port, { path: '/ready' })).rejects.toThrow(/ECONNREFUSED/);
  });

  test('close() cuts requests still running at the deadline, without a half-written success', async () => {
    const app = await startApp(framework, { chain: (gw) => [gw.requestId()] });
    const started = Date.now();
    const inflight = request(app.port, { path: '/slow?ms=5000' }).then(
      (res) => res,
      (error: Error) => error,
    );
    await sleep(100);
    await app.gateway.close({ deadlineMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_000);
    const res = await inflight;
    if (!(res instanceof Error)) expect(res.empty, `got status ${res.status}`).toBe(true);
  });
});

describe.each(FRAMEWORKS)('%s phases outside the conformance table', (framework) => {
  async function withMiddleware(mw: Middleware, run: (port: number) => Promise<void>) {
    let server: Server;
    if (isExpress(framework)) {
      const app = expressOf(framework)();
      app.use(toExpress(mw));
      app.get('/slow', async (_req, res) => {
        await sleep(300);
        res.end('late');
      });
      app.get('/ok', (_req, res) => {
        res.end('ok');
      });
      server = createServer(app);
    } else {
      const app = new (koaOf(framework))();
      app.use(toKoa(mw));
      app.use(async (ctx) => {
        if (ctx.path === '/slow') await sleep(300);
        ctx.body = ctx.path === '/slow' ? 'late' : 'ok';
      });
      server = createServer(app.callback());
    }
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await run(portOf(server));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  test('onFinish sees the outcome of a completed response', async () => {
    const outcomes: Outcome[] = [];
    await withMiddleware(
      { name: 'finish', onFinish: (_ex, outcome) => outcomes.push(outcome) },
      async (port) => {
        const res = await request(port, { path: '/ok' });
        expect(res.status).toBe(200);
        await sleep(20);
      },
    );
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 200, completed: true });
    expect(outcomes[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('a client that goes away aborts the exchange signal and onFinish reports it incomplete', async () => {
    const outcomes: Outcome[] = [];
    let aborted = false;
    const mw: Middleware = {
      name: 'abort-watch',
      onRequest(ex) {
        ex.signal.addEventListener('abort', () => {
          aborted = true;
        });
        return undefined;
      },
      onFinish: (_ex, outcome) => outcomes.push(outcome),
    };
    await withMiddleware(mw, async (port) => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
      await sleep(50);
      socket.destroy();
      await sleep(400);
    });
    expect(aborted).toBe(true);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.completed).toBe(false);
  });

  test('toExpress/toKoa without a gateway use the defaults and still refuse bad paths', async () => {
    await withMiddleware({ name: 'noop' }, async (port) => {
      const res = await sendRaw(
        port,
        Buffer.from('GET /a%2fb HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
      );
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: 'GH_PATH_ENCODED_SLASH' });
    });
  });
});

describe.each(FRAMEWORKS)('%s start-up configuration errors', (framework) => {
  const make = isExpress(framework) ? expressGateway : koaGateway;

  test('an invalid configuration fails at construction with every problem listed', () => {
    const config = {
      services: { orders: { url: 'http://127.0.0.1:4001' } },
      routes: [{ path: '/orders/*', to: 'ordrs' }],
      paths: { trailingSlsh: 'strip' },
      shutdown: { drainTimeoutMs: '5s' },
    };
    let error: unknown;
    try {
      make(config as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.path);
    expect(problems).toEqual(
      expect.arrayContaining(['routes[0].to', 'paths.trailingSlsh', 'shutdown.drainTimeoutMs']),
    );
    const message = (error as Error).message;
    expect(message).toContain("did you mean 'orders'");
    expect(message).toContain("did you mean 'trailingSlash'");
    expect(message).toMatch(/3 problems/);
  });
});
