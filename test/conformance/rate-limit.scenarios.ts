// Rate limiting on both frameworks: IETF RateLimit headers over one and several windows, keys (trusted
// and untrusted forwarding, IPv6 /64 grouping, IPv4-mapped addresses, API keys, composite keys,
// principals and tiers from the real auth()), cost, calendar quotas, per-route rules on the normalized
// path, exemptions, the legacy/both/none header modes, and bad input. Counters live in each app's
// memory, so every scenario spends its own bucket (its own client address, key or route) and the
// scenarios can run in any order.
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import type { Exchange } from '@gatehousejs/core';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { expect } from 'vitest';
import type { Expectation, Scenario, Step, Suite } from '../support/conformance.js';
import type { RawRequest, RawResponse } from '../support/raw-http.js';

export type RateLimitOptions = Parameters<FrameworkGateway<unknown>['rateLimit']>[0];

/** Forwarding headers are believed only from the loopback peer the tests connect from. */
const TRUST_LOOPBACK = { clientIp: { trustedProxies: ['loopback'] } } as const;

/**
 * Clock-derived numbers (seconds to a reset, an epoch second, Retry-After) may tick between the
 * Express request and the Koa one; everything else in the answers must be identical.
 */
export const CLOCK = [/;t=(\d+)/, /^retry-after: (\d+)$/m, /^x-ratelimit-reset: (\d+)$/m];

/** Seconds left in a fresh window of `seconds`: the whole window, or one less once a second has passed. */
const left = (seconds: number) => `(?:${seconds}|${seconds - 1})`;

const get = (path: string, headers: Record<string, string | string[]> = {}): RawRequest => ({
  path,
  headers,
});
const from = (ip: string, path = '/view/x', headers: Record<string, string | string[]> = {}): RawRequest =>
  get(path, { 'x-forwarded-for': ip, ...headers });

/** An admitted request whose `RateLimit` field reads exactly `field` (with the clock's `t` allowed to tick). */
function admitted(field: string, policy?: string, extra: Expectation['headers'] = {}): Expectation {
  const pattern = field.replace(/;t=(\d+)/g, (_, t: string) => `;t=${left(Number(t))}`);
  return {
    status: 200,
    headers: {
      ratelimit: new RegExp(`^${pattern}$`),
      ...(policy === undefined ? {} : { 'ratelimit-policy': policy }),
      'retry-after': null,
      ...extra,
    },
  };
}

/** A 429 from window `policy`, with a Retry-After of the whole window (or a second less). */
function refused(policy: string, retryAfter: number, extra: Expectation['headers'] = {}): Expectation {
  return {
    status: 429,
    problem: 'GH_RATE_LIMITED',
    headers: { 'retry-after': new RegExp(`^${left(retryAfter)}$`), ...extra },
    body: (body: { policy?: unknown; detail?: unknown }) => {
      expect(body.policy).toBe(policy);
      expect(body.detail).toBe(`Rate limit '${policy}' reached`);
    },
  };
}

const step = (request: RawRequest, want: Expectation): Step => ({ request, expect: want });
const times = (n: number, make: (i: number) => Step): Step[] => Array.from({ length: n }, (_, i) => make(i));
const sees = (fields: Record<string, unknown>) => (body: unknown) => expect(body).toMatchObject(fields);

/** Scenarios of a rate-limit suite compare their clock numbers within a second. */
const withClock = (scenarios: Scenario[]): Scenario[] => scenarios.map((s) => ({ clock: CLOCK, ...s }));

// Health checks are never limited, so the runner's after-scenario `/hello` probe spends no bucket.
const HELLO_EXEMPT = { path: '/hello', exempt: true } as const;

// ─── 1. windows and IETF headers ────────────────────────────────────────────────────────────────

const TWO_WINDOWS = '"burst";q=3;w=10, "sustained";q=100;w=3600';

