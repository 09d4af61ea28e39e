// The servers of the issue-7 benchmarks (proxying and the migration controller). Every server starts
// its upstream in its own process, so both sides of a benchmark pay for the upstream's work alike (the
// harness pins each server process to one CPU: an upstream in another process would share it anyway).
//
// Proxies (koa-proxy, express-proxy), all relaying GET /hello to the upstream:
// - 'undici':            node:http + undici's Pool.stream(), hop-by-hop headers stripped both ways;
// - 'koa-gatehouse':     Koa 3 + gw.errors() + gw.routes() with a remote route;
// - 'express-hpm':       Express 5 + http-proxy-middleware 3 (keep-alive http.Agent, changeOrigin);
// - 'express-gatehouse': Express 5 + gw.routes() with a remote route (+ gw.errors() last).
// The mesh client under a route is the gateway's default: static discovery from `services`, P2C,
// endpoint circuit breakers.
//
// Migration (shadow-overhead): Express 5 + gw.routes() in front of a local /hello handler, with the
// route in 'local' or 'shadow' mode (the latter sends a copy of each request to the upstream after the
// client has its answer, and compares the two answers).
import { once } from 'node:events';
import { createServer, Agent as HttpAgent } from 'node:http';
import { gateway as expressGateway } from '@gatehousejs/express';
import { gateway as koaGateway } from '@gatehousejs/koa';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import Koa from 'koa';
import { Pool } from 'undici';
import { reportListening } from './listening.mjs';
import { SERVED_BY } from './proxy-requests.mjs';

/** What the upstream and the local handlers answer: the same bytes and content type as Express's res.json. */
export const HELLO = JSON.stringify({ hello: 'world' });
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The upstream: node:http answering `GET /hello` with a small JSON body, 404 otherwise.
 * @returns {Promise<{ origin: string, hits: () => number }>}
 */
export async function startUpstream() {
  let hits = 0;
  const upstream = createServer((req, res) => {
    hits++;
    if (req.method !== 'GET' || req.url !== '/hello') {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': JSON_TYPE,
      'content-length': Buffer.byteLength(HELLO),
      [SERVED_BY]: 'upstream',
    });
    res.end(HELLO);
  });
  upstream.keepAliveTimeout = 30_000;
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (upstream.address());
  return { origin: `http://127.0.0.1:${port}`, hits: () => hits };
}

// Hop-by-hop fields (RFC 9110 §7.6.1 and the usual legacy ones), plus Host: the upstream gets its own.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * A copy of `headers` without hop-by-hop fields and without those the `Connection` header names.
 * @param {Record<string, string | string[] | undefined>} headers
 * @returns {Record<string, string | string[]>}
 */
function endToEnd(headers) {
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          (Array.isArray(connection) ? connection.join(',') : connection)
            .split(',')
            .map((token) => token.trim().toLowerCase()),
        );
  /** @type {Record<string, string | string[]>} */
  const out = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The baseline of koa-proxy: the smallest correct reverse proxy on node:http and undici. The request
 * (headers without hop-by-hop fields, plus X-Forwarded-For/-Proto/-Host; the body streamed when there
 * is one) goes to the upstream over a keep-alive Pool of at most 64 connections (the same limit as
 * Gatehouse's client); the status and the response headers without hop-by-hop fields come back, and
 * undici's `stream()` writes the body straight into the client's response (ending it, or destroying
 * it when either side breaks off). A failed upstream call before any answer is a 502.
 *
 * `stream()` rather than `request()` + `stream.pipeline()`, the baseline of the first issue-7 runs:
 * pipeline makes an AbortController per call and aborts it at the end, which builds a DOMException
 * with a stack trace (16 µs a request alone), and the extra Readable and writes cost more: profiled on
 * Node 20 that proxy took 172 µs of CPU a request, this one 95. It was not the floor it should be.
 * @param {string} origin
 * @returns {import('node:http').RequestListener}
 */
function undiciProxy(origin) {
  const pool = new Pool(origin, { connections: 64, keepAliveTimeout: 30_000 });
  /** @type {import('undici').Dispatcher.StreamFactory<import('node:http').ServerResponse>} */
  const factory = ({ statusCode, headers, opaque: res }) => {
    res.writeHead(statusCode, endToEnd(/** @type {Record<string, string | string[]>} */ (headers)));
    return res;
  };
  return (req, res) => {
    const headers = endToEnd(req.headers);
    const peer = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior === undefined ? peer : `${prior}, ${peer}`;
    headers['x-forwarded-proto'] = 'http';
    if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
    const body =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
        ? req
        : undefined;
    const method = /** @type {import('undici').Dispatcher.HttpMethod} */ (req.method);
    pool.stream({ method, path: req.url ?? '/', headers, body, opaque: res }, factory).catch(() => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'text/plain', 'content-length': 11 });
        res.end('Bad Gateway');
      }
    });
  };
}

