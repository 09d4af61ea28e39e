// Koa + gw.auth() with the api-key method: the candidate of koa-auth-api-key.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('auth-api-key');
