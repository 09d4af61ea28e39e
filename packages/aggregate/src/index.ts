export { type Aggregate, aggregate } from './aggregate.js';
export { type BufferedBody, bufferedBody, type StoredResponse } from './body.js';
export {
  type CacheAnswer,
  type CacheRequest,
  type CacheStats,
  HttpCache,
  type HttpCacheSettings,
  type Origin,
  scopeOf,
} from './cache.js';
export { CACHED_BYTES, CLEAN_HEADERS, cachedResponse, cachingClient } from './caching-client.js';
export {
  type CallError,
  type Composition,
  type CompositionRuntime,
  compileComposition,
  runComposition,
} from './compose.js';
export {
  AggregateBadValue,
  AggregateBodyTooLarge,
  AggregateForbidden,
  AggregateInvalidJson,
  AggregateNotFound,
  AggregateTimeout,
  AggregateTooManyRequests,
  AggregateUnauthorized,
  AggregateUnavailable,
  AggregateUpstreamFailed,
  AggregateUpstreamStatus,
  CachePurgeInvalid,
} from './errors.js';
export {
  type AggregateOptions,
  aggregateOptionsSchema,
  type CacheOptions,
  type CallSpec,
  type CompositionContext,
  cacheOptionsSchema,
  type ResolvedAggregateOptions,
  type ResolvedCacheOptions,
} from './options.js';
export {
  cacheStatsHandler,
  createResponseCache,
  observeCache,
  purgeHandler,
  type ResponseCache,
} from './response-cache.js';
export { type FlightCaller, type FlightStats, SingleFlight } from './single-flight.js';
export {
  type CacheEntry,
  type CacheStore,
  type MemoryStoreOptions,
  memoryStore,
  type RedisCacheClient,
  type RedisCacheStoreOptions,
  redisStore,
} from './store.js';
