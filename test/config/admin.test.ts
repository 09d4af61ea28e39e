// The admin API that acts, on every framework: behind the admin access policy (401/403 problem+json
// and nothing changes without the right credential), set / promote / roll back / re-arm a route or a
// group, every change audited (who, when, what, from where, why) in /migration's history, a log line
// and an event; concurrent writes to one route serialized and both audited; the stated precedence
// between admin changes and a reloaded file.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '@gatehousejs/gateway';
import type { ConfigRuntime } from '@gatehousejs/gateway/config';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FRAMEWORKS, type Framework } from '../support/apps.js';
import {
  type ConfiguredApp,
  capture,
  getJson,
  type NamedUpstream,
  nextEvent,
  replaceFile,
  startConfigured,
  startUpstream,
} from './support.js';

const OPS_KEY = 'ops-key-0123456789';
const VIEWER_KEY = 'viewer-key-0123456789';

let upstream: NamedUpstream;
beforeAll(async () => {
  upstream = await startUpstream('api');
});
afterAll(async () => {
  await upstream.close();
});

const config = (ordersMode = 'local', groupMode = 'shadow') => `
services:
  api: { url: "${upstream.url}" }
routes:
  - { name: orders, path: /api/*, service: api, mode: ${ordersMode} }
  - { name: group, path: [/g1/*, /g2/*], service: api, mode: ${groupMode} }
auth:
  methods:
    - apiKey:
        keys:
          - { id: alice, key: ${OPS_KEY}, roles: [ops] }
          - { id: victor, key: ${VIEWER_KEY}, roles: [viewer] }
  default: anonymous
admin:
  prefix: /_gatehouse
  access: { require: { roles: [ops] } }
`;

