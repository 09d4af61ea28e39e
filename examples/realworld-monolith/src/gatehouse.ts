// Gatehouse in the monolith, set up the way its READMEs describe: tracing, request ids, an access log,
// Conduit's own JWTs verified by gw.auth() (with the caller's identity signed and forwarded to the
// services), the admin endpoints behind an API key, rate limits, API versions, OpenAPI validation, the
// migration controller that moves route groups to the Koa services, and a BFF screen composed from them.
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type AuthOptions, type AuthRule, apiKeyAuthenticator, jwtAuthenticator } from '@gatehousejs/auth';
import { exchangeOf } from '@gatehousejs/core';
import { addDashboard } from '@gatehousejs/dashboard';
import {
  OPERATIONS,
  TOKEN_ALGORITHM,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  userIdOf,
} from '@gatehousejs/example-realworld-core';
import type { ExpressGateway } from '@gatehousejs/express';
import type { OpenApiOptions } from '@gatehousejs/openapi';
import type { RateLimitOptions } from '@gatehousejs/rate-limit';
import type { Routes, RoutesOptions } from '@gatehousejs/routes';
import type { AccessLogOptions } from '@gatehousejs/tracing';
import type { Express } from 'express';

export interface GatehouseSetup {
  /** The migration table: `{ file }` (watched) or `{ table }`. */
  routes: RoutesOptions;
  /** The Ed25519 private key that signs the identity forwarded to the services. */
  identityKey: KeyObject;
  /** A `hashApiKey()` digest: the key that opens the admin endpoints (`/_gatehouse/*`). */
  adminKeyHash: string;
  /**
   * An operators' listener: on this port the admin endpoints (the dashboard among them) are open
   * without the key, for a browser, which cannot add it. Default: none.
   */
  adminPort?: number;
  /** Where access-log lines go. Default: stdout (pino). */
  accessLog?: AccessLogOptions;
  /** Rate limits. Default: {@link defaultRateLimits}. */
  rateLimit?: RateLimitOptions;
  /** OpenAPI validation (requests, responses, the services' contract). Default: off. */
  openapi?: OpenApiOptions;
}

/** The admin prefix: Gatehouse's own endpoints stay clear of Conduit's `/api`. */
export const ADMIN_PREFIX = '/_gatehouse';

type VersioningOptions = Parameters<ExpressGateway['version']>[0];
type AggregateOptions = Parameters<ExpressGateway['aggregate']>[0];

/** Where the versions are explained (Deprecation and Sunset point callers there). */
const VERSIONS_DOC =
  'https://github.com/gatehousejs/gatehouse/tree/main/examples/realworld-monolith#api-versions';

/**
 * API versions, from the `api-version` header. Only the tag list has two: version 1 (RealWorld's list
 * of names, the default, deprecated and with a sunset date) and version 2 (each tag with its article
 * count). Every other path is version-neutral: no version is required, checked or announced there.
 */
export function versioningOptions(): VersioningOptions {
  return {
    versions: [
      {
        version: '1',
        deprecation: '2026-12-01',
        sunset: '2027-06-30',
        links: { deprecation: VERSIONS_DOC, sunset: VERSIONS_DOC },
      },
      '2',
    ],
    sources: ['header'],
    default: '1',
    neutral: [
      '/api/articles/*',
      '/api/profiles/*',
      '/api/user',
      '/api/users/*',
      '/api/screens/*',
      `${ADMIN_PREFIX}/*`,
    ],
  };
}

/**
 * The article page of a Conduit front end as one answer (a backend-for-frontend screen), composed from
 * the services: the article, its comments, its author's profile and their latest articles. The article
 * is required (its 404 is the screen's 404); the rest is optional: a failed call leaves a fallback and
 * marks the answer partial. The author's profile is served from the gateway's response cache while the
 * profiles service says it is fresh (anonymous views: `max-age=30`, kept per caller).
 */
export function articleScreen(): AggregateOptions {
  return {
    name: 'article-screen',
    path: '/api/screens/article/:slug',
    timeoutMs: 3000,
    calls: {
      article: { service: 'articles', path: '/api/articles/{/params/slug}', extract: '/article' },
      comments: {
        service: 'articles',
        path: '/api/articles/{/params/slug}/comments',
        extract: '/comments',
        policy: 'optional',
        fallback: [],
        timeoutMs: 1000,
      },
      author: {
        service: 'profiles',
        path: '/api/profiles/{/article/author/username}',
        extract: '/profile',
        policy: 'optional',
        fallback: null,
        timeoutMs: 1000,
        cache: true,
      },
      moreFromAuthor: {
        service: 'articles',
        path: '/api/articles',
        query: { author: '{/article/author/username}', limit: '5' },
        extract: '/articles',
        pick: ['/slug', '/title', '/favoritesCount'],
        policy: 'optional',
        fallback: [],
        timeoutMs: 1000,
      },
    },
  };
}

