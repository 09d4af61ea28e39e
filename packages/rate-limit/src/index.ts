export { type Duration, type DurationUnit, durationMs } from './duration.js';
export {
  BulkheadFull,
  ConcurrencyLimited,
  OutboundLimited,
  Overloaded,
  RateLimited,
  RateLimitUnavailable,
} from './errors.js';
export { apiKeyKey, ipKey, type KeyFunction, type KeyPart, type KeySpec } from './keys.js';
export type {
  ConcurrencyOptions,
  ExemptOptions,
  LimitWindow,
  RateLimitOptions,
  RouteLimit,
  ShedOptions,
} from './options.js';
export {
  durationSchema,
  exemptOptionsSchema,
  keySpecSchema,
  limitWindowSchema,
  memoryStoreOptionsSchema,
  outboundLimiterOptionsSchema,
  rateLimitOptionsSchema,
  redisStoreOptionsSchema,
  routeLimitSchema,
} from './options.js';
export {
  type AcquireOptions,
  createOutboundLimiter,
  type OutboundLimiter,
  type OutboundLimiterOptions,
  type OutboundLimiterStats,
} from './outbound.js';
export { type CalendarPeriod, periodAt } from './periods.js';
export { type RateLimit, type RateLimitOutcome, type RateLimitStats, rateLimit } from './rate-limit.js';
export {
  type Answer,
  type Counter,
  type CounterSpec,
  type LimiterStore,
  type MemoryStoreOptions,
  memoryStore,
  type RedisClient,
  type RedisClientOptions,
  type RedisStoreOptions,
  redisStore,
  StoreTimeout,
} from './store.js';
