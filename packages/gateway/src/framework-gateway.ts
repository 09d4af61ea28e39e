// The shape shared by the framework gateway objects: every capability method is declared once, here,
// and each adapter supplies only `wrap` (neutral middleware → native middleware). It lives outside
// core because it knows every capability package, and core knows none. Each is loaded when its method
// is first called (capabilities.ts); those a typical app does not use are optional peer dependencies,
// whose types come through `@gatehousejs/gateway/optional/*` (stand-ins in types/ when missing).
import { type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Auth, AuthOptions, Requirement } from '@gatehousejs/auth';
import {
  type AdminAccess,
  type AdminOptions,
  type AdminWriteAccess,
  type CloseOptions,
  ConfigError,
  compose,
  DependencyMonitor,
  didYouMean,
  type Exchange,
  Gateway,
  type GatewayConfig,
  type GatewayOptions,
  type GatewayState,
  isThenable,
  type Middleware,
  type Reply,
  type RequestIdOptions,
  type ResolvedConfig,
} from '@gatehousejs/core';
import type {
  Aggregate,
  AggregateOptions,
  CacheOptions,
  HttpCache,
  purgeHandler,
  SingleFlight,
} from '@gatehousejs/gateway/optional/aggregate';
import type { Client, ClientOptions, DeadlineOptions } from '@gatehousejs/gateway/optional/client';
import type { Dashboard, DashboardOptions } from '@gatehousejs/gateway/optional/dashboard';
import type { OpenApiOptions, OpenApiValidator } from '@gatehousejs/gateway/optional/openapi';
import type { RouteSpec, Routes, RoutesOptions } from '@gatehousejs/gateway/optional/routes';
import type {
  NativeHandler,
  Versioning,
  VersioningOptions,
  VersionMethod,
  VersionRouteOptions,
} from '@gatehousejs/gateway/optional/versioning';
import type { RateLimit, RateLimitOptions } from '@gatehousejs/rate-limit';
import type { AccessLogOptions, Tracing, TracingOptions } from '@gatehousejs/tracing';

import { type AdminAudit, addAdminActions, auditedPurge, auditOf } from './admin-actions.js';
import {
  aggregatePackage,
  authPackage,
  clientPackage,
  dashboardPackage,
  openapiPackage,
  rateLimitPackage,
  routesPackage,
  tracingPackage,
  versioningPackage,
} from './capabilities.js';
import { runtimeOf } from './config/attach.js';
import type { GatewayConfiguration } from './config/types.js';

/** This gateway's tracing (loads @gatehousejs/tracing on first use). */
const tracingFor = (core: Gateway, options?: TracingOptions): Tracing =>
  tracingPackage('gw.tracing()').tracingFor(core, options);

const kAuth = Symbol('gatehouse.auth');
const kRateLimits = Symbol('gatehouse.rateLimits');
const kClients = Symbol('gatehouse.clients');
const kRoutes = Symbol('gatehouse.routes');
const kUpgrades = Symbol('gatehouse.upgrades');
const kResponseCache = Symbol('gatehouse.responseCache');
const kFlights = Symbol('gatehouse.flights');
const kCachedClients = Symbol('gatehouse.cachedClients');
const kCacheAdmin = Symbol('gatehouse.cacheAdmin');
const kDashboard = Symbol('gatehouse.dashboard');

/**
 * Request headers a proxied route passes on exactly as received (unless the route's own
 * `requestHeaders` names them): a cached answer that varies only on these can be found from the
 * incoming request, before the forwarded one is built.
 */
const UNCHANGED_BY_ROUTES: ReadonlySet<string> = new Set([
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'origin',
]);

/** A Redis URL as a dependency name: host and port, never credentials. */
function redisName(url: string | undefined): string {
  try {
    return url === undefined ? 'redis' : new URL(url).host;
  } catch {
    return 'redis';
  }
}
const kVersioning = Symbol('gatehouse.versioning');

/** The shared-state keys a configuration's runtime swaps on reload (config/runtime.ts); not public API. */
export const gatewaySlots = { auth: kAuth, clients: kClients, versioning: kVersioning } as const;

