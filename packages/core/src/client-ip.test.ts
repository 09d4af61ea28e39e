import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAddressMatcher, createProxyTrust, DEFAULT_PROXY_TRUST, foldMappedIPv4 } from './client-ip.js';
import { ConfigError } from './config/validate.js';

const xff = (value: string): IncomingHttpHeaders => ({ 'x-forwarded-for': value });

describe('foldMappedIPv4', () => {
  it.each([
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['1.2.3.4', '1.2.3.4'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:999.1.1.1', '::ffff:999.1.1.1'],
    ['::ffff:', '::ffff:'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(foldMappedIPv4(input)).toBe(expected);
  });
});

describe('createProxyTrust options', () => {
  it('trusts nobody by default', () => {
    expect(DEFAULT_PROXY_TRUST).toEqual({ trustedProxies: false, header: 'x-forwarded-for' });
    const trust = createProxyTrust();
    expect(trust.clientIp('127.0.0.1', xff('1.2.3.4'))).toBe('127.0.0.1');
  });

  /** The problems of the ConfigError `make` throws, as `path: message` lines. */
  const problemsOf = (make: () => unknown) => {
    try {
      make();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    throw new Error('expected a ConfigError');
  };

  it.each([
    ['10.0.0.0/33', "invalid prefix length in '10.0.0.0/33'"],
    ['10.0.0.0/', "invalid prefix length in '10.0.0.0/'"],
    ['10.0.0.0/8x', "invalid prefix length in '10.0.0.0/8x'"],
    ['2001:db8::/129', "invalid prefix length in '2001:db8::/129'"],
    ['::ffff:10.0.0.0/95', "invalid prefix length in '::ffff:10.0.0.0/95'"],
    ['10.0.0.300/8', "invalid address in '10.0.0.300/8'"],
    ['localhost', "invalid address in 'localhost'"],
    ['fe80::1%eth0', "invalid address in 'fe80::1%eth0'"],
    ['lookback', "invalid address in 'lookback' — did you mean 'loopback'?"],
  ])('rejects %j with a ConfigError naming the entry', (entry, message) => {
    expect(problemsOf(() => createProxyTrust({ trustedProxies: ['loopback', entry] }))).toEqual([
      `clientIp.trustedProxies[1]: ${message}`,
    ]);
  });

  it('lists every problem at once, with paths', () => {
    expect(
      problemsOf(() =>
        createProxyTrust({
          trustedProxies: ['10.0.0.0/8', 'nope', 7, '::1/200'],
          header: 'x-forwarded-fro',
          hops: 1,
        } as never),
      ),
    ).toEqual([
      'clientIp.hops: unknown option; expected one of trustedProxies, header',
      "clientIp.header: expected 'x-forwarded-for', 'forwarded' or 'x-real-ip', got \"x-forwarded-fro\" — did you mean 'x-forwarded-for'?",
      "clientIp.trustedProxies[1]: invalid address in 'nope'",
      'clientIp.trustedProxies[2]: expected an address, CIDR or range name, got number',
      "clientIp.trustedProxies[3]: invalid prefix length in '::1/200'",
    ]);
    expect(problemsOf(() => createAddressMatcher(['10.0.0.1', 'x', '10.0.0.0/40'], 'exempt.ips'))).toEqual([
      "exempt.ips[1]: invalid address in 'x'",
      "exempt.ips[2]: invalid prefix length in '10.0.0.0/40'",
    ]);
    expect(createAddressMatcher(['10.0.0.0/8'], 'exempt.ips')('10.1.2.3')).toBe(true);
  });

  it('rejects bad hop counts and headers', () => {
    for (const hops of [-1, 1.5, 33]) {
      expect(problemsOf(() => createProxyTrust({ trustedProxies: hops }))).toEqual([
        `clientIp.trustedProxies: a hop count must be an integer from 0 to 32, got ${hops}`,
      ]);
    }
    expect(problemsOf(() => createProxyTrust({ trustedProxies: true as unknown as false }))).toEqual([
      'clientIp.trustedProxies: expected false, a hop count or a list of addresses',
    ]);
    expect(problemsOf(() => createProxyTrust({ header: 'x-client-ip' as 'x-real-ip' }))).toEqual([
      `clientIp.header: expected 'x-forwarded-for', 'forwarded' or 'x-real-ip', got "x-client-ip"`,
    ]);
  });

  it('compiles named ranges, CIDRs and mapped forms', () => {
    const trust = createProxyTrust({
      trustedProxies: [
        'private',
        'LinkLocal',
        'uniquelocal',
        '203.0.113.0/24',
        '::ffff:198.51.100.0/120',
        '2001:db8::5',
      ],
    });
    for (const proxy of ['10.1.2.3', '172.31.0.1', '192.168.1.1', '169.254.1.1', 'fe80::1', 'fd00::1']) {
      expect(trust.clientIp(proxy, xff('8.8.8.8'))).toBe('8.8.8.8');
    }
    for (const proxy of ['203.0.113.9', '198.51.100.7', '::ffff:198.51.100.7', '2001:db8::5']) {
      expect(trust.clientIp(proxy, xff('8.8.8.8'))).toBe('8.8.8.8');
    }
    for (const proxy of ['172.32.0.1', '127.0.0.1', '2001:db8::6', '198.51.101.1']) {
      expect(trust.clientIp(proxy, xff('8.8.8.8'))).toBe(proxy);
    }
  });
});

describe('clientIp with an address list', () => {
  const trust = createProxyTrust({ trustedProxies: ['loopback', '10.0.0.0/8'] });

  it('ignores a spoofed X-Forwarded-For from an untrusted peer', () => {
    expect(trust.clientIp('203.0.113.5', xff('127.0.0.1'))).toBe('203.0.113.5');
    expect(trust.clientIp('::ffff:203.0.113.5', xff('1.2.3.4'))).toBe('203.0.113.5');
  });

  it('walks a chain through trusted proxies and stops at the first untrusted address', () => {
    expect(trust.clientIp('127.0.0.1', xff('1.2.3.4'))).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', xff('6.6.6.6, 1.2.3.4, 10.0.0.2'))).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', xff('6.6.6.6,1.2.3.4,10.0.0.2,10.0.0.3'))).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', xff('10.0.0.9, 10.0.0.2'))).toBe('10.0.0.9');
    expect(trust.clientIp('127.0.0.1', {})).toBe('127.0.0.1');
  });

  it('counts an IPv4-mapped peer as loopback', () => {
    expect(trust.clientIp('::ffff:127.0.0.1', xff('1.2.3.4'))).toBe('1.2.3.4');
    expect(trust.clientIp('::1', xff('1.2.3.4'))).toBe('1.2.3.4');
  });

  it('handles several headers joined by Node, arrays, ports and IPv6', () => {
    expect(trust.clientIp('127.0.0.1', xff('6.6.6.6, 1.2.3.4, 10.0.0.1'))).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', { 'x-forwarded-for': ['6.6.6.6', '1.2.3.4'] })).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', xff('1.2.3.4:5678'))).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', xff('[2001:DB8:0::1]:80'))).toBe('2001:db8::1');
    expect(trust.clientIp('127.0.0.1', xff('[::1]:80, 10.0.0.1'))).toBe('::1');
    expect(trust.clientIp('127.0.0.1', xff('2001:db8::1'))).toBe('2001:db8::1');
    expect(trust.clientIp('127.0.0.1', xff('::ffff:8.8.8.8'))).toBe('8.8.8.8');
    expect(trust.clientIp('127.0.0.1', xff(' \t1.2.3.4 '))).toBe('1.2.3.4');
  });

  it('stops at a malformed entry and keeps the last good address', () => {
    for (const bad of [
      'unknown',
      '_hidden',
      'evil.example',
      '',
      '1.2.3.4:80x',
      '[::1',
      '1.2.3.4:99999999',
      'fe80::1%eth0',
    ]) {
      expect(trust.clientIp('127.0.0.1', xff(`6.6.6.6, ${bad}`))).toBe('127.0.0.1');
      expect(trust.clientIp('127.0.0.1', xff(`${bad}, 10.0.0.1`))).toBe('10.0.0.1');
    }
    expect(trust.clientIp('127.0.0.1', xff('1.2.3.4,'))).toBe('127.0.0.1');
    expect(trust.clientIp('127.0.0.1', xff(','))).toBe('127.0.0.1');
  });

  it('falls back to the peer, or an empty string without one, and never throws', () => {
    expect(trust.clientIp(undefined, xff('1.2.3.4'))).toBe('');
    expect(trust.clientIp('not-an-ip', xff('1.2.3.4'))).toBe('not-an-ip');
    const odd = {
      'x-forwarded-for': 42,
      'x-forwarded-proto': ['https', 1],
      host: 7,
    } as unknown as IncomingHttpHeaders;
    expect(trust.clientIp('127.0.0.1', odd)).toBe('127.0.0.1');
    expect(trust.protocol('127.0.0.1', false, odd)).toBe('http');
    expect(trust.host('127.0.0.1', odd)).toBeUndefined();
  });

  it('bounds the work on a very long header', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      expect(trust.clientIp('127.0.0.1', xff(`1.2.3.4, ${chain}`))).toBe('10.0.38.240');
    }
    expect(performance.now() - started).toBeLessThan(500);
    // Only the 32 nearest entries are examined: when all are trusted, the 32nd (entry 9968) is the client.
    expect(trust.clientIp('127.0.0.1', xff(`1.2.3.4, ${chain}`))).toBe(`10.0.${9968 >> 8}.${9968 & 255}`);
  });
});

