// A mesh client whose GETs go through the response cache: the same Client interface, so a direct
// call (`gw.client('orders', { cache: true })`) and a proxied route use it unchanged. A cached or
// coalesced answer is a buffered body; one over the cap streams through, uncached.
import type { CallOptions, CallResponse, Client } from '@gatehousejs/client';
import { BodyOverCap, bufferedBody, readOrOverflow } from './body.js';
import { type CacheAnswer, type HttpCache, scopeOf } from './cache.js';
import { definedHeaders } from './compose.js';

/** Stands for "no endpoint": the answer came from the cache. */
const CACHE_ENDPOINT = Object.freeze({
  id: 'cache',
  protocol: 'http:',
  host: 'cache',
  port: 0,
  weight: 1,
}) as unknown as CallResponse['endpoint'];

/** The bytes of a body that came whole from the cache or a shared call, for writers that can skip streaming. */
export const CACHED_BYTES = Symbol.for('gatehouse.cachedBytes');

/**
 * True on a {@link cachedResponse} whose headers already pass the gateway's response hygiene as they
 * are (`CacheAnswer.clean`): a route writing it need not filter them again.
 */
export const CLEAN_HEADERS = Symbol.for('gatehouse.cleanHeaders');

function principalId(call: CallOptions): string | undefined {
  const principal = (call.exchange?.stateIfSet as { principal?: { id?: unknown } } | undefined)?.principal;
  return typeof principal?.id === 'string' ? principal.id : undefined;
}

function lowerHeaders(headers: CallOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name]!;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * A cache's answer as a client's: a buffered body (its bytes also under {@link CACHED_BYTES}, on the
 * response and on the body), the answer's headers (its own object) with `Cache-Status`, no endpoint.
 * The body stream is made when `body` is first read: a proxied route's early cache hit writes the
 * bytes and never reads it, and a Readable per hit was a measurable part of the hit's cost
 * (bench/RESULTS.md, cache-hit-proxy). `body` is an accessor of the class, so a spread copy of the
 * response has none; the caching client's own callers get {@link bufferedResponse}, a plain object.
 */
export function cachedResponse(answer: CacheAnswer): CallResponse {
  return new CachedResponse(answer);
}

// A class rather than an object literal with a getter: the literal cost ~0.45 µs per answer on Node
// 24 (its accessor is defined at run time), the class ~0.03 µs (microbenchmark, 2026-12-04).
class CachedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly endpoint = CACHE_ENDPOINT;
  readonly attempts: number;
  readonly [CACHED_BYTES]: Buffer;
  readonly [CLEAN_HEADERS]: boolean;
  #body: CallResponse['body'] | undefined;

  constructor(answer: CacheAnswer) {
    const headers = answer.headers as Record<string, string | string[] | undefined>;
    headers['cache-status'] = answer.cacheStatus;
    this.statusCode = answer.status;
    this.headers = headers;
    this.attempts = answer.outcome === 'hit' || answer.outcome === 'stale' ? 0 : 1;
    this[CACHED_BYTES] = answer.body;
    this[CLEAN_HEADERS] = answer.clean === true;
  }

  get body(): CallResponse['body'] {
    this.#body ??= streamOf(this[CACHED_BYTES]);
    return this.#body;
  }
}

const streamOf = (bytes: Buffer): CallResponse['body'] => {
  const stream = bufferedBody(bytes);
  (stream as unknown as Record<symbol, Buffer>)[CACHED_BYTES] = bytes;
  return stream as unknown as CallResponse['body'];
};

/** {@link cachedResponse} as a plain object with its body stream made now (what a client returns). */
export function bufferedResponse(answer: CacheAnswer): CallResponse {
  const headers = answer.headers as Record<string, string | string[] | undefined>;
  headers['cache-status'] = answer.cacheStatus;
  return {
    statusCode: answer.status,
    headers,
    body: streamOf(answer.body),
    endpoint: CACHE_ENDPOINT,
    attempts: answer.outcome === 'hit' || answer.outcome === 'stale' ? 0 : 1,
  };
}

/** Wraps `client` so that its GET calls (without a body) use `cache`; everything else goes straight through. */
export function cachingClient(client: Client, cache: HttpCache, maxBodyBytes: number): Client {
  const request = (call: CallOptions): Promise<CallResponse> => {
    try {
      const fast = fastPath(call);
      if (fast !== undefined) return Promise.resolve(fast);
    } catch (error) {
      return Promise.reject(error);
    }
    return slowPath(call);
  };
  /** A fresh hit from a synchronous store, answered without an async layer; else undefined. */
  const fastPath = (call: CallOptions): CallResponse | undefined => {
    if (call.method !== undefined && call.method !== 'GET' && call.method.toUpperCase() !== 'GET')
      return undefined;
    if (call.body !== undefined && call.body !== null) return undefined;
    const headers =
      call.headersOwned === true && call.headers !== undefined
        ? (call.headers as Record<string, string>)
        : lowerHeaders(call.headers);
    if (headers.range !== undefined) return undefined;
    const hit = cache.peek({
      service: client.name,
      method: 'GET',
      path: call.path,
      headers,
      scope: scopeOf(principalId(call), headers),
    });
    return hit === undefined ? undefined : answered(hit);
  };
  const slowPath = async (call: CallOptions): Promise<CallResponse> => {
    const method = (call.method ?? 'GET').toUpperCase();
    if (method !== 'GET' || (call.body !== undefined && call.body !== null)) return client.request(call);
    // A forwarder's own header object is already lower case with one value per name (headersOwned).
    const headers =
      call.headersOwned === true && call.headers !== undefined
        ? (call.headers as Record<string, string>)
        : lowerHeaders(call.headers);
    if (headers.range !== undefined) return client.request(call);
    const cacheRequest = {
      service: client.name,
      method,
      path: call.path,
      headers,
      scope: scopeOf(principalId(call), headers),
      signal: call.signal,
    };
    let overflow: BodyOverCap | undefined;
    let answer: CacheAnswer;
    try {
      answer = await cache.fetch(cacheRequest, (sendHeaders, signal) =>
        client
          .request({ ...call, headers: sendHeaders, headersOwned: false, signal, bindCancel: undefined })
          .then((response) =>
            readOrOverflow(response, maxBodyBytes, signal).then((body) => ({
              status: response.statusCode,
              headers: definedHeaders(response.headers),
              body,
            })),
          ),
      );
    } catch (error) {
      if (!(error instanceof BodyOverCap)) throw error;
      overflow = error;
      if (overflow.claimed) return client.request(call);
      const response = overflow.response;
      return {
        statusCode: response.statusCode,
        headers: { ...response.headers, 'cache-status': `${cache.name}; fwd=uri-miss; detail=too-large` },
        body: overflow.stream() as unknown as CallResponse['body'],
        endpoint: response.endpoint,
        attempts: response.attempts,
      };
    }
    return answered(answer);
  };
  const answered = bufferedResponse;
  return {
    name: client.name,
    request,
    upgrade: (options) => client.upgrade(options),
    fetch: (path, init) => client.fetch(path, init),
    stats: () => client.stats(),
    reloadTls: () => client.reloadTls(),
    close: () => client.close(),
  };
}
