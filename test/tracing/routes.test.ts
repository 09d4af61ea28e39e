// Proxied and shadowed routes with the real OpenTelemetry SDK on Express and Koa: the server span is
// named after the route's pattern and carries the migration attributes; the proxy's client span is
// its child; the service receives a traceparent naming that client span; a shadow copy is traced in
// the same trace.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FRAMEWORKS, type RoutesApp, startRoutesApp } from '../routes/harness.js';

const exporter = new InMemorySpanExporter();
let service: Server;
let servicePort = 0;
const seen: string[] = [];
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  service = createServer((req, res) => {
    seen.push(String(req.headers.traceparent));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ side: 'remote', traceparent: req.headers.traceparent ?? null }));
  });
  service.listen(0, '127.0.0.1');
  await once(service, 'listening');
  servicePort = (service.address() as AddressInfo).port;
});
afterAll(async () => {
  trace.disable();
  propagation.disable();
  context.disable();
  service.closeAllConnections();
  service.close();
});
beforeEach(() => {
  exporter.reset();
  seen.length = 0;
});

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${TRACE}-00f067aa0ba902b7-01`;

async function spans(count: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 100 && exporter.getFinishedSpans().length < count; i++)
    await new Promise((r) => setTimeout(r, 10));
  return exporter.getFinishedSpans();
}

describe.each(FRAMEWORKS)('routes traced on %s', (framework) => {
  let app: RoutesApp;
  beforeAll(async () => {
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: `http://127.0.0.1:${servicePort}` } } },
      before: (gw) => [gw.tracing()],
      routes: {
        table: [
          { name: 'proxied', path: '/orders/*', service: 'orders', mode: 'remote' },
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
  });
  afterAll(() => app.close());

  test('a proxied request: server span on the route pattern, client span its child, traceparent passed on', async () => {
    const res = await request(`${app.url}/orders/42`, { headers: { traceparent } });
    const body = (await res.body.json()) as { side: string; traceparent: string };
    expect(body.side).toBe('remote');
    const list = await spans(2);
    const server = list.find((s) => s.kind === SpanKind.SERVER)!;
    const client = list.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(server.name).toBe('GET /orders/*');
    expect(server.attributes).toMatchObject({
      'http.route': '/orders/*',
      'http.response.status_code': 200,
      'gatehouse.route': 'proxied',
      'gatehouse.migration.mode': 'remote',
      'gatehouse.migration.side': 'remote',
      'gatehouse.upstream': 'orders',
    });
    expect(client.spanContext().traceId).toBe(TRACE);
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(body.traceparent).toBe(`00-${TRACE}-${client.spanContext().spanId}-01`);
  });

  test('a shadowed request: local answers; the copy is a client span in the same trace', async () => {
    const res = await request(`${app.url}/users/7`, { headers: { traceparent } });
    expect(((await res.body.json()) as { side: string }).side).toBe('local');
    const list = await spans(2);
    const server = list.find((s) => s.kind === SpanKind.SERVER)!;
    const client = list.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(server.attributes).toMatchObject({
      'gatehouse.route': 'shadowed',
      'gatehouse.migration.mode': 'shadow',
      'gatehouse.migration.side': 'local',
    });
    expect(client.spanContext().traceId).toBe(TRACE);
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(seen[0]).toBe(`00-${TRACE}-${client.spanContext().spanId}-01`);
  });
});
