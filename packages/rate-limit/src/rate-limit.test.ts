import { once } from 'node:events';
import { request } from 'node:http';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, test } from 'vitest';
import { rateLimit } from './rate-limit.js';
import { type LimiterStore, memoryStore } from './store.js';
import { startTestServer, type TestServer } from './test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('windows', () => {
  test('admits the points of a window, then 429 with Retry-After and IETF headers', async () => {
    server = await startTestServer(rateLimit({ limits: [{ name: 'burst', points: 3, duration: 10 }] }));
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await server.get('/');
      statuses.push(res.status);
      remaining.push(String(res.headers.ratelimit));
      expect(res.headers['ratelimit-policy']).toBe('"burst";q=3;w=10');
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(remaining.slice(0, 3)).toEqual(['"burst";r=2;t=10', '"burst";r=1;t=10', '"burst";r=0;t=10']);
    const refused = await server.get('/');
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.json).toMatchObject({ code: 'GH_RATE_LIMITED', status: 429, policy: 'burst' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(9);
    expect(refused.headers.ratelimit).toMatch(/^"burst";r=0;t=(9|10)$/);
  });
});

describe('policies', () => {
  test('several windows at once: both reported, the first one spent refuses', async () => {
    server = await startTestServer(
      rateLimit({
        limits: [
          { name: 'burst', points: 2, duration: 1 },
          { name: 'sustained', points: 100, duration: 60 },
        ],
      }),
    );
    const first = await server.get('/');
    expect(first.headers['ratelimit-policy']).toBe('"burst";q=2;w=1, "sustained";q=100;w=60');
    expect(first.headers.ratelimit).toBe('"burst";r=1;t=1, "sustained";r=99;t=60');
    await server.get('/');
    const third = await server.get('/');
    expect(third.status).toBe(429);
    expect(third.json).toMatchObject({ policy: 'burst' });
    expect(third.headers['retry-after']).toBe('1');
    expect(third.headers.ratelimit).toBe('"burst";r=0;t=1, "sustained";r=97;t=60');
  });

  test('the burst window refills while the sustained one keeps counting', async () => {
    server = await startTestServer(
      rateLimit({
        limits: [
          { name: 'burst', points: 1, duration: 1 },
          { name: 'sustained', points: 3, duration: 60 },
        ],
      }),
    );
    expect((await server.get('/')).status).toBe(200);
    expect((await server.get('/')).status).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await server.get('/');
    expect(again.status).toBe(200);
    // A refused request spent sustained points too (as every window is consumed at once).
    expect(again.headers.ratelimit).toMatch(/^"burst";r=0;t=1, "sustained";r=0;t=(58|59)$/);
  });

  test('tiers come from the principal; unknown and anonymous callers get the default tier', async () => {
    server = await startTestServer(
      rateLimit({
        tiers: { free: [{ points: 1, duration: 60 }], pro: [{ points: 3, duration: 60 }], internal: [] },
        defaultTier: 'free',
      }),
    );
    const pro = await server.get('/', { 'x-test-principal': 'ann:pro' });
    expect(pro.headers['ratelimit-policy']).toBe('"60s";q=3;w=60');
    expect(pro.headers.ratelimit).toBe('"60s";r=2;t=60');
    const gold = await server.get('/', { 'x-test-principal': 'bob:gold' });
    expect(gold.headers['ratelimit-policy']).toBe('"60s";q=1;w=60');
    expect((await server.get('/', { 'x-test-principal': 'bob:gold' })).status).toBe(429);
    const internal = await server.get('/', { 'x-test-principal': 'ops:internal' });
    expect(internal.status).toBe(200);
    expect(internal.headers.ratelimit).toBeUndefined();
    expect((await server.get('/')).status).toBe(200);
    expect((await server.get('/')).status).toBe(429);
  });

  test('cost: a function of the exchange spends several points; 0 spends none', async () => {
    server = await startTestServer(
      rateLimit({
        limits: [{ points: 10, duration: 60 }],
        cost: (exchange) => Number(exchange.query.get('cost') ?? 1),
      }),
    );
    expect((await server.get('/?cost=4')).headers.ratelimit).toBe('"60s";r=6;t=60');
    expect((await server.get('/?cost=0')).headers.ratelimit).toBeUndefined();
    expect((await server.get('/?cost=6')).headers.ratelimit).toBe('"60s";r=0;t=60');
    expect((await server.get('/?cost=1')).status).toBe(429);
  });

  test('a cost function answering nonsense spends 1 and is reported', async () => {
    server = await startTestServer(rateLimit({ limits: [{ points: 10, duration: 60 }], cost: () => -3 }));
    expect((await server.get('/')).headers.ratelimit).toBe('"60s";r=9;t=60');
    expect(server.reported.map((r) => r.phase)).toEqual(['rateLimit:cost']);
  });

  test('a calendar quota resets at the next UTC midnight', async () => {
    server = await startTestServer(rateLimit({ limits: [{ name: 'daily', points: 5, per: 'day' }] }));
    const res = await server.get('/');
    expect(res.headers['ratelimit-policy']).toBe('"daily";q=5;w=86400');
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const expected = Math.ceil((midnight.getTime() - Date.now()) / 1000);
    const t = Number(/t=(\d+)/.exec(String(res.headers.ratelimit))![1]);
    expect(Math.abs(t - expected)).toBeLessThanOrEqual(2);
  });

  test('route rules on the normalized path replace the top-level policy; exempt routes are untouched', async () => {
    server = await startTestServer(
      rateLimit({
        limits: [{ points: 100, duration: 60 }],
        routes: [
          { path: '/search', limits: [{ name: 'search', points: 2, duration: 60 }] },
          { path: '/health', exempt: true },
        ],
      }),
    );
    for (const spelling of ['/search', '/Search/', '//search']) {
      expect((await server.get(spelling)).headers['ratelimit-policy']).toBe('"search";q=2;w=60');
    }
    expect((await server.get('/x/../search')).status).toBe(429);
    expect((await server.get('/other')).headers.ratelimit).toBe('"60s";r=99;t=60');
    const health = await server.get('/health');
    expect(health.status).toBe(200);
    expect(health.headers.ratelimit).toBeUndefined();
  });

  test('exemptions by address, principal and predicate', async () => {
    const limiter = rateLimit({
      limits: [{ points: 1, duration: 60 }],
      exempt: { principals: ['ops'], when: (exchange) => exchange.path === '/free' },
    });
    server = await startTestServer(limiter);
    for (let i = 0; i < 3; i++) {
      expect((await server.get('/', { 'x-test-principal': 'ops' })).status).toBe(200);
      expect((await server.get('/free')).status).toBe(200);
    }
    expect((await server.get('/')).status).toBe(200);
    expect((await server.get('/')).status).toBe(429);
    expect(limiter.stats().outcomes).toMatchObject({ exempt: 6, allowed: 1, limited: 1 });
    await server.close();
    server = await startTestServer(
      rateLimit({ limits: [{ points: 1, duration: 60 }], exempt: { ips: ['loopback'] } }),
    );
    expect((await server.get('/')).status).toBe(200);
    expect((await server.get('/')).status).toBe(200);
  });

  test('legacy headers report the tightest window', async () => {
    server = await startTestServer(
      rateLimit({
        headers: 'legacy',
        limits: [
          { name: 'burst', points: 5, duration: 10 },
          { name: 'hourly', points: 3, duration: 3600 },
        ],
      }),
    );
    const res = await server.get('/');
    expect(res.headers.ratelimit).toBeUndefined();
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-remaining']).toBe('2');
    const reset = Number(res.headers['x-ratelimit-reset']);
    expect(Math.abs(reset - (Math.ceil(Date.now() / 1000) + 3600))).toBeLessThanOrEqual(2);
  });
});

