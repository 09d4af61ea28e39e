// Issue 18: a composition of three parallel upstream calls of 20 ms each, through gw.aggregate(), vs the
// hand-written Promise.all over undici that a BFF would otherwise write (the floor). The bars:
// throughput within 10 % of the floor, and p50 at most the slowest call + 1 ms.

export const name = 'aggregate-fanout';
export const target = 0.9;
export const description =
  'Express 5 answering GET /screen from three parallel upstream calls of 20 ms (one upstream in each process): a hand-written Promise.all over undici Pool.request (baseline, the floor) vs gw.aggregate() with three calls, coalescing off (candidate). Also read p50: the bar is 21 ms.';
export const baseline = '../servers/aggregate-fanout-floor.mjs';
export const candidate = '../servers/aggregate-fanout-gatehouse.mjs';
export const requests = [{ method: 'GET', path: '/screen' }];
export const expectStatus = 200;

/** Both must have combined all three answers. @param {{ body: string }} res */
export function check({ body }) {
  const screen = JSON.parse(body);
  for (const part of ['a', 'b', 'c']) {
    if (screen[part]?.part !== part) throw new Error(`missing part ${part}: ${body}`);
  }
}
