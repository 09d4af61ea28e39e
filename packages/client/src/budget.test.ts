import { describe, expect, test } from 'vitest';
import { RetryBudget } from './budget.js';

describe('RetryBudget', () => {
  test('retries are capped at ratio × requests + the per-second floor over the window', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, ttlMs: 10_000 });
    let t = 1;
    let allowed = 0;
    for (let i = 0; i < 1000; i++) {
      budget.request(t);
      if (budget.tryRetry(t)) allowed++;
      t += 1;
    }
    // 1,000 requests within one second of a 10 s window: 200 from the ratio + 10 from the floor.
    expect(allowed).toBe(210);
    expect(budget.exhausted).toBe(790);
  });

  test('old traffic leaves the window: the budget refills as time passes', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 1, ttlMs: 1_000 });
    let allowed = 0;
    for (let i = 0; i < 5; i++) if (budget.tryRetry(1)) allowed++;
    expect(allowed).toBe(1);
    expect(budget.tryRetry(500)).toBe(false);
    expect(budget.tryRetry(1_200)).toBe(true);
  });

  test('a quiet client can still retry up to the floor', () => {
    const budget = new RetryBudget();
    let allowed = 0;
    for (let i = 0; i < 500; i++) if (budget.tryRetry(1 + i)) allowed++;
    expect(allowed).toBe(100);
  });
});
