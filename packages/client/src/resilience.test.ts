// The client's protective policies against real failing upstreams: outlier ejection and panic
// routing, endpoint and service circuit breakers, bulkheads, hedging and active health checks.
import { describe, expect, test } from 'vitest';
import type { Client } from './client.js';
import {
  answer,
  preferring,
  rejection,
  sleep,
  timed,
  type Upstream,
  useFixtures,
  waitFor,
} from './test-upstreams.js';

const fx = useFixtures();

const endpointStats = (client: Client, id: string) => {
  const found = client.stats().endpoints.find((e) => e.id === id);
  if (found === undefined) throw new Error(`no endpoint ${id} in stats`);
  return found;
};

/** One GET, body drained: the status. */
const get = async (client: Client, path = '/') => {
  const res = await client.request({ path });
  await res.body.dump();
  return res.statusCode;
};

describe('outlier ejection', () => {
  test('one of five endpoints answering 5xx is ejected within one burst; the others carry all traffic; ejections grow', async () => {
    const good = await Promise.all(Array.from({ length: 4 }, () => fx.upstream()));
    const bad = await fx.upstream(answer(503));
    const client = fx.client({
      name: 'orders',
      endpoints: [...good, bad].map((u) => u.url),
      balancer: 'round-robin',
      // The endpoint breaker would take it out as well; this test is about ejection alone.
      breaker: { endpoint: false },
      outlier: { consecutiveFailures: 3, baseEjectionMs: 300 },
      // No backoff before the retry, so a call returns right when its failure ejected the endpoint.
      retry: { backoff: { baseMs: 1, maxMs: 1 } },
    });

    /** Sends calls (each answered 200 through retries) until `done`; returns when it happened. */
    const until = async (what: string, done: () => boolean) => {
      for (let i = 0; i < 400; i++) {
        expect(await get(client)).toBe(200);
        if (done()) return performance.now();
        await sleep(2);
      }
      throw new Error(`never saw: ${what}`);
    };

    const ejected1 = await until('the first ejection', () => endpointStats(client, bad.id).ejected);
    // Ejected within one burst: exactly `consecutiveFailures` 5xx reached it.
    expect(bad.hits()).toBe(3);
    expect(endpointStats(client, bad.id).ejections).toBe(1);
    const during = bad.hits();
    const back1 = await until('the end of the first ejection', () => !endpointStats(client, bad.id).ejected);
    const first = back1 - ejected1;
    expect(bad.hits()).toBe(during);
    expect(first).toBeGreaterThanOrEqual(290);
    expect(first).toBeLessThan(500);

    const ejected2 = await until('the second ejection', () => endpointStats(client, bad.id).ejected);
    expect(bad.hits()).toBe(6);
    expect(endpointStats(client, bad.id).ejections).toBe(2);
    const back2 = await until('the end of the second ejection', () => !endpointStats(client, bad.id).ejected);
    const second = back2 - ejected2;
    // The n-th ejection lasts n × baseEjectionMs.
    expect(second).toBeGreaterThanOrEqual(590);
    expect(second).toBeLessThan(850);
    expect(second).toBeGreaterThan(first);
    for (const g of good) expect(endpointStats(client, g.id).ejected).toBe(false);
    expect(good.reduce((n, g) => n + g.hits(), 0)).toBeGreaterThan(20);
  });
});

