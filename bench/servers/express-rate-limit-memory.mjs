// Express + gw.rateLimit() on memory: the candidate of express-rate-limit-memory.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('rate-limit-memory');