/**
 * gw.auth() options: Conduit's operations that need a user (from the operation table) need a valid
 * token; every other Conduit route is open, a presented token still verified; on the admin endpoints
 * only the admin API key is looked at (gw.admin()'s access policy decides who gets in).
 */
export function authOptions(tokenSecret: Uint8Array, setup: GatehouseSetup): AuthOptions {
  const conduit: AuthRule[] = OPERATIONS.filter((o) => o.access === 'required').map((o) => ({
    path: o.path,
    httpMethods: [o.method],
    methods: ['jwt'],
  }));
  return {
    methods: [
      // Conduit's own tokens, as its clients send them: `Authorization: Token <jwt>`.
      jwtAuthenticator({
        keys: [{ key: tokenSecret, alg: TOKEN_ALGORITHM }],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        scheme: 'Token',
      }),
      apiKeyAuthenticator({ keys: [{ hash: setup.adminKeyHash, id: 'admin', roles: ['admin'] }] }),
    ],
    rules: [
      // The admin key is verified when presented; gw.admin()'s access policy requires it.
      { path: `${ADMIN_PREFIX}/*`, methods: ['api-key'], anonymous: true },
      ...conduit,
      { path: '/api/*', methods: ['jwt'], anonymous: true },
    ],
    default: 'anonymous',
    // The caller, signed for the services (x-gatehouse-identity, which no client can send through).
    forward: { token: { key: setup.identityKey, alg: 'EdDSA' } },
  };
}

/**
 * Per caller (the user, else the client address): a burst and a sustained window; registration and
 * login per address, tighter. The admin endpoints are not limited.
 */
export function defaultRateLimits(): RateLimitOptions {
  return {
    limits: [
      { name: 'burst', points: 50, duration: '1s' },
      { name: 'sustained', points: 1_200, duration: '1m' },
    ],
    routes: [
      { path: `${ADMIN_PREFIX}/*`, exempt: true },
      {
        path: '/api/users',
        methods: ['POST'],
        key: 'ip',
        limits: [{ name: 'signup', points: 30, duration: '1m' }],
      },
      {
        path: '/api/users/login',
        methods: ['POST'],
        key: 'ip',
        limits: [{ name: 'login', points: 30, duration: '1m' }],
      },
    ],
  };
}

/**
 * Mounts Gatehouse's edge on the app (everything that runs before Conduit's routes) and returns the
 * migration controller, which the caller may drive (`setMode`) besides the table.
 */
export function mountGatehouse(
  app: Express,
  gw: ExpressGateway,
  tokenSecret: Uint8Array,
  setup: GatehouseSetup,
): Routes {
  app.use(gw.tracing({ metrics: { prometheus: true } }));
  app.use(gw.requestId());
  app.use(gw.accessLog(setup.accessLog));
  app.use(gw.auth(authOptions(tokenSecret, setup)));
  // Health and readiness stay open; metrics, /routes, /migration, the write API and the dashboard need
  // the admin key's role, or a connection to the operators' port.
  app.use(
    gw.admin({
      prefix: ADMIN_PREFIX,
      access: {
        require: { roles: ['admin'] },
        ...(setup.adminPort === undefined ? {} : { ports: [setup.adminPort] }),
      },
    }),
  );
  // The migration dashboard at /_gatehouse/dashboard, behind the same policy.
  addDashboard(gw.core);
  app.use(gw.rateLimit(setup.rateLimit ?? defaultRateLimits()));
  app.use(gw.version(versioningOptions()));
  if (setup.openapi !== undefined) app.use(gw.validate(setup.openapi));
  const routes = gw.router(setup.routes);
  app.use(gw.use(routes));
  app.use(gw.aggregate(articleScreen()));
  return routes;
}

/** The API version of a request as gw.version() resolved it (1 or 2), or undefined. */
export function requestedApiVersion(req: IncomingMessage): number | undefined {
  const text = exchangeOf(req)?.stateIfSet?.apiVersion?.text;
  return text === undefined ? undefined : Number(text);
}

/** Who is calling, as gw.auth() found it: a Conduit user id, or undefined when anonymous. */
export function principalUserId(req: IncomingMessage): number | undefined {
  const principal = exchangeOf(req)?.state.principal;
  if (principal === undefined || principal.method !== 'jwt') return undefined;
  return userIdOf(principal.id);
}
