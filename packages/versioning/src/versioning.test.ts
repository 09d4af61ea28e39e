import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { ConfigError, type Exchange, ensureExchange, type GatehouseError, Gateway } from '@gatehousejs/core';
import { describe, expect, test } from 'vitest';
import { API_VERSION_ANNOTATION, type Versioning, versioning } from './versioning.js';

const gateway = new Gateway({});

/** An exchange over an in-memory request (no socket I/O): the middleware only reads and sets headers. */
function exchangeFor(url: string, headers: Record<string, string | string[]> = {}, method = 'GET'): Exchange {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  for (const [name, value] of Object.entries(headers)) {
    for (const each of Array.isArray(value) ? value : [value]) {
      req.rawHeaders.push(name, each);
      const lower = name.toLowerCase();
      const prior = req.headers[lower];
      req.headers[lower] = prior === undefined ? each : `${String(prior)}, ${each}`;
    }
  }
  return ensureExchange(req, new ServerResponse(req), gateway);
}

/** Runs the middleware: the error it throws, or the version it recorded. */
function run(
  mw: Versioning,
  exchange: Exchange,
): { error?: GatehouseError; version?: string; source?: string } {
  try {
    mw.onRequest(exchange);
  } catch (error) {
    return { error: error as GatehouseError };
  }
  const v = exchange.stateIfSet?.apiVersion;
  return v === undefined ? {} : { version: v.text, source: v.source };
}

const headersOf = (exchange: Exchange) => exchange.res.getHeaders();

describe('sources', () => {
  const mw = versioning({
    versions: ['1', '1.5', '2'],
    sources: [
      'path',
      'header',
      { from: 'query', name: 'v' },
      { from: 'media-type', vendor: 'acme' },
      (exchange) => exchange.header('x-custom-version'),
    ],
  });

  test.each([
    ['/v2/orders', {}, '2', 'path'],
    ['/V1.5/orders', {}, '1.5', 'path'],
    ['/orders', { 'api-version': '2' }, '2', 'header'],
    ['/orders', { 'api-version': ' v1.0 ' }, '1', 'header'],
    ['/orders?v=1.5', {}, '1.5', 'query'],
    ['/orders', { accept: 'application/vnd.acme.v2+json' }, '2', 'accept'],
    ['/orders', { accept: 'application/vnd.acme+json; version=1.5' }, '1.5', 'accept'],
    ['/orders', { 'content-type': 'application/vnd.acme.v1+json' }, '1', 'content-type'],
    ['/orders', { 'x-custom-version': '2' }, '2', 'custom'],
    ['/v2/orders', { 'api-version': '2.0', accept: 'application/vnd.acme.v2+json' }, '2', 'path'],
    ['/vendors/1', {}, undefined, undefined],
    ['/orders', {}, undefined, undefined],
    ['/orders', { 'api-version': '' }, undefined, undefined],
  ])('%s %j → %s from %s', (url, headers, version, source) => {
    const exchange = exchangeFor(url, headers);
    expect(run(mw, exchange)).toEqual(version === undefined ? {} : { version, source });
    if (version !== undefined) expect(exchange.annotations.get(API_VERSION_ANNOTATION)).toBe(version);
  });

  test('Accept is negotiated: the highest q among supported versions, newer on a tie', () => {
    const cases: Array<[string, string]> = [
      ['application/vnd.acme.v1+json;q=0.4, application/vnd.acme.v2+json;q=0.9', '2'],
      ['application/vnd.acme.v2+json;q=0.4, application/vnd.acme.v1+json', '1'],
      ['application/vnd.acme.v9+json, application/vnd.acme.v1+json;q=0.1', '1'],
      ['application/vnd.acme.v1+json, application/vnd.acme.v1.5+json', '1.5'],
      ['text/html, application/vnd.acme.v2+json;q=0.1, */*', '2'],
    ];
    for (const [accept, want] of cases) {
      expect(run(mw, exchangeFor('/orders', { accept })), accept).toEqual({
        version: want,
        source: 'accept',
      });
    }
  });

  test('only refusals in Accept (q=0) state no version', () => {
    expect(run(mw, exchangeFor('/orders', { accept: 'application/vnd.acme.v1+json;q=0' }))).toEqual({});
  });
});