/** Options of `gw.admin()`: core's, with an auth requirement as one more way to admit a caller. */
export interface GatewayAdminOptions extends Omit<AdminOptions, 'access'> {
  access?: Omit<AdminAccess, 'write'> & {
    /**
     * A requirement on the principal `gw.auth()` finds (`{ roles: ['ops'] }`, `{ scopes: [...] }`):
     * callers meeting it are admitted; others get auth's 401/403 with its challenge.
     */
    require?: Requirement;
    /**
     * Who may write (any method but GET and HEAD), instead of `peers`, `ports`, `guard` and
     * `require` above; `dangerouslyPublic` above never admits a write.
     * @example { peers: ['loopback'], require: { roles: ['ops'] } }
     */
    write?: AdminWriteAccess & { require?: Requirement };
  };
}

/** Serves an Upgrade request no route took through the server's request handler, on its socket. */
function serveAsRequest(server: Server, req: IncomingMessage, res: ServerResponse, socket: Duplex): void {
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  server.emit('request', req, res);
}

/**
 * Base class of `gateway()` in `@gatehousejs/express` and `@gatehousejs/koa`. `M` is the framework's
 * native middleware type.
 */
export abstract class FrameworkGateway<M> {
  /** The framework-neutral gateway underneath. */
  readonly core: Gateway;
  #version: VersionMethod<M> | undefined;

  /** Validates the configuration; throws a `ConfigError` listing every problem. */
  constructor(config: GatewayConfig | ResolvedConfig | Gateway = {}, options: GatewayOptions = {}) {
    this.core = config instanceof Gateway ? config : new Gateway(config, options);
  }

  /** Turns a neutral middleware into the framework's own. */
  protected abstract wrap(mw: Middleware): M;

  /** Request ids: accepts a well-formed incoming id, else generates one; echoes it. */
  requestId(options?: RequestIdOptions): M {
    return this.wrap(this.core.requestId(options));
  }

  /**
   * `GET /health` and `GET /ready` (under `admin.prefix`), open to everyone, and the endpoints
   * capabilities add (`/metrics`, `/routes`, `/migration`, …) behind the admin access policy: the
   * configuration's `admin.access` (peers, ports, `dangerouslyPublic`), or `options.access`, which can
   * also `require` a principal from `gw.auth()` (call `gw.auth()` first) or pass a `guard`. With no
   * policy those endpoints answer 403 to everyone. Writes (POST, DELETE) are admitted by `peers`,
   * `ports`, `guard` and `require` — never `dangerouslyPublic` — or by `access.write` when given.
   *
   * @example app.use(gw.admin({ access: { peers: ['loopback'], require: { roles: ['ops'] } } }))
   */
  admin(options?: GatewayAdminOptions): M {
    return this.wrap(this.adminMiddleware(options));
  }

  /**
   * The neutral middleware behind {@link admin}, with `access.require` turned into a guard checked
   * on the principal `authInstance` finds (default: this gateway's `gw.auth()`).
   */
  adminMiddleware(options: GatewayAdminOptions = {}, authInstance?: Auth): Middleware {
    this.cacheAdmin();
    const { require: requirement, write, ...access } = options.access ?? {};
    const { require: writeRequirement, ...writeAccess } = write ?? {};
    if (requirement === undefined && writeRequirement === undefined)
      return this.core.admin(options as AdminOptions);
    const guardFor = (given: Requirement, at: string): Middleware => {
      const instance = authInstance ?? (this.core.shared.get(kAuth) as Auth | undefined);
      if (instance === undefined) throw new TypeError(`admin(): ${at} needs gw.auth(); call it first`);
      const check = instance.require(given);
      return {
        name: 'admin.require',
        // gw.admin() may run before gw.auth() in the chain: authenticate here when no principal is known.
        onRequest(exchange) {
          if (exchange.stateIfSet?.principal !== undefined) return check.onRequest!(exchange);
          const first = instance.onRequest!(exchange);
          if (isThenable(first)) {
            return Promise.resolve(first).then((answer) => answer ?? check.onRequest!(exchange));
          }
          return first ?? check.onRequest!(exchange);
        },
      };
    };
    return this.core.admin({
      ...options,
      access: {
        ...access,
        ...(requirement === undefined ? {} : { guard: guardFor(requirement, 'access.require') }),
        ...(write === undefined
          ? {}
          : {
              write: {
                ...writeAccess,
                ...(writeRequirement === undefined
                  ? {}
                  : { guard: guardFor(writeRequirement, 'access.write.require') }),
              },
            }),
      },
    });
  }

