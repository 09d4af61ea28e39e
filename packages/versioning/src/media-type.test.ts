import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  acceptStatements,
  contentTypeVersions,
  MAX_ACCEPT_RANGES,
  type MediaTypeRule,
  mayNameVersion,
  qvalue,
} from './media-type.js';

const SEED = Number(process.env.FC_SEED ?? 20261204);

const both: MediaTypeRule = { types: [], parameter: 'version', vendor: 'acme' };
const parameterOnly: MediaTypeRule = {
  types: ['application/vnd.acme+json'],
  parameter: 'version',
  vendor: undefined,
};
const vendorOnly: MediaTypeRule = { types: [], parameter: undefined, vendor: 'acme' };

describe('acceptStatements', () => {
  test.each([
    ['application/vnd.acme.v2+json', [{ raw: '2', q: 1 }]],
    ['application/vnd.acme+json; version=2', [{ raw: '2', q: 1 }]],
    ['application/vnd.acme+json;version="1.2"', [{ raw: '1.2', q: 1 }]],
    ['APPLICATION/VND.ACME.V2+JSON', [{ raw: '2', q: 1 }]],
    ['application/vnd.acme.v2026-01-15+json', [{ raw: '2026-01-15', q: 1 }]],
    ['application/vnd.acme.v2', [{ raw: '2', q: 1 }]],
    [
      'application/vnd.acme.v2+json;q=0.5, application/vnd.acme.v1+json',
      [
        { raw: '2', q: 0.5 },
        { raw: '1', q: 1 },
      ],
    ],
    ['text/html, application/xhtml+xml, */*;q=0.8', []],
    ['application/vnd.acme.video+json', []],
    ['application/vnd.other.v2+json', []],
    ['application/vnd.acme.v2+json;q=0', [{ raw: '2', q: 0 }]],
    ['application/vnd.acme.v2+json;q=1.000', [{ raw: '2', q: 1 }]],
    // Malformed q-values: the range states no preference and is ignored.
    ['application/vnd.acme.v2+json;q=2', []],
    ['application/vnd.acme.v2+json;q=0.5555', []],
    ['application/vnd.acme.v2+json;q=abc', []],
    ['application/vnd.acme.v2+json;q=', []],
    // A comma inside a quoted parameter does not split the list.
    ['application/vnd.acme+json;version="2,3", a/b', [{ raw: '2,3', q: 1 }]],
    [',,, application/vnd.acme.v3+json ,', [{ raw: '3', q: 1 }]],
    [
      'application/vnd.acme.v2+json;version=3',
      [
        { raw: '2', q: 1 },
        { raw: '3', q: 1 },
      ],
    ],
  ])('%j', (header, want) => {
    expect(acceptStatements(header, both)).toEqual(want);
  });

  test('the parameter counts only on the listed media types', () => {
    expect(acceptStatements('application/vnd.acme+json; version=2', parameterOnly)).toEqual([
      { raw: '2', q: 1 },
    ]);
    expect(acceptStatements('application/json; version=2', parameterOnly)).toEqual([]);
    expect(acceptStatements('application/vnd.acme.v2+json', parameterOnly)).toEqual([]);
    const wildcard: MediaTypeRule = { ...parameterOnly, types: ['application/*'] };
    expect(acceptStatements('application/json; version=2, text/plain; version=3', wildcard)).toEqual([
      { raw: '2', q: 1 },
    ]);
  });

  test('without a parameter only vendor subtypes count', () => {
    expect(acceptStatements('application/json; version=2, application/vnd.acme.v3+json', vendorOnly)).toEqual(
      [{ raw: '3', q: 1 }],
    );
  });

  test(`reads at most ${MAX_ACCEPT_RANGES} ranges`, () => {
    const ranges = Array.from({ length: 200 }, (_, i) => `application/vnd.acme.v${i}+json`);
    const found = acceptStatements(ranges.join(', '), both);
    expect(found).toHaveLength(MAX_ACCEPT_RANGES);
    expect(found.at(-1)).toEqual({ raw: String(MAX_ACCEPT_RANGES - 1), q: 1 });
  });

  test('hostile headers: never throws, bounded output, every statement well formed', () => {
    const piece = fc.constantFrom(
      'application/vnd.acme.v2+json',
      'application/vnd.acme+json',
      ';',
      ',',
      ' ',
      '\t',
      '"',
      '\\',
      '=',
      'q=0.5',
      'q=1',
      'q=x',
      'version=1',
      'version="',
      'vnd.acme.v',
      '*/*',
      '/',
      '\u0000',
      'é',
      '\r\n',
    );
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(piece, { maxLength: 80 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(header, (text) => {
        const found = acceptStatements(text, both);
        expect(found.length).toBeLessThanOrEqual(MAX_ACCEPT_RANGES * 2);
        for (const { raw, q } of found) {
          expect(typeof raw).toBe('string');
          expect(q >= 0 && q <= 1).toBe(true);
        }
        contentTypeVersions(text, both);
        // The quick test never misses a header that names a version.
        if (found.length > 0) expect(mayNameVersion(both)(text)).toBe(true);
      }),
      { seed: SEED, numRuns: 3_000 },
    );
  });
});

describe('contentTypeVersions', () => {
  test.each([
    ['application/vnd.acme.v2+json', ['2']],
    ['application/vnd.acme+json; version=2; charset=utf-8', ['2']],
    ['application/json', []],
    ['', []],
    ['application/vnd.acme.v1+json; version=2', ['1', '2']],
  ])('%j', (header, want) => {
    expect(contentTypeVersions(header, both)).toEqual(want);
  });
});

describe('qvalue', () => {
  test.each([
    [undefined, 1],
    ['1', 1],
    ['1.', 1],
    ['1.000', 1],
    ['0', 0],
    ['0.1', 0.1],
    ['0.123', 0.123],
    ['1.001', -1],
    ['0.1234', -1],
    ['.5', -1],
    ['-0', -1],
    ['', -1],
  ])('%j → %d', (text, want) => {
    expect(qvalue(text)).toBe(want);
  });
});

describe('mayNameVersion', () => {
  test('matches the vendor subtype or the parameter, in any case', () => {
    const may = mayNameVersion(both);
    expect(may('application/VND.ACME.V2+json')).toBe(true);
    expect(may('a/b; VERSION = 2')).toBe(true);
    expect(may('application/json, text/html;q=0.9')).toBe(false);
    expect(mayNameVersion({ types: [], parameter: undefined, vendor: undefined })('x')).toBe(false);
  });
});
