// The rate-limit benchmarks' response check: admitted, with the IETF RateLimit fields.

/** @param {{ side: string, body: string, headers: Headers }} res */
export function checkHelloLimited({ side, body, headers }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
  if (
    side === 'candidate' &&
    (headers.get('ratelimit-policy') === null || headers.get('ratelimit') === null)
  ) {
    throw new Error('RateLimit and RateLimit-Policy headers missing');
  }
}
