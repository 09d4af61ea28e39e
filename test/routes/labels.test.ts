// What a migrated route looks like in metrics, spans and access logs, on every framework: a proxied
// request with a body is measured like any other (the exchange keeps its connection after undici
// detaches `req.socket` from a request body it consumed), and both sides of a route carry one label.
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
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

const spans = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
});
afterAll(() => {
  trace.disable();
});

describe.each(FRAMEWORKS)('one label per route, whichever side answers (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    service = await startUpstream((req, res, body) => {
      if (req.url?.includes('fail')) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ side: 'remote', url: req.url, body: body.length }));
    });
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } }, admin: ADMIN },
      before: (gw) => [
        gw.tracing({ metrics: { prometheus: true } }),
        gw.accessLog({ logger: { info: (line: object) => lines.push(line as Record<string, unknown>) } }),
        gw.admin(),
      ],
      routes: {
        table: [
          // The monolith's own route is /items/:id: its template must not become a second series.
          { name: 'items', path: '/items/*', service: 'orders', mode: 'local' },
          { name: 'group', path: ['/users/*', '/teams/*'], service: 'orders', mode: 'local' },
        ],
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  it('metrics, spans and access logs name the route pattern on both sides, fallback included', async () => {
    spans.reset();
    const served: string[] = [];
    const get = async (path: string) => {
      const res = await call(app, path);
      // The monolith's /items/:id answers an item (with a nonce); its catch-all says `side: 'local'`.
      served.push(`${path} ${String(res.json.side ?? (res.json.nonce !== undefined ? 'local' : '?'))}`);
    };
    await get('/items/1');
    await get('/users/1');
    await get('/teams/1');
    app.routes.setMode('items', 'remote');
    app.routes.setMode('group', 'remote');
    await get('/items/2');
    await get('/users/2');
    await get('/teams/2');
    app.routes.setMode('items', 'fallback');
    await get('/items/fail');
    expect(served).toEqual([
      '/items/1 local',
      '/users/1 local',
      '/teams/1 local',
      '/items/2 remote',
      '/users/2 remote',
      '/teams/2 remote',
      '/items/fail local',
    ]);
    const counts = await durationCounts(app);
    expect(Object.fromEntries([...counts].filter(([key]) => !key.includes('/metrics')))).toEqual({
      'GET 200 /items/*': 3,
      'GET 200 /users/*': 2,
      'GET 200 /teams/*': 2,
    });
    const routed = lines
      .filter((line) => line.path !== '/metrics')
      .map((line) => `${line.path} ${line.route}`);
    expect(routed).toEqual([
      '/items/1 /items/*',
      '/users/1 /users/*',
      '/teams/1 /teams/*',
      '/items/2 /items/*',
      '/users/2 /users/*',
      '/teams/2 /teams/*',
      '/items/fail /items/*',
    ]);
    const server = spans
      .getFinishedSpans()
      .filter((span) => span.kind === 1 && span.attributes['url.path'] !== '/metrics');
    expect(server.map((span) => `${span.name} ${String(span.attributes['http.route'])}`)).toEqual(
      [
        'GET /items/*',
        'GET /users/*',
        'GET /teams/*',
        'GET /items/*',
        'GET /users/*',
        'GET /teams/*',
        'GET /items/*',
      ].map((name) => `${name} ${name.slice(4)}`),
    );
    expect(app.reported).toEqual([]);
  });
});