describe('panic routing', () => {
  test('when every endpoint is ejected the client routes to all rather than none, and answers on time', async () => {
    const ups = await Promise.all(Array.from({ length: 3 }, () => fx.upstream(answer(503))));
    const client = fx.client({
      name: 'orders',
      endpoints: ups.map((u) => u.url),
      breaker: { endpoint: false },
      outlier: { consecutiveFailures: 2, maxEjectionPercent: 100, baseEjectionMs: 10_000 },
    });
    for (let i = 0; i < 30 && !client.stats().endpoints.every((e) => e.ejected); i++) {
      expect(await get(client)).toBe(503);
    }
    expect(client.stats().endpoints.every((e) => e.ejected)).toBe(true);
    const before = ups.reduce((n, u) => n + u.hits(), 0);
    const panicsBefore = client.stats().panics;
    for (let i = 0; i < 5; i++) {
      const { value: status, ms } = await timed(() => get(client));
      expect(status).toBe(503);
      expect(ms).toBeLessThan(500);
    }
    // The calls still reached the (ejected) upstreams: the client answered with what they said.
    expect(ups.reduce((n, u) => n + u.hits(), 0)).toBeGreaterThanOrEqual(before + 5);
    expect(client.stats().panics).toBeGreaterThan(panicsBefore);
  });

  test('maxEjectionPercent caps how many failing endpoints are ejected at once', async () => {
    const ups = await Promise.all(Array.from({ length: 4 }, () => fx.upstream(answer(503))));
    const client = fx.client({
      name: 'orders',
      endpoints: ups.map((u) => u.url),
      breaker: { endpoint: false },
      outlier: { consecutiveFailures: 2, maxEjectionPercent: 50, baseEjectionMs: 10_000 },
    });
    let most = 0;
    for (let i = 0; i < 40; i++) {
      const { value: status, ms } = await timed(() => get(client));
      expect(status).toBe(503);
      expect(ms).toBeLessThan(500);
      most = Math.max(most, client.stats().endpoints.filter((e) => e.ejected).length);
    }
    expect(most).toBe(2);
    // The two left in rotation kept getting the traffic.
    const stillIn = ups.filter((u) => !endpointStats(client, u.id).ejected);
    expect(stillIn).toHaveLength(2);
    for (const u of stillIn) expect(u.hits()).toBeGreaterThan(5);
  });
});

/** Lets the upstream fail or succeed on demand, and remembers when each answer went out. */
function switchable(upstream: Upstream, status: { value: number; delayMs?: number }) {
  const answered: number[] = [];
  upstream.handler = async (_req, res) => {
    if (status.delayMs !== undefined) await sleep(status.delayMs);
    res.writeHead(status.value);
    res.end();
    answered.push(performance.now());
  };
  return answered;
}

