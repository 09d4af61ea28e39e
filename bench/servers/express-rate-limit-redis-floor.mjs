// Express 5 with a hand-written Redis limiter and its RateLimit fields (no Gatehouse): the
// candidate of express-rate-limit-redis-floor.
import { spend } from '../lib/hand-redis-limiter.mjs';
import { startExpressLimited } from '../lib/limited-apps.mjs';

startExpressLimited(spend);
