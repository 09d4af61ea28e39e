// Issue 4: bare express vs express + gw.auth() verifying a JWT bearer token (RS256, verified-token cache on).
import { authFixture, checkHelloAuthenticated } from '../lib/auth-fixture.mjs';

const { token } = await authFixture();

export const name = 'express-auth-jwt';
export const target = 0.95;
export const description =
  'Bare express hello-world vs the same app behind gw.auth() with a JWT bearer method (RS256 static key, verified-token cache on); every request carries the same valid token.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-auth-jwt.mjs';
export const requests = [{ method: 'GET', path: '/hello', headers: { authorization: `Bearer ${token}` } }];
export const check = checkHelloAuthenticated;
