import { ConfigError } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import { aggregate } from './aggregate.js';
import { createResponseCache } from './response-cache.js';
import { SingleFlight } from './single-flight.js';

const runtime = {
  clientFor: () => {
    throw new Error('not called at start');
  },
  flights: new SingleFlight(),
  cache: () => undefined,
  services: (name: string) => ['orders', 'customers'].includes(name),
};

function problems(run: () => unknown): Array<{ path: string; message: string }> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map(({ path, message }) => ({ path, message }));
  }
  throw new Error('expected a ConfigError');
}

describe('aggregate() options, checked when the factory runs', () => {
  it('lists every problem at once: unknown keys with a suggestion, wrong types, bad pointers', () => {
    const found = problems(() =>
      aggregate(
        {
          path: '/screens/:id',
          timeoutMS: 100,
          calls: {
            order: { service: 'orders', path: '/orders/{/params/id}', polcy: 'optional', concurrency: 0 },
            bad: { service: 'orders', path: 'orders', pick: ['id'] },
          },
        } as never,
        runtime,
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        { path: 'aggregate.timeoutMS', message: "unknown option; did you mean 'timeoutMs'?" },
        { path: 'aggregate.calls.order.polcy', message: "unknown option; did you mean 'policy'?" },
        expect.objectContaining({ path: 'aggregate.calls.order.concurrency' }),
        expect.objectContaining({ path: 'aggregate.calls.bad.path' }),
        expect.objectContaining({ path: 'aggregate.calls.bad.pick[0]' }),
      ]),
    );
    expect(found).toHaveLength(5);
  });

  it('a dependency cycle is a ConfigError naming the cycle', () => {
    const found = problems(() =>
      aggregate(
        {
          calls: {
            a: { service: 'orders', path: '/a/{/c/id}' },
            b: { service: 'orders', path: '/b', dependsOn: ['a'] },
            c: { service: 'orders', path: '/c', dependsOn: ['b'] },
          },
        },
        runtime,
      ),
    );
    expect(found).toEqual([
      { path: 'aggregate.calls.a.dependsOn', message: 'dependency cycle: a → c → b → a' },
    ]);
  });

  it('unknown calls, sources and services are ConfigErrors', () => {
    const found = problems(() =>
      aggregate(
        {
          calls: {
            a: { service: 'ordrs', path: '/a/{/nope/id}', dependsOn: ['ghost'] },
            b: { service: 'orders', path: '/b/{/item/id}' },
            params: { service: 'orders', path: '/p' },
            d: { service: 'orders', path: '/d', batch: { query: 'ids' } },
          },
        },
        runtime,
      ),
    );
    expect(found).toEqual([
      { path: 'aggregate.calls.a.service', message: "unknown service 'ordrs'" },
      { path: 'aggregate.calls.a.dependsOn[0]', message: "unknown call 'ghost'" },
      { path: 'aggregate.calls.a.path', message: "references unknown call or source 'nope'" },
      {
        path: 'aggregate.calls.b.path',
        message: "'/item' is only defined in a call with 'forEach' or 'batch'",
      },
      {
        path: 'aggregate.calls.params',
        message: "'params' is reserved (params, query, headers, principal, item)",
      },
      { path: 'aggregate.calls.d.batch', message: "needs 'forEach' (the collection)" },
    ]);
  });

  it('a valid composition compiles in dependency order', () => {
    const mw = aggregate(
      {
        path: '/screens/:id',
        calls: {
          customer: { service: 'customers', path: '/c/{/order/customerId}' },
          order: { service: 'orders', path: '/o/{/params/id}' },
        },
      },
      runtime,
    );
    expect(mw.composition.calls.map((c) => c.name)).toEqual(['order', 'customer']);
  });
});

describe('cache options', () => {
  it('are checked: unknown keys, a Redis store without a URL, bad numbers', () => {
    const found = problems(() =>
      createResponseCache({ store: 'redis', memroy: {}, maxBodyBytes: -1 } as never),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        { path: 'cache.memroy', message: "unknown option; did you mean 'memory'?" },
        expect.objectContaining({ path: 'cache.maxBodyBytes' }),
        { path: 'cache.redis', message: "store 'redis' needs redis.url or redis.client" },
      ]),
    );
  });

  it('defaults to a bounded memory store', () => {
    const made = createResponseCache();
    expect(made.options).toMatchObject({ store: 'memory', memory: { maxEntries: 10_000 }, coalesce: true });
    expect(made.cache.store.kind).toBe('memory');
  });
});
