// The upstream services behind the aggregation and caching tests: one real HTTP server whose paths
// play orders, customers, items and recommendations, plus every fault the issue names (a hang,
// invalid JSON, a body over the cap, a 500, a reset mid-body) and cacheable resources. Counts what
// reached it.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AggregateUpstream {
  readonly url: string;
  /** Requests received by path with query. */
  readonly hits: Map<string, number>;
  readonly seen: Array<{ url: string; headers: IncomingMessage['headers'] }>;
  /** `/hang` requests whose connection the caller closed (a cancelled call). */
  hangsClosed(): number;
  /** Holds every answer to `path` (with query) until the returned function is called. */
  hold(path: string): () => void;
  close(): Promise<void>;
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

// Answers are written with `return send(…)`: each branch ends with its answer.
function orders(id: string, res: ServerResponse) {
  if (id === 'missing') return send(res, 404, { error: 'no such order' });
  if (id === 'locked') return send(res, 401, { error: 'who are you' }, { 'www-authenticate': 'Bearer' });
  if (id === 'forbidden') return send(res, 403, { error: 'not yours' });
  if (id === 'boom') return send(res, 500, { error: 'database on fire' });
  const customerId = id === 'dotdot' ? '..' : id === 'slash' ? 'a/b?admin=1' : `c-${id}`;
  send(res, 200, {
    id,
    customerId,
    lines: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }],
    internal: 'not for the screen',
    ...(id === 'gift' ? { giftNote: 'Happy birthday' } : {}),
  });
}

let closedHangs = 0;
/** Paths whose answers wait for a release (so that concurrent askers surely overlap). */
const held = new Map<string, Promise<void>>();

function handle(req: IncomingMessage, res: ServerResponse, url: URL) {
  const parts = url.pathname.split('/').slice(1);
  const [head, second] = parts;
  switch (head) {
    case 'orders':
      return orders(decodeURIComponent(second ?? ''), res);
    case 'customers':
      return send(res, 200, { id: decodeURIComponent(second ?? ''), name: 'Ada', tier: 'gold' });
    case 'items':
      if (second !== undefined)
        return send(res, 200, { sku: decodeURIComponent(second), price: 10, stock: 3 });
      return send(
        res,
        200,
        (url.searchParams.get('ids') ?? '').split(',').map((sku) => ({ sku, price: 10 })),
      );
    case 'recs':
      return send(res, 200, [{ sku: 'z', for: url.searchParams.get('user') }]);
    case 'slow':
      setTimeout(() => send(res, 200, { slow: true }), Number(url.searchParams.get('ms') ?? 50));
      return;
    case 'hang':
      req.on('close', () => {
        closedHangs++;
      });
      return; // never answers
    case 'bad-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"not": json');
      return;
    case 'big':
      return send(res, 200, { blob: 'x'.repeat(64 * 1024) });
    case 'fail':
      return send(res, 500, { error: 'internal' });
    case 'reset':
      // Headers and part of the body, then the connection is cut.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial": "');
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    case 'echo':
      return send(res, 200, { url: req.url, headers: { 'x-tenant': req.headers['x-tenant'] ?? null } });
    case 'cached': {
      // Cacheable resources: the body names the request's details so a wrongly shared one shows.
      const cc = second === 'private' ? 'private, max-age=60' : 'max-age=60';
      const headers: Record<string, string> = { 'cache-control': cc };
      if (second === 'lang') headers.vary = 'accept-language';
      if (second === 'etag') headers.etag = '"e1"';
      if (second === 'by-host') headers.vary = 'x-forwarded-host';
      if (second === 'short') {
        // Fresh for a second, then revalidated with its ETag (slowly, so concurrent askers overlap).
        headers['cache-control'] = 'max-age=1';
        headers.etag = '"s1"';
        const status = req.headers['if-none-match'] === '"s1"' ? 304 : 200;
        setTimeout(() => {
          if (status === 304) {
            res.writeHead(304, headers);
            res.end();
          } else send(res, 200, { resource: 'short' }, headers);
        }, 30);
        return;
      }
      return send(
        res,
        200,
        {
          resource: second,
          host: req.headers['x-forwarded-host'] ?? null,
          lang: second === 'lang' ? (req.headers['accept-language'] ?? null) : undefined,
        },
        headers,
      );
    }
    default:
      return send(res, 404, { error: 'unknown' });
  }
}

/** Starts the upstream on a free loopback port. */
export async function startAggregateUpstream(): Promise<AggregateUpstream> {
  const hits = new Map<string, number>();
  const seen: AggregateUpstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    hits.set(req.url ?? '/', (hits.get(req.url ?? '/') ?? 0) + 1);
    seen.push({ url: req.url ?? '/', headers: req.headers });
    const gate = held.get(req.url ?? '/');
    if (gate === undefined) handle(req, res, new URL(req.url ?? '/', 'http://upstream'));
    else void gate.then(() => handle(req, res, new URL(req.url ?? '/', 'http://upstream')));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    seen,
    hangsClosed: () => closedHangs,
    hold(path) {
      let release!: () => void;
      held.set(
        path,
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      );
      return () => {
        held.delete(path);
        release();
      };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
