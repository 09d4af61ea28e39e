// aggregate(): a BFF screen endpoint as one neutral middleware. The composition is compiled when the
// factory runs (options checked, templates parsed, the call graph checked for cycles and unknown
// references); a matching request runs it and gets the composed JSON, or one problem listing every
// failed call.
import { type Exchange, HANDLED, type Middleware, parseOptions } from '@gatehousejs/core';
import { type Composition, type CompositionRuntime, compileComposition, runComposition } from './compose.js';
import { type AggregateOptions, aggregateOptionsSchema } from './options.js';

/** The neutral middleware of a composition, with its compiled form for diagnostics. */
export interface Aggregate extends Middleware {
  readonly composition: Composition;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** `/screens/orders/:id` → a function from a normalized path to its parameters (or undefined). */
function paramMatcher(
  pattern: string,
  caseSensitive: boolean,
): (path: string) => Record<string, string> | undefined {
  const segments = pattern.split('/').slice(1);
  for (const segment of segments) {
    if (segment === '.' || segment === '..' || segment === '*')
      throw new TypeError(`aggregate: path '${pattern}' may hold literal and ':name' segments only`);
  }
  const fold = (s: string) => (caseSensitive ? s : s.toLowerCase());
  return (path) => {
    const parts = path.split('/').slice(1);
    if (parts.length !== segments.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const want = segments[i]!;
      const got = parts[i]!;
      const param = PARAM.exec(want);
      if (param !== null) {
        if (got === '') return undefined;
        params[param[1]!] = got;
      } else if (fold(want) !== fold(got)) return undefined;
    }
    return params;
  };
}

/**
 * A composition of calls to services as a middleware: mount it with `app.use()` (it answers requests
 * matching `path` and `methods`) or on a route of your own (without `path`, it answers every request
 * that reaches it). Requires the gateway's runtime (`gw.aggregate()` supplies it).
 *
 * @throws ConfigError listing every problem in the options and the call graph.
 */
export function aggregate(
  options: AggregateOptions,
  runtime: CompositionRuntime & { services?: (name: string) => boolean; caseSensitive?: boolean },
): Aggregate {
  const resolved = parseOptions(aggregateOptionsSchema, options, { name: 'aggregate' });
  const composition = compileComposition(resolved, runtime.services, 'aggregate');
  const match =
    resolved.path === undefined ? () => ({}) : paramMatcher(resolved.path, runtime.caseSensitive ?? false);
  const methods = new Set<string>(resolved.methods);
  return {
    name: `aggregate(${resolved.name})`,
    composition,
    onRequest(exchange: Exchange) {
      if (!methods.has(exchange.method)) return undefined;
      const params = match(exchange.path);
      if (params === undefined) return undefined;
      exchange.matchedRoute = resolved.path;
      return runComposition(composition, exchange, params, runtime).catch((error: unknown) => {
        if (exchange.res.destroyed || exchange.signal.aborted) return HANDLED;
        throw error;
      });
    },
  };
}
