import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggest } from './suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['orders', 'orders', 0],
    ['ordrs', 'orders', 1], // deletion
    ['orderss', 'orders', 1], // insertion
    ['ordens', 'orders', 1], // substitution
    ['ordres', 'orders', 1], // transposition
    ['trailingSlsh', 'trailingSlash', 1],
    ['kitten', 'sitting', 3],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('suggest', () => {
  it('returns close candidates, best first', () => {
    expect(suggest('ordrs', ['users', 'orders', 'order'])).toEqual(['orders', 'order']);
    expect(suggest('trailingSlsh', ['encodedSlashes', 'mergeSlashes', 'trailingSlash'])).toEqual([
      'trailingSlash',
    ]);
  });

  it('keeps the candidates order on ties', () => {
    expect(suggest('cat', ['bat', 'hat', 'car'])).toEqual(['bat', 'hat', 'car']);
  });

  it('ignores case, and ranks a case-only difference first', () => {
    expect(suggest('Orders', ['ordes', 'orders'])).toEqual(['orders', 'ordes']);
    expect(suggest('get', ['GET', 'SET'])).toEqual(['GET', 'SET']);
  });

  it('allows up to a third of the length for long words', () => {
    // distance 4 against 'drainTimeoutMs' (14 characters): 4 ≤ 14 / 3
    expect(suggest('drainTimeout', ['drainTimeoutMs'])).toEqual(['drainTimeoutMs']);
    expect(suggest('drainTime', ['drainTimeoutMs'])).toEqual([]);
  });

  it('suggests nothing for far-off names', () => {
    expect(suggest('database', ['services', 'routes', 'paths'])).toEqual([]);
    expect(suggest('zzzzzz', ['orders', 'users'])).toEqual([]);
  });

  it('does not suggest a candidate that would replace a whole short word', () => {
    expect(suggest('x', ['to', 'id'])).toEqual([]);
    expect(suggest('ab', ['cd'])).toEqual([]);
  });

  it('never suggests the input itself', () => {
    expect(suggest('orders', ['orders'])).toEqual([]);
  });
});

describe('didYouMean', () => {
  it('phrases the best candidate, or nothing', () => {
    expect(didYouMean('ordrs', ['orders'])).toBe(" — did you mean 'orders'?");
    expect(didYouMean('qqq', ['orders'])).toBe('');
  });
});