describe('endpoint circuit breaker', () => {
  const breaker = { endpoint: { threshold: 3, halfOpenAfterMs: 200 }, service: false } as const;

  test('opens after consecutive failures; after halfOpenAfterMs one probe reaches the endpoint while another serves; success closes it', async () => {
    const flaky = await fx.upstream();
    const status = { value: 503 };
    switchable(flaky, status);
    const steady = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [flaky.url, steady.url],
      balancer: preferring(flaky.id, steady.id),
      breaker,
      outlier: false,
    });
    for (let i = 0; i < 3; i++) expect(await get(client)).toBe(200);
    expect(flaky.hits()).toBe(3);
    expect(endpointStats(client, flaky.id).circuit).toBe('open');
    const openedAt = performance.now();
    // While open, calls go to the other endpoint without touching it.
    expect(await get(client)).toBe(200);
    expect(flaky.hits()).toBe(3);

    status.value = 200;
    await waitFor(
      'a half-open probe to reach the endpoint whose circuit opened',
      async () => {
        expect(await get(client)).toBe(200);
        return flaky.hits() > 3;
      },
      { timeoutMs: 2_000 },
    );
    expect(flaky.seen[3]!.at - openedAt).toBeGreaterThanOrEqual(150);
    expect(endpointStats(client, flaky.id).circuit).toBe('closed');
    const before = flaky.hits();
    for (let i = 0; i < 3; i++) expect(await get(client)).toBe(200);
    expect(flaky.hits()).toBe(before + 3);
  });

  test('calls their callers cancel (a client that went away) do not count against the endpoint', async () => {
    const slow = await fx.upstream(async (_req, res) => {
      await sleep(300);
      res.end('late');
    });
    const client = fx.client({ name: 'orders', endpoints: [slow.url], breaker, outlier: false });
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const call = client.request({ path: '/', signal: controller.signal });
      setTimeout(() => controller.abort(new Error('gone')), 20);
      await expect(call).rejects.toThrow('gone');
      let cancel: ((reason?: unknown) => void) | undefined;
      const bound = client.request({ path: '/', bindCancel: (c) => (cancel = c) });
      setTimeout(() => cancel!(new Error('gone too')), 20);
      await expect(bound).rejects.toThrow('gone too');
    }
    expect(endpointStats(client, slow.id).circuit).toBe('closed');
    expect(await get(client)).toBe(200);
  });

  /**
   * Drives one endpoint's breaker: opens it, lets a probe fail (re-opening it), then a probe
   * succeed. Returns how long each open lasted, measured from the upstream's side.
   */
  const cycle = async () => {
    const upstream = await fx.upstream();
    const status: { value: number; delayMs?: number } = { value: 503 };
    const answered = switchable(upstream, status);
    const client = fx.client({
      name: 'orders',
      endpoints: [upstream.url],
      breaker,
      outlier: false,
      retry: { maxAttempts: 1 },
    });
    for (let i = 0; i < 3; i++) expect(await get(client)).toBe(503);
    expect(endpointStats(client, upstream.id).circuit).toBe('open');
    const opened = answered[2]!;
    // Open: calls fail fast with GH_CIRCUIT_OPEN and never reach the upstream.
    const { value: error, ms } = await timed(() =>
      get(client).then(
        () => ({ code: 'the circuit let a call through right after opening' }),
        (e: { code?: string }) => e,
      ),
    );
    expect(error).toMatchObject({ code: 'GH_CIRCUIT_OPEN', status: 503 });
    expect(ms).toBeLessThan(50);
    expect(upstream.hits()).toBe(3);

    /** Fires a call every 10 ms until the n-th probe reached the upstream; waits for all of them. */
    const probe = async (n: number) => {
      const calls: Promise<number | string>[] = [];
      const call = () => get(client).catch((e: { code?: string }) => e.code ?? 'no code');
      await waitFor(
        `probe ${n}`,
        () => {
          calls.push(call());
          return upstream.hits() > 2 + n;
        },
        { timeoutMs: 3_000 },
      );
      // Calls made while the probe is out fail fast rather than reach the upstream beside it.
      for (let i = 0; i < 5; i++) {
        calls.push(call());
        await sleep(10);
      }
      return { at: upstream.seen[2 + n]!.at, statuses: await Promise.all(calls) };
    };
    // The first probe fails: the circuit re-opens, for longer.
    const probe1 = await probe(1);
    expect(answered, 'the re-opened circuit let another call through within ~50 ms').toHaveLength(4);
    expect(upstream.hits()).toBe(4);
    expect(probe1.statuses.filter((s) => s === 503)).toHaveLength(1);
    expect(probe1.statuses.filter((s) => s !== 503 && s !== 'GH_CIRCUIT_OPEN')).toEqual([]);
    expect(endpointStats(client, upstream.id).circuit).toBe('open');
    const reopened = answered[3]!;
    // The second probe is slow and passes; the calls made while it is out are refused at once.
    status.value = 200;
    status.delayMs = 400;
    const probe2 = await probe(2);
    expect(upstream.hits(), 'a call reached the endpoint beside its half-open probe').toBe(5);
    expect(probe2.statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(probe2.statuses.filter((s) => s !== 200 && s !== 'GH_CIRCUIT_OPEN')).toEqual([]);
    expect(probe2.statuses.length).toBeGreaterThan(5);
    expect(endpointStats(client, upstream.id).circuit).toBe('closed');
    status.delayMs = 0;
    expect(await get(client)).toBe(200);
    return { first: probe1.at - opened, second: probe2.at - reopened };
  };

  test('a probe that never left (its tracer threw) gives its turn back: the next call probes and closes the circuit', async () => {
    const upstream = await fx.upstream();
    const status = { value: 503 };
    switchable(upstream, status);
    let tracerBroken = false;
    const client = fx.client({
      name: 'orders',
      endpoints: [upstream.url],
      breaker: { endpoint: { threshold: 1, halfOpenAfterMs: 50 }, service: false },
      outlier: false,
      retry: { maxAttempts: 1 },
      tracer: {
        startClientSpan: () => {
          if (tracerBroken) throw new Error('tracer broke');
          return { headers: {}, end: () => {} };
        },
      },
    });
    expect(await get(client)).toBe(503);
    expect(endpointStats(client, upstream.id).circuit).toBe('open');
    await sleep(70);
    status.value = 200;
    tracerBroken = true;
    await expect(get(client)).rejects.toMatchObject({ code: 'GH_UPSTREAM_BAD_RESPONSE' });
    expect(upstream.hits()).toBe(1);
    expect(endpointStats(client, upstream.id).circuit).toBe('open');
    tracerBroken = false;
    expect(await get(client)).toBe(200);
    expect(endpointStats(client, upstream.id).circuit).toBe('closed');
  });

  test('a failed half-open probe re-opens the circuit for longer (exponential backoff); a passing one closes it', async () => {
    // Four endpoints at once: the open durations are what is measured, and each must follow the rule.
    const results = await Promise.all([cycle(), cycle(), cycle(), cycle()]);
    for (const { first, second } of results) {
      // The first open lasts halfOpenAfterMs; each failed probe doubles it.
      expect(first).toBeGreaterThanOrEqual(190);
      expect(second).toBeGreaterThanOrEqual(380);
      expect(second).toBeGreaterThan(first);
    }
  });
});

