// Express + gw.rateLimit() on redis: the candidate of express-rate-limit-redis.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('rate-limit-redis');
