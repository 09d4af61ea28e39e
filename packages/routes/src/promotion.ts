// Gated promotion: the steps a route walks on its own (local → shadow → split in steps → remote), and
// the verdict over a step's evidence that decides whether it moves on, holds, or steps back. The
// verdict follows Kayenta's canary analysis: every gate compares the service (the treatment) with what
// it replaces (the control: the local side, the learned noise, or the local baseline of an earlier
// step) and is classified pass / marginal / fail (stats.ts); a critical gate that fails vetoes alone;
// otherwise the gates' score decides.
import {
  binomialGreater,
  type Counts,
  classify,
  compareProportions,
  type GateClass,
  judge,
  mannWhitney,
  quantileSorted,
  quantileTest,
  type Rate,
  worse,
} from './stats.js';
import type { Mode, PromotionGate, PromotionSpec, PromotionStep } from './table.js';

const ORDER: readonly Mode[] = ['local', 'shadow', 'split', 'fallback', 'remote'];

/** A step as the controller uses it: a mode and, for `split`, the percent of callers sent remote. */
export interface Step {
  readonly mode: Mode;
  readonly weight: number;
}

/** What `promotion` compiles to. */
export interface CompiledPromotion {
  readonly steps: readonly Step[];
  readonly holdMs: number;
  readonly minSamples: number;
  readonly confidence: number;
  /** 1 − confidence: the significance level of every one-sided test. */
  readonly alpha: number;
  /** Modes entered only after a person confirms. */
  readonly confirm: ReadonlySet<Mode>;
  readonly critical: ReadonlySet<PromotionGate>;
  readonly tolerance: {
    readonly diffRate: number;
    readonly errorRate: number;
    readonly contractRate: number;
    readonly medianMs: number;
    readonly p99Ms: number;
  };
  readonly thresholds: { readonly pass: number; readonly marginal: number };
}

export const DEFAULT_PROMOTION_STEPS: readonly PromotionStep[] = ['shadow', 'split 10', 'split 50', 'remote'];
export const DEFAULT_CRITICAL: readonly PromotionGate[] = ['diff', 'errors', 'contract'];

/** A step as written (`'split 10'`, `'remote'`, `{ mode, weight }`) as a {@link Step}. */
export function parseStep(step: PromotionStep): Step {
  if (typeof step === 'string') {
    if (step.startsWith('split ')) return { mode: 'split', weight: Number(step.slice(6)) };
    return { mode: step as Mode, weight: 0 };
  }
  return { mode: step.mode, weight: step.mode === 'split' ? (step.weight ?? 0) : 0 };
}

/** Where (mode, weight) stands in the walk: the mode's stage, then the split's weight. */
export function compareSteps(a: Step, b: Step): number {
  const stage = ORDER.indexOf(a.mode) - ORDER.indexOf(b.mode);
  if (stage !== 0) return stage;
  return a.mode === 'split' ? a.weight - b.weight : 0;
}

/** The step after where the route stands, or undefined when the walk is complete. */
export function nextStep(steps: readonly Step[], current: Step): Step | undefined {
  return steps.find((step) => compareSteps(step, current) > 0);
}

/** The step before where the route stands: the last one strictly before it, else local. */
export function previousStep(steps: readonly Step[], current: Step): Step {
  let found: Step = { mode: 'local', weight: 0 };
  for (const step of steps) if (compareSteps(step, current) < 0) found = step;
  return found;
}

/** Index of the last step at or before where the route stands (−1: before the first). */
export function stepIndex(steps: readonly Step[], current: Step): number {
  let index = -1;
  steps.forEach((step, i) => {
    if (compareSteps(step, current) <= 0) index = i;
  });
  return index;
}

