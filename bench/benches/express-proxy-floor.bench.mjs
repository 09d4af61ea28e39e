// The floor of express-proxy's 1.8× bar: Express 5 + http-proxy-middleware against Express 5 routing to
// the raw undici proxy of koa-proxy (no Gatehouse). Whatever Express + HPM costs, no Express proxy can
// beat Express plus the leanest proxy; read express-proxy against it.
import { checkProxied, proxyRequests } from '../lib/proxy-requests.mjs';

export const name = 'express-proxy-floor';
export const target = 1.8;
export const description =
  'Control: Express 5 + http-proxy-middleware 3 (keep-alive agent) vs Express 5 + the raw undici Pool.stream() proxy of koa-proxy behind one plain middleware (no Gatehouse): the most any Express proxy can gain over HPM here.';
export const baseline = '../servers/proxy-express-hpm.mjs';
export const candidate = '../servers/proxy-express-undici.mjs';
export const requests = proxyRequests;
export const expectStatus = 200;
export const check = checkProxied;
