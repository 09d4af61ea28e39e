// Errors of the routes package, each with a stable code. Upstream failures are the mesh client's
// (GH_UPSTREAM_UNAVAILABLE 503, GH_UPSTREAM_TIMEOUT 504, GH_CIRCUIT_OPEN 503, …).
import { defineError } from '@gatehousejs/core';

/**
 * A request with a body reached a proxied route after something (a body parser mounted before
 * `gw.routes()`) had read the body: forwarding it would send an empty body. 500; mount `gw.routes()`
 * before body parsers.
 */
export const RouteBodyConsumed = defineError(
  'GH_ROUTE_BODY_CONSUMED',
  500,
  'Request body already consumed before the route',
);
