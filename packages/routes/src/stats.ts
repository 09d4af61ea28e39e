// The statistics behind gated promotion: is the service (the treatment) worse than what it replaces
// (the control), beyond chance and beyond a tolerance? Proportions (diff rate against the noise
// baseline, error rates, contract violations) are compared with a two-proportion z-test, or Fisher's
// exact test when a cell is too small for the normal approximation; latency with the Mann-Whitney U
// rank test on per-request samples (the test Kayenta's canary classifier uses) and Mood's quantile
// test for the tail. Every test is one-sided: only "the service is worse" counts against it.
//
// The distribution functions are special.ts's (erfc for the normal tail, ln n! for Fisher's and the
// binomial's log-factorials; it says why they are not simple-statistics' any more). The tests
// themselves are written here: no maintained npm library has them with p-values (simple-statistics'
// wilcoxonRankSum returns the rank sum alone, without the tie term the normal approximation needs;
// jstat and @stdlib have neither Mann-Whitney nor Fisher's exact test), and each is a few lines over
// sorted samples.
import { erfc, logFactorial } from './special.js';

/** Events out of trials (errors of requests, differing of compared answers). */
export interface Counts {
  readonly events: number;
  readonly trials: number;
}

/** Counts with their rate. */
export interface Rate extends Counts {
  /** events / trials; 0 without trials. */
  readonly rate: number;
}

/** The outcome of {@link compareProportions}. */
export interface ProportionComparison {
  /** `'z'`: two-proportion z-test (pooled); `'fisher'`: Fisher's exact test (a cell expected below 5). */
  readonly method: 'z' | 'fisher';
  readonly control: Rate;
  readonly treatment: Rate;
  /** treatment.rate − control.rate. */
  readonly delta: number;
  /** One-sided: the chance of a treatment rate this far above the control's if both were the same. */
  readonly pValue: number;
}

/** The outcome of {@link mannWhitney}. */
export interface RankTest {
  /** Control and treatment sample sizes. */
  readonly n: number;
  readonly m: number;
  /** U of the treatment: pairs (treatment, control) where the treatment is larger, ties counting ½. */
  readonly u: number;
  /** The normal approximation's z (tie- and continuity-corrected). */
  readonly z: number;
  /** One-sided: the chance of a U this large if the treatment were not stochastically larger. */
  readonly pValue: number;
  /** U / (n·m): the chance a random treatment request is slower than a random control one (½: same). */
  readonly cles: number;
}

/** The outcome of {@link quantileTest}. */
export interface QuantileTest {
  /** The quantile the tails are cut at (0.99: the slowest 1 % of both samples together). */
  readonly q: number;
  /** The pooled sample's q-quantile (nearest rank): what counts as "in the tail". */
  readonly threshold: number;
  /** Samples of each side above the threshold, and the test of their shares. */
  readonly test: ProportionComparison;
}

const rate = (c: Counts): Rate => ({
  events: c.events,
  trials: c.trials,
  rate: c.trials === 0 ? 0 : c.events / c.trials,
});

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  // 1 − Φ(z) = ½·erfc(z/√2), to about 1e-15 relative (small tails keep their digits).
  return Math.min(1, Math.max(0, 0.5 * erfc(z / Math.SQRT2)));
}

/** ln C(n, k). */
function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * One-sided Fisher's exact test on the 2×2 table (control events, control non-events / treatment
 * events, treatment non-events): P(treatment events ≥ observed) under the hypergeometric distribution
 * of the table's margins.
 */
export function fisherGreater(control: Counts, treatment: Counts): number {
  const total = control.trials + treatment.trials;
  const events = control.events + treatment.events;
  const draws = treatment.trials;
  if (total === 0 || draws === 0 || events === 0) return 1;
  const denominator = logChoose(total, draws);
  const top = Math.min(events, draws);
  let p = 0;
  for (let x = treatment.events; x <= top; x++) {
    if (draws - x > total - events) continue;
    p += Math.exp(logChoose(events, x) + logChoose(total - events, draws - x) - denominator);
  }
  return Math.min(1, p);
}

