// Issue 7: what shadowing costs the local path. The issue's bar is on latency ("shadow adds at most
// 10 % to the local path's p50"); the harness's ratio is throughput, so read the p50s of the JSON too
// (candidate p50 / baseline p50 ≤ 1.10). The copy is sent after the client has its answer; the
// upstream answering it runs in the candidate's process, so its work is in the candidate's numbers.

import { checkLocal, proxyRequests } from '../lib/proxy-requests.mjs';

export const name = 'shadow-overhead';
export const target = 0.9;
export const description =
  'Express 5 + gw.routes() with GET /hello in local mode (the application answers) vs the same route in shadow mode (default shadow options: each request copied, at most 16 copies in flight, to an upstream in the same process answering the same JSON; answers compared; 10 % noise samples); the bar is p50, compare the p50s.';
export const baseline = '../servers/shadow-express-local.mjs';
export const candidate = '../servers/shadow-express-shadow.mjs';
export const requests = proxyRequests;
export const expectStatus = 200;
export const check = checkLocal;
