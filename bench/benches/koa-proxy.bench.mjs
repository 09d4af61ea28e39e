// Issue 7: what proxying through Koa and Gatehouse's routes costs against the smallest correct proxy
// on node:http and undici. Both relay GET /hello to a node:http upstream in their own process.

import { checkProxied, proxyRequests } from '../lib/proxy-requests.mjs';

export const name = 'koa-proxy';
export const target = 0.75;
export const description =
  'A raw reverse proxy (node:http + undici Pool.stream() writing into the response, hop-by-hop headers stripped, X-Forwarded-*) vs Koa 3 + gw.errors() + gw.routes() with a remote route (mesh client: static discovery, P2C, endpoint breakers), to the same kind of upstream in each process.';
export const baseline = '../servers/proxy-undici.mjs';
export const candidate = '../servers/proxy-koa-gatehouse.mjs';
export const requests = proxyRequests;
export const expectStatus = 200;
export const check = checkProxied;
