// The Koa adapter (Koa 2.15+ and 3): translates between Koa and the neutral exchange. It decides
// nothing; every behaviour lives in @gatehousejs/core or a capability package.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import {
  clearBodyHeaders,
  defaultGateway,
  ensureExchange,
  enter,
  type FrameworkInfo,
  type Gateway,
  type GatewayConfig,
  type GatewayOptions,
  HANDLED,
  isThenable,
  type Middleware,
  normalizePath,
  problem,
  type ResolvedConfig,
  type Step,
  unanswered,
  writeRendered,
} from '@gatehousejs/core';
import { FrameworkGateway, type GatewayAdminOptions } from '@gatehousejs/gateway';
import type { Context } from 'koa';

/** The part of a Koa context {@link KoaMiddleware}'s type names; Koa's own (2 or 3) and @koa/router's fit. */
export interface KoaContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/**
 * Koa middleware as Gatehouse returns it. Typed without @types/koa, so that Koa 2's and Koa 3's
 * declarations (and @koa/router's) both accept it, whichever @types/koa an app has, even two of them
 * in one repository, and the declaration files need none.
 */
export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<unknown>) => Promise<unknown> | undefined;

/** What core reads on a Koa context: @koa/router's records and koa-mount's. */
interface RoutedContext {
  /** @koa/router: the matched template. */
  _matchedRoute?: unknown;
  /** @koa/router: the layers a router matched (set, possibly empty, once a router dispatched). */
  matched?: unknown;
  /** koa-mount: the prefix it cut from `ctx.path` (and so from `req.url`). */
  mountPath?: unknown;
  originalUrl?: unknown;
}

/**
 * How core reads Koa: @koa/router records the matched template and the layers it matched on the
 * context (it never cuts its prefix from the path); koa-mount cuts its prefix from `req.url`, and
 * `ctx.originalUrl` keeps the whole target.
 */
const KOA: FrameworkInfo = {
  name: 'koa',
  matchedRoute(exchange) {
    const route = (exchange.native as RoutedContext | undefined)?._matchedRoute;
    return typeof route === 'string' ? route : undefined;
  },
  target(exchange) {
    const ctx = exchange.native as RoutedContext | undefined;
    const url = exchange.req.url ?? '/';
    return typeof ctx?.mountPath === 'string' && typeof ctx.originalUrl === 'string' ? ctx.originalUrl : url;
  },
  routed(exchange) {
    const ctx = exchange.native as RoutedContext | undefined;
    return ctx !== undefined && (ctx.matched !== undefined || typeof ctx.mountPath === 'string');
  },
};

const exchangeFor = (ctx: Context, gateway: Gateway) => ensureExchange(ctx.req, ctx.res, gateway, KOA, ctx);

function respond(ctx: Context, step: Exclude<Step, undefined>): void {
  if (step === HANDLED) {
    ctx.respond = false;
    return;
  }
  try {
    ctx.status = step.status;
  } catch {
    // Koa refuses status codes it has no reason phrase for; write those on the raw response.
    ctx.respond = false;
    writeRendered(ctx.res, step);
    return;
  }
  for (const name of Object.keys(step.headers)) ctx.set(name, step.headers[name]!);
  ctx.body = step.body;
}

/**
 * Turns a neutral Gatehouse middleware into Koa middleware. Without a gateway it runs with the
 * default configuration; `owner` is the gateway object (or its `core`) whose configuration applies.
 *
 * @example
 *   app.use(toKoa({ name: 'hello', onRequest: (ex) => ({ status: 200, body: { path: ex.path } }) }));
 */
export function toKoa(
  mw: Middleware,
  owner: Gateway | { readonly core: Gateway } = defaultGateway(),
): KoaMiddleware {
  const gateway = 'core' in owner ? owner.core : owner;
  gateway.mount(mw);
  return function gatehouse(context, next) {
    const ctx = context as Context;
    const exchange = exchangeFor(ctx, gateway);
    const step = enter(exchange, mw);
    if (step === undefined) return exchange.proceed(next);
    if (isThenable<Step>(step)) {
      return Promise.resolve(step).then((value) =>
        value === undefined ? exchange.proceed(next) : respond(ctx, value),
      );
    }
    respond(ctx, step);
    return undefined;
  };
}

