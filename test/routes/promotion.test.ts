// Gated promotion end to end, on every framework, with a real service on a loopback port: a route
// walks local → shadow → split 50 → remote on its own as each step's evidence passes and its hold
// time is over (the clock is the `now` handed to evaluateGates, so hold times need no waiting); the
// verdicts are events, /migration fields and metrics; a service that starts failing is stepped back
// and the walk halts until re-armed; a step that needs a person waits for promote().

import type { ModeChange, PromotionReport, PromotionVerdict } from '@gatehousejs/routes';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FRAMEWORKS,
  type Framework,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from './harness.js';
import { report, waitFor } from './support.js';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => {
  metrics.disable();
});

async function gauge(name: string): Promise<DataPoint<number>[]> {
  exporter.reset();
  await reader.forceFlush();
  const out: DataPoint<number>[] = [];
  for (const rm of exporter.getMetrics())
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === name) out.push(...(m.dataPoints as DataPoint<number>[]));
  return out;
}

const HOLD = 60_000;
/** The walk under test: the hold is a minute; latency tolerances are wide (the subject is the walk, not this machine's speed). */
const promotion = {
  steps: ['shadow', 'split 50', 'remote'],
  holdMs: HOLD,
  minSamples: 20,
  tolerance: { medianMs: 1_000, p99Ms: 5_000 },
} as const;

async function send(app: RoutesApp, count: number, path = '/walk'): Promise<Record<string, number>> {
  const sides: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const res = await request(`${app.url}${path}/${i}`);
    const body = (await res.body.json()) as { side?: string };
    const key = res.statusCode >= 500 ? `status ${res.statusCode}` : (body.side ?? 'none');
    sides[key] = (sides[key] ?? 0) + 1;
  }
  return sides;
}

const promotionOf = (app: RoutesApp, name: string): PromotionReport => report(app, name).promotion!;

/** Evaluates every route (as the controller's timer does) and returns the changes made to one. */
const evaluate = (app: RoutesApp, name: string, now: number): ModeChange[] =>
  app.routes.evaluateGates(now).filter((change) => change.route === name);

