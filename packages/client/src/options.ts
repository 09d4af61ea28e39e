// The client's options as one valibot schema (exported for a configuration-wide JSON Schema), checked
// once by createClient() through core's parseOptions: every problem, at every depth, in one
// ConfigError with its path and a did-you-mean. The request path only reads what this resolved.
import { objectOption, parseOptions, type TypesAgree, withCrossCheck } from '@gatehousejs/core';
import type { Resolver } from '@gatehousejs/discovery';
import type { MeterProvider } from '@opentelemetry/api';
import * as v from 'valibot';
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
const ms = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));
const count = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));
const percent = (min: 'open' | 'closed') =>
  min === 'open'
    ? v.pipe(
        v.number(),
        v.gtValue(0, 'must be a percentage from 0 (excluded) to 100'),
        v.maxValue(100, 'must be a percentage from 0 (excluded) to 100'),
      )
    : v.pipe(v.number(), v.minValue(0), v.maxValue(100));

/** An absolute http(s) URL, as staticResolver() takes it. */
const endpointUrl = v.pipe(
  v.string(),
  v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const value = dataset.value;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      addIssue({ message: `expected an http(s) URL, received '${value}'` });
    }
  }),
);

/** Options of a circuit breaker (per endpoint or per service). */
export const breakerOptionsSchema = withCrossCheck(
  v.strictObject({
    mode: v.optional(v.picklist(['consecutive', 'rate'])),
    threshold: v.optional(v.pipe(v.number(), v.gtValue(0))),
    windowMs: v.optional(ms()),
    minimumRps: v.optional(v.pipe(v.number(), v.minValue(0))),
    halfOpenAfterMs: v.optional(ms()),
    maxHalfOpenAfterMs: v.optional(ms()),
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
export const retryBudgetOptionsSchema = v.strictObject({
  ratio: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(10))),
  minPerSecond: v.optional(v.pipe(v.number(), v.minValue(0))),
  ttlMs: v.optional(ms()),
});

/** Options of passive outlier ejection. */
export const outlierOptionsSchema = v.strictObject({
  consecutiveFailures: v.optional(count()),
  baseEjectionMs: v.optional(ms()),
  maxEjectionMs: v.optional(ms()),
  maxEjectionPercent: v.optional(percent('closed')),
});

/** Options of active health checks. */
export const healthCheckOptionsSchema = v.strictObject({
  path: v.pipe(v.string(), v.startsWith('/')),
  intervalMs: v.optional(ms()),
  timeoutMs: v.optional(ms()),
  healthyThreshold: v.optional(count()),
  unhealthyThreshold: v.optional(count()),
  expectStatus: v.optional(
    v.pipe(v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(100), v.maxValue(599))), v.minLength(1)),
  ),
});

const pem = v.union([v.pipe(v.string(), v.minLength(1)), v.instance(Buffer)]);

/** Client TLS (mTLS) options. */
export const tlsOptionsSchema = v.strictObject({
  ca: v.optional(pem),
  cert: v.optional(pem),
  key: v.optional(pem),
  files: v.optional(
    v.strictObject({
      ca: v.optional(v.pipe(v.string(), v.minLength(1))),
      cert: v.optional(v.pipe(v.string(), v.minLength(1))),
      key: v.optional(v.pipe(v.string(), v.minLength(1))),
    }),
  ),
  watchIntervalMs: v.optional(ms()),
  servername: v.optional(v.pipe(v.string(), v.minLength(1))),
  identity: v.optional(
    v.strictObject({
      dns: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
      uri: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
    }),
  ),
});

/** Every option of `createClient()` (and of `gw.client(name, options)`, without `name`). */
export const clientOptionsSchema = withCrossCheck(
  v.strictObject({
    name: v.pipe(v.string(), v.minLength(1)),
    resolver: v.optional(
      objectOption<Resolver>('a resolver from @gatehousejs/discovery', [
        'current',
        'subscribe',
        'ready',
        'close',
      ]),
    ),
    endpoints: v.optional(v.pipe(v.array(endpointUrl), v.minLength(1))),
    balancer: v.optional(
      v.union([
        v.picklist(BALANCERS),
        objectOption<Balancer>('a Balancer (an object with pick())', ['pick']),
      ]),
    ),
    zone: v.optional(v.pipe(v.string(), v.minLength(1))),
    connections: v.optional(count()),
    timeouts: v.optional(
      v.strictObject({
        connectMs: v.optional(ms()),
        perTryMs: v.optional(ms()),
        totalMs: v.optional(ms()),
        bodyMs: v.optional(ms()),
      }),
    ),
    retry: v.optional(
      v.strictObject({
        maxAttempts: v.optional(count()),
        statuses: v.optional(
          v.array(
            v.pipe(
              v.number(),
              v.safeInteger(),
              v.minValue(400, 'must be a 4xx or 5xx status'),
              v.maxValue(599, 'must be a 4xx or 5xx status'),
            ),
          ),
        ),
        nonIdempotent: v.optional(v.boolean()),
        backoff: v.optional(v.strictObject({ baseMs: v.optional(ms()), maxMs: v.optional(ms()) })),
        budget: v.optional(v.union([v.literal(false), retryBudgetOptionsSchema])),
      }),
    ),
    breaker: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({
          endpoint: v.optional(v.union([v.literal(false), breakerOptionsSchema])),
          service: v.optional(v.union([v.literal(false), breakerOptionsSchema])),
        }),
      ]),
    ),
    bulkhead: v.optional(
      v.strictObject({
        maxConcurrent: count(),
        maxPending: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
      }),
    ),
    hedge: v.optional(v.strictObject({ delayMs: ms(), maxPercent: v.optional(percent('open')) })),
    outlier: v.optional(v.union([v.literal(false), outlierOptionsSchema])),
    healthCheck: v.optional(healthCheckOptionsSchema),
    tls: v.optional(tlsOptionsSchema),
    deadlineHeader: v.optional(
      v.union([v.literal(false), v.pipe(v.string(), v.regex(HEADER_NAME, 'expected a header name'))]),
    ),
    tracer: v.optional(objectOption<ClientTracer>('a tracer with startClientSpan()', ['startClientSpan'])),
    meterProvider: v.optional(objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter'])),
  }),
  (value, report) => {
    if (isObject(value) && (value.resolver === undefined) === (value.endpoints === undefined))
      report([], "give exactly one of 'resolver' or 'endpoints'");
  },
);

// The hand-written option types are what users read (with their TSDoc); these lines keep them and the
// schema in step: what the types allow, the schema accepts, and the other way round. valibot infers
// arrays as mutable where the types say `readonly T[]`, so both sides are compared without readonly.
const typesAgree: [
  TypesAgree<v.InferInput<typeof breakerOptionsSchema>, BreakerOptions>,
  TypesAgree<v.InferInput<typeof retryBudgetOptionsSchema>, RetryBudgetOptions>,
  TypesAgree<v.InferInput<typeof outlierOptionsSchema>, OutlierOptions>,
  TypesAgree<v.InferInput<typeof healthCheckOptionsSchema>, HealthCheckOptions>,
  TypesAgree<v.InferInput<typeof clientOptionsSchema>, ClientOptions>,
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
