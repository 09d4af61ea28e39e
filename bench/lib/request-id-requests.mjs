// Requests and check shared by the request-id benchmarks: half the requests carry an incoming
// x-request-id, and a candidate whose responses lack the header would be measuring a no-op.

export const requestIdRequests = [
  { method: 'GET', path: '/hello' },
  { method: 'GET', path: '/hello', headers: { 'x-request-id': 'bench-0123456789abcdef' } },
];

/** @param {{ side: string, headers: Headers, body: string }} res */
export function checkRequestId({ side, headers, body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
  if (side === 'candidate' && !headers.get('x-request-id'))
    throw new Error('no x-request-id response header');
}
