// The migration modes on Express and Koa, over real sockets: who answers, what reaches each side, and
// that both frameworks answer byte-for-byte the same.
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

let orders: Upstream;
beforeAll(async () => {
  orders = await startUpstream();
});
afterAll(async () => {
  await orders.close();
});

async function call(
  app: RoutesApp,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const res = await request(`${app.url}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    body: init.body,
    headers: init.body !== undefined ? { 'content-type': 'application/json', ...init.headers } : init.headers,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: text.startsWith('{') ? JSON.parse(text) : undefined,
  };
}

const waitFor = async (check: () => boolean, ms = 3_000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.each(FRAMEWORKS)('modes on %s', (framework: Framework) => {
  let app: RoutesApp;
  beforeAll(async () => {
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: orders.url } } },
      routes: {
        table: [
          {
            name: 'remote',
            path: '/orders/*',
            service: 'orders',
            mode: 'remote',
            rewrite: { from: '/orders', to: '/api/orders' },
          },
          { name: 'local', path: '/users/*', service: 'orders', mode: 'local' },
          {
            name: 'shadow',
            path: '/items/*',
            service: 'orders',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0 },
          },
          { name: 'fallback', path: '/carts/*', service: 'orders', mode: 'fallback' },
          {
            name: 'split',
            path: '/split/*',
            service: 'orders',
            mode: 'split',
            weight: 50,
            sticky: { header: 'x-session' },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('remote: the service answers, with the path rewritten and the body streamed through', async () => {
    const res = await call(app, '/orders/42?expand=lines', { method: 'POST', body: '{"qty":2}' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      side: 'remote',
      method: 'POST',
      url: '/api/orders/42?expand=lines',
      body: { qty: 2 },
    });
    expect(app.local).toEqual([]);
  });

  it('local: the application answers', async () => {
    const before = orders.received.length;
    const res = await call(app, '/users/7');
    expect(res.json).toMatchObject({ side: 'local', method: 'GET', url: '/users/7' });
    expect(orders.received.length).toBe(before);
  });

  it('shadow: local answers and a copy with the same body reaches the service', async () => {
    const before = orders.received.length;
    const res = await call(app, '/items/9');
    expect(res.json).toMatchObject({ id: '9' });
    await waitFor(() => orders.received.length === before + 1);
    expect(orders.received.at(-1)).toMatchObject({ method: 'GET', url: '/items/9' });
    await waitFor(() => app.routes.migration().find((r) => r.name === 'shadow')!.diff.stage.compared === 1);
    const report = app.routes.migration().find((r) => r.name === 'shadow')!;
    expect(report.diff.stage.different).toBe(1);
  });

  it('fallback: the service answers while it can; local answers on a 5xx, with the body replayed', async () => {
    const ok = await call(app, '/carts/1', { method: 'PUT', body: '{"a":1}' });
    expect(ok.json).toMatchObject({ side: 'remote', body: { a: 1 } });
    const saved = orders.handler;
    orders.handler = (_req, res) => {
      res.statusCode = 503;
      res.end('down');
    };
    try {
      const res = await call(app, '/carts/2', { method: 'PUT', body: '{"a":2}' });
      expect(res.json).toMatchObject({ side: 'local', method: 'PUT', body: { a: 2 } });
    } finally {
      orders.handler = saved;
    }
    const report = app.routes.migration().find((r) => r.name === 'fallback')!;
    expect(report.fallbacks).toEqual({ stage: { '5xx': 1 }, total: { '5xx': 1 } });
  });

  it('split: each caller stays on one side; about the weight goes remote', async () => {
    const sides = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const res = await call(app, '/split/x', { headers: { 'x-session': `u${i}` } });
      sides.set(`u${i}`, res.json.side);
    }
    for (let i = 0; i < 20; i++) {
      const res = await call(app, '/split/x', { headers: { 'x-session': `u${i}` } });
      expect(res.json.side).toBe(sides.get(`u${i}`));
    }
    const remote = [...sides.values()].filter((s) => s === 'remote').length;
    expect(remote).toBeGreaterThan(70);
    expect(remote).toBeLessThan(130);
  });
});