/** Compiles a route's `promotion` (already checked by `promotionSpecSchema`); undefined when off. */
export function compilePromotion(spec: boolean | PromotionSpec | undefined): CompiledPromotion | undefined {
  if (spec === undefined || spec === false) return undefined;
  const given: PromotionSpec = spec === true ? {} : spec;
  const confidence = given.confidence ?? 0.99;
  const confirm = given.confirm ?? false;
  return {
    steps: (given.steps ?? DEFAULT_PROMOTION_STEPS).map(parseStep),
    holdMs: given.holdMs ?? 300_000,
    minSamples: given.minSamples ?? 50,
    confidence,
    alpha: 1 - confidence,
    confirm: new Set<Mode>(
      confirm === true ? ORDER.filter((m) => m !== 'local') : confirm === false ? [] : confirm,
    ),
    critical: new Set(given.critical ?? DEFAULT_CRITICAL),
    tolerance: {
      diffRate: given.tolerance?.diffRate ?? 0.01,
      errorRate: given.tolerance?.errorRate ?? 0.01,
      contractRate: given.tolerance?.contractRate ?? 0,
      medianMs: given.tolerance?.medianMs ?? 25,
      p99Ms: given.tolerance?.p99Ms ?? 100,
    },
    thresholds: { pass: given.scoreThresholds?.pass ?? 95, marginal: given.scoreThresholds?.marginal ?? 75 },
  };
}

// ---------------------------------------------------------------------------------------------
// The verdict
// ---------------------------------------------------------------------------------------------

/** One side's requests in the step: counts and the latest per-request durations (ms). */
export interface SideEvidence {
  readonly requests: number;
  readonly errors: number;
  readonly samples: Float64Array;
}

/** Everything a step's verdict is computed from. */
export interface StepEvidence {
  readonly mode: Mode;
  readonly local: SideEvidence;
  /** The service: its answers, or in `shadow` mode the copies. */
  readonly remote: SideEvidence;
  /** The local side of the latest earlier step that had local traffic: the control once local has none. */
  readonly baseline: (SideEvidence & { readonly mode: Mode; readonly until: string }) | undefined;
  /** Shadow comparisons in the step: `events` differing of `trials` compared. */
  readonly diff: Counts;
  /** The noise baseline: local/local pairs that still differed after learned noise was ignored. */
  readonly noise: Counts;
  /** Contract checks of the service's answers in the step: `events` violating of `trials` checked. */
  readonly contract: Counts;
}

/** A proportion gate's numbers. */
export interface ProportionEvidence {
  /** `'z'` / `'fisher'`: against a control; `'binomial'`: against the tolerance alone (no control). */
  readonly test: 'z' | 'fisher' | 'binomial';
  /** What the service is compared with. */
  readonly controlSource: 'local' | 'noise' | 'baseline' | 'tolerance';
  readonly control: Rate | null;
  readonly treatment: Rate;
  /** treatment − control (− 0 against the tolerance alone). */
  readonly delta: number;
  readonly tolerance: number;
  /** One-sided p-value that the service's rate is higher (than the control's, or the tolerance). */
  readonly pValue: number;
}

/** One latency comparison (the median or the p99). */
export interface LatencyPart {
  readonly controlMs: number;
  readonly treatmentMs: number;
  readonly deltaMs: number;
  readonly toleranceMs: number;
  readonly pValue: number;
  readonly class: GateClass;
}

/** The latency gate's numbers. */
export interface LatencyEvidence {
  readonly controlSource: 'local' | 'baseline';
  /** Per-request samples compared (each side's latest, at most 2,048). */
  readonly samples: { readonly control: number; readonly treatment: number };
  /** Mann-Whitney U over every sample: `u`, its common-language effect size `cles` (0.5: alike). */
  readonly median: LatencyPart & { readonly u: number; readonly cles: number };
  /** Mood's quantile test at the pooled p99 (`threshold`), and each side's samples above it. */
  readonly p99: LatencyPart & {
    readonly threshold: number;
    readonly above: { readonly control: number; readonly treatment: number };
  };
}

/** One gate of a verdict. */
export interface GateVerdict {
  readonly gate: PromotionGate;
  readonly class: GateClass;
  readonly critical: boolean;
  /** The comparison in one line, for people. */
  readonly summary: string;
  readonly rates?: ProportionEvidence;
  readonly latency?: LatencyEvidence;
  /** Samples the gate needs on each side, and what it has. */
  readonly samples?: { readonly needed: number; readonly control?: number; readonly treatment: number };
}

