import { ConfigError, Problems } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import { readEndpoint } from './endpoints.js';
import { parseEndpoint, preferredEndpoints, staticResolver } from './index.js';

function problemsOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('GH_CONFIG_INVALID');
    return (error as ConfigError).problems.map(({ path, message }) => ({ path, message }));
  }
  throw new Error('expected a ConfigError');
}

describe('parseEndpoint', () => {
  it('reads http and https URLs, with default ports and IPv6 in brackets', () => {
    expect(parseEndpoint('http://10.0.0.1:8080')).toEqual({
      id: '10.0.0.1:8080',
      protocol: 'http:',
      host: '10.0.0.1',
      port: 8080,
      weight: 1,
      priority: 0,
    });
    expect(parseEndpoint('https://API.internal')).toMatchObject({
      id: 'api.internal:443',
      protocol: 'https:',
      host: 'api.internal',
      port: 443,
    });
    expect(parseEndpoint('http://[2001:db8::1]:9000')).toMatchObject({
      id: '[2001:db8::1]:9000',
      host: '2001:db8::1',
      port: 9000,
    });
    expect(parseEndpoint('orders:8080')).toMatchObject({ protocol: 'http:', host: 'orders', port: 8080 });
    expect(Object.isFrozen(parseEndpoint('http://a:1'))).toBe(true);
  });

  it.each([
    ['ftp://10.0.0.1', /http: or https:/],
    ['http://user:secret@10.0.0.1', /no path, credentials/],
    ['http://10.0.0.1/api', /no path, credentials/],
    ['http://10.0.0.1?x=1', /no path, credentials/],
    ['http://', /is not a URL/],
  ])('rejects %s with a ConfigError', (url, message) => {
    const problems = problemsOf(() => parseEndpoint(url));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('endpoint');
    expect(problems[0]!.message).toMatch(message);
  });
});

describe('staticResolver', () => {
  it('serves its list at once, sorted by id and frozen, and is never stale', async () => {
    const resolver = staticResolver([
      'http://10.0.0.2:8080',
      { host: '10.0.0.1', port: 8080, weight: 3, zone: 'a', metadata: { canary: true, v: 2 } },
      { host: '[::1]', port: 9000, protocol: 'https', priority: 1, id: 'six' },
    ]);
    expect(resolver.name).toBe('static:10.0.0.2:8080+2');
    const list = resolver.current();
    expect(list.map((e) => e.id)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', 'six']);
    expect(list[0]).toEqual({
      id: '10.0.0.1:8080',
      protocol: 'http:',
      host: '10.0.0.1',
      port: 8080,
      weight: 3,
      priority: 0,
      zone: 'a',
      metadata: { canary: 'true', v: '2' },
    });
    expect(list[2]).toMatchObject({ host: '::1', protocol: 'https:', priority: 1 });
    expect(Object.isFrozen(list)).toBe(true);
    expect(Object.isFrozen(list[0]!.metadata)).toBe(true);
    expect(await resolver.ready()).toBe(list);
    const status = resolver.status();
    expect(status.stale).toBe(false);
    expect(status.lastError).toBeUndefined();
    expect(status.lastSuccessAt).toBeGreaterThan(Date.now() - 5_000);
    expect(preferredEndpoints(list).map((e) => e.id)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    expect(preferredEndpoints(list, (e) => e.priority > 0).map((e) => e.id)).toEqual(['six']);
    await resolver.close();
    await resolver.close(); // idempotent
    expect(await resolver.ready()).toBe(list);
  });

  it('lists every problem with its path', () => {
    const problems = problemsOf(() =>
      staticResolver([
        'ftp://x',
        { host: 'a b', port: 70_000, wieght: 2 } as never,
        { host: 'ok', port: 1, weight: 0, priority: -1, metadata: { nested: {} } } as never,
        'http://dup:1',
        { host: 'dup', port: 1 },
      ]),
    );
    expect(problems).toEqual([
      { path: 'staticResolver.endpoints[0]', message: "must be an http: or https: URL, got 'ftp:'" },
      { path: 'staticResolver.endpoints[1].host', message: "is not a host name or IP address: 'a b'" },
      { path: 'staticResolver.endpoints[1].port', message: 'must be an integer from 1 to 65535, got 70000' },
      { path: 'staticResolver.endpoints[1].wieght', message: "unknown option; did you mean 'weight'?" },
      { path: 'staticResolver.endpoints[2].weight', message: 'must be a positive number, got 0' },
      { path: 'staticResolver.endpoints[2].priority', message: 'must be a non-negative integer, got -1' },
      {
        path: 'staticResolver.endpoints[2].metadata.nested',
        message: 'must be a string, number or boolean, got {}',
      },
      { path: 'staticResolver.endpoints[4]', message: "duplicates endpoint 'dup:1'" },
    ]);
    expect(problemsOf(() => staticResolver([]))).toEqual([
      {
        path: 'staticResolver.endpoints',
        message: 'must be a non-empty array of URLs or { host, port } objects',
      },
    ]);
  });

  // Options written in code are checked like a configuration file: a key that could alter prototypes
  // is refused anywhere. A value read from a source (an etcd key) keeps such a label as a label.
  it('refuses a __proto__ key in options, and keeps it as a label in a value read from a source', () => {
    const metadata = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    expect(problemsOf(() => staticResolver([{ host: 'h', port: 1, metadata }]))).toEqual([
      {
        path: 'staticResolver.endpoints[0].metadata.__proto__',
        message: "'__proto__' is not allowed as a key (it could alter object prototypes)",
      },
    ]);
    const endpoint = readEndpoint({ host: 'h', port: 1, metadata }, new Problems('value'), '', {
      ignoreUnknown: true,
    });
    expect(Object.getPrototypeOf(endpoint!.metadata)).toBe(Object.prototype);
    expect(Object.keys(endpoint!.metadata!)).toEqual(['__proto__', 'a']);
  });

  it('checks its options with its endpoints, in one ConfigError', () => {
    expect(problemsOf(() => staticResolver(['http://a:1'], { nmae: 'x' } as never))).toEqual([
      { path: 'staticResolver.options.nmae', message: "unknown option; did you mean 'name'?" },
    ]);
    expect(problemsOf(() => staticResolver('http://a:1' as never))).toEqual([
      {
        path: 'staticResolver.endpoints',
        message: 'must be a non-empty array of URLs or { host, port } objects',
      },
    ]);
  });
});