export const windowsSuite: Suite = {
  name: 'rate limit: windows and IETF RateLimit headers',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'windows',
        key: 'ip',
        limits: [
          { name: 'burst', points: 3, duration: 10 },
          { name: 'sustained', points: 100, duration: '1h' },
        ],
        routes: [
          HELLO_EXEMPT,
          { path: '/view/single/*', limits: [{ name: 'burst', points: 3, duration: '10s' }] },
          {
            path: '/view/both/*',
            limits: [
              { name: 'burst', points: 3, duration: 10 },
              { name: 'hourly', points: 3, duration: 3600 },
            ],
          },
        ],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'one window: RateLimit-Policy and RateLimit as structured fields',
      request: from('203.0.113.1', '/view/single/a'),
      expect: {
        ...admitted('"burst";r=2;t=10', '"burst";q=3;w=10'),
        body: sees({ path: '/view/single/a', clientIp: '203.0.113.1' }),
      },
    },
    {
      name: 'two windows at once: both listed in RateLimit-Policy and RateLimit, in order',
      request: from('203.0.113.2'),
      expect: admitted('"burst";r=2;t=10, "sustained";r=99;t=3600', TWO_WINDOWS),
    },
    {
      name: 'each admitted request spends a point of every window',
      before: [
        step(from('203.0.113.3'), admitted('"burst";r=2;t=10, "sustained";r=99;t=3600', TWO_WINDOWS)),
        step(from('203.0.113.3'), admitted('"burst";r=1;t=10, "sustained";r=98;t=3600', TWO_WINDOWS)),
      ],
      request: from('203.0.113.3'),
      expect: admitted('"burst";r=0;t=10, "sustained";r=97;t=3600', TWO_WINDOWS),
    },
    {
      name: 'the 4th request in a 3-point window → 429 problem+json with Retry-After and r=0',
      before: times(3, () => step(from('203.0.113.4', '/view/single/b'), { status: 200 })),
      request: from('203.0.113.4', '/view/single/b'),
      expect: refused('burst', 10, {
        'ratelimit-policy': '"burst";q=3;w=10',
        ratelimit: new RegExp(`^"burst";r=0;t=${left(10)}$`),
        'cache-control': 'no-store',
      }),
    },
    {
      name: 'a refusal under two windows names the spent one and shows both',
      before: times(3, () => step(from('203.0.113.5'), { status: 200 })),
      request: from('203.0.113.5'),
      expect: refused('burst', 10, {
        'ratelimit-policy': TWO_WINDOWS,
        ratelimit: new RegExp(`^"burst";r=0;t=${left(10)}, "sustained";r=\\d+;t=${left(3600)}$`),
      }),
    },
    {
      name: 'refused requests stay refused (r never goes negative)',
      before: times(5, () => from('203.0.113.6', '/view/single/c')),
      request: from('203.0.113.6', '/view/single/c'),
      expect: refused('burst', 10, { ratelimit: new RegExp(`^"burst";r=0;t=${left(10)}$`) }),
    },
    {
      name: 'when two windows are spent at once, Retry-After is the later reset',
      before: times(3, () => step(from('203.0.113.7', '/view/both/x'), { status: 200 })),
      request: from('203.0.113.7', '/view/both/x'),
      expect: refused('hourly', 3600, {
        ratelimit: new RegExp(`^"burst";r=0;t=${left(10)}, "hourly";r=0;t=${left(3600)}$`),
      }),
    },
    {
      name: 'HEAD requests count too, and a refused one has the headers and no body',
      before: times(3, () =>
        step({ ...from('203.0.113.10', '/view/single/e'), method: 'HEAD' }, { status: 200 }),
      ),
      request: { ...from('203.0.113.10', '/view/single/e'), method: 'HEAD' },
      expect: {
        status: 429,
        headers: {
          'content-type': 'application/problem+json',
          'retry-after': new RegExp(`^${left(10)}$`),
          ratelimit: new RegExp(`^"burst";r=0;t=${left(10)}$`),
        },
        body: (_body: unknown, res: RawResponse) => expect(res.body.length).toBe(0),
      },
    },
    {
      name: 'another client is not affected by a spent bucket',
      before: times(4, () => from('203.0.113.8', '/view/single/d')),
      request: from('203.0.113.9', '/view/single/d'),
      expect: admitted('"burst";r=2;t=10'),
    },
  ]),
};

// ─── 2. keys ────────────────────────────────────────────────────────────────────────────────────