  /**
   * The migration dashboard (`@gatehousejs/dashboard`, loaded now): a page at `{admin prefix}{path}`
   * (default `/dashboard`) showing every route of `gw.routes()` live, with buttons that act through
   * the audited admin write API. Behind the admin access policy like every admin endpoint (its
   * buttons are writes: never admitted by `dangerouslyPublic`). One per gateway; `admin.dashboard`
   * in a configuration file does the same.
   *
   * @throws ConfigError listing every problem in `options`, or naming the package when it is missing
   * @example app.use(gw.admin({ access: { peers: ['loopback'] } })); gw.dashboard();
   */
  dashboard(options?: DashboardOptions): Dashboard {
    if (this.core.shared.has(kDashboard))
      throw new TypeError('dashboard(): this gateway has its dashboard already (one per gateway)');
    const made = dashboardPackage('gw.dashboard()').addDashboard(this.core, options);
    this.core.shared.set(kDashboard, made);
    return made;
  }

  /**
   * Server spans, W3C trace context (and B3 when configured), metrics; the request's OpenTelemetry
   * context is active for the rest of the request. Mount it FIRST. With `metrics.prometheus`,
   * `gw.admin()` also serves `/metrics`.
   */
  tracing(options?: TracingOptions): M {
    return this.wrap(tracingFor(this.core, options).middleware());
  }

  /** This gateway's tracing (client spans and traced `fetch` for outbound calls, metrics). */
  get tracer(): Tracing {
    return tracingFor(this.core);
  }

  /** One structured JSON line per request (pino by default), secrets redacted. */
  accessLog(options?: AccessLogOptions): M {
    return this.wrap(tracingPackage('gw.accessLog()').accessLog(options));
  }

  /**
   * Authentication and authorization: the configured methods (JWT, API keys, introspection,
   * passport, mTLS), per-route rules on the normalized path, identity forwarding. Mount it after
   * tracing and request ids. One per gateway; `gw.authorize()` builds on it.
   */
  auth(options: AuthOptions): M {
    if (this.core.shared.has(kAuth)) throw new TypeError('auth(): this gateway already has auth()');
    const instance = authPackage('gw.auth()').auth(options);
    this.core.shared.set(kAuth, instance);
    this.core.onClose(() => instance.close());
    return this.wrap(instance);
  }

  /**
   * A route-level requirement on the principal `gw.auth()` found (scopes, roles, a predicate).
   *
   * @example app.post('/orders', gw.authorize({ scopes: ['orders:write'] }), createOrder)
   */
  authorize(requirement: Requirement): M {
    const instance = this.core.shared.get(kAuth) as Auth | undefined;
    if (instance === undefined) throw new TypeError('authorize(): call gw.auth() first');
    return this.wrap(instance.require(requirement));
  }

  /**
   * Rate limits, quotas, concurrency limits and load shedding (`@gatehousejs/rate-limit`). Mount it
   * after `auth()` when limits key on the principal or its tier; mount more than one (a global limit
   * and route-level ones) by giving each a distinct `name`. Closed with the gateway.
   *
   * @example app.use(gw.rateLimit({ limits: [{ points: 100, duration: '1m' }] }))
   */
  rateLimit(options: RateLimitOptions): M {
    return this.wrap(this.rateLimiter(options));
  }

  /** Like {@link rateLimit}, returning the neutral middleware with its `stats()`. */
  rateLimiter(options: RateLimitOptions): RateLimit {
    let names = this.core.shared.get(kRateLimits) as Set<string> | undefined;
    const name = options?.name ?? 'default';
    if (names?.has(name)) {
      throw new TypeError(
        `rateLimit(): this gateway already has a limiter named '${name}'; give each rateLimit() its own name`,
      );
    }
    const instance = rateLimitPackage('gw.rateLimit()').rateLimit(options);
    if (names === undefined) {
      names = new Set();
      this.core.shared.set(kRateLimits, names);
    }
    names.add(name);
    this.core.onClose(() => instance.close());
    return instance;
  }

