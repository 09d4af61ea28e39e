// The migration counters through the OpenTelemetry metrics SDK, on Express and Koa: requests per
// route and side with their errors, shadow comparisons equal and different, registered once per
// gateway however many route controllers it has.
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  FRAMEWORKS,
  type RoutesApp,
  startRoutesApp,
  startUpstream,
  type Upstream,
} from '../routes/harness.js';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => {
  metrics.disable();
});

type Point = DataPoint<number>;

async function points(name: string): Promise<{ count: number; list: Point[] }> {
  exporter.reset();
  await reader.forceFlush();
  let count = 0;
  const list: Point[] = [];
  for (const rm of exporter.getMetrics())
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === name) {
          count++;
          list.push(...(m.dataPoints as Point[]));
        }
  return { count, list };
}

const value = (list: Point[], attributes: Record<string, string>) =>
  list.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))?.value;

describe.each(FRAMEWORKS)('migration metrics on %s', (framework) => {
  let service: Upstream;
  let app: RoutesApp;
  beforeAll(async () => {
    service = await startUpstream((req, res) => {
      res.statusCode = req.url?.startsWith('/broken') ? 502 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ side: 'remote', method: req.method, url: req.url, body: null }));
    });
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      routes: {
        table: [
          { name: 'proxied', path: '/orders/*', service: 'orders' },
          { name: 'broken', path: '/broken/*', service: 'orders' },
          {
            name: 'shadowed',
            path: '/users/*',
            service: 'orders',
            mode: 'shadow',
            shadow: { noiseSampleRate: 0 },
          },
        ],
      },
    });
    // A second controller on the same gateway: its routes are counted by the same instruments.
    app.gateway.router({ name: 'second', table: [{ name: 'later', path: '/later/*' }] });
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  test('requests per route and side, errors, and shadow comparisons', async () => {
    for (const path of ['/orders/1', '/orders/2', '/broken/1', '/users/1']) {
      const res = await request(`${app.url}${path}`);
      await res.body.dump();
    }
    for (let i = 0; i < 100 && app.routes.migration()[2]!.diff.stage.compared === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    const requests = await points('gatehouse.migration.requests');
    expect(requests.count).toBe(1);
    expect(value(requests.list, { 'gatehouse.route': 'proxied', side: 'remote', outcome: 'all' })).toBe(2);
    expect(value(requests.list, { 'gatehouse.route': 'proxied', side: 'remote', outcome: 'error' })).toBe(0);
    expect(value(requests.list, { 'gatehouse.route': 'broken', side: 'remote', outcome: 'error' })).toBe(1);
    expect(value(requests.list, { 'gatehouse.route': 'shadowed', side: 'local', outcome: 'all' })).toBe(1);
    expect(value(requests.list, { 'gatehouse.route': 'shadowed', side: 'remote', outcome: 'all' })).toBe(1);
    expect(value(requests.list, { 'gatehouse.route': 'later', side: 'local', outcome: 'all' })).toBe(0);
    const comparisons = await points('gatehouse.shadow.comparisons');
    // The shadow answers differ: the local handler says side 'local', the service 'remote'.
    expect(value(comparisons.list, { 'gatehouse.route': 'shadowed', result: 'different' })).toBe(1);
    expect(value(comparisons.list, { 'gatehouse.route': 'shadowed', result: 'equal' })).toBe(0);
  });
});
