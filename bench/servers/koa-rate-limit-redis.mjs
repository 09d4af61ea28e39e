// Koa + gw.rateLimit() on redis: the candidate of koa-rate-limit-redis.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('rate-limit-redis');
