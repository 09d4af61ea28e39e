import { describe, expect, it } from 'vitest';
import { DiffWindow, LATENCY_SAMPLES, SideWindow } from './window.js';

const WINDOW = 60_000;
// A window is ten buckets; an event can be forgotten up to one bucket before it is WINDOW old.
const BUCKET = WINDOW / 10;
// An arbitrary wall-clock time, not aligned to a bucket.
const T0 = 1_700_000_004_321;

/** A reproducible stream of numbers in [0, 1) (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The rank-ceil(q·n) smallest value: the definition of the window's percentiles. */
function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(q * sorted.length) - 1]!;
}

describe('SideWindow', () => {
  const EMPTY = {
    requests: 0,
    errors: 0,
    errorRate: 0,
    latency: { samples: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 },
  };

  it('is empty before anything is recorded', () => {
    const window = new SideWindow(WINDOW, T0);
    expect(window.snapshot(T0)).toEqual(EMPTY);
    expect(window.stage()).toEqual(EMPTY);
    expect(window.totals()).toEqual({ requests: 0, errors: 0, errorRate: 0 });
  });

  it('counts requests and errors, and their rate', () => {
    const window = new SideWindow(WINDOW, T0);
    for (let i = 0; i < 40; i++) window.record(10, i % 8 === 0, T0 + i * 100);
    const snapshot = window.snapshot(T0 + 4_000);
    expect(snapshot.requests).toBe(40);
    expect(snapshot.errors).toBe(5);
    expect(snapshot.errorRate).toBeCloseTo(5 / 40, 10);
    expect(window.total).toBe(40);
    expect(window.totalErrors).toBe(5);
  });

  it('reports exact percentiles (nearest rank), not bucket bounds', () => {
    const random = seeded(7);
    const window = new SideWindow(WINDOW, T0);
    const latencies: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      // Mostly fast, with a slow tail over three orders of magnitude.
      const ms = random() < 0.9 ? 1 + random() * 50 : 100 + random() * 4_900;
      latencies.push(ms);
      window.record(ms, false, T0 + (i % 50_000));
    }
    const snapshot = window.snapshot(T0 + 50_000);
    expect(snapshot.requests).toBe(2_000);
    const micro = (ms: number) => Math.round(ms * 1000) / 1000;
    expect(snapshot.latency).toEqual({
      samples: 2_000,
      p50Ms: micro(exactQuantile(latencies, 0.5)),
      p90Ms: micro(exactQuantile(latencies, 0.9)),
      p99Ms: micro(exactQuantile(latencies, 0.99)),
      maxMs: micro(Math.max(...latencies)),
    });
    expect(window.stage().latency).toEqual(snapshot.latency);
  });

  it('reports single values as they are', () => {
    for (const ms of [0.013, 1, 1.3, 7, 42, 99.9, 250, 1_000, 12_345, 120_000]) {
      const window = new SideWindow(WINDOW, T0);
      window.record(ms, false, T0);
      expect(window.snapshot(T0).latency).toEqual({ samples: 1, p50Ms: ms, p90Ms: ms, p99Ms: ms, maxMs: ms });
    }
  });

  it('puts p99 in the tail and p50 in the body', () => {
    const window = new SideWindow(WINDOW, T0);
    for (let i = 0; i < 98; i++) window.record(10, false, T0);
    window.record(2_000, false, T0);
    window.record(2_000, false, T0);
    expect(window.snapshot(T0).latency).toMatchObject({ p50Ms: 10, p90Ms: 10, p99Ms: 2_000, maxMs: 2_000 });
  });

  it(`keeps the latest ${LATENCY_SAMPLES} durations: percentiles are exact over them`, () => {
    const window = new SideWindow(WINDOW, T0);
    // 1,000 slow requests, then exactly the sample count of fast ones: the slow ones are out of the sample.
    for (let i = 0; i < 1_000; i++) window.record(500, false, T0);
    for (let i = 0; i < LATENCY_SAMPLES; i++) window.record(1 + (i % 10), false, T0 + 1);
    const snapshot = window.snapshot(T0 + 2);
    expect(snapshot.requests).toBe(1_000 + LATENCY_SAMPLES);
    expect(snapshot.latency).toMatchObject({ samples: LATENCY_SAMPLES, maxMs: 10, p50Ms: 5 });
  });

  it('forgets what is older than the window, latencies included', () => {
    const window = new SideWindow(WINDOW, T0);
    window.record(5, true, T0);
    window.record(5, false, T0);
    // Still counted one bucket short of the window; gone once the window has passed.
    expect(window.snapshot(T0 + WINDOW - BUCKET)).toMatchObject({ requests: 2, latency: { samples: 2 } });
    expect(window.snapshot(T0 + WINDOW)).toEqual(EMPTY);
    expect(window.snapshot(T0 + 10 * WINDOW).requests).toBe(0);
    // The stage and the totals are not windowed.
    expect(window.stage()).toMatchObject({ requests: 2, errors: 1, latency: { samples: 2, p99Ms: 5 } });
    expect(window.totals()).toEqual({ requests: 2, errors: 1, errorRate: 0.5 });
  });

  it('slides: old buckets drop out while recent ones stay, their latencies with them', () => {
    const window = new SideWindow(WINDOW, T0);
    // One request per second for two minutes, the first minute slow and failing, the second fast.
    for (let s = 0; s < 120; s++) window.record(s < 60 ? 1_000 : 10, s < 60, T0 + s * 1_000);
    const snapshot = window.snapshot(T0 + 119_999);
    expect(snapshot.requests).toBeGreaterThanOrEqual(60 - BUCKET / 1_000);
    expect(snapshot.requests).toBeLessThanOrEqual(60);
    expect(snapshot.errors).toBe(0);
    // Exactly the requests counted, and none of the slow minute.
    expect(snapshot.latency).toMatchObject({ samples: snapshot.requests, p99Ms: 10, maxMs: 10 });
  });

  it('reuses a bucket of an earlier lap without carrying its counts', () => {
    const window = new SideWindow(WINDOW, T0);
    for (let i = 0; i < 10; i++) window.record(3_000, true, T0);
    // Exactly one window later: the same slot of the ring.
    window.record(2, false, T0 + WINDOW);
    expect(window.snapshot(T0 + WINDOW)).toMatchObject({
      requests: 1,
      errors: 0,
      errorRate: 0,
      latency: { samples: 1, p99Ms: 2 },
    });
  });

  it('a new stage starts the window and the stage empty, and keeps the totals', () => {
    const window = new SideWindow(WINDOW, T0);
    for (let i = 0; i < 10; i++) window.record(50, true, T0 + i);
    window.newStage(T0 + 10);
    expect(window.snapshot(T0 + 10)).toEqual(EMPTY);
    expect(window.stage()).toEqual(EMPTY);
    expect(window.stageStart).toBe(T0 + 10);
    window.record(7, false, T0 + 20);
    expect(window.snapshot(T0 + 20)).toMatchObject({
      requests: 1,
      errors: 0,
      latency: { samples: 1, maxMs: 7 },
    });
    expect(window.stage()).toMatchObject({ requests: 1, errors: 0, latency: { samples: 1, maxMs: 7 } });
    expect(window.totals()).toEqual({ requests: 11, errors: 10, errorRate: 10 / 11 });
  });

  it('a new stage forgets the window with a clock that starts at 0', () => {
    const window = new SideWindow(WINDOW, 0);
    window.record(50, true, 5);
    window.newStage(6);
    expect(window.snapshot(10).requests).toBe(0);
  });

  it('resize() takes a new window length and keeps the stage', () => {
    const window = new SideWindow(WINDOW, T0);
    window.record(3, false, T0);
    window.resize(1_000, T0 + 1);
    expect(window.snapshot(T0).requests).toBe(0);
    window.record(4, false, T0 + 1);
    expect(window.snapshot(T0 + 500)).toMatchObject({ requests: 1, latency: { samples: 1, maxMs: 4 } });
    expect(window.snapshot(T0 + 1_500).requests).toBe(0);
    expect(window.stage()).toMatchObject({ requests: 2, latency: { samples: 2 } });
  });

  it('works with a window shorter than its bucket count', () => {
    const window = new SideWindow(5, T0);
    window.record(1, false, T0);
    expect(window.snapshot(T0).requests).toBe(1);
    expect(window.snapshot(T0 + 10).requests).toBe(0);
  });
});

