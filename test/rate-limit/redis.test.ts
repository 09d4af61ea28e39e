// @gatehousejs/rate-limit against real Redis: four gateway processes (Express 5 and 4, Koa 3 and 2) bursting on one
// bucket, Redis killed and hung under traffic (insurance limits, bounded latency, recovery without a
// restart), fail-closed and fail-open without insurance, calendar-quota TTLs, and an outbound limiter
// shared by two processes.
import { isGatehouseError } from '@gatehousejs/core';
import {
  createOutboundLimiter,
  type LimiterStore,
  type OutboundLimiter,
  type RateLimit,
  type RateLimitOptions,
  redisStore,
} from '@gatehousejs/rate-limit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAMEWORKS, type Framework, type RunningApp, startApp } from '../support/apps.js';
import { check, expectAllSame } from '../support/conformance.js';
import { type RawResponse, request } from '../support/raw-http.js';
import {
  deleteKeys,
  findRedis,
  keysUnder,
  pingRedis,
  type RedisServer,
  redisClient,
  redisMissing,
  redisServerMissing,
  startRedisServer,
  uniquePrefix,
} from '../support/redis.js';
import { checkBuilt, type Instance, startInstance } from './fleet.js';

const FILE = 'test/rate-limit/redis.test.ts';
// Every request through a limiter on a failing store must still be answered within this.
const BOUNDED_MS = 500;

const shared = await findRedis();
const noRedis = typeof shared === 'string' ? shared : undefined;
if (noRedis !== undefined) redisMissing(FILE, noRedis);
const url = typeof shared === 'string' ? '' : shared.url;
// The outage tests kill and restart their own redis-server, so they need the binary itself.
const noServer = redisServerMissing();
if (noServer !== undefined) redisMissing(`${FILE} (outage tests)`, noServer);

