// Versioning's own work against the hand-written floor, with the adapter and exchange paid on both
// sides: baseline Koa 3 + a do-nothing Gatehouse middleware + the hand-written versioning; candidate
// Koa 3 + gw.version(). Read beside koa-versioning (the bar) and koa-noop (the adapter's cost).
import { checkVersioned, versionedRequests } from '../lib/versioning-apps.mjs';

export const name = 'koa-versioning-net';
export const target = 0.98;
export const description =
  'Koa 3 + a do-nothing Gatehouse middleware + the hand-written versioning of koa-versioning vs Koa 3 + gw.version(): versioning against the floor with the adapter and exchange on both sides.';
export const baseline = '../servers/koa-versioning-floor-on-gatehouse.mjs';
export const candidate = '../servers/koa-versioning.mjs';
export const requests = versionedRequests;
export const check = checkVersioned;
