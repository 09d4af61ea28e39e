// The dashboard over real sockets, on every framework: served behind the admin access policy with
// its security headers, assets revalidated by ETag, the state document with the numbers /migration
// has, the live event stream (a state at once, another after a change through the audited write
// API), its limit, and the streams ended when the gateway drains.
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { addDashboard, type Dashboard } from '@gatehousejs/dashboard';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FRAMEWORKS,
  type Framework,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from '../routes/harness.js';
import { waitFor } from '../routes/support.js';

/** Reads server-sent events from `url` until `until` says enough; returns them with the raw response. */
async function readEvents(
  url: string,
  until: (events: Array<{ event: string; data: string }>) => boolean,
  ms = 5_000,
): Promise<{
  status: number;
  headers: Record<string, unknown>;
  events: Array<{ event: string; data: string }>;
}> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: string }> = [];
    const req = httpRequest(url, (res) => {
      let buffer = '';
      const timer = setTimeout(() => {
        req.destroy();
        reject(
          new Error(`no matching events within ${ms} ms: ${JSON.stringify(events.map((e) => e.event))}`),
        );
      }, ms);
      const finish = () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, events });
      };
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', finish);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ event, data: data.join('\n') });
          end = buffer.indexOf('\n\n');
        }
        if (until(events)) finish();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(FRAMEWORKS)('the dashboard (%s)', (framework: Framework) => {
  let service: Upstream;
  let app: RoutesApp;
  let closed: RoutesApp | undefined;
  let dashboard: Dashboard;

  beforeAll(async () => {
    service = await startUpstream();
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } }, admin: { access: { peers: ['loopback'] } } },
      before: (gw) => [gw.admin()],
      routes: {
        gateIntervalMs: 3_600_000,
        table: [
          { name: 'orders', path: '/orders/*', service: 'orders', mode: 'split', weight: 50, sticky: 'none' },
          { name: 'tags', path: '/tags', service: 'orders', mode: 'shadow', shadow: { noiseSampleRate: 0 } },
        ],
      },
    });
    dashboard = addDashboard(app.gateway.core, { refreshMs: 100, sampleMs: 100, maxClients: 2 });
  });
  afterAll(async () => {
    await app?.close();
    await closed?.close();
    await service?.close();
  });

  it('serves the page behind the admin access policy, with a strict CSP and relative links', async () => {
    const res = await request(`${app.url}/dashboard`);
    const html = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(html).toContain('<script src="dashboard/app-js"></script>');
    expect(html).toContain('data-path="/dashboard"');
    // With a trailing slash the same links must still resolve below the page.
    const slash = await request(`${app.url}/dashboard/`);
    expect(await slash.body.text()).toContain('<script src="app-js"></script>');
  });

  it('refuses a caller the policy does not admit, with a problem', async () => {
    // The access policy admits loopback peers only: from another address (a second loopback is still
    // loopback), so use a gateway whose policy admits nobody instead.
    closed = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      before: (gw) => [gw.admin()],
      routes: { table: [{ name: 'x', path: '/x/*', service: 'orders', mode: 'local' }] },
    });
    addDashboard(closed.gateway.core);
    for (const path of ['/dashboard', '/dashboard/state', '/dashboard/events', '/dashboard/app-js']) {
      const res = await request(`${closed.url}${path}`);
      const body = (await res.body.json()) as { code: string };
      expect(res.statusCode, path).toBe(403);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(body.code).toBe('GH_ADMIN_FORBIDDEN');
    }
  });

  it('serves its assets (uPlot from the package, no CDN) with an ETag, 304 when unchanged', async () => {
    for (const [name, type] of [
      ['app-js', 'text/javascript; charset=utf-8'],
      ['app-css', 'text/css; charset=utf-8'],
      ['chart-js', 'text/javascript; charset=utf-8'],
      ['chart-css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await request(`${app.url}/dashboard/${name}`);
      const body = await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(body.length).toBeGreaterThan(500);
      expect(body).not.toMatch(/https?:\/\/(?:cdn|unpkg|fonts)\./);
      const again = await request(`${app.url}/dashboard/${name}`, {
        headers: { 'if-none-match': String(res.headers.etag) },
      });
      await again.body.dump();
      expect(again.statusCode).toBe(304);
    }
    const chart = await (await request(`${app.url}/dashboard/chart-js`)).body.text();
    expect(chart).toContain('uPlot');
  });

  it('the state document has the numbers /migration has, and the write API the buttons use', async () => {
    for (let i = 0; i < 30; i++) await (await request(`${app.url}/orders/${i}`)).body.dump();
    const res = await request(`${app.url}/dashboard/state`);
    const state = (await res.body.json()) as {
      wired: boolean;
      routes: Array<{
        name: string;
        mode: string;
        local: { stage: { requests: number } };
        remote: { stage: { requests: number } };
      }>;
      actions: Record<string, boolean>;
    };
    expect(state.wired).toBe(true);
    expect(state.actions).toEqual({ promote: true, rollback: true, rearm: true });
    const orders = state.routes.find((r) => r.name === 'orders')!;
    const truth = app.routes.migration().find((r) => r.name === 'orders')!;
    expect(orders.local.stage.requests).toBe(truth.local.stage.requests);
    expect(orders.remote.stage.requests).toBe(truth.remote.stage.requests);
    expect(orders.local.stage.requests + orders.remote.stage.requests).toBe(30);
  });

  it('streams the state at once, and again right after an audited change', async () => {
    const seen = readEvents(`${app.url}/dashboard/events`, (events) =>
      events.some((e) => e.event === 'state' && /"mode":"fallback"/.test(e.data)),
    );
    // Let the stream open and send its first state, then promote through the write API.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const promoted = await request(`${app.url}/migration/promote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'orders', expect: 'split', reason: 'test' }),
    });
    expect(promoted.statusCode).toBe(200);
    await promoted.body.dump();
    const { status, headers, events } = await seen;
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(headers['cache-control']).toBe('no-store');
    const first = JSON.parse(events[0]!.data) as { routes: Array<{ name: string; mode: string }> };
    expect(first.routes.find((r) => r.name === 'orders')!.mode).toBe('split');
    const last = JSON.parse(events.at(-1)!.data) as {
      routes: Array<{ name: string; mode: string }>;
      history: Array<{ action: string; route: string; reason?: string }>;
    };
    expect(last.routes.find((r) => r.name === 'orders')!.mode).toBe('fallback');
    expect(last.history[0]).toMatchObject({ action: 'promote', route: 'orders', reason: 'test' });
  });

  it('more pages than maxClients get 503 GH_DASHBOARD_BUSY; a closed page frees its place', async () => {
    const open: Array<ReturnType<typeof httpRequest>> = [];
    for (let i = 0; i < 2; i++) {
      const req = httpRequest(`${app.url}/dashboard/events`);
      req.end();
      const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
      expect(res.statusCode).toBe(200);
      res.resume();
      open.push(req);
    }
    const busy = await request(`${app.url}/dashboard/events`);
    const problem = (await busy.body.json()) as { code: string; detail: string };
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('5');
    expect(problem.code).toBe('GH_DASHBOARD_BUSY');
    expect(problem.detail).toMatch(/2 dashboard pages are open/);
    for (const req of open) req.destroy();
    // A closed page frees its place: one more fits once the server saw the sockets close.
    await waitFor(() => dashboard.clients === 0, 3_000, 'the streams to close');
    const again = await readEvents(`${app.url}/dashboard/events`, (events) => events.length > 0);
    expect(again.status).toBe(200);
  });

  it('a draining gateway ends the open streams at once', async () => {
    const other = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } }, admin: { access: { peers: ['loopback'] } } },
      before: (gw) => [gw.admin()],
      routes: { table: [{ name: 'x', path: '/x/*', service: 'orders', mode: 'local' }] },
    });
    addDashboard(other.gateway.core);
    const req = httpRequest(`${other.url}/dashboard/events`);
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    res.resume();
    const ended = once(res, 'end');
    const started = Date.now();
    await other.gateway.close({ deadlineMs: 10_000 });
    await ended;
    // Far below the 10 s deadline the stream would otherwise have held the server to.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
