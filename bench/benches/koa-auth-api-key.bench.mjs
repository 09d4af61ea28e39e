// Issue 4 (report): bare Koa vs Koa + gw.auth() with an API key (hashed, constant-time compare).
import { API_KEY, authFixture, checkHelloAuthenticated } from '../lib/auth-fixture.mjs';

await authFixture();

export const name = 'koa-auth-api-key';
export const target = 0.9;
export const description =
  'Bare Koa hello-world vs the same app behind gw.auth() with an API-key method (inline key, stored hashed); every request carries the key.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-auth-api-key.mjs';
export const requests = [{ method: 'GET', path: '/hello', headers: { 'x-api-key': API_KEY } }];
export const check = checkHelloAuthenticated;
