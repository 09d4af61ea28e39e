// Koa + gw.auth() with the jwt method: the candidate of koa-auth-jwt.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('auth-jwt');
