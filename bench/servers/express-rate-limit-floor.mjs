// Express 5 with a hand-written memory limiter and its RateLimit fields (no Gatehouse): the
// candidate of express-rate-limit-floor.
import { spend } from '../lib/hand-limiter.mjs';
import { startExpressLimited } from '../lib/limited-apps.mjs';

startExpressLimited(spend);