describe('DiffWindow', () => {
  it('is empty before anything is recorded', () => {
    expect(new DiffWindow(WINDOW).snapshot(T0)).toEqual({ compared: 0, different: 0, rate: 0 });
  });

  it('counts comparisons and differences, and their rate', () => {
    const window = new DiffWindow(WINDOW);
    for (let i = 0; i < 50; i++) window.record(i % 5 === 0, T0 + i * 500);
    expect(window.snapshot(T0 + 25_000)).toEqual({ compared: 50, different: 10, rate: 0.2 });
  });

  it('forgets what is older than the window', () => {
    const window = new DiffWindow(WINDOW);
    window.record(true, T0);
    window.record(false, T0);
    expect(window.snapshot(T0 + WINDOW - BUCKET)).toEqual({ compared: 2, different: 1, rate: 0.5 });
    expect(window.snapshot(T0 + WINDOW)).toEqual({ compared: 0, different: 0, rate: 0 });
  });

  it('slides: old buckets drop out while recent ones stay', () => {
    const window = new DiffWindow(WINDOW);
    for (let s = 0; s < 120; s++) window.record(s < 60, T0 + s * 1_000);
    const snapshot = window.snapshot(T0 + 119_999);
    expect(snapshot.compared).toBeGreaterThanOrEqual(60 - BUCKET / 1_000);
    expect(snapshot.compared).toBeLessThanOrEqual(60);
    expect(snapshot.different).toBe(0);
  });

  it('reuses a bucket of an earlier lap without carrying its counts', () => {
    const window = new DiffWindow(WINDOW);
    for (let i = 0; i < 10; i++) window.record(true, T0);
    window.record(false, T0 + WINDOW);
    expect(window.snapshot(T0 + WINDOW)).toEqual({ compared: 1, different: 0, rate: 0 });
  });

  it('clear() forgets everything', () => {
    const window = new DiffWindow(WINDOW);
    for (let i = 0; i < 10; i++) window.record(true, T0 + i);
    window.clear();
    expect(window.snapshot(T0 + 10)).toEqual({ compared: 0, different: 0, rate: 0 });
    window.record(false, T0 + 20);
    expect(window.snapshot(T0 + 20)).toEqual({ compared: 1, different: 0, rate: 0 });
  });

  // A clock near 0 (performance.now() early in a process) puts bucket start 0 inside the window, so
  // clearing start times alone is not enough.
  it('clear() forgets everything with a clock that starts at 0', () => {
    const window = new DiffWindow(WINDOW);
    window.record(true, 5);
    window.clear();
    expect(window.snapshot(10)).toEqual({ compared: 0, different: 0, rate: 0 });
  });
});