describe('refusals', () => {
  const mw = versioning({
    versions: ['1', '2'],
    sources: ['path', 'header', 'query', { from: 'media-type', vendor: 'acme' }],
  });

  const refusal = (url: string, headers: Record<string, string | string[]> = {}) => {
    const { error } = run(mw, exchangeFor(url, headers));
    expect(error, `${url} ${JSON.stringify(headers)} must be refused`).toBeDefined();
    return { status: error!.status, code: error!.code, detail: error!.detail, extensions: error!.extensions };
  };

  test('sources that disagree: 400 GH_VERSION_AMBIGUOUS, naming both', () => {
    expect(refusal('/v1/orders', { 'api-version': '2' })).toEqual({
      status: 400,
      code: 'GH_VERSION_AMBIGUOUS',
      detail: "The path names version '1' and the api-version header names '2'",
      extensions: { supported: ['1', '2'] },
    });
    expect(refusal('/orders?api-version=1&api-version=2').detail).toBe(
      "The api-version query parameter names version '1' and the api-version query parameter names '2'",
    );
    expect(refusal('/orders', { 'api-version': ['1', '2'] }).code).toBe('GH_VERSION_AMBIGUOUS');
    expect(refusal('/orders', { 'api-version': '1, 2' }).code).toBe('GH_VERSION_AMBIGUOUS');
    // An unparseable value disagrees with any version.
    expect(refusal('/v1/orders', { 'api-version': 'one' }).code).toBe('GH_VERSION_AMBIGUOUS');
  });

  test('Accept disagrees when it does not accept the version another source names', () => {
    expect(refusal('/v1/orders', { accept: 'application/vnd.acme.v2+json' })).toMatchObject({
      status: 400,
      code: 'GH_VERSION_AMBIGUOUS',
      detail: "The path names version '1' and Accept names '2'",
    });
    expect(refusal('/v1/orders', { accept: 'application/vnd.acme.v1+json;q=0' }).detail).toBe(
      "The path names version '1', which Accept refuses (q=0)",
    );
    // Accept listing the version among others agrees.
    expect(
      run(
        mw,
        exchangeFor('/v1/orders', {
          accept: 'application/vnd.acme.v2+json, application/vnd.acme.v1+json;q=0.2',
        }),
      ),
    ).toEqual({ version: '1', source: 'path' });
  });

  test('unknown versions: 400, 406 from Accept, 415 from Content-Type, with the supported list', () => {
    expect(refusal('/v3/orders')).toEqual({
      status: 400,
      code: 'GH_VERSION_UNSUPPORTED',
      detail: 'Version 3 is not supported; supported: 1, 2',
      extensions: { supported: ['1', '2'] },
    });
    expect(refusal('/orders', { 'api-version': 'banana' }).detail).toBe(
      "'banana' is not an API version; supported: 1, 2",
    );
    expect(refusal('/orders', { accept: 'application/vnd.acme.v3+json' })).toMatchObject({
      status: 406,
      code: 'GH_VERSION_UNSUPPORTED',
    });
    expect(refusal('/orders', { 'content-type': 'application/vnd.acme.v3+json' })).toMatchObject({
      status: 415,
      code: 'GH_VERSION_UNSUPPORTED',
    });
  });

  test('what the client sent is shown cut short and printable only', () => {
    const long = `x${'\u0007'.repeat(3)}${'y'.repeat(100)}`;
    expect(refusal('/orders', { 'api-version': long }).detail).toBe(
      `'x???${'y'.repeat(36)}…' is not an API version; supported: 1, 2`,
    );
  });

  test('required: a request without a version is 400 GH_VERSION_UNSPECIFIED', () => {
    const strict = versioning({ versions: ['1', '2'], sources: ['header', 'path'], required: true });
    const { error } = run(strict, exchangeFor('/orders'));
    expect([error?.status, error?.code, error?.detail]).toEqual([
      400,
      'GH_VERSION_UNSPECIFIED',
      'This API needs a version, given in the api-version header, the path; supported: 1, 2',
    ]);
  });
});

