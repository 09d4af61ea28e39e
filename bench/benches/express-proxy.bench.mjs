// Issue 7: Gatehouse's routes against the usual way to proxy from Express, http-proxy-middleware.
// Both relay GET /hello to a node:http upstream in their own process.

import { checkProxied, proxyRequests } from '../lib/proxy-requests.mjs';

export const name = 'express-proxy';
export const target = 1.8;
export const description =
  'Express 5 + http-proxy-middleware 3 (keep-alive http.Agent, maxSockets 64, changeOrigin) vs Express 5 + gw.routes() with a remote route (mesh client: static discovery, P2C, endpoint breakers), to the same kind of upstream in each process.';
export const baseline = '../servers/proxy-express-hpm.mjs';
export const candidate = '../servers/proxy-express-gatehouse.mjs';
export const requests = proxyRequests;
export const expectStatus = 200;
export const check = checkProxied;
