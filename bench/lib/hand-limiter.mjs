// A hand-written fixed-window limiter (no Gatehouse): one Map of counters keyed by the client address,
// the same two IETF fields on every response. The least a limiter that answers with RateLimit headers
// costs these apps here: the floor of the *-rate-limit-memory benchmarks.

const POINTS = 1_000_000_000;
const WINDOW_MS = 60_000;
const POLICY = `"api";q=${POINTS};w=60`;
const windows = new Map();

/** Counts one request for `key`; returns the RateLimit field value, or undefined when refused. */
export function spend(key) {
  const now = Date.now();
  let entry = windows.get(key);
  if (entry === undefined || entry.resetAt <= now) {
    entry = { count: 0, resetAt: now + WINDOW_MS };
    windows.set(key, entry);
  }
  entry.count++;
  if (entry.count > POINTS) return undefined;
  return `"api";r=${POINTS - entry.count};t=${Math.ceil((entry.resetAt - now) / 1000)}`;
}

export { POINTS, POLICY, WINDOW_MS };
