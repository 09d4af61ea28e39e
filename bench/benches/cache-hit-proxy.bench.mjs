// Issue 18: a cache hit on a proxied route (gw.routes() with cache: true) vs a handler answering the
// same bytes and headers from memory.

export const name = 'cache-hit-proxy';
export const target = 0.9;
export const description =
  'Express 5 answering GET /hello: a handler writing from memory the same bytes a hit answers — the stored body and headers plus age and cache-status computed per request (baseline) — vs gw.routes() with a cache: true remote route whose answer (public, max-age=3600) is in the memory cache (candidate; it refuses to start unless its second answer is a hit).';
export const baseline = '../servers/cache-hit-floor.mjs';
export const candidate = '../servers/cache-hit-gatehouse.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const expectStatus = 200;

/** @param {{ body: string }} res */
export function check({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}