/**
 * Whether the treatment's rate is higher than the control's: a one-sided two-proportion z-test with
 * the pooled rate, or Fisher's exact test when any expected cell count is below 5 (Cochran's rule,
 * where the normal approximation is poor).
 */
export function compareProportions(control: Counts, treatment: Counts): ProportionComparison {
  const c = rate(control);
  const t = rate(treatment);
  const delta = t.rate - c.rate;
  const n1 = c.trials;
  const n2 = t.trials;
  if (n1 === 0 || n2 === 0) return { method: 'z', control: c, treatment: t, delta, pValue: 1 };
  const pooled = (c.events + t.events) / (n1 + n2);
  const smallest = Math.min(n1, n2) * Math.min(pooled, 1 - pooled);
  if (smallest < 5) {
    return { method: 'fisher', control: c, treatment: t, delta, pValue: fisherGreater(control, treatment) };
  }
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { method: 'z', control: c, treatment: t, delta, pValue: normalUpperTail(delta / se) };
}

/**
 * One-sided exact binomial test: P(X ≥ events) for X ~ Binomial(trials, p0) — whether a rate is above
 * a fixed tolerance (contract violations against an allowed share; 1 when p0 is 1, 0 for any event
 * when p0 is 0).
 */
export function binomialGreater(counts: Counts, p0: number): number {
  const { events, trials } = counts;
  if (events <= 0) return 1;
  if (p0 <= 0) return 0;
  if (p0 >= 1) return 1;
  const lp = Math.log(p0);
  const lq = Math.log1p(-p0);
  let p = 0;
  for (let x = events; x <= trials; x++) p += Math.exp(logChoose(trials, x) + x * lp + (trials - x) * lq);
  return Math.min(1, p);
}

/** A sorted copy (ascending) of a sample. */
function sorted(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  out.sort();
  return out;
}

/**
 * The Mann-Whitney U test (Wilcoxon rank-sum), one-sided: is the treatment stochastically larger
 * (slower) than the control? Ties get their average rank; the p-value is the normal approximation with
 * tie and continuity corrections (as R's `wilcox.test(exact = FALSE)` and SciPy's `mannwhitneyu(method
 * = 'asymptotic')`), accurate for the sample sizes promotion asks for (tens and more per side).
 */
export function mannWhitney(control: ArrayLike<number>, treatment: ArrayLike<number>): RankTest {
  const a = sorted(control);
  const b = sorted(treatment);
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { n, m, u: 0, z: 0, pValue: 1, cles: 0.5 };
  // Merge the sorted samples, giving every run of equal values its average rank.
  let i = 0;
  let j = 0;
  let rank = 0;
  let rankSum = 0;
  let ties = 0;
  while (i < n || j < m) {
    const value = j >= m || (i < n && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let inA = 0;
    let inB = 0;
    while (i < n && a[i] === value) {
      i++;
      inA++;
    }
    while (j < m && b[j] === value) {
      j++;
      inB++;
    }
    const t = inA + inB;
    rankSum += inB * (rank + (t + 1) / 2);
    rank += t;
    if (t > 1) ties += t * t * t - t;
  }
  const u = rankSum - (m * (m + 1)) / 2;
  const total = n + m;
  const mean = (n * m) / 2;
  const variance = ((n * m) / 12) * (total + 1 - ties / (total * (total - 1)));
  const cles = u / (n * m);
  if (variance <= 0) return { n, m, u, z: 0, pValue: 1, cles };
  // Continuity correction towards the mean, as R and SciPy apply it for the one-sided test.
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { n, m, u, z, pValue: normalUpperTail(z), cles };
}

/** Nearest-rank q-quantile of a sorted sample (0 when empty). */
export function quantileSorted(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!;
}

/**
 * Mood's quantile test, one-sided: cuts both samples at the pooled q-quantile and compares the shares
 * above it ({@link compareProportions}). A rank test of the tail: the Mann-Whitney test weighs every
 * request alike, so a p99 that moved while the median stayed barely shifts U; this sees it.
 */
export function quantileTest(
  control: ArrayLike<number>,
  treatment: ArrayLike<number>,
  q = 0.99,
): QuantileTest {
  const a = sorted(control);
  const b = sorted(treatment);
  const pooled = new Float64Array(a.length + b.length);
  pooled.set(a);
  pooled.set(b, a.length);
  pooled.sort();
  const threshold = quantileSorted(pooled, q);
  const above = (values: Float64Array) => {
    // Sorted: the count above is the length past the last value ≤ threshold.
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! <= threshold) lo = mid + 1;
      else hi = mid;
    }
    return values.length - lo;
  };
  return {
    q,
    threshold,
    test: compareProportions({ events: above(a), trials: a.length }, { events: above(b), trials: b.length }),
  };
}

