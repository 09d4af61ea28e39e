// The one place a middleware's request phase is run, for both adapters: hook tracking, the edge
// rejection of invalid paths, async detection, and errors turned into problem details.
import { isGatehouseError, NotFound } from './errors.js';
import type { Exchange } from './exchange.js';
import { HANDLED, isThenable, type Middleware, type RequestResult } from './middleware.js';
import { type RenderedResponse, renderProblem, renderReply, toGatehouseError } from './problem.js';

/** What an adapter does next: continue (undefined), write a rendered response, or nothing (HANDLED). */
export type Step = undefined | RenderedResponse | typeof HANDLED;

/**
 * Runs `mw.onRequest` for an exchange. Never throws and never rejects: an error becomes a rendered
 * problem. Synchronous middleware return synchronously, so the common path allocates no promise.
 */
export function enter(exchange: Exchange, mw: Middleware): Step | Promise<Step> {
  if (exchange.rejection !== undefined) return refuse(exchange, mw);
  exchange.track(mw);
  if (mw.onRequest === undefined) return undefined;
  let result: RequestResult | Promise<RequestResult>;
  try {
    result = mw.onRequest(exchange) as RequestResult | Promise<RequestResult>;
  } catch (error) {
    return problem(exchange, error, mw);
  }
  if (result === undefined) return undefined;
  if (isThenable<RequestResult>(result)) {
    return Promise.resolve(result).then(
      (value) => afterRequest(exchange, value, mw),
      (error: unknown) => problem(exchange, error, mw),
    );
  }
  return afterRequest(exchange, result, mw);
}

function afterRequest(_exchange: Exchange, result: RequestResult, _mw: Middleware): Step {
  if (result === undefined) return undefined;
  if (result === HANDLED) return HANDLED;
  return renderReply(result);
}

/**
 * A request refused at the edge (an invalid path): the first Gatehouse middleware it meets runs every
 * `alwaysRun` middleware of the gateway (this one first if it is one, then the others in mount order,
 * each once) so the refusal carries a request id and gets a span and a log line, then writes it.
 * Their answers are ignored: the refusal stands.
 */
function refuse(exchange: Exchange, mw: Middleware): Step | Promise<Step> {
  const pending = mw.alwaysRun === true ? [mw, ...exchange.runtime.alwaysRun] : exchange.runtime.alwaysRun;
  const run = (from: number): Step | Promise<Step> => {
    for (let i = from; i < pending.length; i++) {
      const each = pending[i]!;
      if (exchange.ranOnRefusal(each)) continue;
      exchange.track(each);
      let result: unknown;
      try {
        result = each.onRequest?.(exchange);
      } catch (error) {
        exchange.runtime.report(error, exchange, `${each.name}.onRequest`);
      }
      if (isThenable(result)) {
        return Promise.resolve(result).then(
          () => run(i + 1),
          (error: unknown) => {
            exchange.runtime.report(error, exchange, `${each.name}.onRequest`);
            return run(i + 1);
          },
        );
      }
    }
    if (mw.alwaysRun !== true) exchange.track(mw);
    return problem(exchange, exchange.rejection, mw);
  };
  return run(0);
}

/**
 * Renders an error for this exchange, reporting it first when it is the server's fault. `source` names
 * where it came from in reports: a middleware, or a phase name such as 'handler'.
 */
export function problem(exchange: Exchange, error: unknown, source?: Middleware | string): RenderedResponse {
  const err = toGatehouseError(error);
  // A GatehouseError is an answer chosen on purpose (not ready, upstream down); anything else that
  // ends in a 5xx is a fault worth reporting.
  if (err.status >= 500 && !isGatehouseError(error))
    exchange.runtime.report(error, exchange, phaseOf(source));
  exchange.failure = error;
  exchange.problemCode = err.code;
  const options = exchange.runtime.problems;
  // The exchange goes to an application's renderer (it decides by path or Accept); none, no copy.
  return renderProblem(
    err,
    exchange.requestId,
    options.render === undefined ? options : { ...options, exchange },
  );
}

function phaseOf(source: Middleware | string | undefined): string {
  if (source === undefined) return 'request';
  return typeof source === 'string' ? source : `${source.name}.onRequest`;
}

/** The 404 problem for a request nothing answered; both adapters' `errors()` send exactly this. */
export function unanswered(exchange: Exchange): RenderedResponse {
  return problem(exchange, new NotFound(`No handler for ${exchange.method} ${exchange.path}`));
}
