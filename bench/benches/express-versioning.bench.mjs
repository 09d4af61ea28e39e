// Issue 17's bar: versioning on a request costs at most 2 % of throughput over the plain-middleware
// floor. Baseline: Express 5 + the same versioning hand-written (no Gatehouse); candidate: Express 5 +
// gw.version(). A ratio of 0.98 is the bar.
import { checkVersioned, versionedRequests } from '../lib/versioning-apps.mjs';

export const name = 'express-versioning';
export const target = 0.98;
export const description =
  'Express 5 + a hand-written versioning middleware (path segment stripped or api-version header, default, api-supported-versions and Vary) vs the same app with gw.version() instead.';
export const baseline = '../servers/express-versioning-floor.mjs';
export const candidate = '../servers/express-versioning.mjs';
export const requests = versionedRequests;
export const check = checkVersioned;
