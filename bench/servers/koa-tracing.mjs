// Koa + Gatehouse tracing: the candidate of koa-tracing.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('tracing');
