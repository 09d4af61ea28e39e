// Issue 5: bare koa vs koa + gw.rateLimit() with one window on memory.
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'koa-rate-limit-memory';
export const target = 0.9;
export const description =
  'Bare Koa hello-world vs the same app behind gw.rateLimit() (one window keyed by client address, counted in process memory, IETF RateLimit headers on every response).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-rate-limit-memory.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