describe('defaults and neutral routes', () => {
  test("a default (or 'latest') applies when the request names none", () => {
    const mw = versioning({
      versions: ['1', '2', { version: '3', deprecation: '2020-01-01' }],
      default: 'latest',
    });
    expect(run(mw, exchangeFor('/orders'))).toEqual({ version: '2', source: 'default' });
    const pinned = versioning({ versions: ['1', '2'], default: 1 });
    expect(run(pinned, exchangeFor('/orders'))).toEqual({ version: '1', source: 'default' });
  });

  test('neutral paths need no version, check none, get no headers, but keep a valid one', () => {
    const mw = versioning({
      versions: ['1', '2'],
      sources: [{ from: 'path', strip: true }, 'header'],
      required: true,
      neutral: ['/health', '/docs/*'],
    });
    const plain = exchangeFor('/health');
    expect(run(mw, plain)).toEqual({});
    expect(headersOf(plain)).toEqual({});
    expect(run(mw, exchangeFor('/docs/a', { 'api-version': 'nope' }))).toEqual({});
    expect(run(mw, exchangeFor('/health', { 'api-version': '2' }))).toEqual({
      version: '2',
      source: 'header',
    });
    // A version segment in front of a neutral path is stripped, then the path is neutral.
    const stripped = exchangeFor('/v9/health?x=1');
    expect(run(mw, stripped)).toEqual({});
    expect([stripped.path, stripped.req.url]).toEqual(['/health', '/health?x=1']);
    expect(run(mw, exchangeFor('/orders')).error?.code).toBe('GH_VERSION_UNSPECIFIED');
  });
});

