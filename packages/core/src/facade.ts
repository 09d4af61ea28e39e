// The shape shared by the framework gateway objects: every capability method is declared once, here,
// and each adapter supplies only `wrap` (neutral middleware → native middleware).
import type { Server } from 'node:http';
import type { AdminOptions } from './admin.js';
import type { GatewayConfig, ResolvedConfig } from './config/index.js';
import { type CloseOptions, Gateway, type GatewayOptions, type GatewayState } from './gateway.js';
import { compose, type Middleware } from './middleware.js';
import type { RequestIdOptions } from './request-id.js';

/**
 * Base class of `gateway()` in `@gatehouse/express` and `@gatehouse/koa`. `M` is the framework's
 * native middleware type.
 */
export abstract class FrameworkGateway<M> {
  /** The framework-neutral gateway underneath. */
  readonly core: Gateway;

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

  /** `GET /health` and `GET /ready` (under `admin.prefix`). */
  admin(options?: AdminOptions): M {
    return this.wrap(this.core.admin(options));
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
