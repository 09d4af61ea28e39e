// Issue 4: bare Koa vs Koa + gw.auth() verifying a JWT bearer token (RS256, verified-token cache on).
import { authFixture, checkHelloAuthenticated } from '../lib/auth-fixture.mjs';

const { token } = await authFixture();

export const name = 'koa-auth-jwt';
export const target = 0.9;
export const description =
  'Bare Koa hello-world vs the same app behind gw.auth() with a JWT bearer method (RS256 static key, verified-token cache on); every request carries the same valid token.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-auth-jwt.mjs';
export const requests = [{ method: 'GET', path: '/hello', headers: { authorization: `Bearer ${token}` } }];
export const check = checkHelloAuthenticated;
