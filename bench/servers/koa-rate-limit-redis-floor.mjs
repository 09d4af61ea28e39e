// Koa 3 with a hand-written Redis limiter and its RateLimit fields (no Gatehouse): the
// candidate of koa-rate-limit-redis-floor.
import { spend } from '../lib/hand-redis-limiter.mjs';
import { startKoaLimited } from '../lib/limited-apps.mjs';

startKoaLimited(spend);
