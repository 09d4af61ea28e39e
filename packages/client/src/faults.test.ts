// The faults an outbound call must survive, over real loopback sockets: refused connections, resets
// before and during a response, connect timeouts, slow first bytes, stalled bodies and retry storms.
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { answer, preferring, refusedPort, rejection, timed, useFixtures } from './test-upstreams.js';

const fx = useFixtures();

describe('connection refused', () => {
  test('is retried on another endpoint, and the call succeeds there', async () => {
    const refused = `http://127.0.0.1:${await refusedPort()}`;
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [refused, good.url],
      balancer: preferring(new URL(refused).host, good.id),
    });
    const res = await client.request({ path: '/orders/1' });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('200');
    expect(res.endpoint.id).toBe(good.id);
    expect(res.attempts).toBe(2);
    expect(client.stats().retries).toBe(1);
    expect(good.hits()).toBe(1);
  });

  test('a POST is retried too: a refused connection never carried the request', async () => {
    const refused = `http://127.0.0.1:${await refusedPort()}`;
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [refused, good.url],
      balancer: preferring(new URL(refused).host, good.id),
    });
    const res = await client.request({ method: 'POST', path: '/orders', body: '{"n":1}' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.attempts).toBe(2);
    expect(good.seen[0]?.method).toBe('POST');
  });

  test('with only refused endpoints the call fails fast with GH_UPSTREAM_UNAVAILABLE (503)', async () => {
    const urls = [`http://127.0.0.1:${await refusedPort()}`, `http://127.0.0.1:${await refusedPort()}`];
    const client = fx.client({ name: 'orders', endpoints: urls });
    const { value: error, ms } = await timed(() => rejection(client.request({ path: '/' })));
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_UNAVAILABLE', status: 503 });
    expect(ms).toBeLessThan(1_000);
    // Every attempt went to one of them (3 by default).
    expect(client.stats().endpoints.reduce((n, e) => n + e.requests, 0)).toBe(3);
  });
});

describe('connection reset', () => {
  test('mid-response: the response has started, so the body read fails and nothing is retried', async () => {
    const resetting = await fx.raw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\npartial');
      setTimeout(() => socket.resetAndDestroy(), 30);
    });
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [resetting.url, good.url],
      balancer: preferring(resetting.id, good.id),
    });
    const res = await client.request({ path: '/stream' });
    expect(res.statusCode).toBe(200);
    expect(res.endpoint.id).toBe(resetting.id);
    await expect(res.body.text()).rejects.toThrow();
    expect(res.attempts).toBe(1);
    expect(resetting.requests).toBe(1);
    expect(good.hits()).toBe(0);
    expect(client.stats().retries).toBe(0);
  });

  test('before any response byte: a GET is retried on another endpoint', async () => {
    const resetting = await fx.raw((socket) => socket.resetAndDestroy());
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [resetting.url, good.url],
      balancer: preferring(resetting.id, good.id),
    });
    const res = await client.request({ path: '/orders/1' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.endpoint.id).toBe(good.id);
    expect(res.attempts).toBe(2);
    expect(resetting.requests).toBe(1);
  });

  test('before any response byte: a POST is not retried (it may have been processed)', async () => {
    const resetting = await fx.raw((socket) => socket.resetAndDestroy());
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [resetting.url, good.url],
      balancer: preferring(resetting.id, good.id),
    });
    const error = await rejection(client.request({ method: 'POST', path: '/orders', body: '{"n":1}' }));
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_BAD_RESPONSE', status: 502 });
    expect(resetting.requests).toBe(1);
    expect(good.hits()).toBe(0);
  });

  test('before any response byte: a POST is retried when retry.nonIdempotent is set', async () => {
    const resetting = await fx.raw((socket) => socket.resetAndDestroy());
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [resetting.url, good.url],
      balancer: preferring(resetting.id, good.id),
      retry: { nonIdempotent: true },
    });
    const res = await client.request({ method: 'POST', path: '/orders', body: '{"n":1}' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.attempts).toBe(2);
    expect(good.seen[0]?.method).toBe('POST');
  });

  test('a stream body cannot be replayed, so even an idempotent PUT with one is tried once', async () => {
    const resetting = await fx.raw((socket) => socket.resetAndDestroy());
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [resetting.url, good.url],
      balancer: preferring(resetting.id, good.id),
    });
    const error = await rejection(
      client.request({ method: 'PUT', path: '/orders/1', body: Readable.from(['{"n":', '1}']) }),
    );
    expect(error.code).toBe('GH_UPSTREAM_BAD_RESPONSE');
    expect(good.hits()).toBe(0);
  });
});

