// Tracing with the real OpenTelemetry SDK on Express and on Koa: span names, attributes and
// parent/child relations across gateway → outbound call → upstream; W3C edge cases; B3; exceptions.
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FRAMEWORKS } from '../support/apps.js';
import { request } from '../support/raw-http.js';
import { startTopology, type Topology } from './topology.js';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const valid = `00-${TRACE}-${PARENT}-01`;

/** Spans end when responses close; give the close event a moment. */
async function spans(count: number): Promise<ReadableSpan[]> {
  for (let i = 0; i < 50 && exporter.getFinishedSpans().length < count; i++)
    await new Promise((r) => setTimeout(r, 10));
  return exporter.getFinishedSpans();
}
const servers = (list: ReadableSpan[]) => list.filter((s) => s.kind === SpanKind.SERVER);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe.each(FRAMEWORKS)('%s with the OpenTelemetry SDK', (framework) => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await startTopology(framework, { traceResponseHeader: true });
  });
  afterAll(() => topo?.close());

  test('gateway → gw.client() call → upstream: the mesh client is traced like any outbound call', async () => {
    const res = await request(topo.front, { path: '/mesh', headers: { traceparent: valid } });
    expect(res.status).toBe(200);
    const list = await spans(3);
    expect(list).toHaveLength(3);
    const frontServer = servers(list).find((s) => s.attributes['url.path'] === '/mesh')!;
    const upstreamServer = servers(list).find((s) => s.attributes['url.path'] === '/seen/inner')!;
    const client = list.find((s) => s.kind === SpanKind.CLIENT)!;
    for (const span of list) expect(span.spanContext().traceId).toBe(TRACE);
    expect(parentOf(client)).toBe(frontServer.spanContext().spanId);
    expect(parentOf(upstreamServer)).toBe(client.spanContext().spanId);
    expect(client.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
    });
    const body = res.json as { upstream: { traceparent: string } };
    expect(body.upstream.traceparent).toBe(`00-${TRACE}-${client.spanContext().spanId}-01`);
  });

  test('gateway → outbound call → upstream: one trace, each span the child of the one before', async () => {
    const res = await request(topo.front, {
      path: '/call',
      headers: { traceparent: valid, baggage: 'tenant=t1' },
    });
    expect(res.status).toBe(200);
    const list = await spans(3);
    expect(list).toHaveLength(3);
    const [upstreamServer, frontServer] = [
      servers(list).find((s) => s.attributes['url.path'] === '/seen/inner')!,
      servers(list).find((s) => s.attributes['url.path'] === '/call')!,
    ];
    const client = list.find((s) => s.kind === SpanKind.CLIENT)!;
    for (const span of list) expect(span.spanContext().traceId).toBe(TRACE);
    expect(parentOf(frontServer)).toBe(PARENT);
    expect(parentOf(client)).toBe(frontServer.spanContext().spanId);
    expect(parentOf(upstreamServer)).toBe(client.spanContext().spanId);

    expect(frontServer.name).toBe('GET /call');
    // The span is named after the template the app wrote, in its framework's syntax: Express 4 has no
    // optional groups, so topology.ts registers `/seen{/*rest}` there as `/seen` and `/seen/*`.
    expect(upstreamServer.name).toBe(framework === 'express4' ? 'GET /seen/*' : 'GET /seen{/*rest}');
    expect(frontServer.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/call',
      'http.response.status_code': 200,
      'url.path': '/call',
      'url.scheme': 'http',
      'client.address': '127.0.0.1',
      'server.address': 'conformance.test',
      'network.protocol.version': '1.1',
    });
    expect(frontServer.attributes['gatehouse.request.id']).toBe(res.headers['x-request-id']?.[0]);
    expect(client.name).toBe('GET');
    expect(client.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': topo.upstream,
      'http.response.status_code': 200,
    });

    // The handler ran inside the server span's context; the upstream received a new parent id and the baggage.
    const body = res.json as { front: Record<string, string>; upstream: Record<string, string> };
    expect(body.front.activeSpanId).toBe(frontServer.spanContext().spanId);
    expect(body.upstream.traceparent).toBe(`00-${TRACE}-${client.spanContext().spanId}-01`);
    expect(body.upstream.baggage).toBe('tenant=t1');
    expect(res.headers.traceresponse).toEqual([`00-${TRACE}-${frontServer.spanContext().spanId}-01`]);
  });

  test('without an incoming trace a new one starts', async () => {
    await request(topo.front, { path: '/seen/x' });
    const [span] = await spans(1);
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.spanContext().traceId).not.toBe(TRACE);
  });

  const restarts: Array<[string, Record<string, string | string[]>]> = [
    ['an unknown version ff', { traceparent: `ff-${TRACE}-${PARENT}-01` }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` }],
    ['an all-zero parent id', { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` }],
    ['upper-case hex', { traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01` }],
    ['two traceparent headers', { traceparent: [valid, `00-${'1'.repeat(32)}-${PARENT}-01`] }],
    ['a truncated value', { traceparent: `00-${TRACE}-${PARENT}` }],
    ['version 00 with extra fields', { traceparent: `${valid}-extra` }],
  ];
  for (const [what, headers] of restarts) {
    test(`${what}: the trace restarts, the request succeeds`, async () => {
      const res = await request(topo.front, { path: '/seen/x', headers });
      expect(res.status).toBe(200);
      const [span] = await spans(1);
      expect(span!.spanContext().traceId).not.toBe(TRACE);
      expect(span!.parentSpanContext).toBeUndefined();
    });
  }

  test('a future version with extra fields is accepted, as the spec requires', async () => {
    await request(topo.front, {
      path: '/seen/x',
      headers: { traceparent: `cc-${TRACE}-${PARENT}-01-what-the-future-holds` },
    });
    const [span] = await spans(1);
    expect(span!.spanContext().traceId).toBe(TRACE);
    expect(parentOf(span!)).toBe(PARENT);
  });

  test('tracestate: kept when well-formed, truncated from the right when oversized, bad members skipped', async () => {
    const ok = await request(topo.front, {
      path: '/call',
      headers: { traceparent: valid, tracestate: 'vendor=abc,other=1' },
    });
    expect((ok.json as { upstream: { tracestate: string } }).upstream.tracestate).toBe('vendor=abc,other=1');
    const huge = Array.from({ length: 40 }, (_, i) => `k${i}=${'v'.repeat(20)}`).join(',');
    const big = await request(topo.front, {
      path: '/call',
      headers: { traceparent: valid, tracestate: huge },
    });
    expect(big.status).toBe(200);
    // Over 512 characters: list members are dropped from the right until it fits (W3C §3.3.1.5).
    const forwarded = (big.json as { upstream: { tracestate: string } }).upstream.tracestate;
    expect(forwarded.length).toBeLessThanOrEqual(512);
    expect(forwarded.startsWith('k0=')).toBe(true);
    expect(forwarded).not.toContain('k39=');
    const bad = await request(topo.front, {
      path: '/call',
      headers: { traceparent: valid, tracestate: 'good=1,=bad,also bad,k=v=w' },
    });
    expect((bad.json as { upstream: { tracestate: string } }).upstream.tracestate).toBe('good=1');
  });

  test('a 500: error status, exception recorded without credentials, error.type', async () => {
    const res = await request(topo.front, { path: '/secret' });
    expect(res.status).toBe(500);
    const [span] = await spans(1);
    expect(span!.name).toBe('GET /secret');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('GH_INTERNAL');
    const exception = span!.events.find((e) => e.name === 'exception')!;
    const recorded = JSON.stringify(exception.attributes);
    expect(recorded).toContain('upstream refused token Bearer [redacted]');
    expect(recorded).not.toContain('abc.def.ghi');
    expect(recorded).not.toContain('eyJhbGciOiJ');
  });

  test('a 404 problem is not a span error; its code is an attribute; the name has no raw path', async () => {
    await request(topo.front, { path: '/no/such/thing/42' });
    const [span] = await spans(1);
    expect(span!.name).toBe('GET');
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(span!.attributes['gatehouse.error.code']).toBe('GH_NOT_FOUND');
    expect(span!.attributes['http.route']).toBeUndefined();
  });

  test('a request refused at the edge still gets a span', async () => {
    const res = await request(topo.front, { path: '/seen/a%2fb' });
    expect(res.status).toBe(400);
    const [span] = await spans(1);
    expect(span!.attributes['gatehouse.error.code']).toBe('GH_PATH_ENCODED_SLASH');
    expect(span!.attributes['http.response.status_code']).toBe(400);
  });
});

describe.each(FRAMEWORKS)('%s with B3 configured', (framework) => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await startTopology(framework, { propagators: ['tracecontext', 'baggage', 'b3'] });
  });
  afterAll(() => topo?.close());

  test('an incoming b3 header continues the trace and outbound calls carry both formats', async () => {
    const res = await request(topo.front, { path: '/call', headers: { b3: `${TRACE}-${PARENT}-1` } });
    const list = await spans(3);
    const front = servers(list).find((s) => s.attributes['url.path'] === '/call')!;
    expect(front.spanContext().traceId).toBe(TRACE);
    expect(parentOf(front)).toBe(PARENT);
    const upstream = (res.json as { upstream: Record<string, string> }).upstream;
    expect(upstream.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(upstream.b3).toMatch(new RegExp(`^${TRACE}-[0-9a-f]{16}-1$`));
  });
});

test('an unknown propagator name fails at start-up', async () => {
  await expect(startTopology('express5', { propagators: ['jaeger' as never] })).rejects.toThrow(
    /tracing\.propagators\[0\]: expected one of 'tracecontext', 'baggage', 'b3' or 'b3multi', received the string 'jaeger'/,
  );
});
