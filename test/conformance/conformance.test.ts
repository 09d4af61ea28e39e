// Every request-facing scenario of every capability, on Express 5 and 4 and Koa 3 and 2, compared.
import { conformance } from '../support/conformance.js';
import {
  aggregateSuite,
  cacheAdminClosedSuite,
  cacheAdminSuite,
  cacheSuite,
  principalSuite,
} from './aggregate.scenarios.js';
import { authServiceSuites } from './auth-services.scenarios.js';
import { edgeSuites } from './edge.scenarios.js';
import {
  adminSuite,
  foundationSuites,
  pathSuite,
  problemSuite,
  requestIdSuite,
} from './foundation.scenarios.js';
import { openapiSuites } from './openapi.scenarios.js';
import { composedSuite, exchangeSuite, phaseSuite } from './phases.scenarios.js';
import { versioningSuites } from './versioning.scenarios.js';

for (const suite of [...foundationSuites, phaseSuite, composedSuite, exchangeSuite]) conformance(suite);
for (const suite of openapiSuites) conformance(suite);
for (const suite of [aggregateSuite, cacheSuite, cacheAdminSuite, cacheAdminClosedSuite, principalSuite])
  conformance(suite);
for (const suite of edgeSuites) conformance(suite);
for (const suite of versioningSuites) conformance(suite);
for (const suite of authServiceSuites) conformance(suite);

// The same foundation scenarios with tracing mounted first (no SDK registered in this file): tracing
// must not change a single answer, on any framework.
for (const suite of [requestIdSuite, problemSuite, pathSuite, adminSuite]) {
  const chain = suite.app.chain;
  conformance({
    ...suite,
    name: `${suite.name} (behind gw.tracing())`,
    app: { ...suite.app, chain: (gw) => [gw.tracing({ traceResponseHeader: true }), ...(chain?.(gw) ?? [])] },
  });
}
