// W3C trace context on outbound calls, with the OpenTelemetry SDK registered: every attempt carries
// a traceparent of the caller's trace with its own span id, and each attempt is a client span.
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { answer, preferring, useFixtures, waitFor } from './test-upstreams.js';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
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

const fx = useFixtures();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

describe('trace context', () => {
  test('each attempt sends a traceparent in the caller trace with a new span id, one client span per attempt', async () => {
    const failing = await fx.upstream(answer(503));
    const good = await fx.upstream();
    const client = fx.client({
      name: 'orders',
      endpoints: [failing.url, good.url],
      balancer: preferring(failing.id, good.id),
    });
    const tracer = trace.getTracer('test');
    const parent = await tracer.startActiveSpan('parent', async (span) => {
      const res = await client.request({ path: '/orders/1' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      span.end();
      return span.spanContext();
    });

    const sent = [...failing.seen, ...good.seen].map((s) => TRACEPARENT.exec(String(s.headers.traceparent)));
    expect(sent).toHaveLength(2);
    for (const match of sent) {
      expect(match).not.toBeNull();
      expect(match![1]).toBe(parent.traceId);
      expect(match![2]).not.toBe(parent.spanId);
    }
    const [first, second] = sent.map((m) => m![2]);
    expect(first).not.toBe(second);

    await waitFor('the client spans to end', () =>
      exporter.getFinishedSpans().some((s) => s.spanContext().spanId === second),
    );
    const clients = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients.map((s) => s.spanContext().spanId).sort()).toEqual([first, second].sort());
    for (const span of clients) {
      expect(span.spanContext().traceId).toBe(parent.traceId);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
    }
    const byId = new Map(clients.map((s) => [s.spanContext().spanId, s]));
    expect(byId.get(first!)?.attributes['http.response.status_code']).toBe(503);
    expect(byId.get(second!)?.attributes['http.response.status_code']).toBe(200);
  });

  test('a caller-supplied traceparent header is replaced by the attempt span, not forwarded as is', async () => {
    const good = await fx.upstream();
    const client = fx.client({ name: 'orders', endpoints: [good.url] });
    const stale = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    // Header names are case-insensitive: however the caller spells it, one traceparent goes out.
    for (const name of ['traceparent', 'Traceparent']) {
      const res = await client.request({ path: '/', headers: { [name]: stale } });
      await res.body.dump();
    }
    expect(good.seen).toHaveLength(2);
    for (const seen of good.seen) {
      const got = String(seen.headers.traceparent);
      expect(got).toMatch(TRACEPARENT);
      expect(got).not.toBe(stale);
    }
  });
});
