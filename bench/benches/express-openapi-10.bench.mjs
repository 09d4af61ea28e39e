// Issue 17: request validation on Express, 10 operations. The bar is relative to the peer: this
// overhead (1 − ratio) at most 1/10 of express-openapi-eov-10's, measured the same day (bench/RESULTS.md).
import { checkValidated, openapiRequests } from '../lib/openapi-apps.mjs';

export const name = 'express-openapi-10';
export const target = 0.95;
export const description =
  'Express 5 + express.json() + a catch-all handler vs the same app behind gw.validate() on a 10-operation OpenAPI 3.0 document (path, query and JSON-body validation; compiled at start).';
export const baseline = '../servers/openapi-express-bare.mjs';
export const candidate = '../servers/openapi-express-gatehouse-10.mjs';
export const requests = openapiRequests(10);
export const check = checkValidated;
