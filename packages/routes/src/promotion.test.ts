// Gated promotion without a gateway: the walk's steps, the `promotion` options as the table checks
// them, and verdicts over synthetic evidence whose truth is known by construction.
import { ConfigError } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import {
  compareSteps,
  compilePromotion,
  judgeStep,
  nextStep,
  parseStep,
  previousStep,
  type SideEvidence,
  type StepEvidence,
  stepIndex,
} from './promotion.js';
import { compileTable } from './table.js';

const context = { services: new Set(['orders']), pathPolicy: { caseSensitive: false } };

function problems(promotion: unknown, extra: Record<string, unknown> = {}): string[] {
  try {
    compileTable(
      [{ name: 'r', path: '/r/*', service: 'orders', mode: 'local', promotion, ...extra }],
      context,
    );
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

/** Seeded latencies around `median` ms (a uniform spread: the shape does not matter to rank tests). */
function durations(seed: number, count: number, median: number, slowEvery = 0, slowBy = 0): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    a = (Math.imul(a, 1_664_525) + 1_013_904_223) >>> 0;
    out[i] = median * (0.5 + a / 4_294_967_296) + (slowEvery > 0 && i % slowEvery === 0 ? slowBy : 0);
  }
  return out;
}

const side = (requests: number, errors: number, samples: Float64Array): SideEvidence => ({
  requests,
  errors,
  samples,
});

function evidence(over: Partial<StepEvidence>): StepEvidence {
  return {
    mode: 'shadow',
    local: side(400, 2, durations(1, 400, 10)),
    remote: side(400, 2, durations(2, 400, 10)),
    baseline: undefined,
    diff: { events: 0, trials: 400 },
    noise: { events: 1, trials: 40 },
    contract: { events: 0, trials: 0 },
    ...over,
  };
}

const p = compilePromotion({ minSamples: 50 })!;
const at = { route: 'r', weight: 0, now: Date.parse('2026-12-04T12:00:00Z') };

describe('steps', () => {
  it('parses the written forms and orders them by stage, then split weight', () => {
    expect(
      (['shadow', 'split 10', { mode: 'split', weight: 50 }, 'fallback', 'remote'] as const).map((s) =>
        parseStep(s),
      ),
    ).toEqual([
      { mode: 'shadow', weight: 0 },
      { mode: 'split', weight: 10 },
      { mode: 'split', weight: 50 },
      { mode: 'fallback', weight: 0 },
      { mode: 'remote', weight: 0 },
    ]);
    expect(compareSteps({ mode: 'split', weight: 10 }, { mode: 'split', weight: 50 })).toBeLessThan(0);
    expect(compareSteps({ mode: 'remote', weight: 30 }, { mode: 'remote', weight: 0 })).toBe(0);
  });

  it('next and previous follow the walk from wherever the route stands, even between steps', () => {
    const steps = p.steps;
    expect(steps.map((s) => `${s.mode}${s.mode === 'split' ? ` ${s.weight}` : ''}`)).toEqual([
      'shadow',
      'split 10',
      'split 50',
      'remote',
    ]);
    expect(nextStep(steps, { mode: 'local', weight: 0 })).toEqual({ mode: 'shadow', weight: 0 });
    expect(nextStep(steps, { mode: 'split', weight: 25 })).toEqual({ mode: 'split', weight: 50 });
    // A person moved it to fallback, which the walk does not list: remote comes next, split 50 before.
    expect(nextStep(steps, { mode: 'fallback', weight: 50 })).toEqual({ mode: 'remote', weight: 0 });
    expect(previousStep(steps, { mode: 'fallback', weight: 50 })).toEqual({ mode: 'split', weight: 50 });
    expect(previousStep(steps, { mode: 'shadow', weight: 0 })).toEqual({ mode: 'local', weight: 0 });
    expect(nextStep(steps, { mode: 'remote', weight: 0 })).toBeUndefined();
    expect(stepIndex(steps, { mode: 'local', weight: 0 })).toBe(-1);
    expect(stepIndex(steps, { mode: 'split', weight: 25 })).toBe(1);
  });

  it('compiles the defaults, and `true` means every default', () => {
    const d = compilePromotion(true)!;
    expect(d.holdMs).toBe(300_000);
    expect(d.minSamples).toBe(50);
    expect(d.alpha).toBeCloseTo(0.01, 12);
    expect([...d.critical]).toEqual(['diff', 'errors', 'contract']);
    expect(d.tolerance).toEqual({
      diffRate: 0.01,
      errorRate: 0.01,
      contractRate: 0,
      medianMs: 25,
      p99Ms: 100,
    });
    expect(d.thresholds).toEqual({ pass: 95, marginal: 75 });
    expect(compilePromotion(false)).toBeUndefined();
    expect([...compilePromotion({ confirm: true })!.confirm]).toEqual([
      'shadow',
      'split',
      'fallback',
      'remote',
    ]);
  });
});

