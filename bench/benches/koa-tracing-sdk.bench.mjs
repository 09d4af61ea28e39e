// Issue 3: bare koa vs koa + gw.tracing() with the SDK registered: async-hooks context, W3C propagation, a batch span processor whose exporter discards.
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'koa-tracing-sdk';
export const target = 0.75;
export const description =
  'Bare koa hello-world vs the same app with gw.tracing() with the SDK registered: async-hooks context, W3C propagation, a batch span processor whose exporter discards.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-tracing-sdk.mjs';
export const requests = helloRequests;
export const check = checkHello;
