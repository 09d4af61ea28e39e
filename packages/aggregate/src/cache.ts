// An RFC 9111 shared cache in front of upstream services, for proxied routes, composition calls and
// direct client calls. Freshness, validators, Vary and the storability rules (no `private`, no
// `no-store`, nothing asked with Authorization unless the answer says it may be shared) come from
// http-cache-semantics; what it leaves to the cache is here: keys scoped by principal, one revalidation
// per stale entry however many ask (single flight), stale-while-revalidate in the background,
// stale-if-error, purge, counters, and the `Age` and RFC 9211 `Cache-Status` headers.
import { createHash } from 'node:crypto';
import { HOP_BY_HOP as HOP_BY_HOP_CORE, isHeaderName, isSafeHeaderValue } from '@gatehousejs/core';
import CachePolicy from 'http-cache-semantics';
import type { StoredResponse } from './body.js';
import { isPublic, SingleFlight, varyNames } from './single-flight.js';
import type { CacheEntry, CacheStore } from './store.js';

/** One upstream request as the cache sees it. */
export interface CacheRequest {
  /** The service's name: part of every key. */
  readonly service: string;
  readonly method: string;
  /** Path and query sent upstream. */
  readonly path: string;
  /** The request headers sent upstream, lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The caller's principal key (see {@link scopeOf}); undefined when anonymous. */
  readonly scope: string | undefined;
  readonly signal?: AbortSignal;
}

/** Sends the request upstream with `headers` (the request's own, or conditional ones) and reads it whole. */
export type Origin = (headers: Record<string, string>, signal: AbortSignal) => Promise<StoredResponse>;

/** An answer and how the cache came to it; its `headers` object is the caller's own. */
export interface CacheAnswer extends StoredResponse {
  /** The `Cache-Status` member for this cache (RFC 9211), e.g. `gatehouse; hit; ttl=28`. */
  readonly cacheStatus: string;
  /** How it was answered, for metrics and tests. */
  readonly outcome: 'hit' | 'miss' | 'stale' | 'revalidated' | 'bypass';
  /**
   * The headers, `Cache-Status` included, already pass the gateway's response hygiene unchanged (see
   * `CacheEntry.clean`): a forwarder may write them without filtering them again.
   */
  readonly clean?: boolean;
}

/** Counters of a cache; also exported as metrics. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Stale answers served (stale-while-revalidate, stale-if-error). */
  stale: number;
  /** Conditional or background revalidations sent upstream. */
  revalidations: number;
  /** Calls answered by another caller's identical call in flight. */
  coalesced: number;
  /** Answers stored. */
  stored: number;
  /** Store operations that failed (Redis down). */
  storeErrors: number;
}

/** Options of {@link HttpCache}. */
export interface HttpCacheSettings {
  readonly store: CacheStore;
  /** The name in `Cache-Status`. */
  readonly name: string;
  /** Share identical concurrent GETs (single flight). */
  readonly coalesce: boolean;
  /** Honour a client's `Cache-Control: no-cache` / `max-age=0` (otherwise only the upstream decides). */
  readonly honorRequestDirectives: boolean;
  /** Called once when the store starts failing, and again only after it worked in between. */
  readonly report: (error: unknown) => void;
  /** Called once when a failing store works again. */
  readonly recovered?: () => void;
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * The scope of a caller's cached and coalesced answers: its principal when authenticated, else its
 * credentials (Authorization, Cookie) hashed, else undefined (anonymous). Answers fetched for one
 * scope reach another only when the upstream marked them public.
 */
export function scopeOf(
  principalId: string | undefined,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  if (principalId !== undefined) return `p:${sha(principalId)}`;
  const auth = headers.authorization;
  const cookie = headers.cookie;
  if (auth === undefined && cookie === undefined) return undefined;
  return `c:${sha(`${String(auth ?? '')}\u0000${String(cookie ?? '')}`)}`;
}

const STALE_IF_ERROR = /(?:^|[\s,])stale-if-error\s*=\s*"?(\d+)/i;

function header(headers: Readonly<Record<string, string | string[]>>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Seconds a stale entry may still stand in for an upstream failure (RFC 5861 stale-if-error). */
function staleIfErrorAllows(entry: CacheEntry): boolean {
  const match = STALE_IF_ERROR.exec(header(entry.headers, 'cache-control') ?? '');
  if (match === null) return false;
  return entry.policy.maxAge() + Number(match[1]) > entry.policy.age();
}

const isFailure = (response: StoredResponse) => response.status >= 500;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'age',
]);