describe('connect timeout', () => {
  test('an endpoint that never accepts is given up after timeouts.connectMs and the call retried elsewhere', async () => {
    const hole = await fx.blackHole();
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [hole.url, good.url],
      balancer: preferring(hole.id, good.id),
      timeouts: { connectMs: 150 },
    });
    const { value: res, ms } = await timed(() => client.request({ path: '/orders/1' }));
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.endpoint.id).toBe(good.id);
    expect(res.attempts).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(140);
    // Bounded, though not tightly: see the next test.
    expect(ms).toBeLessThan(2_000);
  });

  test('the connect attempt is abandoned about timeouts.connectMs after it started, not a timer tick later', async () => {
    const hole = await fx.blackHole();
    const client = fx.client({
      name: 'orders',
      endpoints: [hole.url],
      timeouts: { connectMs: 150 },
      retry: { maxAttempts: 1 },
    });
    const { value: error, ms } = await timed(() => rejection(client.request({ path: '/' })));
    expect(error.code).toBe('GH_UPSTREAM_UNAVAILABLE');
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(150 + 200);
  });

  test('with only such endpoints the call fails as unavailable (a connect failure), bounded by the attempts', async () => {
    const hole = await fx.blackHole();
    const client = fx.client({
      name: 'orders',
      endpoints: [hole.url],
      timeouts: { connectMs: 100 },
      retry: { maxAttempts: 2 },
    });
    const { value: error, ms } = await timed(() => rejection(client.request({ path: '/' })));
    expect(error.code).toBe('GH_UPSTREAM_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(3_000);
  });
});

describe('slow first byte', () => {
  test('beyond timeouts.perTryMs the attempt is abandoned and the next goes to another endpoint', async () => {
    const slow = await fx.upstream(answer(200, 2_000));
    const fast = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url, fast.url],
      balancer: preferring(slow.id, fast.id),
      timeouts: { perTryMs: 150 },
    });
    const { value: res, ms } = await timed(() => client.request({ path: '/orders/1' }));
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.endpoint.id).toBe(fast.id);
    expect(res.attempts).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(145);
    expect(ms).toBeLessThan(800);
    expect(slow.hits()).toBe(1);
  });

  test('beyond timeouts.totalMs the call fails with GH_UPSTREAM_TIMEOUT (504) on time', async () => {
    const a = await fx.upstream(answer(200, 3_000));
    const b = await fx.upstream(answer(200, 3_000));
    const client = fx.client({
      name: 'orders',
      endpoints: [a.url, b.url],
      timeouts: { perTryMs: 2_000, totalMs: 300 },
      retry: { maxAttempts: 5 },
    });
    const { value: error, ms } = await timed(() => rejection(client.request({ path: '/' })));
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_TIMEOUT', status: 504 });
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(800);
  });

  test('per-try timeouts add up to the total: several attempts, then GH_UPSTREAM_TIMEOUT at totalMs', async () => {
    const a = await fx.upstream(answer(200, 3_000));
    const b = await fx.upstream(answer(200, 3_000));
    const client = fx.client({
      name: 'orders',
      endpoints: [a.url, b.url],
      timeouts: { perTryMs: 150, totalMs: 500 },
      retry: { maxAttempts: 10 },
    });
    const { value: error, ms } = await timed(() => rejection(client.request({ path: '/' })));
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_TIMEOUT', status: 504 });
    expect(a.hits() + b.hits()).toBeGreaterThanOrEqual(3);
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(ms).toBeLessThan(1_000);
  });
});

