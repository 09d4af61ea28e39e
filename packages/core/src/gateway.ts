// The Gateway: configuration validated once, the compiled per-request runtime, named services, shared
// state, and the lifecycle (start → ready → draining → closed) with in-flight accounting.

import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import * as v from 'valibot';
import {
  type AdminEndpoint,
  type AdminEndpointEntry,
  type AdminEndpointOptions,
  type AdminOptions,
  admin,
  endpointMethods,
} from './admin.js';
import { createProxyTrust, type ProxyTrust } from './client-ip.js';
import { type GatewayConfig, type ResolvedConfig, resolveConfig } from './config/index.js';
import {
  DependencyRecovered,
  isGatehouseError,
  RequestHeadersTooLarge,
  RequestMalformed,
  RequestTimeout,
} from './errors.js';
import { errorChannel, lifecycleChannel, requestFinishChannel, requestStartChannel } from './events.js';
import type { Exchange, ExchangeRuntime } from './exchange.js';
import { createHeaderHygiene, type HeaderHygiene } from './headers.js';
import type { Middleware } from './middleware.js';
import { functionOption, objectOption, Problems, parseOptions } from './options.js';
import type { PathPolicy } from './path.js';
import {
  type ProblemOptions,
  type ProblemRenderer,
  renderedBodyBytes,
  renderProblem,
  writeRenderedToSocket,
} from './problem.js';
import { type RequestIdOptions, requestId } from './request-id.js';
import { hardenServer, type RequestLimits } from './request-limits.js';

/** Where a gateway is in its life. */
export type GatewayState = 'created' | 'starting' | 'ready' | 'draining' | 'closed';

/** Options that are code, not configuration. */
export interface GatewayOptions {
  /**
   * Called for errors that are not the client's fault (a 5xx, a failing hook). Default: one line on
   * stderr unless someone subscribes to the `gatehouse:error` diagnostics channel.
   */
  onError?: (error: unknown, context: { exchange: Exchange | undefined; phase: string }) => void;
  /**
   * Where the gateway logs what it reports (faults, and the outages and recoveries of dependencies such
   * as a JWKS endpoint or Redis, each once): any logger with pino's `error(obj, msg)` and
   * `info(obj, msg)`, pino itself included. `obj` has `err` (with its `cause`), `phase` and, for a
   * request, `requestId`. Default: one line on stderr per report, unless `onError` is given or
   * someone subscribes to `gatehouse:error`.
   */
  logger?: GatewayLogger;
  /**
   * How refusals are rendered, beyond the configuration's `problems.typeBase`. `render` answers
   * refusals in the application's own error format (an application migrating to Gatehouse whose
   * clients expect `{"errors":{…}}`): see {@link ProblemRenderer}. Such answers are not RFC 9457, by
   * your choice; status, headers and codes are unchanged. A renderer that throws or returns something
   * unusable is reported (phase `problems.render`) and the problem document is sent.
   *
   * @example
   *   gateway(config, {
   *     problems: {
   *       render: (problem, exchange) =>
   *         exchange?.rawPath.startsWith('/api/') ? { body: { errors: { body: [problem.detail] } } } : undefined,
   *     },
   *   })
   */
  problems?: { render?: ProblemRenderer };
}

/** The logger shape {@link GatewayOptions.logger} accepts (pino's). */
export interface GatewayLogger {
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** The valibot schema the gateway's own options are checked against when it is made. */
export const gatewayOptionsSchema = v.strictObject({
  onError: v.optional(
    functionOption<NonNullable<GatewayOptions['onError']>>('a function (error, { exchange, phase }) => void'),
  ),
  logger: v.optional(
    objectOption<GatewayLogger>('a logger with error(obj, msg) and info(obj, msg) (pino, for one)', [
      'error',
      'info',
    ]),
  ),
  problems: v.optional(
    v.strictObject({
      render: v.optional(
        functionOption<ProblemRenderer>(
          'a function (problem, exchange) => { body, contentType? } | undefined',
        ),
      ),
    }),
  ),
});

/** Options of {@link Gateway.close}. */
export interface CloseOptions {
  /** How long in-flight requests may take before their connections are cut. Default: `shutdown.drainTimeoutMs`. */
  deadlineMs?: number;
  /** How long `/ready` answers 503 before servers stop accepting. Default: `shutdown.readinessGraceMs`. */
  readinessGraceMs?: number;
}

type Hook = () => void | Promise<void>;

const DRAIN_SWEEP_MS = 25;

/**
 * The framework-neutral gateway. Adapters wrap it (`gateway()` from `@gatehousejs/express` or
 * `@gatehousejs/koa`); use it directly only to write a new adapter or a capability package.
 */
export class Gateway implements ExchangeRuntime {
  readonly config: ResolvedConfig;
  readonly pathPolicy: PathPolicy;
  readonly proxyTrust: ProxyTrust;
  readonly headerHygiene: HeaderHygiene;
  readonly problems: ProblemOptions;
  /** The limits every exchange checks (from `limits`). */
  readonly requestLimits: RequestLimits;
  /** State shared by the capabilities of this gateway (limiter stores, caches, clients). */
  readonly shared = new Map<string | symbol, unknown>();