let app: ConfiguredApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function post(path: string, body: unknown, key?: string, type = 'application/json') {
  return getJson(`${app!.url}/_gatehouse${path}`, {
    method: 'POST',
    headers: {
      'content-type': type,
      'user-agent': 'admin-test/1',
      ...(key === undefined ? {} : { 'x-api-key': key }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const routesOf = async () =>
  (
    (await getJson(`${app!.url}/_gatehouse/routes`, { headers: { 'x-api-key': OPS_KEY } })).body as {
      controllers: { routes: { name: string; mode: string; weight: number }[] }[];
    }
  ).controllers[0]!.routes.map((r) => `${r.name}:${r.mode}${r.mode === 'split' ? `:${r.weight}` : ''}`);

const historyOf = async () =>
  (
    (await getJson(`${app!.url}/_gatehouse/migration`, { headers: { 'x-api-key': OPS_KEY } })).body as {
      history: AuditEntry[];
    }
  ).history;

describe.each(FRAMEWORKS)('%s', (framework: Framework) => {
  test('without the right credential: 401 / 403 problem+json, and nothing changes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(file, config());
    app = await startConfigured(framework, { file }, { watch: false });
    const anonymous = await post('/migration/promote', { route: 'orders' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
    expect(anonymous.headers.get('www-authenticate')).toBeTruthy();
    const viewer = await post('/migration/mode', { route: 'orders', mode: 'remote' }, VIEWER_KEY);
    expect(viewer.status).toBe(403);
    expect((viewer.body as { code: string }).code).toBe('GH_AUTH_FORBIDDEN');
    const wrongKey = await post('/migration/rollback', { route: 'group' }, 'not-a-key-0123456789');
    expect(wrongKey.status).toBe(401);
    expect(await routesOf()).toEqual(['orders:local', 'group:shadow']);
    expect(await historyOf()).toEqual([]);
  });

  test('dangerouslyPublic opens reads only: every write is 403 and changes nothing; access.write admits writers', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(
      file,
      config().replace('access: { require: { roles: [ops] } }', 'access: { dangerouslyPublic: true }'),
    );
    app = await startConfigured(framework, { file }, { watch: false });
    // Anyone reads.
    expect((await getJson(`${app.url}/_gatehouse/migration`)).status).toBe(200);
    // Nobody writes, not even with the ops key or from loopback.
    for (const [path, body, key] of [
      ['/migration/promote', { route: 'orders' }, undefined],
      ['/migration/mode', { route: 'orders', mode: 'remote' }, OPS_KEY],
      ['/config/reload', {}, OPS_KEY],
    ] as const) {
      const answer = await post(path, body, key);
      expect(answer.status, path).toBe(403);
      expect(answer.headers.get('content-type'), path).toBe('application/problem+json');
      expect(answer.body, path).toMatchObject({ code: 'GH_ADMIN_FORBIDDEN' });
      expect((answer.body as { detail: string }).detail).toMatch(/dangerouslyPublic admits reads only/);
    }
    expect(await routesOf()).toEqual(['orders:local', 'group:shadow']);
    expect(await historyOf()).toEqual([]);
    await app.close();

    // Public reads, writes for the ops role only (access.write.require).
    writeFileSync(
      file,
      config().replace(
        'access: { require: { roles: [ops] } }',
        'access: { dangerouslyPublic: true, write: { require: { roles: [ops] } } }',
      ),
    );
    app = await startConfigured(framework, { file }, { watch: false });
    expect((await getJson(`${app.url}/_gatehouse/migration`)).status).toBe(200);
    const anonymous = await post('/migration/promote', { route: 'orders' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBeTruthy();
    expect((await post('/migration/promote', { route: 'orders' }, VIEWER_KEY)).status).toBe(403);
    const ops = await post('/migration/promote', { route: 'orders', reason: 'ops may' }, OPS_KEY);
    expect(ops.status).toBe(200);
    expect(await routesOf()).toEqual(['orders:shadow', 'group:shadow']);
    expect((await historyOf()).map((e) => `${e.action} ${e.route} by ${e.who}`)).toEqual([
      'promote orders by alice',
    ]);
  });

  test('promote, set, roll back and re-arm a route and a group; each change audited three ways', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(file, config());
    const { captured, options } = capture();
    app = await startConfigured(framework, { file }, { watch: false, ...options });
    const published: AuditEntry[] = [];
    const onAudit = (message: unknown) => published.push((message as { entry: AuditEntry }).entry);
    subscribe('gatehouse:admin:audit', onAudit);
    try {
      const promoted = await post(
        '/migration/promote',
        { route: 'orders', reason: 'shadow looks clean' },
        OPS_KEY,
      );
      expect(promoted.status).toBe(200);
      expect(promoted.body).toMatchObject({
        change: { route: 'orders', from: { mode: 'local' }, to: { mode: 'shadow' }, by: 'api' },
        entry: {
          action: 'promote',
          route: 'orders',
          who: 'alice',
          where: { ip: '127.0.0.1', userAgent: 'admin-test/1' },
          reason: 'shadow looks clean',
        },
      });
      expect((await post('/migration/promote', { route: 'orders' }, OPS_KEY)).status).toBe(200);
      expect(await routesOf()).toEqual(['orders:split:10', 'group:shadow']);
      expect(
        (await post('/migration/mode', { route: 'orders', mode: 'split', weight: 25 }, OPS_KEY)).status,
      ).toBe(200);
      expect((await post('/migration/rollback', { route: 'group', reason: 'diffs' }, OPS_KEY)).status).toBe(
        200,
      );
      expect(await routesOf()).toEqual(['orders:split:25', 'group:local']);
      // The group moves as one: both of its paths are local now (answered by the app: 404 here).
      expect((await getJson(`${app.url}/g2/x`)).status).toBe(404);
      expect((await post('/migration/rearm', { route: 'group' }, OPS_KEY)).status).toBe(200);
      expect(await routesOf()).toEqual(['orders:split:25', 'group:shadow']);

      const history = await historyOf();
      expect(history.map((e) => `${e.action} ${e.route} ${e.from?.mode}→${e.to?.mode} by ${e.who}`)).toEqual([
        'rearm group local→shadow by alice',
        'rollback group shadow→local by alice',
        'mode orders split→split by alice',
        'promote orders shadow→split by alice',
        'promote orders local→shadow by alice',
      ]);
      for (const entry of history) expect(Date.parse(entry.at)).toBeGreaterThan(Date.now() - 60_000);
      expect(published.map((e) => e.action)).toEqual(['promote', 'promote', 'mode', 'rollback', 'rearm']);
      const lines = captured.info.filter((l) => l.obj.audit !== undefined);
      expect(lines.map((l) => l.msg)).toEqual([
        'gatehouse admin: promote orders local → shadow by alice',
        'gatehouse admin: promote orders shadow → split 10% by alice',
        'gatehouse admin: mode orders split 10% → split 25% by alice',
        'gatehouse admin: rollback group shadow → local by alice',
        'gatehouse admin: rearm group local → shadow by alice',
      ]);
    } finally {
      unsubscribe('gatehouse:admin:audit', onAudit);
    }
  });

  test("promote and roll back follow a route's promotion steps (the walk), audited like any write", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    // Steps shadow, split 10, split 50, remote (the default walk), held far longer than the test runs,
    // so only the admin API moves the route.
    writeFileSync(
      file,
      config('split', 'shadow').replace(
        'mode: split }',
        'mode: split, weight: 10, promotion: { holdMs: 3600000 } }',
      ),
    );
    app = await startConfigured(framework, { file }, { watch: false });
    expect(await routesOf()).toEqual(['orders:split:10', 'group:shadow']);
    const promoted = await post('/migration/promote', { route: 'orders', expect: 'split' }, OPS_KEY);
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    // The next step of the walk, not the next mode of the fixed order (fallback).
    expect(await routesOf()).toEqual(['orders:split:50', 'group:shadow']);
    expect((await post('/migration/promote', { route: 'orders' }, OPS_KEY)).status).toBe(200);
    expect(await routesOf()).toEqual(['orders:remote', 'group:shadow']);
    expect((await post('/migration/rollback', { route: 'orders' }, OPS_KEY)).status).toBe(200);
    expect(await routesOf()).toEqual(['orders:split:50', 'group:shadow']);
    expect((await post('/migration/rollback', { route: 'orders', reason: 'p99' }, OPS_KEY)).status).toBe(200);
    expect(await routesOf()).toEqual(['orders:split:10', 'group:shadow']);
    const history = await historyOf();
    expect(history.map((e) => `${e.action} ${show(e.from)}→${show(e.to)} by ${e.who}`)).toEqual([
      'rollback split 50→split 10 by alice',
      'rollback remote→split 50 by alice',
      'promote split 50→remote by alice',
      'promote split 10→split 50 by alice',
    ]);
    expect(history[0]!.reason).toBe('p99');
    // /migration shows the route on the walk's second step.
    const migration = (
      await getJson(`${app.url}/_gatehouse/migration`, { headers: { 'x-api-key': OPS_KEY } })
    ).body as { routes: { name: string; promotion?: { step: number } }[] };
    expect(migration.routes.find((r) => r.name === 'orders')?.promotion?.step).toBe(1);
  });

  test('without promotion steps, a rollback from fallback to split starts the split at 10 %, as a promote does', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(file, config('fallback'));
    app = await startConfigured(framework, { file }, { watch: false });
    expect((await post('/migration/rollback', { route: 'orders' }, OPS_KEY)).status).toBe(200);
    expect(await routesOf()).toEqual(['orders:split:10', 'group:shadow']);
    expect((await post('/migration/promote', { route: 'orders', weight: 40 }, OPS_KEY)).status).toBe(200);
    expect((await post('/migration/rollback', { route: 'orders' }, OPS_KEY)).status).toBe(200);
    // A split keeps the weight it has.
    expect(await routesOf()).toEqual(['orders:split:10', 'group:shadow']);
  });

  test('bad writes are problems that change nothing: 400, 404 with a suggestion, 409, 415', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(file, config('remote'));
    app = await startConfigured(framework, { file }, { watch: false });
    const cases: [Promise<{ status: number; body: unknown }>, number, string, RegExp][] = [
      [
        post('/migration/mode', { route: 'orders', mode: 'shadw' }, OPS_KEY),
        400,
        'GH_ADMIN_BAD_REQUEST',
        /did you mean 'shadow'/,
      ],
      [
        post('/migration/mode', { route: 'orders', mode: 'split', weigth: 5 }, OPS_KEY),
        400,
        'GH_ADMIN_BAD_REQUEST',
        /weigth: unknown option; did you mean 'weight'/,
      ],
      [
        post('/migration/promote', { route: 'ordres' }, OPS_KEY),
        404,
        'GH_ADMIN_UNKNOWN_ROUTE',
        /did you mean 'orders'/,
      ],
      [post('/migration/promote', { route: 'orders' }, OPS_KEY), 409, 'GH_ADMIN_CONFLICT', /already remote/],
      [
        post('/migration/rollback', { route: 'orders', expect: 'split' }, OPS_KEY),
        409,
        'GH_ADMIN_CONFLICT',
        /is in remote mode, not split/,
      ],
      [
        post('/migration/promote', 'route=orders', OPS_KEY, 'application/x-www-form-urlencoded'),
        415,
        'GH_ADMIN_UNSUPPORTED_MEDIA_TYPE',
        /application\/json/,
      ],
      [post('/migration/promote', '{"route":', OPS_KEY), 400, 'GH_ADMIN_BAD_REQUEST', /not valid JSON/],
    ];
    for (const [pending, status, code, detail] of cases) {
      const answer = await pending;
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(answer.body).toMatchObject({ code, status });
      expect((answer.body as { detail: string }).detail).toMatch(detail);
    }
    expect(await routesOf()).toEqual(['orders:remote', 'group:shadow']);
    expect(await historyOf()).toEqual([]);
    // GET on a write endpoint: 405 with Allow.
    const get = await getJson(`${app.url}/_gatehouse/migration/promote`, {
      headers: { 'x-api-key': OPS_KEY },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  test('concurrent writes to one route are serialized and both audited', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(file, config());
    app = await startConfigured(framework, { file }, { watch: false });
    const [a, b, c] = await Promise.all([
      post('/migration/promote', { route: 'orders', reason: 'first' }, OPS_KEY),
      post('/migration/promote', { route: 'orders', reason: 'second' }, OPS_KEY),
      post('/migration/promote', { route: 'orders', expect: 'local', reason: 'stale view' }, OPS_KEY),
    ]);
    // Two promotions apply one after the other; the third saw 'local' and finds it moved on.
    expect([a.status, b.status, c.status]).toEqual([200, 200, 409]);
    expect(await routesOf()).toEqual(['orders:split:10', 'group:shadow']);
    const history = await historyOf();
    expect(history.map((e) => `${e.from?.mode}→${e.to?.mode}`)).toEqual(['shadow→split', 'local→shadow']);
    expect(new Set(history.map((e) => e.reason))).toEqual(new Set(['first', 'second']));
  });

  test('precedence: an admin change holds across reloads that leave the route as it was; a file that changes it wins', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-admin-')), 'gatehouse.yaml');
    writeFileSync(file, config('local', 'shadow'));
    app = await startConfigured(framework, { file }, { watch: { intervalMs: 50, debounceMs: 40 } });
    const runtime = app.gw.configuration as ConfigRuntime;
    expect(
      (await post('/migration/mode', { route: 'orders', mode: 'split', weight: 30 }, OPS_KEY)).status,
    ).toBe(200);
    let reloaded = nextEvent(runtime, 'reload');
    replaceFile(file, config('local', 'remote'));
    await reloaded;
    expect(await routesOf()).toEqual(['orders:split:30', 'group:remote']);
    reloaded = nextEvent(runtime, 'reload');
    replaceFile(file, config('shadow', 'remote'));
    await reloaded;
    expect(await routesOf()).toEqual(['orders:shadow', 'group:remote']);
    const history = await historyOf();
    expect(history.map((e) => `${e.action} ${e.route} ${e.to?.mode} by ${e.who}`)).toEqual([
      'table orders shadow by table',
      'table group remote by table',
      'mode orders split by alice',
    ]);
  });
});

test('a gateway built in code has the same write API (gw.routes() registers it)', async () => {
  const { gateway } = await import('@gatehousejs/express');
  const express = (await import('express')).default;
  const gw = gateway({
    services: { api: { url: upstream.url } },
    admin: { access: { peers: ['loopback'] } },
  });
  const expressApp = express();
  expressApp.use(gw.admin());
  const routes = gw.router({ table: [{ name: 'orders', path: '/api/*', service: 'api', mode: 'local' }] });
  expressApp.use(gw.use(routes));
  expressApp.use(gw.errors());
  const server = gw.serve(expressApp.listen(0, '127.0.0.1'));
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const answer = await getJson(`${url}/migration/promote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'orders', reason: 'from code' }),
    });
    expect(answer.status).toBe(200);
    // setMode() in code is recorded too, as 'code'.
    routes.setMode('orders', 'split', 5);
    const migration = (await getJson(`${url}/migration`)).body as { history: AuditEntry[] };
    expect(migration.history.map((e) => `${e.action}:${e.who}:${e.to?.mode}`)).toEqual([
      'code:code:split',
      'promote:anonymous:shadow',
    ]);
    // The same history on the gateway object.
    expect(gw.audit.history()).toEqual(migration.history);
  } finally {
    await gw.close({ deadlineMs: 500 });
  }
});

/** A mode and weight as the audit's log line shows them (`split 10`, `remote`). */
function show(state: { mode: string; weight: number } | undefined): string {
  if (state === undefined) return '?';
  return state.mode === 'split' ? `split ${state.weight}` : state.mode;
}