describe('the promotion options in a table', () => {
  it('accepts a full specification', () => {
    expect(
      problems({
        steps: ['shadow', 'split 5', { mode: 'split', weight: 25 }, 'fallback', 'remote'],
        holdMs: 60_000,
        minSamples: 100,
        confidence: 0.995,
        confirm: ['remote'],
        critical: ['errors', 'latency'],
        tolerance: { diffRate: 0, errorRate: 0.005, contractRate: 0, medianMs: 10, p99Ms: 50 },
        scoreThresholds: { pass: 90, marginal: 60 },
      }),
    ).toEqual([]);
    expect(problems(true)).toEqual([]);
  });

  it('refuses steps that go back, splits of 0 or 100, unknown keys and thresholds out of order, all at once', () => {
    const found = problems({
      steps: ['split 50', 'split 10', 'shadow', 'split 100'],
      confidence: 2,
      tolerence: {},
      scoreThresholds: { pass: 60, marginal: 80 },
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routes\[0\]\.promotion\.steps\[1\]: steps must move forward/),
        expect.stringMatching(/^routes\[0\]\.promotion\.steps\[2\]: steps must move forward/),
        expect.stringMatching(
          /^routes\[0\]\.promotion\.steps\[3\]: a split step needs a weight above 0 and below 100/,
        ),
        expect.stringMatching(/^routes\[0\]\.promotion\.confidence: must be a number from 0\.5 to 0\.9999/),
        expect.stringMatching(/^routes\[0\]\.promotion.*tolerence.*did you mean 'tolerance'/),
        expect.stringMatching(
          /^routes\[0\]\.promotion\.scoreThresholds\.marginal: must not be above pass \(60\)/,
        ),
      ]),
    );
  });

  it('refuses a step that is not a step, and promotion on a route without a service', () => {
    expect(problems({ steps: ['local'] }).join('\n')).toMatch(/steps\[0\].*'shadow', 'split N'/);
    expect(problems({ steps: ['split ten'] }).join('\n')).toMatch(/steps\[0\]/);
    let found: string[] = [];
    try {
      compileTable([{ name: 'r', path: '/r/*', mode: 'local', promotion: true }], context);
    } catch (error) {
      found = (error as ConfigError).problems.map((q) => `${q.path}: ${q.message}`);
    }
    expect(found).toEqual(['routes[0].service: is required for promotion (it walks towards the service)']);
  });
});

