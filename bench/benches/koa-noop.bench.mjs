// Control: bare koa vs koa + a Gatehouse middleware that does nothing. Every Gatehouse capability on
// Koa pays at least this; read the capability benchmarks against it.
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'koa-noop';
export const target = 0.97;
export const description =
  'Control: bare koa hello-world vs the same app with one Gatehouse middleware that does nothing (the adapter and exchange alone).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-noop.mjs';
export const requests = helloRequests;
export const check = checkHello;
