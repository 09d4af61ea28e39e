// The promotion statistics against answers known from elsewhere (values computed with SciPy 1.17:
// mannwhitneyu(method='asymptotic'), fisher_exact, binomtest, norm.sf), on synthetic latency samples
// whose truth is known by construction, and properties that hold for any input (fast-check, seeded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binomialGreater,
  classify,
  compareProportions,
  fisherGreater,
  judge,
  mannWhitney,
  normalUpperTail,
  quantileTest,
  worse,
} from './stats.js';

/** A seeded generator (mulberry32): the same samples on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Log-normal latencies in ms (median `median`), the usual shape of request durations. */
function latencies(seed: number, count: number, median = 20, sigma = 0.5): number[] {
  const next = random(seed);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    out.push(Math.round(median * Math.exp(sigma * z) * 1000) / 1000);
  }
  return out;
}

describe('known answers (SciPy)', () => {
  it('normal upper tail', () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
    expect(normalUpperTail(1)).toBeCloseTo(0.15865525393145707, 6);
    expect(normalUpperTail(1.96)).toBeCloseTo(0.024997895148220435, 6);
    expect(normalUpperTail(3)).toBeCloseTo(0.0013498980316300933, 7);
  });

  it('Mann-Whitney U, small samples without ties', () => {
    // SciPy's documentation example: males vs females, alternative 'greater'.
    const r = mannWhitney([20, 11, 17, 12], [19, 22, 16, 29, 24]);
    expect(r.u).toBe(17);
    expect(r.pValue).toBeCloseTo(0.055673443266570206, 6);
    expect(r.cles).toBeCloseTo(17 / 20, 12);
  });

  it('Mann-Whitney U with many ties (tie-corrected variance)', () => {
    const control = Array.from({ length: 4 }, () => [1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10]).flat();
    const treatment = Array.from({ length: 4 }, () => [
      2, 3, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 12, 12,
    ]).flat();
    const r = mannWhitney(control, treatment);
    expect(r.u).toBe(2456);
    expect(r.pValue).toBeCloseTo(0.0002708424310528378, 7);
  });

  it("Fisher's exact test, one-sided", () => {
    expect(fisherGreater({ events: 0, trials: 100 }, { events: 3, trials: 100 })).toBeCloseTo(
      0.12311557788944724,
      10,
    );
    expect(fisherGreater({ events: 1, trials: 20 }, { events: 7, trials: 20 })).toBeCloseTo(
      0.0217980217980218,
      10,
    );
    expect(fisherGreater({ events: 0, trials: 50 }, { events: 0, trials: 50 })).toBe(1);
  });

  it('two-proportion z-test (pooled), and Fisher for small expected counts', () => {
    const large = compareProportions({ events: 20, trials: 1000 }, { events: 35, trials: 1000 });
    expect(large.method).toBe('z');
    expect(large.pValue).toBeCloseTo(0.020133600090916717, 6);
    expect(large.delta).toBeCloseTo(0.015, 12);
    expect(compareProportions({ events: 50, trials: 1000 }, { events: 50, trials: 1000 }).pValue).toBeCloseTo(
      0.5,
      7,
    );
    const small = compareProportions({ events: 0, trials: 100 }, { events: 3, trials: 100 });
    expect(small.method).toBe('fisher');
    expect(small.pValue).toBeCloseTo(0.12311557788944724, 10);
  });

  it('exact binomial test against a tolerated rate', () => {
    expect(binomialGreater({ events: 3, trials: 100 }, 0.01)).toBeCloseTo(0.07937320225218046, 10);
    expect(binomialGreater({ events: 1, trials: 200 }, 0.01)).toBeCloseTo(0.8660203251420381, 10);
    expect(binomialGreater({ events: 1, trials: 200 }, 0)).toBe(0);
    expect(binomialGreater({ events: 0, trials: 200 }, 0)).toBe(1);
  });
});

describe('synthetic latency samples with a known truth', () => {
  const alpha = 0.01;

  it('the same distribution passes: neither the body nor the tail looks slower', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const control = latencies(seed, 1000);
      const treatment = latencies(seed + 100, 1000);
      const body = mannWhitney(control, treatment);
      const tail = quantileTest(control, treatment, 0.99);
      expect(body.pValue, `seed ${seed}`).toBeGreaterThan(alpha);
      expect(tail.test.pValue, `seed ${seed}`).toBeGreaterThan(alpha);
      expect(Math.abs(body.cles - 0.5)).toBeLessThan(0.05);
    }
  });

  it('a shifted p99 fails: 3 % of requests 300 ms slower is found by the tail test, not by U', () => {
    const control = latencies(11, 2000);
    const treatment = latencies(12, 2000).map((ms, i) => (i % 33 === 0 ? ms + 300 : ms));
    const body = mannWhitney(control, treatment);
    const tail = quantileTest(control, treatment, 0.99);
    expect(tail.test.pValue).toBeLessThan(1e-6);
    expect(tail.test.treatment.events).toBeGreaterThan(tail.test.control.events * 4);
    // The rank test of the whole sample barely moves: why the tail has its own test.
    expect(body.cles).toBeLessThan(0.53);
    const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(0.99 * values.length) - 1]!;
    const delta = p99(treatment) - p99(control);
    expect(delta).toBeGreaterThan(200);
    expect(classify(delta, 100, tail.test.pValue, alpha)).toBe('fail');
  });

  it('a shifted median fails the rank test', () => {
    const control = latencies(21, 500);
    const treatment = latencies(22, 500).map((ms) => ms + 30);
    const body = mannWhitney(control, treatment);
    expect(body.pValue).toBeLessThan(1e-9);
    expect(body.cles).toBeGreaterThan(0.8);
  });

  it('a faster service is never judged slower (one-sided)', () => {
    const control = latencies(31, 500);
    const treatment = latencies(32, 500).map((ms) => ms / 2);
    expect(mannWhitney(control, treatment).pValue).toBeGreaterThan(0.99);
    expect(quantileTest(control, treatment).test.pValue).toBeGreaterThan(0.5);
  });
});

