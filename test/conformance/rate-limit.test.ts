// Rate limiting on every framework: the scenario tables (rate-limit.scenarios.ts), then what a table of
// single requests cannot express, still run on every framework and compared: requests in flight
// (per-key and global limits, slots released on finish, on a handler error and on client abort), load
// shedding while the event loop is blocked, and validation of the options at start-up.
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { ConfigError } from '@gatehousejs/core';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { FRAMEWORKS, type Framework, gatewayOf, type RunningApp, startApp } from '../support/apps.js';
import { check, conformance, type Expectation, expectAllSame } from '../support/conformance.js';
import { type RawRequest, type RawResponse, request, serialize } from '../support/raw-http.js';
import { CLOCK, type RateLimitOptions, rateLimitSuites, slash64Suite } from './rate-limit.scenarios.js';

for (const suite of rateLimitSuites) conformance(suite);

// Only Date is stopped (timers and sockets run as usual): every window starts and is read at the same
// instant, so the seconds left are the same on every framework however long a thousand requests take.
describe('with the clock stopped', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  });
  afterAll(() => {
    vi.useRealTimers();
  });
  conformance(slash64Suite);
});

type Limiter = ReturnType<FrameworkGateway<unknown>['rateLimiter']>;
type LimiterStore = NonNullable<RateLimitOptions['store']>;
type Counter = ReturnType<LimiterStore['counter']>;
type CounterSpec = Parameters<LimiterStore['counter']>[0];

const TRUST_LOOPBACK = { clientIp: { trustedProxies: ['loopback'] } } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const from = (ip: string, path = '/view/x'): RawRequest => ({ path, headers: { 'x-forwarded-for': ip } });

let running: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(running.map((app) => app.close()));
  running = [];
});

/** Starts the app with one limiter mounted through `gw.use()`, so the test can read its stats. */
async function startLimited(
  framework: Framework,
  options: RateLimitOptions,
): Promise<{ app: RunningApp; limiter: Limiter }> {
  let limiter: Limiter | undefined;
  const app = await startApp(framework, {
    config: TRUST_LOOPBACK,
    chain: (gw) => {
      limiter = gw.rateLimiter(options);
      return [gw.use(limiter)];
    },
  });
  running.push(app);
  return { app, limiter: limiter! };
}

