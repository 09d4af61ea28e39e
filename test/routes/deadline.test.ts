// A proxied route has one deadline that every try shares, on every framework: 10 s unless the route
// says otherwise, any try may use all of it (a slow service is tried once, never three times), and a
// fast failure is still retried within it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FRAMEWORKS,
  type Framework,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from './harness.js';

async function call(app: RoutesApp, path: string) {
  const started = performance.now();
  const res = await request(`${app.url}${path}`);
  const text = await res.body.text();
  return {
    status: res.statusCode,
    json: text === '' ? undefined : JSON.parse(text),
    ms: performance.now() - started,
  };
}

const ROUTE_DEADLINE_MS = 800;

describe.each(FRAMEWORKS)('the deadline of a proxied route on %s', (framework: Framework) => {
  let fast: Upstream;
  let hanging: Upstream;
  let flaky: Upstream;
  let app: RoutesApp;
  const pending: ServerResponse[] = [];
  let flakyCalls = 0;

  beforeAll(async () => {
    fast = await startUpstream();
    // Never answers: only the gateway's deadline ends the call.
    hanging = await startUpstream((_req: IncomingMessage, res: ServerResponse) => {
      pending.push(res);
    });
    // 503 on every odd call: a fast failure worth another try.
    flaky = await startUpstream((_req, res) => {
      flakyCalls++;
      res.statusCode = flakyCalls % 2 === 1 ? 503 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ side: 'remote', call: flakyCalls }));
    });
    app = await startRoutesApp(framework, {
      config: {
        services: { fast: { url: fast.url }, hanging: { url: hanging.url }, flaky: { url: flaky.url } },
      },
      routes: (gw) => {
        // Short tries and a long total on the client: without one deadline shared by the tries, a
        // slow service would be tried again and again.
        gw.client('hanging', { timeouts: { perTryMs: 150, totalMs: 5_000 } });
        return {
          table: [
            { name: 'fast', path: '/fast/*', service: 'fast' },
            { name: 'hanging', path: '/hanging/*', service: 'hanging', timeoutMs: ROUTE_DEADLINE_MS },
            { name: 'flaky', path: '/flaky/*', service: 'flaky' },
          ],
        };
      },
    });
  });
  afterAll(async () => {
    for (const res of pending) res.destroy();
    await app.close();
    await Promise.all([fast, hanging, flaky].map((u) => u.close()));
  });

  it('is 10 s by default, for the whole call: the service is told so in x-deadline-ms', async () => {
    const answer = await call(app, '/fast/1');
    expect(answer.status).toBe(200);
    const told = Number(fast.received.at(-1)?.headers['x-deadline-ms']);
    // The client's own default (15 s over three tries of 5 s) would say 15000.
    expect(told).toBeGreaterThan(9_000);
    expect(told).toBeLessThanOrEqual(10_000);
  });

  it('is shared by every try: a slow service is tried once, then 504 at the deadline', async () => {
    const before = hanging.received.length;
    const answer = await call(app, '/hanging/1');
    expect(answer.status).toBe(504);
    expect(answer.json).toMatchObject({ code: 'GH_UPSTREAM_TIMEOUT' });
    expect(hanging.received.length - before, 'tries that reached the service').toBe(1);

    expect(answer.ms).toBeGreaterThanOrEqual(ROUTE_DEADLINE_MS - 20);
    expect(answer.ms).toBeLessThan(ROUTE_DEADLINE_MS + 1_500);
  });

  it('still retries a fast failure within it', async () => {
    const before = flakyCalls;
    const answer = await call(app, '/flaky/1');
    expect(answer.status).toBe(200);
    expect(flakyCalls - before).toBe(2);
  });
});