/** A route's verdict over its current step. */
export interface PromotionVerdict {
  readonly at: string;
  readonly route: string;
  readonly mode: Mode;
  readonly weight: number;
  /** `pass` (move on once held), `marginal` (hold), `fail` (step back), `insufficient` (wait). */
  readonly verdict: GateClass;
  /** Kayenta's score, 0–100 (null while a gate lacks samples). */
  readonly score: number | null;
  /** The critical gate that failed on its own. */
  readonly vetoedBy?: PromotionGate;
  readonly confidence: number;
  readonly thresholds: { readonly pass: number; readonly marginal: number };
  readonly gates: readonly GateVerdict[];
  /** What could not be judged and why (no control for latency, …). */
  readonly notes: readonly string[];
}

const pct = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
const ms = (x: number) => `${Math.round(x * 10) / 10} ms`;
const pv = (p: number) => (p < 0.0001 ? 'p<0.0001' : `p=${Math.round(p * 10_000) / 10_000}`);
const frac = (r: Rate) => `${pct(r.rate)} (${r.events}/${r.trials})`;

/** A proportion gate: the service's rate against a control's, or against the tolerance alone. */
function proportionGate(
  gate: PromotionGate,
  what: string,
  treatment: Counts,
  control: { counts: Counts; source: 'local' | 'noise' | 'baseline' } | undefined,
  tolerance: number,
  p: CompiledPromotion,
  needed: number,
): GateVerdict {
  const critical = p.critical.has(gate);
  const samples = {
    needed,
    ...(control === undefined ? {} : { control: control.counts.trials }),
    treatment: treatment.trials,
  };
  const short =
    treatment.trials < needed ||
    (control !== undefined && control.source !== 'noise' && control.counts.trials < needed);
  if (short) {
    return {
      gate,
      class: 'insufficient',
      critical,
      samples,
      summary: `${what}: ${treatment.trials}${control === undefined ? '' : ` and ${control.counts.trials}`} of ${needed} samples needed`,
    };
  }
  if (control === undefined) {
    const t = { ...treatment, rate: treatment.trials === 0 ? 0 : treatment.events / treatment.trials };
    const pValue = binomialGreater(treatment, tolerance);
    const c = classify(t.rate, tolerance, pValue, p.alpha);
    return {
      gate,
      class: c,
      critical,
      samples,
      rates: {
        test: 'binomial',
        controlSource: 'tolerance',
        control: null,
        treatment: t,
        delta: t.rate,
        tolerance,
        pValue,
      },
      summary: `${what}: service ${frac(t)} against ${pct(tolerance)} allowed, ${pv(pValue)} (exact binomial)`,
    };
  }
  const cmp = compareProportions(control.counts, treatment);
  const c = classify(cmp.delta, tolerance, cmp.pValue, p.alpha);
  return {
    gate,
    class: c,
    critical,
    samples,
    rates: {
      test: cmp.method,
      controlSource: control.source,
      control: cmp.control,
      treatment: cmp.treatment,
      delta: cmp.delta,
      tolerance,
      pValue: cmp.pValue,
    },
    summary: `${what}: service ${frac(cmp.treatment)} vs ${control.source} ${frac(cmp.control)}, ${cmp.delta >= 0 ? '+' : ''}${pct(cmp.delta)} (${pct(tolerance)} allowed), ${pv(cmp.pValue)} (${cmp.method === 'z' ? 'z-test' : "Fisher's exact"})`,
  };
}