describe('properties (fast-check, seeded)', () => {
  const sample = fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 });

  it('U of one side plus U of the other is n·m; p and the effect size are in [0, 1]', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ab = mannWhitney(a, b);
        const ba = mannWhitney(b, a);
        expect(ab.u + ba.u).toBeCloseTo(a.length * b.length, 9);
        for (const r of [ab, ba]) {
          expect(r.pValue).toBeGreaterThanOrEqual(0);
          expect(r.pValue).toBeLessThanOrEqual(1);
          expect(r.cles).toBeGreaterThanOrEqual(0);
          expect(r.cles).toBeLessThanOrEqual(1);
        }
      }),
      { seed: 20261204, numRuns: 300 },
    );
  });

  it('slowing the treatment down never makes it look faster (U and p monotone)', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: 1, max: 20 }), (a, b, shift) => {
        const before = mannWhitney(a, b);
        const after = mannWhitney(
          a,
          b.map((x) => x + shift),
        );
        expect(after.u).toBeGreaterThanOrEqual(before.u);
        expect(after.pValue).toBeLessThanOrEqual(before.pValue + 1e-12);
      }),
      { seed: 20261205, numRuns: 300 },
    );
  });

  it('identical samples are never significant', () => {
    fc.assert(
      fc.property(sample, (a) => {
        const r = mannWhitney(a, [...a]);
        expect(r.u).toBeCloseTo((a.length * a.length) / 2, 9);
        expect(r.pValue).toBeGreaterThanOrEqual(0.5);
        expect(quantileTest(a, [...a]).test.pValue).toBeGreaterThanOrEqual(0.5);
      }),
      { seed: 20261206, numRuns: 200 },
    );
  });

  it("Fisher's p is a probability and falls as the treatment's events rise", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 0, max: 79 }),
        (n1, n2, e1, e2) => {
          const control = { events: Math.min(e1, n1), trials: n1 };
          const low = { events: Math.min(e2, n2 - 1), trials: n2 };
          const high = { events: low.events + 1, trials: n2 };
          const p = fisherGreater(control, low);
          const q = fisherGreater(control, high);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1 + 1e-12);
          expect(q).toBeLessThanOrEqual(p + 1e-12);
        },
      ),
      { seed: 20261207, numRuns: 300 },
    );
  });
});

describe('classification and the judge', () => {
  it('classify: within tolerance passes, beyond it fails only when significant', () => {
    expect(classify(0.004, 0.01, 0.0001, 0.01)).toBe('pass');
    expect(classify(0.02, 0.01, 0.0001, 0.01)).toBe('fail');
    expect(classify(0.02, 0.01, 0.2, 0.01)).toBe('marginal');
    expect(classify(Number.NaN, 0.01, 0, 0.01)).toBe('pass');
    expect(worse('pass', 'marginal')).toBe('marginal');
    expect(worse('fail', 'marginal')).toBe('fail');
    expect(worse('insufficient', 'pass')).toBe('insufficient');
  });

  const thresholds = { pass: 95, marginal: 75 };
  const g = (gate: string, c: 'pass' | 'marginal' | 'fail' | 'insufficient', critical = false) => ({
    gate,
    class: c,
    critical,
  });

  it('a critical gate that fails vetoes alone, even beside gates that lack samples', () => {
    expect(judge([g('errors', 'fail', true), g('latency', 'insufficient')], thresholds)).toEqual({
      verdict: 'fail',
      score: 0,
      vetoedBy: 'errors',
    });
  });

  it('scores like Kayenta: all pass → pass; one marginal or one non-critical fail of four → marginal; two fails → fail', () => {
    expect(judge([g('a', 'pass'), g('b', 'pass')], thresholds)).toEqual({ verdict: 'pass', score: 100 });
    expect(judge([g('a', 'pass'), g('b', 'pass'), g('c', 'pass'), g('d', 'marginal')], thresholds)).toEqual({
      verdict: 'marginal',
      score: 87.5,
    });
    expect(judge([g('a', 'pass'), g('b', 'pass'), g('c', 'pass'), g('d', 'fail')], thresholds)).toEqual({
      verdict: 'marginal',
      score: 75,
    });
    expect(judge([g('a', 'pass'), g('b', 'pass'), g('c', 'fail'), g('d', 'fail')], thresholds)).toEqual({
      verdict: 'fail',
      score: 50,
    });
  });

  it('insufficient while any gate lacks samples, and with no gate at all', () => {
    expect(judge([g('a', 'pass'), g('b', 'insufficient')], thresholds)).toEqual({
      verdict: 'insufficient',
      score: null,
    });
    expect(judge([], thresholds).verdict).toBe('insufficient');
  });
});