/** The headers an answer from the cache carries: end-to-end ones, without a stale `Age`. */
function endToEnd(headers: Readonly<Record<string, string | string[]>>): Record<string, string | string[]> {
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          (Array.isArray(connection) ? connection.join(',') : connection)
            .split(',')
            .map((t) => t.trim().toLowerCase()),
        );
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = headers[name]!;
  }
  return out;
}

/** What a 304 carries of the stored answer's headers (RFC 9110 §15.4.5). */
const NOT_MODIFIED_HEADERS = [
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
];
const EMPTY_BODY = Buffer.alloc(0);

/** Weak comparison of entity tags (RFC 9110 §8.8.3.2): `W/"a"` and `"a"` match. */
const opaqueTag = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag).trim();

/**
 * Whether a caller's conditional GET is satisfied by the stored answer: `If-None-Match` against its
 * `ETag` (`*` included), else `If-Modified-Since` against its `Last-Modified` (RFC 9110 §13.2.2).
 */
function notModified(
  stored: Readonly<Record<string, string | string[]>>,
  request: Readonly<Record<string, string>>,
): boolean {
  const ifNoneMatch = request['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const etag = stored.etag;
    if (typeof etag !== 'string') return false;
    if (ifNoneMatch.trim() === '*') return true;
    const wanted = opaqueTag(etag);
    return ifNoneMatch.split(',').some((tag) => opaqueTag(tag) === wanted);
  }
  const since = request['if-modified-since'];
  const modified = stored['last-modified'];
  if (since === undefined || typeof modified !== 'string') return false;
  const a = Date.parse(modified);
  const b = Date.parse(since);
  return Number.isFinite(a) && Number.isFinite(b) && a <= b;
}

/**
 * Whether response hygiene (core's `HeaderHygiene.forward(…, 'response')`) would keep every header
 * as it is: lower-case token names, none hop-by-hop, values (or each of a list) safe strings. Decided
 * once per stored entry, so that a route writing a hit need not filter the same headers again (that
 * pass was a measurable part of a hit: bench/RESULTS.md, cache-hit-proxy).
 */
function cleanForResponse(headers: Readonly<Record<string, string | string[]>>): boolean {
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) return false;
    if (name !== name.toLowerCase() || !isHeaderName(name) || HOP_BY_HOP_CORE.has(name)) return false;
    const value = headers[name];
    if (typeof value === 'string') {
      if (!isSafeHeaderValue(value)) return false;
    } else if (!Array.isArray(value) || value.length === 0 || !value.every(isSafeString)) return false;
  }
  return true;
}

const isSafeString = (value: unknown) => typeof value === 'string' && isSafeHeaderValue(value);

/** The values of the `vary` headers in a request, as one comparable string. */
function varyKeyOf(vary: readonly string[], headers: Readonly<Record<string, string>>): string {
  if (vary.length === 0) return '';
  let key = '';
  for (const name of vary) key += `${name}:${headers[name] ?? ''}\n`;
  return key;
}

/** An entry for `response`, with what a fresh hit needs computed once, here. */
function entryOf(
  policy: CachePolicy,
  response: StoredResponse,
  requestHeaders: Readonly<Record<string, string>>,
): CacheEntry {
  const now = Date.now();
  const age = policy.age();
  const vary = varyNames(response.headers);
  const headers = endToEnd(response.headers);
  return {
    policy,
    status: response.status,
    headers,
    body: response.body,
    vary,
    varyKey: varyKeyOf(vary, requestHeaders),
    freshUntil: now + (policy.maxAge() - age) * 1000,
    bornAt: now - age * 1000,
    clean: cleanForResponse(headers),
  };
}

