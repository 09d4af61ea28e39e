// Where a version goes, on every framework over real sockets: a route-table entry with a `version`
// matcher (`/orders` v1 stays local, v2 goes to the new service, the stripped path upstream), and the
// mesh client choosing the instances whose discovery metadata declares the version asked.
import type { ConfigError } from '@gatehousejs/core';
import { staticResolver } from '@gatehousejs/discovery';
import { compileTable } from '@gatehousejs/routes';
import { parseVersion } from '@gatehousejs/versioning';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  FRAMEWORKS,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from '../routes/harness.js';
import { request } from '../support/raw-http.js';

let ordersV2: Upstream;
let v1: Upstream;
let v2: Upstream;
let any: Upstream;
beforeAll(async () => {
  [ordersV2, v1, v2, any] = await Promise.all([
    startUpstream(),
    startUpstream(),
    startUpstream(),
    startUpstream(),
  ]);
  for (const [upstream, tag] of [
    [v1, 'v1-instance'],
    [v2, 'v2-instance'],
    [any, 'unversioned-instance'],
  ] as const) {
    upstream.handler = (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ side: 'remote', instance: tag, url: req.url }));
    };
  }
});
afterAll(async () => {
  await Promise.all([ordersV2, v1, v2, any].map((u) => u?.close()));
});

const endpoint = (upstream: Upstream, versions?: string) => ({
  host: '127.0.0.1',
  port: upstream.port,
  ...(versions === undefined ? {} : { metadata: { 'api-versions': versions } }),
});

describe.each(FRAMEWORKS)('%s: a route-table entry per version', (framework) => {
  let app: RoutesApp;
  beforeAll(async () => {
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: ordersV2.url } } },
      before: (gw) => [
        gw.version({
          versions: ['1', '2', '3'],
          sources: [{ from: 'path', strip: true }, 'header'],
          default: '1',
        }),
      ],
      routes: { table: [{ name: 'orders-v2', path: '/orders/*', service: 'orders', version: '2+' }] },
    });
  });
  afterAll(() => app?.close());

  test('version 1 (named, or the default) stays local, and the app sees the stripped path', async () => {
    for (const req of [
      { path: '/v1/orders/7' },
      { path: '/orders/7' },
      { path: '/orders/7', headers: { 'api-version': '1' } },
    ]) {
      const res = await request(app.port, req);
      expect(res.status, JSON.stringify(req)).toBe(200);
      expect(res.json).toMatchObject({ side: 'local', url: '/orders/7' });
    }
  });

  test('versions 2 and 3 go to the service, with the version segment stripped', async () => {
    const before = ordersV2.received.length;
    const a = await request(app.port, { path: '/v2/orders/7?x=1' });
    const b = await request(app.port, { path: '/orders/8', headers: { 'api-version': '3' } });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json).toMatchObject({ side: 'remote', url: '/orders/7?x=1' });
    expect(b.json).toMatchObject({ side: 'remote', url: '/orders/8' });
    expect(ordersV2.received.slice(before).map((r) => r.url)).toEqual(['/orders/7?x=1', '/orders/8']);
  });

  test('an unknown version is refused before any route', async () => {
    const before = ordersV2.received.length;
    const res = await request(app.port, { path: '/v9/orders/7' });
    expect(res.status).toBe(400);
    expect((res.json as { code: string }).code).toBe('GH_VERSION_UNSUPPORTED');
    expect(ordersV2.received.length).toBe(before);
  });

  test('paths no versioned route matches are served locally, stripped', async () => {
    const res = await request(app.port, { path: '/v2/items/1' });
    expect(res.json).toMatchObject({ id: '1' });
  });
});

