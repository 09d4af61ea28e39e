// The servers of the issue-18 benchmarks (composition and the response cache). Each starts its
// upstream in its own process, so both sides pay for it alike (the harness pins a server process to
// one CPU: an upstream in another process would share it anyway).
//
// Composition (aggregate-fanout): GET /screen answered from three upstream calls of 20 ms each, made in
// parallel and combined into one JSON object:
// - 'fanout-floor':     Express 5 + a hand-written Promise.all over undici Pool.request (the floor);
// - 'fanout-gatehouse': Express 5 + gw.aggregate() with three calls (coalescing off: every request
//                       makes its three calls, as the floor does).
// Cache (cache-hit-proxy): GET /hello answered with the same bytes — status line, headers and body:
// - 'cache-floor':      Express 5 + a handler answering from memory what a cache hit answers: the
//                       stored body and headers (the origin's `date` among them) plus the `age` and
//                       `cache-status` a hit must carry (RFC 9111 §5.1, RFC 9211), computed per request;
// - 'cache-body-floor': the same handler without `date`, `age` and `cache-status` (Node adds its own
//                       `Date`): 48 bytes fewer than a hit, and two header fields fewer for Node to
//                       validate (the floor of the 2026-12-04 rows);
// - 'cache-gatehouse':  Express 5 + gw.routes() with a `cache: true` remote route whose upstream
//                       answered once with `max-age=3600` (every measured request is a cache hit);
// - 'cache-net-floor':  Express 5 + a Gatehouse middleware that does nothing + the handler of
//                       'cache-floor': the adapter and the exchange paid, nothing else (cache-hit-net).
import { once } from 'node:events';
import { createServer } from 'node:http';
import { gateway as expressGateway } from '@gatehousejs/express';
import express from 'express';
import { Pool } from 'undici';
import { reportListening } from './listening.mjs';

export const HELLO = JSON.stringify({ hello: 'world' });
const JSON_TYPE = 'application/json; charset=utf-8';
const PARTS = ['a', 'b', 'c'];

/** The upstream: /part/{a,b,c} after 20 ms, /hello at once and cacheable for an hour. */
async function startUpstream() {
  let hits = 0;
  const upstream = createServer((req, res) => {
    hits++;
    if (req.url === '/hello') {
      res.writeHead(200, {
        'content-type': JSON_TYPE,
        'content-length': Buffer.byteLength(HELLO),
        'cache-control': 'public, max-age=3600',
      });
      res.end(HELLO);
      return;
    }
    const part = req.url?.startsWith('/part/') ? req.url.slice(6) : undefined;
    if (part === undefined || !PARTS.includes(part)) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    setTimeout(() => {
      const body = JSON.stringify({ part, value: 42 });
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, 20);
  });
  upstream.keepAliveTimeout = 30_000;
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (upstream.address());
  return { origin: `http://127.0.0.1:${port}`, hits: () => hits };
}

const KINDS = new Set([
  'fanout-floor',
  'fanout-gatehouse',
  'cache-floor',
  'cache-body-floor',
  'cache-gatehouse',
  'cache-net-floor',
]);

/**
 * Starts one server of the issue-18 benchmarks.
 * @param {'fanout-floor' | 'fanout-gatehouse' | 'cache-floor' | 'cache-body-floor' | 'cache-gatehouse' | 'cache-net-floor'} kind
 */
export async function startAggregateBench(kind) {
  if (!KINDS.has(kind)) throw new Error(`unknown server ${kind}`);
  const { origin, hits } = await startUpstream();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (kind === 'fanout-floor') {
    // What a BFF writes by hand: three calls at once, each body parsed, one object back.
    const pool = new Pool(origin, { connections: 64, keepAliveTimeout: 30_000 });
    const call = async (part) => {
      const res = await pool.request({ method: 'GET', path: `/part/${part}` });
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      return res.body.json();
    };
    app.get('/screen', async (_req, res) => {
      try {
        const [a, b, c] = await Promise.all(PARTS.map(call));
        res.json({ a, b, c });
      } catch {
        res.status(502).json({ error: 'bad gateway' });
      }
    });
    reportListening(app.listen(0, '127.0.0.1'));
    return;
  }
  if (kind === 'fanout-gatehouse') {
    const gw = expressGateway({ services: { parts: { url: origin } } });
    app.use(
      gw.aggregate({
        path: '/screen',
        coalesce: false,
        calls: Object.fromEntries(PARTS.map((part) => [part, { service: 'parts', path: `/part/${part}` }])),
      }),
    );
    app.use(gw.errors());
    const server = app.listen(0, '127.0.0.1');
    gw.serve(server);
    reportListening(server);
    return;
  }
  if (kind === 'cache-body-floor') {
    const body = Buffer.from(HELLO);
    app.get('/hello', (_req, res) => {
      res.writeHead(200, {
        'content-type': JSON_TYPE,
        'content-length': body.length,
        'cache-control': 'public, max-age=3600',
      });
      res.end(body);
    });
    reportListening(app.listen(0, '127.0.0.1'));
    return;
  }
  if (kind === 'cache-floor' || kind === 'cache-net-floor') {
    if (kind === 'cache-net-floor') {
      const gw = expressGateway({});
      app.use(gw.use({ name: 'noop' }));
    }
    // What a hand-written memory cache holds for /hello: the origin's body and headers, and when it
    // stored them. Each answer carries the stored headers, the entry's age and a Cache-Status.
    const body = Buffer.from(HELLO);
    const stored = Date.now();
    const date = new Date(stored).toUTCString();
    app.get('/hello', (_req, res) => {
      const age = Math.floor((Date.now() - stored) / 1000);
      res.writeHead(200, {
        'content-type': JSON_TYPE,
        'content-length': body.length,
        'cache-control': 'public, max-age=3600',
        date,
        age: String(age),
        'cache-status': `gatehouse; hit; ttl=${3600 - age}`,
      });
      res.end(body);
    });
    reportListening(app.listen(0, '127.0.0.1'));
    return;
  }
  const gw = expressGateway({ services: { hello: { url: origin } } });
  app.use(
    gw.routes({ table: [{ name: 'hello', path: '/hello', service: 'hello', mode: 'remote', cache: true }] }),
  );
  app.use(gw.errors());
  const server = app.listen(0, '127.0.0.1');
  gw.serve(server);
  await once(server, 'listening');
  // Fill the cache, and refuse to start unless the next answer is a hit (a candidate that proxies
  // every request would be measuring something else).
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const { request } = await import('undici');
  for (let i = 0; i < 2; i++) {
    const res = await request(`http://127.0.0.1:${port}/hello`);
    await res.body.text();
    if (i === 1 && !String(res.headers['cache-status']).includes('hit'))
      throw new Error(`the cache did not answer: ${String(res.headers['cache-status'])}`);
  }
  process.once('disconnect', () => console.error(`cache-gatehouse: the upstream answered ${hits()} times`));
  reportListening(server);
}
