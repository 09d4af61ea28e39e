// The dashboard without importing it: `admin.dashboard` in a configuration file and `gw.dashboard()`
// in code, on every framework. The page and its state are served below the admin prefix, behind the
// access policy; the key is restart-only (a reload that changes it keeps the running dashboard and
// says so, while the rest of `admin` still reloads); options are checked like every other key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehousejs/core';
import type { ReloadResult } from '@gatehousejs/gateway';
import { checkGatehouseConfig } from '@gatehousejs/gateway/config';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  type ConfiguredApp,
  getJson,
  type NamedUpstream,
  replaceFile,
  startConfigured,
  startUpstream,
} from '../config/support.js';
import { type RoutesApp, startRoutesApp } from '../routes/harness.js';
import { FRAMEWORKS, type Framework } from '../support/apps.js';

let upstream: NamedUpstream;
beforeAll(async () => {
  upstream = await startUpstream('orders');
});
afterAll(async () => {
  await upstream.close();
});

const config = (dashboard: string, reveal = false) => `
services:
  orders: { url: "${upstream.url}" }
routes:
  - { name: orders, path: /orders/*, service: orders, mode: shadow }
admin:
  prefix: /_gatehouse
  access: { peers: [loopback] }
  reveal: { filePaths: ${reveal} }
  dashboard: ${dashboard}
`;

let app: ConfiguredApp | RoutesApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

interface State {
  title: string;
  wired: boolean;
  routes: { name: string; mode: string }[];
  actions: { promote: boolean };
}

describe.each(FRAMEWORKS)('%s', (framework: Framework) => {
  test('admin.dashboard in a file: the page and its state below the admin prefix, behind the access policy', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-dashboard-')), 'gatehouse.yaml');
    writeFileSync(file, config('{ path: /board, title: "Orders on the move", refreshMs: 500 }'));
    const started = await startConfigured(framework, { file }, { watch: false });
    app = started;
    const page = await fetch(`${started.url}/_gatehouse/board`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(await page.text()).toContain('<title>Orders on the move</title>');
    const state = await getJson(`${started.url}/_gatehouse/board/state`);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({
      title: 'Orders on the move',
      wired: true,
      routes: [{ name: 'orders', mode: 'shadow' }],
      actions: { promote: true },
      refreshMs: 500,
    } satisfies Partial<State> & { refreshMs: number });
    // Only at the path it was given.
    expect((await fetch(`${started.url}/_gatehouse/dashboard`)).status).toBe(404);

    // A reload that changes the dashboard keeps the running one and says a restart is needed; the rest
    // of admin (reveal) is applied.
    const runtime = started.gw.configuration!;
    replaceFile(file, config('{ path: /elsewhere, title: "Renamed" }', true));
    const result: ReloadResult = await runtime.reload();
    expect(result).toMatchObject({
      outcome: 'applied',
      changed: ['admin'],
      restartRequired: ['admin.dashboard'],
    });
    expect(((await getJson(`${started.url}/_gatehouse/board/state`)).body as State).title).toBe(
      'Orders on the move',
    );
    expect((await fetch(`${started.url}/_gatehouse/elsewhere`)).status).toBe(404);
    const shown = (await getJson(`${started.url}/_gatehouse/config`)).body as { restartRequired: string[] };
    expect(shown.restartRequired).toEqual(['admin.dashboard']);
    // Changing the dashboard alone changes nothing else.
    replaceFile(file, config('true', true));
    expect(await runtime.reload()).toMatchObject({
      outcome: 'unchanged',
      changed: [],
      restartRequired: ['admin.dashboard'],
    });
  });

  test('admin.dashboard: true takes the defaults; without an access policy the page is 403 like any admin endpoint', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-dashboard-')), 'gatehouse.yaml');
    writeFileSync(file, config('true').replace('  access: { peers: [loopback] }\n', ''));
    const started = await startConfigured(framework, { file }, { watch: false });
    app = started;
    const refused = await getJson(`${started.url}/_gatehouse/dashboard`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'GH_ADMIN_FORBIDDEN' });
  });

  test('gw.dashboard() in code: the same page; one per gateway; options checked', async () => {
    const routesApp = await startRoutesApp(framework, {
      config: { services: { orders: { url: upstream.url } }, admin: { access: { peers: ['loopback'] } } },
      before: (gw) => [gw.admin()],
      routes: { table: [{ name: 'orders', path: '/orders/*', service: 'orders', mode: 'shadow' }] },
    });
    app = routesApp;
    const made = routesApp.gateway.dashboard({ path: '/ops/migration' });
    const state = await getJson(`${routesApp.url}/ops/migration/state`);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ title: 'Gatehouse migration', routes: [{ name: 'orders' }] });
    expect(made.clients).toBe(0);
    expect(() => routesApp.gateway.dashboard()).toThrow(/one per gateway/);
  });
});

test('options are checked where they are given: a ConfigError with the path and a suggestion', () => {
  let thrown: unknown;
  try {
    checkGatehouseConfig({
      admin: { access: { peers: ['loopback'] }, dashboard: { pth: '/d', maxClients: 0 } },
    });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
    "admin.dashboard.pth: unknown option; did you mean 'path'?",
    'admin.dashboard.maxClients: expected a number > 0, received the number 0',
  ]);
  expect(() => checkGatehouseConfig({ admin: { dashboard: 'yes' } })).toThrow(
    /admin\.dashboard: must be true, false or an object/,
  );
});
