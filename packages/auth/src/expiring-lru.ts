// A bounded LRU whose entries expire, for the API-key and introspection caches. lru.min keeps the
// order and the bound (at most `max` entries, least recently used evicted first); each entry carries
// its own deadline, checked when it is read, so nothing runs in the background.
//
// Why not lru-cache, which has per-entry TTLs built in: version 11 is 3.3 MB of files (3.6 MB on
// disk: builds for browsers and React Native with their source maps), a quarter of a typical app's
// install (bench/RESULTS.md, footprint); lru.min is 34 kB (60 kB on disk). The other small LRUs were measured too:
// tiny-lru 13 and toad-cache 3 have one TTL for the whole cache (not one for found keys and another
// for unknown ones); quick-lru 7 has per-entry TTLs but keeps two generations of up to `max`
// entries each, so it may hold twice `max`; @isaacs/ttlcache evicts the soonest to expire, not the
// least recently used. What is left to write is the deadline: a few lines.
import { createLRU } from 'lru.min';

/** A bounded LRU cache whose entries each live for their own `ttlMs`. */
export interface ExpiringLru<V> {
  /** The value, unless absent or expired (an expired entry is dropped); marks it most recently used. */
  get(key: string): V | undefined;
  /** Remembers `value` for `ttlMs` milliseconds of `now`'s clock. */
  set(key: string, value: V, ttlMs: number): void;
  clear(): void;
  /** Entries held, expired ones not yet read included. */
  readonly size: number;
}

interface Entry<V> {
  readonly value: V;
  /** The last instant (on `now`'s clock) at which the entry still answers. */
  readonly until: number;
}

/**
 * An LRU of at most `max` entries. `now` is the clock the TTLs are measured on: `performance.now`
 * (monotonic: a step of the wall clock neither shortens nor extends an entry) or `Date.now` when a
 * deadline is a wall-clock time such as a token's `exp`.
 */
export function expiringLru<V>(max: number, now: () => number): ExpiringLru<V> {
  const lru = createLRU<string, Entry<V>>({ max });
  return {
    get(key) {
      const entry = lru.get(key);
      if (entry === undefined) return undefined;
      // As lru-cache did: an entry answers while at most `ttlMs` have passed since it was set.
      if (now() > entry.until) {
        lru.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, ttlMs) {
      lru.set(key, { value, until: now() + ttlMs });
    },
    clear() {
      lru.clear();
    },
    get size() {
      return lru.size;
    },
  };
}
