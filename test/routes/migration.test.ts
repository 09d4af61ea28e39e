// The migration controller end to end on Express and Koa: shadow diffing with noise learned from two
// local answers, gates that move a route back a stage, run-time mode switches, hot reload from a file
// and from etcd (an invalid table keeps the old one), and the admin reports.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '@gatehousejs/core';
import type { ModeChange, Rejection } from '@gatehousejs/routes';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, etcdMissing, startEtcd } from '../../packages/discovery/src/test-etcd.js';
import {
  FRAMEWORKS,
  type Framework,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from './harness.js';

const ON_CI = process.env.CI === 'true';

async function get(app: RoutesApp, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${app.url}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
}

const waitFor = async (check: () => boolean | Promise<boolean>, ms = 5_000) => {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A service answering /items/:id like the monolith, fresh timestamps and nonces included. */
function itemsService(nameOf: (id: string) => string = (id) => `item ${id}`) {
  let n = 0;
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const id = (req.url ?? '').split('/').pop()!.split('?')[0]!;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify({ id, name: nameOf(id), at: Date.now() + 1e6, nonce: `remote-${++n}` }));
  };
}

/** /items/:id shadowed to the items service, every copy's noise sampled. */
const SHADOWED_ITEMS = {
  name: 'items',
  path: '/items/:id',
  service: 'items',
  mode: 'shadow',
  shadow: { noiseSampleRate: 1 },
} as const;

