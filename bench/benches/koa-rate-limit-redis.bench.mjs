// Issue 5: bare koa vs koa + gw.rateLimit() with one window on redis (127.0.0.1:6379 or REDIS_URL).
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'koa-rate-limit-redis';
export const target = 0.65;
export const description =
  'Bare Koa hello-world vs the same app behind gw.rateLimit() (one window keyed by client address, counted in Redis on loopback, atomically, IETF RateLimit headers on every response).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-rate-limit-redis.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
