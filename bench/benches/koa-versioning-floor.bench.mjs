// Control under koa-versioning: what the hand-written versioning middleware itself costs bare
// Koa 3 (two response headers and a version read per request), so the bar can be read against it.
import { checkHello } from '../lib/hello-requests.mjs';
import { checkVersioned, versionedRequests } from '../lib/versioning-apps.mjs';

export const name = 'koa-versioning-floor';
export const target = 0.95;
export const description =
  'Control: bare Koa 3 hello-world vs the same app with the hand-written versioning middleware of koa-versioning (no Gatehouse).';
export const baseline = '../servers/koa-bare.mjs';
export const candidate = '../servers/koa-versioning-floor.mjs';
// The bare side has no versioned paths: header and default requests only.
export const requests = versionedRequests.filter((r) => !r.path.startsWith('/v'));
export function check(answer) {
  if (answer.side === 'baseline') checkHello(answer);
  else checkVersioned(answer);
}
