import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deleteTokens, parsePointer, resolveTokens, setTokens } from './pointer.js';

describe('JSON pointers', () => {
  it('parse RFC 6901 escapes', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a~1b/c~0d/0')).toEqual(['a/b', 'c~d', '0']);
    expect(() => parsePointer('a')).toThrow(/starts with '\/'/);
  });

  it('resolve own properties only: a pointer never reaches a prototype', () => {
    const value = { a: { b: [10, 20] } };
    expect(resolveTokens(value, ['a', 'b', '1'])).toBe(20);
    expect(resolveTokens(value, ['a', 'b', '01'])).toBeUndefined();
    expect(resolveTokens(value, ['a', 'b', 'length'])).toBeUndefined();
    expect(resolveTokens(value, ['constructor'])).toBeUndefined();
    expect(resolveTokens(value, ['__proto__'])).toBeUndefined();
    expect(resolveTokens(value, ['a', 'toString'])).toBeUndefined();
  });

  it('set and delete never touch a prototype, whatever the tokens (property, seeded)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a', 'polluted', '0'), {
          minLength: 1,
          maxLength: 4,
        }),
        (tokens) => {
          const target: Record<string, unknown> = {};
          setTokens(target, tokens, 'x');
          deleteTokens(target, tokens);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(Object.prototype).not.toHaveProperty('polluted');
          expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
        },
      ),
      { seed: 20261204, numRuns: 500 },
    );
  });

  it('set creates plain objects on the way; delete removes array elements and keys', () => {
    const target: Record<string, unknown> = { list: [1, 2, 3] };
    setTokens(target, ['customer', 'id'], 'c-1');
    expect(target).toEqual({ list: [1, 2, 3], customer: { id: 'c-1' } });
    deleteTokens(target, ['list', '1']);
    deleteTokens(target, ['customer', 'id']);
    expect(target).toEqual({ list: [1, 3], customer: {} });
  });
});