describe('clientIp with a hop count', () => {
  it('trusts exactly n proxies', () => {
    const one = createProxyTrust({ trustedProxies: 1 });
    const two = createProxyTrust({ trustedProxies: 2 });
    expect(one.clientIp('203.0.113.1', {})).toBe('203.0.113.1');
    expect(one.clientIp('203.0.113.1', xff('1.1.1.1'))).toBe('1.1.1.1');
    expect(one.clientIp('203.0.113.1', xff('6.6.6.6, 1.1.1.1'))).toBe('1.1.1.1');
    expect(two.clientIp('203.0.113.1', xff('1.1.1.1'))).toBe('1.1.1.1');
    expect(two.clientIp('203.0.113.1', xff('6.6.6.6, 1.1.1.1, 2.2.2.2'))).toBe('1.1.1.1');
    expect(two.clientIp('203.0.113.1', xff('unknown, 2.2.2.2'))).toBe('2.2.2.2');
    expect(createProxyTrust({ trustedProxies: 0 }).clientIp('203.0.113.1', xff('1.1.1.1'))).toBe(
      '203.0.113.1',
    );
  });

  it('counts a peer without an address as a hop', () => {
    expect(createProxyTrust({ trustedProxies: 1 }).clientIp(undefined, xff('1.1.1.1'))).toBe('1.1.1.1');
  });
});

