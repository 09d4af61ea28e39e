// Every way an outbound call can fail, each with a stable code. A gateway that lets one of these
// escape a handler renders it as 502 / 503 / 504 problem+json; the cause stays in logs.
import { defineError } from '@gatehousejs/core';

const exposed = { expose: true };

/** No endpoint could take the call: none discovered, all refused connections, or all failed. 503. */
export const UpstreamUnavailable = defineError(
  'GH_UPSTREAM_UNAVAILABLE',
  503,
  'Upstream service unavailable',
  exposed,
);
/** The per-try timeout or the overall deadline passed before a response arrived. 504. */
export const UpstreamTimeout = defineError('GH_UPSTREAM_TIMEOUT', 504, 'Upstream timed out', exposed);
/** The service's (or every eligible endpoint's) circuit breaker is open. 503. */
export const CircuitOpen = defineError('GH_CIRCUIT_OPEN', 503, 'Upstream circuit open', exposed);
/** A retry was needed but the retry budget is spent (retries may never multiply load). 503. */
export const RetryBudgetExhausted = defineError(
  'GH_RETRY_BUDGET_EXHAUSTED',
  503,
  'Upstream failing; retry budget exhausted',
  exposed,
);
/** The connection broke mid-response or the upstream answered something that is not HTTP. 502. */
export const UpstreamBadResponse = defineError(
  'GH_UPSTREAM_BAD_RESPONSE',
  502,
  'Bad response from upstream',
  exposed,
);
/** The client's bulkhead is full (max concurrent and pending calls). 503. */
export const ClientBulkheadFull = defineError(
  'GH_CLIENT_BULKHEAD_FULL',
  503,
  'Too many calls to upstream',
  exposed,
);
/** TLS failed: the server's certificate is not trusted or does not carry the expected identity. 502. */
export const UpstreamTlsError = defineError(
  'GH_UPSTREAM_TLS',
  502,
  'Upstream TLS verification failed',
  exposed,
);
