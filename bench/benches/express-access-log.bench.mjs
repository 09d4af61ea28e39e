// Issue 3: bare express vs express + gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'express-access-log';
export const target = 0.9;
export const description =
  'Bare express hello-world vs the same app with gw.accessLog() writing one JSON line per request to a file (pino, asynchronous destination).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-access-log.mjs';
export const requests = helloRequests;
export const check = checkHello;
