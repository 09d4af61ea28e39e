// No OpenTelemetry SDK registered: nothing breaks, nothing is recorded, nothing is injected — and with
// propagators configured, an incoming trace still passes through to upstreams.
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RoutesApp, startRoutesApp, startUpstream, type Upstream } from '../routes/harness.js';
import { FRAMEWORKS } from '../support/apps.js';
import { request } from '../support/raw-http.js';
import { startTopology, type Topology } from './topology.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const valid = `00-${TRACE}-b7ad6b7169203331-01`;

describe.each(FRAMEWORKS)('%s without an SDK', (framework) => {
  let plain: Topology;
  let configured: Topology;
  beforeAll(async () => {
    plain = await startTopology(framework, { traceResponseHeader: true });
    configured = await startTopology(framework, { propagators: ['tracecontext'] });
  });
  afterAll(async () => {
    await plain?.close();
    await configured?.close();
  });

  test('requests work, no span is active, no trace header is sent or echoed', async () => {
    const res = await request(plain.front, { path: '/call', headers: { traceparent: valid } });
    expect(res.status).toBe(200);
    const body = res.json as { front: Record<string, unknown>; upstream: Record<string, unknown> };
    expect(body.front.activeSpanId).toBeNull();
    expect(body.upstream.traceparent).toBeNull();
    expect(res.headers.traceresponse).toBeUndefined();
    expect(plain.fronts.tracer.metrics.active).toBe(false);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  test('with propagators configured, the incoming trace context still reaches the upstream', async () => {
    const res = await request(configured.front, { path: '/call', headers: { traceparent: valid } });
    const body = res.json as { upstream: Record<string, unknown> };
    expect(body.upstream.traceparent).toBe(valid);
  });

  test('errors and refused paths behave as without tracing', async () => {
    expect((await request(plain.front, { path: '/secret' })).status).toBe(500);
    expect((await request(plain.front, { path: '/a%2fb' })).status).toBe(400);
    expect((await request(plain.front, { path: '/health' })).status).toBe(200);
  });
});

describe.each(FRAMEWORKS)('%s without an SDK: proxied and shadowed routes', (framework) => {
  let app: RoutesApp;
  let service: Upstream;
  beforeAll(async () => {
    service = await startUpstream((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ side: 'remote', traceparent: req.headers.traceparent ?? null }));
    });
    app = await startRoutesApp(framework, {
      config: { services: { orders: { url: service.url } } },
      before: (gw) => [gw.tracing({ propagators: ['tracecontext'] })],
      routes: {
        table: [
          { name: 'proxied', path: '/orders/*', service: 'orders' },
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
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });

  test('the incoming trace context reaches the service on a proxied request and on a shadow copy', async () => {
    const proxied = await request(app.port, { path: '/orders/1', headers: { traceparent: valid } });
    expect(proxied.json).toMatchObject({ side: 'remote', traceparent: valid });
    const before = service.received.length;
    await request(app.port, { path: '/users/1', headers: { traceparent: valid } });
    for (let i = 0; i < 100 && service.received.length === before; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(service.received.at(-1)?.headers.traceparent).toBe(valid);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
