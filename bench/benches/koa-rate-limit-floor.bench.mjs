// Issue 5 control: bare koa vs koa with a hand-written fixed-window limiter and the same two IETF
// RateLimit fields, no Gatehouse: the floor of koa-rate-limit-memory on this machine.
import { checkHelloLimited } from '../lib/rate-limit-check.mjs';

export const name = 'koa-rate-limit-floor';
export const target = 0.9;
export const description =
  'Bare Koa hello-world vs the same app with a hand-written limiter (a Map of fixed windows keyed by address) setting RateLimit and RateLimit-Policy on every response: the least such a limiter costs here.';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-rate-limit-floor.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
export const check = checkHelloLimited;
