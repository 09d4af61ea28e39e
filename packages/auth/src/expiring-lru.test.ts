// The API-key and introspection caches' LRU: bounded by entries, least recently used evicted first,
// each entry expiring after its own TTL on the clock it is given (a hand-moved clock here).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expiringLru } from './expiring-lru.js';

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('expiringLru', () => {
  it('holds at most max entries and evicts the least recently used', () => {
    const c = clock();
    const lru = expiringLru<string>(2, c.now);
    lru.set('a', 'A', 1_000);
    lru.set('b', 'B', 1_000);
    expect(lru.get('a')).toBe('A'); // a is now the most recently used
    lru.set('c', 'C', 1_000);
    expect(lru.size).toBe(2);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
  });

  it('answers while at most ttlMs have passed, each entry with its own TTL', () => {
    const c = clock();
    const lru = expiringLru<string>(10, c.now);
    lru.set('found', 'principal', 150);
    lru.set('unknown', 'nobody', 50);
    c.advance(50);
    expect(lru.get('unknown')).toBe('nobody');
    c.advance(1);
    expect(lru.get('unknown')).toBeUndefined();
    expect(lru.size).toBe(1); // the expired entry was dropped when read
    c.advance(99);
    expect(lru.get('found')).toBe('principal');
    c.advance(1);
    expect(lru.get('found')).toBeUndefined();
  });

  it('a set replaces the value and starts its TTL again; clear empties it', () => {
    const c = clock();
    const lru = expiringLru<number>(10, c.now);
    lru.set('k', 1, 100);
    c.advance(80);
    lru.set('k', 2, 100);
    c.advance(80);
    expect(lru.get('k')).toBe(2);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.get('k')).toBeUndefined();
  });

  it('agrees with a model LRU on any sequence of sets, gets and clock moves', () => {
    type Op =
      | { kind: 'set'; key: number; ttl: number }
      | { kind: 'get'; key: number }
      | { kind: 'tick'; ms: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.nat(5), ttl: fc.constantFrom(1, 5, 10, 20) }),
      fc.record({ kind: fc.constant('get' as const), key: fc.nat(5) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(0, 1, 4, 5) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops: Op[]) => {
        const c = clock();
        const lru = expiringLru<number>(max, c.now);
        // The model: entries in recency order (oldest first), each with its deadline.
        let model: Array<{ key: number; value: number; until: number }> = [];
        let serial = 0;
        for (const o of ops) {
          if (o.kind === 'tick') c.advance(o.ms);
          else if (o.kind === 'set') {
            const value = serial++;
            lru.set(String(o.key), value, o.ttl);
            model = model.filter((e) => e.key !== o.key);
            model.push({ key: o.key, value, until: c.now() + o.ttl });
            if (model.length > max) model.shift();
          } else {
            const entry = model.find((e) => e.key === o.key);
            let expected: number | undefined;
            if (entry !== undefined) {
              model = model.filter((e) => e !== entry);
              if (c.now() <= entry.until) {
                expected = entry.value;
                model.push(entry);
              }
            }
            expect(lru.get(String(o.key))).toBe(expected);
          }
          expect(lru.size).toBe(model.length);
        }
      }),
      { seed: 20261204, numRuns: 300 },
    );
  });
});
