// Issue 5: bare express vs express + gw.rateLimit() with one window on memory.
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'express-rate-limit-memory';
export const target = 0.95;
export const description =
  'Bare express hello-world vs the same app behind gw.rateLimit() (one window keyed by client address, counted in process memory, IETF RateLimit headers on every response).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-rate-limit-memory.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
