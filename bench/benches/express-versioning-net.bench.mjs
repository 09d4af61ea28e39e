// Versioning's own work against the hand-written floor, with the adapter and exchange paid on both
// sides: baseline Express 5 + a do-nothing Gatehouse middleware + the hand-written versioning; candidate
// Express 5 + gw.version(). Read beside express-versioning (the bar) and express-noop (the adapter's cost).
import { checkVersioned, versionedRequests } from '../lib/versioning-apps.mjs';

export const name = 'express-versioning-net';
export const target = 0.98;
export const description =
  'Express 5 + a do-nothing Gatehouse middleware + the hand-written versioning of express-versioning vs Express 5 + gw.version(): versioning against the floor with the adapter and exchange on both sides.';
export const baseline = '../servers/express-versioning-floor-on-gatehouse.mjs';
export const candidate = '../servers/express-versioning.mjs';
export const requests = versionedRequests;
export const check = checkVersioned;
