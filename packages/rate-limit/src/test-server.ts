// Test support (not built into dist): a real HTTP server running one Gatehouse middleware through
// core's neutral runner, so unit tests see status, headers and problem bodies as a client would,
// without depending on a framework (the conformance suite covers Express and Koa).
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Exchange, enter, Gateway, type GatewayConfig, HANDLED, type Middleware } from '@gatehousejs/core';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> | undefined;
}

export interface TestServer {
  readonly port: number;
  readonly gateway: Gateway;
  /** Errors the gateway reported (store failures, throwing hooks). */
  readonly reported: Array<{ error: unknown; phase: string }>;
  /** GET `path` (default '/') with headers; `?ms=N` makes the handler take N ms. */
  get(path?: string, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * Starts a server on a free loopback port that runs `mw`, then answers 200 `ok` (after `?ms=` ms).
 * `principal` on a request comes from the `x-test-principal` header (`id` or `id:tier`), standing in
 * for auth() so keys and tiers can be exercised.
 */
export async function startTestServer(mw: Middleware, config: GatewayConfig = {}): Promise<TestServer> {
  const reported: TestServer['reported'] = [];
  const gateway = new Gateway(config, {
    onError: (error, info) => reported.push({ error, phase: info.phase }),
  });
  const server: Server = createServer((req, res) => {
    const exchange = new Exchange(req, res, gateway);
    const who = req.headers['x-test-principal'];
    if (typeof who === 'string') {
      const [id, tier] = who.split(':');
      (exchange.state as { principal?: unknown }).principal = {
        id,
        tier,
        method: 'test',
        scopes: [],
        roles: [],
      };
    }
    const finish = (step: Awaited<ReturnType<typeof enter>>) => {
      if (step === HANDLED) return;
      if (step !== undefined) {
        res.writeHead(step.status, step.headers);
        res.end(step.body);
        return;
      }
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      setTimeout(() => {
        if (!res.destroyed) res.end('ok');
      }, ms);
    };
    const step = enter(exchange, mw);
    if (step instanceof Promise) void step.then(finish);
    else finish(step);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    gateway,
    reported,
    get: (path = '/', headers = {}) =>
      new Promise<Answer>((done, fail) => {
        const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            let json: Record<string, unknown> | undefined;
            try {
              json = JSON.parse(body) as Record<string, unknown>;
            } catch {
              json = undefined;
            }
            done({ status: res.statusCode ?? 0, headers: res.headers, body, json });
          });
        });
        req.on('error', fail);
        req.end();
      }),
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
