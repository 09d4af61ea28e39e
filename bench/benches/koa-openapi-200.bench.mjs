// Issue 17: request validation on Koa, 200 operations (no Koa peer exists: express-openapi-validator is
// Express only). Reported beside express-openapi-200.
import { checkValidated, openapiRequests } from '../lib/openapi-apps.mjs';

export const name = 'koa-openapi-200';
export const target = 0.9;
export const description =
  'Koa 3 + a catch-all handler vs the same app behind gw.errors() + gw.validate() on the 200-operation OpenAPI 3.0 document of express-openapi-200.';
export const baseline = '../servers/openapi-koa-bare.mjs';
export const candidate = '../servers/openapi-koa-gatehouse-200.mjs';
export const requests = openapiRequests(200);
export const check = checkValidated;
