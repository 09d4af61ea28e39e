import { ConfigError } from '@gatehousejs/core';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { type Duration, durationMs } from './duration.js';
import { rateLimitOptionsSchema } from './options.js';
import { createOutboundLimiter } from './outbound.js';
import { type RateLimit, rateLimit } from './rate-limit.js';
import { memoryStore, redisStore } from './store.js';

/** The problems of the one ConfigError `make` throws, as `path: message` lines. */
function problemsOf(make: () => unknown): string[] {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return (thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
}

const limiters: RateLimit[] = [];
const made = (limiter: RateLimit) => {
  limiters.push(limiter);
  return limiter;
};

describe('rateLimit options', () => {
  test('unknown keys and wrong types at every depth are one ConfigError with paths and suggestions', () => {
    expect(
      problemsOf(() =>
        rateLimit({
          limts: [],
          tiers: {
            free: [
              { points: -1, duration: '1m' },
              { points: 5, duration: '1.5s' },
            ],
            pro: [{ points: 5, duraton: '1s' }],
          },
          defaultTier: 'gold',
          key: ['ip', 'principle', { header: 'x tenant' }],
          ipv6Prefix: 0,
          cost: 'free',
          exempt: { ips: ['10.0.0.0/99'], when: 'always' },
          concurrency: { perkey: 1 },
          headers: 'itef',
          routes: [{ path: '/search/', metods: ['GET'], limits: [{ points: 1, per: 'fortnight' }] }],
          store: {},
        } as never),
      ),
    ).toEqual([
      "rateLimit.limts: unknown option; did you mean 'limits'?",
      'rateLimit.tiers.free[0].points: expected a number > 0, received the number -1',
      "rateLimit.tiers.free[1].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string '1.5s'",
      "rateLimit.tiers.pro[0]: give exactly one of 'duration' (a rolling window) or 'per' (a calendar quota)",
      "rateLimit.tiers.pro[0].duraton: unknown option; did you mean 'duration'?",
      "rateLimit.defaultTier: unknown tier 'gold' in tiers; expected one of free, pro",
      "rateLimit.key[1]: must be 'ip', 'principal', 'api-key', 'route', { header: name } or a function of the exchange, received 'principle' — did you mean 'principal'?",
      'rateLimit.key[2].header: expected a header name',
      'rateLimit.ipv6Prefix: expected a number ≥ 1, received the number 0',
      "rateLimit.cost: expected an integer or a function of the exchange, received the string 'free'",
      "rateLimit.exempt.ips: invalid prefix length in '10.0.0.0/99'",
      "rateLimit.exempt.when: expected a function of the exchange, received the string 'always'",
      "rateLimit.concurrency: give 'perKey', 'global' or both",
      "rateLimit.concurrency.perkey: unknown option; did you mean 'perKey'?",
      "rateLimit.headers: expected one of 'ietf', 'legacy', 'both' or 'none', received the string 'itef' — did you mean 'ietf'?",
      "rateLimit.routes[0].path: must not end with '/': a normalized path never does, so it would never match — did you mean '/search' (that path) or '/search/*' (it and everything below)?",
      "rateLimit.routes[0].metods: unknown option; did you mean 'methods'?",
      "rateLimit.routes[0].limits[0].per: expected one of 'hour', 'day', 'week' or 'month', received the string 'fortnight'",
      'rateLimit.store: expected a store such as memoryStore() or redisStore({ url }), received an object',
    ]);
  });

  test('checks across options: limits and tiers, defaultTier, window names, limiting nothing', () => {
    expect(problemsOf(() => rateLimit({}))).toEqual([
      "rateLimit: limits nothing: give 'limits', 'tiers', 'routes', 'concurrency' or 'shed'",
    ]);
    expect(
      problemsOf(() =>
        rateLimit({
          limits: [{ points: 1, duration: 60 }],
          tiers: {
            free: [
              { points: 1, duration: '1m' },
              { points: 2, duration: 60 },
            ],
          },
        }),
      ),
    ).toEqual([
      // A problem of a key not given comes first, with the options object's own.
      'rateLimit.defaultTier: is required with tiers (one of free)',
      "rateLimit.limits: give either 'limits' or 'tiers', not both",
      "rateLimit.tiers.free[1].name: '60s' names two windows of one policy; give each a distinct name",
    ]);
    expect(
      problemsOf(() => rateLimit({ limits: [{ points: 1, duration: 1 }], defaultTier: 'free' })),
    ).toEqual(["rateLimit.defaultTier: has no effect without 'tiers'"]);
  });

  test('a valid policy compiles', async () => {
    const limiter = made(
      rateLimit({
        limits: [{ points: 10, duration: '1s' }],
        routes: [
          { path: '/search/*', methods: ['GET'], limits: [{ name: 'search', points: 2, per: 'hour' }] },
        ],
        exempt: { ips: ['loopback'] },
      }),
    );
    expect(limiter.name).toBe('rateLimit(default)');
    for (const l of limiters) await l.close();
  });
});

describe('createOutboundLimiter options', () => {
  test('every problem in one ConfigError', () => {
    expect(
      problemsOf(() =>
        createOutboundLimiter({
          limits: [{ points: 0, duration: 'soon' }, { points: 1 }],
          maxConcurrent: -1,
          maxWait: 5,
        } as never),
      ),
    ).toEqual([
      'outboundLimiter.limits[0].points: expected a number > 0, received the number 0',
      "outboundLimiter.limits[0].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string 'soon'",
      "outboundLimiter.limits[1].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received undefined",
      'outboundLimiter.maxConcurrent: expected a number > 0, received the number -1',
      "outboundLimiter.maxWait: unknown option; did you mean 'maxWaitMs'?",
    ]);
    expect(problemsOf(() => createOutboundLimiter({}))).toEqual([
      "outboundLimiter: limits nothing: give 'limits', 'maxConcurrent' or both",
    ]);
  });
});

describe('Duration: the type and the parser agree', () => {
  test('every text the Duration type allows is accepted by the parser and the schema', () => {
    // The type spells out 1 to 999 followed by a unit: the same set, generated here.
    let checked = 0;
    for (let n = 1; n <= 999; n++) {
      for (const [unit, ms] of [
        ['s', 1000],
        ['m', 60_000],
        ['h', 3_600_000],
        ['d', 86_400_000],
      ] as const) {
        const text = `${n}${unit}` as Duration;
        expect(durationMs(text)).toBe(n * ms);
        checked++;
      }
    }
    expect(checked).toBe(3996);
    const window = (duration: Duration) =>
      v.safeParse(rateLimitOptionsSchema, { limits: [{ points: 1, duration }] }).success;
    expect([window('1s'), window('999d'), window(60)]).toEqual([true, true, true]);
  });

  test('what the type refuses, the parser refuses too (and the reverse for texts)', () => {
    // @ts-expect-error not whole seconds
    const fraction: Duration = '1.5s';
    // @ts-expect-error milliseconds are not a unit
    const millis: Duration = '500ms';
    // @ts-expect-error zero
    const zero: Duration = '0s';
    // @ts-expect-error negative
    const negative: Duration = '-1s';
    // @ts-expect-error a leading zero
    const padded: Duration = '01s';
    // @ts-expect-error spaces
    const spaced: Duration = '1 s';
    // @ts-expect-error hexadecimal
    const hex: Duration = '0x10s';
    for (const value of [fraction, millis, zero, negative, padded, spaced, hex, '1e3s', '1S', '']) {
      expect(durationMs(value), String(value)).toBeUndefined();
    }
    // Numbers: TypeScript cannot refuse these, so the options check does, with a suggestion.
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(durationMs(value), String(value)).toBeUndefined();
    }
    expect(problemsOf(() => rateLimit({ limits: [{ points: 1, duration: 1.5 }] }))).toEqual([
      "rateLimit.limits[0].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received 1.5 — did you mean 2 (whole seconds)?",
    ]);
    expect(problemsOf(() => rateLimit({ limits: [{ points: 1, duration: '2000ms' as never }] }))).toEqual([
      "rateLimit.limits[0].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string '2000ms' — did you mean '2s'?",
    ]);
  });

  test('longer texts than the type spells out are still accepted at run time', () => {
    expect(durationMs('3600s')).toBe(3_600_000);
    expect(durationMs(86_400)).toBe(86_400_000);
  });
});

describe('store options', () => {
  test('memoryStore and redisStore check their options the same way', () => {
    expect(problemsOf(() => memoryStore({ maxkeys: 10, sweepIntervalMs: 0 } as never))).toEqual([
      "memoryStore.maxkeys: unknown option; did you mean 'maxKeys'?",
      'memoryStore.sweepIntervalMs: expected a number > 0, received the number 0',
    ]);
    expect(
      problemsOf(() => redisStore({ ulr: 'redis://x', instances: 1.5, timeoutMs: '100' } as never)),
    ).toEqual([
      "redisStore: give 'client' (an ioredis client you own) or 'url'",
      "redisStore.ulr: unknown option; did you mean 'url'?",
      'redisStore.instances: expected an integer, received the number 1.5',
      "redisStore.timeoutMs: expected an integer, received the string '100'",
    ]);
    expect(problemsOf(() => redisStore({ url: 'http://127.0.0.1:6379' }))).toEqual([
      "redisStore.url: expected a redis:// or rediss:// URL such as 'redis://127.0.0.1:6379'",
    ]);
  });
});
