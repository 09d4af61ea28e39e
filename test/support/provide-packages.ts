// Vitest setup for the projects that use the gateway object. Vitest runs Gatehouse from its TypeScript
// sources; the gateway object loads a capability package (and the adapters the configuration
// machinery) the first time it is needed, through Node's require() (core's loadPeer), which cannot
// load those sources and would make a second copy of each package if it could. Each is given to
// loadPeer here, as the very module vitest loaded. The consumer test (test/consumer) covers the
// real path: packed packages, loaded by require().
import * as aggregate from '@gatehousejs/aggregate';
import * as auth from '@gatehousejs/auth';
import * as client from '@gatehousejs/client';
import { providePeer } from '@gatehousejs/core';
import * as dashboard from '@gatehousejs/dashboard';
import * as config from '@gatehousejs/gateway/config';
import * as openapi from '@gatehousejs/openapi';
import * as rateLimit from '@gatehousejs/rate-limit';
import * as routes from '@gatehousejs/routes';
import * as tracing from '@gatehousejs/tracing';
import * as versioning from '@gatehousejs/versioning';

const modules: Record<string, unknown> = {
  '@gatehousejs/aggregate': aggregate,
  '@gatehousejs/auth': auth,
  '@gatehousejs/client': client,
  '@gatehousejs/dashboard': dashboard,
  '@gatehousejs/gateway/config': config,
  '@gatehousejs/openapi': openapi,
  '@gatehousejs/rate-limit': rateLimit,
  '@gatehousejs/routes': routes,
  '@gatehousejs/tracing': tracing,
  '@gatehousejs/versioning': versioning,
};
for (const [name, module] of Object.entries(modules)) providePeer(name, module);
