// Koa + gw.rateLimit() on memory: the candidate of koa-rate-limit-memory.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('rate-limit-memory');
