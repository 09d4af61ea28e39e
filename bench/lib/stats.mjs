// Small statistics helpers for the harness.

/**
 * The median of a non-empty list of numbers (mean of the middle two for an even count).
 * @param {number[]} values
 * @returns {number}
 */
export function median(values) {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A fixed-resolution latency histogram: 10 µs buckets up to 1 s, one overflow bucket.
 *
 * autocannon's own latency histogram has 1 ms resolution, which on loopback (sub-millisecond
 * responses) makes p50 read 0 or 1; this one is fed from autocannon's `response` event and costs
 * one array increment per response, the same on both sides.
 */
export class LatencyHistogram {
  static BUCKET_MS = 0.01;
  static BUCKETS = 100_000;

  constructor() {
    this.counts = new Uint32Array(LatencyHistogram.BUCKETS + 1);
    this.total = 0;
  }

  /** @param {number} ms */
  record(ms) {
    const i = Math.floor(ms / LatencyHistogram.BUCKET_MS);
    this.counts[Math.min(i, LatencyHistogram.BUCKETS)]++;
    this.total++;
  }

  /**
   * The latency (ms, upper edge of its bucket) below which `q` of the samples fall.
   * @param {number} q quantile in (0, 1]
   */
  quantile(q) {
    if (this.total === 0) return Number.NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return (i + 1) * LatencyHistogram.BUCKET_MS;
    }
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Rounds to `digits` decimal places.
 * @param {number} x
 * @param {number} digits
 */
export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
