// Koa + Gatehouse access-log: the candidate of koa-access-log.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('access-log');
