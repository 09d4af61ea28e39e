import { ConfigError } from '@gatehousejs/core';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { compileOptions, instantOf, type VersioningOptions, versioningOptionsSchema } from './options.js';

function problemsOf(options: unknown): Array<[string, string]> {
  try {
    compileOptions(options as VersioningOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => [p.path, p.message]);
  }
  throw new Error('expected a ConfigError');
}

describe('checked when versioning() runs: every problem at once', () => {
  test('a configuration with a mistake in every place', () => {
    expect(
      problemsOf({
        versions: [
          '1',
          '1.0',
          '2026-01-15',
          'x',
          { version: '3', deprecation: '2026-06-30', sunset: '2026-01-01', links: { sunset: 'ftp://x' } },
        ],
        default: '4',
        required: true,
        sorces: [],
        sources: [
          'header',
          'path',
          { from: 'path' },
          { from: 'header', name: 'API Version' },
          { from: 'media-type', parameter: false },
          { from: 'query', nme: 'v' },
          { from: 'cookie' },
          'hedaer',
          42,
          { from: 'header', vendor: 'x' },
        ],
        neutral: ['/health/', '/a/*/b'],
        afterSunset: 'refse',
        headers: { vary: 'yes' },
      }),
    ).toEqual([
      ['versioning.versions[1]', 'version 1 is already declared at versions[0]'],
      [
        'versioning.versions[2]',
        'versions must all be numbers or all be dates: they are ordered against each other',
      ],
      [
        'versioning.versions[3]',
        "'x' is not a version: expected a number such as 2 or '1.2', or a date such as '2026-01-15'",
      ],
      ['versioning.versions[4].sunset', 'the sunset must not come before the deprecation'],
      ['versioning.versions[4].links.sunset', 'expected an absolute http(s) URL'],
      ['versioning.default', "a request cannot both need a version ('required') and get a default"],
      ['versioning.default', "version 4 is not in 'versions'"],
      ['versioning.sorces', "unknown option; did you mean 'sources'?"],
      ['versioning.sources[2]', 'only one path source can be given'],
      ['versioning.sources[3].name', "expected a header name, received 'API Version'"],
      ['versioning.sources[4]', "reads nothing: give a 'vendor', or leave 'parameter' on"],
      ['versioning.sources[5].nme', "unknown option; did you mean 'name'?"],
      [
        'versioning.sources[6].from',
        "expected one of 'path', 'header', 'query' or 'media-type', received the string 'cookie'",
      ],
      [
        'versioning.sources[7]',
        "expected 'path', 'header', 'query', 'media-type', an object or a function of the exchange, received the string 'hedaer' — did you mean 'header'?",
      ],
      [
        'versioning.sources[8]',
        "expected 'path', 'header', 'query', 'media-type', an object or a function of the exchange, received the number 42",
      ],
      ['versioning.sources[9]', "the header 'api-version' is already read by sources[0]"],
      ['versioning.sources[9].vendor', "'vendor' is an option of media-type sources, not of header sources"],
      [
        'versioning.neutral[0]',
        "'/health/' ends with '/', which normalized paths do not (trailing slashes are stripped): write '/health'",
      ],
      ['versioning.neutral[1]', "'*' must be the last segment of path pattern '/a/*/b'"],
      [
        'versioning.afterSunset',
        "expected one of 'serve' or 'refuse', received the string 'refse' — did you mean 'refuse'?",
      ],
      [
        'versioning.headers.vary',
        "expected true or false, received the string 'yes' — did you mean true (without quotes)?",
      ],
    ]);
  });

  test.each([
    [{}, [['versioning.versions', 'required: expected an array']]],
    [{ versions: [] }, [['versioning.versions', 'must not be empty']]],
    [null, [['versioning', 'expected an object, received null']]],
    [
      { versions: [{ version: '1', deprecation: 'tomorrow' }] },
      [
        [
          'versioning.versions[0].deprecation',
          "expected a date ('2026-06-30'), an ISO 8601 date-time with a zone, or a Date",
        ],
      ],
    ],
    [
      { versions: [{ version: '1', links: { deprecation: 'https://example.com/v1' } }] },
      [['versioning.versions[0].links.deprecation', "a deprecation link needs a 'deprecation' date"]],
    ],
    [
      { versions: ['1'], sources: [{ from: 'path', index: 16, prefix: 'v/' }] },
      [
        ['versioning.sources[0].index', 'expected a number ≤ 15, received the number 16'],
        ['versioning.sources[0].prefix', 'expected up to 16 letters, `_` or `-` (or an empty string)'],
      ],
    ],
    [
      { versions: ['1'], sources: [{ from: 'media-type', types: ['json'], in: ['body'] }] },
      [
        ['versioning.sources[0].types[0]', 'expected a media type such as application/json'],
        [
          'versioning.sources[0].in[0]',
          "expected one of 'accept' or 'content-type', received the string 'body'",
        ],
      ],
    ],
    [
      { versions: ['1'], default: 'newest' },
      [['versioning.default', "'newest' is not a version (nor 'latest')"]],
    ],
  ])('%j', (options, want) => {
    expect(problemsOf(options)).toEqual(want);
  });

  test('a valid configuration compiles, versions in order, defaults filled in', () => {
    const compiled = compileOptions({
      versions: [
        '2',
        {
          version: 1,
          deprecation: '2026-01-01',
          sunset: new Date('2026-12-31T00:00:00Z'),
          links: { sunset: 'https://example.com/v1 retired' },
        },
        '1.5',
      ],
      sources: ['path', { from: 'header', name: 'X-API-Version' }, 'media-type', () => undefined],
      default: 'latest',
    });
    expect(compiled.versions.map((v) => v.text)).toEqual(['1', '1.5', '2']);
    const v1 = compiled.versions[0]!;
    expect(v1.deprecationHeader).toBe('@1767225600');
    expect(v1.sunsetHeader).toBe('Thu, 31 Dec 2026 00:00:00 GMT');
    expect(v1.linkHeader).toBe('<https://example.com/v1%20retired>; rel="sunset"');
    expect(compiled.defaultVersion?.text).toBe('2');
    expect(compiled.sources.map((s) => s.kind)).toEqual([
      'path',
      'header',
      'accept',
      'content-type',
      'custom',
    ]);
    expect(compiled.vary).toBe('x-api-version, accept');
    expect(compiled.required).toBe(false);
    expect(compiled.afterSunset).toBe('serve');
    expect(compiled.report && compiled.lifecycle).toBe(true);
  });

  test("'latest' is the newest version that is not deprecated", () => {
    const compiled = compileOptions({
      versions: ['1', { version: '2', deprecation: '2020-01-01' }],
      default: 'latest',
    });
    expect(compiled.defaultVersion?.text).toBe('1');
  });

  test('headers: false turns every header off (and Vary with it)', () => {
    const compiled = compileOptions({ versions: ['1'], headers: false });
    expect([compiled.report, compiled.lifecycle, compiled.vary]).toEqual([false, false, undefined]);
  });

  test('the schema is exported for the configuration file', () => {
    expect(v.safeParse(versioningOptionsSchema, { versions: ['1'], sources: ['path'] }).success).toBe(true);
    expect(v.safeParse(versioningOptionsSchema, { versions: ['1', 'v1'] }).success).toBe(false);
  });
});

describe('instantOf', () => {
  test.each([
    ['2026-01-01', Date.UTC(2026, 0, 1)],
    ['2026-06-30T12:00:00Z', Date.UTC(2026, 5, 30, 12)],
    ['2026-06-30T12:00+02:00', Date.UTC(2026, 5, 30, 10)],
    ['2026-02-30', undefined],
    ['2026-06-30T12:00:00', undefined],
    ['June 30, 2026', undefined],
    [new Date('x'), undefined],
    [1767225600000, undefined],
  ])('%j', (value, want) => {
    expect(instantOf(value)).toBe(want);
  });
});
