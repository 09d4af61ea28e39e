// Koa 3 with a hand-written memory limiter and its RateLimit fields (no Gatehouse): the
// candidate of koa-rate-limit-floor.
import { spend } from '../lib/hand-limiter.mjs';
import { startKoaLimited } from '../lib/limited-apps.mjs';

startKoaLimited(spend);
