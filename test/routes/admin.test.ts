// /routes and /migration through gw.admin() on every framework: behind the admin access policy (403
// by default), a table file shown by its base name unless `admin.reveal.filePaths`, and the latest
// shadow differences without the caller's request data unless `admin.reveal.requestData`.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayConfig } from '@gatehousejs/core';
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

async function get(app: RoutesApp, path: string) {
  const res = await request(`${app.url}${path}`);
  const text = await res.body.text();
  return { status: res.statusCode, json: text === '' ? undefined : JSON.parse(text) };
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Replaces the file in one step (write elsewhere, rename over), so no read ever sees half of it. */
async function replace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

const TABLE =
  'routes:\n  - name: items\n    path: /items/:id\n    service: items\n    mode: shadow\n' +
  '    shadow: { noiseSampleRate: 0 }\n    diff: { ignore: [/at, /nonce] }\n';

describe.each(FRAMEWORKS)('/routes and /migration on %s', (framework: Framework) => {
  let dir: string;
  let file: string;
  let items: Upstream;
  const apps: RoutesApp[] = [];
  const start = async (admin: GatewayConfig['admin']) => {
    const app = await startRoutesApp(framework, {
      config: { services: { items: { url: items.url } }, admin },
      before: (gw) => [gw.admin()],
      routes: { file, watch: { intervalMs: 50, debounceMs: 10 } },
    });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-'));
    file = join(dir, 'routes.yaml');
    await writeFile(file, TABLE);
    // The service names item 7 differently: every shadow copy of it differs.
    items = await startUpstream((req, res) => {
      // The monolith's /items/:id answers { id, name, at, nonce }; at and nonce are ignored.
      const id = (req.url ?? '').split('?')[0]!.split('/').pop()!;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ id, name: id === '7' ? 'seven' : `item ${id}`, at: 0, nonce: 'remote' }));
    });
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await items.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are refused to everyone without an access policy', async () => {
    const app = await start(undefined);
    for (const path of ['/routes', '/migration']) {
      const res = await get(app, path);
      expect(res.status, path).toBe(403);
      expect(res.json).toMatchObject({ code: 'GH_ADMIN_FORBIDDEN' });
      expect(JSON.stringify(res.json)).not.toContain(dir);
    }
    expect((await get(app, '/health')).status).toBe(200);
  });

  it('show the table file by its base name, in the origin and in a rejection', async () => {
    const app = await start({ access: { peers: ['loopback'] } });
    const routes = await get(app, '/routes');
    expect(routes.status).toBe(200);
    expect(routes.json.controllers[0]).toMatchObject({ origin: 'routes.yaml', revision: 1 });
    expect(JSON.stringify(routes.json)).not.toContain(dir);
    // A broken table: the rejection names the file (with line and column) by its base name only.
    const rejected = new Promise<void>((resolve) => app.routes.once('reject', () => resolve()));
    await replace(file, 'routes: [ {name: items, path: /items/:id, mode: local\n');
    await rejected;
    const after = await get(app, '/routes');
    const controller = after.json.controllers[0];
    expect(controller.rejection.origin).toBe('routes.yaml');
    expect(controller.rejection.problems[0].message).toMatch(/^routes\.yaml:\d+:\d+: syntax error/);
    expect(JSON.stringify(after.json)).not.toContain(dir);
    // What the controller itself holds is unchanged: only the admin page redacts.
    expect(app.routes.describe().origin).toBe(file);
    await replace(file, TABLE);
    await waitFor(() => app.routes.describe().rejection === undefined);
  });

  it('show absolute paths when admin.reveal.filePaths is set', async () => {
    const app = await start({ access: { peers: ['loopback'] }, reveal: { filePaths: true } });
    const routes = await get(app, '/routes');
    expect(routes.json.controllers[0].origin).toBe(file);
  });

  it("list the latest differences without other callers' request data", async () => {
    const app = await start({ access: { peers: ['loopback'] } });
    await get(app, '/items/7?email=alice@example.com');
    await waitFor(() => app.routes.migration()[0]!.diff.stage.different === 1);
    const migration = await get(app, '/migration');
    expect(migration.status).toBe(200);
    const route = migration.json.routes[0];
    expect(route.diff.stage).toMatchObject({ compared: 1, different: 1, fields: { '/name': 1 } });
    expect(route.latest).toEqual([
      { at: expect.any(String), differences: [{ field: '/name', kind: 'value' }], omitted: 0 },
    ]);
    const text = JSON.stringify(migration.json);
    for (const secret of ['/items/7', 'alice@example.com', 'seven', 'item 7'])
      expect(text).not.toContain(secret);
  });

  it('list them in full when admin.reveal.requestData is set', async () => {
    const app = await start({ access: { peers: ['loopback'] }, reveal: { requestData: true } });
    await get(app, '/items/7');
    await waitFor(() => app.routes.migration()[0]!.diff.stage.different === 1);
    const route = (await get(app, '/migration')).json.routes[0];
    expect(route.latest[0]).toMatchObject({
      method: 'GET',
      path: '/items/7',
      differences: [{ path: '/name', local: 'item 7', remote: 'seven' }],
    });
  });
});
