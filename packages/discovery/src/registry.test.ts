import { ConfigError } from '@gatehousejs/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint } from './index.js';
import { createRegistry } from './index.js';

const ids = (list: readonly Endpoint[]) => list.map((e) => e.id);

describe('createRegistry', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('tells subscribers when endpoints come and go, and only then', async () => {
    const registry = createRegistry();
    const orders = registry.resolver('orders');
    expect(await orders.ready()).toEqual([]);
    const seen: string[][] = [];
    orders.subscribe((list) => seen.push(ids(list)));

    const dropA = registry.register('orders', 'http://127.0.0.1:3001');
    const dropB = registry.register('orders', { host: '127.0.0.1', port: 3002, weight: 2 });
    registry.register('billing', 'http://127.0.0.1:4001');
    // The same endpoint again, field for field: not a change.
    const dropA2 = registry.register('orders', 'http://127.0.0.1:3001');
    expect(seen).toEqual([['127.0.0.1:3001'], ['127.0.0.1:3001', '127.0.0.1:3002']]);

    dropB();
    dropB(); // twice: nothing more
    expect(seen.at(-1)).toEqual(['127.0.0.1:3001']);
    expect(seen).toHaveLength(3);

    // dropA belonged to the registration that dropA2 replaced: inert.
    dropA();
    expect(ids(orders.current())).toEqual(['127.0.0.1:3001']);
    dropA2();
    expect(orders.current()).toEqual([]);
    expect(seen).toHaveLength(4);
    expect(ids(registry.endpoints('billing'))).toEqual(['127.0.0.1:4001']);
    expect(orders.status()).toMatchObject({ stale: false });
    await orders.close();
  });

  it('a replaced registration with other fields is a change', () => {
    const registry = createRegistry();
    const orders = registry.resolver('orders');
    const calls: Array<readonly Endpoint[]> = [];
    orders.subscribe((list) => calls.push(list));
    registry.register('orders', { host: 'a', port: 1, weight: 1 });
    registry.register('orders', { host: 'a', port: 1, weight: 5 });
    registry.register('orders', { host: 'a', port: 1, weight: 5, metadata: { v: '2' } });
    expect(calls.map((list) => [list[0]!.weight, list[0]!.metadata])).toEqual([
      [1, undefined],
      [5, undefined],
      [5, { v: '2' }],
    ]);
  });

  it('a closed resolver and an unsubscribed listener hear nothing more', async () => {
    const registry = createRegistry();
    const one = registry.resolver('svc');
    const two = registry.resolver('svc');
    const heardOne = vi.fn();
    const heardTwo = vi.fn();
    one.subscribe(heardOne);
    const unsubscribe = two.subscribe(heardTwo);
    registry.register('svc', 'http://h:1');
    expect(heardOne).toHaveBeenCalledTimes(1);
    expect(heardTwo).toHaveBeenCalledTimes(1);
    await one.close();
    unsubscribe();
    registry.register('svc', 'http://h:2');
    expect(heardOne).toHaveBeenCalledTimes(1);
    expect(heardTwo).toHaveBeenCalledTimes(1);
    expect(ids(two.current())).toEqual(['h:1', 'h:2']);
    await two.close();
  });

  it('a throwing subscriber is reported as a warning and does not stop the others', () => {
    const warnings: Array<{ code?: string; message: string }> = [];
    vi.spyOn(process, 'emitWarning').mockImplementation(((message: string, options?: { code?: string }) => {
      warnings.push({ message, ...(options?.code ? { code: options.code } : {}) });
    }) as typeof process.emitWarning);
    const registry = createRegistry();
    const svc = registry.resolver('svc');
    const after = vi.fn();
    svc.subscribe(() => {
      throw new Error('boom');
    });
    svc.subscribe(after);
    registry.register('svc', 'http://h:1');
    expect(after).toHaveBeenCalledTimes(1);
    expect(warnings).toEqual([
      { code: 'GH_DISCOVERY_SUBSCRIBER_THREW', message: 'registry:svc: a subscriber threw: boom' },
    ]);
  });

  it('rejects an invalid service name or endpoint with every problem', () => {
    const registry = createRegistry();
    try {
      registry.register('', { host: 'h', port: 0 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.path)).toEqual([
        'registry.register.service',
        'registry.register.endpoint.port',
      ]);
    }
    expect(() => registry.resolver('')).toThrow(ConfigError);
  });
});
