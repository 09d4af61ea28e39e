// Load generation (autocannon) and response checks.

import autocannon from 'autocannon';
import { LatencyHistogram } from './stats.mjs';

/**
 * @typedef {object} BenchRequest
 * @property {string} [method] default GET
 * @property {string} path
 * @property {Record<string, string>} [headers]
 * @property {string} [body]
 */

/**
 * @typedef {object} Sample one load run against one server
 * @property {number} rps responses per second, between the first and the last response
 * @property {number} p50 latency, ms
 * @property {number} p99 latency, ms
 * @property {number} requests
 * @property {number} non2xx
 * @property {number} errors connection errors + timeouts + resets + mismatches
 * @property {Record<string, number>} statusCounts
 */

/**
 * Sends each request once and checks the answer: a 2xx status (or `expectStatus`), then the bench's
 * own `check` if it has one. Throws with a readable message on the first failure.
 * @param {number} port
 * @param {BenchRequest[]} requests
 * @param {object} options
 * @param {'baseline' | 'candidate'} options.side
 * @param {number} [options.expectStatus]
 * @param {(res: { side: string, request: BenchRequest, status: number, headers: Headers, body: string }) => void} [options.check]
 */
export async function preflight(port, requests, { side, expectStatus, check }) {
  for (const request of requests) {
    const url = `http://127.0.0.1:${port}${request.path}`;
    const res = await fetch(url, {
      method: request.method ?? 'GET',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(5_000),
    });
    const body = await res.text();
    const what = `${side} ${request.method ?? 'GET'} ${request.path}${describeHeaders(request.headers)}`;
    const ok =
      expectStatus === undefined ? res.status >= 200 && res.status < 300 : res.status === expectStatus;
    if (!ok) {
      throw new Error(
        `${what}: status ${res.status}, expected ${expectStatus ?? '2xx'}\n  body: ${body.slice(0, 500)}`,
      );
    }
    if (check) {
      try {
        check({ side, request, status: res.status, headers: res.headers, body });
      } catch (err) {
        throw new Error(`${what}: check failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** @param {Record<string, string> | undefined} headers */
function describeHeaders(headers) {
  const names = Object.keys(headers ?? {});
  return names.length ? ` [${names.join(', ')}]` : '';
}

/**
 * Puts `connections` keep-alive connections of load on the server for `duration` seconds.
 * @param {number} port
 * @param {BenchRequest[]} requests cycled in order on every connection
 * @param {object} options
 * @param {number} options.duration seconds
 * @param {number} options.connections
 * @param {number} [options.expectStatus] a status other than 2xx that counts as success
 * @returns {Promise<Sample>}
 */
export async function load(port, requests, { duration, connections, expectStatus }) {
  const hist = new LatencyHistogram();
  let counted = 0;
  let first = 0;
  let last = 0;
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    duration,
    timeout: 10,
    requests: requests.map((r) => ({
      method: r.method ?? 'GET',
      path: r.path,
      headers: r.headers,
      body: r.body,
    })),
  });
  instance.on('response', (_client, _status, _bytes, responseTime) => {
    last = performance.now();
    if (counted === 0) first = last;
    hist.record(responseTime);
    counted++;
  });
  const result = await instance;
  // Rate between the first and the last response: excludes connection set-up and tear-down.
  const elapsed = (last - first) / 1000;

  /** @type {Record<string, number>} */
  const statusCounts = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = stats.count;
  const expected = expectStatus === undefined ? undefined : String(expectStatus);
  const unexpected =
    expected === undefined
      ? result.non2xx
      : Object.entries(statusCounts).reduce((n, [code, count]) => (code === expected ? n : n + count), 0);
  return {
    rps: counted > 1 && elapsed > 0 ? (counted - 1) / elapsed : 0,
    p50: hist.quantile(0.5),
    p99: hist.quantile(0.99),
    requests: counted,
    non2xx: unexpected,
    errors: result.errors + result.timeouts + result.resets + result.mismatches,
    statusCounts,
  };
}
