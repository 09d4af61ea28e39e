// Load shedding on event-loop delay. Written here because no maintained library does it for both
// frameworks without owning the server (under-pressure is a fastify plugin, toobusy-js is unmaintained):
// a sampler measures how late its own timer fires and the p99 of perf_hooks' delay histogram over the
// last interval; while either exceeds the threshold, new requests are refused with 503.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** Reads whether the process is overloaded now; one boolean read per request. */
export interface LoadMonitor {
  readonly overloaded: boolean;
  /** The delay measured by the last sample, in milliseconds. */
  readonly delayMs: number;
  stop(): void;
}

/** Starts sampling; `stop()` ends it (the timer never keeps the process alive). */
export function monitorLoad(maxDelayMs: number, intervalMs: number): LoadMonitor {
  let histogram: IntervalHistogram | undefined;
  try {
    histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
  } catch {
    histogram = undefined;
  }
  const state = { overloaded: false, delayMs: 0 };
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - expected);
    expected = now + intervalMs;
    const p99 = histogram === undefined ? 0 : histogram.percentile(99) / 1e6;
    histogram?.reset();
    state.delayMs = Math.max(late, p99);
    state.overloaded = state.delayMs > maxDelayMs;
  }, intervalMs);
  timer.unref();
  return {
    get overloaded() {
      return state.overloaded;
    },
    get delayMs() {
      return state.delayMs;
    },
    stop() {
      clearInterval(timer);
      histogram?.disable();
    },
  };
}