describe('start-up validation', () => {
  test('every problem is listed with its path', () => {
    let error: unknown;
    try {
      rateLimit({
        limts: [],
        tiers: { free: [{ points: -1, duration: '1m' }], pro: [{ points: 5, duration: '1.5s' }] },
        defaultTier: 'gold',
        ipv6Prefix: 0,
        concurrency: { perKey: 0 },
        routes: [{ path: 'search', limits: [{ points: 1, per: 'fortnight' }] }],
      } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'GH_CONFIG_INVALID' });
    const paths = (error as { problems: { path: string }[] }).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'rateLimit.limts',
        'rateLimit.tiers.free[0].points',
        'rateLimit.tiers.pro[0].duration',
        'rateLimit.defaultTier',
        'rateLimit.ipv6Prefix',
        'rateLimit.concurrency.perKey',
        'rateLimit.routes[0].path',
        'rateLimit.routes[0].limits[0].per',
      ]),
    );
    expect(String((error as Error).message)).toMatch(/did you mean 'limits'/);
    expect(String((error as Error).message)).toMatch(/unknown tier 'gold'/);
  });

  test('a limiter that limits nothing, or two windows with one name, is refused', () => {
    expect(() => rateLimit({})).toThrow(/limits nothing/);
    expect(() =>
      rateLimit({
        limits: [
          { points: 1, duration: 60 },
          { points: 2, duration: '1m' },
        ],
      }),
    ).toThrow(/'60s' names two windows/);
    expect(() => rateLimit({ limits: [{ points: 1, duration: 60, per: 'day' }] })).toThrow(/exactly one of/);
  });
});

