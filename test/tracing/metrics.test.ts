// Metrics through the middleware on Express and on Koa: recorded with the semantic-convention
// attributes by a real sdk-metrics pipeline, and served as Prometheus text by gw.admin().
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAMEWORKS } from '../support/apps.js';
import { request } from '../support/raw-http.js';
import { startTopology, type Topology } from './topology.js';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(() => metrics.disable());

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}
async function points(name: string): Promise<Point[]> {
  exporter.reset();
  await reader.forceFlush();
  const found: Point[] = [];
  for (const rm of exporter.getMetrics()) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) if (m.descriptor.name === name) found.push(...(m.dataPoints as Point[]));
    }
  }
  return found;
}
const count = (p: Point) => (p.value as { count?: number }).count ?? (p.value as number);

describe.each(FRAMEWORKS)('%s metrics', (framework) => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await startTopology(framework, { metrics: { prometheus: true } });
  });
  afterAll(() => topo?.close());

  test('server and client durations, active requests and rejections carry the right attributes', async () => {
    expect(topo.fronts.tracer.metrics.active).toBe(true);
    // The global provider is shared by both frameworks' apps in this file: count what this test adds.
    const rejectionsBy = async () =>
      Object.fromEntries(
        (await points('gatehouse.rejections')).map((p) => [
          p.attributes['gatehouse.error.code'],
          p.value as number,
        ]),
      );
    const before = await rejectionsBy();
    for (let i = 0; i < 3; i++) expect((await request(topo.front, { path: '/call' })).status).toBe(200);
    expect((await request(topo.front, { path: '/nope' })).status).toBe(404);
    expect((await request(topo.front, { path: '/secret' })).status).toBe(500);
    await new Promise((r) => setTimeout(r, 50));

    const server = await points('http.server.request.duration');
    const call = server.find(
      (p) => p.attributes['http.route'] === '/call' && p.attributes['url.scheme'] === 'http',
    );
    expect(call?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
    });
    expect(count(call!)).toBeGreaterThanOrEqual(3);
    const failed = server.find((p) => p.attributes['http.route'] === '/secret')!;
    expect(failed.attributes).toMatchObject({
      'http.response.status_code': 500,
      'error.type': 'GH_INTERNAL',
    });
    const missing = server.find((p) => p.attributes['http.response.status_code'] === 404)!;
    expect(missing.attributes['http.route']).toBeUndefined();

    const client = await points('http.client.request.duration');
    expect(client.find((p) => p.attributes['server.port'] === topo.upstream)?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });

    const active = await points('http.server.active_requests');
    expect(active.every((p) => p.value === 0)).toBe(true);

    const after = await rejectionsBy();
    expect((after.GH_NOT_FOUND ?? 0) - (before.GH_NOT_FOUND ?? 0)).toBe(1);
    expect((after.GH_INTERNAL ?? 0) - (before.GH_INTERNAL ?? 0)).toBe(1);
  });

  test('gw.admin() serves the same metrics as Prometheus text at /metrics', async () => {
    const res = await request(topo.front, { path: '/metrics' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']?.[0]).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body.toString();
    expect(text).toMatch(/# TYPE http_server_request_duration_seconds histogram/);
    expect(text).toMatch(
      /http_server_request_duration_seconds_bucket\{[^}]*http_route="\/call"[^}]*le="0\.005"\}/,
    );
    expect(text).toMatch(/gatehouse_rejections_total\{gatehouse_error_code="GH_NOT_FOUND"\} 1/);
  });
});
