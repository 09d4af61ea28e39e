import { describe, expect, test, vi } from 'vitest';
import { consumeWithInsurance, Deadlines, memoryStore, StoreTimeout } from './store.js';

describe('memoryStore', () => {
  test('a fixed window per key: answers synchronously, counts beyond the points, resets when it ends', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const counter = memoryStore().counter({ keyPrefix: 'p', points: 2, durationMs: 1000 });
      expect(counter.consume('a', 1)).toEqual({ remaining: 1, resetMs: 1000, refused: false });
      vi.advanceTimersByTime(400);
      expect(counter.consume('a', 1)).toEqual({ remaining: 0, resetMs: 600, refused: false });
      expect(counter.consume('a', 1)).toEqual({ remaining: 0, resetMs: 600, refused: true });
      expect(counter.consume('b', 2)).toEqual({ remaining: 0, resetMs: 1000, refused: false });
      vi.advanceTimersByTime(600);
      expect(counter.consume('a', 1)).toEqual({ remaining: 1, resetMs: 1000, refused: false });
      // A calendar quota passes the time left in its period.
      expect(counter.consume('c', 1, 250)).toEqual({ remaining: 1, resetMs: 250, refused: false });
    } finally {
      vi.useRealTimers();
    }
  });

  test('expired windows are swept; beyond maxKeys the oldest windows go first', async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const store = memoryStore({ maxKeys: 3, sweepIntervalMs: 1000 });
      const counter = store.counter({ keyPrefix: 'p', points: 5, durationMs: 500 }) as unknown as {
        consume(key: string, points: number): unknown;
        entries: Map<string, unknown>;
      };
      for (const key of ['a', 'b', 'c']) counter.consume(key, 1);
      counter.consume('d', 1);
      expect([...counter.entries.keys()]).toEqual(['b', 'c', 'd']);
      vi.advanceTimersByTime(1000);
      expect(counter.entries.size).toBe(0);
      await store.close?.();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('consumeWithInsurance', () => {
  const failing = { consume: () => Promise.reject(new Error('down')) };
  const throwing = {
    consume: () => {
      throw new Error('down');
    },
  };

  test('a failing store hands the decision to the insurance counter, reporting the failure', async () => {
    const errors: boolean[] = [];
    const insurance = memoryStore().counter({ keyPrefix: 'i', points: 1, durationMs: 60_000 });
    const call = { key: 'k', cost: 1, windowMs: undefined };
    expect(
      await consumeWithInsurance({ counter: failing, insurance: insurance }, call, (_e, insured) =>
        errors.push(insured),
      ),
    ).toMatchObject({
      refused: false,
    });
    expect(
      consumeWithInsurance({ counter: throwing, insurance: insurance }, call, (_e, insured) =>
        errors.push(insured),
      ),
    ).toMatchObject({
      refused: true,
    });
    expect(errors).toEqual([true, true]);
  });

  test('without insurance (or when it fails too) the answer is undefined; it never throws', async () => {
    const errors: boolean[] = [];
    const call = { key: 'k', cost: 1, windowMs: undefined };
    expect(
      await consumeWithInsurance({ counter: failing, insurance: undefined }, call, (_e, insured) =>
        errors.push(insured),
      ),
    ).toBeUndefined();
    expect(
      await consumeWithInsurance({ counter: failing, insurance: throwing }, call, (_e, insured) =>
        errors.push(insured),
      ),
    ).toBeUndefined();
    expect(errors).toEqual([false, true, false]);
  });

  test('the failure handler gets the spend context back (the exchange, in the middleware)', async () => {
    const contexts: unknown[] = [];
    const call = { key: 'k', cost: 1, windowMs: undefined, context: 'request-42' };
    await consumeWithInsurance({ counter: failing, insurance: undefined }, call, (_e, _i, context) =>
      contexts.push(context),
    );
    expect(contexts).toEqual(['request-42']);
  });
});

describe('Deadlines', () => {
  test('one timer bounds every pending spend: late ones fail with StoreTimeout, settled ones keep their outcome', async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const deadlines = new Deadlines(100);
      const never = new Promise<string>(() => {});
      const outcomes: string[] = [];
      const track = (label: string, work: Promise<string>) =>
        deadlines.bound(work).then(
          (value) => outcomes.push(`${label}:${value}`),
          (error: unknown) =>
            outcomes.push(`${label}:${error instanceof StoreTimeout ? 'timeout' : String(error)}`),
        );
      const first = track('a', never);
      vi.advanceTimersByTime(40);
      const second = track('b', never);
      const third = track('c', Promise.resolve('ok'));
      const fourth = track('d', Promise.reject(new Error('refused')));
      await Promise.all([third, fourth]);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(59);
      expect(outcomes).toEqual(['c:ok', 'd:Error: refused']);
      vi.advanceTimersByTime(1);
      await first;
      // a timed out at its deadline (100 ms); b has 40 ms left, and the timer is armed for it.
      expect(outcomes).toEqual(['c:ok', 'd:Error: refused', 'a:timeout']);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(40);
      await second;
      expect(outcomes).toEqual(['c:ok', 'd:Error: refused', 'a:timeout', 'b:timeout']);
      expect(vi.getTimerCount()).toBe(0);
      // Later spends arm it again; one that settles in time is never rejected.
      let resolveLate!: (value: string) => void;
      const late = track('e', new Promise<string>((resolve) => (resolveLate = resolve)));
      vi.advanceTimersByTime(99);
      resolveLate('in time');
      await late;
      vi.advanceTimersByTime(10);
      expect(outcomes.at(-1)).toBe('e:in time');
      expect(vi.getTimerCount()).toBe(0);
      deadlines.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