const PROXIES = new Set(['undici', 'koa-gatehouse', 'express-hpm', 'express-gatehouse', 'express-undici']);

/**
 * Starts one proxy of the issue-7 benchmarks in front of an upstream in this process.
 * @param {'undici' | 'koa-gatehouse' | 'express-hpm' | 'express-gatehouse' | 'express-undici'} kind
 */
export async function startProxyBench(kind) {
  if (!PROXIES.has(kind)) throw new Error(`unknown proxy ${kind}`);
  const { origin } = await startUpstream();
  const table = [{ name: 'hello', path: '/hello', service: 'hello', mode: 'remote' }];
  const services = { hello: { url: origin } };

  if (kind === 'undici') {
    reportListening(createServer(undiciProxy(origin)).listen(0, '127.0.0.1'));
  } else if (kind === 'express-undici') {
    // The floor of express-proxy: Express routing in front of the raw proxy (no Gatehouse).
    const proxy = undiciProxy(origin);
    const app = express();
    app.use((req, res, next) => (req.path === '/hello' ? proxy(req, res) : next()));
    reportListening(app.listen(0, '127.0.0.1'));
  } else if (kind === 'koa-gatehouse') {
    const gw = koaGateway({ services });
    const app = new Koa();
    app.use(gw.errors());
    app.use(gw.routes({ table }));
    const server = app.listen(0, '127.0.0.1');
    gw.serve(server);
    reportListening(server);
  } else if (kind === 'express-hpm') {
    const app = express();
    app.use(
      createProxyMiddleware({
        target: origin,
        pathFilter: '/hello',
        changeOrigin: true,
        agent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
      }),
    );
    reportListening(app.listen(0, '127.0.0.1'));
  } else {
    const gw = expressGateway({ services });
    const app = express();
    app.use(gw.routes({ table }));
    app.use(gw.errors());
    const server = app.listen(0, '127.0.0.1');
    gw.serve(server);
    reportListening(server);
  }
}

/**
 * Starts the Express app of shadow-overhead: gw.routes() with the /hello route in `mode` in front of
 * the application's own /hello handler. The 'shadow' server checks before it reports its port that a
 * shadow copy reached the upstream and was compared (a candidate that shadows nothing would look
 * free), and both print what the route did to stderr when the harness stops them.
 * @param {'local' | 'shadow'} mode
 */
export async function startShadowBench(mode) {
  if (mode !== 'local' && mode !== 'shadow') throw new Error(`unknown mode ${mode}`);
  const upstream = await startUpstream();
  const gw = expressGateway({ services: { hello: { url: upstream.origin } } });
  const routes = gw.router({ table: [{ name: 'hello', path: '/hello', service: 'hello', mode }] });
  const app = express();
  app.use(gw.use(routes));
  app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
  app.use(gw.errors());
  const server = app.listen(0, '127.0.0.1');
  gw.serve(server);
  await once(server, 'listening');

  const report = () => {
    const [r] = routes.migration();
    return (
      `${mode}: ${r.local.total.requests} answered locally, ${upstream.hits()} requests reached the upstream, ` +
      `${r.diff.total.compared} compared (${r.diff.total.equal} equal, ${r.diff.total.different} different), ` +
      `${r.diff.noiseSamples} noise samples, skipped ${JSON.stringify(r.shadow.skipped.total)}`
    );
  };
  if (mode === 'shadow') {
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    const res = await fetch(`http://127.0.0.1:${port}/hello`);
    await res.text();
    const until = Date.now() + 5_000;
    while (routes.migration()[0].diff.total.compared < 1) {
      if (Date.now() > until)
        throw new Error(`shadow-overhead: no shadow comparison after one request (${report()})`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (routes.migration()[0].diff.total.equal < 1)
      throw new Error(`shadow-overhead: the answers differ (${report()})`);
  }
  process.once('SIGTERM', () => {
    process.stderr.write(`${report()}\n`);
    process.exit(0);
  });
  reportListening(server);
}
