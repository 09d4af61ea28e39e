// Fetches and caches an issuer's JSON Web Key Set for JWT verification, serving the last good keys
// while the endpoint is down.
//
// Hand-written on jose's createLocalJWKSet rather than using jose's createRemoteJWKSet: the remote set
// awaits a refetch once its keys are older than `cacheMaxAge` and fails verification when that refetch
// fails, so an identity provider outage would reject every token, although the keys it last published
// are still the ones tokens are signed with. It also has no bound on the response size or key count.
// Here a refresh runs in the background and the cached keys keep verifying until one succeeds.
import { performance } from 'node:perf_hooks';
import {
  DependencyMonitor,
  dependencyName,
  functionOption,
  type GatehouseError,
  parseOptions,
} from '@gatehousejs/core';
import {
  type CryptoKey,
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  errors as joseErrors,
  type LocalJWKSet,
} from 'jose';
import * as v from 'valibot';
import { AuthInvalid, AuthUnavailable, refuse } from './errors.js';
import { httpUrlOption } from './options.js';
import { readLimited } from './read-limited.js';

/** Options of {@link createJwksCache}. */
export interface JwksOptions {
  /** The JWKS endpoint (`jwks_uri`), http or https. Required. Redirects are not followed. */
  url: string | URL;
  /**
   * A fetch (connection, response and body) is aborted after this long and counts as failed.
   *
   * @default 3000
   */
  timeoutMs?: number;
  /**
   * Keys older than this are refreshed in the background on the next use; the cached keys keep
   * verifying meanwhile, and for as long as refreshing fails (stale-if-error).
   *
   * @default 600_000 (10 minutes)
   */
  maxAgeMs?: number;
  /**
   * Minimum time between two fetches: a token whose `kid` is not in the cached set triggers a refetch
   * only when the last fetch started at least this long ago (otherwise it is rejected at once), and a
   * failed background refresh is retried no sooner.
   *
   * @default 30_000
   */
  cooldownMs?: number;
  /**
   * A key set with more keys than this is refused (the fetch fails).
   *
   * @default 100
   */
  maxKeys?: number;
  /**
   * A response body larger than this is refused (the fetch fails), whatever `Content-Length` says.
   *
   * @default 524_288 (512 KiB)
   */
  maxBytes?: number;
  /**
   * The fetch implementation, for tests or a custom dispatcher.
   *
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
}

/** What a {@link JwksCache} has done so far, for tests, metrics and admin pages. */
export interface JwksStats {
  /** Fetches started (successful or not). */
  readonly fetches: number;
  /** Fetches that failed (HTTP error, timeout, not JSON, not a key set, too large). */
  readonly failures: number;
  /** When the key set was last fetched successfully (epoch ms); undefined before the first success. */
  readonly lastSuccess: number | undefined;
  /** When a fetch last failed (epoch ms). */
  readonly lastFailure: number | undefined;
  /** Why the last fetch failed, without the URL (which may carry credentials). */
  readonly lastError: string | undefined;
  /** Usable keys in the cached set (private and symmetric members are dropped). */
  readonly keyCount: number;
  /** True when the cached keys are older than `maxAgeMs` (a refresh is due or failing). */
  readonly stale: boolean;
  /** True while a fetch is in flight. */
  readonly fetching: boolean;
}

/** A JWKS fetcher and cache; see {@link createJwksCache}. */
export interface JwksCache {
  /** The endpoint, as given. */
  readonly url: string;
  /**
   * Resolves the verification key for a JWS protected header; usable as jose's key resolver
   * (`jwtVerify(token, cache.getKey, …)`). Only `alg` and `kid` are used: `jku`, `x5u`, `jwk` and
   * `x5c` headers are never followed.
   *
   * @throws AuthInvalid (`'unknown_key'`) for a `kid` not in the set (after at most one refetch per
   *   cooldown) or not acceptable as a key id (over 256 characters, control characters).
   * @throws AuthInvalid (`'algorithm'`) for an `alg` a key set cannot serve (`none`, HMAC, unknown).
   * @throws AuthUnavailable when no key set could be fetched yet.
   * @throws jose's `JWKSMultipleMatchingKeys` when the header has no `kid` and several keys fit; it is
   *   async-iterable over the candidates.
   */
  getKey(protectedHeader?: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<CryptoKey>;
  /**
   * Fetches the key set now, ignoring cooldown and age (joining a fetch in flight).
   *
   * @throws AuthUnavailable when the fetch fails; the cached keys stay in use.
   */
  refresh(): Promise<void>;
  /** Aborts a fetch in flight and drops the keys; `getKey` then throws AuthUnavailable. */
  close(): void;
  /** Counters and state. */
  readonly stats: JwksStats;
  /** The `kid`s of the cached keys (keys without one are listed as undefined). */
  kids(): (string | undefined)[];
  /**
   * The endpoint's availability: its first failed fetch after a success is reported once (with the
   * cause) to every gateway it reports to, and its next success once; `jwtAuthenticator` makes it
   * report to the gateway of the requests it sees.
   */
  readonly monitor: DependencyMonitor;
}

const DEFAULTS = {
  timeoutMs: 3000,
  maxAgeMs: 600_000,
  cooldownMs: 30_000,
  maxKeys: 100,
  maxBytes: 512 * 1024,
} as const;

// While no key set has ever loaded, a failed fetch is retried on use at most this often: the
// endpoint is not hammered by every request, and a gateway that started during an outage recovers
// within a second of the endpoint's return (rather than a whole cooldown).
const RETRY_WITHOUT_KEYS_MS = 1000;
const MAX_KID_LENGTH = 256;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Options resolved with their defaults; see {@link resolveJwksOptions}. */
export interface ResolvedJwksOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly maxAgeMs: number;
  readonly cooldownMs: number;
  readonly maxKeys: number;
  readonly maxBytes: number;
  readonly fetch: typeof fetch | undefined;
}

/**
 * The valibot schema of {@link JwksOptions} (`jwtAuthenticator`'s `jwks` and {@link createJwksCache}). The
 * URL is text here; the factories also take a `URL` object, which they turn into its text first.
 */
export const jwksOptionsSchema = v.strictObject({
  url: httpUrlOption(),
  timeoutMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
  maxAgeMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
  cooldownMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
  maxKeys: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
  maxBytes: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
  fetch: v.optional(functionOption<typeof fetch>('a fetch function')),
});

/** The options with a `URL` object in `url` turned into its text, for {@link jwksOptionsSchema}. */
export function jwksInput(options: unknown): unknown {
  if (typeof options !== 'object' || options === null) return options;
  const { url } = options as { url?: unknown };
  return url instanceof URL ? { ...options, url: url.href } : options;
}

/** Options checked against {@link jwksOptionsSchema}, with their defaults. */
export function resolveJwksOptions(options: v.InferOutput<typeof jwksOptionsSchema>): ResolvedJwksOptions {
  return {
    url: new URL(options.url).href,
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxAgeMs: options.maxAgeMs ?? DEFAULTS.maxAgeMs,
    cooldownMs: options.cooldownMs ?? DEFAULTS.cooldownMs,
    maxKeys: options.maxKeys ?? DEFAULTS.maxKeys,
    maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
    fetch: options.fetch,
  };
}

/**
 * Creates a JWKS cache for one endpoint. Nothing is fetched until the first `getKey` (or `refresh`).
 * Fetches are coalesced: concurrent callers share one request.
 *
 * @throws ConfigError listing every option problem (paths under `jwks`).
 *
 * @example
 *   const jwks = createJwksCache({ url: 'https://idp.example/.well-known/jwks.json' });
 *   const { payload } = await jwtVerify(token, jwks.getKey, { issuer, audience });
 */
export function createJwksCache(options: JwksOptions): JwksCache {
  return jwksCacheFrom(
    resolveJwksOptions(parseOptions(jwksOptionsSchema, jwksInput(options), { name: 'jwks' })),
  );
}

/** Is `kid` something worth looking up? Long or control-character ids are refused unseen. */
export function isAcceptableKid(kid: unknown): boolean {
  return typeof kid === 'string' && kid.length <= MAX_KID_LENGTH && !CONTROL.test(kid);
}

/** Refusal for a `kid` that is absent from the key set or unacceptable. */
export function unknownKey(): GatehouseError {
  return refuse(new AuthInvalid('Token signing key is not known'), 'unknown_key');
}

const unavailable = () => new AuthUnavailable('Token signing keys are temporarily unavailable');

/** Why a fetch failed; only its message is kept (in stats), never rendered. */
class FetchFailed extends Error {}

/** @internal A cache from already validated options (used by `jwtAuthenticator`). */
export function jwksCacheFrom(options: ResolvedJwksOptions): JwksCache {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  let keySet: LocalJWKSet | undefined;
  let kidList: (string | undefined)[] = [];
  let loadedAt = 0; // performance.now() of the last success
  let lastAttempt = Number.NEGATIVE_INFINITY; // performance.now() of the last fetch start
  let lastAttemptFailed = false;
  let inflight: Promise<boolean> | undefined;
  let controller: AbortController | undefined;
  let closed = false;
  let fetches = 0;
  let failures = 0;
  let lastSuccess: number | undefined;
  let lastFailure: number | undefined;
  let lastError: string | undefined;
  const monitor = new DependencyMonitor('jwks', dependencyName(options.url));

  /** Resolves to whether the fetch succeeded; never rejects (callers make their own errors). */
  async function fetchOnce(): Promise<boolean> {
    fetches++;
    lastAttempt = performance.now();
    const abort = new AbortController();
    controller = abort;
    const timer = setTimeout(
      () => abort.abort(new FetchFailed(`timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    try {
      const json = await download(fetchImpl, options, abort.signal);
      const { set, kids } = toKeySet(json, options.maxKeys);
      if (closed) return false;
      keySet = set;
      kidList = kids;
      loadedAt = performance.now();
      lastSuccess = Date.now();
      lastAttemptFailed = false;
      monitor.succeeded();
      return true;
    } catch (error) {
      failures++;
      lastFailure = Date.now();
      lastAttemptFailed = true;
      const reason = abort.signal.aborted ? abort.signal.reason : error;
      lastError = reason instanceof FetchFailed ? reason.message : `network error: ${failureName(reason)}`;
      if (!closed) monitor.failed(new FetchFailed(lastError, { cause: reason }));
      return false;
    } finally {
      clearTimeout(timer);
      if (controller === abort) controller = undefined;
    }
  }

  /** One fetch at a time: callers arriving while one is in flight share it. */
  function load(): Promise<boolean> {
    if (inflight === undefined) {
      const current = fetchOnce().finally(() => {
        if (inflight === current) inflight = undefined;
      });
      inflight = current;
    }
    return inflight;
  }

  async function lookup(
    set: LocalJWKSet,
    header: JWSHeaderParameters | undefined,
    token?: FlattenedJWSInput,
  ) {
    try {
      return { key: await set(header, token) };
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) return { key: undefined };
      // An alg jose does not know, or an HMAC alg: a key set never provides secrets.
      if (error instanceof joseErrors.JOSENotSupported) {
        throw refuse(new AuthInvalid('Token algorithm is not accepted'), 'algorithm');
      }
      // The matching member cannot be imported (not a public key, bad parameters).
      if (error instanceof joseErrors.JWKSInvalid || error instanceof joseErrors.JWKInvalid) {
        throw refuse(new AuthInvalid('Token signing key is not usable'), 'unknown_key');
      }
      throw error;
    }
  }

  async function getKey(header?: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<CryptoKey> {
    if (closed) throw unavailable();
    // The token is not authenticated yet: an unacceptable kid is refused before any lookup or fetch.
    const kid = header?.kid;
    if (kid !== undefined && !isAcceptableKid(kid)) throw unknownKey();
    let set = keySet;
    const now = performance.now();
    if (set === undefined) {
      if (inflight === undefined && lastAttemptFailed && now - lastAttempt < RETRY_WITHOUT_KEYS_MS) {
        throw unavailable();
      }
      await load();
      set = keySet;
      if (set === undefined || closed) throw unavailable();
    } else if (
      inflight === undefined &&
      now - loadedAt >= options.maxAgeMs &&
      now - lastAttempt >= options.cooldownMs
    ) {
      // Stale-while-revalidate: this request uses the cached keys; a failure only shows in stats.
      void load();
    }
    const found = await lookup(set, header, token);
    if (found.key !== undefined) return found.key;

    // Unknown kid: perhaps the issuer rotated keys. Join a fetch in flight, or start one if the last
    // began a cooldown ago; otherwise reject now, so a stream of made-up kids costs no fetches.
    if (inflight !== undefined) await inflight;
    else if (performance.now() - lastAttempt >= options.cooldownMs) await load();
    else throw unknownKey();
    if (keySet === undefined || keySet === set || closed) throw unknownKey();
    const retried = await lookup(keySet, header, token);
    if (retried.key === undefined) throw unknownKey();
    return retried.key;
  }

  return {
    url: options.url,
    getKey,
    async refresh() {
      if (closed) throw unavailable();
      if (!(await load())) throw unavailable();
    },
    close() {
      closed = true;
      controller?.abort(new FetchFailed('closed'));
      keySet = undefined;
      kidList = [];
    },
    get stats(): JwksStats {
      return {
        fetches,
        failures,
        lastSuccess,
        lastFailure,
        lastError,
        keyCount: kidList.length,
        stale: keySet !== undefined && performance.now() - loadedAt >= options.maxAgeMs,
        fetching: inflight !== undefined,
      };
    },
    kids: () => [...kidList],
    monitor,
  };
}

async function download(fetchImpl: typeof fetch, options: ResolvedJwksOptions, signal: AbortSignal) {
  // redirect 'manual': a 3xx is a failure. Following it would let whoever controls a redirect
  // choose the keys (and point the gateway at internal hosts).
  const response = await fetchImpl(options.url, {
    method: 'GET',
    redirect: 'manual',
    signal,
    headers: { accept: 'application/jwk-set+json, application/json' },
  });
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new FetchFailed(`HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new FetchFailed(`response larger than ${options.maxBytes} bytes`);
  }
  const body = await readLimited(
    response,
    options.maxBytes,
    () => new FetchFailed(`response larger than ${options.maxBytes} bytes`),
  );
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new FetchFailed('response is not JSON');
  }
}

function toKeySet(json: unknown, maxKeys: number): { set: LocalJWKSet; kids: (string | undefined)[] } {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    throw new FetchFailed('response is not a JSON Web Key Set');
  }
  const all = (json as { keys: unknown[] }).keys;
  if (all.length > maxKeys) throw new FetchFailed(`key set has ${all.length} keys, more than ${maxKeys}`);
  // A published private or symmetric key is a misconfiguration at the issuer, and anyone who fetched
  // the set could sign with it: such members are never used.
  const keys = all.filter(
    (k): k is JWK =>
      typeof k === 'object' && k !== null && !Array.isArray(k) && !('d' in k) && (k as JWK).kty !== 'oct',
  );
  let set: LocalJWKSet;
  try {
    set = createLocalJWKSet({ keys } as JSONWebKeySet);
  } catch {
    throw new FetchFailed('response is not a valid JSON Web Key Set');
  }
  return { set, kids: keys.map((k) => (typeof k.kid === 'string' ? k.kid : undefined)) };
}

function failureName(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (error instanceof Error) return error.name;
  return 'unknown';
}
