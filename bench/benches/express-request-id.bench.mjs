// What Gatehouse's smallest useful stack costs an Express app: request ids plus the problem+json
// error handler, on a JSON hello-world route. Half the requests carry an incoming x-request-id.

import { checkRequestId, requestIdRequests } from '../lib/request-id-requests.mjs';

export const name = 'express-request-id';
export const target = 0.97;
export const description =
  'Express 5 hello-world vs the same app with gw.requestId() + gw.errors() + gw.serve(); half the requests carry x-request-id.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-gatehouse.mjs';
export const requests = requestIdRequests;
export const check = checkRequestId;
