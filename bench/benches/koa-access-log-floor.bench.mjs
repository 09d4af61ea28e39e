// The floor under koa-access-log: a hand-written pino access log (one line per request to a file,
// no Gatehouse). Read koa-access-log against it: the difference is what Gatehouse's log adds.
import { check as logCheck, requests as logRequests } from './koa-access-log.bench.mjs';

export const name = 'koa-access-log-floor';
export const target = 0.9;
export const description =
  'Control: bare koa vs the same app with a hand-written pino access log to a file (no Gatehouse).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-log-floor.mjs';
export const requests = logRequests;
export const check = logCheck;
