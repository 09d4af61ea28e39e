// The options of tracing(), its metrics and accessLog() as valibot schemas (exported for a
// configuration-wide JSON Schema), checked once through core's parseOptions: every problem, at every
// depth, in one ConfigError with its path and a did-you-mean.
import { isHeaderName, objectOption, type TypesAgree, withCrossCheck } from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import * as v from 'valibot';
import type { AccessLogger, AccessLogOptions } from './access-log.js';
import type { MetricsOptions } from './metrics.js';
import type { PropagatorName, TracingOptions } from './tracing.js';

const PROPAGATOR_NAMES = [
  'tracecontext',
  'baggage',
  'b3',
  'b3multi',
] as const satisfies readonly PropagatorName[];

/** Options of the gateway's metrics (`tracing({ metrics })`). */
export const metricsOptionsSchema = v.strictObject({
  meterProvider: v.optional(objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter'])),
  prometheus: v.optional(v.boolean()),
});

/** Options of `tracing()` / `gw.tracing()` / `tracingFor()`. */
export const tracingOptionsSchema = v.strictObject({
  propagators: v.optional(
    withCrossCheck(v.array(v.picklist(PROPAGATOR_NAMES)), (names, report) => {
      if (!Array.isArray(names)) return;
      const first = new Map<unknown, number>();
      for (const [i, name] of (names as unknown[]).entries()) {
        const earlier = first.get(name);
        if (earlier === undefined) first.set(name, i);
        else report([i], `'${String(name)}' is listed twice (already at [${earlier}])`);
      }
      if (first.has('b3') && first.has('b3multi'))
        report(
          [],
          "choose one of 'b3' (the single b3 header) and 'b3multi' (X-B3-* headers): both read either",
        );
    }),
  ),
  traceResponseHeader: v.optional(v.boolean()),
  metrics: v.optional(metricsOptionsSchema),
});

const headerName = v.pipe(v.string(), v.check(isHeaderName, 'expected a header name'));

/** Options of `accessLog()` / `gw.accessLog()`. */
export const accessLogOptionsSchema = withCrossCheck(
  v.strictObject({
    logger: v.optional(
      objectOption<AccessLogger>('a logger with an info(obj, msg) method (pino, for one)', ['info']),
    ),
    destination: v.optional(
      v.union(
        [v.pipe(v.string(), v.minLength(1)), v.pipe(v.number(), v.safeInteger(), v.minValue(0))],
        'expected a file path or a file descriptor',
      ),
    ),
    headers: v.optional(v.array(headerName)),
    redact: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
    queryParameters: v.optional(v.array(v.string())),
    message: v.optional(v.string()),
  }),
  (value, report) => {
    if (typeof value === 'object' && value !== null) {
      const { logger, destination } = value as Record<string, unknown>;
      if (logger !== undefined && destination !== undefined)
        report(['destination'], "not allowed with 'logger' (it sets where the default pino logger writes)");
    }
  },
);

// The hand-written option types are what users read (with their TSDoc); these lines keep them and the
// schemas in step: what the types allow, the schemas accept, and the other way round. valibot infers
// mutable arrays where the types say readonly (readonly is a type matter only), so both sides are
// compared with readonly removed.
const typesAgree: [
  TypesAgree<v.InferInput<typeof metricsOptionsSchema>, MetricsOptions>,
  TypesAgree<v.InferInput<typeof tracingOptionsSchema>, TracingOptions>,
  TypesAgree<v.InferInput<typeof accessLogOptionsSchema>, AccessLogOptions>,
] = [true, true, true];
void typesAgree;
