// Sliding-window counters for one side of a route (requests, errors, a latency histogram for p99),
// cheap enough to record on every request: a ring of buckets, each a few numbers and a fixed array of
// log-spaced latency bins. Written here because the gates need windowed p99 per side, which neither
// prom-client nor the OTel API expose to the process itself.

const BUCKETS = 10;
// Latency bins: 0.1 ms × 1.25^i, up to about 10 minutes; p99 is reported as the bin's upper bound
// (within 25 %).
const BINS = 72;
const BASE_MS = 0.1;
const GROWTH = 1.25;
const LOG_GROWTH = Math.log(GROWTH);

const binOf = (ms: number): number =>
  ms <= BASE_MS ? 0 : Math.min(BINS - 1, Math.ceil(Math.log(ms / BASE_MS) / LOG_GROWTH));
const upperOf = (bin: number): number => BASE_MS * GROWTH ** bin;

class Bucket {
  start = 0;
  requests = 0;
  errors = 0;
  readonly latency = new Uint32Array(BINS);
  reset(start: number): void {
    this.start = start;
    this.requests = 0;
    this.errors = 0;
    this.latency.fill(0);
  }
}

/** A snapshot of one side over the window. */
export interface SideSnapshot {
  readonly requests: number;
  readonly errors: number;
  /** errors / requests; 0 without requests. */
  readonly errorRate: number;
  /** Milliseconds; 0 without requests. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Requests, errors and latencies of one side over the last `windowMs`. */
export class SideWindow {
  readonly #buckets: Bucket[];
  readonly #span: number;
  #total = 0;
  #totalErrors = 0;

  constructor(windowMs: number) {
    this.#span = Math.max(1, Math.ceil(windowMs / BUCKETS));
    this.#buckets = Array.from({ length: BUCKETS }, () => new Bucket());
  }

  /** Requests recorded since the window was made (not windowed). */
  get total(): number {
    return this.#total;
  }

  get totalErrors(): number {
    return this.#totalErrors;
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
    if (error) {
      bucket.errors++;
      this.#totalErrors++;
    }
    bucket.latency[binOf(durationMs)]!++;
  }

  snapshot(now = Date.now()): SideSnapshot {
    const oldest = now - this.#span * BUCKETS;
    let requests = 0;
    let errors = 0;
    const bins = new Uint32Array(BINS);
    for (const bucket of this.#buckets) {
      if (bucket.start <= oldest || bucket.requests === 0) continue;
      requests += bucket.requests;
      errors += bucket.errors;
      for (let i = 0; i < BINS; i++) bins[i]! += bucket.latency[i]!;
    }
    const quantile = (q: number) => {
      if (requests === 0) return 0;
      const rank = Math.ceil(q * requests);
      let seen = 0;
      for (let i = 0; i < BINS; i++) {
        seen += bins[i]!;
        if (seen >= rank) return Math.round(upperOf(i) * 100) / 100;
      }
      return upperOf(BINS - 1);
    };
    return {
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
    };
  }

  clear(): void {
    for (const bucket of this.#buckets) bucket.reset(0);
  }
}

/** Equal / different counts of shadow comparisons over the window. */
export class DiffWindow {
  readonly #span: number;
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
}
