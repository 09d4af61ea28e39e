import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createOutboundLimiter } from './outbound.js';

// A fragile upstream that records how many calls it had in flight at once.
let upstream: Server;
let url: string;
const seen = { inFlight: 0, peak: 0, total: 0 };
beforeAll(async () => {
  upstream = createServer((_req, res) => {
    seen.total++;
    seen.inFlight++;
    seen.peak = Math.max(seen.peak, seen.inFlight);
    setTimeout(() => {
      seen.inFlight--;
      res.end('ok');
    }, 50);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((done) => upstream.close(done));
});

const reset = () => Object.assign(seen, { inFlight: 0, peak: 0, total: 0 });
const call = () => fetch(url).then((res) => res.text());

describe('createOutboundLimiter', () => {
  test('maxConcurrent: the upstream never sees more calls at once; the rest wait their turn', async () => {
    reset();
    const limiter = createOutboundLimiter({ maxConcurrent: 3, maxWaitMs: 5000 });
    const results = await Promise.all(Array.from({ length: 12 }, () => limiter.run(call)));
    expect(results).toEqual(Array(12).fill('ok'));
    expect(seen.peak).toBe(3);
    expect(limiter.stats()).toEqual({ admitted: 12, rejected: 0, inFlight: 0, waiting: 0 });
  });

  test('a window: calls beyond its points wait for the next window', async () => {
    reset();
    const limiter = createOutboundLimiter({ limits: [{ points: 3, duration: 1 }], maxWaitMs: 3000 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => limiter.run(call)));
    expect(seen.total).toBe(5);
    // Two of them had to wait for the second window.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  test('no token within maxWaitMs → GH_OUTBOUND_LIMITED with Retry-After, and the upstream is spared', async () => {
    reset();
    const limiter = createOutboundLimiter({ limits: [{ points: 2, duration: 60 }], maxWaitMs: 100 });
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => limiter.run(call)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'GH_OUTBOUND_LIMITED', status: 503 });
    expect(Number(refused.reason.headers['retry-after'])).toBeGreaterThan(50);
    expect(seen.total).toBe(2);
    expect(limiter.stats()).toMatchObject({ admitted: 2, rejected: 2 });
  });

  test('the wait queue is bounded, waits time out, and an abort leaves the queue', async () => {
    const limiter = createOutboundLimiter({ maxConcurrent: 1, maxQueue: 1, maxWaitMs: 150 });
    const release = await limiter.acquire();
    const waiting = limiter.acquire();
    await expect(limiter.acquire()).rejects.toMatchObject({ code: 'GH_OUTBOUND_LIMITED' });
    await expect(waiting).rejects.toMatchObject({ code: 'GH_OUTBOUND_LIMITED' });
    const controller = new AbortController();
    const aborted = limiter.acquire({ signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(limiter.stats()).toMatchObject({ waiting: 0, inFlight: 1 });
    release();
    release();
    expect(limiter.stats().inFlight).toBe(0);
    const next = await limiter.acquire();
    next();
  });

  test('a slot handed to a waiter is never lost when calls fail', async () => {
    const limiter = createOutboundLimiter({ maxConcurrent: 2, maxWaitMs: 2000 });
    const failures = await Promise.allSettled(
      Array.from({ length: 6 }, () => limiter.run(() => Promise.reject(new Error('upstream down')))),
    );
    expect(failures.every((f) => f.status === 'rejected')).toBe(true);
    expect(limiter.stats()).toMatchObject({ inFlight: 0, waiting: 0 });
  });

  test('invalid options fail at creation with every problem', () => {
    expect(() =>
      createOutboundLimiter({ limits: [{ points: 0, duration: 'soon' as never }], maxConcurrent: -1 }),
    ).toThrow(/limits\[0\]\.points.*\n?.*limits\[0\]\.duration|maxConcurrent/s);
    expect(() => createOutboundLimiter({})).toThrow(/limits nothing/);
  });
});