describe('stalled body', () => {
  const stall = () =>
    fx.upstream((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
    });

  test('headers then nothing: the body read fails after timeouts.bodyMs', async () => {
    const stalled = await stall();
    const client = fx.client({ name: 'orders', endpoints: [stalled.url], timeouts: { bodyMs: 200 } });
    const res = await client.request({ path: '/big' });
    expect(res.statusCode).toBe(200);
    const { value: error, ms } = await timed(() => rejection(res.body.text()));
    expect(error).toBeInstanceOf(Error);
    expect(ms).toBeGreaterThanOrEqual(150);
    // Bounded, though not tightly: see the next test.
    expect(ms).toBeLessThan(2_000);
    expect(stalled.hits()).toBe(1);
  });

  // undici times bodies on its coarse shared clock (ticks of about half a second, documented in the
  // README): a stalled body fails between bodyMs and about bodyMs + 1 s, never hangs.
  test('the stalled body read fails after timeouts.bodyMs (within undici timer resolution)', async () => {
    const stalled = await stall();
    const client = fx.client({ name: 'orders', endpoints: [stalled.url], timeouts: { bodyMs: 200 } });
    const res = await client.request({ path: '/big' });
    const { ms } = await timed(() => rejection(res.body.text()));
    expect(ms).toBeGreaterThanOrEqual(150);
    expect(ms).toBeLessThan(200 + 1_300);
  });
});

describe('retry storm', () => {
  const offer = async (count: number, concurrency: number, call: () => Promise<unknown>) => {
    const durations: number[] = [];
    const outcomes: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        const started = performance.now();
        outcomes.push(await call().catch((error: unknown) => error));
        durations.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { durations, outcomes };
  };

  // Endpoint breakers would stop the storm on their own; turned off, the budget alone must.
  test('1,000 calls against upstreams answering 503: retries stay within the default budget', async () => {
    const a = await fx.upstream(answer(503));
    const b = await fx.upstream(answer(503));
    const client = fx.client({ name: 'orders', endpoints: [a.url, b.url], breaker: { endpoint: false } });
    const started = performance.now();
    const { durations, outcomes } = await offer(1_000, 50, async () => {
      const res = await client.request({ path: '/' });
      await res.body.dump();
      return res.statusCode;
    });
    const elapsed = performance.now() - started;
    expect(outcomes.filter((o) => o === 503)).toHaveLength(1_000);
    // 20 % of requests plus the floor of 10/s over the 10 s window.
    expect(a.hits() + b.hits()).toBeLessThanOrEqual(1.2 * 1_000 + 100);
    expect(a.hits() + b.hits()).toBeGreaterThan(1_000);
    expect(client.stats().budgetExhausted).toBeGreaterThan(0);
    expect(Math.max(...durations)).toBeLessThan(2_000);
    expect(elapsed).toBeLessThan(15_000);
  });

  test('1,000 calls against an upstream resetting every connection: GH_RETRY_BUDGET_EXHAUSTED, no multiplied load', async () => {
    const a = await fx.raw((socket) => socket.resetAndDestroy());
    const b = await fx.raw((socket) => socket.resetAndDestroy());
    const client = fx.client({ name: 'orders', endpoints: [a.url, b.url], breaker: { endpoint: false } });
    const { durations, outcomes } = await offer(1_000, 50, () => client.request({ path: '/' }));
    const codes = new Map<string, number>();
    for (const o of outcomes) {
      const code = (o as { code?: string }).code ?? 'success';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.get('success')).toBeUndefined();
    expect(codes.get('GH_RETRY_BUDGET_EXHAUSTED') ?? 0).toBeGreaterThan(0);
    expect(a.requests + b.requests).toBeLessThanOrEqual(1.2 * 1_000 + 100);
    expect(client.stats().budgetExhausted).toBeGreaterThan(0);
    expect(Math.max(...durations)).toBeLessThan(2_000);
  });

  test('with every default on, a failing upstream still sees no more than the budget allows', async () => {
    const a = await fx.upstream(answer(503));
    const client = fx.client({ name: 'orders', endpoints: [a.url] });
    await offer(300, 20, async () => {
      const res = await client.request({ path: '/' }).catch(() => undefined);
      await res?.body.dump();
    });
    expect(a.hits()).toBeLessThanOrEqual(1.2 * 300 + 100);
  });
});