describe.each(FRAMEWORKS)('shadow diffing and noise on %s', (framework: Framework) => {
  let items: Upstream;
  let app: RoutesApp;
  beforeAll(async () => {
    items = await startUpstream(itemsService((id) => (id === '13' ? 'unlucky' : `item ${id}`)));
    app = await startRoutesApp(framework, {
      config: { services: { items: { url: items.url } } },
      routes: {
        table: [{ ...SHADOWED_ITEMS, diff: { headers: ['content-type'] } }],
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await items.close();
  });

  it('learns timestamps and ids as noise from two local answers, and still reports a real difference', async () => {
    for (const id of ['1', '2', '3']) {
      const res = await get(app, `/items/${id}`);
      expect(res.json).toMatchObject({ id, name: `item ${id}` });
    }
    const report = () => app.routes.migration()[0]!;
    await waitFor(() => report().diff.stage.compared === 3);
    // Each request was answered locally twice (the client's answer and the noise sample).
    expect(app.local.filter((l) => l.path.startsWith('/items/')).length).toBe(6);
    expect(report().diff.noise).toMatchObject({ '/at': expect.any(Number), '/nonce': expect.any(Number) });
    expect(report().diff.stage.equal).toBe(3);
    await get(app, '/items/13');
    await waitFor(() => report().diff.stage.compared === 4);
    const after = report();
    expect(after.diff.stage.different).toBe(1);
    expect(after.diff.stage.fields).toEqual({ '/name': 1 });
    expect(after.diff.total).toMatchObject({ compared: 4, equal: 3, different: 1, rate: 0.25 });
    expect(after.latest[0]).toMatchObject({
      method: 'GET',
      path: '/items/13',
      differences: [{ path: '/name', local: 'item 13', remote: 'unlucky' }],
    });
    // The noise sample is answered locally only: the service saw one copy per client request.
    expect(items.received.length).toBe(4);
  });

  it('a local answer compressed by the app and a plain one from the service are compared as content', async () => {
    // The service answers /gz/:id uncompressed; id 9 is named differently there.
    const plain = await startUpstream((req, res) => {
      const id = (req.url ?? '').split('/').pop()!;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ id, name: id === '9' ? 'renamed' : `item ${id}` }));
    });
    const gz = await startRoutesApp(framework, {
      config: { services: { plain: { url: plain.url } } },
      routes: {
        table: [
          { name: 'gz', path: '/gz/:id', service: 'plain', mode: 'shadow', shadow: { noiseSampleRate: 0 } },
        ],
      },
    });
    try {
      const report = () => gz.routes.migration()[0]!;
      const res = await request(`${gz.url}/gz/1`, { headers: { 'accept-encoding': 'gzip' } });
      // The client got the app's compressed answer, untouched.
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(JSON.parse(gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString())).toEqual({
        id: '1',
        name: 'item 1',
      });
      await waitFor(() => report().diff.stage.compared === 1);
      expect(report().diff.stage).toMatchObject({ equal: 1, different: 0 });
      const nine = await request(`${gz.url}/gz/9`, { headers: { 'accept-encoding': 'gzip' } });
      await nine.body.dump();
      await waitFor(() => report().diff.stage.compared === 2);
      expect(report().diff.stage).toMatchObject({ equal: 1, different: 1 });
      expect(report().diff.stage.fields).toEqual({ '/name': 1 });
    } finally {
      await gz.close();
      await plain.close();
    }
  });

  it("noise samples spend no client's rate-limit quota, and a forged sample header marks nothing", async () => {
    const limited = await startRoutesApp(framework, {
      config: { services: { items: { url: items.url } } },
      before: (gw) => [gw.rateLimit({ limits: [{ name: 'few', points: 3, duration: '1m' }] })],
      routes: {
        table: [SHADOWED_ITEMS],
      },
    });
    try {
      const report = () => limited.routes.migration()[0]!;
      for (const id of ['1', '2', '3']) {
        const res = await get(limited, `/items/${id}`);
        expect(res.status, `request ${id}`).toBe(200);
        // Each copy is compared after its noise sample came back: one at a time, as a client would.
        await waitFor(() => report().diff.stage.compared === Number(id));
      }
      // Every request was sampled (answered locally twice), and the samples were not refused.
      expect(report().diff.noiseSamples).toBe(3);
      expect(limited.local.filter((l) => l.path.startsWith('/items/')).length).toBe(6);
      // The client's quota was spent by its own three requests only: the fourth is the first refused.
      const fourth = await get(limited, '/items/4');
      expect(fourth.status).toBe(429);
      // A client sending the sample header with a made-up value is limited like any other request.
      const forged = await get(limited, '/items/5', { 'gatehouse-noise-sample': 'guess' });
      expect(forged.status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('serves the same report at /migration and the table at /routes (gw.admin())', async () => {
    const admin = await startRoutesApp(framework, {
      config: { services: { items: { url: items.url } }, admin: { access: { peers: ['loopback'] } } },
      before: (gw) => [gw.admin()],
      routes: { table: [{ name: 'items', path: '/items/:id', service: 'items', mode: 'split', weight: 25 }] },
    });
    try {
      const routes = await get(admin, '/routes');
      expect(routes.status).toBe(200);
      expect(routes.json.controllers[0].routes[0]).toMatchObject({
        name: 'items',
        mode: 'split',
        weight: 25,
        service: 'items',
        table: { mode: 'split', weight: 25 },
      });
      const migration = await get(admin, '/migration');
      expect(migration.json.routes[0]).toMatchObject({
        name: 'items',
        mode: 'split',
        local: { window: { requests: 0 }, stage: { requests: 0 }, total: { requests: 0 } },
        remote: { window: { requests: 0 }, stage: { requests: 0 }, total: { requests: 0 } },
      });
    } finally {
      await admin.close();
    }
  });
});

describe.each(FRAMEWORKS)('gates and run-time modes on %s', (framework: Framework) => {
  let service: Upstream;
  let healthy: Upstream;
  let app: RoutesApp;
  const changes: ModeChange[] = [];
  beforeAll(async () => {
    service = await startUpstream(itemsService((id) => `different ${id}`));
    healthy = await startUpstream(itemsService((id) => `different ${id}`));
    app = await startRoutesApp(framework, {
      config: { services: { items: { url: service.url }, healthy: { url: healthy.url } } },
      routes: {
        gateIntervalMs: 60_000,
        table: [
          {
            name: 'shadowed',
            path: '/items/:id',
            service: 'items',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0 },
            diff: { ignore: ['/at', '/nonce'] },
            gates: { minRequests: 5, maxDiffRate: 0.2 },
          },
          {
            name: 'moved',
            path: '/moved/*',
            service: 'items',
            mode: 'remote',
            gates: { minRequests: 5, maxErrorRate: 0.3 },
          },
          { name: 'switchable', path: '/switchable/*', service: 'healthy', mode: 'local' },
        ],
      },
    });
    app.routes.on('change', (change: ModeChange) => changes.push(change));
  });
  afterAll(async () => {
    await app.close();
    await service.close();
    await healthy.close();
  });
  afterEach(() => {
    changes.length = 0;
  });

  it('a diff rate above the gate moves shadow back to local, with an event', async () => {
    for (let i = 0; i < 6; i++) await get(app, `/items/${i}`);
    await waitFor(() => app.routes.migration()[0]!.diff.stage.compared === 6);
    const demoted = app.routes.evaluateGates();
    expect(demoted).toHaveLength(1);
    expect(demoted[0]).toMatchObject({
      route: 'shadowed',
      from: { mode: 'shadow' },
      to: { mode: 'local' },
      by: 'gate',
      reason: 'diff-rate',
      observed: 1,
      threshold: 0.2,
    });
    expect(changes.map((c) => c.to.mode)).toEqual(['local']);
    const before = service.received.length;
    await get(app, '/items/99');
    await new Promise((r) => setTimeout(r, 100));
    expect(service.received.length).toBe(before);
  });

  it('an error rate above the gate moves remote back to fallback, where local covers the failures', async () => {
    const saved = service.handler;
    service.handler = (_req, res) => {
      res.statusCode = 500;
      res.end('{"broken":true}');
    };
    try {
      for (let i = 0; i < 5; i++) expect((await get(app, '/moved/x')).status).toBe(500);
      const [change] = app.routes.evaluateGates();
      expect(change).toMatchObject({
        route: 'moved',
        from: { mode: 'remote' },
        to: { mode: 'fallback' },
        reason: 'error-rate',
      });
      const res = await get(app, '/moved/x');
      expect(res.json).toMatchObject({ side: 'local' });
    } finally {
      service.handler = saved;
    }
  });

  it('setMode() switches at run time and rejects what a route cannot do', async () => {
    expect((await get(app, '/switchable/y')).json).toMatchObject({ side: 'local' });
    const change = app.routes.setMode('switchable', 'remote');
    expect(change).toMatchObject({ by: 'api', from: { mode: 'local' }, to: { mode: 'remote' } });
    expect((await get(app, '/switchable/y')).json).toMatchObject({ id: 'y', name: 'different y' });
    app.routes.setMode('switchable', 'local');
    expect((await get(app, '/switchable/y')).json).toMatchObject({ side: 'local' });
    expect(
      app.routes.describe().routes.find((r) => (r as { name: string }).name === 'switchable'),
    ).toMatchObject({
      mode: 'local',
      table: { mode: 'local' },
    });
    expect(() => app.routes.setMode('nope', 'local')).toThrow(/no route named 'nope'/);
    expect(() => app.routes.setMode('switchable', 'sideways' as never)).toThrow(/mode must be one of/);
    expect(() => app.routes.setMode('switchable', 'split', 101)).toThrow(/weight/);
  });
});

describe('route tables that are wrong fail at start-up with every problem and a path to each', () => {
  it.each(FRAMEWORKS)('%s', async (framework) => {
    const failure = await startRoutesApp(framework, {
      config: { services: { orders: { url: 'http://127.0.0.1:1' } } },
      routes: {
        table: [
          { path: 'orders', service: 'orders' },
          { path: '/a/*', service: 'ordres', mode: 'remote' },
          { path: '/b/*', service: 'orders', mode: 'split', weight: 150, sticky: 'cookie' as never },
          { path: '/c/*', mode: 'remote' },
          {
            path: '/d/*',
            service: 'orders',
            requestHeaders: { set: { 'x-a': 'one\r\ntwo' } },
            timeoutMs: -1,
          },
          { name: 'dup', path: '/e' },
          { name: 'dup', path: '/f', gates: { maxDiffRate: 2 }, shadow: { sampelRate: 1 } as never },
        ],
      },
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    const lines = (failure as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routes\[0\]\.path: must start with '\/' — did you mean '\/orders'\?/),
        expect.stringMatching(
          /^routes\[1\]\.service: unknown service "ordres"; did you mean 'orders'\?; known: orders/,
        ),
        expect.stringMatching(/^routes\[2\]\.weight: must be a percentage/),
        expect.stringMatching(/^routes\[2\]\.sticky: /),
        expect.stringMatching(/^routes\[3\]\.service: is required in 'remote' mode/),
        expect.stringMatching(/^routes\[4\]\.requestHeaders\.set\["x-a"\]: .*CR, LF/),
        expect.stringMatching(/^routes\[4\]\.timeoutMs: expected a number > 0, received the number -1/),
        expect.stringMatching(/^routes\[6\]\.name: duplicate route name 'dup'/),
        expect.stringMatching(/^routes\[6\]\.gates\.maxDiffRate: must be a number from 0 to 1/),
        expect.stringMatching(/^routes\[6\]\.shadow\.sampelRate: unknown option; did you mean 'sampleRate'/),
      ]),
    );
  });
});

describe.each(FRAMEWORKS)('hot reload from a file on %s', (framework: Framework) => {
  let dir: string;
  let file: string;
  let service: Upstream;
  let app: RoutesApp;
  const rejections: Rejection[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-routes-'));
    file = join(dir, 'routes.yaml');
    service = await startUpstream();
    await writeFile(
      file,
      'routes:\n  - name: orders\n    path: /orders/*\n    service: orders\n    mode: local\n',
    );
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      routes: { file, watch: { intervalMs: 50, debounceMs: 10 } },
    });
    app.routes.on('reject', (r: Rejection) => rejections.push(r));
  });
  afterAll(async () => {
    await app.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  const side = async () => (await get(app, '/orders/1')).json.side as string;

  /**
   * Replaces the table file in one step, as editors and config tools save (written beside it, renamed
   * over it), and resolves with what the controller did about it: a reading of a half-written file is
   * impossible, so each change gives exactly one 'reload' or one 'reject'.
   */
  const replace = async (text: string): Promise<'reload' | 'reject'> => {
    const outcome = new Promise<'reload' | 'reject'>((resolve) => {
      const done = (what: 'reload' | 'reject') => () => {
        app.routes.off('reload', reloaded);
        app.routes.off('reject', rejected);
        resolve(what);
      };
      const reloaded = done('reload');
      const rejected = done('reject');
      app.routes.on('reload', reloaded);
      app.routes.on('reject', rejected);
    });
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
    return outcome;
  };

  it('applies a changed file, keeps the old table on an invalid one, and reports the rejection', async () => {
    expect(await side()).toBe('local');
    expect(
      await replace(
        'routes:\n  - name: orders\n    path: /orders/*\n    service: orders\n    mode: remote\n',
      ),
    ).toBe('reload');
    expect(await side()).toBe('remote');
    expect(app.routes.describe()).toMatchObject({
      origin: expect.stringContaining('routes.yaml'),
      revision: 2,
    });

    expect(
      await replace(
        'routes:\n  - name: orders\n    path: /orders/*\n    service: nowhere\n    mode: local\n',
      ),
    ).toBe('reject');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]!.problems[0]).toMatchObject({
      path: 'routes[0].service',
      message: expect.stringContaining('unknown service "nowhere"'),
    });
    expect(await side()).toBe('remote');
    expect(app.routes.describe().rejection).toMatchObject({ origin: expect.stringContaining('routes.yaml') });

    expect(await replace('routes: [ {name: orders, path: /orders/*, mode: local\n')).toBe('reject');
    expect(rejections).toHaveLength(2);
    expect(rejections[1]!.problems[0]?.message).toMatch(/routes\.yaml:\d+:\d+: syntax error/);
    expect(await side()).toBe('remote');
    expect(app.reported.some((r) => r.phase === 'routes.reload')).toBe(true);

    expect(
      await replace('routes:\n  - name: orders\n    path: /orders/*\n    service: orders\n    mode: local\n'),
    ).toBe('reload');
    expect(await side()).toBe('local');
    expect(app.routes.describe().rejection).toBeUndefined();
    expect(rejections).toHaveLength(2);
  });
});