describe('service circuit breaker', () => {
  test('opens for the whole service after consecutive failures: GH_CIRCUIT_OPEN without a call; closes after a good probe', async () => {
    const a = await fx.upstream();
    const status = { value: 503 };
    switchable(a, status);
    const client = fx.client({
      name: 'orders',
      endpoints: [a.url],
      breaker: { endpoint: false, service: { threshold: 3, halfOpenAfterMs: 200 } },
      outlier: false,
      retry: { maxAttempts: 1 },
    });
    for (let i = 0; i < 3; i++) expect(await get(client)).toBe(503);
    const { value: error, ms } = await timed(() => rejection(get(client)));
    expect(error).toMatchObject({ code: 'GH_CIRCUIT_OPEN', status: 503 });
    expect(ms).toBeLessThan(50);
    expect(a.hits()).toBe(3);
    status.value = 200;
    await waitFor(
      'the service circuit to let a probe through',
      async () => (await get(client).catch(() => 0)) === 200,
      {
        timeoutMs: 3_000,
      },
    );
    expect(a.hits()).toBe(4);
    for (let i = 0; i < 3; i++) expect(await get(client)).toBe(200);
    expect(a.hits()).toBe(7);
  });
});

describe('bulkhead', () => {
  test('maxConcurrent in flight, maxPending waiting, the rest refused at once with GH_CLIENT_BULKHEAD_FULL', async () => {
    const slow = await fx.upstream(answer(200, 300));
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url],
      bulkhead: { maxConcurrent: 2, maxPending: 1 },
    });
    const started = performance.now();
    const settled = Array.from({ length: 5 }, () =>
      get(client).then(
        (status) => ({ status, ms: performance.now() - started }),
        (error: { code?: string; status?: number }) => ({ error, ms: performance.now() - started }),
      ),
    );
    const results = await Promise.all(settled);
    const refused = results.filter((r) => 'error' in r);
    const served = results.filter((r) => 'status' in r);
    expect(served).toHaveLength(3);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r).toMatchObject({ error: { code: 'GH_CLIENT_BULKHEAD_FULL', status: 503 } });
      expect(r.ms).toBeLessThan(100);
    }
    expect(slow.maxInflight).toBe(2);
    expect(slow.hits()).toBe(3);
    // The one that waited ran after a slot freed.
    expect(Math.max(...served.map((r) => r.ms))).toBeGreaterThanOrEqual(590);
  });
});

