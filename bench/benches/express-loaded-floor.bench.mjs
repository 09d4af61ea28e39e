// Control: bare Express vs the same app (one plain next() middleware) with @gatehousejs/express imported
// and a gateway made, but no Gatehouse middleware mounted. Read express-noop against it: the difference
// between express-next-floor and this is what loading the packages alone costs a minimal app (on
// Node 20, a GC effect of the bigger heap; see RESULTS.md, session 6).
import { checkHello, helloRequests } from '../lib/hello-requests.mjs';

export const name = 'express-loaded-floor';
export const target = 0.97;
export const description =
  'Control: bare express hello-world vs the same app with a plain next() middleware and Gatehouse loaded (gateway made, nothing mounted): what importing the packages costs, with no per-request work.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-gatehouse-loaded.mjs';
export const requests = helloRequests;
export const check = checkHello;
