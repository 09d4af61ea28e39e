// Active health checks: each endpoint is probed on an interval; `unhealthyThreshold` failed probes in
// a row take it out of rotation and `healthyThreshold` passing ones bring it back. Written here
// because undici has no health checking and the probes must share the client's endpoint set.
import type { EndpointState } from './endpoints.js';
import { loadUndici } from './undici.js';

/** Options of active health checks. */
export interface HealthCheckOptions {
  /** The path probed with GET (`/health`). */
  path: string;
  /** @default 10_000 */
  intervalMs?: number;
  /** A probe slower than this fails. @default 1_000 */
  timeoutMs?: number;
  /** Passing probes in a row that bring an endpoint back. @default 2 */
  healthyThreshold?: number;
  /** Failed probes in a row that take an endpoint out. @default 3 */
  unhealthyThreshold?: number;
  /** Statuses that pass. @default 200–299 */
  expectStatus?: readonly number[];
}

/** Starts probing; `stop()` ends it. Probes never overlap for one endpoint. */
export function startHealthChecks(
  endpoints: () => readonly EndpointState[],
  options: HealthCheckOptions,
  changed: () => void,
): { stop(): void } {
  const intervalMs = options.intervalMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const healthyThreshold = options.healthyThreshold ?? 2;
  const unhealthyThreshold = options.unhealthyThreshold ?? 3;
  const passes = (status: number) =>
    options.expectStatus === undefined
      ? status >= 200 && status < 300
      : options.expectStatus.includes(status);
  const probing = new WeakSet<EndpointState>();

  const probe = async (state: EndpointState) => {
    if (probing.has(state) || state.removed) return;
    probing.add(state);
    let ok = false;
    try {
      const res = await loadUndici().request(`${state.origin}${options.path}`, {
        dispatcher: state.pool,
        method: 'GET',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { 'user-agent': 'gatehouse-health-check' },
      });
      await res.body.dump();
      ok = passes(res.statusCode);
    } catch {
      ok = false;
    } finally {
      probing.delete(state);
    }
    // The streak counts in one direction: positive while passing, negative while failing.
    if (ok) state.probeStreak = state.probeStreak > 0 ? state.probeStreak + 1 : 1;
    else state.probeStreak = state.probeStreak < 0 ? state.probeStreak - 1 : -1;
    if (!state.healthy && state.probeStreak >= healthyThreshold) {
      state.healthy = true;
      changed();
    }
    if (state.healthy && -state.probeStreak >= unhealthyThreshold) {
      state.healthy = false;
      changed();
    }
  };

  const tick = () => {
    for (const state of endpoints()) void probe(state);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
