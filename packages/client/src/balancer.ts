// Load balancers. Written here rather than taken from a library because none exists for Node outside
// a proxy: power of two choices over least requests (the default, as Envoy and Linkerd), round robin,
// peak-EWMA latency (Finagle's), and consistent hashing on a key (a ring with virtual nodes).
import { createHash } from 'node:crypto';

/** What a balancer knows of an endpoint. */
export interface Balanced {
  readonly id: string;
  readonly weight: number;
  /** Calls in flight now. */
  readonly inflight: number;
  /** Smoothed latency in ms (peak-sensitive EWMA); 0 before the first response. */
  readonly latencyMs: number;
}

/** Picks one of `candidates` (never empty). `key` is the request's hash key, for consistent hashing. */
export interface Balancer {
  readonly name: string;
  pick<T extends Balanced>(candidates: readonly T[], key: string | undefined): T;
}

/** The built-in balancers. */
export type BalancerName = 'p2c' | 'round-robin' | 'ewma' | 'ring-hash';

/** Two distinct random candidates; the one with the lower cost wins. */
function twoChoices<T extends Balanced>(candidates: readonly T[], cost: (c: Balanced) => number): T {
  const n = candidates.length;
  if (n === 1) return candidates[0]!;
  const i = Math.floor(Math.random() * n);
  let j = Math.floor(Math.random() * (n - 1));
  if (j >= i) j++;
  const a = candidates[i]!;
  const b = candidates[j]!;
  return cost(a) <= cost(b) ? a : b;
}

const load = (c: Balanced) => c.inflight / c.weight;

/** Two random candidates, keep the one with fewer calls in flight per unit of weight. */
export function p2c(): Balancer {
  return { name: 'p2c', pick: (candidates) => twoChoices(candidates, load) };
}

/** Smooth weighted round robin (each endpoint gets its weight's share, interleaved). */
export function roundRobin(): Balancer {
  const current = new Map<string, number>();
  return {
    name: 'round-robin',
    pick(candidates) {
      if (candidates.length === 1) return candidates[0]!;
      let total = 0;
      let best = candidates[0]!;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const c of candidates) {
        const score = (current.get(c.id) ?? 0) + c.weight;
        current.set(c.id, score);
        total += c.weight;
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      current.set(best.id, bestScore - total);
      if (current.size > candidates.length * 4) {
        // Endpoints that left discovery: forget them now and then.
        const live = new Set(candidates.map((c) => c.id));
        for (const id of current.keys()) if (!live.has(id)) current.delete(id);
      }
      return best;
    },
  };
}

/** Power of two choices on expected latency: smoothed latency × (calls in flight + 1) / weight. */
export function ewma(): Balancer {
  const cost = (c: Balanced) => ((c.latencyMs || 1) * (c.inflight + 1)) / c.weight;
  return { name: 'ewma', pick: (candidates) => twoChoices(candidates, cost) };
}

const hash32 = (text: string): number => createHash('md5').update(text).digest().readUInt32BE(0);

/**
 * Consistent hashing: each endpoint owns `vnodes × weight` points on a ring; a key goes to the next
 * point clockwise. When an endpoint leaves, only its keys move. Without a key, falls back to p2c.
 */
export function ringHash(options: { vnodes?: number } = {}): Balancer {
  const vnodes = options.vnodes ?? 100;
  const fallback = p2c();
  let built: { ids: string; points: Uint32Array; owners: number[] } | undefined;
  return {
    name: 'ring-hash',
    pick(candidates, key) {
      if (key === undefined || candidates.length === 1) return fallback.pick(candidates, key);
      const ids = candidates.map((c) => `${c.id}*${c.weight}`).join('|');
      if (built?.ids !== ids) {
        const entries: [number, number][] = [];
        candidates.forEach((c, index) => {
          for (let v = 0; v < vnodes * Math.max(1, Math.round(c.weight)); v++)
            entries.push([hash32(`${c.id}#${v}`), index]);
        });
        entries.sort((x, y) => x[0] - y[0]);
        built = { ids, points: Uint32Array.from(entries.map((e) => e[0])), owners: entries.map((e) => e[1]) };
      }
      const h = hash32(key);
      const { points, owners } = built;
      let lo = 0;
      let hi = points.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (points[mid]! < h) lo = mid + 1;
        else hi = mid;
      }
      return candidates[owners[lo === points.length ? 0 : lo]!]!;
    },
  };
}

/** A balancer by name. */
export function balancerNamed(name: BalancerName): Balancer {
  switch (name) {
    case 'p2c':
      return p2c();
    case 'round-robin':
      return roundRobin();
    case 'ewma':
      return ewma();
    case 'ring-hash':
      return ringHash();
  }
}