export const untrustedSuite: Suite = {
  name: 'rate limit: forwarding headers from an untrusted peer',
  app: {
    chain: (gw) => [
      gw.rateLimit({
        key: 'ip',
        limits: [{ name: 'minute', points: 3, duration: 60 }],
        routes: [HELLO_EXEMPT],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'X-Forwarded-For, Forwarded and X-Real-IP do not change the key: one bucket for the peer',
      before: [
        step(from('203.0.113.10'), {
          ...admitted('"minute";r=2;t=60'),
          body: sees({ clientIp: '127.0.0.1' }),
        }),
        step(get('/view/x', { forwarded: 'for=198.51.100.10' }), admitted('"minute";r=1;t=60')),
        step(get('/view/x', { 'x-real-ip': '192.0.2.10' }), admitted('"minute";r=0;t=60')),
      ],
      request: from('2001:db8::10'),
      expect: refused('minute', 60),
    },
  ]),
};

// 1,000 addresses inside 2001:db8:1:2::/64, written every way an IPv6 address can be written.
const V6_POINTS = 999;
function inSlash64(prefix: string, i: number): string {
  const [a, b, c, d] = [i & 0xffff, (i * 7919) & 0xffff, (i * 104729) & 0xffff, (i + 1) & 0xffff];
  const hex = (n: number) => n.toString(16);
  switch (i % 4) {
    case 0:
      return `${prefix}:${hex(a)}:${hex(b)}:${hex(c)}:${hex(d)}`;
    case 1:
      return `${prefix}:${hex(a)}:${hex(b)}:${hex(c)}:${hex(d)}`.toUpperCase();
    case 2:
      return `[${prefix}:${hex(a)}::${hex(d)}]:${1024 + i}`;
    default:
      return `${prefix}:${hex(a)}:0:0:${hex(d)}`
        .split(':')
        .map((g) => g.padStart(4, '0'))
        .join(':');
  }
}

export const keysSuite: Suite = {
  name: 'rate limit: client address keys (trusted proxies, IPv6 /64, IPv4-mapped)',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'keys',
        key: 'ip',
        limits: [{ name: 'minute', points: 3, duration: 60 }],
        routes: [HELLO_EXEMPT],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'X-Forwarded-For from a trusted proxy selects the client: its bucket is spent',
      before: [
        step(from('203.0.113.20'), {
          ...admitted('"minute";r=2;t=60'),
          body: sees({ clientIp: '203.0.113.20' }),
        }),
        step(from('203.0.113.20'), admitted('"minute";r=1;t=60')),
        step(from('203.0.113.20'), admitted('"minute";r=0;t=60')),
      ],
      request: from('203.0.113.20'),
      expect: refused('minute', 60),
    },
    {
      name: 'through the same proxy, another client has its own bucket',
      before: times(4, () => from('203.0.113.21')),
      request: from('203.0.113.22'),
      expect: { ...admitted('"minute";r=2;t=60'), body: sees({ clientIp: '203.0.113.22' }) },
    },
    {
      name: 'addresses a client prepends to X-Forwarded-For do not give it a new bucket',
      before: [from('10.9.9.1, 203.0.113.23'), from('203.0.113.23'), from('unknown, 203.0.113.23')],
      request: from('198.51.100.1, 10.0.0.1, 203.0.113.23'),
      expect: refused('minute', 60),
    },
    {
      name: 'an IPv6 client is keyed by its /64, never by the whole address',
      before: [
        from('2001:db8:1:6::1'),
        from('2001:DB8:1:6:ffff:ffff:ffff:ffff'),
        from('[2001:db8:1:6:0:0:0:2]:8080'),
      ],
      request: from('2001:0db8:0001:0006:abcd::9'),
      expect: refused('minute', 60),
    },
    {
      name: 'an IPv4-mapped address shares the bucket of its IPv4 address',
      before: [
        step(from('203.0.113.9'), admitted('"minute";r=2;t=60')),
        step(from('::ffff:203.0.113.9'), {
          ...admitted('"minute";r=1;t=60'),
          body: sees({ clientIp: '203.0.113.9' }),
        }),
        step(from('::FFFF:cb00:7109'), admitted('"minute";r=0;t=60')),
      ],
      request: from('203.0.113.9'),
      expect: refused('minute', 60),
    },
  ]),
};

/**
 * A thousand requests per framework take seconds, and the frameworks run one after the other: with a
 * running clock the seconds left in the window (`t`) depend on how fast each framework got through
 * them (594 on one, 597 on the next, beyond the one-second tolerance). These scenarios run with the
 * clock stopped (see rate-limit.test.ts), so `t` is exactly the window on every framework.
 */
export const slash64Suite: Suite = {
  name: 'rate limit: IPv6 /64 buckets (clock stopped)',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'slash64',
        key: 'ip',
        limits: [{ name: 'minute', points: 3, duration: 60 }],
        routes: [
          HELLO_EXEMPT,
          { path: '/view/v6/*', limits: [{ name: 'v6', points: V6_POINTS, duration: 600 }] },
        ],
      }),
    ],
  },
  scenarios: [
    {
      name: `${V6_POINTS + 1} IPv6 addresses inside one /64 share one bucket: the last is refused`,
      before: times(V6_POINTS, (i) =>
        step(from(inSlash64('2001:db8:1:2', i), '/view/v6/a'), {
          status: 200,
          headers: { ratelimit: `"v6";r=${V6_POINTS - 1 - i};t=600` },
        }),
      ),
      request: from(inSlash64('2001:db8:1:2', V6_POINTS), '/view/v6/a'),
      expect: {
        status: 429,
        problem: 'GH_RATE_LIMITED',
        headers: { 'retry-after': '600', ratelimit: '"v6";r=0;t=600' },
      },
    },
    {
      name: 'an address in the neighbouring /64 has its own bucket',
      before: times(V6_POINTS + 1, (i) => from(inSlash64('2001:db8:1:4', i), '/view/v6/b')),
      request: from('2001:db8:1:5::1', '/view/v6/b'),
      expect: {
        status: 200,
        headers: { ratelimit: `"v6";r=${V6_POINTS - 1};t=600`, 'retry-after': null },
      },
    },
  ],
};

const KEY_A = 'Tenant-Key-A';

