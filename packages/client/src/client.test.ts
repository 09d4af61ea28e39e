// createClient() over real sockets: calls and fetch, endpoints leaving discovery mid-flight,
// deadline propagation, and load balancing (p2c, EWMA, ring hash, zones, priorities).
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { ensureExchange, enter, Gateway, isGatehouseError } from '@gatehousejs/core';
import { describe, expect, test } from 'vitest';
import type { Client } from './client.js';
import { DEADLINE_HEADER, deadline, withDeadline } from './deadline.js';
import {
  answer,
  endpointOf,
  mutableResolver,
  preferring,
  rejection,
  sleep,
  timed,
  type Upstream,
  useFixtures,
  waitFor,
} from './test-upstreams.js';

const fx = useFixtures();

const get = async (client: Client, options: { path?: string; hashKey?: string } = {}) => {
  const res = await client.request({ path: options.path ?? '/', hashKey: options.hashKey });
  await res.body.dump();
  return res;
};

/** Runs `count` calls, `concurrency` at a time. */
async function load(count: number, concurrency: number, call: () => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('calls', () => {
  test('request() sends method, path, headers and body, and tells which endpoint answered', async () => {
    const echo = await fx.upstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'echo' });
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            tenant: req.headers['x-tenant'],
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
    });
    const client = fx.client({ name: 'orders', endpoints: [echo.url] });
    const res = await client.request({
      method: 'PUT',
      path: '/orders/42?expand=lines',
      headers: { 'x-tenant': 't1' },
      body: '{"qty":2}',
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-upstream']).toBe('echo');
    expect(await res.body.json()).toEqual({
      method: 'PUT',
      url: '/orders/42?expand=lines',
      tenant: 't1',
      body: '{"qty":2}',
    });
    expect(res.endpoint.id).toBe(echo.id);
    expect(res.attempts).toBe(1);
    expect(client.stats()).toMatchObject({ requests: 1, retries: 0, hedges: 0, panics: 0 });
    // The call stays in flight until its body closes (a tick after it was read).
    await waitFor('the body to close', () => client.stats().endpoints[0]?.inflight === 0, { timeoutMs: 500 });
    expect(client.stats().endpoints).toEqual([
      expect.objectContaining({ id: echo.id, requests: 1, failures: 0, ejected: false, circuit: 'closed' }),
    ]);
  });

  test('fetch() gives a WHATWG Response and retries a buffered body', async () => {
    const flaky = await fx.upstream(answer(503));
    const echo = await fx.upstream((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ body, type: req.headers['content-type'] }));
      });
    });
    const client = fx.client({
      name: 'orders',
      endpoints: [flaky.url, echo.url],
      balancer: preferring(flaky.id, echo.id),
    });
    const res = await client.fetch('/orders', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ qty: 2 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ body: '{"qty":2}', type: 'application/json' });
    expect(flaky.hits()).toBe(1);
  });

  test('a caller abort cancels the call at once', async () => {
    const slow = await fx.upstream(answer(200, 2_000));
    const client = fx.client({ name: 'orders', endpoints: [slow.url] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    const { value: error, ms } = await timed(() =>
      rejection(client.request({ path: '/', signal: controller.signal })),
    );
    expect(error.message).toBe('caller gave up');
    expect(ms).toBeLessThan(300);
    expect(slow.hits()).toBe(1);
  });
});

