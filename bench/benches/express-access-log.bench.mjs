// Issue 3: bare express vs express + gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).
export const name = 'express-access-log';
export const target = 0.9;
export const description =
  'Bare express hello-world vs the same app with gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-access-log.mjs';
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
