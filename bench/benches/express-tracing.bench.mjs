// Issue 3: bare express vs express + gw.tracing() with no OpenTelemetry SDK registered (a no-op, as OTel intends).
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'express-tracing';
export const target = 0.97;
export const description =
  'Bare express hello-world vs the same app with gw.tracing() with no OpenTelemetry SDK registered (a no-op, as OTel intends).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-tracing.mjs';
export const requests = helloRequests;
export const check = checkHello;
