// Issue 17's bar: versioning on a request costs at most 2 % of throughput over the plain-middleware
// floor. Baseline: Koa 3 + the same versioning hand-written (no Gatehouse); candidate: Koa 3 +
// gw.version(). A ratio of 0.98 is the bar.
import { checkVersioned, versionedRequests } from '../lib/versioning-apps.mjs';

export const name = 'koa-versioning';
export const target = 0.98;
export const description =
  'Koa 3 + a hand-written versioning middleware (path segment stripped or api-version header, default, api-supported-versions and Vary) vs the same app with gw.version() instead.';
export const baseline = '../servers/koa-versioning-floor.mjs';
export const candidate = '../servers/koa-versioning.mjs';
export const requests = versionedRequests;
export const check = checkVersioned;
