// Moving a route along, on every framework: split by caller or by request, route groups that move in
// lockstep, re-arming after a gate in one step (API and table), `/migration` read per stage (counters
// since the last change beside totals, exact latency percentiles), and remote answers without a body
// handed to the contract observers like any other.
import type { ModeChange } from '@gatehousejs/routes';
import { observeRemoteResponses, type RemoteResponse } from '@gatehousejs/routes';
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
import { report, waitFor } from './support.js';

async function side(app: RoutesApp, path: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(`${app.url}${path}`, { headers });
  const body = (await res.body.json()) as { side?: string };
  return body.side ?? `status ${res.statusCode}`;
}

describe.each(FRAMEWORKS)('split, groups and re-arming (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  const TABLE = [
    { name: 'by-caller', path: '/by-caller/*', service: 'orders', mode: 'split', weight: 50 },
    {
      name: 'by-request',
      path: '/by-request/*',
      service: 'orders',
      mode: 'split',
      weight: 50,
      sticky: 'none',
    },
    { name: 'group', path: ['/profiles/*', '/tags'], service: 'orders', mode: 'local' },
    {
      name: 'gated',
      path: '/gated/*',
      service: 'orders',
      mode: 'shadow',
      shadow: { noiseSampleRate: 0 },
      gates: { minRequests: 3, maxDiffRate: 0.5 },
    },
  ] as const;
  beforeAll(async () => {
    service = await startUpstream();
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      routes: { gateIntervalMs: 3_600_000, table: TABLE },
    });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  it('without a principal a sticky split keys on the client IP: one client goes all one way', async () => {
    const sides = new Set<string>();
    for (let i = 0; i < 40; i++) sides.add(await side(app, `/by-caller/${i}`));
    expect(sides.size).toBe(1);
  });

  it("sticky: 'none' splits request by request: one client reaches both sides, about the weight remote", async () => {
    const counts = { local: 0, remote: 0 };
    for (let i = 0; i < 200; i++) counts[(await side(app, `/by-request/${i}`)) as 'local' | 'remote']++;
    // Binomial(200, 0.5): outside 60–140 with probability below 1e-8.
    expect(counts.remote).toBeGreaterThan(60);
    expect(counts.remote).toBeLessThan(140);
    expect(counts.local + counts.remote).toBe(200);
    expect(report(app, 'by-request').share.remote).toBeCloseTo(counts.remote / 200, 10);
  });

  it('a group of paths is one route: one mode for all its paths, one line in /migration', async () => {
    expect([await side(app, '/profiles/jake'), await side(app, '/tags')]).toEqual(['local', 'local']);
    app.routes.setMode('group', 'remote');
    expect([await side(app, '/profiles/jake'), await side(app, '/tags')]).toEqual(['remote', 'remote']);
    // Neither its neighbours nor paths it does not name.
    expect(await side(app, '/tags/x')).toBe('local');
    const line = report(app, 'group');
    expect(line).toMatchObject({ paths: ['/profiles/*', '/tags'], mode: 'remote' });
    expect(line.remote.stage.requests).toBe(2);
    expect(line.local.total.requests).toBe(2);
    app.routes.setMode('group', 'local');
    expect([await side(app, '/profiles/jake'), await side(app, '/tags')]).toEqual(['local', 'local']);
    expect(app.routes.describe().routes.find((r) => (r as { name: string }).name === 'group')).toMatchObject({
      path: ['/profiles/*', '/tags'],
    });
  });

  it('after a gate, one step re-arms: rearm(), or a table whose rearm changed (the same table does nothing)', async () => {
    const changes: ModeChange[] = [];
    app.routes.on('change', (c: ModeChange) => changes.push(c));
    const demote = async () => {
      for (let i = 0; i < 3; i++) await side(app, `/gated/${i}`);
      await waitFor(() => report(app, 'gated').diff.stage.compared === 3, 3_000, 'three comparisons');
      const [demoted] = app.routes.evaluateGates();
      expect(demoted).toMatchObject({
        route: 'gated',
        from: { mode: 'shadow' },
        to: { mode: 'local' },
        by: 'gate',
      });
    };
    await demote();
    // The same table again changes nothing: the gate's decision stands.
    app.routes.reload(TABLE);
    expect(report(app, 'gated').mode).toBe('local');
    // The API: one call.
    const rearmed = app.routes.rearm('gated');
    expect(rearmed).toMatchObject({
      from: { mode: 'local' },
      to: { mode: 'shadow' },
      by: 'api',
      reason: 'rearm',
    });
    expect(report(app, 'gated')).toMatchObject({ mode: 'shadow', diff: { stage: { compared: 0 } } });
    await demote();
    // The table: one edit, bumping rearm.
    app.routes.reload(TABLE.map((route) => (route.name === 'gated' ? { ...route, rearm: 1 } : route)));
    expect(report(app, 'gated').mode).toBe('shadow');
    expect(changes.map((c) => `${c.by}:${c.to.mode}`)).toEqual([
      'gate:local',
      'api:shadow',
      'gate:local',
      'table:shadow',
    ]);
    // Reloading it as it is now (rearm still 1) is no change.
    app.routes.reload(TABLE.map((route) => (route.name === 'gated' ? { ...route, rearm: 1 } : route)));
    expect(changes).toHaveLength(4);
    expect(() => app.routes.rearm('gatd')).toThrow(/no route named 'gatd' — did you mean 'gated'\?/);
  });
});