/** Waits for `condition`, polling, failing after `deadlineMs`. */
async function until(what: string, condition: () => boolean, deadlineMs = 3_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A request on a socket the test can destroy before the answer comes. */
function openRequest(port: number, req: RawRequest): Socket {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.write(serialize(req));
  return socket;
}

/**
 * A store whose every answer takes `delayMs`, standing in for a remote store (Redis) on a slow
 * network: it counts points per key like any store, and tells how many calls are under way.
 */
function slowStore(delayMs: number): LimiterStore & { pending: number; answered: number } {
  const store = {
    kind: 'slow',
    pending: 0,
    answered: 0,
    counter: ({ points, durationMs }: CounterSpec): Counter => {
      const spent = new Map<string, number>();
      return {
        async consume(key: string, cost: number) {
          store.pending++;
          await sleep(delayMs);
          store.pending--;
          store.answered++;
          const total = (spent.get(key) ?? 0) + cost;
          spent.set(key, total);
          return { remaining: Math.max(points - total, 0), resetMs: durationMs, refused: total > points };
        },
      };
    },
  };
  return store;
}

/** Checks each framework's answer, then that all are the same. */
function checkBoth(answers: Record<Framework, RawResponse>, want: Expectation): void {
  for (const fw of FRAMEWORKS) check(answers[fw], want, fw);
  expectAllSame(answers, CLOCK);
}

const CONCURRENCY_LIMITED: Expectation = {
  status: 429,
  problem: 'GH_CONCURRENCY_LIMITED',
  headers: { 'retry-after': /^[1-9]\d*$/ },
};
const BULKHEAD_FULL: Expectation = {
  status: 503,
  problem: 'GH_BULKHEAD_FULL',
  headers: { 'retry-after': /^[1-9]\d*$/ },
};

describe('rate limit: requests in flight', () => {
  test('concurrency.perKey 1: a second request of the key while one is in flight → 429, others admitted', async () => {
    const refusals = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const { app, limiter } = await startLimited(fw, {
        name: 'per-key',
        key: 'ip',
        concurrency: { perKey: 1, global: 100 },
        limits: [{ name: 'minute', points: 100, duration: 60 }],
      });
      const slow = request(app.port, from('203.0.113.1', '/slow?ms=1000'));
      await until(`${fw}: the slow request in flight`, () => limiter.stats().inFlight === 1);
      refusals[fw] = await request(app.port, from('203.0.113.1'));
      const other = await request(app.port, from('203.0.113.2'));
      expect(other.status, `${fw}: another key is admitted meanwhile`).toBe(200);
      expect((await slow).status, `${fw}: the slow request finishes`).toBe(200);
      await until(`${fw}: slots released`, () => limiter.stats().inFlight === 0);
      expect((await request(app.port, from('203.0.113.1'))).status, `${fw}: the key is admitted again`).toBe(
        200,
      );
      expect(limiter.stats().outcomes.concurrency, `${fw}: one refusal counted`).toBe(1);
    }
    checkBoth(refusals, CONCURRENCY_LIMITED);
  });

  test('concurrency.global 2: a third concurrent request → 503 bulkhead, admitted once one finishes', async () => {
    const refusals = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const { app, limiter } = await startLimited(fw, { name: 'bulkhead', concurrency: { global: 2 } });
      const slow = [
        request(app.port, from('203.0.113.10', '/slow?ms=800')),
        request(app.port, from('203.0.113.11', '/slow?ms=800')),
      ];
      await until(`${fw}: two requests in flight`, () => limiter.stats().inFlight === 2);
      refusals[fw] = await request(app.port, from('203.0.113.12'));
      expect(
        (await Promise.all(slow)).map((r) => r.status),
        `${fw}: the slow requests finish`,
      ).toEqual([200, 200]);
      await until(`${fw}: slots released`, () => limiter.stats().inFlight === 0);
      expect((await request(app.port, from('203.0.113.12'))).status, `${fw}: admitted again`).toBe(200);
    }
    checkBoth(refusals, BULKHEAD_FULL);
  });

  test('slots are released when the handler throws (sync and async)', async () => {
    const answers = {} as Record<Framework, RawResponse[]>;
    for (const fw of FRAMEWORKS) {
      const { app, limiter } = await startLimited(fw, {
        name: 'errors',
        key: 'ip',
        concurrency: { perKey: 1, global: 1 },
      });
      answers[fw] = [];
      // More failing requests than there are slots: a leak would refuse the later ones.
      for (const path of [
        '/throw/plain',
        '/throw/http',
        '/throw/gatehouse',
        '/throw/hidden',
        '/throw/plain',
      ]) {
        answers[fw].push(await request(app.port, from('203.0.113.20', path)));
        await until(`${fw}: the slot of ${path} released`, () => limiter.stats().inFlight === 0);
      }
      expect(answers[fw].map((r) => r.status)).toEqual([500, 422, 418, 503, 500]);
      expect((await request(app.port, from('203.0.113.20'))).status, `${fw}: admitted after the errors`).toBe(
        200,
      );
      expect(limiter.stats().outcomes.bulkhead + limiter.stats().outcomes.concurrency).toBe(0);
    }
    for (const i of answers[FRAMEWORKS[0]!].keys()) {
      expectAllSame(Object.fromEntries(FRAMEWORKS.map((fw) => [fw, answers[fw][i]])), CLOCK);
    }
  });

  test('slots are released when the client goes away mid-request', async () => {
    const refusals = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const { app, limiter } = await startLimited(fw, {
        name: 'abort',
        key: 'ip',
        concurrency: { perKey: 1, global: 1 },
      });
      const socket = openRequest(app.port, from('203.0.113.30', '/slow?ms=5000'));
      await until(`${fw}: the slow request in flight`, () => limiter.stats().inFlight === 1);
      refusals[fw] = await request(app.port, from('203.0.113.31'));
      socket.destroy();
      // Well before the handler's 5 s are up: the slot follows the client, not the handler.
      await until(`${fw}: the aborted request's slot released`, () => limiter.stats().inFlight === 0, 2_000);
      expect((await request(app.port, from('203.0.113.30'))).status, `${fw}: the same key is admitted`).toBe(
        200,
      );
      expect((await request(app.port, from('203.0.113.31'))).status, `${fw}: another key is admitted`).toBe(
        200,
      );
    }
    checkBoth(refusals, BULKHEAD_FULL);
  });

  test('slots are released when the client goes away while the store is still answering', async () => {
    const answers = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const store = slowStore(300);
      const { app, limiter } = await startLimited(fw, {
        name: 'slow-store',
        key: 'ip',
        store,
        concurrency: { perKey: 1, global: 10 },
        limits: [{ name: 'minute', points: 100, duration: 60 }],
      });
      const socket = openRequest(app.port, from('203.0.113.40'));
      await until(`${fw}: the store asked`, () => store.pending === 1);
      socket.destroy();
      await until(`${fw}: the store answered`, () => store.answered === 1);
      await until(`${fw}: global slots released`, () => limiter.stats().inFlight === 0);
      // The client that went away holds nothing: its next request is admitted.
      answers[fw] = await request(app.port, from('203.0.113.40'));
    }
    checkBoth(answers, { status: 200 });
  });
});