  #state: GatewayState = 'created';
  #adminEndpoints = new Map<string, AdminEndpointEntry>();
  #alwaysRun: Middleware[] = [];
  #servers = new Set<Server>();
  #startHooks: Hook[] = [];
  #closeHooks: Hook[] = [];
  #serveHooks: ((server: Server) => void)[] = [];
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #onError: GatewayOptions['onError'];
  #logger: GatewayLogger | undefined;

  /** Validates the configuration; throws a `ConfigError` listing every problem. */
  constructor(config: GatewayConfig | ResolvedConfig = {}, options: GatewayOptions = {}) {
    // The configuration and the gateway's own options are reported together, in one ConfigError.
    const problems = new Problems('gateway');
    let resolved: ResolvedConfig | undefined;
    let checked: GatewayOptions = {};
    try {
      resolved = resolveConfig(config);
    } catch (error) {
      problems.merge(error);
    }
    try {
      checked = parseOptions(gatewayOptionsSchema, options, { name: 'gateway' });
    } catch (error) {
      problems.merge(error);
    }
    problems.throwIfAny();
    this.config = resolved!;
    this.pathPolicy = this.config.paths;
    this.proxyTrust = createProxyTrust(this.config.clientIp);
    this.headerHygiene = createHeaderHygiene(this.config.headers);
    const render = checked.problems?.render;
    this.problems =
      render === undefined
        ? this.config.problems
        : { ...this.config.problems, render: this.#guarded(render) };
    this.requestLimits = { maxHeaders: this.config.limits.maxHeaders };
    this.#onError = checked.onError;
    this.#logger = checked.logger;
  }

  /**
   * The application's renderer, checked on every use: what it throws, or an answer that cannot be sent,
   * is reported and leaves the problem document in place (a refusal is never lost to a renderer bug).
   */
  #guarded(render: ProblemRenderer): ProblemRenderer {
    return (problem, exchange) => {
      try {
        const rendered = render(problem, exchange);
        if (rendered === undefined) return undefined;
        const { body, contentType } = renderedBodyBytes(rendered);
        return { body, contentType };
      } catch (error) {
        this.report(error, exchange, 'problems.render');
        return undefined;
      }
    };
  }