describe('discovery changes', () => {
  test('an endpoint removed while calls to it are in flight: they finish there; new calls go elsewhere', async () => {
    const leaving = await fx.upstream(answer(200, 300));
    const staying = await fx.upstream();
    const a = endpointOf(leaving.url);
    const b = endpointOf(staying.url);
    const resolver = mutableResolver([a, b]);
    const client = fx.client({ name: 'orders', resolver, balancer: preferring(a.id, b.id) });

    const inFlight = Array.from({ length: 4 }, () =>
      client.request({ path: '/slow' }).then(async (res) => ({
        status: res.statusCode,
        endpoint: res.endpoint.id,
        body: await res.body.text(),
      })),
    );
    await waitFor('the calls to reach the leaving endpoint', () => leaving.inflight === 4);
    resolver.set([b]);

    for (let i = 0; i < 5; i++) expect((await get(client)).endpoint.id).toBe(b.id);
    expect(leaving.hits()).toBe(4);
    expect(await Promise.all(inFlight)).toEqual(
      Array.from({ length: 4 }, () => ({ status: 200, endpoint: a.id, body: '200' })),
    );
    expect(client.stats().endpoints.map((e) => e.id)).toEqual([b.id]);
  });

  test('an endpoint added by discovery starts taking calls', async () => {
    const first = await fx.upstream();
    const added = await fx.upstream();
    const resolver = mutableResolver([endpointOf(first.url)]);
    const client = fx.client({ name: 'orders', resolver, balancer: 'round-robin' });
    for (let i = 0; i < 4; i++) await get(client);
    resolver.set([endpointOf(first.url), endpointOf(added.url)]);
    for (let i = 0; i < 10; i++) await get(client);
    expect(first.hits()).toBe(9);
    expect(added.hits()).toBe(5);
  });
});

