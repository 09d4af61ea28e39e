import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareVersions, parseVersion, parseVersionRange, sameVersion } from './version.js';

// Seeded so that a failure reproduces; the seed is printed with any counterexample.
const SEED = Number(process.env.FC_SEED ?? 20261204);

describe('parseVersion', () => {
  test.each([
    ['1', 'number', '1', 1_000_000],
    ['v1', 'number', '1', 1_000_000],
    ['V1', 'number', '1', 1_000_000],
    ['1.0', 'number', '1', 1_000_000],
    ['01', 'number', '1', 1_000_000],
    [' 2 ', 'number', '2', 2_000_000],
    ['1.2', 'number', '1.2', 1_000_002],
    ['1.10', 'number', '1.10', 1_000_010],
    ['0', 'number', '0', 0],
    ['999999.999999', 'number', '999999.999999', 999_999_999_999],
    ['2026-01-15', 'date', '2026-01-15', 20_260_115],
    ['v2026-01-15', 'date', '2026-01-15', 20_260_115],
    ['2024-02-29', 'date', '2024-02-29', 20_240_229],
  ] as const)('%j is %s %s', (input, kind, text, key) => {
    expect(parseVersion(input)).toEqual({ kind, text, key });
  });

  test.each([
    '',
    ' ',
    'v',
    'vv1',
    '1.',
    '.1',
    '1.2.3',
    '-1',
    '+1',
    '1e3',
    '0x10',
    '1000000',
    '1.1000000',
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-00-10',
    '0000-01-01',
    '2026-1-15',
    '2026/01/15',
    'latest',
    '１', // a fullwidth digit is not a digit here
    '1 2',
    'v 1',
  ])('%j is not a version', (input) => {
    expect(parseVersion(input)).toBeUndefined();
  });

  test('never throws and never accepts what it cannot print back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (input) => {
        const version = parseVersion(input);
        if (version === undefined) return;
        // What parses is canonical: parsing the text again gives the same version.
        expect(parseVersion(version.text)).toEqual(version);
        expect(version.text).toMatch(/^(?:\d{1,6}(?:\.\d{1,6})?|\d{4}-\d{2}-\d{2})$/);
      }),
      { seed: SEED, numRuns: 5_000 },
    );
  });

  test('numbers order by major, then minor', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.nat(999_999), fc.nat(999_999)),
        fc.tuple(fc.nat(999_999), fc.nat(999_999)),
        ([a1, a2], [b1, b2]) => {
          const a = parseVersion(`${a1}.${a2}`)!;
          const b = parseVersion(`${b1}.${b2}`)!;
          const want = a1 !== b1 ? a1 - b1 : a2 - b2;
          expect(Math.sign(compareVersions(a, b))).toBe(Math.sign(want));
          expect(sameVersion(a, b)).toBe(want === 0);
        },
      ),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  test('dates order by the calendar', () => {
    const day = fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true });
    fc.assert(
      fc.property(day, day, (x, y) => {
        const a = parseVersion(x.toISOString().slice(0, 10))!;
        const b = parseVersion(y.toISOString().slice(0, 10))!;
        const dx = Math.floor(x.getTime() / 86_400_000);
        const dy = Math.floor(y.getTime() / 86_400_000);
        expect(Math.sign(compareVersions(a, b))).toBe(Math.sign(dx - dy));
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  test('a number and a date are never the same version', () => {
    const n = parseVersion('20260115')!;
    const d = parseVersion('2026-01-15');
    expect(n).toBeUndefined(); // eight digits: not a number version either
    const one = parseVersion('1')!;
    const date = parseVersion('2026-01-15')!;
    expect(sameVersion(one, date)).toBe(false);
    expect(compareVersions(one, date)).toBeLessThan(0);
    expect(d).toBeDefined();
  });
});

describe('parseVersionRange', () => {
  test('an exact version includes only itself, in any spelling', () => {
    const range = parseVersionRange('2')!;
    expect(range.orLater).toBe(false);
    expect(range.includes(parseVersion('v2.0')!)).toBe(true);
    expect(range.includes(parseVersion('2.1')!)).toBe(false);
    expect(range.includes(parseVersion('1')!)).toBe(false);
  });

  test('a baseline includes itself and every later version of its kind', () => {
    const range = parseVersionRange('1.2+')!;
    expect(range.orLater).toBe(true);
    expect(['1.2', '1.10', '2', '30'].map((v) => range.includes(parseVersion(v)!))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['1', '1.1', '0.9'].map((v) => range.includes(parseVersion(v)!))).toEqual([false, false, false]);
    expect(range.includes(parseVersion('2026-01-15')!)).toBe(false);
    const dates = parseVersionRange('2026-01-15+')!;
    expect(dates.includes(parseVersion('2026-03-01')!)).toBe(true);
    expect(dates.includes(parseVersion('2025-12-31')!)).toBe(false);
  });

  test.each(['', '+', '2++', '+2', 'x+', '2 +1', '1.2.3+'])('%j is not a range', (text) => {
    expect(parseVersionRange(text)).toBeUndefined();
  });

  test('numbers are read as their text', () => {
    expect(parseVersionRange(2)?.from.text).toBe('2');
  });
});