const etcdAbsent = etcdMissing();
describe.skipIf(etcdAbsent !== undefined && !ON_CI)('hot reload from an etcd key', () => {
  let etcd: EtcdServer;
  let service: Upstream;
  beforeAll(async () => {
    if (etcdAbsent !== undefined) throw new Error(`CI=true and ${etcdAbsent}`);
    etcd = await startEtcd();
    service = await startUpstream();
  });
  afterAll(async () => {
    await service?.close();
    await etcd?.stop();
  });

  it.each(FRAMEWORKS)(
    '%s: a put switches the mode, a bad put and a delete keep the table',
    async (framework) => {
      const key = `/gatehouse/${framework}/routes`;
      await etcd.put(
        key,
        JSON.stringify({ routes: [{ name: 'o', path: '/orders/*', service: 'orders', mode: 'local' }] }),
      );
      const app = await startRoutesApp(framework, {
        config: { services: { orders: { url: service.url } } },
        routes: { etcd: { hosts: etcd.url, key } },
      });
      const rejections: Rejection[] = [];
      app.routes.on('reject', (r: Rejection) => rejections.push(r));
      const side = async () => (await get(app, '/orders/1')).json.side as string;
      try {
        expect(await side()).toBe('local');
        await etcd.put(key, 'routes:\n  - {name: o, path: /orders/*, service: orders, mode: remote}\n');
        await waitFor(async () => (await side()) === 'remote');
        await etcd.put(key, JSON.stringify({ routes: [{ name: 'o', path: '/orders/*', mode: 'remote' }] }));
        await waitFor(() => rejections.length === 1);
        expect(await side()).toBe('remote');
        await etcd.del(key);
        await waitFor(() => rejections.length === 2);
        expect(await side()).toBe('remote');
      } finally {
        await app.close();
      }
    },
  );

  it('an etcd outage is reported once by its monitor (not as a rejected table), and its return once', async () => {
    const key = '/gatehouse/outage/routes';
    await etcd.put(
      key,
      JSON.stringify({ routes: [{ name: 'o', path: '/orders/*', service: 'orders', mode: 'local' }] }),
    );
    const app = await startRoutesApp(FRAMEWORKS[0]!, {
      config: { services: { orders: { url: service.url } } },
      routes: { etcd: { hosts: etcd.url, key, dialTimeoutMs: 1_000 } },
    });
    const reports = () => app.reported.map((r) => `${r.phase} ${(r.error as { code?: string }).code}`);
    try {
      await etcd.kill();
      await waitFor(() => app.reported.length > 0, 10_000);
      // Down for a while, retried meanwhile: still one report, and the table keeps serving.
      await new Promise((r) => setTimeout(r, 800));
      expect(reports()).toEqual(['dependency:etcd GH_DEPENDENCY_UNAVAILABLE']);
      expect((await get(app, '/orders/1')).json.side).toBe('local');
      expect(app.routes.describe().rejection?.problems[0]?.message).toMatch(/etcd is unavailable/);
      await etcd.start();
      await waitFor(() => app.reported.length > 1, 10_000);
      expect(reports()).toEqual([
        'dependency:etcd GH_DEPENDENCY_UNAVAILABLE',
        'dependency:etcd GH_DEPENDENCY_RECOVERED',
      ]);
    } finally {
      await app.close();
    }
  }, 30_000);
});