/** Keeps this process's event loop busy: the servers under test run in it. */
function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('rate limit: load shedding', () => {
  test('a blocked event loop sheds with 503 GH_OVERLOADED; once idle, requests are admitted', async () => {
    const shed = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const { app, limiter } = await startLimited(fw, {
        name: 'shed',
        shed: { maxEventLoopDelayMs: 50, sampleIntervalMs: 20 },
      });
      const admitted = async (what: string) => {
        const deadline = Date.now() + 3_000;
        for (;;) {
          const res = await request(app.port, { path: '/view/x' });
          if (res.status === 200) return;
          expect(res.status, `${fw}: only shedding refuses`).toBe(503);
          if (Date.now() > deadline) throw new Error(`${fw}: still shedding 3 s ${what}`);
          await sleep(20);
        }
      };
      await admitted('after start-up');
      // The request is on its way while the loop is blocked; the sampler sees the delay first.
      for (let attempt = 0; attempt < 10 && shed[fw]?.status !== 503; attempt++) {
        const pending = request(app.port, { path: '/view/x' });
        blockEventLoop(300);
        shed[fw] = await pending;
      }
      expect(limiter.stats().outcomes.shed, `${fw}: shed counted`).toBeGreaterThanOrEqual(1);
      await admitted('after the loop went idle');
    }
    checkBoth(shed, {
      status: 503,
      problem: 'GH_OVERLOADED',
      headers: { 'retry-after': '1', ratelimit: null },
    });
  });
});

