// Issue 3: bare koa vs koa + gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).
export const name = 'koa-access-log';
export const target = 0.9;
export const description =
  'Bare koa hello-world vs the same app with gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-access-log.mjs';
export const requests = [
  { method: 'GET', path: '/hello' },
  {
    method: 'GET',
    path: '/hello',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  },
];

/** Both sides must serve the route. */
export function check({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}
