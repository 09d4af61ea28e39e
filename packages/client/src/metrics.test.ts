import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient } from './client.js';

let ok: Server;
let failing: Server;
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
beforeAll(async () => {
  ok = createServer((_req, res) => res.end('ok'));
  failing = createServer((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });
  for (const server of [ok, failing]) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
});
afterAll(() => {
  for (const server of [ok, failing]) {
    server.closeAllConnections();
    server.close();
  }
});

test('per-endpoint requests, failures, latency, circuit state and retries are reported through the OTel metrics API', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const client = createClient({
    name: 'orders',
    endpoints: [urlOf(ok), urlOf(failing)],
    balancer: 'round-robin',
    outlier: false,
    breaker: { endpoint: { threshold: 100 } },
    meterProvider,
  });
  for (let i = 0; i < 10; i++) {
    const res = await client.request({ path: '/' });
    await res.body.dump();
  }
  await reader.forceFlush();
  const metrics = new Map(
    exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics)
      .flatMap((s) => s.metrics)
      .map((m) => [m.descriptor.name, m.dataPoints] as const),
  );
  const point = (name: string, attributes: Record<string, string>) =>
    metrics.get(name)?.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
      ?.value;
  const bad = {
    'gatehouse.upstream': 'orders',
    'gatehouse.endpoint': `127.0.0.1:${(failing.address() as AddressInfo).port}`,
  };
  const good = {
    'gatehouse.upstream': 'orders',
    'gatehouse.endpoint': `127.0.0.1:${(ok.address() as AddressInfo).port}`,
  };
  // Every call to the failing endpoint was retried on the good one.
  expect(point('gatehouse.client.requests', { ...good, outcome: 'sent' })).toBe(
    client.stats().endpoints.find((e) => e.id === good['gatehouse.endpoint'])!.requests,
  );
  expect(point('gatehouse.client.requests', { ...bad, outcome: 'failed' })).toBeGreaterThan(0);
  expect(point('gatehouse.client.requests', { ...good, outcome: 'failed' })).toBe(0);
  expect(point('gatehouse.client.retries', { 'gatehouse.upstream': 'orders', kind: 'retry' })).toBe(
    client.stats().retries,
  );
  expect(client.stats().retries).toBeGreaterThan(0);
  expect(point('gatehouse.client.latency', good)).toBeGreaterThan(0);
  expect(point('gatehouse.client.circuit_open', good)).toBe(0);
  expect(point('gatehouse.client.inflight', good)).toBe(0);
  await client.close();
  await meterProvider.shutdown();
});