  /** The current state; `/ready` answers 200 only in 'ready'. */
  get state(): GatewayState {
    return this.#state;
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  get draining(): boolean {
    return this.#state === 'draining' || this.#state === 'closed';
  }

  /**
   * This process's secret for requests the gateway sends to itself (the migration controller's noise
   * samples): sent in {@link INTERNAL_REQUEST_HEADER}, it makes the exchange `internal`.
   */
  readonly internalSecret: string = randomBytes(24).toString('hex');

  /** The names of the configured services. */
  get services(): readonly string[] {
    return Object.keys(this.config.services);
  }

  get alwaysRun(): readonly Middleware[] {
    return this.#alwaysRun;
  }

  /**
   * Called by the adapters for every middleware they wrap for this gateway: remembers the `alwaysRun`
   * ones so a refused request runs them all (see `ExchangeRuntime.alwaysRun`).
   */
  mount(mw: Middleware): void {
    if (mw.alwaysRun === true && !this.#alwaysRun.includes(mw)) this.#alwaysRun.push(mw);
  }

  /** Endpoints added to `gw.admin()` by capabilities, by path (below the admin prefix). */
  get adminEndpoints(): ReadonlyMap<string, AdminEndpointEntry> {
    return this.#adminEndpoints;
  }

  /**
   * Adds an endpoint to `gw.admin()` under the admin prefix, e.g. `/metrics`: the way every capability
   * publishes an admin page or action. It answers GET (and HEAD) unless `options.methods` says
   * otherwise, only to callers the admin access policy admits (nobody by default), and its handler
   * gets the `AdminView` saying what it may show. Paths (`/` and lower-case letters, digits, `-`, `_`)
   * are unique; `/health` and `/ready` are taken. Works whether `gw.admin()` was mounted before or after.
   *
   * @example
   *   gw.core.addAdminEndpoint('/cache', (exchange, view) => ({ status: 200, body: cache.stats() }));
   *   gw.core.addAdminEndpoint('/cache/flush', () => { cache.clear(); return { status: 204 }; }, { methods: ['POST'] });
   */
  addAdminEndpoint(path: string, handler: AdminEndpoint, options?: AdminEndpointOptions): void {
    if (!/^\/[a-z0-9/_-]+$/.test(path) || path === '/health' || path === '/ready' || path.endsWith('/')) {
      throw new TypeError(`addAdminEndpoint: invalid or reserved path '${path}'`);
    }
    if (typeof handler !== 'function')
      throw new TypeError('addAdminEndpoint: the handler must be a function');
    const key = this.pathPolicy.caseSensitive ? path : path.toLowerCase();
    if (this.#adminEndpoints.has(key))
      throw new TypeError(`addAdminEndpoint: '${path}' is already registered`);
    this.#adminEndpoints.set(key, { handle: handler, methods: endpointMethods(options) });
  }

  /** Registers work to finish before the gateway is ready (connect a store, resolve services). */
  onStart(hook: Hook): void {
    if (this.#state !== 'created')
      throw new Error(`onStart() after the gateway left 'created' (${this.#state})`);
    this.#startHooks.push(hook);
  }

  /** Registers clean-up run after draining, in reverse order of registration. */
  onClose(hook: Hook): void {
    this.#closeHooks.push(hook);
  }

  /**
   * Calls `hook` with every server this gateway serves: now for those already served, later for each
   * new one (capabilities that listen on the server itself, such as WebSocket upgrades).
   */
  onServe(hook: (server: Server) => void): void {
    this.#serveHooks.push(hook);
    for (const server of this.#servers) hook(server);
  }

  /** The servers handed to {@link serve}, still open. */
  get servers(): readonly Server[] {
    return [...this.#servers];
  }

  /** Runs the start hooks once; the gateway is ready when they have all resolved. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#setState('starting');
    for (const hook of this.#startHooks) await hook();
    if (this.#state === 'starting') this.#setState('ready');
  }

  /**
   * Takes charge of an HTTP server: malformed requests that never reach a framework (bad request
   * lines, oversized headers, timeouts) get a problem+json answer, and `close()` drains it. Starts the
   * gateway. Returns the server.
   */
  serve<S extends Server>(server: S): S {
    if (this.#servers.has(server)) return server;
    this.#servers.add(server);
    hardenServer(server, this.config.limits);
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.#clientError(error, socket),
    );
    for (const hook of this.#serveHooks) hook(server);
    this.start().catch((error: unknown) => this.report(error, undefined, 'start'));
    return server;
  }

  /**
   * Drains and stops: `/ready` turns 503 and new responses carry `Connection: close`; after the
   * readiness grace (default 0) served servers stop accepting; in-flight requests get until the
   * deadline, then remaining connections are cut and the close hooks run. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    const { drainTimeoutMs, readinessGraceMs } = this.config.shutdown;
    this.#closing ??= this.#close(
      options.deadlineMs ?? drainTimeoutMs,
      options.readinessGraceMs ?? readinessGraceMs,
    );
    return this.#closing;
  }

  async #close(deadlineMs: number, graceMs: number): Promise<void> {
    this.#setState('draining');
    // Still accepting: probes can see /ready turn 503 and take the instance out of rotation.
    if (graceMs > 0 && this.#servers.size > 0) await new Promise((resolve) => setTimeout(resolve, graceMs));
    const servers = [...this.#servers];
    const closed = Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    // A connection whose response is still being written is busy; once it goes idle it is closed on
    // the next sweep. Watching the connections instead of counting requests keeps the request path
    // free of per-request listeners.
    const sweep = setInterval(() => {
      for (const server of servers) server.closeIdleConnections();
    }, DRAIN_SWEEP_MS);
    for (const server of servers) server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([closed, deadline]);
    clearInterval(sweep);
    clearTimeout(timer);
    for (const server of servers) server.closeAllConnections();
    for (const hook of [...this.#closeHooks].reverse()) {
      try {
        await hook();
      } catch (error) {
        this.report(error, undefined, 'close');
      }
    }
    this.#setState('closed');
  }

  /** The request-id middleware, with this gateway's `requestId` configuration as defaults. */
  requestId(options: RequestIdOptions = {}): Middleware {
    return requestId({ ...this.config.requestId, ...options });
  }

  /**
   * `/health` and `/ready` for this gateway, open to all, and the endpoints capabilities add, behind
   * the `admin.access` policy (nobody by default) and showing what `admin.reveal` allows.
   */
  admin(options: AdminOptions = {}): Middleware {
    const { access, reveal, prefix } = this.config.admin;
    return admin(this, {
      prefix: options.prefix ?? prefix,
      access: { ...access, ...options.access },
      reveal: { ...reveal, ...options.reveal },
    });
  }

  exchangeStarted(exchange: Exchange): void {
    if (requestStartChannel.hasSubscribers) requestStartChannel.publish({ exchange });
  }

  exchangeEnded(exchange: Exchange): void {
    if (requestFinishChannel.hasSubscribers) requestFinishChannel.publish({ exchange });
  }

  get watchEveryExchange(): boolean {
    return requestFinishChannel.hasSubscribers;
  }

  /**
   * Reports what is not the client's fault: on `gatehouse:error`, to `onError` and to the logger; with
   * none of them, one line on stderr. A dependency's recovery (`GH_DEPENDENCY_RECOVERED`) is logged
   * at `info`. Never throws.
   */
  report(error: unknown, exchange: Exchange | undefined, phase: string): void {
    try {
      const subscribed = errorChannel.hasSubscribers;
      if (subscribed) errorChannel.publish({ error, exchange, phase });
      if (this.#onError) this.#onError(error, { exchange, phase });
      const recovered = isGatehouseError(error) && error.code === DependencyRecovered.spec.code;
      if (this.#logger) {
        const obj = { err: error, phase, ...(exchange?.requestId ? { requestId: exchange.requestId } : {}) };
        const msg = error instanceof Error ? error.message : String(error);
        if (recovered) this.#logger.info(obj, msg);
        else this.#logger.error(obj, msg);
      } else if (!this.#onError && !subscribed) {
        process.stderr.write(
          `gatehouse: ${recovered ? 'notice' : 'error'} in ${phase}: ${describe(error)}\n`,
        );
      }
    } catch {
      // Reporting must never turn into a second failure.
    }
  }

  /**
   * Logs what is worth keeping and is no fault (an audited admin change, a configuration reload):
   * `info(obj, msg)` on the logger; without one, `obj` and `msg` as one JSON line on stderr. Never throws.
   */
  log(obj: object, msg: string): void {
    try {
      if (this.#logger) this.#logger.info(obj, msg);
      else process.stderr.write(`${JSON.stringify({ level: 'info', time: Date.now(), ...obj, msg })}\n`);
    } catch {
      // A log line must never turn into a failure of what it records.
    }
  }

  #setState(state: GatewayState): void {
    this.#state = state;
    if (lifecycleChannel.hasSubscribers) lifecycleChannel.publish({ gateway: this, state });
  }

  // Node answers a request it cannot parse before any framework sees it; answer with a problem
  // instead of a bare status line, and never write into a response that is already under way.
  #clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
      socket.destroy();
      return;
    }
    const id = randomUUID();
    const rendered = renderProblem(clientErrorFor(error), id, this.problems);
    writeRenderedToSocket(socket, rendered, { [this.config.requestId.header]: id });
  }
}

// The stack, and the cause's message: an outage report names what actually failed.
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const text = error.stack ?? error.message;
  const cause = error.cause;
  return cause === undefined
    ? text
    : `${text}\n  caused by: ${cause instanceof Error ? cause.message : String(cause)}`;
}

function clientErrorFor(error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new RequestHeadersTooLarge('The request headers exceed the server limit');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new RequestTimeout('The request was not received in time');
    default:
      return new RequestMalformed('The request could not be parsed as HTTP/1.1');
  }
}

let fallback: Gateway | undefined;

/** The gateway used by `toExpress(mw)` / `toKoa(mw)` when none is given: defaults, already started. */
export function defaultGateway(): Gateway {
  if (fallback === undefined) {
    fallback = new Gateway({});
    void fallback.start();
  }
  return fallback;
}
