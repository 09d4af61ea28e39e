// The client's options as one zod schema (exported for a configuration-wide JSON Schema), checked
// once by createClient() through core's parseOptions: every problem, at every depth, in one
// ConfigError with its path and a did-you-mean. The request path only reads what this resolved.
import { objectOption, parseOptions, withCrossCheck } from '@gatehousejs/core';
import type { Resolver } from '@gatehousejs/discovery';
import type { MeterProvider } from '@opentelemetry/api';
import { z } from 'zod';
import { type Balancer, type BalancerName, balancerNamed } from './balancer.js';
import type { BreakerOptions } from './breaker.js';
import type { RetryBudgetOptions } from './budget.js';
import type { ClientOptions, ClientTracer } from './client.js';
import type { OutlierOptions } from './endpoints.js';
import type { HealthCheckOptions } from './health.js';

const BALANCERS = ['p2c', 'round-robin', 'ewma', 'ring-hash'] as const satisfies readonly BalancerName[];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const ms = () => z.int().positive();
const count = () => z.int().positive();
const percent = (min: 'open' | 'closed') =>
  min === 'open'
    ? z.number().gt(0, { error: 'must be a percentage from 0 (excluded) to 100' }).max(100, {
        error: 'must be a percentage from 0 (excluded) to 100',
      })
    : z.number().min(0).max(100);

/** An absolute http(s) URL, as staticResolver() takes it. */
const endpointUrl = z.string().check(
  z.superRefine((value, ctx) => {
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', input: value, message: `expected an http(s) URL, received '${value}'` });
    }
  }),
);

/** Options of a circuit breaker (per endpoint or per service). */
export const breakerOptionsSchema = withCrossCheck(
  z.strictObject({
    mode: z.enum(['consecutive', 'rate']).optional(),
    threshold: z.number().positive().optional(),
    windowMs: ms().optional(),
    minimumRps: z.number().min(0).optional(),
    halfOpenAfterMs: ms().optional(),
    maxHalfOpenAfterMs: ms().optional(),
  }),
  (value, report) => {
    const t = isObject(value) ? value.threshold : undefined;
    if (typeof t !== 'number' || !(t > 0)) return;
    if ((value as Record<string, unknown>).mode === 'rate') {
      if (t > 1)
        report(
          ['threshold'],
          `in 'rate' mode the threshold is a share of failures from 0 (excluded) to 1, received ${t}`,
        );
    } else if (!Number.isInteger(t)) {
      report(
        ['threshold'],
        `in 'consecutive' mode the threshold is a count of failures (a positive integer), received ${t}`,
      );
    }
  },
);

/** Options of the retry budget. */
export const retryBudgetOptionsSchema = z.strictObject({
  ratio: z.number().min(0).max(10).optional(),
  minPerSecond: z.number().min(0).optional(),
  ttlMs: ms().optional(),
});

/** Options of passive outlier ejection. */
export const outlierOptionsSchema = z.strictObject({
  consecutiveFailures: count().optional(),
  baseEjectionMs: ms().optional(),
  maxEjectionMs: ms().optional(),
  maxEjectionPercent: percent('closed').optional(),
});

/** Options of active health checks. */
export const healthCheckOptionsSchema = z.strictObject({
  path: z.string().startsWith('/'),
  intervalMs: ms().optional(),
  timeoutMs: ms().optional(),
  healthyThreshold: count().optional(),
  unhealthyThreshold: count().optional(),
  expectStatus: z.array(z.int().min(100).max(599)).min(1).readonly().optional(),
});

const pem = z.union([z.string().min(1), z.instanceof(Buffer)]);

/** Client TLS (mTLS) options. */
export const tlsOptionsSchema = z.strictObject({
  ca: pem.optional(),
  cert: pem.optional(),
  key: pem.optional(),
  files: z
    .strictObject({
      ca: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
    })
    .optional(),
  watchIntervalMs: ms().optional(),
  servername: z.string().min(1).optional(),
  identity: z
    .strictObject({
      dns: z.array(z.string().min(1)).readonly().optional(),
      uri: z.array(z.string().min(1)).readonly().optional(),
    })
    .optional(),
});

