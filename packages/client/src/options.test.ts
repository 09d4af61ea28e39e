import { ConfigError } from '@gatehousejs/core';
import { describe, expect, test } from 'vitest';
import { createClient } from './client.js';
import { deadline } from './deadline.js';
import { resolveClientOptions } from './options.js';

/** The problems of the one ConfigError `make` throws, as `path: message` lines. */
function problems(make: () => unknown): string[] {
  let thrown: unknown;
  try {
    make();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect(thrown).toMatchObject({ code: 'GH_CONFIG_INVALID' });
  return (thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
}

describe('createClient options', () => {
  test('every problem at every depth is listed at once, each with its path and a suggestion', () => {
    expect(
      problems(() =>
        createClient({
          name: 'orders',
          endpoints: ['http://127.0.0.1:1', 'ftp://x'],
          timeout: { totalMs: 5 },
          timeouts: { perTryMs: 0, totalMs: -1, conectMs: 5 },
          retry: { maxAttempts: 1.5, statuses: [200], budget: { ratio: -1 }, backoff: { baseMs: '25ms' } },
          balancer: 'round-robn',
          connections: 0,
          outlier: { maxEjectionPercent: 150 },
          hedge: { delayMs: 0, maxPercent: 0 },
          bulkhead: { maxConcurrent: 0, maxPending: -1 },
          breaker: { endpoint: { mode: 'rates', threshold: 0.5, halfOpenAfter: 10 }, servce: false },
          healthCheck: { path: 'health', intervalMs: '10s' },
          tls: { files: { crt: '/x' }, identity: { dns: 'orders.internal' } },
          deadlineHeader: true,
          tracer: {},
        } as never),
      ),
    ).toEqual([
      "client(orders).endpoints[1]: expected an http(s) URL, received 'ftp://x'",
      "client(orders).timeout: unknown option; did you mean 'timeouts'?",
      'client(orders).timeouts.perTryMs: expected a number > 0, received the number 0',
      'client(orders).timeouts.totalMs: expected a number > 0, received the number -1',
      "client(orders).timeouts.conectMs: unknown option; did you mean 'connectMs'?",
      'client(orders).retry.maxAttempts: expected an integer, received the number 1.5',
      'client(orders).retry.statuses[0]: must be a 4xx or 5xx status',
      'client(orders).retry.budget.ratio: expected a number ≥ 0, received the number -1',
      "client(orders).retry.backoff.baseMs: expected an integer, received the string '25ms'",
      "client(orders).balancer: expected 'p2c', 'round-robin', 'ewma', 'ring-hash' or a Balancer (an object with pick()), received the string 'round-robn' — did you mean 'round-robin'?",
      'client(orders).connections: expected a number > 0, received the number 0',
      'client(orders).outlier.maxEjectionPercent: expected a number ≤ 100, received the number 150',
      'client(orders).hedge.delayMs: expected a number > 0, received the number 0',
      'client(orders).hedge.maxPercent: must be a percentage from 0 (excluded) to 100',
      'client(orders).bulkhead.maxConcurrent: expected a number > 0, received the number 0',
      'client(orders).bulkhead.maxPending: expected a number ≥ 0, received the number -1',
      "client(orders).breaker.endpoint.mode: expected one of 'consecutive' or 'rate', received the string 'rates' — did you mean 'rate'?",
      "client(orders).breaker.endpoint.threshold: in 'consecutive' mode the threshold is a count of failures (a positive integer), received 0.5",
      "client(orders).breaker.endpoint.halfOpenAfter: unknown option; did you mean 'halfOpenAfterMs'?",
      "client(orders).breaker.servce: unknown option; did you mean 'service'?",
      "client(orders).healthCheck.path: expected a string starting with '/', received the string 'health'",
      "client(orders).healthCheck.intervalMs: expected an integer, received the string '10s'",
      "client(orders).tls.files.crt: unknown option; did you mean 'cert'?",
      "client(orders).tls.identity.dns: expected an array, received the string 'orders.internal'",
      'client(orders).deadlineHeader: expected false or a string, received true',
      'client(orders).tracer: expected a tracer with startClientSpan(), received an object',
    ]);
  });

  test('a name and exactly one source of endpoints are required', () => {
    expect(problems(() => createClient({} as never))).toEqual([
      'client(?).name: required: expected a string',
      "client(?): give exactly one of 'resolver' or 'endpoints'",
    ]);
    expect(problems(() => createClient(undefined as never))).toEqual([
      'client(?): required: expected an object',
    ]);
    expect(problems(() => createClient({ name: 'x', endpoints: [] }))).toEqual([
      'client(x).endpoints: must not be empty',
    ]);
  });

  test('wrong types that used to throw a TypeError are problems in the ConfigError', () => {
    expect(
      problems(() =>
        createClient({
          name: 'orders',
          endpoints: ['http://127.0.0.1:1'],
          bulkhead: null,
          hedge: null,
          retry: { statuses: 'all' },
          tls: 5,
        } as never),
      ),
    ).toEqual([
      'client(orders).bulkhead: expected an object, received null',
      'client(orders).hedge: expected an object, received null',
      "client(orders).retry.statuses: expected an array, received the string 'all'",
      'client(orders).tls: expected an object, received the number 5',
    ]);
  });

  test('breaker: false turns both breakers off; the endpoint breaker is on by default', () => {
    const base = { name: 'orders', endpoints: ['http://127.0.0.1:1'] };
    const off = resolveClientOptions({ ...base, breaker: false });
    expect(off.endpointBreaker).toBeUndefined();
    expect(off.serviceBreaker).toBeUndefined();
    const defaults = resolveClientOptions(base);
    expect(defaults.endpointBreaker).toEqual({});
    expect(defaults.serviceBreaker).toBeUndefined();
    const both = resolveClientOptions({ ...base, breaker: { service: { threshold: 3 } } });
    expect(both.endpointBreaker).toEqual({});
    expect(both.serviceBreaker).toEqual({ threshold: 3 });
    expect(
      resolveClientOptions({ ...base, breaker: { endpoint: { mode: 'rate', threshold: 0.25 } } })
        .endpointBreaker,
    ).toEqual({ mode: 'rate', threshold: 0.25 });
  });

  test('breaker: false leaves no circuit on the endpoints of a live client', async () => {
    const client = createClient({ name: 'orders', endpoints: ['http://127.0.0.1:1'], breaker: false });
    try {
      await client.request({ path: '/' }).catch(() => undefined);
      expect(client.stats().endpoints.map((e) => e.circuit)).toEqual(['none']);
    } finally {
      await client.close();
    }
    const withBreaker = createClient({ name: 'orders', endpoints: ['http://127.0.0.1:1'] });
    try {
      await withBreaker.request({ path: '/' }).catch(() => undefined);
      expect(withBreaker.stats().endpoints.map((e) => e.circuit)).toEqual(['closed']);
    } finally {
      await withBreaker.close();
    }
  });

  test('a rate breaker takes a share, a consecutive one a count', () => {
    expect(
      problems(() =>
        createClient({
          name: 'o',
          endpoints: ['http://a'],
          breaker: { service: { mode: 'rate', threshold: 5 } },
        }),
      ),
    ).toEqual([
      "client(o).breaker.service.threshold: in 'rate' mode the threshold is a share of failures from 0 (excluded) to 1, received 5",
    ]);
  });
});

describe('deadline options', () => {
  test('unknown keys and wrong types are one ConfigError with every problem', () => {
    expect(problems(() => deadline({ headr: 'x-deadline', maxMs: '60s' } as never))).toEqual([
      "deadline.headr: unknown option; did you mean 'header'?",
      "deadline.maxMs: expected an integer, received the string '60s'",
    ]);
    expect(problems(() => deadline({ header: 'x deadline', maxMs: 0 }))).toEqual([
      'deadline.header: expected a header name',
      'deadline.maxMs: expected a number > 0, received the number 0',
    ]);
    expect(deadline({ header: 'X-Budget', maxMs: 5 }).name).toBe('deadline');
  });
});
