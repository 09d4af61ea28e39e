// The request and the checks shared by the issue-7 benchmarks (loaded by the harness, so it imports
// none of the servers' dependencies).

/** Set by the upstream only: the proxy benchmarks check that the answer really came through the hop. */
export const SERVED_BY = 'x-served-by';

export const proxyRequests = [{ method: 'GET', path: '/hello' }];

/** @param {{ body: string }} res */
function checkBody({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}

/**
 * Both proxies must relay the upstream's answer: a side that answered by itself would look cheap.
 * @param {{ body: string, headers: Headers }} res
 */
export function checkProxied(res) {
  checkBody(res);
  if (res.headers.get(SERVED_BY) !== 'upstream') throw new Error(`no ${SERVED_BY}: upstream header`);
}

/**
 * In local and shadow mode the application answers, never the upstream.
 * @param {{ body: string, headers: Headers }} res
 */
export function checkLocal(res) {
  checkBody(res);
  if (res.headers.has(SERVED_BY)) throw new Error('the upstream answered, not the application');
}
