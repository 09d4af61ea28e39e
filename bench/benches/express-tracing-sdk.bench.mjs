// Issue 3: bare express vs express + gw.tracing() with the SDK registered: async-hooks context, W3C propagation, a batch span processor whose exporter discards.
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'express-tracing-sdk';
export const target = 0.75;
export const description =
  'Bare express hello-world vs the same app with gw.tracing() with the SDK registered: async-hooks context, W3C propagation, a batch span processor whose exporter discards.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-tracing-sdk.mjs';
export const requests = helloRequests;
export const check = checkHello;