describe('deadline propagation', () => {
  const recordDeadline = () => {
    const received: number[] = [];
    return {
      received,
      handler: (req: IncomingMessage, res: ServerResponse) => {
        received.push(Number(req.headers[DEADLINE_HEADER]));
        res.writeHead(200);
        res.end();
      },
    };
  };

  test('the callee receives the remaining budget, at most timeouts.totalMs', async () => {
    const { received, handler } = recordDeadline();
    const callee = await fx.upstream(handler);
    const client = fx.client({ name: 'orders', endpoints: [callee.url], timeouts: { totalMs: 2_000 } });
    await get(client);
    expect(received).toHaveLength(1);
    expect(Number.isInteger(received[0])).toBe(true);
    expect(received[0]).toBeGreaterThan(1_900);
    expect(received[0]).toBeLessThanOrEqual(2_000);
  });

  test('a caller cannot override the budget sent, however it spells the header', async () => {
    const callee = await fx.upstream();
    const client = fx.client({ name: 'orders', endpoints: [callee.url], timeouts: { totalMs: 1_000 } });
    for (const name of [DEADLINE_HEADER, DEADLINE_HEADER.toUpperCase()]) {
      const res = await client.request({ path: '/', headers: { [name]: '999999' } });
      await res.body.dump();
    }
    const sent = callee.seen.map((s) => s.headers[DEADLINE_HEADER]);
    expect(sent).toHaveLength(2);
    for (const value of sent) {
      // One value (not the caller's joined with the client's), within the client's own budget.
      expect(value).toMatch(/^\d+$/);
      expect(Number(value)).toBeLessThanOrEqual(1_000);
    }
  });

  test('a retry carries what is left, less than the first attempt', async () => {
    const received: number[] = [];
    const slow = await fx.upstream(async (req, res) => {
      received.push(Number(req.headers[DEADLINE_HEADER]));
      await sleep(1_000);
      if (!res.destroyed) res.end();
    });
    const fast = await fx.upstream((req, res) => {
      received.push(Number(req.headers[DEADLINE_HEADER]));
      res.end();
    });
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url, fast.url],
      balancer: preferring(slow.id, fast.id),
      timeouts: { perTryMs: 200, totalMs: 1_000 },
    });
    await get(client);
    expect(received).toHaveLength(2);
    expect(received[0]).toBeLessThanOrEqual(1_000);
    expect(received[1]).toBeLessThanOrEqual(received[0]! - 200);
  });

  test('withDeadline() tightens the budget sent and the time a call may take; it never extends it', async () => {
    const { received, handler } = recordDeadline();
    const callee = await fx.upstream(handler);
    const client = fx.client({ name: 'orders', endpoints: [callee.url] });
    await withDeadline(300, () => get(client));
    await withDeadline(300, () => withDeadline(5_000, () => get(client)));
    expect(received).toHaveLength(2);
    for (const value of received) {
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThanOrEqual(300);
    }

    const slow = await fx.upstream(answer(200, 2_000));
    const slowClient = fx.client({ name: 'slow', endpoints: [slow.url] });
    const { value: error, ms } = await timed(() => rejection(withDeadline(200, () => get(slowClient))));
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_TIMEOUT', status: 504 });
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(600);
  });

  test('a deadline already passed fails fast with GH_UPSTREAM_TIMEOUT, without calling', async () => {
    const callee = await fx.upstream();
    const client = fx.client({ name: 'orders', endpoints: [callee.url] });
    const error = await rejection(
      withDeadline(5, async () => {
        await sleep(30);
        const { value, ms } = await timed(() => rejection(get(client)));
        expect(ms).toBeLessThan(20);
        throw value;
      }),
    );
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_TIMEOUT', status: 504 });
    expect(callee.hits()).toBe(0);
  });

  /**
   * A middle service on Gatehouse core: deadline() on its incoming requests, then one outbound call
   * with `client` (to a callee that records the budget it got), answering with the call's status or
   * error code.
   */
  const middleService = async (gateway: Gateway, client: Client) => {
    const mw = deadline();
    return fx.upstream(async (req, res) => {
      const exchange = ensureExchange(req, res, gateway);
      const step = await enter(exchange, mw);
      expect(step).toBeUndefined();
      try {
        const out = await exchange.proceed(() => get(client));
        res.writeHead(200);
        res.end(String(out.statusCode));
      } catch (error) {
        res.writeHead(isGatehouseError(error) ? error.status : 500);
        res.end(isGatehouseError(error) ? error.code : String(error));
      }
    });
  };
  const callMiddle = (middle: Upstream, budgetMs: number) =>
    new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const req = httpRequest(
        `${middle.url}/`,
        { headers: { [DEADLINE_HEADER]: String(budgetMs) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });

  test('the deadline() middleware on a default gateway: outbound calls get the caller budget, and end when it does', async () => {
    const gateway = new Gateway();
    const { received, handler } = recordDeadline();
    const callee = await fx.upstream(handler);
    const slowCallee = await fx.upstream(answer(200, 2_000));
    const toCallee = fx.client({ name: 'callee', endpoints: [callee.url] });
    const toSlow = fx.client({ name: 'slow', endpoints: [slowCallee.url] });
    const middle = await middleService(gateway, toCallee);
    const answered = await callMiddle(middle, 400);
    expect(answered).toMatchObject({ status: 200, body: '200' });
    expect(received).toHaveLength(1);
    expect(received[0]).toBeGreaterThan(0);
    expect(received[0]).toBeLessThanOrEqual(400);

    const slowMiddle = await middleService(gateway, toSlow);
    const timedOut = await callMiddle(slowMiddle, 250);
    expect(timedOut).toMatchObject({ status: 504, body: 'GH_UPSTREAM_TIMEOUT' });
    expect(timedOut.ms).toBeGreaterThanOrEqual(230);
    expect(timedOut.ms).toBeLessThan(700);
  });
});