describe('hedging', () => {
  test('a slow first endpoint: the hedge to a fast one answers within about delayMs + its own time', async () => {
    const slow = await fx.upstream(answer(200, 1_000));
    const fast = await fx.upstream(answer(200, 10));
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url, fast.url],
      balancer: preferring(slow.id, fast.id),
      hedge: { delayMs: 50, maxPercent: 100 },
    });
    const { value: res, ms } = await timed(() => client.request({ path: '/orders/1' }));
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.endpoint.id).toBe(fast.id);
    expect(ms).toBeGreaterThanOrEqual(55);
    expect(ms).toBeLessThan(250);
    expect(slow.hits()).toBe(1);
    expect(fast.hits()).toBe(1);
    expect(client.stats().hedges).toBe(1);
    // The losing attempt is cancelled, not left to run.
    await waitFor('the losing attempt to be cancelled', () => slow.inflight === 0, { timeoutMs: 500 });
  });

  test('hedges are capped at maxPercent of calls', async () => {
    const slow = await fx.upstream(answer(200, 300));
    const fast = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url, fast.url],
      balancer: preferring(slow.id, fast.id),
      hedge: { delayMs: 30, maxPercent: 20 },
    });
    const statuses = await Promise.all(Array.from({ length: 50 }, () => get(client)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(client.stats().hedges).toBeGreaterThan(0);
    expect(client.stats().hedges).toBeLessThanOrEqual(10);
    expect(fast.hits()).toBe(client.stats().hedges);
  });

  test('a non-idempotent call is never hedged', async () => {
    const slow = await fx.upstream(answer(200, 200));
    const fast = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url, fast.url],
      balancer: preferring(slow.id, fast.id),
      hedge: { delayMs: 20, maxPercent: 100 },
    });
    const { value: res, ms } = await timed(() =>
      client.request({ method: 'POST', path: '/orders', body: '{}' }),
    );
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(res.endpoint.id).toBe(slow.id);
    expect(ms).toBeGreaterThanOrEqual(195);
    expect(fast.hits()).toBe(0);
    expect(client.stats().hedges).toBe(0);
  });
});

describe('active health checks', () => {
  test('an endpoint failing unhealthyThreshold probes is taken out, and comes back after healthyThreshold passes', async () => {
    let healthStatus = 200;
    const flaky = await fx.upstream(async (req, res) => {
      if (req.url === '/health') {
        res.writeHead(healthStatus);
        res.end();
        return;
      }
      await answer(200)(req, res);
    });
    const steady = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [flaky.url, steady.url],
      balancer: preferring(flaky.id, steady.id),
      healthCheck: {
        path: '/health',
        intervalMs: 50,
        unhealthyThreshold: 2,
        healthyThreshold: 3,
        timeoutMs: 500,
      },
    });
    await waitFor('the first probes', () => flaky.hits('/health') >= 1 && steady.hits('/health') >= 1);
    expect(endpointStats(client, flaky.id).healthy).toBe(true);
    expect(await get(client, '/work')).toBe(200);
    expect(flaky.hits('/work')).toBe(1);

    healthStatus = 500;
    const failingFrom = flaky.hits('/health');
    await waitFor('the endpoint to be taken out', () => !endpointStats(client, flaky.id).healthy);
    // Not before `unhealthyThreshold` failed probes.
    expect(flaky.hits('/health') - failingFrom).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 10; i++) expect(await get(client, '/work')).toBe(200);
    expect(flaky.hits('/work')).toBe(1);
    expect(steady.hits('/work')).toBe(10);

    healthStatus = 200;
    const passingFrom = flaky.hits('/health');
    await waitFor('the endpoint to come back', () => endpointStats(client, flaky.id).healthy);
    expect(flaky.hits('/health') - passingFrom).toBeGreaterThanOrEqual(3);
    expect(await get(client, '/work')).toBe(200);
    expect(flaky.hits('/work')).toBe(2);
  });
});
