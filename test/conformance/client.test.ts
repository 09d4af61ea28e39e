// The mesh client inside a gateway, on Express and Koa: a handler calls gw.client(service); upstream
// answers are relayed, and every client failure becomes the same 502 / 503 / 504 problem+json on both
// frameworks, with nothing internal (ports, errno codes) in the body.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { conformance } from '../support/conformance.js';

const upstreams: Server[] = [];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  upstreams.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// Echoes what reached it: the deadline the gateway passed on, and the query.
const echo = await listen((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const ms = Number(url.searchParams.get('ms') ?? 0);
  setTimeout(() => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        path: url.pathname,
        query: url.searchParams.get('q'),
        deadlineSent: Number(req.headers['x-deadline-ms']) > 0,
        deadlineAtMost2s: Number(req.headers['x-deadline-ms']) <= 2_000,
      }),
    );
  }, ms);
});
// Resets every connection before answering.
const resetting = await listen((req) => {
  req.socket.destroy();
});
// Answers 503 with a JSON body every time.
const failing = await listen((_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ upstream: 'down' }));
});
// Answers 500 every time: one answer opens the circuit of a client with threshold 1.
const broken = await listen((_req, res) => {
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ upstream: 'broken' }));
});
// A port nobody listens on: bound, closed, so connections are refused.
const refused = await listen(() => {});
const refusedServer = upstreams.pop()!;
await new Promise((done) => refusedServer.close(done));

beforeAll(() => {});
afterAll(async () => {
  for (const server of upstreams) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

conformance({
  name: 'client: gw.client() in a handler, failures as problem+json',
  app: {
    config: {
      services: {
        echo: { url: echo },
        reset: { url: resetting },
        failing: { url: failing },
        refused: { endpoints: [refused] },
        broken: { url: broken },
      },
    },
    chain: (gw) => {
      // Made first, so the handler's gw.client('broken') gets this one: a circuit that opens at once.
      gw.client('broken', {
        breaker: { endpoint: { threshold: 1, halfOpenAfterMs: 60_000 } },
        outlier: false,
      });
      return [gw.deadline()];
    },
  },
  scenarios: [
    {
      name: 'the upstream answer is relayed; the callee gets the remaining deadline',
      request: { path: '/upstream/echo?q=hi', headers: { 'x-deadline-ms': '2000' } },
      expect: {
        status: 200,
        body: { path: '/echo', query: 'hi', deadlineSent: true, deadlineAtMost2s: true },
      },
    },
    {
      name: 'connections refused on every endpoint → 503 GH_UPSTREAM_UNAVAILABLE, no errno or port leaked',
      request: { path: '/upstream/refused' },
      expect: {
        status: 503,
        problem: 'GH_UPSTREAM_UNAVAILABLE',
        absent: ['ECONNREFUSED', refused.split(':').at(-1)!],
      },
    },
    {
      name: 'a reset before any answer (retried, then given up) → 502 GH_UPSTREAM_BAD_RESPONSE',
      request: { path: '/upstream/reset' },
      expect: { status: 502, problem: 'GH_UPSTREAM_BAD_RESPONSE', absent: ['ECONNRESET', 'socket'] },
    },
    {
      name: 'an upstream 503 after retries is relayed as the upstream said it',
      request: { path: '/upstream/failing' },
      expect: { status: 503, body: { upstream: 'down' } },
    },
    {
      name: "the caller's deadline is honoured: a slow upstream → 504 GH_UPSTREAM_TIMEOUT",
      request: { path: '/upstream/echo?ms=2000', headers: { 'x-deadline-ms': '150' } },
      expect: { status: 504, problem: 'GH_UPSTREAM_TIMEOUT' },
    },
    {
      name: 'a malformed deadline header is ignored',
      request: { path: '/upstream/echo?q=x', headers: { 'x-deadline-ms': '-5' } },
      expect: {
        status: 200,
        body: { path: '/echo', query: 'x', deadlineSent: true, deadlineAtMost2s: false },
      },
    },
    {
      name: "a service whose endpoint's circuit is open → 503 GH_CIRCUIT_OPEN, nothing internal shown",
      // The first call's 500 is relayed and opens the circuit (threshold 1).
      before: [
        { request: { path: '/upstream/broken' }, expect: { status: 500, body: { upstream: 'broken' } } },
      ],
      request: { path: '/upstream/broken' },
      expect: { status: 503, problem: 'GH_CIRCUIT_OPEN', absent: [broken.split(':').at(-1)!] },
    },
    {
      name: 'a service the configuration does not name → 500 GH_INTERNAL, nothing shown',
      request: { path: '/upstream/nowhere' },
      expect: { status: 500, problem: 'GH_INTERNAL', absent: ['nowhere', 'services'] },
    },
  ],
});