describe.each(FRAMEWORKS)('gated promotion (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  let failing = false;
  const events: {
    promote: ModeChange[];
    demote: ModeChange[];
    verdict: Array<{ verdict: PromotionVerdict; status: string }>;
  } = { promote: [], demote: [], verdict: [] };

  beforeAll(async () => {
    service = await startUpstream((req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      if (failing && req.url?.startsWith('/flaky')) {
        res.statusCode = 500;
        res.end(JSON.stringify({ side: 'remote', error: 'broken' }));
        return;
      }
      res.end(JSON.stringify({ side: 'remote', method: req.method, url: req.url, body: null }));
    });
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      routes: {
        gateIntervalMs: 3_600_000,
        table: [
          {
            name: 'walk',
            path: '/walk/*',
            service: 'orders',
            mode: 'local',
            sticky: 'none',
            // The two sides answer alike but for who answered.
            diff: { ignore: ['/side'] },
            shadow: { noiseSampleRate: 1 },
            promotion,
          },
          {
            name: 'flaky',
            path: '/flaky/*',
            service: 'orders',
            mode: 'split',
            weight: 50,
            sticky: 'none',
            promotion,
          },
          {
            name: 'confirmed',
            path: '/confirmed/*',
            service: 'orders',
            mode: 'local',
            promotion: { ...promotion, confirm: ['shadow'] },
          },
        ],
      },
    });
    app.routes.on('promote', (c: ModeChange) => events.promote.push(c));
    app.routes.on('demote', (c: ModeChange) => events.demote.push(c));
    app.routes.on('verdict', (v: { verdict: PromotionVerdict; status: string }) => events.verdict.push(v));
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });
  afterEach(() => {
    failing = false;
  });

  it('walks local → shadow → split 50 → remote, each step once its evidence passes and its hold is over', async () => {
    // local: the baseline needs its samples; the verdict then passes but the step is held.
    expect(await send(app, 25)).toEqual({ local: 25 });
    const since = Date.parse(report(app, 'walk').since);
    expect(evaluate(app, 'walk', since + 1_000)).toEqual([]);
    expect(promotionOf(app, 'walk')).toMatchObject({
      step: -1,
      next: { mode: 'shadow', weight: 0 },
      status: 'holding',
      verdict: { verdict: 'pass', mode: 'local', gates: [{ gate: 'baseline', class: 'pass' }] },
    });
    // The hold is over: one step forward, with the verdict that allowed it.
    const [toShadow] = evaluate(app, 'walk', since + HOLD);
    expect(toShadow).toMatchObject({
      route: 'walk',
      from: { mode: 'local' },
      to: { mode: 'shadow' },
      by: 'gate',
      reason: 'promotion',
      verdict: { verdict: 'pass', score: 100 },
    });
    expect(events.promote.at(-1)).toBe(toShadow);

    // shadow: copies compared (no difference but who answered), noise learned from second local answers.
    expect(await send(app, 25)).toEqual({ local: 25 });
    await waitFor(() => report(app, 'walk').diff.stage.compared >= 25, 5_000, '25 shadow comparisons');
    const shadow = report(app, 'walk');
    expect(shadow.diff.stage).toMatchObject({ compared: 25, different: 0 });
    expect(shadow.diff.baseline.pairs).toBeGreaterThanOrEqual(20);
    expect(shadow.diff.baseline.different).toBe(0);
    const [toSplit] = evaluate(app, 'walk', Date.parse(shadow.since) + HOLD);
    expect(toSplit).toMatchObject({
      from: { mode: 'shadow' },
      to: { mode: 'split', weight: 50 },
      reason: 'promotion',
    });
    expect(toSplit!.verdict!.gates.map((g) => [g.gate, g.class])).toEqual([
      ['diff', 'pass'],
      ['errors', 'pass'],
      ['latency', 'pass'],
    ]);
    expect(toSplit!.verdict!.gates[0]!.rates).toMatchObject({
      controlSource: 'noise',
      treatment: { events: 0, trials: 25 },
    });

    // split 50, request by request: both sides answer; the service is compared with local.
    const sides = await send(app, 120);
    expect(sides.local! + sides.remote!).toBe(120);
    expect(Math.min(sides.local!, sides.remote!)).toBeGreaterThanOrEqual(20);
    const split = report(app, 'walk');
    const [toRemote] = evaluate(app, 'walk', Date.parse(split.since) + HOLD);
    expect(toRemote).toMatchObject({
      from: { mode: 'split', weight: 50 },
      to: { mode: 'remote' },
      reason: 'promotion',
    });
    expect(toRemote!.verdict!.gates.find((g) => g.gate === 'errors')!.rates).toMatchObject({
      controlSource: 'local',
      control: { trials: sides.local },
      treatment: { trials: sides.remote },
    });

    // remote: judged against the split's local side (the baseline); the walk is complete.
    expect(await send(app, 25)).toEqual({ remote: 25 });
    expect(evaluate(app, 'walk', Date.now() + 10 * HOLD)).toEqual([]);
    const done = promotionOf(app, 'walk');
    expect(done).toMatchObject({ status: 'complete', next: null, step: 2 });
    expect(done.verdict!.gates.find((g) => g.gate === 'errors')!.rates!.controlSource).toBe('baseline');
    expect(
      report(app, 'walk').changes.map((c) => `${c.to.mode}${c.to.mode === 'split' ? c.to.weight : ''}`),
    ).toEqual(['remote', 'split50', 'shadow']);
    // Verdicts were announced as they changed, never twice in a row the same.
    const keys = events.verdict
      .filter((e) => e.verdict.route === 'walk')
      .map((e) => `${e.verdict.mode}:${e.verdict.verdict}:${e.status}`);
    expect(keys[0]).toBe('local:pass:holding');
    expect(keys.at(-1)).toBe('remote:pass:complete');
    for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]);
  });

  it('a service that starts failing is stepped back on a failing verdict, and stays until re-armed', async () => {
    failing = true;
    const sides = await send(app, 120, '/flaky');
    // 500s, then 503 once the client's circuit breaker has opened on them: errors either way.
    expect((sides['status 500'] ?? 0) + (sides['status 503'] ?? 0)).toBeGreaterThanOrEqual(20);
    const since = Date.parse(report(app, 'flaky').since);
    const [back] = evaluate(app, 'flaky', since + 1);
    expect(back).toMatchObject({
      from: { mode: 'split', weight: 50 },
      to: { mode: 'shadow' },
      reason: 'promotion-fail',
    });
    expect(back!.verdict).toMatchObject({ verdict: 'fail', vetoedBy: 'errors' });
    expect(events.demote.at(-1)).toBe(back);
    const halted = promotionOf(app, 'flaky');
    expect(halted.status).toBe('halted');
    expect(halted.halted!.reason).toMatch(/errors vetoed/);
    // Healthy again, passing shadow traffic changes nothing while halted.
    failing = false;
    await send(app, 30, '/flaky');
    await waitFor(() => report(app, 'flaky').remote.stage.requests >= 30, 5_000, 'shadow copies');
    expect(evaluate(app, 'flaky', Date.now() + 10 * HOLD)).toEqual([]);
    expect(report(app, 'flaky').mode).toBe('shadow');
    // Re-armed: the table's mode again, and the walk resumes from there.
    app.routes.rearm('flaky');
    expect(promotionOf(app, 'flaky').status).toBe('judging');
    expect(report(app, 'flaky')).toMatchObject({ mode: 'split', weight: 50 });
  });

  it('a step that needs confirmation waits for promote(), which moves to the next step of the walk', async () => {
    await send(app, 25, '/confirmed');
    const since = Date.parse(report(app, 'confirmed').since);
    expect(evaluate(app, 'confirmed', since + HOLD)).toEqual([]);
    expect(promotionOf(app, 'confirmed')).toMatchObject({
      status: 'awaiting-confirmation',
      next: { mode: 'shadow' },
    });
    const change = app.routes.promote('confirmed');
    expect(change).toMatchObject({ from: { mode: 'local' }, to: { mode: 'shadow' }, by: 'api' });
    expect(promotionOf(app, 'confirmed').status).toBe('judging');
    // rollback() follows the walk too: back to local before the first step.
    expect(app.routes.rollback('confirmed')).toMatchObject({ to: { mode: 'local' } });
    expect(() => app.routes.rollback('confirmed')).toThrow(/local already/);
  });

  it('verdicts are metrics: score, verdict and each gate class per route', async () => {
    const score = await gauge('gatehouse.promotion.score');
    expect(score.find((p) => p.attributes['gatehouse.route'] === 'walk')?.value).toBe(100);
    const verdict = await gauge('gatehouse.promotion.verdict');
    const walk = verdict.filter((p) => p.attributes['gatehouse.route'] === 'walk');
    expect(walk.map((p) => [p.attributes.verdict, p.attributes.status, p.value])).toEqual(
      expect.arrayContaining([
        ['pass', 'complete', 1],
        ['fail', 'complete', 0],
      ]),
    );
    const gates = await gauge('gatehouse.promotion.gate');
    expect(
      gates.find(
        (p) =>
          p.attributes['gatehouse.route'] === 'walk' &&
          p.attributes.gate === 'errors' &&
          p.attributes.class === 'pass',
      )?.value,
    ).toBe(1);
  });
});
