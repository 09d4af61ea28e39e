// The floor under express-rate-limit-redis: a hand-written fixed-window limiter on Redis (one Lua script a
// request over ioredis; no Gatehouse, no rate-limiter-flexible) with the same two RateLimit fields.
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'express-rate-limit-redis-floor';
export const target = 0.75;
export const description =
  'Control: bare express hello-world vs the same app with a hand-written Redis limiter (INCR/PEXPIRE/PTTL in one Lua script, keyed by address) setting RateLimit and RateLimit-Policy: the least a Redis limiter costs here.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-rate-limit-redis-floor.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
