// What Gatehouse's smallest useful stack costs a Koa app: the problem+json error middleware plus
// request ids, on a JSON hello-world route. Half the requests carry an incoming x-request-id.

import { checkRequestId, requestIdRequests } from '../lib/request-id-requests.mjs';

export const name = 'koa-request-id';
export const target = 0.97;
export const description =
  'Koa 3 hello-world vs the same app with gw.errors() + gw.requestId() + gw.serve(); half the requests carry x-request-id.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-gatehouse.mjs';
export const requests = requestIdRequests;
export const check = checkRequestId;
