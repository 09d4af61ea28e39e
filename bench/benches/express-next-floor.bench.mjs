// Control: bare Express vs Express + one plain `(req, res, next) => next()` middleware (no Gatehouse).
// The floor under every Express ratio: no middleware of any kind scores above it.
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'express-next-floor';
export const target = 0.97;
export const description =
  'Control: bare express hello-world vs the same app with one plain middleware that only calls next() (no Gatehouse): what any middleware costs Express.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-next.mjs';
export const requests = helloRequests;
export const check = checkHello;