/** The gateway object for Koa: every method returns Koa middleware. */
export class KoaGateway extends FrameworkGateway<KoaMiddleware> {
  protected wrap(mw: Middleware): KoaMiddleware {
    return toKoa(mw, this.core);
  }

  /**
   * See `FrameworkGateway.admin`. Mount it on the app (`app.use(gw.admin())`) or on a `@koa/router`
   * router (`router.use(gw.admin())`); on a router, set `prefix` to the router's prefix.
   */
  override admin(options?: GatewayAdminOptions): KoaMiddleware {
    const neutral = this.adminMiddleware(options) as Middleware & { handles?(path: string): boolean };
    const native = this.wrap(neutral);
    const gateway = this.core;
    const handles = (path: string): boolean => {
      try {
        return neutral.handles?.(normalizePath(path, gateway.pathPolicy)) ?? false;
      } catch {
        return false;
      }
    };
    let router: unknown;
    // @koa/router runs a router's use() middleware only for paths one of its routes matches, so a
    // router holding nothing but gw.admin() answered 404. It mounts a middleware that carries a
    // `router` as a nested router instead: this one has a single route, for every method, whose match
    // is exactly "an admin path" (read at each request, so endpoints added later are served too).
    Object.defineProperty(native, 'router', {
      configurable: true,
      enumerable: false,
      get() {
        if (router === undefined) router = adminRouter(native, handles);
        return router ?? undefined;
      },
    });
    return native;
  }

  /**
   * Renders what the app did not answer (404) and what it threw (an Error, `ctx.throw()`, a
   * GatehouseError) as problem+json. Mount it FIRST: `app.use(gw.errors())`.
   */
  errors(): KoaMiddleware {
    const gateway = this.core;
    const failed = (ctx: Context, error: unknown): void => {
      const exchange = exchangeFor(ctx, gateway);
      if (ctx.headerSent) {
        gateway.report(error, exchange, 'handler');
        ctx.res.destroy();
        return;
      }
      clearBodyHeaders(ctx.res);
      respond(ctx, problem(exchange, error, 'handler'));
    };
    const answered = (ctx: Context): void => {
      if (ctx.status === 404 && ctx.body == null && ctx.respond !== false && !ctx.headerSent) {
        respond(ctx, unanswered(exchangeFor(ctx, gateway)));
      }
    };
    // A plain function rather than async/await, and the exchange only when an answer needs it: this
    // wraps every request (bench/RESULTS.md).
    return function gatehouseErrors(context, next) {
      const ctx = context as Context;
      return next().then(
        () => answered(ctx),
        (error: unknown) => failed(ctx, error),
      );
    };
  }
}

const requireHere = createRequire(import.meta.url);

// A @koa/router router with one route whose `match` is `handles`; null when @koa/router is not
// installed (then `router.use()` cannot be served, and `app.use()` still works). The route is made by
// @koa/router itself and only its `match` is replaced (an own property, which @koa/router keeps when
// it copies a nested router's routes), so its other fields stay right for that version.
function adminRouter(native: KoaMiddleware, handles: (path: string) => boolean): unknown {
  let Router: new () => {
    all(path: string, mw: KoaMiddleware): unknown;
    stack: Array<Record<string, unknown>>;
  };
  try {
    const loaded = requireHere('@koa/router') as { default?: unknown; Router?: unknown };
    Router = (loaded.Router ?? loaded.default ?? loaded) as typeof Router;
  } catch {
    return null;
  }
  const router = new Router();
  router.all('/', native);
  const layer = router.stack[router.stack.length - 1]!;
  layer['match'] = (path: string) => handles(path);
  return router;
}

/**
 * Creates the gateway for a Koa app. Throws a `ConfigError` listing every configuration problem.
 *
 * @example
 *   const gw = gateway({});
 *   app.use(gw.errors());
 *   app.use(gw.requestId());
 *   app.use(gw.admin());
 *   app.use((ctx) => { ctx.body = { hello: 'world' }; });
 *   gw.serve(app.listen(3000));
 */
export function gateway(
  config?: GatewayConfig | ResolvedConfig | Gateway,
  options?: GatewayOptions,
): KoaGateway {
  return new KoaGateway(config, options);
}
