// Issue 3: bare koa vs koa + gw.tracing() with no OpenTelemetry SDK registered (a no-op, as OTel intends).
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'koa-tracing';
export const target = 0.95;
export const description =
  'Bare koa hello-world vs the same app with gw.tracing() with no OpenTelemetry SDK registered (a no-op, as OTel intends).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-tracing.mjs';
export const requests = helloRequests;
export const check = checkHello;
