import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate, renderHeader, renderPath, renderText, UnsafeValue } from './template.js';

const path = compileTemplate('/api/{/params/id}/tail');
const render = (id: unknown) => renderPath(path, { params: { id } });

describe('renderPath: a value is one encoded segment, whatever it holds', () => {
  it('keeps the shape of the path for any string (property, seeded)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (value) => {
        let out: string;
        try {
          out = render(value);
        } catch (error) {
          // The only refusals: values that would read as an empty, '.' or '..' segment.
          expect(error).toBeInstanceOf(UnsafeValue);
          expect(['', '.', '..']).toContain(value);
          return;
        }
        const segments = out.split('/');
        expect(segments).toHaveLength(4);
        expect(segments[1]).toBe('api');
        expect(segments[3]).toBe('tail');
        expect(out).not.toMatch(/[?#]/);
        expect(decodeURIComponent(segments[2]!)).toBe(value);
        // What a server would see after its own normalization: still the same three segments.
        expect(new URL(out, 'http://upstream').pathname).toBe(out);
      }),
      { seed: 20261204, numRuns: 2_000 },
    );
  });

  // Counterexamples that once mattered, kept as fixed cases.
  it.each([
    ['..', 'refused'],
    ['.', 'refused'],
    ['', 'refused'],
    ['../admin', '/api/..%2Fadmin/tail'],
    ['%2e%2e', '/api/%252e%252e/tail'],
    ['a?admin=1#x', '/api/a%3Fadmin%3D1%23x/tail'],
    ['a/b', '/api/a%2Fb/tail'],
    ['\\..\\', '/api/%5C..%5C/tail'],
    ['é', '/api/%C3%A9/tail'],
  ])('%j → %s', (value, expected) => {
    if (expected === 'refused') expect(() => render(value)).toThrow(UnsafeValue);
    else expect(render(value)).toBe(expected);
  });

  it('refuses objects, null and absent values; accepts numbers and booleans', () => {
    expect(() => render({ a: 1 })).toThrow(UnsafeValue);
    expect(() => render(null)).toThrow(UnsafeValue);
    expect(() => render(undefined)).toThrow(/absent/);
    expect(render(42)).toBe('/api/42/tail');
    expect(render(true)).toBe('/api/true/tail');
  });

  it("refuses a segment that only becomes '..' with literal text around the value", () => {
    const dotted = compileTemplate('/x/.{/params/id}');
    expect(() => renderPath(dotted, { params: { id: '.' } })).toThrow(UnsafeValue);
    expect(renderPath(dotted, { params: { id: 'a' } })).toBe('/x/.a');
  });
});

describe('renderText and renderHeader', () => {
  it('header values with CR, LF or NUL are refused', () => {
    const header = compileTemplate('{/query/t}');
    expect(() => renderHeader(header, { query: { t: 'a\r\nx-admin: 1' } })).toThrow(UnsafeValue);
    expect(() => renderHeader(header, { query: { t: 'a\u0000' } })).toThrow(UnsafeValue);
    expect(renderHeader(header, { query: { t: 'acme' } })).toBe('acme');
  });

  it('text joins literals and values as they are (query encoding is URLSearchParams’ job)', () => {
    expect(renderText(compileTemplate('id-{/a/b}'), { a: { b: 'x&y' } })).toBe('id-x&y');
  });

  it('compileTemplate names the sources it reads and refuses malformed references', () => {
    expect([...compileTemplate('/o/{/order/id}/{/params/x}').sources]).toEqual(['order', 'params']);
    expect(() => compileTemplate('/o/{order}')).toThrow(/JSON pointer/);
    expect(() => compileTemplate('/o/{/a}}')).toThrow(/unbalanced/);
    expect(() => compileTemplate('/o/{}')).toThrow(/no source/);
  });
});