/** Every option of `createClient()` (and of `gw.client(name, options)`, without `name`). */
export const clientOptionsSchema = withCrossCheck(
  z.strictObject({
    name: z.string().min(1),
    resolver: objectOption<Resolver>('a resolver from @gatehousejs/discovery', [
      'current',
      'subscribe',
      'ready',
      'close',
    ]).optional(),
    endpoints: z.array(endpointUrl).min(1).readonly().optional(),
    balancer: z
      .union([z.enum(BALANCERS), objectOption<Balancer>('a Balancer (an object with pick())', ['pick'])])
      .optional(),
    zone: z.string().min(1).optional(),
    connections: count().optional(),
    timeouts: z
      .strictObject({
        connectMs: ms().optional(),
        perTryMs: ms().optional(),
        totalMs: ms().optional(),
        bodyMs: ms().optional(),
      })
      .optional(),
    retry: z
      .strictObject({
        maxAttempts: count().optional(),
        statuses: z
          .array(
            z
              .int()
              .min(400, { error: 'must be a 4xx or 5xx status' })
              .max(599, { error: 'must be a 4xx or 5xx status' }),
          )
          .readonly()
          .optional(),
        nonIdempotent: z.boolean().optional(),
        backoff: z.strictObject({ baseMs: ms().optional(), maxMs: ms().optional() }).optional(),
        budget: z.union([z.literal(false), retryBudgetOptionsSchema]).optional(),
      })
      .optional(),
    breaker: z
      .union([
        z.literal(false),
        z.strictObject({
          endpoint: z.union([z.literal(false), breakerOptionsSchema]).optional(),
          service: z.union([z.literal(false), breakerOptionsSchema]).optional(),
        }),
      ])
      .optional(),
    bulkhead: z.strictObject({ maxConcurrent: count(), maxPending: z.int().min(0).optional() }).optional(),
    hedge: z.strictObject({ delayMs: ms(), maxPercent: percent('open').optional() }).optional(),
    outlier: z.union([z.literal(false), outlierOptionsSchema]).optional(),
    healthCheck: healthCheckOptionsSchema.optional(),
    tls: tlsOptionsSchema.optional(),
    deadlineHeader: z
      .union([z.literal(false), z.string().regex(HEADER_NAME, { error: 'expected a header name' })])
      .optional(),
    tracer: objectOption<ClientTracer>('a tracer with startClientSpan()', ['startClientSpan']).optional(),
    meterProvider: objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter']).optional(),
  }),
  (value, report) => {
    if (isObject(value) && (value.resolver === undefined) === (value.endpoints === undefined))
      report([], "give exactly one of 'resolver' or 'endpoints'");
  },
);

// The hand-written option types are what users read (with their TSDoc); these lines keep them and the
// schema in step: what the types allow, the schema accepts, and the other way round.
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: [
  Agree<z.input<typeof breakerOptionsSchema>, BreakerOptions>,
  Agree<z.input<typeof retryBudgetOptionsSchema>, RetryBudgetOptions>,
  Agree<z.input<typeof outlierOptionsSchema>, OutlierOptions>,
  Agree<z.input<typeof healthCheckOptionsSchema>, HealthCheckOptions>,
  Agree<z.input<typeof clientOptionsSchema>, ClientOptions>,
] = [true, true, true, true, true];
void typesAgree;

/** The options createClient() works from, defaults filled in. */
export interface ResolvedClientOptions {
  readonly timeouts: { connectMs: number; perTryMs: number; totalMs: number; bodyMs: number };
  readonly retry: {
    maxAttempts: number;
    statuses: ReadonlySet<number>;
    nonIdempotent: boolean;
    baseMs: number;
    maxMs: number;
    budget: RetryBudgetOptions | false;
  };
  readonly outlier: Required<OutlierOptions> | undefined;
  readonly balancer: Balancer;
  readonly connections: number;
  /** `undefined`: no breaker at that level. */
  readonly endpointBreaker: BreakerOptions | undefined;
  readonly serviceBreaker: BreakerOptions | undefined;
}

/**
 * Checks every option of a client and fills in the defaults.
 *
 * @throws ConfigError listing every problem, under `client(<name>)`.
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const name = typeof options?.name === 'string' && options.name !== '' ? options.name : '?';
  const o = parseOptions(clientOptionsSchema, options, { name: `client(${name})` });
  const t = o.timeouts ?? {};
  const r = o.retry ?? {};
  const outlier = o.outlier === false ? undefined : (o.outlier ?? {});
  const breaker =
    o.breaker === false ? { endpoint: false as const, service: false as const } : (o.breaker ?? {});
  return {
    timeouts: {
      connectMs: t.connectMs ?? 1_000,
      perTryMs: t.perTryMs ?? 5_000,
      totalMs: t.totalMs ?? 15_000,
      bodyMs: t.bodyMs ?? 30_000,
    },
    retry: {
      maxAttempts: r.maxAttempts ?? 3,
      statuses: new Set(r.statuses ?? [502, 503, 504]),
      nonIdempotent: r.nonIdempotent === true,
      baseMs: r.backoff?.baseMs ?? 25,
      maxMs: r.backoff?.maxMs ?? 1_000,
      budget: r.budget ?? {},
    },
    outlier:
      outlier === undefined
        ? undefined
        : {
            consecutiveFailures: outlier.consecutiveFailures ?? 5,
            baseEjectionMs: outlier.baseEjectionMs ?? 10_000,
            maxEjectionMs: outlier.maxEjectionMs ?? 300_000,
            maxEjectionPercent: outlier.maxEjectionPercent ?? 50,
          },
    balancer: typeof o.balancer === 'object' ? o.balancer : balancerNamed(o.balancer ?? 'p2c'),
    connections: o.connections ?? 64,
    // The endpoint breaker is on by default, the service breaker off unless configured.
    endpointBreaker: breaker.endpoint === false ? undefined : (breaker.endpoint ?? {}),
    serviceBreaker: breaker.service === false ? undefined : breaker.service,
  };
}
