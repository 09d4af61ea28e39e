// Issue 3: bare koa vs koa + gw.tracing() with the SDK registered: async-hooks context, W3C propagation, a batch span processor whose exporter discards.
export const name = 'koa-tracing-sdk';
export const target = 0.75;
export const description =
  'Bare koa hello-world vs the same app with gw.tracing() with the SDK registered: async-hooks context, W3C propagation, a batch span processor whose exporter discards.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-tracing-sdk.mjs';
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
