import { describe, expect, test } from 'vitest';
import { apiKeyKey, compileKey, ipKey } from './keys.js';

describe('ipKey', () => {
  test('IPv4 is its own key; the unknown peer is one key', () => {
    expect(ipKey('203.0.113.9', 64)).toBe('203.0.113.9');
    expect(ipKey('', 64)).toBe('unknown');
  });

  test('IPv6 is grouped by prefix: every address of a /64 gives the same key', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const host = [i, i * 7, i * 13, 65535 - i].map((n) => (n & 0xffff).toString(16)).join(':');
      keys.add(ipKey(`2001:db8:aa:bb:${host}`, 64));
    }
    expect([...keys]).toEqual(['2001:db8:aa:bb::/64']);
    expect(ipKey('2001:db8:aa:bc::1', 64)).toBe('2001:db8:aa:bc::/64');
  });

  test('compressed forms expand before masking', () => {
    expect(ipKey('2001:db8::1', 64)).toBe('2001:db8:0:0::/64');
    expect(ipKey('::1', 64)).toBe('0:0:0:0::/64');
    expect(ipKey('fe80::1:2:3:4', 64)).toBe('fe80:0:0:0::/64');
    expect(ipKey('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::/48');
  });

  test('prefixes that cut a group mask its low bits', () => {
    expect(ipKey('2001:db8:12ff::1', 40)).toBe('2001:db8:1200::/40');
    expect(ipKey('2001:db8:12ff::1', 56)).toBe('2001:db8:12ff:0::/56');
  });

  test('an embedded IPv4 tail counts as two groups; /128 keeps the address', () => {
    expect(ipKey('64:ff9b::192.0.2.33', 96)).toBe('64:ff9b:0:0:0:0::/96');
    expect(ipKey('2001:db8::1', 128)).toBe('2001:db8::1');
  });
});

describe('apiKeyKey', () => {
  test('case and surrounding whitespace fold to one bucket; the key is never kept in clear', () => {
    const key = apiKeyKey('gh_live_ABC123');
    expect(apiKeyKey('  GH_LIVE_abc123\t')).toBe(key);
    expect(key).not.toContain('abc123');
    expect(key).toMatch(/^k:[\w-]{22}$/);
    expect(apiKeyKey('gh_live_ABC124')).not.toBe(key);
  });

  test('an empty or blank key is no key', () => {
    expect(apiKeyKey('')).toBeUndefined();
    expect(apiKeyKey('   ')).toBeUndefined();
  });
});

describe('compileKey', () => {
  const options = { ipv6Prefix: 64, apiKeyHeader: 'x-api-key' };
  const fake = (headers: Record<string, string>, ip = '198.51.100.7') =>
    ({ req: { headers }, clientIp: ip, state: {}, matchedRoute: undefined }) as never;

  test('composite keys are length-prefixed: no header value can forge another combination', () => {
    const keyOf = compileKey([{ header: 'x-a' }, { header: 'x-b' }], options);
    const one = keyOf(fake({ 'x-a': 'a|b', 'x-b': 'c' }), undefined);
    const two = keyOf(fake({ 'x-a': 'a', 'x-b': 'b|c' }), undefined);
    expect(one).not.toBe(two);
  });

  test('a missing header, principal or function value falls back to the client address', () => {
    expect(compileKey({ header: 'x-tenant' }, options)(fake({}), undefined)).toBe('198.51.100.7');
    expect(compileKey('principal', options)(fake({}), undefined)).toBe('198.51.100.7');
    expect(compileKey(() => undefined, options)(fake({}), undefined)).toBe('198.51.100.7');
    expect(compileKey('api-key', options)(fake({ 'x-api-key': ' ' }), undefined)).toBe('198.51.100.7');
  });

  test('long values are hashed: a 10 kB header never becomes a 10 kB store key', () => {
    const key = compileKey({ header: 'x-tenant' }, options)(
      fake({ 'x-tenant': 'x'.repeat(10_000) }),
      undefined,
    );
    expect(key.length).toBeLessThan(40);
  });

  test("'route' is the matched rule, else the framework's template, else '*'", () => {
    const keyOf = compileKey('route', options);
    expect(keyOf(fake({}), '/search')).toBe('r:/search');
    expect(keyOf(fake({}), undefined)).toBe('r:*');
  });
});
