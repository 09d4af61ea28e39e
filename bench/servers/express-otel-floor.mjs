// Express 5 with a minimal hand-written OpenTelemetry middleware and the SDK registered (no Gatehouse):
// the candidate of express-tracing-sdk-floor, the least server tracing with the SDK costs.
import {
  context,
  defaultTextMapGetter,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import express from 'express';
import { reportListening } from '../lib/listening.mjs';
import { registerSdk } from '../lib/otel-sdk.mjs';

registerSdk();
const tracer = trace.getTracer('floor');
const app = express();
app.use((req, res, next) => {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
  const span = tracer.startSpan(
    req.method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
    parent,
  );
  res.on('finish', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (req.route) span.updateName(`${req.method} ${req.route.path}`);
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
});
app.get('/hello', (_req, res) => res.json({ hello: 'world' }));
reportListening(app.listen(0, '127.0.0.1'));
