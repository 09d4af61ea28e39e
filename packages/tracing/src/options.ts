// The options of tracing(), its metrics and accessLog() as zod schemas (exported for a
// configuration-wide JSON Schema), checked once through core's parseOptions: every problem, at every
// depth, in one ConfigError with its path and a did-you-mean.
import { isHeaderName, objectOption, withCrossCheck } from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import { z } from 'zod';
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
export const metricsOptionsSchema = z.strictObject({
  meterProvider: objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter']).optional(),
  prometheus: z.boolean().optional(),
});

/** Options of `tracing()` / `gw.tracing()` / `tracingFor()`. */
export const tracingOptionsSchema = z.strictObject({
  propagators: withCrossCheck(z.array(z.enum(PROPAGATOR_NAMES)).readonly(), (names, report) => {
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
  }).optional(),
  traceResponseHeader: z.boolean().optional(),
  metrics: metricsOptionsSchema.optional(),
});

const headerName = z.string().refine(isHeaderName, { error: 'expected a header name' });

/** Options of `accessLog()` / `gw.accessLog()`. */
export const accessLogOptionsSchema = withCrossCheck(
  z.strictObject({
    logger: objectOption<AccessLogger>('a logger with an info(obj, msg) method (pino, for one)', [
      'info',
    ]).optional(),
    destination: z
      .union([z.string().min(1), z.int().min(0)], { error: 'expected a file path or a file descriptor' })
      .optional(),
    headers: z.array(headerName).readonly().optional(),
    redact: z.array(z.string().min(1)).readonly().optional(),
    queryParameters: z.array(z.string()).readonly().optional(),
    message: z.string().optional(),
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
// schemas in step: what the types allow, the schemas accept, and the other way round.
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: [
  Agree<z.input<typeof metricsOptionsSchema>, MetricsOptions>,
  Agree<z.input<typeof tracingOptionsSchema>, TracingOptions>,
  Agree<z.input<typeof accessLogOptionsSchema>, AccessLogOptions>,
] = [true, true, true];
void typesAgree;