function latencyGate(
  control: { samples: Float64Array; source: 'local' | 'baseline' },
  treatment: Float64Array,
  p: CompiledPromotion,
): GateVerdict {
  const critical = p.critical.has('latency');
  const samples = { needed: p.minSamples, control: control.samples.length, treatment: treatment.length };
  if (control.samples.length < p.minSamples || treatment.length < p.minSamples) {
    return {
      gate: 'latency',
      class: 'insufficient',
      critical,
      samples,
      summary: `latency: ${treatment.length} and ${control.samples.length} of ${p.minSamples} samples needed`,
    };
  }
  const a = Float64Array.from(control.samples).sort();
  const b = Float64Array.from(treatment).sort();
  const body = mannWhitney(a, b);
  const medianC = quantileSorted(a, 0.5);
  const medianT = quantileSorted(b, 0.5);
  const bodyClass = classify(medianT - medianC, p.tolerance.medianMs, body.pValue, p.alpha);
  const tail = quantileTest(a, b, 0.99);
  const p99C = quantileSorted(a, 0.99);
  const p99T = quantileSorted(b, 0.99);
  const tailClass = classify(p99T - p99C, p.tolerance.p99Ms, tail.test.pValue, p.alpha);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    gate: 'latency',
    class: worse(bodyClass, tailClass),
    critical,
    samples,
    latency: {
      controlSource: control.source,
      samples: { control: a.length, treatment: b.length },
      median: {
        controlMs: round(medianC),
        treatmentMs: round(medianT),
        deltaMs: round(medianT - medianC),
        toleranceMs: p.tolerance.medianMs,
        pValue: body.pValue,
        class: bodyClass,
        u: body.u,
        cles: Math.round(body.cles * 10_000) / 10_000,
      },
      p99: {
        controlMs: round(p99C),
        treatmentMs: round(p99T),
        deltaMs: round(p99T - p99C),
        toleranceMs: p.tolerance.p99Ms,
        pValue: tail.test.pValue,
        class: tailClass,
        threshold: round(tail.threshold),
        above: { control: tail.test.control.events, treatment: tail.test.treatment.events },
      },
    },
    summary: `latency vs ${control.source}: median ${ms(medianT)} vs ${ms(medianC)} (${pv(body.pValue)}, Mann-Whitney), p99 ${ms(p99T)} vs ${ms(p99C)} (${pv(tail.test.pValue)}, tail test)`,
  };
}

/**
 * The verdict over one step's evidence: which gates apply in the step's mode, each classified, and
 * Kayenta's judgement over them. In `local` there is nothing of the service to judge: the step passes
 * once the local side has `minSamples` requests (the baseline later steps are compared with).
 */
export function judgeStep(
  evidence: StepEvidence,
  p: CompiledPromotion,
  at: { route: string; weight: number; now: number },
): PromotionVerdict {
  const gates: GateVerdict[] = [];
  const notes: string[] = [];
  const mode = evidence.mode;
  if (mode === 'local') {
    const have = evidence.local.requests;
    gates.push({
      gate: 'baseline',
      class: have >= p.minSamples ? 'pass' : 'insufficient',
      critical: p.critical.has('baseline'),
      samples: { needed: p.minSamples, treatment: have },
      summary: `baseline: ${have} local requests of ${p.minSamples} needed before the service is tried`,
    });
  } else {
    const localControl = mode === 'shadow' || mode === 'split';
    const control = localControl
      ? { side: evidence.local, source: 'local' as const }
      : evidence.baseline === undefined
        ? undefined
        : { side: evidence.baseline, source: 'baseline' as const };
    if (mode === 'shadow') {
      const noise =
        evidence.noise.trials > 0 ? { counts: evidence.noise, source: 'noise' as const } : undefined;
      if (noise === undefined)
        notes.push(
          'diff: no noise baseline learned (noiseSampleRate 0?): judged against the tolerance alone',
        );
      gates.push(
        proportionGate('diff', 'diff rate', evidence.diff, noise, p.tolerance.diffRate, p, p.minSamples),
      );
    }
    if (control === undefined)
      notes.push(
        `errors, latency: no earlier step with local traffic to compare with: errors judged against the tolerance alone, latency not judged`,
      );
    gates.push(
      proportionGate(
        'errors',
        'error rate',
        { events: evidence.remote.errors, trials: evidence.remote.requests },
        control === undefined
          ? undefined
          : {
              counts: { events: control.side.errors, trials: control.side.requests },
              source: control.source,
            },
        p.tolerance.errorRate,
        p,
        p.minSamples,
      ),
    );
    if (control !== undefined)
      gates.push(
        latencyGate({ samples: control.side.samples, source: control.source }, evidence.remote.samples, p),
      );
    if (evidence.contract.trials > 0)
      gates.push(
        proportionGate(
          'contract',
          'contract violations',
          evidence.contract,
          undefined,
          p.tolerance.contractRate,
          p,
          1,
        ),
      );
  }
  const judgement = judge(gates, p.thresholds);
  return {
    at: new Date(at.now).toISOString(),
    route: at.route,
    mode,
    weight: at.weight,
    verdict: judgement.verdict,
    score: judgement.score,
    ...(judgement.vetoedBy === undefined ? {} : { vetoedBy: judgement.vetoedBy as PromotionGate }),
    confidence: p.confidence,
    thresholds: p.thresholds,
    gates,
    notes,
  };
}
