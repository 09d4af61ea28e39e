// Every capability a gateway builds checks its options when the method runs, the same way on every
// framework: one ConfigError with every problem, its path and a did-you-mean, never a TypeError and
// never a silently ignored key.
import { ConfigError } from '@gatehousejs/core';
import { describe, expect, test } from 'vitest';
import { FRAMEWORKS, gatewayOf } from '../support/apps.js';

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

const config = { services: { orders: { url: 'http://127.0.0.1:1' }, users: { url: 'http://127.0.0.1:2' } } };

describe.each(FRAMEWORKS)('on %s', (framework) => {
  test('gw.client(): an unknown service gets the closest name; bad options are one ConfigError', () => {
    const gw = gatewayOf(framework, config);
    expect(problemsOf(() => gw.client('ordrs'))).toEqual([
      "client(ordrs): no service by this name in the configuration — did you mean 'orders'? (services: orders, users)",
    ]);
    expect(
      problemsOf(() =>
        gw.client('orders', { breaker: { servce: false }, retry: { maxAttempts: '3' } } as never),
      ),
    ).toEqual([
      "client(orders).breaker.servce: unknown option; did you mean 'service'?",
      "client(orders).retry.maxAttempts: expected an integer, received the string '3'",
    ]);
  });

  test('gw.tracing(), gw.accessLog(), gw.deadline(): ConfigError, not TypeError', () => {
    const gw = gatewayOf(framework, config);
    expect(problemsOf(() => gw.tracing({ propagators: ['b3', 'w3c'] } as never))).toEqual([
      "tracing.propagators[1]: expected one of 'tracecontext', 'baggage', 'b3' or 'b3multi', received the string 'w3c'",
    ]);
    expect(problemsOf(() => gw.accessLog({ header: ['x-tenant'] } as never))).toEqual([
      "accessLog.header: unknown option; did you mean 'headers'?",
    ]);
    expect(problemsOf(() => gw.deadline({ maxMS: 5_000 } as never))).toEqual([
      "deadline.maxMS: unknown option; did you mean 'maxMs'?",
    ]);
  });

  test('gw.routes() and gw.route(): a mistyped mode and a pattern that can never match', () => {
    const gw = gatewayOf(framework, config);
    expect(
      problemsOf(() => gw.route({ path: '/orders/', service: 'orders', mode: 'shadw' } as never)),
    ).toEqual([
      "routes[0].path: must not end with '/': a normalized path never does, so it would never match — did you mean '/orders' (that path) or '/orders/*' (it and everything below)?",
      "routes[0].mode: expected one of 'local', 'shadow', 'split', 'fallback' or 'remote', received the string 'shadw' — did you mean 'shadow'?",
    ]);
    expect(problemsOf(() => gw.routes({ tabel: [] } as never))).toEqual([
      "routes.tabel: unknown option; did you mean 'table'?",
    ]);
  });

  test('gw.auth() and gw.rateLimit(): rules ending in a slash and mistyped words are refused with suggestions', () => {
    const gw = gatewayOf(framework, config);
    expect(
      problemsOf(() =>
        gw.auth({
          methods: [],
          default: 'anonymus',
          rules: [{ path: '/admin/', roles: ['admin'] }],
        } as never),
      ),
    ).toEqual([
      'auth.methods: at least one authentication method is needed for routes that are not anonymous',
      "auth.default: expected 'authenticated', 'anonymous', 'deny' or an object, received the string 'anonymus' — did you mean 'anonymous'?",
      "auth.rules[0].path: must not end with '/': a normalized path never does, so it would never match — did you mean '/admin' (that path) or '/admin/*' (it and everything below)?",
    ]);
    expect(
      problemsOf(() =>
        gw.rateLimit({ limits: [{ points: 10, duration: '1.5s' }], headers: 'itef' } as never),
      ),
    ).toEqual([
      "rateLimit.limits[0].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string '1.5s'",
      "rateLimit.headers: expected one of 'ietf', 'legacy', 'both' or 'none', received the string 'itef' — did you mean 'ietf'?",
    ]);
  });
});
