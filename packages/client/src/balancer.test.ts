import { describe, expect, test } from 'vitest';
import { type Balanced, ewma, p2c, ringHash, roundRobin } from './balancer.js';

const ep = (id: string, extra: Partial<Balanced> = {}): Balanced => ({
  id,
  weight: 1,
  inflight: 0,
  latencyMs: 0,
  ...extra,
});

const tally = (picks: Balanced[]) => {
  const out: Record<string, number> = {};
  for (const p of picks) out[p.id] = (out[p.id] ?? 0) + 1;
  return out;
};

describe('p2c', () => {
  test('never picks the busiest of the candidates it compares, so the most loaded endpoint is avoided', () => {
    const candidates = [ep('a', { inflight: 10 }), ep('b', { inflight: 1 }), ep('c', { inflight: 2 })];
    const balancer = p2c();
    const picks = Array.from({ length: 3000 }, () => balancer.pick(candidates, undefined));
    expect(tally(picks).a).toBeUndefined();
    expect(tally(picks).b).toBeGreaterThan(tally(picks).c!);
  });

  test('weights scale the load an endpoint is expected to carry', () => {
    const candidates = [ep('big', { inflight: 4, weight: 4 }), ep('small', { inflight: 2, weight: 1 })];
    expect(p2c().pick(candidates, undefined).id).toBe('big');
  });
});

describe('roundRobin', () => {
  test('smooth weighted: each gets its weight’s share, interleaved', () => {
    const balancer = roundRobin();
    const candidates = [ep('a', { weight: 2 }), ep('b'), ep('c')];
    const picks = Array.from({ length: 8 }, () => balancer.pick(candidates, undefined).id);
    expect(picks.join('')).toBe('abcaabca');
  });
});

describe('ewma', () => {
  test('prefers the faster endpoint at equal load', () => {
    const candidates = [ep('slow', { latencyMs: 200 }), ep('fast', { latencyMs: 5 })];
    const balancer = ewma();
    const picks = Array.from({ length: 200 }, () => balancer.pick(candidates, undefined));
    expect(tally(picks)).toEqual({ fast: 200 });
  });
});

describe('ringHash', () => {
  test('a key always lands on the same endpoint; removing one endpoint moves only its keys', () => {
    const balancer = ringHash();
    const five = ['a', 'b', 'c', 'd', 'e'].map((id) => ep(id));
    const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    const before = new Map(keys.map((k) => [k, balancer.pick(five, k).id]));
    for (const k of keys.slice(0, 50)) expect(balancer.pick(five, k).id).toBe(before.get(k));
    const four = five.filter((e) => e.id !== 'c');
    let moved = 0;
    for (const k of keys) {
      const now = balancer.pick(four, k).id;
      if (before.get(k) !== 'c') expect(now).toBe(before.get(k));
      else moved++;
    }
    // About a fifth of the keys belonged to 'c'.
    expect(moved).toBeGreaterThan(250);
    expect(moved).toBeLessThan(550);
  });

  test('without a key it balances like p2c', () => {
    const candidates = [ep('a', { inflight: 9 }), ep('b')];
    expect(ringHash().pick(candidates, undefined).id).toBe('b');
  });
});