describe.each(FRAMEWORKS)('%s: the mesh client picks instances by the version asked', (framework) => {
  let app: RoutesApp;
  beforeAll(async () => {
    app = await startRoutesApp(framework, {
      before: (gw) => [gw.version({ versions: ['1', '2', '3'], sources: ['header'], default: '1' })],
      routes: (gw) => {
        gw.client('orders', {
          resolver: staticResolver([endpoint(v1, '1'), endpoint(v2, '2+'), endpoint(any)]),
        });
        gw.client('legacy', { resolver: staticResolver([endpoint(v1, '1')]) });
        return {
          table: [
            { name: 'orders', path: '/orders/*', service: 'orders' },
            { name: 'legacy', path: '/legacy/*', service: 'legacy' },
          ],
        };
      },
    });
  });
  afterAll(() => app?.close());

  const instances = async (path: string, version: string, n = 6) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await request(app.port, { path, headers: { 'api-version': version } });
      expect(res.status).toBe(200);
      seen.add((res.json as { instance: string }).instance);
    }
    return [...seen].sort();
  };

  test('each version goes only to the instances declaring it', async () => {
    expect(await instances('/orders/1', '1')).toEqual(['v1-instance']);
    expect(await instances('/orders/1', '2')).toEqual(['v2-instance']);
    expect(await instances('/orders/1', '3')).toEqual(['v2-instance']);
  });

  test('no instance serves the version: 503 naming it, and the app is still up', async () => {
    const res = await request(app.port, { path: '/legacy/1', headers: { 'api-version': '2' } });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({
      code: 'GH_UPSTREAM_UNAVAILABLE',
      detail: "No endpoint of 'legacy' is available for API version 2",
    });
    const ok = await request(app.port, { path: '/legacy/1', headers: { 'api-version': '1' } });
    expect(ok.json).toMatchObject({ instance: 'v1-instance' });
  });
});

describe.each(FRAMEWORKS)('%s: instances that declare no versions', (framework) => {
  let app: RoutesApp;
  beforeAll(async () => {
    app = await startRoutesApp(framework, {
      before: (gw) => [gw.version({ versions: ['1', '2'], sources: ['header'] })],
      routes: (gw) => {
        gw.client('orders', { resolver: staticResolver([endpoint(v1, '1'), endpoint(any)]) });
        return { table: [{ name: 'orders', path: '/orders/*', service: 'orders' }] };
      },
    });
  });
  afterAll(() => app?.close());

  test('take the versions no instance declares, and requests without a version go anywhere', async () => {
    const res = await request(app.port, { path: '/orders/1', headers: { 'api-version': '2' } });
    expect(res.json).toMatchObject({ instance: 'unversioned-instance' });
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const plain = await request(app.port, { path: '/orders/1' });
      seen.add((plain.json as { instance: string }).instance);
    }
    expect([...seen].sort()).toEqual(['unversioned-instance', 'v1-instance']);
  });
});

describe('the route table checks a version matcher when it is compiled', () => {
  const context = { services: new Set(['orders']), pathPolicy: { caseSensitive: false } };
  const problems = (version: unknown) => {
    try {
      compileTable([{ path: '/orders/*', service: 'orders', version }], context);
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };

  test('versions, baselines, numbers and lists compile; the matcher reads the version', () => {
    const [route] = compileTable(
      [{ path: '/orders/*', service: 'orders', version: ['1', 2, '3+'] }],
      context,
    );
    const matches = (v: string) => route!.version!(parseVersion(v)!);
    expect(['1', '2', '2.5', '3', '40'].map(matches)).toEqual([true, true, false, true, true]);
    expect(compileTable([{ path: '/orders/*', service: 'orders' }], context)[0]!.version).toBeUndefined();
  });

  test.each([
    ['x+', ["routes[0].version: expected a version ('2', '1.2', '2026-01-15') or a baseline ('2+')"]],
    [[], ['routes[0].version: must list at least one version (leave it out for every request)']],
    [
      ['2', 'two'],
      ["routes[0].version[1]: expected a version ('2', '1.2', '2026-01-15') or a baseline ('2+')"],
    ],
    // Neither a version nor a list: the option's own words (zod's engine followed the inner union).
    [true, ["routes[0].version: must be a version ('2'), a baseline ('2+') or a list of them"]],
  ])('%j is refused', (version, want) => {
    expect(problems(version)).toEqual(want);
  });
});