describe('headers', () => {
  const clock = { now: Date.parse('2026-03-01T00:00:00Z') };
  const mw = versioning({
    versions: [
      {
        version: '1',
        deprecation: '2026-01-01',
        sunset: '2026-06-30',
        links: {
          deprecation: 'https://example.com/deprecations/v1',
          sunset: 'https://example.com/sunset/v1',
        },
      },
      { version: '2', deprecation: '2026-09-01' },
      '3',
    ],
    sources: ['header', { from: 'media-type', vendor: 'acme' }, 'query'],
    clock: () => clock.now,
  });

  test('a deprecated version: the lists, Deprecation, Sunset, Link, Vary', () => {
    clock.now = Date.parse('2026-03-01T00:00:00Z');
    const exchange = exchangeFor('/orders', { 'api-version': '1' });
    expect(run(mw, exchange)).toEqual({ version: '1', source: 'header' });
    expect(headersOf(exchange)).toEqual({
      'api-supported-versions': '2, 3',
      'api-deprecated-versions': '1',
      deprecation: '@1767225600',
      sunset: 'Tue, 30 Jun 2026 00:00:00 GMT',
      link: '<https://example.com/deprecations/v1>; rel="deprecation", <https://example.com/sunset/v1>; rel="sunset"',
      vary: 'api-version, accept',
    });
  });

  test('a version deprecated in the future already says when (RFC 9745 allows a future date)', () => {
    clock.now = Date.parse('2026-03-01T00:00:00Z');
    const exchange = exchangeFor('/orders', { 'api-version': '2' });
    run(mw, exchange);
    expect(headersOf(exchange)).toMatchObject({
      'api-supported-versions': '2, 3',
      deprecation: `@${Date.parse('2026-09-01T00:00:00Z') / 1000}`,
    });
    expect(headersOf(exchange).sunset).toBeUndefined();
  });

  test('the lists follow the clock across deprecations and sunsets', () => {
    const lists = (at: string) => {
      clock.now = Date.parse(at);
      const exchange = exchangeFor('/orders', { 'api-version': '3' });
      run(mw, exchange);
      const h = headersOf(exchange);
      return [h['api-supported-versions'], h['api-deprecated-versions']];
    };
    expect(lists('2025-12-31T23:59:59Z')).toEqual(['1, 2, 3', undefined]);
    expect(lists('2026-01-01T00:00:00Z')).toEqual(['2, 3', '1']);
    expect(lists('2026-09-01T00:00:00Z')).toEqual(['3', '1, 2']);
    // Back in time (a clock step) is recomputed too.
    expect(lists('2025-06-01T00:00:00Z')).toEqual(['1, 2, 3', undefined]);
  });

  test('errors carry the headers too (they are set before the version is checked)', () => {
    const exchange = exchangeFor('/orders', { 'api-version': '7' });
    expect(run(mw, exchange).error?.code).toBe('GH_VERSION_UNSUPPORTED');
    expect(headersOf(exchange)).toMatchObject({
      'api-supported-versions': expect.any(String),
      vary: 'api-version, accept',
    });
  });

  test('Vary is added to, never replaced; Link is appended', () => {
    const exchange = exchangeFor('/orders', { 'api-version': '1' });
    exchange.res.setHeader('vary', 'Accept-Encoding, Accept');
    exchange.res.setHeader('link', '</style.css>; rel="preload"');
    run(mw, exchange);
    expect(headersOf(exchange).vary).toBe('Accept-Encoding, Accept, api-version');
    expect(String(headersOf(exchange).link)).toMatch(/^<\/style\.css>; rel="preload", <https:/);
    const star = exchangeFor('/orders', { 'api-version': '1' });
    star.res.setHeader('vary', '*');
    run(mw, star);
    expect(headersOf(star).vary).toBe('*');
  });

  test('headers: false sets none', () => {
    const quiet = versioning({ versions: [{ version: '1', deprecation: '2020-01-01' }], headers: false });
    const exchange = exchangeFor('/orders', { 'api-version': '1' });
    expect(run(quiet, exchange)).toEqual({ version: '1', source: 'header' });
    expect(headersOf(exchange)).toEqual({});
  });

  test("after the sunset: served with Sunset by default, 410 with afterSunset: 'refuse'", () => {
    const when = { now: Date.parse('2027-01-01T00:00:00Z') };
    const spec = {
      versions: [
        {
          version: '1',
          deprecation: '2026-01-01',
          sunset: '2026-06-30',
          links: { sunset: 'https://example.com/v1' },
        },
        '2',
      ],
      clock: () => when.now,
    };
    const served = exchangeFor('/orders', { 'api-version': '1' });
    expect(run(versioning(spec), served)).toEqual({ version: '1', source: 'header' });
    expect(headersOf(served)['api-deprecated-versions']).toBe('1');
    const refused = exchangeFor('/orders', { 'api-version': '1' });
    const { error } = run(versioning({ ...spec, afterSunset: 'refuse' }), refused);
    expect([error?.status, error?.code, error?.detail, error?.headers]).toEqual([
      410,
      'GH_VERSION_SUNSET',
      'Version 1 was retired on Tue, 30 Jun 2026 00:00:00 GMT',
      { sunset: 'Tue, 30 Jun 2026 00:00:00 GMT', link: '<https://example.com/v1>; rel="sunset"' },
    ]);
    // A retired version is no longer listed at all.
    expect(headersOf(refused)['api-supported-versions']).toBe('2');
    expect(headersOf(refused)['api-deprecated-versions']).toBeUndefined();
  });
});

