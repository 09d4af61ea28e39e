// Issue 18, the cache hit with Gatehouse's own base cost on both sides: cache-hit-proxy's candidate
// against the memory handler behind a Gatehouse middleware that does nothing (what express-noop
// measures), so the ratio is what the routes and the cache add to a request on a hit.

export const name = 'cache-hit-net';
export const target = 0.9;
export const description =
  "Express 5 answering GET /hello: a no-op Gatehouse middleware + a handler writing a buffer held in memory (baseline) vs cache-hit-proxy's candidate, gw.routes() with a cache: true route answered from the memory cache.";
export const baseline = '../servers/cache-net-floor.mjs';
export const candidate = '../servers/cache-hit-gatehouse.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const expectStatus = 200;

/** @param {{ body: string }} res */
export function check({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}
