// Issue 17: the floor under express-openapi-10/200: the same app and requests behind one Gatehouse
// middleware that does nothing (the Express adapter and the exchange alone). What gw.validate() adds
// beyond any Gatehouse middleware is the difference between the two ratios.
import { checkValidated, openapiRequests } from '../lib/openapi-apps.mjs';

export const name = 'express-openapi-noop-floor';
export const target = 0.97;
export const description =
  'Express 5 + express.json() + a catch-all handler vs the same app behind one Gatehouse middleware that does nothing, with the requests of express-openapi-10.';
export const baseline = '../servers/openapi-express-bare.mjs';
export const candidate = '../servers/openapi-express-noop.mjs';
export const requests = openapiRequests(10);
export const check = checkValidated;