/** How one gate judges: Kayenta's classes, with `marginal` for "worse than tolerated, not yet proven". */
export type GateClass = 'pass' | 'marginal' | 'fail' | 'insufficient';

/**
 * Classifies one comparison the way Kayenta's Mann-Whitney classifier does, with a tolerance on the
 * effect: `pass` while the observed effect (the service's excess: a rate difference, milliseconds)
 * is within `tolerance`, significant or not (a real but tolerated difference passes); `fail` when it
 * is beyond the tolerance and significant at `alpha`; `marginal` when it is beyond the tolerance but
 * could still be chance (more traffic decides).
 */
export function classify(effect: number, tolerance: number, pValue: number, alpha: number): GateClass {
  if (!(effect > tolerance)) return 'pass';
  return pValue < alpha ? 'fail' : 'marginal';
}

/** The worse of two classes (fail > marginal > insufficient > pass). */
export function worse(a: GateClass, b: GateClass): GateClass {
  const order: Record<GateClass, number> = { pass: 0, insufficient: 1, marginal: 2, fail: 3 };
  return order[a] >= order[b] ? a : b;
}

/** One gate's class, and whether it vetoes alone. */
export interface JudgedGate {
  readonly gate: string;
  readonly class: GateClass;
  readonly critical: boolean;
}

/** The overall verdict over a set of gates. */
export interface Judgement {
  readonly verdict: GateClass;
  /** 0–100: passing gates count 1, marginal ½, failing 0; null while a gate lacks samples. */
  readonly score: number | null;
  /** The critical gate that failed, when one did. */
  readonly vetoedBy?: string;
}

/**
 * Kayenta's judge over gates: a critical gate that fails fails the whole verdict on its own; while a
 * gate lacks samples the verdict is `insufficient`; otherwise the score (passing gates 1, marginal ½,
 * failing 0, as a percentage) is `pass` at or above `thresholds.pass`, `marginal` at or above
 * `thresholds.marginal`, else `fail`.
 */
export function judge(
  gates: readonly JudgedGate[],
  thresholds: { readonly pass: number; readonly marginal: number },
): Judgement {
  const veto = gates.find((g) => g.critical && g.class === 'fail');
  if (veto !== undefined) return { verdict: 'fail', score: 0, vetoedBy: veto.gate };
  if (gates.length === 0 || gates.some((g) => g.class === 'insufficient'))
    return { verdict: 'insufficient', score: null };
  let points = 0;
  for (const g of gates) points += g.class === 'pass' ? 1 : g.class === 'marginal' ? 0.5 : 0;
  const score = Math.round((1000 * points) / gates.length) / 10;
  const verdict = score >= thresholds.pass ? 'pass' : score >= thresholds.marginal ? 'marginal' : 'fail';
  return { verdict, score };
}
