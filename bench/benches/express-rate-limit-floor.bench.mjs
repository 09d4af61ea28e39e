// Issue 5 control: bare express vs express with a hand-written fixed-window limiter and the same two IETF
// RateLimit fields, no Gatehouse: the floor of express-rate-limit-memory on this machine.
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'express-rate-limit-floor';
export const target = 0.95;
export const description =
  'Bare express hello-world vs the same app with a hand-written limiter (a Map of fixed windows keyed by address) setting RateLimit and RateLimit-Policy on every response: the least such a limiter costs here.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-rate-limit-floor.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
