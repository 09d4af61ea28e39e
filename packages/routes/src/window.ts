// What one side of a route did, read three ways: over the gate window (what gates judge), since the
// last mode change (the current stage), and in total. Counts over the window are a ring of buckets;
// latency percentiles are exact, computed from the latest requests' own durations (a ring of
// samples), never from bucket bounds. Written here because the gates need windowed, per-side
// percentiles read by the process itself, which neither prom-client nor the OTel API expose; and
// exact over a bounded sample rather than an HDR histogram (hdr-histogram-js): recording is two
// array writes, percentiles are read at most once a second per route, and the same samples serve
// rank tests on per-request latencies.

const BUCKETS = 10;
/**
 * Latest requests per side whose durations are kept for percentiles. Percentiles of a window or a
 * stage with more requests are exact over its latest `LATENCY_SAMPLES` (reported as `samples`).
 */
export const LATENCY_SAMPLES = 2_048;

class Bucket {
  start = 0;
  requests = 0;
  errors = 0;
  reset(start: number): void {
    this.start = start;
    this.requests = 0;
    this.errors = 0;
  }
}

/** Exact latency percentiles (nearest rank) over `samples` requests, in milliseconds (µs precision). */
export interface LatencySummary {
  /** Requests the percentiles are computed over: all of them, or the latest {@link LATENCY_SAMPLES}. */
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Requests, errors and their rate. */
export interface SideCounts {
  readonly requests: number;
  readonly errors: number;
  /** errors / requests; 0 without requests. */
  readonly errorRate: number;
}

/** One side over a span of time: counts and exact latency percentiles (all 0 without requests). */
export interface SideSnapshot extends SideCounts {
  readonly latency: LatencySummary;
}

const NO_LATENCY: LatencySummary = Object.freeze({ samples: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
const round = (ms: number) => Math.round(ms * 1000) / 1000;
const rate = (errors: number, requests: number) => (requests === 0 ? 0 : errors / requests);

/** Nearest-rank percentiles of `values` (sorted in place). */
export function summarize(values: Float64Array): LatencySummary {
  const n = values.length;
  if (n === 0) return NO_LATENCY;
  values.sort();
  const at = (q: number) => round(values[Math.max(0, Math.ceil(q * n) - 1)]!);
  return { samples: n, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: round(values[n - 1]!) };
}

/**
 * Requests, errors and latencies of one side: over the last `windowMs`, since the stage began
 * ({@link SideWindow.newStage}), and since the window was made.
 */
export class SideWindow {
  readonly #buckets: Bucket[];
  #span: number;
  #total = 0;
  #totalErrors = 0;
  #stageStart = 0;
  /** When the window last started empty (a new stage, a new length): older samples are not in it. */
  #windowStart = 0;
  #stageRequests = 0;
  #stageErrors = 0;
  // Made on the first request: a route that never sees traffic holds no sample arrays.
  #at: Float64Array | undefined;
  #ms: Float64Array | undefined;
  #next = 0;
  #held = 0;

  constructor(windowMs: number, now = Date.now()) {
    this.#span = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.#buckets = Array.from({ length: BUCKETS }, () => new Bucket());
    this.#stageStart = now;
    this.#windowStart = now;
  }

  /** Requests recorded since the window was made (not windowed). */
  get total(): number {
    return this.#total;
  }

  get totalErrors(): number {
    return this.#totalErrors;
  }

  /** When the current stage began (ms since the epoch). */
  get stageStart(): number {
    return this.#stageStart;
  }

  #bucket(now: number): Bucket {
    const start = now - (now % this.#span);
    const bucket = this.#buckets[Math.floor(start / this.#span) % BUCKETS]!;
    if (bucket.start !== start) bucket.reset(start);
    return bucket;
  }

  record(durationMs: number, error: boolean, now = Date.now()): void {
    const bucket = this.#bucket(now);
    bucket.requests++;
    this.#total++;
    this.#stageRequests++;
    if (error) {
      bucket.errors++;
      this.#totalErrors++;
      this.#stageErrors++;
    }
    this.#at ??= new Float64Array(LATENCY_SAMPLES);
    this.#ms ??= new Float64Array(LATENCY_SAMPLES);
    this.#at[this.#next] = now;
    this.#ms[this.#next] = durationMs;
    this.#next = (this.#next + 1) % LATENCY_SAMPLES;
    if (this.#held < LATENCY_SAMPLES) this.#held++;
  }

  /** Durations of the kept samples recorded at or after `since`. */
  #latency(since: number): LatencySummary {
    const at = this.#at;
    const ms = this.#ms;
    if (at === undefined || ms === undefined || this.#held === 0) return NO_LATENCY;
    const out = new Float64Array(this.#held);
    let n = 0;
    for (let i = 0; i < this.#held; i++) if (at[i]! >= since) out[n++] = ms[i]!;
    return summarize(out.subarray(0, n));
  }

  /** The last `windowMs` of the current stage: what the gates judge. */
  snapshot(now = Date.now()): SideSnapshot {
    const oldest = now - this.#span * BUCKETS;
    let requests = 0;
    let errors = 0;
    for (const bucket of this.#buckets) {
      if (bucket.start <= oldest || bucket.requests === 0) continue;
      requests += bucket.requests;
      errors += bucket.errors;
    }
    return {
      requests,
      errors,
      errorRate: rate(errors, requests),
      // The samples of exactly the buckets counted: those that began after `oldest`.
      latency:
        requests === 0
          ? NO_LATENCY
          : this.#latency(
              Math.max(Math.floor(oldest / this.#span) * this.#span + this.#span, this.#windowStart),
            ),
    };
  }

  /** Since the current stage began. */
  stage(): SideSnapshot {
    const requests = this.#stageRequests;
    return {
      requests,
      errors: this.#stageErrors,
      errorRate: rate(this.#stageErrors, requests),
      latency: requests === 0 ? NO_LATENCY : this.#latency(this.#stageStart),
    };
  }

  /**
   * The durations (ms) of this stage's requests among the kept samples (its latest
   * {@link LATENCY_SAMPLES} at most), oldest first is not guaranteed: for rank tests, which need
   * per-request values, not percentiles.
   */
  stageSamples(): Float64Array {
    const at = this.#at;
    const ms = this.#ms;
    if (at === undefined || ms === undefined || this.#stageRequests === 0) return new Float64Array(0);
    const out = new Float64Array(this.#held);
    let n = 0;
    for (let i = 0; i < this.#held; i++) if (at[i]! >= this.#stageStart) out[n++] = ms[i]!;
    return out.slice(0, n);
  }

  /** Since the window was made, across every stage. */
  totals(): SideCounts {
    return {
      requests: this.#total,
      errors: this.#totalErrors,
      errorRate: rate(this.#totalErrors, this.#total),
    };
  }

  /** Starts a new stage (a mode change): the window and the stage's counts start empty; totals stay. */
  newStage(now = Date.now()): void {
    for (const bucket of this.#buckets) bucket.reset(0);
    this.#stageStart = now;
    this.#windowStart = now;
    this.#stageRequests = 0;
    this.#stageErrors = 0;
  }

  /** Takes a new window length; what was counted in the old window is forgotten, the stage is kept. */
  resize(windowMs: number, now = Date.now()): void {
    this.#span = Math.max(1, Math.ceil(windowMs / BUCKETS));
    for (const bucket of this.#buckets) bucket.reset(0);
    this.#windowStart = now;
  }
}

/** Judged / differing counts (shadow comparisons, contract checks) over the window. */
export class DiffWindow {
  #span: number;
  readonly #start = new Float64Array(BUCKETS);
  readonly #compared = new Uint32Array(BUCKETS);
  readonly #different = new Uint32Array(BUCKETS);

  constructor(windowMs: number) {
    this.#span = Math.max(1, Math.ceil(windowMs / BUCKETS));
  }

  record(different: boolean, now = Date.now()): void {
    const start = now - (now % this.#span);
    const i = Math.floor(start / this.#span) % BUCKETS;
    if (this.#start[i] !== start) {
      this.#start[i] = start;
      this.#compared[i] = 0;
      this.#different[i] = 0;
    }
    this.#compared[i]!++;
    if (different) this.#different[i]!++;
  }

  snapshot(now = Date.now()): { compared: number; different: number; rate: number } {
    const oldest = now - this.#span * BUCKETS;
    let compared = 0;
    let different = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#start[i]! <= oldest) continue;
      compared += this.#compared[i]!;
      different += this.#different[i]!;
    }
    return { compared, different, rate: compared === 0 ? 0 : different / compared };
  }

  clear(): void {
    this.#start.fill(0);
    this.#compared.fill(0);
    this.#different.fill(0);
  }

  /** Takes a new window length, forgetting what was counted. */
  resize(windowMs: number): void {
    this.#span = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.clear();
  }
}