describe('strip', () => {
  const mw = versioning({ versions: ['1', '2'], sources: [{ from: 'path', strip: true }], default: '2' });

  test.each([
    ['/v1/orders?x=1', '/orders', '/orders?x=1'],
    ['/v2', '/', '/'],
    ['/v1/a%20b/%C3%A9', '/a b/é', '/a%20b/%C3%A9'],
    ['/orders', '/orders', '/orders'],
  ])('%s → path %s, router sees %s', (url, path, routed) => {
    const exchange = exchangeFor(url);
    expect(run(mw, exchange).error).toBeUndefined();
    expect(exchange.path).toBe(path);
    expect(exchange.req.url).toBe(routed);
    expect(exchange.rawPath).toBe(url.split('?')[0]);
  });

  test('a segment further in', () => {
    const deep = versioning({
      versions: ['1'],
      sources: [{ from: 'path', index: 1, prefix: 'ver', strip: true }],
    });
    const exchange = exchangeFor('/api/VER1/orders');
    expect(run(deep, exchange)).toEqual({ version: '1', source: 'path' });
    expect([exchange.path, exchange.req.url]).toEqual(['/api/orders', '/api/orders']);
  });

  test('a refused request is not rewritten', () => {
    const exchange = exchangeFor('/v3/orders');
    expect(run(mw, exchange).error?.code).toBe('GH_VERSION_UNSUPPORTED');
    expect(exchange.req.url).toBe('/v3/orders');
  });
});

describe('table', () => {
  const mw = versioning({
    versions: ['1', '1.5', '2', '3', '4'],
    sources: ['header', { from: 'media-type', vendor: 'acme' }],
  });

  test('exact keys beat baselines; a higher baseline takes over from a lower one', () => {
    const table = mw.table({ '1+': 'a', '2': 'b', '3+': 'c' });
    expect(table.versions).toEqual(['1', '1.5', '2', '3', '4']);
    const pick = (version: string) => {
      const exchange = exchangeFor('/x', { 'api-version': version });
      mw.onRequest(exchange);
      return table.select(exchange);
    };
    expect(['1', '1.5', '2', '3', '4'].map(pick)).toEqual(['a', 'a', 'b', 'c', 'c']);
    expect(table.entryFor('v1.5')).toBe('a');
    expect(table.entryFor('9')).toBeUndefined();
  });

  test('a version the table does not serve, or none at all, is refused', () => {
    const table = mw.table({ '2': 'two', '3': 'three' });
    const select = (headers: Record<string, string>) => {
      const exchange = exchangeFor('/x', headers);
      mw.onRequest(exchange);
      try {
        return table.select(exchange);
      } catch (error) {
        const e = error as GatehouseError;
        return [e.status, e.code, e.detail, e.extensions];
      }
    };
    expect(select({ 'api-version': '1' })).toEqual([
      400,
      'GH_VERSION_UNSUPPORTED',
      'Version 1 is not served here; this route serves 2, 3',
      { supported: ['2', '3'] },
    ]);
    expect(select({ accept: 'application/vnd.acme.v4+json' })[0]).toBe(406);
    expect(select({})).toEqual([
      400,
      'GH_VERSION_UNSPECIFIED',
      'This route needs an API version; it serves 2, 3',
      { supported: ['2', '3'] },
    ]);
  });

  test('keys are checked against the declared versions: every problem at once', () => {
    let caught: unknown;
    try {
      mw.table({ '9': 1, '2.0': 2, '2': 3, 'x+': 4, '7+': 5 }, 'orders');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      // Integer-like keys come first in a JavaScript object, whatever order they were written in.
      { path: 'orders["9"]', message: 'version 9 is not declared (versions: 1, 1.5, 2, 3, 4)' },
      { path: 'orders["2.0"]', message: "names the same versions as '2'" },
      {
        path: 'orders["x+"]',
        message: "'x+' is not a version (2, '1.2', '2026-01-15') or a baseline ('2+')",
      },
      { path: 'orders["7+"]', message: 'no declared version is 7 or later (versions: 1, 1.5, 2, 3, 4)' },
    ]);
    expect(() => mw.table({})).toThrow(ConfigError);
  });
});
