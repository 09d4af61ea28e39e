import { ConfigError, type ConfigProblem } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import { compileTable, type HostPattern, hostMatches, parseHostPattern, type TableContext } from './table.js';

const context: TableContext = {
  services: new Set(['orders', 'users']),
  pathPolicy: { caseSensitive: false },
};

/** The one compiled route of a one-route table. */
function compileOne(spec: Record<string, unknown>) {
  const [route] = compileTable([spec], context);
  if (route === undefined) throw new Error('no route compiled');
  return route;
}

/** The problems compileTable reports for `input`; fails the test when it compiles. */
function problemsOf(input: unknown, ctx: TableContext = context): ConfigProblem[] {
  try {
    compileTable(input, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error(`compiled without a problem: ${JSON.stringify(input)}`);
}

/** A key as problem paths write it: `.name` for an identifier, else `["Content-Length"]`. */
const key = (name: string) =>
  /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;

/** The paths of the problems, for order-independent comparison. */
const pathsOf = (problems: readonly ConfigProblem[]) => problems.map((p) => p.path).sort();

const pattern = (text: string): HostPattern => {
  const parsed = parseHostPattern(text);
  if (parsed === undefined) throw new Error(`'${text}' did not parse`);
  return parsed;
};

describe('parseHostPattern', () => {
  it('parses a host, lower-cased and trimmed', () => {
    expect(parseHostPattern('api.example.com')).toEqual({
      wildcard: false,
      host: 'api.example.com',
      port: undefined,
    });
    expect(parseHostPattern('  API.Example.COM ')).toEqual({
      wildcard: false,
      host: 'api.example.com',
      port: undefined,
    });
    expect(parseHostPattern('localhost')).toEqual({ wildcard: false, host: 'localhost', port: undefined });
    expect(parseHostPattern('10.0.0.5')).toEqual({ wildcard: false, host: '10.0.0.5', port: undefined });
  });

  it('parses host:port', () => {
    expect(parseHostPattern('api.example.com:8443')).toEqual({
      wildcard: false,
      host: 'api.example.com',
      port: '8443',
    });
    expect(parseHostPattern('10.0.0.5:80')).toEqual({ wildcard: false, host: '10.0.0.5', port: '80' });
  });

  it('parses a bracketed IPv6 address, with or without a port', () => {
    expect(parseHostPattern('[::1]:8080')).toEqual({ wildcard: false, host: '[::1]', port: '8080' });
    expect(parseHostPattern('[2001:DB8::1]')).toEqual({
      wildcard: false,
      host: '[2001:db8::1]',
      port: undefined,
    });
  });

  it('parses *.suffix, with or without a port', () => {
    expect(parseHostPattern('*.example.com')).toEqual({
      wildcard: true,
      host: 'example.com',
      port: undefined,
    });
    expect(parseHostPattern('*.svc.cluster.local:8080')).toEqual({
      wildcard: true,
      host: 'svc.cluster.local',
      port: '8080',
    });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['exa mple.com', 'a space in a label'],
    ['under_score.com', 'an underscore'],
    ['-api.example.com', 'a label starting with -'],
    ['api-.example.com', 'a label ending with -'],
    ['api..example.com', 'an empty label'],
    ['.example.com', 'a leading dot'],
    [`${'a'.repeat(64)}.com`, 'a label longer than 63'],
    ['*', 'a bare star'],
    ['*.', 'a star without suffix'],
    ['api.*.com', 'a star inside'],
    ['*example.com', 'a star glued to a label'],
    ['**.example.com', 'a double star'],
    ['api.example.com:', 'an empty port'],
    ['api.example.com:http', 'a named port'],
    ['api.example.com:123456', 'a six-digit port'],
    [':8080', 'a port without host'],
    ['::1', 'an unbracketed IPv6 address'],
    ['[::1', 'an unclosed bracket'],
    ['[::1]x', 'junk after the bracket'],
    ['[::1]:', 'an empty port after the bracket'],
    ['http://api.example.com', 'a URL'],
    ['api.example.com/x', 'a path'],
    ['user@api.example.com', 'userinfo'],
    ['bücher.de', 'a non-ASCII label'],
  ])('refuses %j (%s)', (text) => {
    expect(parseHostPattern(text)).toBeUndefined();
  });

  // Core's own host check (validHost) refuses both; a pattern that can never be a real host is a typo.
  it('refuses a port above 65535', () => {
    expect(parseHostPattern('api.example.com:99999')).toBeUndefined();
    expect(parseHostPattern('[::1]:70000')).toBeUndefined();
  });

  it('refuses brackets that do not hold an IPv6 address', () => {
    expect(parseHostPattern('[]')).toBeUndefined();
    expect(parseHostPattern('[evil.example.com]')).toBeUndefined();
    expect(parseHostPattern('[not an address]:80')).toBeUndefined();
  });
});

describe('hostMatches', () => {
  const api = pattern('api.example.com');

  it('matches the exact name, ignoring case, a port and one trailing dot', () => {
    expect(hostMatches(api, 'api.example.com')).toBe(true);
    expect(hostMatches(api, 'API.Example.Com')).toBe(true);
    expect(hostMatches(api, 'api.example.com:8443')).toBe(true);
    expect(hostMatches(api, 'api.example.com.')).toBe(true);
    expect(hostMatches(api, 'api.example.com.:8443')).toBe(true);
  });

  it('never matches a prefix, a suffix or a superstring of the name', () => {
    for (const host of [
      'api.example.com.evil.net',
      'api.example.com.evil.net:443',
      'evilapi.example.com',
      'x.api.example.com',
      'api.example.co',
      'pi.example.com',
      'api.example.comx',
      'api-example.com',
      'api.example.com..',
      '',
      '.',
    ]) {
      expect(hostMatches(api, host), host).toBe(false);
    }
  });

  it('compares the port when the pattern has one', () => {
    const withPort = pattern('api.example.com:8080');
    expect(hostMatches(withPort, 'api.example.com:8080')).toBe(true);
    expect(hostMatches(withPort, 'API.example.com.:8080')).toBe(true);
    expect(hostMatches(withPort, 'api.example.com:9090')).toBe(false);
    expect(hostMatches(withPort, 'api.example.com:80800')).toBe(false);
    expect(hostMatches(withPort, 'api.example.com')).toBe(false);
    expect(hostMatches(withPort, 'other.example.com:8080')).toBe(false);
  });

  it('matches bracketed IPv6 hosts', () => {
    const v6 = pattern('[::1]:8080');
    expect(hostMatches(v6, '[::1]:8080')).toBe(true);
    expect(hostMatches(v6, '[::1]:9090')).toBe(false);
    expect(hostMatches(v6, '[::1]')).toBe(false);
    expect(hostMatches(v6, '[::2]:8080')).toBe(false);
    const anyPort = pattern('[2001:db8::1]');
    expect(hostMatches(anyPort, '[2001:DB8::1]')).toBe(true);
    expect(hostMatches(anyPort, '[2001:db8::1]:443')).toBe(true);
    expect(hostMatches(anyPort, '[2001:db8::10]')).toBe(false);
  });

  it('a wildcard matches one or more labels below its suffix, and nothing else', () => {
    const wild = pattern('*.example.com');
    expect(hostMatches(wild, 'api.example.com')).toBe(true);
    expect(hostMatches(wild, 'a.b.example.com')).toBe(true);
    expect(hostMatches(wild, 'API.EXAMPLE.COM:443')).toBe(true);
    expect(hostMatches(wild, 'api.example.com.')).toBe(true);
    expect(hostMatches(wild, 'example.com')).toBe(false);
    expect(hostMatches(wild, 'example.com.')).toBe(false);
    expect(hostMatches(wild, '.example.com')).toBe(false);
    expect(hostMatches(wild, 'badexample.com')).toBe(false);
    expect(hostMatches(wild, 'api.badexample.com')).toBe(false);
    expect(hostMatches(wild, 'api.example.com.evil.net')).toBe(false);
    expect(hostMatches(wild, 'example.com.evil.net')).toBe(false);
  });

  it('a wildcard with a port compares the port too', () => {
    const wild = pattern('*.example.com:8443');
    expect(hostMatches(wild, 'api.example.com:8443')).toBe(true);
    expect(hostMatches(wild, 'api.example.com')).toBe(false);
    expect(hostMatches(wild, 'api.example.com:443')).toBe(false);
  });
});

describe('compileTable: defaults', () => {
  it('reads an empty YAML value (null) as left out, for every key', () => {
    const route = compileOne({
      path: '/orders/*',
      service: 'orders',
      mode: null,
      weight: null,
      methods: null,
      shadow: null,
      rewrite: null,
      gates: null,
    });
    expect(route).toMatchObject({ mode: 'remote', weight: 0, methods: undefined, rewrite: undefined });
    expect(route.shadow.maxConcurrent).toBe(16);
    expect(route.gates.windowMs).toBe(60_000);
  });

  it("is 'remote' with a service and 'local' without", () => {
    expect(compileOne({ path: '/orders/*', service: 'orders' }).mode).toBe('remote');
    expect(compileOne({ path: '/orders/*' }).mode).toBe('local');
    expect(compileOne({ path: '/orders/*', service: 'orders', mode: 'shadow' }).mode).toBe('shadow');
  });

  it('fills in every default', () => {
    const route = compileOne({ path: '/orders/*', service: 'orders' });
    expect(route).toMatchObject({
      name: '/orders/*',
      index: 0,
      service: 'orders',
      weight: 0,
      sticky: 'principal',
      methods: undefined,
      hosts: undefined,
      headers: [],
      query: [],
      rewrite: undefined,
      requestSet: [],
      responseSet: [],
      timeoutMs: undefined,
      bodyTimeoutMs: undefined,
      internalHosts: [],
      shadow: {
        maxConcurrent: 16,
        maxBodyBytes: 1024 * 1024,
        methods: new Set(['GET', 'HEAD']),
        sampleRate: 1,
        noiseSampleRate: 0.1,
        marker: 'gatehouse-shadow',
      },
      maxReplayBytes: 1024 * 1024,
      gates: { windowMs: 60_000, minRequests: 20 },
      websocket: false,
      fingerprint: 'remote:0:',
      paths: ['/orders/*'],
    });
    expect(route.label('/orders/1')).toBe('/orders/*');
    expect([...route.fallbackOnNonIdempotent].sort()).toEqual(['circuit', 'connect']);
    expect(route.gates).toEqual({ windowMs: 60_000, minRequests: 20 });
    expect([...route.fallbackOn].sort()).toEqual(['5xx', 'circuit', 'connect', 'timeout']);
    expect(route.requestRemove.size).toBe(0);
    expect(route.responseRemove.size).toBe(0);
  });

  it('names a route after its path, with its methods when given', () => {
    expect(compileOne({ path: '/x/*' }).name).toBe('/x/*');
    expect(compileOne({ path: '/x', methods: ['GET', 'POST'] }).name).toBe('GET,POST /x');
    expect(compileOne({ path: '/x', name: 'explicit-1.v2_b' }).name).toBe('explicit-1.v2_b');
  });

  it('takes the values it is given', () => {
    const route = compileOne({
      name: 'orders',
      path: '/orders/:id',
      methods: ['GET', 'DELETE'],
      host: ['api.example.com', '*.example.net:8443'],
      headers: { 'X-Tenant': 'a', 'X-Beta': true },
      query: { preview: true, v: '2' },
      service: 'orders',
      mode: 'split',
      weight: 12.5,
      sticky: { header: 'X-Caller' },
      rewrite: { from: '/orders', to: '/api/v2/orders' },
      requestHeaders: { set: { 'X-Via': 'gatehouse' }, remove: ['Cookie'] },
      responseHeaders: { set: { 'Cache-Control': 'no-store' }, remove: ['Server'] },
      timeoutMs: 2_000,
      bodyTimeoutMs: 30_000,
      internalHosts: ['orders.internal:8080'],
      shadow: {
        maxConcurrent: 2,
        maxBodyBytes: 10,
        methods: ['GET', 'POST'],
        sampleRate: 0.5,
        noiseSampleRate: 0,
        marker: 'X-Shadow-Copy',
      },
      diff: { ignore: ['/updatedAt'], revealQuery: ['page'] },
      fallback: { on: ['connect', '5xx'], nonIdempotentOn: ['connect', 'timeout'], maxReplayBytes: 4096 },
      rearm: 3,
      gates: {
        windowMs: 5_000,
        minRequests: 3,
        maxDiffRate: 0.01,
        maxErrorRateDelta: 0.02,
        maxErrorRate: 0.5,
      },
      websocket: true,
    });
    expect(route).toMatchObject({
      name: 'orders',
      mode: 'split',
      weight: 12.5,
      sticky: { header: 'x-caller' },
      headers: [
        ['x-tenant', 'a'],
        ['x-beta', true],
      ],
      query: [
        ['preview', true],
        ['v', '2'],
      ],
      requestSet: [['x-via', 'gatehouse']],
      responseSet: [['cache-control', 'no-store']],
      timeoutMs: 2_000,
      bodyTimeoutMs: 30_000,
      internalHosts: [{ wildcard: false, host: 'orders.internal', port: '8080' }],
      shadow: {
        maxConcurrent: 2,
        maxBodyBytes: 10,
        methods: new Set(['GET', 'POST']),
        sampleRate: 0.5,
        noiseSampleRate: 0,
        marker: 'x-shadow-copy',
      },
      diff: { ignore: ['/updatedAt'], revealQuery: ['page'] },
      maxReplayBytes: 4096,
      gates: {
        windowMs: 5_000,
        minRequests: 3,
        maxDiffRate: 0.01,
        maxErrorRateDelta: 0.02,
        maxErrorRate: 0.5,
      },
      websocket: true,
      fingerprint: 'split:12.5:3',
    });
    expect([...(route.methods ?? [])]).toEqual(['GET', 'DELETE']);
    expect(route.hosts).toEqual([
      { wildcard: false, host: 'api.example.com', port: undefined },
      { wildcard: true, host: 'example.net', port: '8443' },
    ]);
    expect([...route.requestRemove]).toEqual(['cookie']);
    expect([...route.responseRemove]).toEqual(['server']);
    expect([...route.fallbackOn]).toEqual(['connect', '5xx']);
    expect(route.rewrite).toMatchObject({ from: '/orders', to: '/api/v2/orders' });
    expect(route.rewrite?.fromMatch('/orders')).toBe(true);
    expect(route.rewrite?.fromMatch('/ORDERS/1')).toBe(true);
    expect(route.rewrite?.fromMatch('/ordersx')).toBe(false);
    expect(route.matchPath('/orders/42')).toBe(true);
    expect(route.matchPath('/orders')).toBe(false);
    expect(compileOne({ path: '/a', sticky: 'ip' }).sticky).toBe('ip');
    expect(compileOne({ path: '/a', sticky: { cookie: 'bucket' } }).sticky).toEqual({ cookie: 'bucket' });
    expect(compileOne({ path: '/a', fallback: { on: [] } }).fallbackOn.size).toBe(0);
  });

  it('matches paths with the context’s case sensitivity', () => {
    expect(compileOne({ path: '/Orders' }).matchPath('/orders')).toBe(true);
    const [strict] = compileTable([{ path: '/Orders' }], { ...context, pathPolicy: { caseSensitive: true } });
    expect(strict?.matchPath('/orders')).toBe(false);
    expect(strict?.matchPath('/Orders')).toBe(true);
  });
});

describe('compileTable: input shapes', () => {
  it('takes { routes: [...] } and a bare array alike', () => {
    const routes = [{ path: '/a' }, { path: '/b', service: 'orders' }];
    const fromObject = compileTable({ routes }, context);
    const fromArray = compileTable(routes, context);
    expect(fromObject.map((r) => [r.name, r.index, r.mode])).toEqual([
      ['/a', 0, 'local'],
      ['/b', 1, 'remote'],
    ]);
    expect(fromArray.map((r) => [r.name, r.index, r.mode])).toEqual(
      fromObject.map((r) => [r.name, r.index, r.mode]),
    );
    expect(compileTable({ routes: [] }, context)).toEqual([]);
    expect(compileTable([], context)).toEqual([]);
  });

  it('refuses what is not a table', () => {
    for (const input of [undefined, null, 'routes', 42, { routes: 'x' }, { routes: { path: '/a' } }]) {
      const problems = problemsOf(input);
      expect(problems, JSON.stringify(input)).toHaveLength(1);
      expect(problems[0]).toEqual({
        path: 'routes',
        message: "must be an array of routes (or an object with 'routes')",
      });
    }
  });

  it("suggests 'routes' for a misspelt key", () => {
    expect(problemsOf({ rotues: [] })).toEqual([
      { path: 'routes.rotues', message: "unknown option; did you mean 'routes'?" },
      { path: 'routes', message: "must be an array of routes (or an object with 'routes')" },
    ]);
  });

  it('refuses routes that are not objects', () => {
    expect(problemsOf([null, 'x', ['/a'], { path: '/ok' }])).toEqual([
      { path: 'routes[0]', message: "must be an object with at least 'path'" },
      { path: 'routes[1]', message: "must be an object with at least 'path'" },
      { path: 'routes[2]', message: "must be an object with at least 'path'" },
    ]);
  });

  it('names unknown keys, with a suggestion when one is close', () => {
    expect(problemsOf({ routes: [{ path: '/a' }], rouets: [] })).toEqual([
      { path: 'routes.rouets', message: "unknown option; did you mean 'routes'?" },
    ]);
    expect(problemsOf([{ path: '/a', serivce: 'orders' }])).toEqual([
      { path: 'routes[0].serivce', message: "unknown option; did you mean 'service'?" },
    ]);
    const far = problemsOf([{ path: '/a', zzz: 1 }]);
    expect(far).toHaveLength(1);
    expect(far[0]?.path).toBe('routes[0].zzz');
    expect(far[0]?.message).toMatch(/^unknown option; expected one of name, path, /);
    expect(
      problemsOf([
        {
          path: '/a',
          service: 'orders',
          shadow: { maxConcurent: 1 },
          gates: { windowMS: 1 },
          fallback: { onn: [] },
          rewrite: { from: '/a', to: '/b', form: '/c' },
          requestHeaders: { sett: {} },
        },
      ]),
    ).toEqual([
      // In the order they were written.
      { path: 'routes[0].shadow.maxConcurent', message: "unknown option; did you mean 'maxConcurrent'?" },
      { path: 'routes[0].gates.windowMS', message: "unknown option; did you mean 'windowMs'?" },
      { path: 'routes[0].fallback.onn', message: "unknown option; did you mean 'on'?" },
      { path: 'routes[0].rewrite.form', message: "unknown option; did you mean 'from'?" },
      { path: 'routes[0].requestHeaders.sett', message: "unknown option; did you mean 'set'?" },
    ]);
  });
});

describe('compileTable: problems', () => {
  // Each entry: one invalid field of a route that is otherwise valid, and the path it must be reported at.
  const base = { path: '/a', service: 'orders' };
  const cases: [string, Record<string, unknown>, string][] = [
    ['missing path', { path: undefined }, 'path'],
    ['path not a string', { path: 5 }, 'path'],
    ['path without /', { path: 'orders' }, 'path'],
    ['star not last', { path: '/a/*/b' }, 'path'],
    ['bad parameter', { path: '/a/:1x' }, 'path'],
    ['name not a string', { name: 5 }, 'name'],
    ['name with a slash', { name: 'a/b' }, 'name'],
    ['name starting with a dot', { name: '.a' }, 'name'],
    ['empty name', { name: '' }, 'name'],
    ['methods not an array', { methods: 'GET' }, 'methods'],
    ['no methods', { methods: [] }, 'methods'],
    ['lower-case method', { methods: ['GET', 'post'] }, 'methods[1]'],
    ['empty method', { methods: ['GET', ''] }, 'methods[1]'],
    ['method not a string', { methods: ['GET', 1] }, 'methods[1]'],
    ['unknown service', { service: 'ordrs' }, 'service'],
    ['service not a string', { service: 1 }, 'service'],
    ['unknown mode', { mode: 'remot' }, 'mode'],
    ['mode needing a service', { service: undefined, mode: 'shadow' }, 'service'],
    ['negative weight', { weight: -1 }, 'weight'],
    ['weight over 100', { weight: 100.5 }, 'weight'],
    ['weight as a string', { weight: '50' }, 'weight'],
    ['weight NaN', { weight: Number.NaN }, 'weight'],
    ['unknown sticky', { sticky: 'session' }, 'sticky'],
    ['empty sticky cookie', { sticky: { cookie: '' } }, 'sticky.cookie'],
    ['invalid sticky header', { sticky: { header: 'x y' } }, 'sticky.header'],
    ['sticky with two keys', { sticky: { cookie: 'a', header: 'b' } }, 'sticky'],
    ['rewrite not an object', { rewrite: '/b' }, 'rewrite'],
    ['rewrite without from', { rewrite: { to: '/b' } }, 'rewrite.from'],
    ['rewrite to not a string', { rewrite: { from: '/a', to: 1 } }, 'rewrite.to'],
    ['headers not an object', { headers: ['x'] }, 'headers'],
    ['header name invalid', { headers: { 'x y': true } }, 'headers["x y"]'],
    ['header value a number', { headers: { 'x-a': 1 } }, 'headers["x-a"]'],
    ['header value false', { headers: { 'x-a': false } }, 'headers["x-a"]'],
    ['query not an object', { query: 'a=1' }, 'query'],
    ['query value a number', { query: { a: 1 } }, 'query.a'],
    ['requestHeaders not an object', { requestHeaders: [] }, 'requestHeaders'],
    ['requestHeaders.set not an object', { requestHeaders: { set: 'x' } }, 'requestHeaders.set'],
    ['request header name invalid', { requestHeaders: { set: { 'x y': 'v' } } }, 'requestHeaders.set["x y"]'],
    [
      'request header value with CRLF',
      { requestHeaders: { set: { 'x-a': 'a\r\nb: c' } } },
      'requestHeaders.set["x-a"]',
    ],
    [
      'request header value with NUL',
      { requestHeaders: { set: { 'x-a': 'a\0' } } },
      'requestHeaders.set["x-a"]',
    ],
    ['request header value a number', { requestHeaders: { set: { 'x-a': 1 } } }, 'requestHeaders.set["x-a"]'],
    ['request remove not an array', { requestHeaders: { remove: 'x-a' } }, 'requestHeaders.remove'],
    ['request remove name invalid', { requestHeaders: { remove: ['x y'] } }, 'requestHeaders.remove[0]'],
    [
      'response header value with LF',
      { responseHeaders: { set: { 'x-a': 'a\nb' } } },
      'responseHeaders.set["x-a"]',
    ],
    ['response remove empty name', { responseHeaders: { remove: [''] } }, 'responseHeaders.remove[0]'],
    ['timeoutMs zero', { timeoutMs: 0 }, 'timeoutMs'],
    ['timeoutMs fractional', { timeoutMs: 1.5 }, 'timeoutMs'],
    ['timeoutMs a string', { timeoutMs: '1000' }, 'timeoutMs'],
    ['bodyTimeoutMs negative', { bodyTimeoutMs: -1 }, 'bodyTimeoutMs'],
    ['host invalid', { host: 'api..example.com' }, 'host'],
    ['host list entry invalid', { host: ['api.example.com', 'a b'] }, 'host[1]'],
    ['host not a string or list', { host: 5 }, 'host'],
    ['internalHosts entry invalid', { internalHosts: ['*'] }, 'internalHosts[0]'],
    ['internalHosts a number', { internalHosts: 1 }, 'internalHosts'],
    ['shadow not an object', { shadow: 'yes' }, 'shadow'],
    ['shadow.maxConcurrent zero', { shadow: { maxConcurrent: 0 } }, 'shadow.maxConcurrent'],
    ['shadow.maxBodyBytes fractional', { shadow: { maxBodyBytes: 1.5 } }, 'shadow.maxBodyBytes'],
    [
      'shadow.nonIdempotent (replaced by methods)',
      { shadow: { nonIdempotent: true } },
      'shadow.nonIdempotent',
    ],
    ['shadow.methods empty', { shadow: { methods: [] } }, 'shadow.methods'],
    ['shadow.methods lower case', { shadow: { methods: ['GET', 'put'] } }, 'shadow.methods[1]'],
    ['shadow.marker not a header name', { shadow: { marker: 'a b' } }, 'shadow.marker'],
    ['shadow.marker true', { shadow: { marker: true } }, 'shadow.marker'],
    ['path list empty', { path: [] }, 'path'],
    ['path list entry invalid', { path: ['/a', 'b'] }, 'path[1]'],
    ['sticky unknown word', { sticky: 'random' }, 'sticky'],
    ['rearm an object', { rearm: {} }, 'rearm'],
    ['rearm empty', { rearm: '' }, 'rearm'],
    ['diff.revealQuery a string', { diff: { revealQuery: 'page' } }, 'diff.revealQuery'],
    [
      'fallback.nonIdempotentOn unknown reason',
      { fallback: { nonIdempotentOn: ['4xx'] } },
      'fallback.nonIdempotentOn[0]',
    ],
    ['shadow.sampleRate over 1', { shadow: { sampleRate: 2 } }, 'shadow.sampleRate'],
    ['shadow.noiseSampleRate negative', { shadow: { noiseSampleRate: -0.1 } }, 'shadow.noiseSampleRate'],
    ['diff not an object', { diff: 'strict' }, 'diff'],
    ['diff.headers not a list', { diff: { headers: 'x' } }, 'diff.headers'],
    ['fallback not an object', { fallback: [] }, 'fallback'],
    ['fallback.on not a list', { fallback: { on: 'connect' } }, 'fallback.on'],
    ['fallback.on unknown reason', { fallback: { on: ['connect', '4xx'] } }, 'fallback.on[1]'],
    ['fallback.maxReplayBytes zero', { fallback: { maxReplayBytes: 0 } }, 'fallback.maxReplayBytes'],
    ['gates not an object', { gates: 1 }, 'gates'],
    ['gates.windowMs zero', { gates: { windowMs: 0 } }, 'gates.windowMs'],
    ['gates.minRequests fractional', { gates: { minRequests: 2.5 } }, 'gates.minRequests'],
    ['gates.maxDiffRate over 1', { gates: { maxDiffRate: 1.5 } }, 'gates.maxDiffRate'],
    ['gates.maxErrorRateDelta negative', { gates: { maxErrorRateDelta: -0.1 } }, 'gates.maxErrorRateDelta'],
    ['gates.maxErrorRate a string', { gates: { maxErrorRate: '1%' } }, 'gates.maxErrorRate'],
    ['gates.maxP99DeltaMs negative', { gates: { maxP99DeltaMs: -5 } }, 'gates.maxP99DeltaMs'],
    ['gates.maxP99DeltaMs NaN', { gates: { maxP99DeltaMs: Number.NaN } }, 'gates.maxP99DeltaMs'],
    ['websocket a string', { websocket: 'yes' }, 'websocket'],
  ];

  it.each(cases)('%s', (_label, change, at) => {
    const problems = problemsOf([{ path: '/ok' }, { ...base, ...change }]);
    expect(pathsOf(problems)).toEqual([`routes[1].${at}`]);
    expect(problems[0]?.message).not.toBe('');
  });

  it('lists every problem of a table at once', () => {
    const all = cases.map(([, change]) => ({ ...base, ...change }));
    const problems = problemsOf([{ path: '/ok' }, ...all]);
    expect(pathsOf(problems)).toEqual(cases.map(([, , at], i) => `routes[${i + 1}].${at}`).sort());
  });

  it('lists every problem of one route at once', () => {
    const problems = problemsOf([
      {
        name: '-x',
        path: '/a/*/b',
        methods: ['get'],
        service: 'nope',
        weight: 101,
        sticky: 'x',
        timeoutMs: 0,
        shadow: { sampleRate: 5 },
        gates: { windowMs: -1 },
        websocket: 1,
      },
    ]);
    expect(pathsOf(problems)).toEqual(
      [
        'routes[0].name',
        'routes[0].path',
        'routes[0].methods[0]',
        'routes[0].service',
        'routes[0].weight',
        'routes[0].sticky',
        'routes[0].timeoutMs',
        'routes[0].shadow.sampleRate',
        'routes[0].gates.windowMs',
        'routes[0].websocket',
      ].sort(),
    );
  });

  it('the error message lists every problem with its path', () => {
    try {
      compileTable([{ path: '/a', weight: -1 }, { path: 'b' }], context, 'table');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain('2 problems');
      expect(message).toContain('table[0].weight: must be a percentage from 0 to 100');
      expect(message).toMatch(/table\[1\]\.path: /);
    }
  });

  it('names the known services when a route names another', () => {
    expect(problemsOf([{ path: '/a', service: 'ordrs' }])).toEqual([
      {
        path: 'routes[0].service',
        message: 'unknown service "ordrs"; did you mean \'orders\'?; known: orders, users',
      },
    ]);
    expect(problemsOf([{ path: '/a', service: 'orders' }], { ...context, services: new Set() })).toEqual([
      { path: 'routes[0].service', message: 'unknown service "orders"; none is configured' },
    ]);
  });

  it('refuses duplicate names, explicit or defaulted', () => {
    expect(problemsOf([{ path: '/a', name: 'x' }, { path: '/b' }, { path: '/c', name: 'x' }])).toEqual([
      { path: 'routes[2].name', message: "duplicate route name 'x' (already at [0])" },
    ]);
    expect(problemsOf([{ path: '/a' }, { path: '/b' }, { path: '/a' }])).toEqual([
      { path: 'routes[2].name', message: "two routes are named '/a' (already at [0]): give one a name" },
    ]);
    // Same path, different methods: different default names.
    expect(compileTable([{ path: '/a', methods: ['GET'] }, { path: '/a' }], context)).toHaveLength(2);
    // A duplicate is reported even when the route has other problems.
    expect(
      pathsOf(
        problemsOf([
          { path: '/a', name: 'x' },
          { path: '/b', name: 'x', weight: -1 },
        ]),
      ),
    ).toEqual(['routes[1].name', 'routes[1].weight']);
  });

  // An empty list compiles to a route that can never match: a typo, like an empty method list.
  it('refuses an empty host list, as it refuses an empty method list', () => {
    expect(pathsOf(problemsOf([{ path: '/a', host: [] }]))).toEqual(['routes[0].host']);
  });
});

describe('compileTable: header changes', () => {
  const framing = ['Host', 'Content-Length', 'Transfer-Encoding', 'Connection'];

  it('refuses to set framing headers, on requests and responses', () => {
    for (const name of framing) {
      for (const side of ['requestHeaders', 'responseHeaders']) {
        expect(problemsOf([{ path: '/a', [side]: { set: { [name]: 'x' } } }])).toEqual([
          { path: `routes[0].${side}.set${key(name)}`, message: 'cannot be set by a route' },
        ]);
      }
    }
  });

  // The framing list is what a route may never set or remove (table.ts:205).
  it('refuses to remove framing headers', () => {
    for (const name of framing) {
      for (const side of ['requestHeaders', 'responseHeaders']) {
        expect(pathsOf(problemsOf([{ path: '/a', [side]: { remove: ['x-ok', name] } }]))).toEqual([
          `routes[0].${side}.remove[1]`,
        ]);
      }
    }
  });

  // undici refuses these request headers (`invalid keep-alive header`): a route setting one would
  // compile and then fail every request it forwards.
  it('refuses to set connection-level request headers the client library cannot send', () => {
    for (const name of ['Keep-Alive', 'Upgrade']) {
      expect(pathsOf(problemsOf([{ path: '/a', requestHeaders: { set: { [name]: 'x' } } }]))).toEqual([
        `routes[0].requestHeaders.set${key(name)}`,
      ]);
    }
  });

  it('lower-cases names and keeps values as given', () => {
    const route = compileOne({
      path: '/a',
      requestHeaders: { set: { 'X-A': 'One Two', 'x-b': '' }, remove: ['X-Drop', 'x-drop'] },
    });
    expect(route.requestSet).toEqual([
      ['x-a', 'One Two'],
      ['x-b', ''],
    ]);
    expect([...route.requestRemove]).toEqual(['x-drop']);
  });
});

describe('compileTable: rewrite prefixes', () => {
  it.each([
    ['/orders', '/api/v2/orders'],
    ['/', '/api'],
    ['/orders', '/'],
    ['/', '/'],
    ['/a-b_c~d.e', "/x!$&'()*+,;=:@"],
  ])('accepts %j → %j', (from, to) => {
    expect(compileOne({ path: '/*', rewrite: { from, to } }).rewrite).toMatchObject({ from, to });
  });

  it.each([
    ['orders', "must be a path starting with '/'"],
    ['', "must be a path starting with '/'"],
    ['/orders/', "must not end with '/'"],
    ['/orders?x=1', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/orders#x', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/or%2Fders', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/or ders', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/a//b', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['//a', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/a/../b', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/a/./b', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/..', 'must be a plain path without query, percent-escapes, empty or dot segments'],
    ['/.', 'must be a plain path without query, percent-escapes, empty or dot segments'],
  ])('refuses the prefix %j on either side', (prefix, message) => {
    expect(problemsOf([{ path: '/*', rewrite: { from: prefix, to: '/ok' } }])).toEqual([
      { path: 'routes[0].rewrite.from', message },
    ]);
    expect(problemsOf([{ path: '/*', rewrite: { from: '/ok', to: prefix } }])).toEqual([
      { path: 'routes[0].rewrite.to', message },
    ]);
  });

  it('accepts dots that are not whole segments', () => {
    expect(compileOne({ path: '/*', rewrite: { from: '/a..b', to: '/.well-known' } }).rewrite).toMatchObject({
      from: '/a..b',
      to: '/.well-known',
    });
  });
});

describe('compileTable: a group of paths', () => {
  it('matches each of its paths and labels a request with the pattern that matched', () => {
    const route = compileOne({ name: 'profiles', path: ['/api/profiles/*', '/api/tags'], service: 'users' });
    expect(route.paths).toEqual(['/api/profiles/*', '/api/tags']);
    for (const [path, label] of [
      ['/api/profiles/jake', '/api/profiles/*'],
      ['/api/profiles', '/api/profiles/*'],
      ['/api/tags', '/api/tags'],
    ] as const) {
      expect(route.matchPath(path), path).toBe(true);
      expect(route.label(path), path).toBe(label);
    }
    for (const path of ['/api/tags/x', '/api/articles', '/api'])
      expect(route.matchPath(path), path).toBe(false);
  });

  it('is named after its paths when it has no name, and one path in a list is the same as one path', () => {
    expect(compileOne({ path: ['/a/*', '/b'] }).name).toBe('/a/*,/b');
    expect(compileOne({ path: ['/a/*', '/b'], methods: ['GET'] }).name).toBe('GET /a/*,/b');
    const single = compileOne({ path: ['/a/*'] });
    expect(single).toMatchObject({ name: '/a/*', paths: ['/a/*'] });
    expect(single.label('/a/1')).toBe('/a/*');
  });

  it('a duplicate default name of two groups is reported', () => {
    const problems = problemsOf([{ path: ['/a', '/b'] }, { path: ['/a', '/b'] }]);
    expect(problems).toEqual([
      { path: 'routes[1].name', message: "two routes are named '/a,/b' (already at [0]): give one a name" },
    ]);
  });
});

describe('compileTable: shadow, split and fallback choices', () => {
  it('shadow copies are unmarked with marker false; split by request with sticky none', () => {
    const route = compileOne({ path: '/a', service: 'orders', shadow: { marker: false }, sticky: 'none' });
    expect(route.shadow.marker).toBeUndefined();
    expect(route.sticky).toBe('none');
  });

  it('non-idempotent fallback reasons are those of nonIdempotentOn that on allows', () => {
    const route = compileOne({
      path: '/a',
      service: 'orders',
      fallback: { on: ['timeout', '5xx', 'circuit'], nonIdempotentOn: ['connect', 'circuit', '5xx'] },
    });
    expect([...route.fallbackOnNonIdempotent].sort()).toEqual(['5xx', 'circuit']);
  });
});

describe('compileTable: fingerprint', () => {
  const spec = { path: '/orders/*', service: 'orders', mode: 'split', weight: 10 };
  const fingerprint = (change: Record<string, unknown>) => compileOne({ ...spec, ...change }).fingerprint;

  it('changes with the mode, the weight and rearm', () => {
    const before = fingerprint({});
    expect(fingerprint({ weight: 11 })).not.toBe(before);
    expect(fingerprint({ mode: 'shadow' })).not.toBe(before);
    expect(fingerprint({ mode: 'remote', weight: 10 })).not.toBe(before);
    expect(fingerprint({ rearm: 1 })).not.toBe(before);
    expect(fingerprint({ rearm: 2 })).not.toBe(fingerprint({ rearm: 1 }));
    expect(fingerprint({ rearm: '2026-12-04' })).toBe(fingerprint({ rearm: '2026-12-04' }));
  });

  it('does not change with anything else', () => {
    const before = fingerprint({});
    for (const change of [
      { name: 'renamed' },
      { path: '/other/*' },
      { methods: ['GET'] },
      { service: 'users' },
      { sticky: 'ip' },
      { rewrite: { from: '/orders', to: '/v2' } },
      { shadow: { sampleRate: 0.5 } },
      { gates: { windowMs: 1_000 } },
      { fallback: { on: ['5xx'] } },
      { timeoutMs: 5 },
      { websocket: true },
    ]) {
      expect(fingerprint(change), JSON.stringify(change)).toBe(before);
    }
  });

  it('is the same for a default written out and left out', () => {
    expect(compileOne({ path: '/a', service: 'orders' }).fingerprint).toBe(
      compileOne({ path: '/a', service: 'orders', mode: 'remote', weight: 0 }).fingerprint,
    );
  });
});

describe('compileTable: one ConfigError with every problem, its path and a suggestion', () => {
  it('refuses a trailing slash (it would never match a normalized path) and suggests both readings', () => {
    expect(problemsOf([{ path: '/orders/', service: 'orders' }])).toEqual([
      {
        path: 'routes[0].path',
        message:
          "must not end with '/': a normalized path never does, so it would never match — did you mean '/orders' (that path) or '/orders/*' (it and everything below)?",
      },
    ]);
  });

  it('suggests the mode, the service and the key that were meant', () => {
    expect(problemsOf([{ path: '/a', service: 'ordrs', mode: 'shadw', wieght: 5 }])).toEqual([
      {
        path: 'routes[0].mode',
        message:
          "expected one of 'local', 'shadow', 'split', 'fallback' or 'remote', received the string 'shadw' — did you mean 'shadow'?",
      },
      { path: 'routes[0].wieght', message: "unknown option; did you mean 'weight'?" },
      {
        path: 'routes[0].service',
        message: 'unknown service "ordrs"; did you mean \'orders\'?; known: orders, users',
      },
    ]);
  });

  it('reports unknown keys and wrong types at every depth together', () => {
    expect(
      problemsOf({
        routes: [
          { path: '/ok' },
          {
            path: '/b/*',
            service: 'orders',
            methods: ['GET', 'post'],
            shadow: { sampleRate: '10%', maxConcurrent: 2.5 },
            diff: { ignore: ['meta'], kepp: 5 },
            gates: { maxErrorRate: 2, window: 10 },
            fallback: { on: ['conect'] },
            websocket: 'yes',
          },
        ],
      }),
    ).toEqual([
      {
        path: 'routes[1].methods[1]',
        message: "'post' is not an upper-case HTTP method — did you mean 'POST'?",
      },
      { path: 'routes[1].shadow.sampleRate', message: 'must be a number from 0 to 1' },
      { path: 'routes[1].shadow.maxConcurrent', message: 'expected an integer, received the number 2.5' },
      { path: 'routes[1].diff.ignore[0]', message: "must be a path starting with '/' or 'header:'" },
      { path: 'routes[1].diff.kepp', message: "unknown option; did you mean 'keep'?" },
      { path: 'routes[1].gates.maxErrorRate', message: 'must be a number from 0 to 1' },
      { path: 'routes[1].gates.window', message: "unknown option; did you mean 'windowMs'?" },
      {
        path: 'routes[1].fallback.on[0]',
        message:
          "expected one of 'connect', 'timeout', 'circuit' or '5xx', received the string 'conect' — did you mean 'connect'?",
      },
      {
        path: 'routes[1].websocket',
        message: "expected true or false, received the string 'yes' — did you mean true (without quotes)?",
      },
    ]);
  });
});