export const apiKeySuite: Suite = {
  name: "rate limit: key 'api-key'",
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'api-keys',
        key: 'api-key',
        limits: [{ name: 'minute', points: 3, duration: 60 }],
        routes: [HELLO_EXEMPT],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'x-api-key values differing by case and surrounding whitespace share one bucket',
      before: [
        step(from('203.0.113.30', '/view/x', { 'x-api-key': KEY_A }), admitted('"minute";r=2;t=60')),
        step(
          from('203.0.113.31', '/view/x', { 'x-api-key': `   ${KEY_A.toLowerCase()}` }),
          admitted('"minute";r=1;t=60'),
        ),
        step(
          from('203.0.113.32', '/view/x', { 'x-api-key': `${KEY_A.toUpperCase()}\t \t` }),
          admitted('"minute";r=0;t=60'),
        ),
      ],
      request: {
        raw: `GET /view/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-api-key:\t tenant-KEY-a \r\n\r\n`,
      },
      expect: { ...refused('minute', 60), absent: [KEY_A, KEY_A.toLowerCase(), KEY_A.toUpperCase()] },
    },
    {
      name: 'another key (one character apart) has its own bucket',
      before: times(4, () => from('203.0.113.33', '/view/x', { 'x-api-key': 'Tenant-Key-B' })),
      request: from('203.0.113.33', '/view/x', { 'x-api-key': 'Tenant-Key-C' }),
      expect: admitted('"minute";r=2;t=60'),
    },
    {
      name: 'an empty or blank x-api-key counts against the client address',
      before: [
        step(from('203.0.113.34', '/view/x', { 'x-api-key': '' }), admitted('"minute";r=2;t=60')),
        step(from('203.0.113.34', '/view/x', { 'x-api-key': '   ' }), admitted('"minute";r=1;t=60')),
        step(from('203.0.113.34'), admitted('"minute";r=0;t=60')),
      ],
      request: from('203.0.113.34', '/view/x', { 'x-api-key': '' }),
      expect: refused('minute', 60),
    },
    {
      name: 'a key with odd bytes (obs-text) is answered normally and counted',
      before: [from('203.0.113.35', '/view/x', { 'x-api-key': 'k\xe9y\xff\x80' })],
      request: from('203.0.113.36', '/view/x', { 'x-api-key': 'K\xe9Y\xff\x80' }),
      expect: admitted('"minute";r=1;t=60'),
    },
  ]),
};

const TENANT_10K = `t${'x'.repeat(10_000)}`;

export const compositeSuite: Suite = {
  name: 'rate limit: composite key (address and x-tenant)',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'composite',
        key: ['ip', { header: 'x-tenant' }],
        limits: [{ name: 'minute', points: 2, duration: 60 }],
        routes: [HELLO_EXEMPT],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'the same address and tenant share a bucket',
      before: times(2, () => step(from('203.0.113.40', '/view/x', { 'x-tenant': 'acme' }), { status: 200 })),
      request: from('203.0.113.40', '/view/x', { 'x-tenant': 'acme' }),
      expect: refused('minute', 60),
    },
    {
      name: 'the same tenant from another address has its own bucket',
      before: times(3, () => from('203.0.113.41', '/view/x', { 'x-tenant': 'globex' })),
      request: from('203.0.113.42', '/view/x', { 'x-tenant': 'globex' }),
      expect: admitted('"minute";r=1;t=60'),
    },
    {
      name: 'another tenant from the same address has its own bucket',
      before: times(3, () => from('203.0.113.43', '/view/x', { 'x-tenant': 'initech' })),
      request: from('203.0.113.43', '/view/x', { 'x-tenant': 'hooli' }),
      expect: admitted('"minute";r=1;t=60'),
    },
    {
      name: 'a 10 kB x-tenant is answered normally and still counted',
      before: [
        step(from('203.0.113.44', '/view/x', { 'x-tenant': TENANT_10K }), admitted('"minute";r=1;t=60')),
      ],
      request: from('203.0.113.44', '/view/x', { 'x-tenant': TENANT_10K }),
      expect: admitted('"minute";r=0;t=60'),
    },
    {
      name: 'two 10 kB tenants differing in the last byte have their own buckets',
      before: times(3, () => from('203.0.113.45', '/view/x', { 'x-tenant': TENANT_10K })),
      request: from('203.0.113.45', '/view/x', { 'x-tenant': `${TENANT_10K.slice(0, -1)}y` }),
      expect: admitted('"minute";r=1;t=60'),
    },
    {
      name: 'an x-tenant with odd bytes is answered normally',
      request: from('203.0.113.46', '/view/x', { 'x-tenant': 'caf\xe9\xff\x80~' }),
      expect: admitted('"minute";r=1;t=60'),
    },
    {
      name: 'an x-tenant with a control character is refused by the HTTP parser, not the limiter',
      request: { raw: 'GET /view/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-tenant: a\x01b\r\n\r\n' },
      expect: { status: 400, problem: 'GH_REQUEST_MALFORMED' },
    },
    {
      name: 'a blank x-tenant counts against the address alone, like a missing one',
      before: [from('203.0.113.47', '/view/x', { 'x-tenant': ' ' })],
      request: from('203.0.113.47'),
      expect: admitted('"minute";r=0;t=60'),
    },
  ]),
};

// ─── principals and tiers (the real auth()) ─────────────────────────────────────────────────────

