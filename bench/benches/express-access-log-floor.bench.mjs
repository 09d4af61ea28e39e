// The floor under express-access-log: a hand-written pino access log (one line per request to a file,
// no Gatehouse). Read express-access-log against it: the difference is what Gatehouse's log adds.
import { check as logCheck, requests as logRequests } from './express-access-log.bench.mjs';

export const name = 'express-access-log-floor';
export const target = 0.9;
export const description =
  'Control: bare express vs the same app with a hand-written pino access log to a file (no Gatehouse).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-log-floor.mjs';
export const requests = logRequests;
export const check = logCheck;