describe('verdicts over synthetic evidence', () => {
  it('local: passes once the local baseline has its samples, insufficient before', () => {
    const few = judgeStep(evidence({ mode: 'local', local: side(20, 0, durations(3, 20, 10)) }), p, at);
    expect(few.verdict).toBe('insufficient');
    expect(few.gates.map((g) => [g.gate, g.class])).toEqual([['baseline', 'insufficient']]);
    expect(judgeStep(evidence({ mode: 'local' }), p, at).verdict).toBe('pass');
  });

  it('shadow with the same behaviour on both sides passes every gate', () => {
    const v = judgeStep(evidence({}), p, at);
    expect(v.gates.map((g) => [g.gate, g.class])).toEqual([
      ['diff', 'pass'],
      ['errors', 'pass'],
      ['latency', 'pass'],
    ]);
    expect(v).toMatchObject({
      verdict: 'pass',
      score: 100,
      mode: 'shadow',
      route: 'r',
      at: '2026-12-04T12:00:00.000Z',
    });
    const diff = v.gates[0]!;
    expect(diff.rates).toMatchObject({ controlSource: 'noise', control: { events: 1, trials: 40 } });
  });

  it('shadow: a diff rate far above the noise baseline fails and vetoes (critical)', () => {
    const v = judgeStep(
      evidence({ diff: { events: 40, trials: 400 }, noise: { events: 1, trials: 200 } }),
      p,
      at,
    );
    expect(v.verdict).toBe('fail');
    expect(v.vetoedBy).toBe('diff');
    expect(v.gates[0]!.rates!.pValue).toBeLessThan(0.01);
    expect(v.gates[0]!.summary).toMatch(/^diff rate: service 10\.0% \(40\/400\) vs noise 0\.5% \(1\/200\)/);
  });

  it('shadow: a few differences beyond the tolerance but not proven are marginal (hold)', () => {
    const v = judgeStep(
      evidence({ diff: { events: 3, trials: 60 }, noise: { events: 0, trials: 5 } }),
      p,
      at,
    );
    expect(v.gates[0]!.class).toBe('marginal');
    expect(v.verdict).toBe('marginal');
  });

  it('split: a service that errs more fails the critical error gate', () => {
    const v = judgeStep(
      evidence({
        mode: 'split',
        local: side(900, 5, durations(4, 900, 10)),
        remote: side(100, 12, durations(5, 100, 10)),
      }),
      p,
      at,
    );
    expect(v.gates.map((g) => g.gate)).toEqual(['errors', 'latency']);
    expect(v.verdict).toBe('fail');
    expect(v.vetoedBy).toBe('errors');
  });

  it('split: a shifted p99 fails the latency gate (not critical: the score decides)', () => {
    const v = judgeStep(
      evidence({
        mode: 'split',
        local: side(1000, 0, durations(6, 1000, 10)),
        remote: side(1000, 0, durations(7, 1000, 10, 25, 400)),
      }),
      p,
      at,
    );
    const latency = v.gates.find((g) => g.gate === 'latency')!;
    expect(latency.class).toBe('fail');
    expect(latency.latency!.median.class).toBe('pass');
    expect(latency.latency!.p99.class).toBe('fail');
    expect(latency.latency!.p99.deltaMs).toBeGreaterThan(300);
    // Two gates, one failing: score 50, below marginal (75).
    expect(v).toMatchObject({ verdict: 'fail', score: 50 });
    expect(v.vetoedBy).toBeUndefined();
  });

  it('remote: compared with the baseline of an earlier step; without one, errors against the tolerance alone', () => {
    const baseline = { ...side(500, 1, durations(8, 500, 10)), mode: 'split' as const, until: 'x' };
    const withBaseline = judgeStep(
      evidence({ mode: 'remote', local: side(0, 0, new Float64Array()), baseline }),
      p,
      at,
    );
    expect(withBaseline.gates.map((g) => [g.gate, g.class])).toEqual([
      ['errors', 'pass'],
      ['latency', 'pass'],
    ]);
    expect(withBaseline.gates[0]!.rates!.controlSource).toBe('baseline');
    const without = judgeStep(evidence({ mode: 'remote', local: side(0, 0, new Float64Array()) }), p, at);
    expect(without.gates.map((g) => g.gate)).toEqual(['errors']);
    expect(without.gates[0]!.rates).toMatchObject({ test: 'binomial', controlSource: 'tolerance' });
    expect(without.notes.join(' ')).toMatch(/no earlier step with local traffic/);
  });

  it('small samples are insufficient, whatever they show', () => {
    const v = judgeStep(evidence({ mode: 'split', remote: side(10, 5, durations(9, 10, 500)) }), p, at);
    expect(v.verdict).toBe('insufficient');
    expect(v.score).toBeNull();
  });

  it('a contract violation fails the contract gate at the default tolerance (0), and vetoes', () => {
    const v = judgeStep(evidence({ contract: { events: 1, trials: 300 } }), p, at);
    expect(v.gates.at(-1)).toMatchObject({ gate: 'contract', class: 'fail', critical: true });
    expect(v.vetoedBy).toBe('contract');
  });
});