afterAll(async () => {
  if (typeof shared !== 'string') await shared.close();
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Shot {
  framework: Framework;
  sentAt: number;
  ms: number;
  res: RawResponse;
}

/** One GET with a tenant header, timed from the client's side. */
async function shot(app: { framework: Framework; port: number }, tenant: string, path = '/hello') {
  const sentAt = Date.now();
  const res = await request(app.port, { path, headers: { 'x-tenant': tenant } }, 5_000);
  return { framework: app.framework, sentAt, ms: Date.now() - sentAt, res } satisfies Shot;
}

const statuses = (shots: readonly { res: RawResponse }[]) => {
  const counts: Record<number, number> = {};
  for (const s of shots) counts[s.res.status] = (counts[s.res.status] ?? 0) + 1;
  return counts;
};

/** Waits until every store's Redis client is ready (a request before that is counted by insurance). */
async function storesReady(stores: readonly LimiterStore[], timeoutMs = 6_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stores.some((s) => s.degraded?.() === true)) {
    if (Date.now() > deadline) throw new Error(`Redis clients not ready within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Asserts a refusal is the 429 problem+json a client can act on. */
function expectRateLimited(res: RawResponse, label: string): void {
  check(res, { status: 429, problem: 'GH_RATE_LIMITED', headers: { 'retry-after': /^[1-9]\d*$/ } }, label);
}

describe.skipIf(noRedis !== undefined)('a fleet of four gateway processes sharing one Redis', () => {
  const POINTS = 100;
  const PER_INSTANCE = 50;
  const name = 'fleet';
  const prefix = uniquePrefix('fleet');
  let fleet: Instance[] = [];
  let client: Redis;

  beforeAll(async () => {
    checkBuilt();
    client = redisClient(url);
    const frameworks: readonly Framework[] = FRAMEWORKS;
    const started = await Promise.allSettled(
      frameworks.map((framework) =>
        startInstance({
          framework,
          url,
          name,
          prefix,
          points: POINTS,
          duration: 60,
          key: { header: 'x-tenant' },
          instances: frameworks.length,
          // Four processes and Redis share two cores here: a generous timeout keeps a starved event
          // loop from handing a decision to the insurance limiter (asserted below: no store errors).
          timeoutMs: 2_000,
        }),
      ),
    );
    fleet = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }, 30_000);

  afterAll(async () => {
    await Promise.all(fleet.map((i) => i.stop()));
    if (client !== undefined) {
      await deleteKeys(client, prefix);
      client.disconnect();
    }
  });

  test('concurrent bursts at all four admit exactly the limit in total, per tenant', async () => {
    const byInstance: Record<string, number[]> = {};
    for (const tenant of ['tenant-a', 'tenant-b']) {
      const answers = await Promise.all(
        fleet.flatMap((instance) =>
          Array.from({ length: PER_INSTANCE }, () =>
            request(instance.port, { path: '/', headers: { 'x-tenant': tenant } }, 10_000).then((res) => ({
              instance,
              res,
            })),
          ),
        ),
      );
      const total = fleet.length * PER_INSTANCE;
      expect(statuses(answers), `${tenant}: statuses of ${total} concurrent requests`).toEqual({
        200: POINTS,
        429: total - POINTS,
      });
      for (const { instance, res } of answers) {
        const label = `${tenant} via ${instance.framework} pid ${instance.pid}`;
        if (res.status === 429) expectRateLimited(res, label);
        else expect(res.headers['ratelimit-policy']?.[0], label).toBe(`"60s";q=${POINTS};w=60`);
      }
      byInstance[tenant] = fleet.map(
        (i) => answers.filter((a) => a.instance === i && a.res.status === 200).length,
      );
      // Redis saw every request of the burst on one counter: the bucket is the fleet's, not a process's.
      const key = `${prefix}:${name}:all:60s:h:${tenant}`;
      expect(await client.get(key), `${key} counts every request`).toBe(String(total));
      const ttl = await client.ttl(key);
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
    }
    // The first tenant's bucket is still spent after the second one's burst, on every instance.
    for (const instance of fleet) {
      expectRateLimited(
        await request(instance.port, { path: '/', headers: { 'x-tenant': 'tenant-a' } }),
        `tenant-a again via ${instance.framework}`,
      );
    }
    expect((await keysUnder(client, prefix)).length).toBe(2);

    const stats = await Promise.all(
      fleet.map(async (i) => (await request(i.port, { path: '/__stats' })).json as Record<string, unknown>),
    );
    for (const [i, s] of stats.entries()) {
      const label = `${fleet[i]!.framework} pid ${fleet[i]!.pid} (stderr: ${fleet[i]!.stderr()})`;
      expect(s['storeErrors'], `${label}: store errors`).toBe(0);
      expect(s['insured'], `${label}: insured decisions`).toBe(0);
    }
    const allowed = stats.reduce((n, s) => n + (s['outcomes'] as Record<string, number>).allowed!, 0);
    expect(allowed, `admitted per instance: ${JSON.stringify(byInstance)}`).toBe(2 * POINTS);
  }, 30_000);
});

describe.skipIf(noServer !== undefined)('Redis killed, hung and restarted under traffic', () => {
  const POINTS = 20;
  const INSTANCES = FRAMEWORKS.length;
  const INSURED = Math.ceil(POINTS / INSTANCES);
  const name = 'outage';
  const prefix = uniquePrefix('outage');
  let server: RedisServer;
  let client: Redis;
  const apps = {} as Record<Framework, RunningApp>;
  const limiters = {} as Record<Framework, RateLimit>;
  const stores = {} as Record<Framework, LimiterStore>;

  beforeAll(async () => {
    server = await startRedisServer();
    client = redisClient(server.url);
    for (const fw of FRAMEWORKS) {
      stores[fw] = redisStore({ url: server.url, instances: INSTANCES });
      apps[fw] = await startApp(fw, {
        chain: (gw) => {
          limiters[fw] = gw.rateLimiter({
            name,
            prefix,
            limits: [{ points: POINTS, duration: 60 }],
            key: { header: 'x-tenant' },
            store: stores[fw],
          });
          return [gw.use(limiters[fw])];
        },
      });
    }
    await storesReady(Object.values(stores));
  });

  afterAll(async () => {
    await Promise.all(FRAMEWORKS.map((fw) => apps[fw]?.close()));
    client?.disconnect();
    await server?.stop();
  });

  const stats = () =>
    Object.fromEntries(FRAMEWORKS.map((fw) => [fw, limiters[fw].stats()])) as Record<
      Framework,
      ReturnType<RateLimit['stats']>
    >;

  const reportsOf = (app: RunningApp) =>
    app.reported.map((r) => ({ phase: r.phase, code: (r.error as { code?: string }).code }));

  /** Requests for `tenant` to every gateway every `everyMs` until stopped; none awaited before the next. */
  function traffic(tenant: string, everyMs: number) {
    const shots: Promise<Shot>[] = [];
    const timer = setInterval(() => {
      for (const fw of FRAMEWORKS) shots.push(shot(apps[fw], tenant));
    }, everyMs);
    return {
      stop: async () => {
        clearInterval(timer);
        return Promise.all(shots);
      },
    };
  }

  /** `n` concurrent requests for `tenant` to each gateway. */
  const burst = (tenant: string, n: number) =>
    Promise.all(FRAMEWORKS.flatMap((fw) => Array.from({ length: n }, () => shot(apps[fw], tenant))));

  function expectAnsweredInTime(shots: readonly Shot[], label: string): void {
    const bad = shots.filter((s) => (s.res.status !== 200 && s.res.status !== 429) || s.ms >= BOUNDED_MS);
    expect(
      bad.map((s) => `${s.framework} ${s.res.status} in ${s.ms} ms: ${s.res.body.toString().slice(0, 200)}`),
      `${label}: every request answered 200 or 429 within ${BOUNDED_MS} ms`,
    ).toEqual([]);
  }

  /** Counting is back in Redis: every gateway counts one tenant on one shared key, with no store error. */
  async function expectCountingInRedis(tenant: string): Promise<void> {
    await storesReady(Object.values(stores));
    const before = stats();
    let last: RawResponse | undefined;
    for (let i = 0; i < 3; i++) {
      for (const fw of FRAMEWORKS) {
        last = (await shot(apps[fw], tenant)).res;
        expect(last.status, `${fw} request ${i + 1} for ${tenant}`).toBe(200);
      }
    }
    const key = `${prefix}:${name}:all:60s:h:${tenant}`;
    const sent = 3 * FRAMEWORKS.length;
    expect(await client.get(key), `${key} in the restarted Redis`).toBe(String(sent));
    expect(last?.headers['ratelimit']?.[0], 'the remaining points come from the shared counter').toMatch(
      new RegExp(`^"60s";r=${POINTS - sent};t=(59|60)$`),
    );
    const after = stats();
    for (const fw of FRAMEWORKS) {
      expect(after[fw].storeErrors, `${fw}: store errors stopped increasing`).toBe(before[fw].storeErrors);
      expect(after[fw].insured, `${fw}: no more insured decisions`).toBe(before[fw].insured);
    }
  }

  test('SIGKILL mid-traffic: only 200/429, bounded latency, insurance limits; back to Redis after a restart on the same port', async () => {
    const before = stats();
    const steady = traffic('steady', 20);
    await sleep(400);
    await server.kill();
    const killedAt = Date.now();
    await sleep(1_000);
    const shots = await steady.stop();
    expectAnsweredInTime(shots, 'steady traffic across the kill');
    for (const fw of FRAMEWORKS) {
      const late = shots.filter((s) => s.framework === fw && s.sentAt >= killedAt);
      expect(late.length, `${fw}: requests sent during the outage`).toBeGreaterThan(2 * INSURED);
      expect(
        late.filter((s) => s.res.status === 200).length,
        `${fw}: admitted during the outage (insurance allows ${INSURED} = ceil(${POINTS}/${INSTANCES}) per window)`,
      ).toBeLessThanOrEqual(INSURED);
      for (const s of late.filter((s) => s.res.status === 429))
        expectRateLimited(s.res, `${fw} during outage`);
    }

    // A tenant first seen during the outage gets exactly the insurance share on each process.
    const fresh = await burst('fresh-in-outage', INSURED + 5);
    expectAnsweredInTime(fresh, 'a burst during the outage');
    for (const fw of FRAMEWORKS) {
      expect(statuses(fresh.filter((s) => s.framework === fw)), `${fw}: insurance decisions`).toEqual({
        200: INSURED,
        429: 5,
      });
    }
    const during = stats();
    for (const fw of FRAMEWORKS) {
      expect(during[fw].storeErrors, `${fw}: store errors counted`).toBeGreaterThan(before[fw].storeErrors);
      expect(during[fw].insured, `${fw}: insured decisions counted`).toBeGreaterThanOrEqual(
        before[fw].insured + INSURED + 5,
      );
      expect(during[fw].outcomes.failed_open, `${fw}: insurance answered, nothing failed open`).toBe(0);
      // The outage was reported once, with its cause, however many requests it failed; never a
      // handler error.
      expect(reportsOf(apps[fw]), `${fw}: reports during the outage`).toEqual([
        { phase: 'dependency:redis', code: 'GH_DEPENDENCY_UNAVAILABLE' },
      ]);
      const outage = apps[fw].reported[0]!.error as Error & { dependency: { name: string } };
      expect(outage.message).toMatch(
        new RegExp(`^redis redis://127\\.0\\.0\\.1:${new URL(server.url).port}/? is unavailable: `),
      );
      expect(outage.cause).toBeDefined();
    }

    await server.restart();
    await expectCountingInRedis('after-restart');
    for (const fw of FRAMEWORKS) {
      // And its end once.
      expect(reportsOf(apps[fw]), `${fw}: reports after the restart`).toEqual([
        { phase: 'dependency:redis', code: 'GH_DEPENDENCY_UNAVAILABLE' },
        { phase: 'dependency:redis', code: 'GH_DEPENDENCY_RECOVERED' },
      ]);
    }
    expect(await keysUnder(client, prefix)).toEqual([`${prefix}:${name}:all:60s:h:after-restart`]);
  }, 20_000);

  test('SIGSTOP (a hung Redis): requests answered within bounded latency by insurance; Redis again after SIGCONT', async () => {
    // Independent of the test before: Redis up, every gateway on it.
    if (!(await pingRedis(server.url))) await server.restart();
    await storesReady(Object.values(stores));
    const before = stats();
    server.pause();
    let hung: Shot[];
    try {
      hung = await burst('while-hung', INSURED + 5);
      hung.push(...(await burst('while-hung-2', 3)));
    } finally {
      server.resume();
    }
    expectAnsweredInTime(hung, 'requests while Redis is hung');
    for (const fw of FRAMEWORKS) {
      const mine = hung.filter((s) => s.framework === fw);
      expect(statuses(mine.slice(0, INSURED + 5)), `${fw}: insurance decisions while hung`).toEqual({
        200: INSURED,
        429: 5,
      });
      // Each waited for the store's timeout (100 ms) before insurance decided.
      expect(
        Math.min(...mine.map((s) => s.ms)),
        `${fw}: waited for the store timeout`,
      ).toBeGreaterThanOrEqual(90);
    }
    const after = stats();
    for (const fw of FRAMEWORKS) {
      expect(
        after[fw].storeErrors - before[fw].storeErrors,
        `${fw}: timeouts counted`,
      ).toBeGreaterThanOrEqual(INSURED + 8);
      expect(after[fw].insured - before[fw].insured, `${fw}: insured decisions`).toBeGreaterThanOrEqual(
        INSURED + 8,
      );
    }
    await expectCountingInRedis('after-sigcont');
  }, 20_000);
});