describe('clientIp with Forwarded', () => {
  const trust = createProxyTrust({ trustedProxies: ['loopback'], header: 'forwarded' });
  const fwd = (value: string): IncomingHttpHeaders => ({ forwarded: value });

  it.each([
    ['for=192.0.2.60;proto=http;by=203.0.113.43', '192.0.2.60'],
    ['For="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17'],
    ['for="192.0.2.43:47011"', '192.0.2.43'],
    ['for=192.0.2.43, for=198.51.100.17', '198.51.100.17'],
    ['for=192.0.2.43, for="[::1]"', '192.0.2.43'],
    ['for=192.0.2.43,for=127.0.0.2;proto=https', '192.0.2.43'],
    ['  FOR="192.0.2.7"  ', '192.0.2.7'],
    ['for = 192.0.2.7', '127.0.0.1'],
    ['for="[2001:db8::1]:_port"', '2001:db8::1'],
    ['for=[2001:db8::2]', '2001:db8::2'],
    ['for="\\1\\9\\2.0.2.8"', '192.0.2.8'],
    ['for=unknown', '127.0.0.1'],
    ['for=_hidden, for=127.0.0.3', '127.0.0.3'],
    ['for="_gazonk"', '127.0.0.1'],
    ['by=1.2.3.4', '127.0.0.1'],
    ['for=1.2.3.4;for=5.6.7.8', '127.0.0.1'],
    ['for="1.2.3.4', '127.0.0.1'],
    ['for=1.2.3.4 x', '127.0.0.1'],
    ['for="bad, x", for=192.0.2.9', '192.0.2.9'],
    ['for="quoted \\" comma, inside", for=192.0.2.10', '192.0.2.10'],
    ['for="x, for=192.0.2.11', '192.0.2.11'],
  ])('%j → %j', (value, expected) => {
    expect(trust.clientIp('127.0.0.1', fwd(value))).toBe(expected);
  });

  it('ignores Forwarded from an untrusted peer', () => {
    expect(trust.clientIp('203.0.113.5', fwd('for=1.2.3.4'))).toBe('203.0.113.5');
  });

  it('bounds the work on a very long header', () => {
    const value = Array.from({ length: 10_000 }, () => 'for="[::1]:1";proto=https').join(', ');
    const started = performance.now();
    expect(trust.clientIp('127.0.0.1', fwd(`for=1.2.3.4, ${value}`))).toBe('::1');
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('clientIp with X-Real-IP', () => {
  const trust = createProxyTrust({ trustedProxies: ['loopback'], header: 'x-real-ip' });
  it('uses one address from a trusted peer only', () => {
    expect(trust.clientIp('127.0.0.1', { 'x-real-ip': '1.2.3.4' })).toBe('1.2.3.4');
    expect(trust.clientIp('127.0.0.1', { 'x-real-ip': '1.2.3.4, 5.6.7.8' })).toBe('127.0.0.1');
    expect(trust.clientIp('127.0.0.1', { 'x-real-ip': 'nope' })).toBe('127.0.0.1');
    expect(trust.clientIp('127.0.0.1', xff('1.2.3.4'))).toBe('127.0.0.1');
    expect(trust.clientIp('8.8.8.8', { 'x-real-ip': '1.2.3.4' })).toBe('8.8.8.8');
  });
});

describe('protocol', () => {
  const trust = createProxyTrust({ trustedProxies: ['loopback', '10.0.0.0/8'] });

  it('believes X-Forwarded-Proto only from a trusted peer', () => {
    expect(trust.protocol('127.0.0.1', false, { 'x-forwarded-proto': 'https' })).toBe('https');
    expect(trust.protocol('127.0.0.1', true, { 'x-forwarded-proto': 'HTTP' })).toBe('http');
    expect(trust.protocol('8.8.8.8', false, { 'x-forwarded-proto': 'https' })).toBe('http');
    expect(trust.protocol('8.8.8.8', true, { 'x-forwarded-proto': 'http' })).toBe('https');
    expect(createProxyTrust().protocol('127.0.0.1', false, { 'x-forwarded-proto': 'https' })).toBe('http');
  });

  it('accepts only http and https', () => {
    expect(trust.protocol('127.0.0.1', false, { 'x-forwarded-proto': 'javascript' })).toBe('http');
    expect(trust.protocol('127.0.0.1', true, { 'x-forwarded-proto': 'wss' })).toBe('https');
    expect(trust.protocol('127.0.0.1', true, {})).toBe('https');
  });

  it('takes the value written by the outermost trusted proxy from a list', () => {
    // Client → 10.0.0.5 (TLS ends here, appends https) → 127.0.0.1 (appends http) → us.
    const headers = { 'x-forwarded-for': '1.2.3.4, 10.0.0.5', 'x-forwarded-proto': 'https, http' };
    expect(trust.protocol('127.0.0.1', false, headers)).toBe('https');
    // The client prepended its own 'https'; the only trusted proxy wrote 'http'.
    const spoofed = { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https, http' };
    expect(trust.protocol('127.0.0.1', false, spoofed)).toBe('http');
  });

  it('reads proto= from the Forwarded element that named the client', () => {
    const fwd = createProxyTrust({ trustedProxies: ['loopback'], header: 'forwarded' });
    expect(fwd.protocol('127.0.0.1', false, { forwarded: 'for=1.2.3.4;proto=https' })).toBe('https');
    expect(fwd.protocol('127.0.0.1', false, { forwarded: 'for=1.2.3.4;proto=https, for=8.8.8.8' })).toBe(
      'http',
    );
    expect(fwd.protocol('127.0.0.1', false, { forwarded: 'for=1.2.3.4;proto=https, for=::1' })).toBe('https');
    expect(
      fwd.protocol('127.0.0.1', false, { forwarded: 'for=1.2.3.4;proto=https, for="[::1]";proto=http' }),
    ).toBe('https');
    expect(fwd.protocol('127.0.0.1', true, { forwarded: 'for=1.2.3.4' })).toBe('https');
    expect(fwd.protocol('127.0.0.1', false, { 'x-forwarded-proto': 'https' })).toBe('http');
    expect(fwd.protocol('8.8.8.8', false, { forwarded: 'for=1.2.3.4;proto=https' })).toBe('http');
  });
});

describe('host', () => {
  const trust = createProxyTrust({ trustedProxies: ['loopback'] });

  it('believes X-Forwarded-Host only from a trusted peer', () => {
    const headers = { host: 'internal:8080', 'x-forwarded-host': 'api.example.com' };
    expect(trust.host('127.0.0.1', headers)).toBe('api.example.com');
    expect(trust.host('8.8.8.8', headers)).toBe('internal:8080');
    expect(trust.host('127.0.0.1', { host: 'internal:8080' })).toBe('internal:8080');
    expect(trust.host('127.0.0.1', { 'x-forwarded-host': 'a.example, b.example' })).toBe('b.example');
  });

  it.each([
    ['example.com', 'example.com'],
    ['Example.COM:443', 'Example.COM:443'],
    ['example.com.', 'example.com.'],
    ['127.0.0.1:8080', '127.0.0.1:8080'],
    ['[::1]:8080', '[::1]:8080'],
    ['[2001:db8::1]', '[2001:db8::1]'],
    ['evil.com\r\nx: y', undefined],
    ['evil.com/path', undefined],
    ['user@evil.com', undefined],
    ['evil.com:99999', undefined],
    ['evil.com:', undefined],
    ['a..b', undefined],
    ['[::1', undefined],
    ['[nope]', undefined],
    ['a b', undefined],
    ['', undefined],
  ])('validates %j', (value, expected) => {
    expect(createProxyTrust().host(undefined, { host: value })).toBe(expected);
    expect(trust.host('127.0.0.1', { host: 'fallback', 'x-forwarded-host': value })).toBe(expected);
  });

  it('is undefined without a host', () => {
    expect(trust.host('127.0.0.1', {})).toBeUndefined();
  });

  it('reads host= from Forwarded', () => {
    const fwd = createProxyTrust({ trustedProxies: ['loopback'], header: 'forwarded' });
    expect(fwd.host('127.0.0.1', { host: 'internal', forwarded: 'for=1.2.3.4;host="api.example.com"' })).toBe(
      'api.example.com',
    );
    expect(fwd.host('127.0.0.1', { host: 'internal', forwarded: 'for=1.2.3.4' })).toBe('internal');
    expect(fwd.host('8.8.8.8', { host: 'internal', forwarded: 'for=1.2.3.4;host=evil' })).toBe('internal');
  });
});
