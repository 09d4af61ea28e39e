// The Express adapter (Express 4.21+ and 5): translates between Express and the neutral exchange. It
// decides nothing; every behaviour lives in @gatehousejs/core or a capability package. What differs
// between the two majors is handled here and nowhere else: Express 4 does not catch rejected promises
// (see toExpress), and both report the matched route as `req.baseUrl + req.route.path`.
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  problem,
  type ResolvedConfig,
  type Step,
  unanswered,
  writeRendered,
} from '@gatehousejs/core';
import { FrameworkGateway } from '@gatehousejs/gateway';
import type { Request } from 'express';

/**
 * Express middleware as Gatehouse returns it. Typed on Node's own request and response rather than
 * on @types/express, so that Express 4's and Express 5's declarations both accept it
 * (`app.use(gw.auth())`, `router.get(path, gw.authorize(…), handler)`) whichever @types/express an
 * app has, even two of them in one repository, and the declaration files need none.
 */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Express error-handling middleware (four parameters), typed like {@link ExpressMiddleware}. */
export type ExpressErrorMiddleware = (
  error: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * How core reads Express: the matched route is the mount path plus the route's own path; inside a
 * router mounted at `/api`, Express has cut `/api` from `req.url` into `req.baseUrl`, and has routed.
 */
const EXPRESS: FrameworkInfo = {
  name: 'express',
  matchedRoute(exchange) {
    const req = exchange.req as Request;
    const path = (req.route as { path?: unknown } | undefined)?.path;
    return typeof path === 'string' ? req.baseUrl + path : undefined;
  },
  target(exchange) {
    const req = exchange.req as Request;
    // An absolute-form target (`http://host/api/x`) keeps its scheme and host in req.url under a
    // mount: left as it is, so core refuses it instead of reading '/api' + 'http://host/x' as a path.
    const mounted = typeof req.baseUrl === 'string' && req.baseUrl !== '' && req.url.startsWith('/');
    return mounted ? req.baseUrl + req.url : req.url;
  },
  routed(exchange) {
    const req = exchange.req as Request;
    return (typeof req.baseUrl === 'string' && req.baseUrl !== '') || req.route !== undefined;
  },
};

const exchangeFor = (req: IncomingMessage, res: ServerResponse, gateway: Gateway) =>
  ensureExchange(req, res, gateway, EXPRESS);

function write(res: ServerResponse, step: Exclude<Step, undefined>): void {
  if (step !== HANDLED) writeRendered(res, step);
}

/**
 * Turns a neutral Gatehouse middleware into Express middleware. Without a gateway it runs with the
 * default configuration; `owner` is the gateway object (or its `core`) whose configuration applies.
 *
 * @example
 *   app.use(toExpress({ name: 'hello', onRequest: (ex) => ({ status: 200, body: { path: ex.path } }) }));
 */
export function toExpress(
  mw: Middleware,
  owner: Gateway | { readonly core: Gateway } = defaultGateway(),
): ExpressMiddleware {
  const gateway = 'core' in owner ? owner.core : owner;
  gateway.mount(mw);
  return function gatehouse(req, res, next): void {
    const exchange = exchangeFor(req, res, gateway);
    const step = enter(exchange, mw);
    if (step === undefined) {
      exchange.proceed(next);
    } else if (isThenable<Step>(step)) {
      // Express 4 ignores a rejected promise, and Express 5 catches only one a handler returns: what
      // throws after the await (an answer Node refuses to write, a scope failing as the rest of the
      // request enters it) goes to next(err), to the app's error handlers, exactly once. Once the
      // rest of the chain runs, a second next() would run it twice: the error is only reported.
      let continued = false;
      const fail = (error: unknown): void => {
        if (!continued) next(error);
        else gateway.report(error, exchange, `${mw.name}.onRequest`);
      };
      const onward = (): void => {
        continued = true;
        next();
      };
      step.then((value) => {
        try {
          if (value === undefined) exchange.proceed(onward);
          else write(res, value);
        } catch (error) {
          fail(error);
        }
      }, fail);
    } else {
      write(res, step);
    }
  };
}

/** The gateway object for Express: every method returns Express middleware. */
export class ExpressGateway extends FrameworkGateway<ExpressMiddleware> {
  protected wrap(mw: Middleware): ExpressMiddleware {
    return toExpress(mw, this.core);
  }

  /**
   * Renders what the app did not answer (404) and what it threw (an Error, an http-errors error, a
   * GatehouseError) as problem+json. Mount it LAST: `app.use(gw.errors())`.
   */
  errors(): [ExpressMiddleware, ExpressErrorMiddleware] {
    const gateway = this.core;
    const notFound: ExpressMiddleware = (req, res) => {
      writeRendered(res, unanswered(exchangeFor(req, res, gateway)));
    };
    const onError: ExpressErrorMiddleware = (error, req, res, _next) => {
      const exchange = exchangeFor(req, res, gateway);
      if (res.headersSent) {
        gateway.report(error, exchange, 'handler');
        res.destroy();
        return;
      }
      clearBodyHeaders(res);
      writeRendered(res, problem(exchange, error, 'handler'));
    };
    return [notFound, onError];
  }
}

/**
 * Creates the gateway for an Express app. Throws a `ConfigError` listing every configuration problem.
 *
 * @example
 *   const gw = gateway({ requestId: { header: 'x-request-id' } });
 *   app.use(gw.requestId());
 *   app.use(gw.admin());
 *   app.get('/hello', (req, res) => res.json({ hello: 'world' }));
 *   app.use(gw.errors());
 *   gw.serve(app.listen(3000));
 */
export function gateway(
  config?: GatewayConfig | ResolvedConfig | Gateway,
  options?: GatewayOptions,
): ExpressGateway {
  return new ExpressGateway(config, options);
}