describe.skipIf(noServer !== undefined)('without insurance while Redis is down', () => {
  const prefix = uniquePrefix('failure');
  let server: RedisServer;
  const apps = {} as Record<Framework, RunningApp>;
  const limiters = {} as Record<Framework, { closed: RateLimit; open: RateLimit }>;

  beforeAll(async () => {
    server = await startRedisServer();
    const stores: LimiterStore[] = [];
    const options = (failure: 'open' | 'closed'): RateLimitOptions => {
      const store = redisStore({ url: server.url, insurance: false });
      stores.push(store);
      return { name: failure, prefix, failure, limits: [{ points: 5, duration: 60 }], store };
    };
    for (const fw of FRAMEWORKS) {
      apps[fw] = await startApp(fw, {
        guards: (gw) => {
          const closed = gw.rateLimiter(options('closed'));
          const open = gw.rateLimiter(options('open'));
          limiters[fw] = { closed, open };
          return { closed: [gw.use(closed)], open: [gw.use(open)] };
        },
      });
    }
    // Up first, then down: the gateways lose a Redis they had.
    await storesReady(stores);
    await server.kill();
    const deadline = Date.now() + 2_000;
    while (stores.some((s) => s.degraded?.() !== true) && Date.now() < deadline) await sleep(10);
  });

  afterAll(async () => {
    await Promise.all(FRAMEWORKS.map((fw) => apps[fw]?.close()));
    await server?.stop();
  });

  test("failure: 'closed' answers 503 GH_RATE_LIMIT_UNAVAILABLE with Retry-After, on every framework", async () => {
    const answers = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const { res, ms } = await shot(apps[fw], 'anyone', '/guarded/closed');
      check(
        res,
        { status: 503, problem: 'GH_RATE_LIMIT_UNAVAILABLE', headers: { 'retry-after': /^[1-9]\d*$/ } },
        fw,
      );
      expect(ms, `${fw}: answered without waiting for Redis`).toBeLessThan(BOUNDED_MS);
      answers[fw] = res;
      const s = limiters[fw].closed.stats();
      expect(s.outcomes.unavailable, `${fw}: counted as unavailable`).toBe(1);
      expect(s.storeErrors).toBe(1);
      expect(s.insured).toBe(0);
    }
    expectAllSame(answers);
  });

  test("failure: 'open' admits with 200 and no RateLimit headers, on every framework", async () => {
    const answers = {} as Record<Framework, RawResponse>;
    for (const fw of FRAMEWORKS) {
      const { res, ms } = await shot(apps[fw], 'anyone', '/guarded/open');
      check(
        res,
        { status: 200, headers: { ratelimit: null, 'ratelimit-policy': null, 'retry-after': null } },
        fw,
      );
      expect(ms, `${fw}: answered without waiting for Redis`).toBeLessThan(BOUNDED_MS);
      answers[fw] = res;
      const s = limiters[fw].open.stats();
      expect(s.outcomes.failed_open, `${fw}: counted as failed open`).toBe(1);
      expect(s.outcomes.allowed).toBe(0);
      expect(s.storeErrors).toBe(1);
    }
    expectAllSame(answers);
  });
});