const PRO = '"burst";q=5;w=10, "minute";q=20;w=60';
const FREE = '"minute";q=2;w=60';
const KEYS = {
  acme1: 'ak_acme_one_7Qm2x',
  acme2: 'ak_acme_two_Zr41k',
  globex: 'ak_globex_Vb0xf3',
  initech: 'ak_initech_p9Lw2',
  umbrella: 'ak_umbrella_Yt6q',
  hooli: 'ak_hooli_gold_N3s',
  piedpiper: 'ak_piedpiper_H8d',
} as const;

export const tiersSuite: Suite = {
  name: 'rate limit: principals and tiers from auth()',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.auth({
        methods: [
          apiKeyAuthenticator({
            keys: [
              { key: KEYS.acme1, id: 'acme', tier: 'pro' },
              { key: KEYS.acme2, id: 'acme', tier: 'pro' },
              { key: KEYS.globex, id: 'globex', tier: 'pro' },
              { key: KEYS.initech, id: 'initech' },
              { key: KEYS.umbrella, id: 'umbrella' },
              { key: KEYS.hooli, id: 'hooli', tier: 'gold' },
              { key: KEYS.piedpiper, id: 'piedpiper' },
            ],
          }),
        ],
        default: 'anonymous',
      }),
      gw.rateLimit({
        name: 'tiers',
        tiers: {
          free: [{ name: 'minute', points: 2, duration: 60 }],
          pro: [
            { name: 'burst', points: 5, duration: 10 },
            { name: 'minute', points: 20, duration: 60 },
          ],
        },
        defaultTier: 'free',
        routes: [HELLO_EXEMPT],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: "a 'pro' key gets the pro windows",
      request: from('203.0.113.50', '/view/x', { 'x-api-key': KEYS.globex }),
      expect: {
        ...admitted('"burst";r=4;t=10, "minute";r=19;t=60', PRO),
        body: (body: { principal?: { id?: string } }) => expect(body.principal?.id).toBe('globex'),
      },
    },
    {
      name: 'a principal is one bucket whatever its address and whichever of its keys it uses',
      before: [
        ...times(3, (i) =>
          step(from(`198.51.100.${50 + i}`, '/view/x', { 'x-api-key': KEYS.acme1 }), { status: 200 }),
        ),
        step(
          from('198.51.100.60', '/view/x', { 'x-api-key': KEYS.acme2 }),
          admitted('"burst";r=1;t=10, "minute";r=16;t=60', PRO),
        ),
        step(
          from('2001:db8:77::1', '/view/x', { 'x-api-key': KEYS.acme2 }),
          admitted('"burst";r=0;t=10, "minute";r=15;t=60', PRO),
        ),
      ],
      request: from('192.0.2.50', '/view/x', { 'x-api-key': KEYS.acme1 }),
      expect: { ...refused('burst', 10, { 'ratelimit-policy': PRO }), absent: [KEYS.acme1] },
    },
    {
      name: 'a key without a tier gets the default tier',
      before: times(2, (i) =>
        step(
          from('203.0.113.51', '/view/x', { 'x-api-key': KEYS.initech }),
          admitted(`"minute";r=${1 - i};t=60`, FREE),
        ),
      ),
      request: from('203.0.113.51', '/view/x', { 'x-api-key': KEYS.initech }),
      expect: refused('minute', 60, { 'ratelimit-policy': FREE }),
    },
    {
      name: 'a tier that names no configured tier gets the default tier',
      request: from('203.0.113.52', '/view/x', { 'x-api-key': KEYS.hooli }),
      expect: admitted('"minute";r=1;t=60', FREE),
    },
    {
      name: 'anonymous requests get the default tier, keyed by their address',
      before: times(2, () =>
        step(from('203.0.113.53'), { status: 200, headers: { 'ratelimit-policy': FREE } }),
      ),
      request: from('203.0.113.53'),
      expect: refused('minute', 60, { 'ratelimit-policy': FREE }),
    },
    {
      name: 'a principal does not share the bucket of anonymous callers at its address',
      before: times(3, () => from('203.0.113.54')),
      request: from('203.0.113.54', '/view/x', { 'x-api-key': KEYS.umbrella }),
      expect: admitted('"minute";r=1;t=60', FREE),
    },
    {
      name: 'anonymous callers do not share the bucket of a principal at their address',
      before: times(3, () => from('203.0.113.55', '/view/x', { 'x-api-key': KEYS.piedpiper })),
      request: from('203.0.113.55'),
      expect: admitted('"minute";r=1;t=60', FREE),
    },
    {
      name: 'a wrong key is refused by auth() before it spends anything',
      request: from('203.0.113.56', '/view/x', { 'x-api-key': 'ak_nobody_000000' }),
      expect: { status: 401, problem: 'GH_AUTH_INVALID', headers: { ratelimit: null } },
    },
  ]),
};

// ─── 3. policies ────────────────────────────────────────────────────────────────────────────────

/** Points a request spends: `?items=N` (a bulk call), else 1; `?items=throw` makes it throw. */
const itemsCost = (exchange: Exchange) => {
  const items = exchange.query.get('items');
  if (items === 'throw') throw new Error('the cost function failed');
  return items === null ? 1 : Number(items);
};

