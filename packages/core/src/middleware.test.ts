import { describe, expect, test } from 'vitest';
import { compose, HANDLED, type Middleware } from './middleware.js';

// A stand-in exchange: compose only needs track().
function fakeExchange() {
  const tracked: string[] = [];
  return { tracked, exchange: { track: (mw: Middleware) => tracked.push(mw.name) } as never };
}

describe('compose', () => {
  test('runs in order, tracks each entered middleware, and stops at the first answer', async () => {
    const seen: string[] = [];
    const mw = (name: string, answer?: unknown): Middleware => ({
      name,
      onRequest: () => {
        seen.push(name);
        return answer as undefined;
      },
      onFinish: () => {},
    });
    const { tracked, exchange } = fakeExchange();
    const chain = compose(mw('a'), [mw('b'), mw('c', { status: 204 })], mw('d'));
    expect(chain.name).toBe('compose(a, b, c, d)');
    expect(chain.onRequest!(exchange)).toEqual({ status: 204 });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(tracked).toEqual(['a', 'b', 'c']);
  });

  test('stays synchronous until a middleware is async, then continues after it', async () => {
    const order: string[] = [];
    const chain = compose(
      { name: 'sync', onRequest: () => void order.push('sync') },
      {
        name: 'async',
        onRequest: async () => {
          order.push('async');
        },
      },
      {
        name: 'last',
        onRequest: () => {
          order.push('last');
          return HANDLED;
        },
      },
    );
    const result = chain.onRequest!(fakeExchange().exchange);
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(HANDLED);
    expect(order).toEqual(['sync', 'async', 'last']);
    const syncOnly = compose({ name: 'x', onRequest: () => undefined });
    expect(syncOnly.onRequest!(fakeExchange().exchange)).toBeUndefined();
  });

  test('refuses things that are not middleware', () => {
    expect(() => compose({} as Middleware)).toThrow(/argument 0/);
  });
});
