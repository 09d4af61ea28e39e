// No OpenTelemetry SDK registered: nothing breaks, nothing is recorded, nothing is injected — and with
// propagators configured, an incoming trace still passes through to upstreams.
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
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
