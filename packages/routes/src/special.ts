// The two special functions gated promotion's statistics need: the complementary error function (for
// the normal distribution's tail) and ln n! (for Fisher's exact test and the binomial). They were
// simple-statistics' errorFunction and gammaln; that package is 1.3 MB of files (2.0 MB on disk:
// three builds with their source maps) for these two, a third of what gw.routes() added to an install
// (bench/RESULTS.md, footprint, 2026-12-04). Both are textbook numerics, written from the definitions:
//
// - erfc(x) = Q(½, x²), the regularized upper incomplete gamma function, for x ≥ 0: its power series
//   where x² < 1.5 and a continued fraction (modified Lentz) beyond, each to double precision. Unlike
//   a short polynomial fit of erf (simple-statistics': ~1e-7 absolute), the tail keeps its relative
//   precision, so a p-value of 1e-12 is 1e-12 and not 0.
// - ln n! for integers: exact sums of logarithms up to a table's end, Stirling's series above it
//   (its next term is below 1e-19 there).

const LN_SQRT_PI = 0.5 * Math.log(Math.PI);
const EPSILON = 1e-16;
const TINY = 1e-300;

/** erfc(x), the complementary error function 1 − erf(x), to about 1e-15 relative. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x === 0) return 1;
  const t = x * x;
  if (t > 750) return 0;
  const prefactor = Math.exp(-t + 0.5 * Math.log(t) - LN_SQRT_PI);
  if (t < 1.5) {
    // P(½, t) = t^½·e^−t / Γ(½) · Σ t^n / (½·(3/2)·…·(½+n)); erfc = 1 − P.
    let term = 1 / 0.5;
    let sum = term;
    for (let n = 1; n < 500; n++) {
      term *= t / (0.5 + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return 1 - sum * prefactor;
  }
  // Q(½, t) = t^½·e^−t / Γ(½) · 1/(t + ½ − 1·(1−½)/(t + 2.5 − 2·(2−½)/(t + 4.5 − …))).
  let b = t + 0.5;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - 0.5);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < EPSILON) break;
  }
  return h * prefactor;
}

const TABLE_END = 256;
const LOG_FACTORIALS = new Float64Array(TABLE_END);
for (let n = 1; n < TABLE_END; n++) LOG_FACTORIALS[n] = LOG_FACTORIALS[n - 1]! + Math.log(n);

/** ln n! for an integer n ≥ 0 (NaN otherwise). */
export function logFactorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) return Number.NaN;
  if (n < TABLE_END) return LOG_FACTORIALS[n]!;
  // Stirling: n ln n − n + ½ ln(2πn) + 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷).
  const inv = 1 / n;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + series;
}