describe.skipIf(noRedis !== undefined)('a calendar quota on Redis', () => {
  const prefix = uniquePrefix('quota');
  const apps = {} as Record<Framework, RunningApp>;
  let client: Redis;

  beforeAll(async () => {
    client = redisClient(url);
    const stores: LimiterStore[] = [];
    for (const fw of FRAMEWORKS) {
      const store = redisStore({ url });
      stores.push(store);
      apps[fw] = await startApp(fw, {
        chain: (gw) => [
          gw.rateLimit({
            name: 'quota',
            prefix,
            limits: [{ points: 1000, per: 'day' }],
            key: { header: 'x-tenant' },
            store,
          }),
        ],
      });
    }
    await storesReady(stores);
  });

  afterAll(async () => {
    await Promise.all(FRAMEWORKS.map((fw) => apps[fw]?.close()));
    if (client !== undefined) {
      await deleteKeys(client, prefix);
      client.disconnect();
    }
  });

  test('{ per: day }: the Redis key expires at the next UTC midnight', async () => {
    for (const fw of FRAMEWORKS) {
      const tenant = `calendar-${fw}`;
      const { res } = await shot(apps[fw], tenant);
      expect(res.status).toBe(200);
      const now = Date.now();
      const dayStart = Math.floor(now / 86_400_000) * 86_400_000;
      const untilMidnight = Math.ceil((dayStart + 86_400_000 - now) / 1000);
      const key = `${prefix}:quota:all:day:d${dayStart / 86_400_000}:h:${tenant}`;
      expect(await keysUnder(client, `${prefix}:quota:all:day:`)).toContain(key);
      expect(await client.get(key)).toBe('1');
      const ttl = await client.ttl(key);
      expect(
        Math.abs(ttl - untilMidnight),
        `${fw}: TTL ${ttl} s vs ${untilMidnight} s to midnight`,
      ).toBeLessThanOrEqual(2);
      expect(res.headers['ratelimit-policy']?.[0]).toBe('"day";q=1000;w=86400');
      const t = Number(/;t=(\d+)$/.exec(res.headers['ratelimit']?.[0] ?? '')?.[1]);
      expect(Math.abs(t - untilMidnight), `${fw}: RateLimit t=${t}`).toBeLessThanOrEqual(2);
    }
  });
});

