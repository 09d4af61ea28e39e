// Issue 6: undici.request straight to an upstream vs @gatehousejs/client's request() through discovery,
// P2C, circuit breakers and the retry policy, to the same kind of upstream.

export const name = 'client-request';
export const target = 0.9;
export const description =
  'A front server relaying each request to an upstream in its process: with undici.request straight (baseline) vs client.request() through a registry resolver, P2C, endpoint breakers, retries with a budget and outlier ejection (candidate). The issue also asks p99 within +1 ms.';
export const baseline = '../servers/client-undici.mjs';
export const candidate = '../servers/client-gatehouse.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];

/** @param {{ body: string }} res */
export function check({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}
