// Issue 3: bare koa vs koa + gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'koa-access-log';
export const target = 0.9;
export const description =
  'Bare koa hello-world vs the same app with gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-access-log.mjs';
export const requests = helloRequests;
export const check = checkHello;