/** A store whose backend is down (or comes back): every call fails while `down` is true. */
function flakyStore(insurance: boolean) {
  const state = { down: true, calls: 0 };
  const memory = memoryStore();
  const store: LimiterStore = {
    kind: 'flaky',
    counter: (spec) => {
      const real = memory.counter(spec);
      return {
        consume: async (key, cost, windowMs) => {
          state.calls++;
          if (state.down) throw new Error('ECONNREFUSED');
          return real.consume(key, cost, windowMs);
        },
      };
    },
    insurance: insurance
      ? (spec) => memory.counter({ ...spec, points: Math.ceil(spec.points / 2) })
      : undefined,
  };
  return { store, state };
}

describe('store failures', () => {
  test('the insurance limiter decides while the store fails, with its own (smaller) limits; recovery is automatic', async () => {
    const { store, state } = flakyStore(true);
    const limiter = rateLimit({ limits: [{ points: 4, duration: 60 }], store });
    server = await startTestServer(limiter);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await server.get('/')).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(limiter.stats()).toMatchObject({ insured: 3, storeErrors: 3 });
    // One report per outage interval, not one per request.
    expect(server.reported.map((r) => r.phase)).toEqual(['rateLimit:default:store']);
    state.down = false;
    const back = await server.get('/');
    expect(back.status).toBe(200);
    expect(back.headers.ratelimit).toBe('"60s";r=3;t=60');
    expect(limiter.stats().storeErrors).toBe(3);
  });

  test("failure 'open' admits without headers; 'closed' refuses with 503 and Retry-After", async () => {
    server = await startTestServer(
      rateLimit({ limits: [{ points: 4, duration: 60 }], store: flakyStore(false).store }),
    );
    const open = await server.get('/');
    expect(open.status).toBe(200);
    expect(open.headers.ratelimit).toBeUndefined();
    await server.close();
    server = await startTestServer(
      rateLimit({ limits: [{ points: 4, duration: 60 }], store: flakyStore(false).store, failure: 'closed' }),
    );
    const closed = await server.get('/');
    expect(closed.status).toBe(503);
    expect(closed.json).toMatchObject({ code: 'GH_RATE_LIMIT_UNAVAILABLE' });
    expect(closed.headers['retry-after']).toBe('1');
  });
});

/** Sends a request and returns once its headers went out, with a way to abort it. */
async function startSlow(port: number, path: string) {
  const req = request({ host: '127.0.0.1', port, path });
  req.on('error', () => {});
  const response = once(req, 'response').then(([res]) => {
    (res as import('node:http').IncomingMessage).resume();
    return (res as import('node:http').IncomingMessage).statusCode;
  });
  // An aborted request rejects `response`; only tests that wait for it care.
  response.catch(() => {});
  req.end();
  return { abort: () => req.destroy(), response };
}

