// The gateway's response cache: one per gateway, built from validated options, with its store, its
// metrics (hit, miss, stale, revalidation counters) and the purge handler the admin API serves.
import { type Exchange, parseOptions, type Reply } from '@gatehousejs/core';
import { type Attributes, type MeterProvider, metrics, type ObservableResult } from '@opentelemetry/api';
import { HttpCache } from './cache.js';
import { CachePurgeInvalid } from './errors.js';
import { type CacheOptions, cacheOptionsSchema, type ResolvedCacheOptions } from './options.js';
import { memoryStore, redisStore } from './store.js';

/** A response cache and what it was made from. */
export interface ResponseCache {
  readonly cache: HttpCache;
  readonly options: ResolvedCacheOptions;
  /** Releases the store (closes a Redis connection the cache opened). */
  close(): Promise<void>;
}

/**
 * Makes a response cache from `options` (validated now: every problem in one ConfigError).
 * `report` hears a failing store once per outage.
 */
export function createResponseCache(
  options: CacheOptions = {},
  report: (error: unknown) => void = () => {},
  recovered?: () => void,
): ResponseCache {
  const resolved = parseOptions(cacheOptionsSchema, options, { name: 'cache' });
  const store =
    resolved.store === 'memory'
      ? memoryStore(resolved.memory)
      : resolved.store === 'redis'
        ? redisStore({
            url: resolved.redis?.url,
            client: resolved.redis?.client,
            prefix: resolved.redis?.prefix,
            timeoutMs: resolved.redis?.timeoutMs,
          })
        : resolved.store;
  const cache = new HttpCache({
    store,
    name: resolved.name,
    coalesce: resolved.coalesce,
    honorRequestDirectives: resolved.honorRequestDirectives,
    report,
    ...(recovered === undefined ? {} : { recovered }),
  });
  return {
    cache,
    options: resolved,
    close: async () => {
      await store.close?.();
    },
  };
}

/**
 * Counters of `cache` as observable OpenTelemetry instruments on each provider given (the global one
 * by default): `gatehouse.cache.requests` by `result` (hit, miss, stale), `gatehouse.cache.revalidations`,
 * `gatehouse.cache.coalesced`, `gatehouse.cache.store_errors`. Read at collection time only.
 */
export function observeCache(cache: HttpCache, providers: readonly (MeterProvider | undefined)[]): void {
  for (const provider of providers) {
    const meter = (provider ?? metrics.getMeterProvider()).getMeter('@gatehousejs/aggregate');
    const requests = meter.createObservableCounter('gatehouse.cache.requests', {
      description: 'Cacheable upstream requests by result: hit, miss, stale (served stale)',
      unit: '{request}',
    });
    const revalidations = meter.createObservableCounter('gatehouse.cache.revalidations', {
      description: 'Revalidations sent upstream (conditional or in the background)',
      unit: '{request}',
    });
    const coalesced = meter.createObservableCounter('gatehouse.cache.coalesced', {
      description: 'Upstream calls saved by sharing an identical call in flight',
      unit: '{request}',
    });
    const storeErrors = meter.createObservableCounter('gatehouse.cache.store_errors', {
      description: 'Cache store operations that failed (the cache answered without its store)',
      unit: '{error}',
    });
    const name = { 'gatehouse.cache': cache.name };
    requests.addCallback((result: ObservableResult<Attributes>) => {
      result.observe(cache.stats.hits, { ...name, result: 'hit' });
      result.observe(cache.stats.misses, { ...name, result: 'miss' });
      result.observe(cache.stats.stale, { ...name, result: 'stale' });
    });
    revalidations.addCallback((result) => result.observe(cache.stats.revalidations, name));
    coalesced.addCallback((result) =>
      result.observe(cache.stats.coalesced + cache.flights.stats.joined, name),
    );
    storeErrors.addCallback((result) => result.observe(cache.stats.storeErrors, name));
  }
}

/**
 * The admin purge handler: `?key=orders:/orders/42` deletes every variant of that URL,
 * `?prefix=orders:/orders/` everything below it. Answers `{ purged: n }`.
 */
export function purgeHandler(
  cache: HttpCache | (() => HttpCache | undefined),
): (exchange: Exchange) => Promise<Reply> {
  return async (exchange) => {
    const key = exchange.query.get('key');
    const prefix = exchange.query.get('prefix');
    if ((key === null) === (prefix === null) || key === '' || prefix === '') {
      throw new CachePurgeInvalid("Give exactly one of 'key' (service:path) or 'prefix'", {
        headers: { 'cache-control': 'no-store' },
      });
    }
    const target = typeof cache === 'function' ? cache() : cache;
    if (target === undefined)
      return { status: 200, headers: { 'cache-control': 'no-store' }, body: { purged: 0 } };
    const purged = key !== null ? await target.purgeKey(key) : await target.purgePrefix(prefix!);
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: { purged } };
  };
}

/** The admin view of a cache: its counters and its store. */
export function cacheStatsHandler(cache: () => HttpCache | undefined): () => Reply {
  return () => {
    const target = cache();
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body:
        target === undefined
          ? { cache: null }
          : {
              cache: {
                name: target.name,
                store: target.store.kind,
                ...target.stats,
                inFlight: target.flights.size,
              },
            },
    };
  };
}