/**
 * How long an entry with a validator (ETag, Last-Modified) is kept past its freshness: stale, it still
 * saves the body of every answer a 304 confirms. Bounded like every entry by the store's LRU limits.
 */
const KEEP_FOR_REVALIDATION_MS = 60 * 60 * 1000;

/** How long the store keeps `policy`'s entry. */
function storeTtl(policy: CachePolicy, headers: Readonly<Record<string, string | string[]>>): number {
  const ttl = policy.timeToLive();
  return headers.etag !== undefined || headers['last-modified'] !== undefined
    ? ttl + KEEP_FOR_REVALIDATION_MS
    : ttl;
}

/** The HTTP cache: lookup, store, revalidation and coalescing around an {@link Origin}. */
export class HttpCache {
  readonly stats: CacheStats = {
    hits: 0,
    misses: 0,
    stale: 0,
    revalidations: 0,
    coalesced: 0,
    stored: 0,
    storeErrors: 0,
  };
  readonly flights = new SingleFlight();
  readonly #settings: HttpCacheSettings;
  /** The Vary names each URL's answers came with, learned from the answers (bounded). */
  readonly #vary = new Map<string, string[]>();
  /**
   * The store keys an anonymous caller's lookup of a URL tries (`service:path#anon#`, then `…#public#`,
   * no Vary fingerprint), by service and path, for URLs that answered a hit. A key built per request
   * is a new concatenated string, and a Map lookup by one cost ~150 ns on Node 24 (V8 flattens and
   * hashes it; two per public hit) against ~40 ns for three lookups by its parts; a kept key string
   * keeps its hash (microbenchmarks, bench/RESULTS.md 2026-12-04). Only keys, never entries: what
   * the store holds or purges stays the store's. Bounded like the learned Vary names.
   */
  readonly #hotKeys = new Map<string, Map<string, { readonly anon: string; readonly public: string }>>();
  #hotKeyCount = 0;
  /** Stale entries being revalidated in the background: one revalidation each. */
  readonly #revalidating = new Set<string>();
  #failing = false;
  /** The name is a safe header value (the options insist on a token; a cache made by hand may not). */
  readonly #nameSafe: boolean;

  constructor(settings: HttpCacheSettings) {
    this.#settings = settings;
    this.#nameSafe = isSafeHeaderValue(settings.name);
  }

  /** The cache's name in `Cache-Status`. */
  get name(): string {
    return this.#settings.name;
  }

  get store(): CacheStore {
    return this.#settings.store;
  }

  /** Deletes every variant of `key` (`orders:/orders/42`). */
  async purgeKey(key: string): Promise<number> {
    return this.purgePrefix(`${key}#`);
  }

  /** Deletes every entry whose key starts with `prefix` (`orders:/orders/`). */
  async purgePrefix(prefix: string): Promise<number> {
    return await this.#settings.store.deletePrefix(prefix);
  }

