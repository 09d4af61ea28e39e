// What Gatehouse's smallest useful stack costs a Koa app: the problem+json error middleware plus
// request ids, on a JSON hello-world route. Half the requests carry an incoming x-request-id.

export const name = 'koa-request-id';
export const target = 0.97;
export const description =
  'Koa 3 hello-world vs the same app with gw.errors() + gw.requestId() + gw.serve(); half the requests carry x-request-id.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-gatehouse.mjs';
export const requests = [
  { method: 'GET', path: '/hello' },
  { method: 'GET', path: '/hello', headers: { 'x-request-id': 'bench-0123456789abcdef' } },
];

/**
 * Makes sure the candidate really runs the middleware (a response without a request id would mean we
 * are measuring a no-op) and both sides serve the route.
 * @param {{ side: string, status: number, headers: Headers, body: string }} res
 */
export function check({ side, headers, body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
  if (side === 'candidate' && !headers.get('x-request-id'))
    throw new Error('no x-request-id response header');
}