describe('rate limit: start-up validation', () => {
  const gateways = Object.fromEntries(FRAMEWORKS.map((fw) => [fw, () => gatewayOf(fw, {})])) as Record<
    Framework,
    () => FrameworkGateway<unknown>
  >;
  const thrown = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    throw new Error('expected a throw');
  };

  test('an invalid policy throws one ConfigError listing every problem with its path', () => {
    const bad = {
      name: 'plans',
      limts: [{ points: 10, duration: '1m' }],
      tiers: {
        free: [
          { name: 'minute', points: -5, duration: '1m' },
          { name: 'hour', points: 100, duration: '-1s' },
        ],
        pro: [{ name: 'minute', points: 100, duration: '1m' }],
      },
      defaultTier: 'gold',
    } as unknown as RateLimitOptions;
    const messages = FRAMEWORKS.map((fw) => {
      const error = thrown(() => gateways[fw]().rateLimit(bad));
      expect(error, fw).toBeInstanceOf(ConfigError);
      const config = error as ConfigError;
      expect(config.code).toBe('GH_CONFIG_INVALID');
      expect(config.problems.map((p) => p.path).sort()).toEqual(
        [
          'rateLimit.limts',
          'rateLimit.tiers.free[0].points',
          'rateLimit.tiers.free[1].duration',
          'rateLimit.defaultTier',
        ].sort(),
      );
      for (const line of [
        "rateLimit.limts: unknown option; did you mean 'limits'?",
        'rateLimit.tiers.free[0].points: expected a number > 0, received the number -5',
        "rateLimit.tiers.free[1].duration: expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string '-1s'",
        "rateLimit.defaultTier: unknown tier 'gold' in tiers; expected one of free, pro",
      ]) {
        expect(config.message, fw).toContain(line);
      }
      expect(config.message).toMatch(/^Invalid Gatehouse configuration \(4 problems\):/);
      return config.message;
    });
    for (const message of messages) expect(message).toBe(messages[0]);
  });

  const window = { points: 1, duration: 1 };
  test.each([
    { label: 'no windows, concurrency or shedding', path: 'rateLimit', options: {} },
    {
      label: 'zero points',
      path: 'rateLimit.limits[0].points',
      options: { limits: [{ points: 0, duration: 10 }] },
    },
    {
      label: 'both duration and per',
      path: 'rateLimit.limits[0]',
      options: { limits: [{ ...window, per: 'day' }] },
    },
    {
      label: 'a duration that is not whole seconds',
      path: 'rateLimit.limits[0].duration',
      options: { limits: [{ points: 1, duration: '1500ms' }] },
    },
    {
      label: 'an unknown period',
      path: 'rateLimit.limits[0].per',
      options: { limits: [{ points: 1, per: 'fortnight' }] },
    },
    {
      label: 'two windows with one name',
      path: 'rateLimit.limits[1].name',
      options: { limits: [window, { points: 2, duration: '1s' }] },
    },
    {
      label: 'tiers without defaultTier',
      path: 'rateLimit.defaultTier',
      options: { tiers: { free: [window] } },
    },
    {
      label: 'a misspelt concurrency option',
      path: 'rateLimit.concurrency.perkey',
      options: { concurrency: { perkey: 1 } },
    },
    {
      label: 'a negative shedding threshold',
      path: 'rateLimit.shed.maxEventLoopDelayMs',
      options: { shed: { maxEventLoopDelayMs: -1 } },
    },
    {
      label: 'an unknown header mode',
      path: 'rateLimit.headers',
      options: { limits: [window], headers: 'draft' },
    },
    {
      label: 'a bad key part',
      path: 'rateLimit.key[1]',
      options: { limits: [window], key: ['ip', 'cookie'] },
    },
    {
      label: 'a bad exempt range',
      path: 'rateLimit.exempt.ips',
      options: { limits: [window], exempt: { ips: ['10.0.0.0/99'] } },
    },
    {
      label: 'a misspelt route rule option',
      path: 'rateLimit.routes[0].metods',
      options: { routes: [{ path: '/x', limits: [window], metods: ['GET'] }] },
    },
  ])('$label → ConfigError at $path on every gateway', ({ path, options }) => {
    const paths = FRAMEWORKS.map((fw) => {
      const error = thrown(() => gateways[fw]().rateLimit(options as RateLimitOptions));
      expect(error, fw).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('GH_CONFIG_INVALID');
      return (error as ConfigError).problems.map((p) => p.path);
    });
    expect(paths[0]).toContain(path);
    for (const each of paths) expect(each).toEqual(paths[0]);
  });

  test('two rateLimit() with one name on a gateway throw; distinct names do not', () => {
    for (const fw of FRAMEWORKS) {
      const gw = gateways[fw]();
      const limits = [{ points: 10, duration: 60 }];
      gw.rateLimit({ limits });
      expect(() => gw.rateLimit({ limits }), `${fw}: the default name twice`).toThrow(
        /already has a limiter named 'default'/,
      );
      gw.rateLimit({ name: 'api', limits });
      expect(() => gw.rateLimiter({ name: 'api', limits }), `${fw}: 'api' twice`).toThrow(
        /already has a limiter named 'api'/,
      );
      // A limiter that failed validation does not take its name.
      expect(() => gw.rateLimit({ name: 'search', limits: [{ points: -1, duration: 1 }] })).toThrow(
        ConfigError,
      );
      expect(
        () => gw.rateLimit({ name: 'search', limits }),
        `${fw}: 'search' after a failed one`,
      ).not.toThrow();
      // Another gateway has its own names.
      expect(() => gateways[fw]().rateLimit({ name: 'api', limits })).not.toThrow();
    }
  });
});