export const costSuite: Suite = {
  name: 'rate limit: cost as a function of the exchange',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'cost',
        key: 'ip',
        cost: itemsCost,
        limits: [{ name: 'minute', points: 5, duration: 60 }],
        routes: [HELLO_EXEMPT],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'a request spends its cost',
      request: from('203.0.113.60', '/view/x?items=3'),
      expect: admitted('"minute";r=2;t=60'),
    },
    {
      name: 'a request costing more than what is left is refused',
      before: [step(from('203.0.113.61', '/view/x?items=3'), admitted('"minute";r=2;t=60'))],
      request: from('203.0.113.61', '/view/x?items=3'),
      expect: refused('minute', 60, { ratelimit: new RegExp(`^"minute";r=0;t=${left(60)}$`) }),
    },
    {
      name: 'a request costing more than the whole window is refused at once',
      request: from('203.0.113.62', '/view/x?items=6'),
      expect: refused('minute', 60),
    },
    {
      name: 'a request costing nothing is admitted on a spent bucket',
      before: [step(from('203.0.113.63', '/view/x?items=5'), admitted('"minute";r=0;t=60'))],
      request: from('203.0.113.63', '/view/x?items=0'),
      expect: { status: 200, headers: { 'retry-after': null } },
    },
    ...[
      ['not a number', 'abc', 4],
      ['negative', '-2', 4],
      ['fractional', '1.5', 4],
      ['thrown', 'throw', 4],
      ['zero from an empty value', '', 5],
    ].map(
      ([label, items, remaining], i): Scenario => ({
        name: `a cost that is ${label} is admitted as ${remaining === 5 ? 'free' : 'costing 1'}`,
        request: from(`203.0.113.${64 + i}`, `/view/x?items=${items}`),
        expect: remaining === 5 ? { status: 200 } : admitted(`"minute";r=${remaining};t=60`),
      }),
    ),
  ]),
};

export const quotaSuite: Suite = {
  name: 'rate limit: calendar quotas',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'quota',
        key: 'ip',
        limits: [
          { name: 'daily', points: 100, per: 'day' },
          { name: 'monthly', points: 1000, per: 'month' },
        ],
        routes: [HELLO_EXEMPT, { path: '/view/small/*', limits: [{ name: 'daily', points: 2, per: 'day' }] }],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'a daily quota: w=86400 and t is the seconds until the next UTC midnight (monthly: the 1st)',
      request: from('203.0.113.70'),
      expect: {
        status: 200,
        headers: {
          'ratelimit-policy': '"daily";q=100;w=86400, "monthly";q=1000;w=2678400',
          ratelimit: /^"daily";r=99;t=\d+, "monthly";r=999;t=\d+$/,
        },
        body: (_body: unknown, res: RawResponse) => {
          const field = res.headers.ratelimit?.[0] ?? '';
          const [daily, monthly] = [...field.matchAll(/;t=(\d+)/g)].map((m) => Number(m[1]));
          const now = new Date();
          const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
          const firstOfMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
          expect(Math.abs(daily! - (midnight - now.getTime()) / 1000)).toBeLessThan(3);
          expect(Math.abs(monthly! - (firstOfMonth - now.getTime()) / 1000)).toBeLessThan(3);
        },
      },
    },
    {
      name: 'a spent daily quota → 429 with Retry-After until the next UTC midnight',
      before: times(2, () => step(from('203.0.113.71', '/view/small/x'), { status: 200 })),
      request: from('203.0.113.71', '/view/small/x'),
      expect: {
        status: 429,
        problem: 'GH_RATE_LIMITED',
        headers: { 'ratelimit-policy': '"daily";q=2;w=86400', ratelimit: /^"daily";r=0;t=\d+$/ },
        body: (body: { policy?: string }, res: RawResponse) => {
          expect(body.policy).toBe('daily');
          const now = Date.now();
          const midnight = new Date(now).setUTCHours(24, 0, 0, 0);
          const retryAfter = Number(res.headers['retry-after']?.[0]);
          expect(Math.abs(retryAfter - (midnight - now) / 1000)).toBeLessThan(3);
          expect(retryAfter).toBeGreaterThanOrEqual(1);
        },
      },
    },
  ]),
};

/**
 * Every spelling of `/view/search` that normalizes to it. The router dispatches on the canonical path
 * Gatehouse decided on (`req.url` is rewritten), so every spelling reaches the `/view` handler, and the
 * limiter counts them all against the one route.
 */
const SEARCH_SPELLINGS = [
  '/view/search',
  '/view/Search/',
  '//view//search',
  '/view/x/../search',
  '/view/search;jsessionid=1',
];

