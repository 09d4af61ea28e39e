// The client's view of each endpoint: its connection pool, load, latency, circuit breaker, active
// health and outlier-ejection state; and the set of endpoints a call may go to right now.
import type { Endpoint } from '@gatehouse/discovery';
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  noJitterGenerator,
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

/** Marks an attempt the caller cancelled: it says nothing about the endpoint's health. */
export const CALLER_CANCELLED: unique symbol = Symbol('gatehouse.callerCancelled');

export function createBreaker(options: BreakerOptions): CircuitBreakerPolicy {
  const breaker =
    options.mode === 'rate'
      ? new SamplingBreaker({
          threshold: options.threshold ?? 0.5,
          duration: options.windowMs ?? 10_000,
          minimumRps: options.minimumRps ?? 5,
        })
      : new ConsecutiveBreaker(options.threshold ?? 5);
  // Errors and 5xx answers both count as failures (the answer is judged as a result, with no throw),
  // except a call its caller cancelled (a client that went away).
  const failures = handleWhen(
    (error) => (error as { [CALLER_CANCELLED]?: boolean } | undefined)?.[CALLER_CANCELLED] !== true,
  ).orWhenResult((result) =>
    isServerFailure((result as { statusCode?: number } | undefined)?.statusCode ?? 0),
  );
  return circuitBreaker(failures, {
    breaker,
    // No jitter: the n-th consecutive opening lasts exactly halfOpenAfterMs × 2^(n−1) (capped), which
    // EndpointState mirrors to know when a probe may go.
    halfOpenAfter: new ExponentialBackoff({
      generator: noJitterGenerator,
      initialDelay: options.halfOpenAfterMs ?? 5_000,
      maxDelay: options.maxHalfOpenAfterMs ?? 60_000,
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
  #latencyMs = 0;
  #latencyAt = 0;
  /** Consecutive openings of the breaker and when the last began (Date.now()), to time the probe. */
  #opens = 0;
  #openedAt = 0;
  readonly #halfOpenAfterMs: number;
  readonly #maxHalfOpenAfterMs: number;
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
    this.#halfOpenAfterMs = breaker?.halfOpenAfterMs ?? 5_000;
    this.#maxHalfOpenAfterMs = breaker?.maxHalfOpenAfterMs ?? 60_000;
    this.breaker?.onStateChange((state) => {
      if (state === CircuitState.Open) {
        this.#opens++;
        this.#openedAt = Date.now();
      } else if (state === CircuitState.Closed) {
        this.#opens = 0;
      }
    });
  }

  /**
   * Smoothed latency in ms, decaying towards 0 while the endpoint gets no answers (τ = 10 s), so one
   * slow answer does not keep an endpoint out of rotation for ever.
   */
  get latencyMs(): number {
    if (this.#latencyMs === 0) return 0;
    return this.#latencyMs * Math.exp(-(performance.now() - this.#latencyAt) / 10_000);
  }

  /** Peak-sensitive EWMA: a slow response counts at once, fast ones pull the estimate down (τ = 1 s). */
  observeLatency(ms: number, now: number): void {
    const current = this.latencyMs;
    if (current === 0 || ms > current) {
      this.#latencyMs = ms;
    } else {
      const w = Math.exp(-(now - this.#latencyAt) / 1000);
      this.#latencyMs = current * w + ms * (1 - w);
    }
    this.#latencyAt = now;
  }

  /**
   * True while the breaker keeps calls away: open and its delay not yet over, or half-open with its
   * single probe in flight. Once the delay is over the endpoint is eligible again, so that a call can
   * carry the probe (cockatiel moves to half-open only inside execute()).
   */
  get circuitOpen(): boolean {
    if (this.breaker === undefined) return false;
    const state = this.breaker.state;
    if (state === CircuitState.HalfOpen) return true;
    if (state !== CircuitState.Open) return false;
    const delay = Math.min(this.#maxHalfOpenAfterMs, this.#halfOpenAfterMs * 2 ** (this.#opens - 1));
    return Date.now() - this.#openedAt < delay;
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
