// Control: bare express vs express + a Gatehouse middleware that does nothing. Every Gatehouse capability on
// Express pays at least this; read the capability benchmarks against it.
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'express-noop';
export const target = 0.97;
export const description =
  'Control: bare express hello-world vs the same app with one Gatehouse middleware that does nothing (the adapter and exchange alone).';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-noop.mjs';
export const requests = helloRequests;
export const check = checkHello;
