import fc from 'fast-check';
import { errorFunction, gammaln } from 'simple-statistics';
import { describe, expect, test } from 'vitest';
import { erfc, logFactorial } from './special.js';

/** |a − b| relative to |b| (absolute near 0). */
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('erfc', () => {
  // Reference values: erfc to 16 digits (mpmath, 50-digit arithmetic).
  test.each([
    [0, 1],
    [0.1, 0.887537083981715],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [1.5, 0.033894853524689274],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.088487583762545e-45],
    [26, 5.663192408856143e-296],
    [-1, 1.8427007929497148],
    [-3, 1.9999779095030015],
  ])('erfc(%d) = %d to 1e-13 relative', (x, expected) => {
    expect(relative(erfc(x), expected)).toBeLessThan(1e-13);
  });

  test('the edges: NaN in, NaN out; far tails 0 and 2', () => {
    expect(erfc(Number.NaN)).toBeNaN();
    expect(erfc(40)).toBe(0);
    expect(erfc(Number.POSITIVE_INFINITY)).toBe(0);
    expect(erfc(Number.NEGATIVE_INFINITY)).toBe(2);
  });

  test('agrees with simple-statistics (the function it replaced) within its ~1e-7 accuracy', () => {
    fc.assert(
      fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (x) => {
        expect(Math.abs(erfc(x) - (1 - errorFunction(x)))).toBeLessThan(2e-7);
      }),
      { seed: 1712, numRuns: 2000 },
    );
  });

  test('is decreasing and erfc(x) + erfc(−x) = 2', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -6, max: 6, noNaN: true }),
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        (x, d) => {
          expect(erfc(x + d)).toBeLessThanOrEqual(erfc(x));
          expect(Math.abs(erfc(x) + erfc(-x) - 2)).toBeLessThan(1e-14);
        },
      ),
      { seed: 1713, numRuns: 2000 },
    );
  });
});

describe('logFactorial', () => {
  test('exact sums below the table end and Stirling above agree with the sum of logarithms', () => {
    let sum = 0;
    for (let n = 1; n <= 5000; n++) {
      sum += Math.log(n);
      expect(relative(logFactorial(n), sum), `n=${n}`).toBeLessThan(1e-12);
    }
    expect(logFactorial(0)).toBe(0);
    expect(logFactorial(10)).toBeCloseTo(Math.log(3628800), 12);
  });

  test('large n (a busy route): ln(10⁶!) and ln(10⁹!)', () => {
    expect(relative(logFactorial(1e6), 12815518.384658169)).toBeLessThan(1e-14);
    expect(relative(logFactorial(1e9), 19723265848.226418)).toBeLessThan(1e-13);
  });

  test('agrees with simple-statistics gammaln(n + 1) (the function it replaced)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
        // simple-statistics' own error: −2e-16 for ln 0! and ln 1!, 5e-7 at ln 1000!.
        expect(Math.abs(logFactorial(n) - gammaln(n + 1))).toBeLessThan(1e-9 * Math.max(1, logFactorial(n)));
      }),
      { seed: 1714, numRuns: 2000 },
    );
  });

  test('NaN for what is not a non-negative integer', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(logFactorial(n)).toBeNaN();
  });
});
