import { describe, expect, test } from 'vitest';
import { periodAt } from './periods.js';

const at = (iso: string) => Date.parse(iso);

describe('periodAt', () => {
  test('a day ends at the next UTC midnight; the same id all day long', () => {
    const morning = periodAt('day', at('2026-11-22T00:00:00.000Z'));
    const night = periodAt('day', at('2026-11-22T23:59:59.999Z'));
    expect(morning).toEqual(night);
    expect(morning.end).toBe(at('2026-11-23T00:00:00.000Z'));
    expect(periodAt('day', at('2026-11-23T00:00:00.000Z')).id).not.toBe(morning.id);
  });

  test('a month ends on the first of the next month, across years and leap Februaries', () => {
    expect(periodAt('month', at('2026-12-31T23:00:00Z')).end).toBe(at('2027-01-01T00:00:00Z'));
    expect(periodAt('month', at('2028-02-29T12:00:00Z')).end).toBe(at('2028-03-01T00:00:00Z'));
    expect(periodAt('month', at('2026-11-01T00:00:00Z')).id).toBe('m2026-11');
  });

  test('an ISO week runs Monday to Monday', () => {
    // 2026-11-22 is a Sunday: its week started on Monday 16 November.
    const sunday = periodAt('week', at('2026-11-22T20:00:00Z'));
    expect(sunday.end).toBe(at('2026-11-23T00:00:00Z'));
    expect(periodAt('week', at('2026-11-16T00:00:00Z')).id).toBe(sunday.id);
    expect(periodAt('week', at('2026-11-23T00:00:00Z')).id).not.toBe(sunday.id);
  });

  test('an hour ends on the hour', () => {
    expect(periodAt('hour', at('2026-11-22T10:59:59Z')).end).toBe(at('2026-11-22T11:00:00Z'));
  });
});