export const routesSuite: Suite = {
  name: 'rate limit: per-route rules on the normalized path',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'routes',
        key: 'ip',
        limits: [{ name: 'all', points: 50, duration: 60 }],
        routes: [
          HELLO_EXEMPT,
          {
            path: '/view/search',
            limits: [{ name: 'search', points: SEARCH_SPELLINGS.length, duration: 60 }],
          },
          { path: '/view/health', exempt: true },
          {
            path: '/view/orders/:id',
            methods: ['POST'],
            limits: [{ name: 'writes', points: 1, duration: 60 }],
          },
        ],
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'a route rule replaces the top-level policy',
      request: from('203.0.113.80', '/view/search'),
      expect: admitted(
        `"search";r=${SEARCH_SPELLINGS.length - 1};t=60`,
        `"search";q=${SEARCH_SPELLINGS.length};w=60`,
      ),
    },
    {
      name: `${SEARCH_SPELLINGS.join(', ')} all count against the one route bucket`,
      before: SEARCH_SPELLINGS.map((path, i) =>
        step(from('203.0.113.81', path), {
          status: 200,
          headers: { ratelimit: new RegExp(`^"search";r=${SEARCH_SPELLINGS.length - 1 - i};t=${left(60)}$`) },
        }),
      ),
      request: from('203.0.113.81', '/view/%73earch'),
      expect: refused('search', 60, { 'ratelimit-policy': `"search";q=${SEARCH_SPELLINGS.length};w=60` }),
    },
    {
      name: 'a path that only starts like the rule gets the top-level policy',
      before: times(SEARCH_SPELLINGS.length + 1, () => from('203.0.113.82', '/view/search')),
      request: from('203.0.113.82', '/view/searching'),
      expect: admitted('"all";r=49;t=60', '"all";q=50;w=60'),
    },
    {
      name: 'an exempt route gets no headers and is never limited, however it is spelled',
      before: ['/view/health', '/VIEW/Health/', '//view/./health', '/view/health', '/view/health'].map(
        (path) =>
          step(from('203.0.113.83', path), {
            status: 200,
            headers: { ratelimit: null, 'ratelimit-policy': null },
          }),
      ),
      request: from('203.0.113.83', '/view/health'),
      expect: { status: 200, headers: { ratelimit: null, 'ratelimit-policy': null, 'retry-after': null } },
    },
    {
      name: 'a rule limited to POST: another POST to the route is refused',
      before: [
        step(
          { ...from('203.0.113.84', '/view/orders/1'), method: 'POST', body: '{}' },
          admitted('"writes";r=0;t=60'),
        ),
      ],
      request: { ...from('203.0.113.84', '/view/orders/2'), method: 'POST', body: '{}' },
      expect: refused('writes', 60),
    },
    {
      name: 'a rule limited to POST: GET on the route gets the top-level policy',
      before: [{ ...from('203.0.113.85', '/view/orders/1'), method: 'POST', body: '{}' }],
      request: from('203.0.113.85', '/view/orders/1'),
      expect: admitted('"all";r=49;t=60'),
    },
  ]),
};

export const exemptSuite: Suite = {
  name: 'rate limit: exempt addresses',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'exempt',
        key: 'ip',
        limits: [{ name: 'minute', points: 1, duration: 60 }],
        exempt: { ips: ['loopback', '198.51.100.0/24'] },
      }),
    ],
  },
  scenarios: withClock([
    {
      name: 'the loopback peer (no forwarding header) is exempt: no headers, never limited',
      before: times(3, () => step(get('/view/x'), { status: 200, headers: { ratelimit: null } })),
      request: get('/view/x'),
      expect: { status: 200, headers: { ratelimit: null, 'ratelimit-policy': null, 'retry-after': null } },
    },
    {
      name: 'a loopback client behind the trusted proxy is exempt, in IPv4-mapped form too',
      before: [from('127.0.0.9'), from('::ffff:127.0.0.9'), from('::1')],
      request: from('127.0.0.9'),
      expect: { status: 200, headers: { ratelimit: null } },
    },
    {
      name: 'a client in an exempt range is exempt',
      before: times(2, () => from('198.51.100.77')),
      request: from('198.51.100.77'),
      expect: { status: 200, headers: { ratelimit: null } },
    },
    {
      name: 'any other client is limited',
      before: [step(from('203.0.113.90'), admitted('"minute";r=0;t=60', '"minute";q=1;w=60'))],
      request: from('203.0.113.90'),
      expect: refused('minute', 60),
    },
  ]),
};

const modeLimit = <M>(gw: FrameworkGateway<M>, headers: RateLimitOptions['headers']) =>
  gw.rateLimit({
    name: `mode-${headers}`,
    key: 'ip',
    headers,
    limits: [{ name: 'minute', points: 2, duration: 60 }],
  });

/** X-RateLimit-Reset is an epoch second: within the window from now. */
const resetWithin = (seconds: number) => (_body: unknown, res: RawResponse) => {
  const reset = Number(res.headers['x-ratelimit-reset']?.[0]);
  const now = Date.now() / 1000;
  expect(reset).toBeGreaterThan(now);
  expect(reset).toBeLessThanOrEqual(Math.ceil(now) + seconds);
};
const NO_LEGACY = { 'x-ratelimit-limit': null, 'x-ratelimit-remaining': null, 'x-ratelimit-reset': null };
const NO_IETF = { ratelimit: null, 'ratelimit-policy': null };

