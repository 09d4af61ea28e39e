// Each route's numbers over time, for the dashboard's charts: one point every `sampleMs`, the latest
// `points` kept. A point holds, per side, requests per second and the error rate since the point
// before (from the totals' growth: exact, not a sample), and the p50 and p99 latency over the gate
// window (what /migration reports; null when the window is empty). Kept here, not in the browser, so
// a page opened late still sees the last half hour.
import type { MigrationReport } from '@gatehousejs/routes';

/** One point: time (ms since the epoch), then per side (local, remote) the four numbers. */
export interface SeriesPoint {
  readonly t: number;
  readonly local: SidePoint;
  readonly remote: SidePoint;
}

export interface SidePoint {
  /** Requests per second since the point before (null for a route's first point). */
  readonly rps: number | null;
  /** Errors / requests since the point before (null without requests). */
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

interface Last {
  t: number;
  local: { requests: number; errors: number };
  remote: { requests: number; errors: number };
}

/** A bounded series per route, fed with `/migration` lines. */
export class Series {
  readonly #points = new Map<string, SeriesPoint[]>();
  readonly #last = new Map<string, Last>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Takes a point of every route in `reports` at `now`; routes no longer there are forgotten. */
  sample(reports: readonly MigrationReport[], now = Date.now()): void {
    const seen = new Set<string>();
    for (const r of reports) {
      seen.add(r.name);
      const before = this.#last.get(r.name);
      const totals = {
        local: { requests: r.local.total.requests, errors: r.local.total.errors },
        remote: { requests: r.remote.total.requests, errors: r.remote.total.errors },
      };
      const side = (name: 'local' | 'remote'): SidePoint => {
        const latency = r[name].window.latency;
        const now_ = totals[name];
        const then = before?.[name];
        const seconds = before === undefined ? 0 : (now - before.t) / 1000;
        const requests = then === undefined ? 0 : now_.requests - then.requests;
        const errors = then === undefined ? 0 : now_.errors - then.errors;
        return {
          rps: then === undefined || seconds <= 0 ? null : Math.round((requests / seconds) * 100) / 100,
          errorRate: requests > 0 ? Math.round((errors / requests) * 10_000) / 10_000 : null,
          p50Ms: latency.samples > 0 ? latency.p50Ms : null,
          p99Ms: latency.samples > 0 ? latency.p99Ms : null,
        };
      };
      let list = this.#points.get(r.name);
      if (list === undefined) {
        list = [];
        this.#points.set(r.name, list);
      }
      list.push({ t: now, local: side('local'), remote: side('remote') });
      if (list.length > this.#max) list.splice(0, list.length - this.#max);
      this.#last.set(r.name, { t: now, ...totals });
    }
    for (const name of [...this.#points.keys()]) {
      if (seen.has(name)) continue;
      this.#points.delete(name);
      this.#last.delete(name);
    }
  }

  /** Every route's points, oldest first. */
  all(): Record<string, readonly SeriesPoint[]> {
    return Object.fromEntries(this.#points);
  }
}
