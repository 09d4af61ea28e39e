// Liveness and readiness endpoints for load balancers and orchestrators.
import { MethodNotAllowed, NotReady } from './errors.js';
import type { Exchange } from './exchange.js';
import type { Middleware, Reply } from './middleware.js';
import { createPathMatcher, type PathPolicy } from './path.js';

/** What the admin endpoints read from the gateway. */
export interface AdminTarget {
  readonly state: string;
  readonly ready: boolean;
  /** Matching follows the gateway's case policy. */
  readonly pathPolicy?: Pick<PathPolicy, 'caseSensitive'>;
  /** Endpoints capabilities add under the prefix (`/metrics`, `/routes`), by lower-case path. */
  readonly adminEndpoints?: ReadonlyMap<string, AdminEndpoint>;
}

/** An admin endpoint a capability contributes: answers GET and HEAD. */
export type AdminEndpoint = (exchange: Exchange) => Reply | Promise<Reply>;

/** Options of {@link admin}. */
export interface AdminOptions {
  /** Path prefix of the endpoints, '' or starting with '/'. Default: the gateway's `admin.prefix` (''). */
  prefix?: string;
}

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * `GET {prefix}/health` answers 200 while the process runs; `GET {prefix}/ready` answers 200 once the
 * gateway has started and 503 (GH_NOT_READY) before that and while it drains. Matched on the
 * normalized path; other methods get 405 (GH_METHOD_NOT_ALLOWED); every other path passes through.
 */
export function admin(target: AdminTarget, options: AdminOptions = {}): Middleware {
  const prefix = options.prefix ?? '';
  if (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/'))) {
    throw new TypeError(`admin: prefix must be '' or start with '/' and not end with '/', got '${prefix}'`);
  }
  const isHealth = createPathMatcher(`${prefix}/health`, target.pathPolicy);
  const isReady = createPathMatcher(`${prefix}/ready`, target.pathPolicy);
  const caseSensitive = target.pathPolicy?.caseSensitive ?? false;
  const extraEndpoint = (path: string): AdminEndpoint | undefined => {
    const endpoints = target.adminEndpoints;
    if (endpoints === undefined || endpoints.size === 0 || !path.startsWith(prefix)) return undefined;
    const rest = path.slice(prefix.length);
    return endpoints.get(caseSensitive ? rest : rest.toLowerCase());
  };
  return {
    name: 'admin',
    onRequest(exchange) {
      const path = exchange.path;
      const health = isHealth(path);
      const endpoint = health ? undefined : extraEndpoint(path);
      if (!health && endpoint === undefined && !isReady(path)) return undefined;
      const method = exchange.method;
      if (method !== 'GET' && method !== 'HEAD') {
        throw new MethodNotAllowed(`${path} answers GET and HEAD only`, { headers: { allow: 'GET, HEAD' } });
      }
      if (health) return { status: 200, headers: NO_STORE, body: { status: 'ok' } };
      if (endpoint !== undefined) return endpoint(exchange);
      if (!target.ready) {
        throw new NotReady(`The gateway is ${target.state}`, { headers: { 'retry-after': '1' } });
      }
      return { status: 200, headers: NO_STORE, body: { status: 'ready' } };
    },
  };
}