describe.each(FRAMEWORKS)('/migration per stage (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  beforeAll(async () => {
    service = await startUpstream();
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      routes: { table: [{ name: 'orders', path: '/orders/*', service: 'orders', mode: 'local' }] },
    });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  it('counts since the last mode change beside the totals, each labelled; percentiles are exact', async () => {
    for (let i = 0; i < 5; i++) await side(app, `/orders/${i}`);
    const first = report(app, 'orders');
    expect(first.percentiles).toEqual({ method: 'exact', maxSamples: 2048 });
    expect(first.local.stage).toMatchObject({ requests: 5, errors: 0, latency: { samples: 5 } });
    expect(first.local.window).toMatchObject({ requests: 5, latency: { samples: 5 } });
    expect(first.local.total).toEqual({ requests: 5, errors: 0, errorRate: 0 });
    const { p50Ms, p90Ms, p99Ms, maxMs } = first.local.stage.latency;
    expect(0 < p50Ms && p50Ms <= p90Ms && p90Ms <= p99Ms && p99Ms === maxMs).toBe(true);
    expect(first.share).toEqual({ local: 1, remote: 0 });

    const before = Date.parse(first.since);
    await new Promise((r) => setTimeout(r, 5));
    app.routes.setMode('orders', 'remote');
    for (let i = 0; i < 3; i++) await side(app, `/orders/r${i}`);
    const second = report(app, 'orders');
    expect(Date.parse(second.since)).toBeGreaterThan(before);
    expect(second.local.stage).toMatchObject({ requests: 0, latency: { samples: 0 } });
    expect(second.local.total.requests).toBe(5);
    expect(second.remote.stage).toMatchObject({ requests: 3, latency: { samples: 3 } });
    expect(second.remote.total.requests).toBe(3);
    expect(second.share).toEqual({ local: 0, remote: 1 });
  });
});

describe.each(FRAMEWORKS)(
  'remote answers without a body reach the observers (%s)',
  (framework: Framework) => {
    let service: Upstream;
    let app: RoutesApp;
    const seen: RemoteResponse[] = [];
    beforeAll(async () => {
      service = await startUpstream((req, res) => {
        const status = Number((req.url ?? '').split('/').pop());
        res.statusCode = Number.isInteger(status) && status >= 200 ? status : 200;
        res.setHeader('etag', '"v1"');
        if (res.statusCode === 200) res.setHeader('content-type', 'application/json');
        res.end(res.statusCode === 200 ? '{"ok":true}' : undefined);
      });
      app = await startRoutesApp(framework, {
        config: { services: { orders: { url: service.url } } },
        routes: { table: [{ name: 'orders', path: '/orders/*', service: 'orders', mode: 'remote' }] },
      });
      observeRemoteResponses(app.gateway.core, {
        name: 'test',
        maxBodyBytes: 1024,
        observe: (response) => {
          seen.push(response);
          return response.status === 304 ? ['status:304'] : [];
        },
      });
    });
    afterAll(async () => {
      await app?.close();
      await service?.close();
    });

    it('HEAD, 204 and 304: status and headers are judged, counted in /migration', async () => {
      for (const [method, path] of [
        ['HEAD', '/orders/200'],
        ['DELETE', '/orders/204'],
        ['GET', '/orders/304'],
        ['GET', '/orders/200'],
      ] as const) {
        const res = await request(`${app.url}${path}`, { method });
        await res.body.dump();
      }
      await waitFor(() => seen.length === 4, 3_000, 'four observed answers');
      expect(seen.map((r) => `${r.method} ${r.status} ${r.headers.etag} ${r.body?.length}`)).toEqual([
        'HEAD 200 "v1" 0',
        'DELETE 204 "v1" 0',
        'GET 304 "v1" 0',
        'GET 200 "v1" 11',
      ]);
      expect(report(app, 'orders').contract).toMatchObject({
        total: { checked: 4, violations: 1 },
        stage: { checked: 4, violations: 1 },
        fields: { 'status:304': 1 },
      });
    });
  },
);