describe('load balancing', () => {
  const share = (ups: Upstream[]) => {
    const total = ups.reduce((n, u) => n + u.hits(), 0);
    return ups.map((u) => u.hits() / total);
  };

  test('p2c spreads concurrent load over every endpoint', async () => {
    const ups = await Promise.all(Array.from({ length: 4 }, () => fx.upstream(answer(200, 5))));
    const client = fx.client({ name: 'orders', endpoints: ups.map((u) => u.url) });
    await load(200, 8, () => get(client));
    for (const s of share(ups)) expect(s).toBeGreaterThan(0.15);
  });

  test('p2c avoids an endpoint that is slow (its calls pile up)', async () => {
    const slow = await fx.upstream(answer(200, 200));
    const fast = await Promise.all([fx.upstream(answer(200, 2)), fx.upstream(answer(200, 2))]);
    const client = fx.client({ name: 'orders', endpoints: [slow.url, ...fast.map((u) => u.url)] });
    await load(150, 6, () => get(client));
    expect(share([slow, ...fast])[0]).toBeLessThan(0.1);
  });

  test('ewma avoids a slow endpoint even for one call at a time', async () => {
    // Much slower than any hiccup of a loaded machine, which EWMA would remember as well.
    const slow = await fx.upstream(answer(200, 300));
    const fast = await Promise.all([fx.upstream(), fx.upstream()]);
    const client = fx.client({
      name: 'orders',
      endpoints: [slow.url, ...fast.map((u) => u.url)],
      balancer: 'ewma',
    });
    for (let i = 0; i < 40; i++) await get(client);
    expect(slow.hits(), JSON.stringify(client.stats().endpoints)).toBeLessThanOrEqual(4);
  });

  test('ring-hash sends the same hashKey to the same endpoint, and different keys across endpoints', async () => {
    const ups = await Promise.all(Array.from({ length: 4 }, () => fx.upstream()));
    const client = fx.client({ name: 'orders', endpoints: ups.map((u) => u.url), balancer: 'ring-hash' });
    const owner = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 20; k++) {
        const key = `cart-${k}`;
        const res = await get(client, { hashKey: key });
        if (!owner.has(key)) owner.set(key, new Set());
        owner.get(key)!.add(res.endpoint.id);
      }
    }
    for (const [, endpoints] of owner) expect(endpoints.size).toBe(1);
    expect(new Set([...owner.values()].map((s) => [...s][0])).size).toBeGreaterThanOrEqual(3);
  });

  test('zone preference: the local zone takes every call while it can, the others when it cannot', async () => {
    const [a, b, local] = await Promise.all([fx.upstream(), fx.upstream(), fx.upstream()]);
    const resolver = mutableResolver([
      endpointOf(a!.url, { zone: 'zone-a' }),
      endpointOf(b!.url, { zone: 'zone-a' }),
      endpointOf(local!.url, { zone: 'zone-b' }),
    ]);
    const client = fx.client({
      name: 'orders',
      resolver,
      zone: 'zone-b',
      breaker: { endpoint: false },
      outlier: { consecutiveFailures: 2 },
    });
    for (let i = 0; i < 20; i++) expect((await get(client)).endpoint.id).toBe(local!.id);
    expect(a!.hits() + b!.hits()).toBe(0);

    local!.handler = answer(503);
    for (let i = 0; i < 20; i++) expect((await get(client)).statusCode).toBe(200);
    expect(local!.hits()).toBe(22);
    expect(a!.hits() + b!.hits()).toBe(20);
  });

  test('priorities (as SRV): the lower group takes all calls; the higher only once the whole lower group is ejected', async () => {
    const [a, b, backup] = await Promise.all([fx.upstream(), fx.upstream(), fx.upstream()]);
    let client: Client | undefined;
    const lowerEjectedAtArrival: boolean[] = [];
    // The backup endpoint records whether both preferred ones were ejected when a call reached it.
    backup.handler = (_req, res) => {
      const stats = client!.stats().endpoints;
      lowerEjectedAtArrival.push(stats.filter((e) => e.id !== 'backup').every((e) => e.ejected));
      res.end('backup');
    };
    const resolver = mutableResolver([
      endpointOf(a.url, { priority: 0 }),
      endpointOf(b.url, { priority: 0 }),
      endpointOf(backup.url, { id: 'backup', priority: 1 }),
    ]);
    client = fx.client({
      name: 'orders',
      resolver,
      breaker: { endpoint: false },
      outlier: { consecutiveFailures: 2, maxEjectionPercent: 100, baseEjectionMs: 10_000 },
    });
    for (let i = 0; i < 20; i++) expect((await get(client)).statusCode).toBe(200);
    expect(a.hits() + b.hits()).toBe(20);
    expect(backup.hits()).toBe(0);

    a.handler = answer(503);
    b.handler = answer(503);
    for (let i = 0; i < 10; i++) await get(client);
    expect(backup.hits()).toBeGreaterThan(0);
    expect(lowerEjectedAtArrival.every(Boolean)).toBe(true);
    for (let i = 0; i < 5; i++) expect((await get(client)).endpoint.id).toBe('backup');
  });
});
