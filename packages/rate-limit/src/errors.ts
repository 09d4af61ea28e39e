// Every way rate limiting can refuse a request, each with a stable code. `Retry-After` always comes
// with the refusal (RFC 9110 §10.2.3), so a well-behaved client knows when to come back.
import { defineError } from '@gatehousejs/core';

/** A window's points are spent for this key (burst, sustained, or a daily/monthly quota). 429. */
export const RateLimited = defineError('GH_RATE_LIMITED', 429, 'Too many requests');
/** This key already has as many requests in flight as `concurrency.perKey` allows. 429. */
export const ConcurrencyLimited = defineError('GH_CONCURRENCY_LIMITED', 429, 'Too many concurrent requests');
/** The global bulkhead (`concurrency.global`) is full. 503. */
export const BulkheadFull = defineError('GH_BULKHEAD_FULL', 503, 'Server busy', { expose: true });
/** Load shedding: the event loop is lagging beyond `shed.maxEventLoopDelayMs`. 503. */
export const Overloaded = defineError('GH_OVERLOADED', 503, 'Server overloaded', { expose: true });
/** The limiter's store failed and `failure` is `'closed'` with no insurance limiter to fall back on. 503. */
export const RateLimitUnavailable = defineError(
  'GH_RATE_LIMIT_UNAVAILABLE',
  503,
  'Rate limiting temporarily unavailable',
  { expose: true },
);
/** An outbound call was refused by the outbound limiter protecting an upstream (no token in time). 503. */
export const OutboundLimited = defineError('GH_OUTBOUND_LIMITED', 503, 'Upstream capacity exhausted', {
  expose: true,
});
