// The floor under express-tracing-sdk: a minimal hand-written OpenTelemetry middleware with the same
// SDK setup (no Gatehouse). Read express-tracing-sdk against it.
import { check as sdkCheck, requests as sdkRequests } from './express-tracing-sdk.bench.mjs';

export const name = 'express-tracing-sdk-floor';
export const target = 0.75;
export const description =
  'Control: bare Express vs a minimal hand-written OTel server middleware with the SDK (no Gatehouse).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-otel-floor.mjs';
export const requests = sdkRequests;
export const check = sdkCheck;
