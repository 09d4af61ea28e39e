// The charts' points: rates from the totals' growth between two samples, percentiles as /migration
// gives them, bounded history, and routes that leave the table forgotten.
import type { MigrationReport } from '@gatehousejs/routes';
import { describe, expect, it } from 'vitest';
import { Series } from './series.js';

const latency = (samples: number, p50Ms: number, p99Ms: number) => ({
  samples,
  p50Ms,
  p90Ms: p99Ms,
  p99Ms,
  maxMs: p99Ms,
});
const side = (requests: number, errors: number, l = latency(0, 0, 0)) => ({
  window: { requests, errors, errorRate: requests ? errors / requests : 0, latency: l },
  stage: { requests, errors, errorRate: requests ? errors / requests : 0, latency: l },
  total: { requests, errors, errorRate: requests ? errors / requests : 0 },
});
const report = (name: string, local: ReturnType<typeof side>, remote: ReturnType<typeof side>) =>
  ({ name, local, remote }) as unknown as MigrationReport;

describe('Series', () => {
  it('turns the totals into requests per second and an error rate per interval', () => {
    const series = new Series(10);
    series.sample([report('a', side(100, 1), side(0, 0))], 10_000);
    series.sample([report('a', side(150, 1, latency(50, 2, 9)), side(50, 5, latency(50, 4, 30)))], 15_000);
    const [first, second] = series.all().a!;
    expect(first).toEqual({
      t: 10_000,
      local: { rps: null, errorRate: null, p50Ms: null, p99Ms: null },
      remote: { rps: null, errorRate: null, p50Ms: null, p99Ms: null },
    });
    expect(second).toEqual({
      t: 15_000,
      local: { rps: 10, errorRate: 0, p50Ms: 2, p99Ms: 9 },
      remote: { rps: 10, errorRate: 0.1, p50Ms: 4, p99Ms: 30 },
    });
  });

  it('keeps the latest points only, and forgets a route that left the table', () => {
    const series = new Series(3);
    for (let i = 0; i < 5; i++)
      series.sample([report('a', side(i, 0), side(0, 0)), report('b', side(0, 0), side(0, 0))], i * 1000);
    expect(series.all().a!.map((p) => p.t)).toEqual([2000, 3000, 4000]);
    series.sample([report('a', side(9, 0), side(0, 0))], 9000);
    expect(Object.keys(series.all())).toEqual(['a']);
  });
});
