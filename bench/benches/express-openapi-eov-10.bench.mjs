// Issue 17: the peer, express-openapi-validator 5 (request validation only), on the same app, document
// and requests as express-openapi-10. Reported, not judged: its overhead is the yardstick.
import { checkValidated, openapiRequests } from '../lib/openapi-apps.mjs';

export const name = 'express-openapi-eov-10';
export const target = 0.01;
export const description =
  'Express 5 + express.json() + a catch-all handler vs the same app behind express-openapi-validator (validateRequests only) on the same 10-operation document and requests as express-openapi-10.';
export const baseline = '../servers/openapi-express-bare.mjs';
export const candidate = '../servers/openapi-express-eov-10.mjs';
export const requests = openapiRequests(10);
export const check = checkValidated;
