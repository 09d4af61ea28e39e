// Issue 17: express-openapi-200 with requests.body 'parsed': the validator parses a JSON body once and
// express.json() keeps its value (the stream is consumed) instead of reading the replayed bytes again.
import { checkValidated, openapiRequests } from '../lib/openapi-apps.mjs';

export const name = 'express-openapi-parsed-200';
export const target = 0.95;
export const description =
  "The app of express-openapi-200 behind gw.validate({ requests: { body: 'parsed' } }): the body parsed once, by the validator.";
export const baseline = '../servers/openapi-express-bare.mjs';
export const candidate = '../servers/openapi-express-gatehouse-parsed-200.mjs';
export const requests = openapiRequests(200);
export const check = checkValidated;
