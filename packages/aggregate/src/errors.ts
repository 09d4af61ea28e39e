// Every way a composition or the response cache can refuse or fail, each with a stable code. A
// required call's failure keeps the upstream's meaning where the caller can act on it (401, 403, 404,
// 429) and becomes a gateway error otherwise (502, 503, 504); the problem lists every failed call.
import { defineError } from '@gatehousejs/core';

const exposed = { expose: true };

/** A required call answered 404: the composed resource does not exist. 404. */
export const AggregateNotFound = defineError('GH_AGGREGATE_NOT_FOUND', 404, 'Not found', exposed);
/** A required call answered 401: the caller's credentials were refused upstream. 401. */
export const AggregateUnauthorized = defineError(
  'GH_AGGREGATE_UNAUTHORIZED',
  401,
  'Unauthorized upstream',
  exposed,
);
/** A required call answered 403. 403. */
export const AggregateForbidden = defineError('GH_AGGREGATE_FORBIDDEN', 403, 'Forbidden upstream', exposed);
/** A required call answered 429. 429. */
export const AggregateTooManyRequests = defineError(
  'GH_AGGREGATE_TOO_MANY_REQUESTS',
  429,
  'Too many requests upstream',
  exposed,
);
/** A required call failed otherwise: another status, invalid JSON, a body over the cap, a reset. 502. */
export const AggregateUpstreamFailed = defineError(
  'GH_AGGREGATE_UPSTREAM_FAILED',
  502,
  'A required upstream call failed',
  exposed,
);
/** A required call found its service unavailable (no endpoint, circuit open, bulkhead full). 503. */
export const AggregateUnavailable = defineError(
  'GH_AGGREGATE_UNAVAILABLE',
  503,
  'A required upstream service is unavailable',
  exposed,
);
/** The composition's deadline, or a required call's, passed. 504. */
export const AggregateTimeout = defineError('GH_AGGREGATE_TIMEOUT', 504, 'Composition timed out', exposed);
/** A value taken from the request cannot be placed in an upstream request (`..`, empty, a control character). 400. */
export const AggregateBadValue = defineError(
  'GH_AGGREGATE_BAD_VALUE',
  400,
  'Request value not usable upstream',
  exposed,
);

// Per-call reasons, reported in the `errors` member of the problem and of partial answers.
/** A call's answer was not valid JSON. 502. */
export const AggregateInvalidJson = defineError(
  'GH_AGGREGATE_INVALID_JSON',
  502,
  'Upstream answered invalid JSON',
  exposed,
);
/** A call's answer was larger than `maxBodyBytes`. 502. */
export const AggregateBodyTooLarge = defineError(
  'GH_AGGREGATE_BODY_TOO_LARGE',
  502,
  'Upstream answer too large',
  exposed,
);
/** A call answered a status outside 2xx (the upstream status is in the entry). 502. */
export const AggregateUpstreamStatus = defineError(
  'GH_AGGREGATE_UPSTREAM_STATUS',
  502,
  'Upstream answered an error status',
  exposed,
);

/** A purge request to the admin API was malformed (neither `key` nor `prefix`, or both). 400. */
export const CachePurgeInvalid = defineError('GH_CACHE_PURGE_INVALID', 400, 'Invalid purge request', exposed);
