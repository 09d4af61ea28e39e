// The client's view of each endpoint: its connection pool, load, latency, circuit breaker, active
// health and outlier-ejection state; and the set of endpoints a call may go to right now.
import type { Endpoint } from '@gatehouse/discovery';
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  SamplingBreaker,
} from 'cockatiel';
import type { Pool } from 'undici';
import type { Balanced } from './balancer.js';

/** Circuit breaker settings (per endpoint and per service). */
export interface BreakerOptions {
  /**
   * `'consecutive'`: open after `threshold` failures in a row. `'rate'`: open when the share of
   * failures over `windowMs` exceeds `threshold` (0–1) with at least `minimumRps` calls per second.
   *
   * @default 'consecutive'
   */
  mode?: 'consecutive' | 'rate';
  /** @default 5 (consecutive) or 0.5 (rate) */
  threshold?: number;
  /** Rate mode's sampling window. @default 10_000 */
  windowMs?: number;
  /** Rate mode's minimum traffic before it may open. @default 5 */
  minimumRps?: number;
  /**
   * How long the circuit stays open before a single probe call is let through (half-open); each
   * failed probe doubles it, up to `maxHalfOpenAfterMs`.
   *
   * @default 5_000
   */
  halfOpenAfterMs?: number;
  /** @default 60_000 */
  maxHalfOpenAfterMs?: number;
}

/** Passive outlier ejection settings. */
export interface OutlierOptions {
  /** Failures in a row (5xx, refused or reset connections, timeouts) that eject an endpoint. @default 5 */
  consecutiveFailures?: number;
  /** The first ejection's length; the n-th lasts n times as long, up to `maxEjectionMs`. @default 10_000 */
  baseEjectionMs?: number;
  /** @default 300_000 */
  maxEjectionMs?: number;
  /** Never eject more than this share of the endpoints (percent). @default 50 */
  maxEjectionPercent?: number;
}

export function createBreaker(options: BreakerOptions): CircuitBreakerPolicy {
  const breaker =
    options.mode === 'rate'
      ? new SamplingBreaker({
          threshold: options.threshold ?? 0.5,
          duration: options.windowMs ?? 10_000,
          minimumRps: options.minimumRps ?? 5,
        })
      : new ConsecutiveBreaker(options.threshold ?? 5);
  return circuitBreaker(handleAll, {
    breaker,
    halfOpenAfter: new ExponentialBackoff({
      initialDelay: options.halfOpenAfterMs ?? 5_000,
      maxDelay: options.maxHalfOpenAfterMs ?? 60_000,
      exponent: 2,
    }),
  });
}

/** A response status the breaker and outlier detection count as the endpoint failing. */
export const isServerFailure = (status: number): boolean => status >= 500;

/** One endpoint as the client tracks it. */
export class EndpointState implements Balanced {
  readonly endpoint: Endpoint;
  readonly id: string;
  readonly weight: number;
  readonly origin: string;
  pool: Pool;
  readonly breaker: CircuitBreakerPolicy | undefined;
  inflight = 0;
  latencyMs = 0;
  /** Active health: false after `unhealthyThreshold` failed probes, true again after `healthyThreshold`. */
  healthy = true;
  probeStreak = 0;
  failures = 0;
  ejections = 0;
  ejectedUntil = 0;
  removed = false;
  readonly counts = { requests: 0, failures: 0, retries: 0, ejections: 0 };

  constructor(endpoint: Endpoint, pool: (state: EndpointState) => Pool, breaker: BreakerOptions | undefined) {
    this.endpoint = endpoint;
    this.id = endpoint.id;
    this.weight = endpoint.weight > 0 ? endpoint.weight : 1;
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    this.origin = `${endpoint.protocol}//${host}:${endpoint.port}`;
    this.pool = pool(this);
    this.breaker = breaker === undefined ? undefined : createBreaker(breaker);
  }

  /** Peak-sensitive EWMA: a slow response counts at once, a fast one decays the estimate (τ = 1 s). */
  observeLatency(ms: number, now: number, last: { at: number }): void {
    if (this.latencyMs === 0 || ms > this.latencyMs) {
      this.latencyMs = ms;
    } else {
      const w = Math.exp(-(now - last.at) / 1000);
      this.latencyMs = this.latencyMs * w + ms * (1 - w);
    }
    last.at = now;
  }

  get circuitOpen(): boolean {
    return this.breaker !== undefined && this.breaker.state === CircuitState.Open;
  }
}

/**
 * Which endpoints a call may use now: not ejected, healthy, circuit not open, best priority, local
 * zone when it has any. When that leaves none, every endpoint (panic: route to all rather than none).
 */
export function eligible(
  all: readonly EndpointState[],
  now: number,
  zone: string | undefined,
): { candidates: readonly EndpointState[]; panic: boolean } {
  let best = Number.POSITIVE_INFINITY;
  const ok: EndpointState[] = [];
  for (const state of all) {
    if (state.removed || state.ejectedUntil > now || !state.healthy || state.circuitOpen) continue;
    const priority = state.endpoint.priority;
    if (priority < best) {
      best = priority;
      ok.length = 0;
    }
    if (priority === best) ok.push(state);
  }
  if (ok.length === 0) {
    const live = all.filter((s) => !s.removed);
    return { candidates: live, panic: live.length > 0 };
  }
  if (zone !== undefined) {
    const local = ok.filter((s) => s.endpoint.zone === zone);
    if (local.length > 0) return { candidates: local, panic: false };
  }
  return { candidates: ok, panic: false };
}
