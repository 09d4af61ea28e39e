// Issue 5: bare express vs express + gw.rateLimit() with one window on redis (127.0.0.1:6379 or REDIS_URL).
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'express-rate-limit-redis';
export const target = 0.75;
export const description =
  'Bare express hello-world vs the same app behind gw.rateLimit() (one window keyed by client address, counted in Redis on loopback, atomically, IETF RateLimit headers on every response).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-rate-limit-redis.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
