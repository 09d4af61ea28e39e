// The floor under express-request-id: what ANY request id costs this hello-world app (one validated or
// generated UUID, one more response header), measured by hand-written middleware with no Gatehouse.
// Read express-request-id against it: the difference is what Gatehouse's neutral layer adds.
import { check as requestIdCheck, requests as requestIdRequests } from './express-request-id.bench.mjs';

export const name = 'express-request-id-floor';
export const target = 0.97;
export const description =
  'Control: bare express vs the same app with a hand-written request-id middleware (no Gatehouse).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-hand-request-id.mjs';
export const requests = requestIdRequests;
export const check = requestIdCheck;
