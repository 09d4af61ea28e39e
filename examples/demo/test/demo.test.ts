// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${DEMO_API_KEY} is a reference in the configuration
// The demo starts, both gateways answer the same way, the commands it prints do what they say in the
// order printed, and it shuts down cleanly.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEMO_API_KEY } from '../src/apps.js';
import { demoSteps, instructions, startDemo, statusText } from '../src/main.js';

const run = promisify(execFile);
const ON_CI = process.env.CI === 'true';
const CURL = spawnSync('curl', ['--version']).status === 0;
if (!CURL && !ON_CI)
  console.warn('*** curl is missing: the printed demo commands are not run (they are on CI) ***');

describe.skipIf(!CURL && !ON_CI)('the printed commands, run with curl in the order printed', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  beforeAll(async () => {
    if (!CURL) throw new Error('CI=true and curl is missing');
    // A fresh demo: the sequence starts where a person starts, with no rate-limit quota spent.
    demo = await startDemo({ express: 0, koa: 0, inventory: 0, orders: 0 });
  });
  afterAll(async () => {
    await demo?.close();
  });

  for (const side of ['express', 'koa'] as const) {
    test(`${side}: every line answers the statuses its comment promises`, async () => {
      const printed = instructions(demo.ports[side], side).split('\n');
      const steps = demoSteps();
      expect(printed[0]).toContain('run these in order');
      const lines = printed.slice(1);
      expect(lines).toHaveLength(steps.length);
      const outcomes: string[] = [];
      for (const [i, line] of lines.entries()) {
        const hash = line.lastIndexOf('  # ');
        const command = line.slice(0, hash).trim();
        const promised = line.slice(hash + 4, line.indexOf(' — ', hash));
        expect(promised, line).toBe(statusText(steps[i]!));
        const { stdout } = await run('sh', ['-c', command], { timeout: 10_000 });
        const statuses =
          steps[i]!.show === 'codes'
            ? stdout.trim().split(/\s+/).map(Number)
            : [...stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
        outcomes.push(`${command.slice(0, 70)} → ${statuses.join(' ')}`);
        expect(statuses, `step ${i + 1}: ${command}\n${outcomes.join('\n')}`).toEqual(
          steps[i]!.requests.map((r) => r.status),
        );
      }
      // The rate-limit loop says exactly what it will show: the plan's remainder, then 429s.
      expect(lines.find((l) => l.includes('seq'))).toMatch(/# 5 × 200, then 2 × 429 — /);
    });
  }
});

describe('demo', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  beforeAll(async () => {
    demo = await startDemo({ express: 0, koa: 0, inventory: 0, orders: 0 });
  });
  afterAll(async () => {
    await demo?.close();
  });

  for (const side of ['express', 'koa'] as const) {
    test(`${side}: the order screen composes two services; a required 404 stays 404`, async () => {
      const base = `http://127.0.0.1:${demo.ports[side]}`;
      // With the demo key: its own rate-limit bucket, so the anonymous one the next test reads is untouched.
      const key = { 'x-api-key': DEMO_API_KEY };
      const screen = await fetch(`${base}/api/screens/orders/1?sku=sku-1`, { headers: key });
      expect(screen.status).toBe(200);
      const body = (await screen.json()) as { order: { id: string }; stock: unknown };
      expect(body.order.id).toBe('1');
      expect(body.stock).toEqual({ sku: 'sku-1', available: 12 });
      // The stock call is optional: an unknown SKU leaves it out and says so.
      const partial = await fetch(`${base}/api/screens/orders/1?sku=sku-9`, { headers: key });
      expect(partial.status).toBe(200);
      expect(partial.headers.get('x-gatehouse-partial')).toBe('stock');
      const missing = await fetch(`${base}/api/screens/orders/99`, { headers: key });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { code: string }).code).toBe('GH_AGGREGATE_NOT_FOUND');
    });

    test(`${side}: hello, stock, out-of-stock problem, 404, bad path, health`, async () => {
      const base = `http://127.0.0.1:${demo.ports[side]}`;
      const hello = await fetch(`${base}/api/hello`);
      expect(hello.status).toBe(200);
      expect(await hello.json()).toEqual({ hello: `from ${side}` });
      expect(hello.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(hello.headers.get('ratelimit-policy')).toBe('"free";q=10;w=60');
      expect(hello.headers.get('ratelimit')).toBe('"free";r=9;t=60');

      const anonymous = await fetch(`${base}/api/stock/sku-1`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('ApiKey realm="gatehouse"');
      const wrongKey = await fetch(`${base}/api/stock/sku-1`, { headers: { 'x-api-key': 'wrong' } });
      expect(((await wrongKey.json()) as { code: string }).code).toBe('GH_AUTH_INVALID');

      const key = { 'x-api-key': DEMO_API_KEY };
      const stock = await fetch(`${base}/api/stock/sku-1`, { headers: { ...key, 'x-request-id': 'demo-1' } });
      expect(await stock.json()).toEqual({ sku: 'sku-1', available: 12, requestId: 'demo-1' });

      const out = await fetch(`${base}/api/stock/sku-2`, { headers: key });
      expect(out.status).toBe(409);
      expect(out.headers.get('content-type')).toBe('application/problem+json');
      expect(await out.json()).toMatchObject({ code: 'GH_DEMO_OUT_OF_STOCK', sku: 'sku-2' });

      const missing = await fetch(`${base}/api/stock/sku-9`, { headers: key });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { code: string }).code).toBe('GH_NOT_FOUND');

      const bad = await fetch(`${base}/api/a%2fb`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe('GH_PATH_ENCODED_SLASH');

      expect((await fetch(`${base}/ready`)).status).toBe(200);

      // The free plan (10 a minute, keyed by address) is spent by now; the pro key is not limited by it.
      let limited: Response | undefined;
      for (let i = 0; i < 12 && limited === undefined; i++) {
        const res = await fetch(`${base}/api/hello`);
        if (res.status === 429) limited = res;
      }
      expect(limited?.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited?.json()).toMatchObject({ code: 'GH_RATE_LIMITED', policy: 'free' });
      const pro = await fetch(`${base}/api/hello`, { headers: key });
      expect(pro.status).toBe(200);
      expect(pro.headers.get('ratelimit-policy')).toBe('"burst";q=20;w=1, "daily";q=10000;w=86400');
      expect((await fetch(`${base}/ready`)).status).toBe(200);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/http_server_request_duration_seconds_count\{[^}]*http_route="\/api\/hello"/);
      expect(metrics).toMatch(/gatehouse_rejections_total\{gatehouse_error_code="GH_DEMO_OUT_OF_STOCK"\} 1/);
      expect(metrics).toMatch(
        /http_client_request_duration_seconds_count\{[^}]*server_address="127\.0\.0\.1"/,
      );
    });

    test(`${side}: the gateway runs from gatehouse.yaml; /config shows it with the key as its reference`, async () => {
      const base = `http://127.0.0.1:${demo.ports[side]}`;
      const config = await fetch(`${base}/config`);
      expect(config.status).toBe(200);
      const text = await config.text();
      expect(JSON.parse(text)).toMatchObject({
        revision: 1,
        origin: expect.stringMatching(/examples\/demo\/gatehouse\.yaml$/),
        config: { routes: [{ name: 'orders', mode: 'shadow' }] },
      });
      expect(text).toContain('${DEMO_API_KEY}');
      expect(text).not.toContain(DEMO_API_KEY);
    });

    test(`${side}: orders are shadowed to the orders service and compared, updatedAt learned as noise`, async () => {
      const base = `http://127.0.0.1:${demo.ports[side]}`;
      const key = { 'x-api-key': DEMO_API_KEY };
      for (const id of ['1', '2', '3']) {
        const res = await fetch(`${base}/api/orders/${id}`, { headers: key });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ id, status: expect.any(String) });
      }
      type Report = {
        routes: Array<{
          name: string;
          mode: string;
          diff: { stage: Record<string, unknown>; noise: Record<string, number> };
          latest: unknown[];
        }>;
      };
      let report: Report | undefined;
      for (let i = 0; i < 100; i++) {
        report = (await (await fetch(`${base}/migration`)).json()) as Report;
        if (report.routes[0]?.diff.stage.compared === 3) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const orders = report!.routes[0]!;
      expect(orders).toMatchObject({
        name: 'orders',
        mode: 'shadow',
        diff: { stage: { compared: 3, equal: 2, different: 1, fields: { '/total': 1 } } },
      });
      expect(orders.diff.noise).toHaveProperty('/updatedAt');
      expect(orders.latest[0]).toMatchObject({
        path: '/api/orders/3',
        differences: [{ path: '/total', local: 99, remote: 89.1 }],
      });
      const table = (await (await fetch(`${base}/routes`)).json()) as {
        controllers: Array<{ routes: unknown[] }>;
      };
      expect(table.controllers[0]!.routes[0]).toMatchObject({
        name: 'orders',
        service: 'orders',
        mode: 'shadow',
      });
    });
  }
});
