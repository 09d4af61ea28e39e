import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { Breaker } from './breaker.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Admits a call and reports its result; returns what admit() said. */
const call = (breaker: Breaker, failed: boolean | undefined) => {
  const admitted = breaker.admit();
  if (admitted !== false) breaker.record(admitted, failed);
  return admitted;
};

describe('Breaker', () => {
  test('consecutive: opens after threshold failures in a row; a success in between resets the count', () => {
    const breaker = new Breaker({ threshold: 3 });
    call(breaker, true);
    call(breaker, true);
    call(breaker, false);
    call(breaker, true);
    call(breaker, true);
    expect(breaker.state).toBe('closed');
    call(breaker, true);
    expect(breaker.state).toBe('open');
    expect(breaker.blocked).toBe(true);
    expect(breaker.admit()).toBe(false);
  });

  test('one probe after halfOpenAfterMs; others are refused while it is out; success closes', () => {
    const changes: string[] = [];
    const breaker = new Breaker({ threshold: 1, halfOpenAfterMs: 1_000 });
    breaker.onStateChange((state) => changes.push(state));
    call(breaker, true);
    vi.advanceTimersByTime(999);
    expect(breaker.admit()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(breaker.blocked).toBe(false);
    const probe = breaker.admit();
    expect(probe).toBe('probe');
    expect(breaker.state).toBe('half-open');
    expect(breaker.blocked).toBe(true);
    expect(breaker.admit()).toBe(false);
    breaker.record('probe', false);
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  test('each failed probe doubles the open time, up to maxHalfOpenAfterMs; closing resets it', () => {
    const breaker = new Breaker({ threshold: 1, halfOpenAfterMs: 100, maxHalfOpenAfterMs: 300 });
    call(breaker, true);
    const openFor = () => {
      let ms = 0;
      while (breaker.blocked) {
        vi.advanceTimersByTime(10);
        ms += 10;
      }
      return ms;
    };
    expect(openFor()).toBe(100);
    expect(call(breaker, true)).toBe('probe');
    expect(openFor()).toBe(200);
    expect(call(breaker, true)).toBe('probe');
    expect(openFor()).toBe(300);
    expect(call(breaker, true)).toBe('probe');
    expect(openFor()).toBe(300);
    expect(call(breaker, false)).toBe('probe');
    expect(breaker.state).toBe('closed');
    call(breaker, true);
    expect(openFor()).toBe(100);
  });

  test('a probe its caller cancelled leaves the circuit open with its delay over: the next call probes', () => {
    const breaker = new Breaker({ threshold: 1, halfOpenAfterMs: 100 });
    call(breaker, true);
    vi.advanceTimersByTime(100);
    expect(call(breaker, undefined)).toBe('probe');
    expect(breaker.state).toBe('open');
    expect(breaker.admit()).toBe('probe');
  });

  test('cancelled calls and late reports of calls admitted before the circuit opened change nothing', () => {
    const breaker = new Breaker({ threshold: 2 });
    const early = breaker.admit();
    expect(early).toBe('closed');
    call(breaker, true);
    call(breaker, undefined);
    call(breaker, true);
    expect(breaker.state).toBe('open');
    breaker.record('closed', false);
    expect(breaker.state).toBe('open');
  });

  test('rate mode: opens when the failure share over the window passes the threshold at enough traffic', () => {
    const options = { mode: 'rate', threshold: 0.5, windowMs: 1_000, minimumRps: 5 } as const;
    // Below the minimum traffic (5 calls in the 1 s window) nothing opens, however bad.
    const quiet = new Breaker(options);
    for (let i = 0; i < 4; i++) call(quiet, true);
    expect(quiet.state).toBe('closed');
    const breaker = new Breaker(options);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(20);
      call(breaker, i % 4 === 0);
    }
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 20 && breaker.state === 'closed'; i++) {
      vi.advanceTimersByTime(20);
      call(breaker, true);
    }
    expect(breaker.state).toBe('open');
  });
});
