// The client's view of each endpoint: its connection pool, load, latency, circuit breaker, active
// health and outlier-ejection state; and the set of endpoints a call may go to right now.
import type { Endpoint } from '@gatehousejs/discovery';
import type { Pool } from 'undici';
import type { Balanced } from './balancer.js';
import { Breaker, type BreakerOptions } from './breaker.js';

export type { BreakerOptions } from './breaker.js';

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

/** A response status the breaker and outlier detection count as the endpoint failing. */
export const isServerFailure = (status: number): boolean => status >= 500;

/** One endpoint as the client tracks it. */
export class EndpointState implements Balanced {
  readonly endpoint: Endpoint;
  readonly id: string;
  readonly weight: number;
  readonly origin: string;
  pool: Pool;
  readonly breaker: Breaker | undefined;
  inflight = 0;
  #latencyMs = 0;
  #latencyAt = 0;
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
    this.breaker = breaker === undefined ? undefined : new Breaker(breaker);
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

  /** True while the breaker keeps calls away (see {@link Breaker.blocked}). */
  get circuitOpen(): boolean {
    return this.breaker?.blocked ?? false;
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