  /**
   * A fresh hit answered synchronously, when the store reads synchronously (memory): no promise, no
   * policy evaluation (freshness and Vary were computed when the entry was stored). Undefined for
   * anything else; then {@link fetch}. Measured: the hit path of a cached proxied route is most of its
   * cost (bench/RESULTS.md, cache-hit-proxy). `varyAllowed`, when the headers given are not the ones
   * that would be sent upstream, names the `Vary` headers they agree on; an entry varying on another
   * is not answered.
   */
  peek(request: CacheRequest, varyAllowed?: (name: string) => boolean): CacheAnswer | undefined {
    const store = this.#settings.store;
    if (store.sync !== true || request.method !== 'GET') return undefined;
    if (
      this.#settings.honorRequestDirectives &&
      (request.headers['cache-control'] !== undefined || request.headers.pragma !== undefined)
    )
      return undefined;
    // No URL has learned a Vary yet (the common case): no fingerprint, and an anonymous caller's keys
    // may come ready-made (see #hotKeys).
    const plain = this.#vary.size === 0 && request.scope === undefined;
    const hot = plain ? this.#hotKeys.get(request.service)?.get(request.path) : undefined;
    const url = hot === undefined ? `${request.service}:${request.path}` : '';
    const fp = this.#vary.size === 0 ? '' : this.#fingerprint(url, request.headers);
    const now = Date.now();
    for (let i = 0; i < 2; i++) {
      let key: string;
      if (hot !== undefined) key = i === 0 ? hot.anon : hot.public;
      else key = `${url}#${i === 0 ? (request.scope ?? 'anon') : 'public'}#${fp}`;
      let entry: CacheEntry | undefined;
      try {
        entry = store.get(key) as CacheEntry | undefined;
      } catch {
        return undefined;
      }
      if (entry === undefined) continue;
      if (plain && hot === undefined) this.#rememberKeys(request.service, request.path, url);
      if (now >= entry.freshUntil || entry.varyKey !== varyKeyOf(entry.vary, request.headers))
        return undefined;
      // Asked with headers other than those sent upstream (a route's incoming request): only an
      // answer that varies on none the route would have changed may be given.
      if (varyAllowed !== undefined && !entry.vary.every(varyAllowed)) return undefined;
      this.stats.hits++;
      return this.#answer(
        entry,
        `${this.#settings.name}; hit; ttl=${Math.floor((entry.freshUntil - now) / 1000)}`,
        'hit',
        request.headers,
        now,
      );
    }
    return undefined;
  }

  /** Keeps the two keys of an anonymous caller's lookups of `service:path` (see #hotKeys). */
  #rememberKeys(service: string, path: string, url: string): void {
    if (this.#hotKeyCount >= 10_000) {
      this.#hotKeys.clear();
      this.#hotKeyCount = 0;
    }
    let paths = this.#hotKeys.get(service);
    if (paths === undefined) {
      paths = new Map();
      this.#hotKeys.set(service, paths);
    }
    if (paths.has(path)) return;
    paths.set(path, { anon: `${url}#anon#`, public: `${url}#public#` });
    this.#hotKeyCount++;
  }

  /** Answers `request` from the cache, from one coalesced upstream call, or from `origin`. */
  async fetch(request: CacheRequest, origin: Origin): Promise<CacheAnswer> {
    const fast = this.peek(request);
    if (fast !== undefined) return fast;
    const name = this.#settings.name;
    if (request.method !== 'GET') {
      const response = await origin({ ...request.headers }, request.signal ?? new AbortController().signal);
      return { ...response, cacheStatus: `${name}; fwd=method`, outcome: 'bypass' };
    }
    const policyRequest = this.#policyRequest(request);
    const url = `${request.service}:${request.path}`;
    const scopes = request.scope === undefined ? ['anon', 'public'] : [request.scope, 'public'];
    const fp = this.#fingerprint(url, request.headers);
    let found: { key: string; entry: CacheEntry } | undefined;
    for (const scope of scopes) {
      const key = `${url}#${scope}#${fp}`;
      const entry = await this.#get(key);
      if (entry !== undefined) {
        found = { key, entry };
        break;
      }
    }
    if (found === undefined) return this.#miss(request, origin, url);
    const { key, entry } = found;
    const evaluation = entry.policy.evaluateRequest(policyRequest);
    if (evaluation.response !== undefined && evaluation.revalidation === undefined) {
      this.stats.hits++;
      const ttl = Math.floor(entry.policy.maxAge() - entry.policy.age());
      return this.#answer(entry, `${name}; hit; ttl=${ttl}`, 'hit', request.headers);
    }
    if (evaluation.response !== undefined) {
      // stale-while-revalidate: the stale answer now, one revalidation in the background.
      this.stats.stale++;
      if (!this.#revalidating.has(key)) {
        this.#revalidating.add(key);
        void this.#revalidate(request, origin, key, entry)
          .catch(() => {})
          .finally(() => this.#revalidating.delete(key));
      }
      const ttl = Math.floor(entry.policy.maxAge() - entry.policy.age());
      return this.#answer(entry, `${name}; hit; ttl=${ttl}; fwd=stale`, 'stale', request.headers);
    }
    // Stale (or the client insists): revalidate before answering; concurrent askers share the call.
    let outcome: { response: StoredResponse; policy: CachePolicy; modified: boolean; entry?: CacheEntry };
    try {
      outcome = await this.#revalidate(request, origin, key, entry);
    } catch (error) {
      if (staleIfErrorAllows(entry)) return this.#staleOnError(entry, undefined);
      throw error;
    }
    if (isFailure(outcome.response) && staleIfErrorAllows(entry)) {
      return this.#staleOnError(entry, outcome.response.status);
    }
    if (!outcome.modified) {
      return this.#answer(
        outcome.entry!,
        `${name}; fwd=stale; fwd-status=304; stored`,
        'revalidated',
        request.headers,
      );
    }
    // Headers copied: a coalesced answer is shared, and each caller may add to its own.
    return {
      ...outcome.response,
      headers: { ...outcome.response.headers },
      cacheStatus: `${name}; fwd=stale; fwd-status=${outcome.response.status}`,
      outcome: 'miss',
    };
  }

  /** The stale entry standing in for a failed upstream (RFC 5861 stale-if-error). */
  #staleOnError(entry: CacheEntry, status: number | undefined): CacheAnswer {
    this.stats.stale++;
    const ttl = Math.floor(entry.policy.maxAge() - entry.policy.age());
    return this.#answer(
      entry,
      `${this.#settings.name}; fwd=stale; ${status === undefined ? '' : `fwd-status=${status}; `}ttl=${ttl}; detail=stale-if-error`,
      'stale',
    );
  }

  /**
   * The stored answer for one caller: its headers copied with `Age`; a 304 without a body when the
   * caller's own validator matches the stored one (RFC 9111 §4.3.2: the cache answers a conditional
   * request itself).
   */
  #answer(
    entry: CacheEntry,
    cacheStatus: string,
    outcome: CacheAnswer['outcome'],
    requestHeaders?: Readonly<Record<string, string>>,
    now = Date.now(),
  ): CacheAnswer {
    const age = String(Math.max(0, Math.floor((now - entry.bornAt) / 1000)));
    if (entry.status === 200 && requestHeaders !== undefined && notModified(entry.headers, requestHeaders)) {
      const headers: Record<string, string | string[]> = { age };
      for (const name of NOT_MODIFIED_HEADERS) {
        const value = entry.headers[name];
        if (value !== undefined) headers[name] = value;
      }
      return { status: 304, headers, body: EMPTY_BODY, cacheStatus, outcome };
    }
    const headers: Record<string, string | string[]> = { ...entry.headers };
    headers.age = age;
    const clean = entry.clean === true && this.#nameSafe;
    return { status: entry.status, headers, body: entry.body, cacheStatus, outcome, clean };
  }

  /** Sends the conditional request (coalesced with identical ones) and stores what comes back. */
  async #revalidate(
    request: CacheRequest,
    origin: Origin,
    key: string,
    entry: CacheEntry,
  ): Promise<{ response: StoredResponse; policy: CachePolicy; modified: boolean; entry?: CacheEntry }> {
    const policyRequest = this.#policyRequest(request);
    const conditional = entry.policy.revalidationHeaders(policyRequest) as Record<string, string>;
    const headers: Record<string, string> = { ...request.headers };
    for (const name of ['if-none-match', 'if-modified-since'] as const) {
      const value = conditional[name];
      if (value !== undefined) headers[name] = value;
    }
    // Counted when sent: callers that joined another's revalidation did not send one.
    const counted: Origin = (sendHeaders, signal) => {
      this.stats.revalidations++;
      return origin(sendHeaders, signal);
    };
    const { response } = await this.#coalesced(`R${key}`, request, headers, counted);
    if (isFailure(response)) return { response, policy: entry.policy, modified: true };
    const { policy, modified } = entry.policy.revalidatedPolicy(policyRequest, {
      status: response.status,
      headers: response.headers,
    });
    if (!modified) {
      // The stored body with the 304's updated headers (RFC 9111 §4.3.4).
      const merged: Record<string, string | string[]> = { ...entry.headers };
      for (const name in response.headers) {
        if (!HOP_BY_HOP.has(name) && name !== 'content-length') merged[name] = response.headers[name]!;
      }
      const refreshed = entryOf(
        policy,
        { status: entry.status, headers: merged, body: entry.body },
        request.headers,
      );
      void this.#set(key, refreshed, storeTtl(policy, refreshed.headers));
      return { response, policy, modified, entry: refreshed };
    }
    this.#remember(request, response, `${request.service}:${request.path}`);
    return { response, policy, modified };
  }

  async #miss(request: CacheRequest, origin: Origin, url: string): Promise<CacheAnswer> {
    this.stats.misses++;
    const { response, collapsed } = await this.#coalesced(`M${url}`, request, { ...request.headers }, origin);
    if (collapsed) this.stats.coalesced++;
    const stored = this.#remember(request, response, url);
    const name = this.#settings.name;
    return {
      ...response,
      headers: { ...response.headers },
      cacheStatus: `${name}; fwd=uri-miss${stored ? '; stored' : ''}${collapsed ? '; collapsed' : ''}`,
      outcome: 'miss',
    };
  }

  #coalesced(
    flightKey: string,
    request: CacheRequest,
    headers: Record<string, string>,
    origin: Origin,
  ): Promise<{ response: StoredResponse; collapsed: boolean }> {
    if (!this.#settings.coalesce) {
      const signal = request.signal ?? new AbortController().signal;
      return origin(headers, signal).then((response) => ({ response, collapsed: false }));
    }
    const conditional = `${headers['if-none-match'] ?? ''}\u0000${headers['if-modified-since'] ?? ''}`;
    return this.flights.run(
      `${flightKey}\u0000${conditional}`,
      { scope: request.scope, headers, signal: request.signal },
      (signal) => origin(headers, signal),
    );
  }

  /** Stores `response` when RFC 9111 allows it; true when stored. */
  #remember(request: CacheRequest, response: StoredResponse, url: string): boolean {
    if (response.headers['set-cookie'] !== undefined) return false;
    const policy = new CachePolicy(this.#policyRequest(request), response, { shared: true });
    if (!policy.storable()) return false;
    const ttl = storeTtl(policy, response.headers);
    if (ttl <= 0) return false;
    const names = varyNames(response.headers);
    if (names.includes('*')) return false;
    this.#learnVary(url, names);
    const scope = isPublic(response.headers) ? 'public' : (request.scope ?? 'anon');
    const key = `${url}#${scope}#${this.#fingerprint(url, request.headers)}`;
    this.stats.stored++;
    void this.#set(key, entryOf(policy, response, request.headers), ttl);
    return true;
  }

  #policyRequest(request: CacheRequest): CachePolicy.Request {
    let headers: Record<string, string> = request.headers;
    if (
      !this.#settings.honorRequestDirectives &&
      (headers['cache-control'] !== undefined || headers.pragma !== undefined)
    ) {
      const { 'cache-control': _cc, pragma: _pragma, ...rest } = headers;
      headers = rest;
    }
    return { url: request.path, method: request.method, headers: { ...headers, host: request.service } };
  }

  #learnVary(url: string, names: string[]): void {
    const known = this.#vary.get(url);
    if (names.length === 0) {
      if (known !== undefined) this.#vary.delete(url);
      return;
    }
    if (known !== undefined && known.join(',') === [...names].sort().join(',')) return;
    if (this.#vary.size >= 10_000) this.#vary.clear();
    this.#vary.set(url, [...names].sort());
  }

  /** The part of a key the learned Vary names select: their values in this request. */
  #fingerprint(url: string, headers: Readonly<Record<string, string>>): string {
    const names = this.#vary.get(url);
    if (names === undefined) return '';
    return sha(names.map((name) => `${name}:${headers[name] ?? ''}`).join('\n'));
  }

  async #get(key: string): Promise<CacheEntry | undefined> {
    try {
      const entry = await this.#settings.store.get(key);
      this.#working();
      return entry;
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
  }

  async #set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    try {
      await this.#settings.store.set(key, entry, ttlMs);
      this.#working();
    } catch (error) {
      this.#failed(error);
    }
  }

  #working(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#settings.recovered?.();
  }

  #failed(error: unknown): void {
    this.stats.storeErrors++;
    if (this.#failing) return;
    this.#failing = true;
    this.#settings.report(error);
  }
}