export const headerModesSuite: Suite = {
  name: "rate limit: headers 'legacy', 'both' and 'none' (route-level limiters)",
  app: {
    config: TRUST_LOOPBACK,
    guards: (gw) => ({
      legacy: [modeLimit(gw, 'legacy')],
      both: [modeLimit(gw, 'both')],
      none: [modeLimit(gw, 'none')],
    }),
  },
  scenarios: withClock([
    {
      name: "'legacy': X-RateLimit-Limit/-Remaining/-Reset and no IETF fields",
      request: from('203.0.113.100', '/guarded/legacy'),
      expect: {
        status: 200,
        headers: {
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '1',
          'x-ratelimit-reset': /^\d+$/,
          ...NO_IETF,
        },
        body: resetWithin(60),
      },
    },
    {
      name: "'legacy': a refusal has Remaining 0 and Retry-After",
      before: times(2, () => from('203.0.113.101', '/guarded/legacy')),
      request: from('203.0.113.101', '/guarded/legacy'),
      expect: {
        ...refused('minute', 60, { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', ...NO_IETF }),
      },
    },
    {
      name: "'both': the IETF fields and the legacy headers",
      request: from('203.0.113.102', '/guarded/both'),
      expect: {
        ...admitted('"minute";r=1;t=60', '"minute";q=2;w=60', {
          'x-ratelimit-limit': '2',
          'x-ratelimit-remaining': '1',
        }),
        body: resetWithin(60),
      },
    },
    {
      name: "'both': a refusal carries both",
      before: times(2, () => from('203.0.113.103', '/guarded/both')),
      request: from('203.0.113.103', '/guarded/both'),
      expect: refused('minute', 60, {
        ratelimit: new RegExp(`^"minute";r=0;t=${left(60)}$`),
        'x-ratelimit-remaining': '0',
      }),
    },
    {
      name: "'none': an admitted request carries no rate-limit header",
      request: from('203.0.113.104', '/guarded/none'),
      expect: { status: 200, headers: { ...NO_IETF, ...NO_LEGACY, 'retry-after': null } },
    },
    {
      name: "'none': a refusal carries only Retry-After",
      before: times(2, () => from('203.0.113.105', '/guarded/none')),
      request: from('203.0.113.105', '/guarded/none'),
      expect: refused('minute', 60, { ...NO_IETF, ...NO_LEGACY }),
    },
  ]),
};

export const routeLevelSuite: Suite = {
  name: 'rate limit: route-level limiters behind an app-level one',
  app: {
    config: TRUST_LOOPBACK,
    chain: (gw) => [
      gw.rateLimit({
        name: 'app',
        key: 'ip',
        limits: [{ name: 'app', points: 100, duration: 60 }],
        routes: [HELLO_EXEMPT],
      }),
    ],
    guards: (gw) => {
      const perRoute = gw.rateLimit({
        name: 'per-route',
        key: ['route', 'ip'],
        limits: [{ name: 'route', points: 2, duration: 60 }],
      });
      return { 'route-a': [perRoute], 'route-b': [perRoute] };
    },
  },
  scenarios: withClock([
    {
      name: "one limiter on two routes with key 'route': a route's bucket is spent",
      before: times(2, () => step(from('203.0.113.110', '/guarded/route-a'), { status: 200 })),
      request: from('203.0.113.110', '/guarded/route-a'),
      expect: refused('route', 60),
    },
    {
      name: "one limiter on two routes with key 'route': the other route has its own bucket",
      before: times(3, () => from('203.0.113.111', '/guarded/route-a')),
      request: from('203.0.113.111', '/guarded/route-b'),
      expect: { status: 200, headers: { ratelimit: new RegExp(`"route";r=1;t=${left(60)}`) } },
    },
    {
      name: 'both limiters report: their RateLimit and RateLimit-Policy items are merged into one list each',
      request: from('203.0.113.113', '/guarded/route-a'),
      expect: {
        status: 200,
        headers: {
          ratelimit: new RegExp(`^"app";r=99;t=${left(60)}, "route";r=1;t=${left(60)}$`),
          'ratelimit-policy': '"app";q=100;w=60, "route";q=2;w=60',
        },
      },
    },
    {
      name: 'requests to guarded routes spend the app-level limit too',
      before: times(3, () => from('203.0.113.112', '/guarded/route-a')),
      request: from('203.0.113.112'),
      expect: admitted('"app";r=96;t=60', '"app";q=100;w=60'),
    },
  ]),
};

export const rateLimitSuites: Suite[] = [
  windowsSuite,
  untrustedSuite,
  keysSuite,
  apiKeySuite,
  compositeSuite,
  tiersSuite,
  costSuite,
  quotaSuite,
  routesSuite,
  exemptSuite,
  headerModesSuite,
  routeLevelSuite,
];