  /**
   * API versioning (`@gatehousejs/versioning`): `gw.version(options)` reads each request's version
   * (path, header, media type, query, a function), refuses missing, unknown and ambiguous ones, sets
   * the version headers and puts the version on the exchange for handlers, `gw.routes()` (a route's
   * `version`), the mesh client, spans, logs and `/metrics`. One per gateway; mount it before the
   * routes. `gw.version.route(handlers)` runs the native handler written for the request's version.
   *
   * @example
   *   app.use(gw.version({ versions: ['1', '2'], sources: [{ from: 'path', strip: true }, 'header'] }));
   *   app.use(gw.version.route({ '1': v1Router, '2+': v2Router }));
   */
  get version(): VersionMethod<M> {
    if (this.#version !== undefined) return this.#version;
    const core = this.core;
    const method = (options: VersioningOptions): M => {
      if (core.shared.has(kVersioning)) throw new TypeError('version(): this gateway already has versioning');
      const instance = versioningPackage('gw.version()').versioning(options, {
        // Asked on the first versioned request, when gw.tracing() has been configured.
        meterProviders: () => [tracingFor(core).prometheusMeterProvider],
      });
      core.shared.set(kVersioning, instance);
      return this.wrap(instance);
    };
    type Native = (...args: unknown[]) => unknown;
    const route = (
      handlers: Readonly<Record<string, M | NativeHandler>>,
      options: VersionRouteOptions = {},
    ): M => {
      const instance = core.shared.get(kVersioning) as Versioning | undefined;
      if (instance === undefined) throw new TypeError('version.route(): call gw.version() first');
      const table = instance.table(handlers as Readonly<Record<string, unknown>>);
      const passOn = options.otherwise === 'next';
      // The neutral step chooses and the native continuation runs the choice. Handing it over in a
      // variable is safe: a synchronous onRequest makes both adapters call the continuation at once,
      // before any other request can run. It keeps this free of framework knowledge: the handler gets
      // the very arguments (req, res, next / ctx, next) the dispatcher got.
      let chosen: Native | undefined;
      const choose = this.wrap({
        name: 'version.route',
        onRequest(exchange) {
          const requested = exchange.stateIfSet?.apiVersion;
          chosen =
            passOn && (requested === undefined || table.entryFor(requested.text) === undefined)
              ? undefined
              : (table.select(exchange) as Native);
        },
      }) as unknown as Native;
      const dispatch: Native = (...args) => {
        const next = args[args.length - 1] as Native;
        return choose(...args.slice(0, -1), () => {
          const handler = chosen;
          chosen = undefined;
          return handler === undefined ? next() : handler(...args);
        });
      };
      return dispatch as unknown as M;
    };
    this.#version = Object.defineProperties(method, {
      route: { value: route },
      instance: { get: () => core.shared.get(kVersioning) as Versioning | undefined },
    }) as VersionMethod<M>;
    return this.#version;
  }

  /**
   * The mesh-aware client for a service named in the configuration (`services.orders`): its
   * endpoints from there (or from `options.resolver`), spans and trace headers from this gateway's
   * tracing. One client per name, made on first use, closed with the gateway; `options` apply on
   * first use only.
   *
   * @example const res = await gw.client('orders').request({ path: `/orders/${id}` })
   */
  client(name: string, options: Omit<ClientOptions, 'name'> & { cache?: boolean } = {}): Client {
    if (options.cache === true) return this.cachedClient(name, options);
    const { cache: _cache, ...rest } = options;
    options = rest;
    let clients = this.core.shared.get(kClients) as Map<string, Client> | undefined;
    const existing = clients?.get(name);
    if (existing !== undefined) return existing;
    const service = this.core.config.services[name];
    if (service === undefined && options.resolver === undefined && options.endpoints === undefined) {
      const known = Object.keys(this.core.config.services);
      throw new ConfigError([
        {
          path: `client(${name})`,
          message:
            known.length === 0
              ? "no service by this name in the configuration (no services are defined); give 'endpoints' or a 'resolver'"
              : `no service by this name in the configuration${didYouMean(name, known)} (services: ${known.join(', ')})`,
        },
      ]);
    }
    const endpoints =
      options.resolver !== undefined || options.endpoints !== undefined || service === undefined
        ? options.endpoints
        : 'url' in service
          ? [service.url]
          : service.endpoints;
    const client = this.createServiceClient(name, { ...options, endpoints });
    if (clients === undefined) {
      clients = new Map();
      this.core.shared.set(kClients, clients);
    }
    clients.set(name, client);
    this.core.onClose(() => client.close());
    // A DNS or etcd resolver's outage and recovery are reported to this gateway, once each.
    options.resolver?.monitor?.reportTo(this.core);
    return client;
  }

  /**
   * A new mesh client for `name`, traced by this gateway, that {@link client} neither keeps nor
   * closes: what a configuration's reload makes before it swaps clients in (config/runtime.ts).
   * Give `endpoints` or a `resolver`.
   */
  createServiceClient(name: string, options: Omit<ClientOptions, 'name'>): Client {
    const tracing = tracingFor(this.core);
    // An endpoint's origin is parsed once, not once per call (a URL parse costs about 1 % of a proxied
    // request, bench/RESULTS.md).
    const origins = new Map<string, URL>();
    const client = clientPackage('gw.client()').createClient({
      tracer: {
        startClientSpan: ({ method, origin, path, exchange }) => {
          let base = origins.get(origin);
          if (base === undefined) {
            if (origins.size > 1_000) origins.clear();
            base = new URL(origin);
            origins.set(origin, base);
          }
          const q = path.indexOf('?');
          const url = {
            hostname: base.hostname,
            origin: base.origin,
            port: base.port,
            pathname: q === -1 ? path : path.slice(0, q),
          };
          return tracing.startClientSpan({ method, url, exchange });
        },
      },
      ...options,
      name,
    });
    return client;
  }

  /**
   * The client of `name` (see {@link client}) with its GET calls answered through the gateway's
   * response cache ({@link responseCache}): fresh answers from the store, stale ones revalidated (one
   * revalidation however many ask), identical concurrent calls shared. `Age` and `Cache-Status` on
   * every answer it gives.
   */
  cachedClient(name: string, options: Omit<ClientOptions, 'name'> = {}): Client {
    let cached = this.core.shared.get(kCachedClients) as Map<string, Client> | undefined;
    const existing = cached?.get(name);
    if (existing !== undefined) return existing;
    const { cache: _cache, ...rest } = options as Omit<ClientOptions, 'name'> & { cache?: boolean };
    const base = this.client(name, rest);
    const cache = this.responseCache();
    const maxBodyBytes = (this.core.shared.get(kResponseCache) as { maxBodyBytes: number }).maxBodyBytes;
    const client = aggregatePackage('gw.cachedClient()').cachingClient(base, cache, maxBodyBytes);
    if (cached === undefined) {
      cached = new Map();
      this.core.shared.set(kCachedClients, cached);
    }
    cached.set(name, client);
    return client;
  }

  /**
   * The gateway's RFC 9111 response cache, made on first use (memory LRU by default, or Redis), used
   * by routes, clients and compositions with `cache: true`. Its hit/miss/stale/revalidation counters
   * go to the metrics (and `/metrics` with Prometheus on). `options` apply on first use only; giving
   * options after the cache exists is an error.
   *
   * @example gw.responseCache({ store: 'redis', redis: { url: 'redis://127.0.0.1:6379' } })
   */
  responseCache(options?: CacheOptions): HttpCache {
    const existing = this.core.shared.get(kResponseCache) as { cache: HttpCache } | undefined;
    if (existing !== undefined) {
      if (options !== undefined)
        throw new TypeError('responseCache(): this gateway already has a response cache');
      return existing.cache;
    }
    const core = this.core;
    // A store outage is reported once, and its recovery once (a Redis that is down costs every lookup).
    const store = options?.store ?? 'memory';
    const monitor = new DependencyMonitor(
      typeof store === 'string' ? store : store.kind,
      store === 'redis' ? redisName(options?.redis?.url) : 'response cache',
    );
    monitor.reportTo(core);
    const { createResponseCache, observeCache } = aggregatePackage('gw.responseCache()');
    const made = createResponseCache(
      options,
      (error) => monitor.failed(error),
      () => monitor.succeeded(),
    );
    core.shared.set(kResponseCache, { cache: made.cache, maxBodyBytes: made.options.maxBodyBytes });
    const tracing = tracingFor(core);
    observeCache(made.cache, [undefined, tracing.prometheusMeterProvider]);
    core.onClose(() => made.close());
    return made.cache;
  }

  /**
   * `GET /cache` (the response cache's counters) and `POST`/`DELETE /cache/purge?key=service:/path`
   * or `?prefix=service:/path/` on `gw.admin()`, behind its access policy. Registered once, with the
   * first `gw.admin()`; they answer for the cache once it exists.
   */
  private cacheAdmin(): void {
    const core = this.core;
    if (core.shared.has(kCacheAdmin)) return;
    core.shared.set(kCacheAdmin, true);
    const current = () => (core.shared.get(kResponseCache) as { cache: HttpCache } | undefined)?.cache;
    // Made on their first request: gw.admin() alone does not load @gatehousejs/aggregate.
    let stats: (() => Reply) | undefined;
    let purge: ((exchange: Exchange) => Promise<Reply>) | undefined;
    core.addAdminEndpoint('/cache', () => {
      stats ??= aggregatePackage('gw.admin() /cache').cacheStatsHandler(current);
      return stats();
    });
    core.addAdminEndpoint(
      '/cache/purge',
      (exchange) => {
        purge ??= auditedPurge(core, aggregatePackage('gw.admin() /cache/purge').purgeHandler(current));
        return purge(exchange);
      },
      { methods: ['POST', 'DELETE'] },
    );
  }

  /** The purge handler of the response cache (`?key=` or `?prefix=`), for an admin API you protect. */
  cachePurgeHandler(): ReturnType<typeof purgeHandler> {
    return aggregatePackage('gw.cachePurgeHandler()').purgeHandler(this.responseCache());
  }

  /**
   * A BFF composition (`@gatehousejs/aggregate`): named calls to services run as a DAG, with per-call
   * policy, deadlines, coalescing and caching, answered as one JSON body. Mount it with `app.use()`
   * (it answers requests matching `path`) or on a route of your own.
   *
   * @example app.use(gw.aggregate({ path: '/screens/orders/:id', calls: { order: { service: 'orders', path: '/orders/{/params/id}' } } }))
   */
  aggregate(options: AggregateOptions): M {
    return this.wrap(this.aggregator(options));
  }

  /** Like {@link aggregate}, returning the neutral middleware with its compiled composition. */
  aggregator(options: AggregateOptions): Aggregate {
    const core = this.core;
    const { aggregate, SingleFlight } = aggregatePackage('gw.aggregate()');
    let flights = core.shared.get(kFlights) as SingleFlight | undefined;
    if (flights === undefined) {
      flights = new SingleFlight();
      core.shared.set(kFlights, flights);
    }
    const clients = () => (core.shared.get(kClients) as Map<string, Client> | undefined) ?? new Map();
    return aggregate(options, {
      clientFor: (service) => this.client(service),
      flights,
      cache: () => this.responseCache(),
      services: (service) => core.config.services[service] !== undefined || clients().has(service),
      caseSensitive: core.pathPolicy.caseSensitive,
    });
  }

  /**
   * Honours an incoming deadline (`x-deadline-ms`): the rest of the request, and every
   * `gw.client()` call made within it, runs within the caller's remaining budget.
   */
  deadline(options?: DeadlineOptions): M {
    return this.wrap(clientPackage('gw.deadline()').deadline(options));
  }

  /**
   * Proxying and the migration controller (`@gatehousejs/routes`): the route table from `options`
   * (`table`, `file`, `etcd`) or, without one, the configuration's `routes`. Mount it before the
   * application's routes and body parsers: matched requests in `remote` mode never reach them; `local`
   * ones continue to them. Adds `/routes` and `/migration` to `gw.admin()`; passes WebSocket upgrades
   * on `websocket: true` routes (authenticated by `gw.auth()` when there is one).
   *
   * @example app.use(gw.routes({ file: 'routes.yaml' }))
   */
  routes(options: RoutesOptions = {}): M {
    return this.wrap(this.router(options));
  }

  /**
   * One route in code, as its own middleware (`gw.routes({ table: [spec] })`).
   *
   * @example app.use(gw.route({ name: 'orders', path: '/orders/*', service: 'orders', mode: 'shadow' }))
   */
  route(spec: RouteSpec): M {
    const name = spec.name ?? (typeof spec.path === 'string' ? spec.path : spec.path.join(','));
    return this.routes({ name, table: [spec] });
  }

  /** Like {@link routes}, returning the controller itself (`setMode`, `reload`, reports, events). */
  router(options: RoutesOptions = {}): Routes {
    const core = this.core;
    const { addRoutesAdmin, observeMigration, Routes } = routesPackage('gw.routes()');
    const clients = () => (core.shared.get(kClients) as Map<string, Client> | undefined) ?? new Map();
    const fromConfig =
      options.table === undefined &&
      options.file === undefined &&
      options.etcd === undefined &&
      options.source === undefined &&
      core.config.routes.length > 0;
    let list = core.shared.get(kRoutes) as Routes[] | undefined;
    if (list === undefined) {
      const all: Routes[] = [];
      list = all;
      core.shared.set(kRoutes, all);
      observeMigration(() => all);
      const actions = addAdminActions(core, () => all);
      addRoutesAdmin(core, () => all, { history: () => actions.history() });
      let listening = false;
      const upgradesWanted = () => {
        if (listening) return;
        listening = true;
        core.onServe((server) => {
          server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
            const res = new ServerResponse(req);
            for (const routes of all) if (routes.handleUpgrade(req, socket, head, res)) return;
            // The application's own upgrade listener (a WebSocket server) takes the rest.
            if (server.listenerCount('upgrade') > 1) return;
            // Node hands every Upgrade request to 'upgrade' listeners once there is one; one no route
            // takes (h2c from `curl --http2`, a WebSocket to a local route) is served as the plain
            // HTTP/1.1 request it also is (RFC 9110 §7.8 lets a server ignore Upgrade), then the
            // connection closes.
            serveAsRequest(server, req, res, socket);
          });
        });
      };
      core.shared.set(kUpgrades, upgradesWanted);
    }
    const instance = new Routes(
      fromConfig
        ? {
            ...options,
            table: core.config.routes.map((r) => ({
              path: r.path,
              ...(r.methods === undefined ? {} : { methods: r.methods }),
              ...(r.to === 'local' ? { mode: 'local' as const } : { service: r.to, mode: 'remote' as const }),
            })),
          }
        : options,
      {
        core,
        clientFor: (name, opts) => (opts?.cache === true ? this.cachedClient(name) : this.client(name)),
        cachedAnswer: (service, path, exchange, rewritten) => {
          const cache = (core.shared.get(kResponseCache) as { cache: HttpCache } | undefined)?.cache;
          if (cache === undefined) return undefined;
          const { cachedResponse, scopeOf } = aggregatePackage('gw.responseCache()');
          const headers = exchange.req.headers as Record<string, string>;
          const principal = (exchange.stateIfSet as { principal?: { id?: unknown } } | undefined)?.principal;
          const id = typeof principal?.id === 'string' ? principal.id : undefined;
          const hit = cache.peek(
            { service, method: 'GET', path, headers, scope: scopeOf(id, headers) },
            (name) => UNCHANGED_BY_ROUTES.has(name) && !rewritten(name),
          );
          return hit === undefined ? undefined : cachedResponse(hit);
        },
        get services() {
          return new Set([...Object.keys(core.config.services), ...clients().keys()]);
        },
        upgradeGuards: () => {
          const guard = core.shared.get(kAuth) as Auth | undefined;
          return guard === undefined ? [] : [guard];
        },
        upgradesWanted: () => (core.shared.get(kUpgrades) as () => void)(),
      },
    );
    list.push(instance);
    auditOf(core).watch(instance);
    if (core.state === 'created') core.onStart(() => instance.start());
    else instance.start().catch((error: unknown) => core.report(error, undefined, 'routes.start'));
    core.onClose(() => instance.close());
    return instance;
  }

  /**
   * Request and response validation against an OpenAPI 3.0/3.1 document (`@gatehousejs/openapi`),
   * compiled when the gateway starts (a ConfigError lists every problem of the document). Mount it
   * after auth and rate limits and BEFORE the application's body parsers: it reads the body from the
   * raw request and leaves it for them. With `contractGuard` (the default), the answers of migrated
   * routes' services (`gw.routes()`) are checked too and their violations counted in `/migration`.
   *
   * @example app.use(gw.validate({ document: 'openapi.yaml', responses: { mode: 'report' } }))
   */
  validate(options: OpenApiOptions): M {
    return this.wrap(this.validator(options));
  }

  /** Like {@link validate}, returning the validator itself (`stats()`, `describe()`, events). */
  validator(options: OpenApiOptions): OpenApiValidator {
    const core = this.core;
    const { contractField, OpenApiValidator } = openapiPackage('gw.validate()');
    const instance = new OpenApiValidator(options, { pathPolicy: core.pathPolicy });
    if (core.state === 'created') core.onStart(() => instance.start());
    else instance.start().catch((error: unknown) => core.report(error, undefined, 'validate.start'));
    if (instance.options.contractGuard) {
      const stop = routesPackage('gw.validate() contractGuard').observeRemoteResponses(core, {
        name: instance.name,
        maxBodyBytes: instance.options.responses.maxBodyBytes,
        observe: (response) => instance.checkResponse(response, response)?.map(contractField),
      });
      core.onClose(stop);
    }
    return instance;
  }

  /**
   * The configuration of a gateway built from one (`gatewayFromFile()`, `gatewayFromConfig()`): the
   * configuration in force, `reload()`, its status and events. Undefined for a gateway built in code.
   */
  get configuration(): GatewayConfiguration | undefined {
    return runtimeOf(this);
  }

  /**
   * The audited history of changes to routes (admin writes, reloaded tables, gates, `setMode()`),
   * newest first, which `/migration` shows; emits `'entry'` for each new one.
   */
  get audit(): AdminAudit {
    return auditOf(this.core);
  }

  /**
   * Mounts everything the configuration describes on `app`, in the order the capability READMEs
   * give (tracing, request ids, access log, admin, auth, rate limits, deadline, versioning, OpenAPI
   * validation, routes, compositions), as one middleware that a reload swaps atomically between
   * requests. Koa: `errors()` is mounted first too. Express: add `app.use(gw.errors())` last, after
   * your routes. Only for a gateway built from a configuration.
   *
   * @example
   *   const gw = await gatewayFromFile('gatehouse.yaml');
   *   gw.mount(app);
   */
  mount(app: { use(...middleware: never[]): unknown }): void {
    this.mountOn(app as { use(mw: M): unknown }, this.middleware());
  }

  /** The one native middleware {@link mount} mounts (for an app that mounts it itself). */
  middleware(): M {
    const runtime = runtimeOf(this);
    if (runtime === undefined) {
      throw new TypeError(
        'mount()/middleware() need a gateway built from a configuration: gatewayFromFile() or gatewayFromConfig()',
      );
    }
    return this.wrap(runtime.middleware);
  }

  /** How {@link mount} puts the chain on the app; Koa puts `errors()` in front. */
  protected mountOn(app: { use(mw: M): unknown }, chain: M): void {
    app.use(chain);
  }

  /**
   * Listens on the configuration's `server.port` and `server.host` (default 8080, every address)
   * with `app.listen()` and serves the server (`serve()`); resolves once it listens.
   */
  listen(app: { listen(port: number, host?: string): Server }): Promise<Server> {
    const server = runtimeOf(this)?.loaded.config.server ?? {};
    const listening = app.listen(server.port ?? 8080, ...(server.host === undefined ? [] : [server.host]));
    this.serve(listening);
    return new Promise((resolve, reject) => {
      if (listening.listening) resolve(listening);
      listening.once('listening', () => resolve(listening));
      listening.once('error', reject);
    });
  }

  /** Any neutral middleware (or several, composed in order) bound to this gateway. */
  use(...middleware: Middleware[]): M {
    return this.wrap(middleware.length === 1 ? middleware[0]! : compose(...middleware));
  }

  /** Starts the gateway (runs start hooks); `serve()` calls it for you. */
  start(): Promise<void> {
    return this.core.start();
  }

  /** Answers unparseable requests with problem+json, drains the server on `close()`, starts the gateway. */
  serve<S extends Server>(server: S): S {
    return this.core.serve(server);
  }

  /** Drains in-flight requests (up to the deadline), closes served servers, runs close hooks. */
  close(options?: CloseOptions): Promise<void> {
    return this.core.close(options);
  }

  get state(): GatewayState {
    return this.core.state;
  }

  get ready(): boolean {
    return this.core.ready;
  }
}
