// The floor under express-auth-jwt: a hand-written cached JWT check (jose once, then a Map lookup; no
// Gatehouse). Read express-auth-jwt against it: the difference is what Gatehouse's auth adds.
import { check as jwtCheck, requests as jwtRequests } from './express-auth-jwt.bench.mjs';

export const name = 'express-auth-jwt-floor';
export const target = 0.95;
export const description =
  'Control: bare express vs the same app with a hand-written cached JWT bearer check (jose once per token, then a Map lookup; no Gatehouse).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-jwt-floor.mjs';
export const requests = jwtRequests;
export const check = jwtCheck;