describe.skipIf(noRedis !== undefined)('an outbound limiter shared through Redis', () => {
  const prefix = uniquePrefix('outbound');
  const limiters: OutboundLimiter[] = [];
  let client: Redis;

  beforeAll(() => {
    client = redisClient(url);
  });

  afterAll(async () => {
    await Promise.all(limiters.map((l) => l.close()));
    if (client !== undefined) {
      await deleteKeys(client, prefix);
      client.disconnect();
    }
  });

  /** Two limiters with their own Redis clients, as two processes would have. */
  async function pair(name: string, points: number, duration: number, maxWaitMs: number) {
    const stores = [redisStore({ url }), redisStore({ url })];
    const made = stores.map((store) =>
      createOutboundLimiter({ name, prefix, limits: [{ points, duration }], maxWaitMs, store }),
    );
    limiters.push(...made);
    await storesReady(stores);
    return made;
  }

  test('two limiters never admit more than the points of a window in total; the rest wait for the next', async () => {
    const POINTS = 5;
    const [a, b] = await pair('waits', POINTS, 1, 4_000);
    const start = Date.now();
    const admittedAt = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a! : b!).acquire().then(() => Date.now() - start)),
    );
    admittedAt.sort((x, y) => x - y);
    // Admissions come in clusters, one per window: every waiter wakes when the window resets.
    const windows: number[][] = [];
    for (const at of admittedAt) {
      const current = windows.at(-1);
      if (current !== undefined && at - current[0]! < 500) current.push(at);
      else windows.push([at]);
    }
    const sizes = windows.map((w) => w.length);
    expect(sizes[0], `admissions per window: ${JSON.stringify(windows)}`).toBe(POINTS);
    expect(Math.max(...sizes), `admissions per window: ${JSON.stringify(windows)}`).toBeLessThanOrEqual(
      POINTS,
    );
    expect(windows.length).toBeGreaterThanOrEqual(Math.ceil(12 / POINTS));
    // Each later window starts about a full window (1 s) after the one before it.
    for (let i = 1; i < windows.length; i++) {
      expect(windows[i]![0]! - windows[i - 1]![0]!, `window ${i} start`).toBeGreaterThanOrEqual(700);
    }
    expect(a!.stats().admitted + b!.stats().admitted).toBe(12);
  }, 15_000);

  test('calls that cannot get a token within maxWaitMs fail with GH_OUTBOUND_LIMITED', async () => {
    const POINTS = 3;
    const MAX_WAIT = 300;
    const [a, b] = await pair('refuses', POINTS, 5, MAX_WAIT);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const started = Date.now();
        try {
          await (i % 2 === 0 ? a! : b!).acquire();
          return { ok: true as const, ms: Date.now() - started };
        } catch (error) {
          return { ok: false as const, ms: Date.now() - started, error };
        }
      }),
    );
    expect(outcomes.filter((o) => o.ok).length, 'admitted across both limiters').toBe(POINTS);
    const refused = outcomes.filter((o) => !o.ok);
    expect(refused.length).toBe(8 - POINTS);
    for (const o of refused) {
      expect(isGatehouseError(o.error), String(o.error)).toBe(true);
      const error = o.error as { code: string; status: number; headers?: Record<string, string> };
      expect(error.code).toBe('GH_OUTBOUND_LIMITED');
      expect(error.status).toBe(503);
      expect(Number(error.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(o.ms, 'refused no later than maxWaitMs').toBeLessThanOrEqual(MAX_WAIT + 100);
    }
    expect(a!.stats().rejected + b!.stats().rejected).toBe(8 - POINTS);
  });
});
