// The capability packages, each loaded the first time the gateway object needs it (its method is
// called), not when the adapter is imported: an app that mounts request ids, auth and rate limits does
// not pay at start-up for the OpenAPI compiler, the mesh client or the composition engine (importing
// them all took ~0.45 s of CPU against Express's ~0.08 s; bench/RESULTS.md, issue 16). Each is loaded
// through core's loadPeer: a package that is not installed is a ConfigError naming it.
import type * as Aggregate from '@gatehousejs/aggregate';
import type * as Auth from '@gatehousejs/auth';
import type * as Client from '@gatehousejs/client';
import { loadPeer } from '@gatehousejs/core';
import type * as Dashboard from '@gatehousejs/dashboard';
import type * as OpenApi from '@gatehousejs/openapi';
import type * as RateLimit from '@gatehousejs/rate-limit';
import type * as Routes from '@gatehousejs/routes';
import type * as Tracing from '@gatehousejs/tracing';
import type * as Versioning from '@gatehousejs/versioning';

/** A package's module, loaded on first use; `path` names what asked (`'gw.validate()'`) in a ConfigError. */
type Load<T> = (path: string) => T;

function loader<T>(name: string): Load<T> {
  let loaded: T | undefined;
  return (path) => {
    loaded ??= loadPeer<T>(name, { from: import.meta.url, path });
    return loaded;
  };
}

export const aggregatePackage: Load<typeof Aggregate> = loader('@gatehousejs/aggregate');
export const authPackage: Load<typeof Auth> = loader('@gatehousejs/auth');
export const clientPackage: Load<typeof Client> = loader('@gatehousejs/client');
export const dashboardPackage: Load<typeof Dashboard> = loader('@gatehousejs/dashboard');
export const openapiPackage: Load<typeof OpenApi> = loader('@gatehousejs/openapi');
export const rateLimitPackage: Load<typeof RateLimit> = loader('@gatehousejs/rate-limit');
export const routesPackage: Load<typeof Routes> = loader('@gatehousejs/routes');
export const tracingPackage: Load<typeof Tracing> = loader('@gatehousejs/tracing');
export const versioningPackage: Load<typeof Versioning> = loader('@gatehousejs/versioning');
