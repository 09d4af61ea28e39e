// Issue 4: bare express vs express + gw.auth() with an API key (hashed, constant-time compare).
import { API_KEY, authFixture, checkHelloAuthenticated } from '../lib/auth-fixture.mjs';

await authFixture();

export const name = 'express-auth-api-key';
export const target = 0.97;
export const description =
  'Bare express hello-world vs the same app behind gw.auth() with an API-key method (inline key, stored hashed); every request carries the key.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-auth-api-key.mjs';
export const requests = [{ method: 'GET', path: '/hello', headers: { 'x-api-key': API_KEY } }];
export const check = checkHelloAuthenticated;
