// What a migrated route looks like in metrics, spans and access logs, on every framework: a proxied
// request with a body is measured like any other (the exchange keeps its connection after undici
// detaches `req.socket` from a request body it consumed), and both sides of a route carry one label.
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

const ADMIN = { access: { peers: ['loopback'] } } as const;

async function call(app: RoutesApp, path: string, init: { method?: string; body?: string } = {}) {
  const res = await request(`${app.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    body: init.body,
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, json: JSON.parse(await res.body.text()) as Record<string, unknown> };
}

/** The request-duration counts of /metrics, by method, status and route. */
async function durationCounts(app: RoutesApp): Promise<Map<string, number>> {
  const text = await (await request(`${app.url}/metrics`)).body.text();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^http_server_request_duration_seconds_count\{([^}]*)\} (\d+)/.exec(line);
    if (m === null) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${labels.http_request_method} ${labels.http_response_status_code} ${labels.http_route ?? '-'}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

describe.each(FRAMEWORKS)('proxied requests with a body, metrics on (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  beforeAll(async () => {
    service = await startUpstream();
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } }, admin: ADMIN },
      before: (gw) => [gw.tracing({ metrics: { prometheus: true } }), gw.admin()],
      routes: {
        table: [
          { name: 'remote', path: '/orders/*', service: 'orders', mode: 'remote' },
          { name: 'fallback', path: '/carts/*', service: 'orders', mode: 'fallback' },
        ],
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  it('are measured, and nothing is reported (remote and fallback, POST and PUT)', async () => {
    for (const [method, path] of [
      ['POST', '/orders/1'],
      ['PUT', '/orders/2'],
      ['POST', '/carts/1'],
      ['PUT', '/carts/2'],
    ] as const) {
      const res = await call(app, path, { method, body: JSON.stringify({ n: path }) });
      expect(res.json, `${method} ${path}`).toMatchObject({ side: 'remote', method, body: { n: path } });
    }
    const counts = await durationCounts(app);
    expect(app.reported.map((r) => `${r.phase}: ${String(r.error)}`)).toEqual([]);
    expect(counts.get('POST 200 /orders/*')).toBe(1);
    expect(counts.get('PUT 200 /orders/*')).toBe(1);
    expect(counts.get('POST 200 /carts/*')).toBe(1);
    expect(counts.get('PUT 200 /carts/*')).toBe(1);
  });
});