const until = async (check: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('concurrency', () => {
  test('per key: a second request while one is in flight gets 429; the slot comes back at the end', async () => {
    const limiter = rateLimit({ concurrency: { perKey: 1 } });
    server = await startTestServer(limiter);
    const slow = await startSlow(server.port, '/?ms=300');
    await until(() => limiter.stats().outcomes.allowed === 1);
    const second = await server.get('/');
    expect(second.status).toBe(429);
    expect(second.json).toMatchObject({ code: 'GH_CONCURRENCY_LIMITED' });
    // Another key is not affected.
    expect((await server.get('/', { 'x-test-principal': 'someone' })).status).toBe(200);
    expect(await slow.response).toBe(200);
    await until(() => limiter.stats().inFlight === 0);
    expect((await server.get('/')).status).toBe(200);
  });

  test('a client abort releases its slots', async () => {
    const limiter = rateLimit({ concurrency: { perKey: 1, global: 1 } });
    server = await startTestServer(limiter);
    const slow = await startSlow(server.port, '/?ms=10000');
    await until(() => limiter.stats().inFlight === 1);
    expect((await server.get('/')).status).toBe(503);
    slow.abort();
    await until(() => limiter.stats().inFlight === 0);
    expect((await server.get('/')).status).toBe(200);
  });

  test('the global bulkhead answers 503 GH_BULKHEAD_FULL beyond its size', async () => {
    const limiter = rateLimit({ concurrency: { global: 2 } });
    server = await startTestServer(limiter);
    const a = await startSlow(server.port, '/?ms=300');
    const b = await startSlow(server.port, '/?ms=300');
    await until(() => limiter.stats().inFlight === 2);
    const third = await server.get('/', { 'x-test-principal': 'other' });
    expect(third.status).toBe(503);
    expect(third.json).toMatchObject({ code: 'GH_BULKHEAD_FULL' });
    expect(third.headers['retry-after']).toBe('1');
    expect([await a.response, await b.response]).toEqual([200, 200]);
    await until(() => limiter.stats().inFlight === 0);
  });
});

describe('load shedding', () => {
  test('503 GH_OVERLOADED while the event loop lags, admitted again once it recovers', async () => {
    const limiter = rateLimit({ shed: { maxEventLoopDelayMs: 50, sampleIntervalMs: 20, retryAfter: 2 } });
    server = await startTestServer(limiter);
    expect((await server.get('/')).status).toBe(200);
    const stop = Date.now() + 250;
    while (Date.now() < stop) {
      // Busy: the event loop is blocked, as by a CPU-bound handler.
    }
    const shed = await server.get('/');
    expect(shed.status).toBe(503);
    expect(shed.json).toMatchObject({ code: 'GH_OVERLOADED' });
    expect(shed.headers['retry-after']).toBe('2');
    expect(limiter.stats().outcomes.shed).toBe(1);
    let status = 0;
    const deadline = Date.now() + 3000;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await server.get('/')).status;
    }
    expect(status).toBe(200);
    await limiter.close();
  });
});

describe('metrics', () => {
  test('outcomes are counted as gatehouse.rate_limit.requests by outcome', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    server = await startTestServer(
      rateLimit({ name: 'api', limits: [{ points: 1, duration: 60 }], meterProvider }),
    );
    await server.get('/');
    await server.get('/');
    await server.get('/');
    await reader.forceFlush();
    const metric = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics)
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'gatehouse.rate_limit.requests');
    const points = Object.fromEntries(
      metric!.dataPoints.map((p) => [String(p.attributes['gatehouse.rate_limit.outcome']), p.value]),
    );
    expect(points).toEqual({ allowed: 1, limited: 2 });
    expect(metric!.dataPoints[0]!.attributes['gatehouse.rate_limit.name']).toBe('api');
    await meterProvider.shutdown();
  });
});
