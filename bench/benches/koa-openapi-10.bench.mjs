// Issue 17: request validation on Koa, 10 operations (no Koa peer exists: express-openapi-validator is
// Express only). Reported beside express-openapi-10.
import { checkValidated, openapiRequests } from '../lib/openapi-apps.mjs';

export const name = 'koa-openapi-10';
export const target = 0.9;
export const description =
  'Koa 3 + a catch-all handler vs the same app behind gw.errors() + gw.validate() on the 10-operation OpenAPI 3.0 document of express-openapi-10.';
export const baseline = '../servers/openapi-koa-bare.mjs';
export const candidate = '../servers/openapi-koa-gatehouse-10.mjs';
export const requests = openapiRequests(10);
export const check = checkValidated;
