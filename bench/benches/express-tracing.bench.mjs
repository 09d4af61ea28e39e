// Issue 3: bare express vs express + gw.tracing() with no OpenTelemetry SDK registered (a no-op, as OTel intends).
export const name = 'express-tracing';
export const target = 0.97;
export const description =
  'Bare express hello-world vs the same app with gw.tracing() with no OpenTelemetry SDK registered (a no-op, as OTel intends).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-tracing.mjs';
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
