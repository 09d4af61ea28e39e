// The requests and the check shared by the hello-world benchmarks of tracing and access logs: half the
// requests carry a traceparent, and both sides must serve the route.

export const helloRequests = [
  { method: 'GET', path: '/hello' },
  {
    method: 'GET',
    path: '/hello',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  },
];

/** @param {{ body: string }} res */
export function checkHello({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}
