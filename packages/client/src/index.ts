export {
  type Balanced,
  type Balancer,
  type BalancerName,
  balancerNamed,
  ewma,
  p2c,
  ringHash,
  roundRobin,
} from './balancer.js';
export { RetryBudget, type RetryBudgetOptions } from './budget.js';
export {
  API_VERSIONS_METADATA,
  type CallOptions,
  type CallResponse,
  type Client,
  type ClientOptions,
  type ClientStats,
  type ClientTracer,
  createClient,
  type RetryOptions,
  type TimeoutOptions,
  type TlsOptions,
  type UpgradeOptions,
  type UpgradeResponse,
} from './client.js';
export {
  currentDeadline,
  DEADLINE_HEADER,
  type DeadlineOptions,
  deadline,
  deadlineOptionsSchema,
  withDeadline,
} from './deadline.js';
export type { BreakerOptions, OutlierOptions } from './endpoints.js';
export {
  CircuitOpen,
  ClientBulkheadFull,
  RetryBudgetExhausted,
  UpstreamBadResponse,
  UpstreamTimeout,
  UpstreamTlsError,
  UpstreamUnavailable,
} from './errors.js';
export type { HealthCheckOptions } from './health.js';
export {
  breakerOptionsSchema,
  clientOptionsSchema,
  healthCheckOptionsSchema,
  outlierOptionsSchema,
  retryBudgetOptionsSchema,
  tlsOptionsSchema,
} from './options.js';
export { loadUndici } from './undici.js';
