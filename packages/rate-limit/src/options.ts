// RateLimitOptions as one valibot schema (exported for a configuration-wide JSON Schema), checked once by
// rateLimit() through core's parseOptions — every problem, at every depth, in one ConfigError with its
// path and a did-you-mean — then compiled. Everything here runs once, when rateLimit() is called: the
// request path only reads what this compiled.
import {
  ConfigError,
  type CrossCheckReport,
  createAddressMatcher,
  createPathMatcher,
  type Exchange,
  functionOption,
  httpMethodsOption,
  isHeaderName,
  objectOption,
  parseOptions,
  pathPatternOption,
  type TypesAgree,
  withCrossCheck,
} from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import * as v from 'valibot';
import { type Duration, type DurationText, durationMs, durationProblem } from './duration.js';
import { compileKey, type KeyFunction, type KeyOf, type KeySpec, principalOf } from './keys.js';
import type { OutboundLimiterOptions } from './outbound.js';
import { type CalendarPeriod, periodSeconds } from './periods.js';
import {
  type Counter,
  type LimiterStore,
  type MemoryStoreOptions,
  memoryStore,
  type RedisClient,
  type RedisClientOptions,
  type RedisStoreOptions,
} from './store.js';

/**
 * One window of a policy. A rolling window (`duration`) starts at a key's first request and resets
 * when it ends; a calendar quota (`per`) resets at the start of each UTC hour, day, ISO week (Monday)
 * or month, the same instant for every key.
 *
 * @example { name: 'burst', points: 20, duration: '1s' }
 * @example { name: 'daily', points: 10_000, per: 'day' }
 */
export interface LimitWindow {
  /**
   * Names the window in `RateLimit` headers, metrics and problem details; unique within a policy.
   * Must be a token (letters, digits, `-`, `_`, `.`).
   *
   * @default the duration in seconds (`'60s'`) or the period (`'day'`)
   */
  name?: string;
  /** Points each key may spend per window (a request spends `cost`, 1 by default). */
  points: number;
  /** The window's length: seconds, or text (`'1s'`, `'15m'`, `'1h'`). Give this or `per`. */
  duration?: Duration;
  /** A calendar quota, reset at the start of each UTC period. Give this or `duration`. */
  per?: CalendarPeriod;
}

/** Who is never limited. Any match exempts the request. */
export interface ExemptOptions {
  /** Client addresses, CIDRs or range names (`'loopback'`, `'private'`), after trusted-proxy resolution. */
  ips?: readonly string[];
  /** Principal ids. */
  principals?: readonly string[];
  /** Principal tiers (`'internal'`). */
  tiers?: readonly string[];
  /** Any other rule; a throwing predicate exempts nothing (and is reported). */
  when?: (exchange: Exchange) => boolean;
}

/** A per-route policy: the first rule matching the normalized path (and method) replaces the top-level one. */
export interface RouteLimit {
  /** A path pattern on the normalized path (`/search`, `/orders/:id`, `/reports/*`). */
  path: string;
  /** Upper-case methods the rule applies to. @default every method */
  methods?: readonly string[];
  /** Windows for this route (instead of the top-level `limits`). */
  limits?: readonly LimitWindow[];
  /** Tiered windows for this route (instead of the top-level `tiers`). */
  tiers?: Readonly<Record<string, readonly LimitWindow[]>>;
  /** The key for this route. @default the top-level `key` */
  key?: KeySpec;
  /** The cost of a request on this route. @default the top-level `cost` */
  cost?: number | ((exchange: Exchange) => number);
  /** `true`: this route is not limited at all (health checks, static assets). */
  exempt?: boolean;
}

/** Options of `rateLimit()`. */
export interface RateLimitOptions {
  /**
   * Namespaces this limiter's counters (`<prefix>:<name>:…`); give each `rateLimit()` on a gateway its
   * own name, and the same name on every instance of a fleet.
   *
   * @default 'default'
   */
  name?: string;
  /** Windows applied to every request (all at once: a burst and a sustained rate). Give this or `tiers`. */
  limits?: readonly LimitWindow[];
  /**
   * Windows per plan (`{ free: [...], pro: [...] }`), chosen by `tier`. An empty list means no window
   * limit for that tier. Give this or `limits`.
   */
  tiers?: Readonly<Record<string, readonly LimitWindow[]>>;
  /**
   * The tier of a request: the default reads the principal's `tier` (set by `auth()`).
   *
   * @default (exchange) => exchange.state.principal?.tier
   */
  tier?: (exchange: Exchange) => string | undefined;
  /** The tier for requests whose tier is missing or not in `tiers` (anonymous callers). Must be in `tiers`. */
  defaultTier?: string;
  /**
   * What requests are counted against: one key part or several (composite).
   *
   * @default 'principal' (the principal's id; the client address for anonymous requests)
   */
  key?: KeySpec;
  /**
   * IPv6 clients are grouped by this prefix length (one subscriber usually holds a /64, so one bucket
   * per address would let them multiply their budget by 2^64).
   *
   * @default 64
   */
  ipv6Prefix?: number;
  /** The header the `'api-key'` key part reads. @default 'x-api-key' */
  apiKeyHeader?: string;
  /** Points a request spends: a number, or a function of the exchange (a non-negative integer). @default 1 */
  cost?: number | ((exchange: Exchange) => number);
  /** Requests never limited (internal addresses, principals, tiers, a predicate). */
  exempt?: ExemptOptions;
  /** Per-route policies, first match wins; unmatched requests get the top-level policy. */
  routes?: readonly RouteLimit[];
  /** Where counters live: {@link memoryStore} or `redisStore({ url })`. @default memoryStore() */
  store?: LimiterStore;
  /**
   * When the store fails and there is no insurance limiter (or it fails too): `'open'` admits the
   * request (and reports the failure), `'closed'` refuses it with 503 `GH_RATE_LIMIT_UNAVAILABLE`.
   *
   * @default 'open'
   */
  failure?: 'open' | 'closed';
  /**
   * Response headers on limited routes: `'ietf'` (`RateLimit` and `RateLimit-Policy`,
   * draft-ietf-httpapi-ratelimit-headers), `'legacy'` (`X-RateLimit-Limit/-Remaining/-Reset`),
   * `'both'` or `'none'`. `Retry-After` comes with every refusal regardless.
   *
   * @default 'ietf'
   */
  headers?: 'ietf' | 'legacy' | 'both' | 'none';
  /** In-flight limits: per key (429) and for the whole gateway (a bulkhead, 503). */
  concurrency?: ConcurrencyOptions;
  /** Load shedding on event-loop delay (503 + Retry-After before the process falls over). */
  shed?: ShedOptions;
  /** Prefix of every counter key in the store. @default 'gatehouse:rl' */
  prefix?: string;
  /** Where outcome counters are reported. @default the global OpenTelemetry meter provider */
  meterProvider?: MeterProvider;
}

/** In-flight limits; slots are released when the response ends, fails or the client goes away. */
export interface ConcurrencyOptions {
  /** Requests one key may have in flight at once (beyond: 429 `GH_CONCURRENCY_LIMITED`). */
  perKey?: number;
  /** Requests this limiter admits at once in the whole process (beyond: 503 `GH_BULKHEAD_FULL`). */
  global?: number;
}

/** Load shedding: refuse new work while the event loop lags, so requests in flight can finish. */
export interface ShedOptions {
  /** Shed while the event loop's delay over the last sample exceeds this (ms). */
  maxEventLoopDelayMs: number;
  /** How often the delay is sampled (ms). @default 500 */
  sampleIntervalMs?: number;
  /** `Retry-After` on a shed request, in seconds. @default 1 */
  retryAfter?: number;
}

/** A compiled window: its counters and how it renders in headers. */
export interface Window {
  readonly name: string;
  /** The start of this window's `RateLimit` item, up to the remaining points: `"name";r=`. */
  readonly item: string;
  readonly points: number;
  /** Whole seconds, for the `w` parameter and for rolling windows' store TTL. */
  readonly seconds: number;
  readonly per: CalendarPeriod | undefined;
  readonly counter: Counter;
  readonly insurance: Counter | undefined;
}

/** A compiled policy: its windows and its `RateLimit-Policy` field value (constant per policy). */
export interface Policy {
  readonly windows: readonly Window[];
  readonly policyHeader: string;
}

/** A compiled scope: the top level or one route rule. */
export interface Scope {
  /** The rule's path (for `'route'` keys), undefined at the top level. */
  readonly rule: string | undefined;
  readonly exempt: boolean;
  readonly policy: Policy | undefined;
  readonly tiers: ReadonlyMap<string, Policy> | undefined;
  readonly defaultTier: Policy | undefined;
  readonly keyOf: KeyOf;
  readonly cost: number | ((exchange: Exchange) => number);
}

export interface RouteScope extends Scope {
  readonly methods: ReadonlySet<string> | undefined;
  readonly sensitive: (path: string) => boolean;
  readonly insensitive: (path: string) => boolean;
}

export interface Resolved {
  readonly name: string;
  readonly top: Scope;
  readonly routes: readonly RouteScope[];
  readonly tierOf: (exchange: Exchange) => string | undefined;
  readonly exempt: ((exchange: Exchange) => boolean) | undefined;
  readonly store: LimiterStore;
  readonly failure: 'open' | 'closed';
  readonly ietf: boolean;
  readonly legacy: boolean;
  readonly concurrency: { perKey: number; global: number } | undefined;
  readonly shed: Required<ShedOptions> | undefined;
}

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

const PERIODS = ['hour', 'day', 'week', 'month'] as const satisfies readonly CalendarPeriod[];
// A Structured Field token, so names can be sent as sf-strings without escaping.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TEXT_DURATION = /^[1-9]\d*[smhd]$/;

const token = () =>
  v.pipe(
    v.string(),
    v.regex(
      NAME,
      (issue) =>
        `must be a token of letters, digits, '.', '_' or '-' (up to 64, starting with a letter or digit), received ${JSON.stringify(issue.input)}`,
    ),
  );

// A positive integer: `gtValue(0)` rather than `minValue(1)` (the same integers), so the default message
// stays `expected a number > 0`.
const positiveInt = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const durationError = (issue: { input?: unknown }) => durationProblem(issue.input);

/** A window's length: whole seconds as a number, or text with a unit; see {@link Duration}. */
// Annotated: inferred, its type spelt out Duration's 3,996 texts in every schema using it, and
// rate-limit's options.d.ts weighed 1.3 MB (20 kB now).
export const durationSchema: v.GenericSchema<Duration> = v.union(
  [
    v.pipe(v.number(durationError), v.safeInteger(durationError), v.minValue(1, durationError)),
    // Typed as Duration's text form, which spells out up to three digits; the parser also takes longer
    // ones ('3600s'): the type accepts nothing the runtime refuses, not the other way round.
    v.pipe(v.string(), v.regex(TEXT_DURATION, durationError)) as unknown as v.GenericSchema<DurationText>,
  ],
  durationError,
);

/** Names a window gets when it has none: its duration in seconds, or its period. */
function windowName(w: { name?: unknown; duration?: unknown; per?: unknown }): string | undefined {
  if (typeof w.name === 'string') return w.name;
  if (typeof w.per === 'string') return w.per;
  const ms = durationMs(w.duration);
  return ms === undefined ? undefined : `${ms / 1000}s`;
}

/** One window: `{ points, duration }` (rolling) or `{ points, per }` (a calendar quota). */
export const limitWindowSchema = withCrossCheck(
  v.strictObject({
    name: v.optional(token()),
    points: positiveInt(),
    duration: v.optional(durationSchema),
    per: v.optional(v.picklist(PERIODS)),
  }),
  (w, report) => {
    if (isObject(w) && (w.duration === undefined) === (w.per === undefined))
      report([], "give exactly one of 'duration' (a rolling window) or 'per' (a calendar quota)");
  },
);

/** The windows of one policy: every window at once, each name distinct. */
const windowsSchema = withCrossCheck(v.array(limitWindowSchema), (windows, report) => {
  if (!Array.isArray(windows)) return;
  const seen = new Set<string>();
  for (const [i, w] of (windows as unknown[]).entries()) {
    const name = isObject(w) ? windowName(w) : undefined;
    if (name === undefined) continue;
    if (seen.has(name))
      report([i, 'name'], `'${name}' names two windows of one policy; give each a distinct name`);
    seen.add(name);
  }
});

const tiersSchema = v.record(token(), windowsSchema);

const headerName = v.pipe(v.string(), v.check(isHeaderName, 'expected a header name'));

/** A key: one part or several; see {@link KeySpec}. */
export const keySpecSchema = v.union(
  [
    v.picklist(['ip', 'principal', 'api-key', 'route']),
    v.strictObject({ header: headerName }),
    functionOption<KeyFunction>('a function of the exchange'),
    v.pipe(
      v.array(
        v.union(
          [
            v.picklist(['ip', 'principal', 'api-key', 'route']),
            v.strictObject({ header: headerName }),
            functionOption<KeyFunction>('a function of the exchange'),
          ],
          keyPartError,
        ),
      ),
      v.minLength(1, 'must name at least one key part'),
    ),
  ],
  keyPartError,
);

function keyPartError(issue: { input?: unknown }): string {
  const input = issue.input;
  const shown = typeof input === 'string' ? `'${input}'` : (JSON.stringify(input) ?? String(input));
  const near =
    typeof input === 'string'
      ? ['ip', 'principal', 'api-key', 'route'].find((p) => p.startsWith(input.toLowerCase().slice(0, 2)))
      : undefined;
  return `must be 'ip', 'principal', 'api-key', 'route', { header: name } or a function of the exchange, received ${shown}${near === undefined ? '' : ` — did you mean '${near}'?`}`;
}

const costSchema = v.union([
  v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  functionOption<(exchange: Exchange) => number>('a function of the exchange'),
]);

/** Who is never limited. */
export const exemptOptionsSchema = v.strictObject({
  ips: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.minLength(1))),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        try {
          createAddressMatcher(dataset.value, 'exempt.ips');
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          for (const problem of error.problems) addIssue({ message: problem.message });
        }
      }),
    ),
  ),
  principals: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  tiers: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  when: v.optional(functionOption<(exchange: Exchange) => boolean>('a function of the exchange')),
});

/** A per-route policy. */
export const routeLimitSchema = withCrossCheck(
  v.strictObject({
    path: pathPatternOption(),
    methods: v.optional(httpMethodsOption()),
    limits: v.optional(windowsSchema),
    tiers: v.optional(tiersSchema),
    key: v.optional(keySpecSchema),
    cost: v.optional(costSchema),
    exempt: v.optional(v.boolean()),
  }),
  (rule, report) => {
    if (isObject(rule) && rule.limits !== undefined && rule.tiers !== undefined)
      report(['limits'], "give either 'limits' or 'tiers', not both");
  },
);

/** Every option of `rateLimit()` / `gw.rateLimit()`. */
export const rateLimitOptionsSchema = withCrossCheck(
  v.strictObject({
    name: v.optional(token()),
    limits: v.optional(windowsSchema),
    tiers: v.optional(tiersSchema),
    tier: v.optional(
      functionOption<(exchange: Exchange) => string | undefined>(
        'a function of the exchange returning a tier name',
      ),
    ),
    defaultTier: v.optional(v.string()),
    key: v.optional(keySpecSchema),
    ipv6Prefix: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(128))),
    apiKeyHeader: v.optional(headerName),
    cost: v.optional(costSchema),
    exempt: v.optional(exemptOptionsSchema),
    routes: v.optional(v.array(routeLimitSchema)),
    store: v.optional(
      objectOption<LimiterStore>('a store such as memoryStore() or redisStore({ url })', ['counter']),
    ),
    failure: v.optional(v.picklist(['open', 'closed'])),
    headers: v.optional(v.picklist(['ietf', 'legacy', 'both', 'none'])),
    concurrency: v.optional(
      withCrossCheck(
        v.strictObject({ perKey: v.optional(positiveInt()), global: v.optional(positiveInt()) }),
        (value, report) => {
          if (isObject(value) && value.perKey === undefined && value.global === undefined)
            report([], "give 'perKey', 'global' or both");
        },
      ),
    ),
    shed: v.optional(
      v.strictObject({
        maxEventLoopDelayMs: positiveInt(),
        sampleIntervalMs: v.optional(positiveInt()),
        retryAfter: v.optional(positiveInt()),
      }),
    ),
    prefix: v.optional(v.pipe(v.string(), v.minLength(1))),
    meterProvider: v.optional(objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter'])),
  }),
  crossCheck,
);

/** Checks across options, run even when some option has a problem (so all are reported at once). */
function crossCheck(options: unknown, report: CrossCheckReport): void {
  if (!isObject(options)) return;
  const add = (path: (string | number)[], message: string) => report(path, message);
  if (options.limits !== undefined && options.tiers !== undefined)
    add(['limits'], "give either 'limits' or 'tiers', not both");
  const routes = Array.isArray(options.routes) ? options.routes.filter(isObject) : [];
  const tierNames = (tiers: unknown) => (isObject(tiers) ? Object.keys(tiers) : undefined);
  const scopes: { at: string; names: string[] }[] = [];
  const top = tierNames(options.tiers);
  if (top !== undefined) scopes.push({ at: 'tiers', names: top });
  routes.forEach((rule, i) => {
    const names = tierNames(rule.tiers);
    if (names !== undefined) scopes.push({ at: `routes[${i}].tiers`, names });
  });
  const wanted = options.defaultTier;
  if (scopes.length === 0) {
    if (wanted !== undefined) add(['defaultTier'], "has no effect without 'tiers'");
  } else if (wanted === undefined) {
    add(
      ['defaultTier'],
      `is required with tiers (one of ${[...new Set(scopes.flatMap((s) => s.names))].join(', ')})`,
    );
  } else if (typeof wanted === 'string') {
    for (const scope of scopes) {
      if (!scope.names.includes(wanted))
        add(
          ['defaultTier'],
          `unknown tier '${wanted}' in ${scope.at}; expected one of ${scope.names.join(', ')}`,
        );
    }
  }
  const policies =
    options.limits !== undefined ||
    options.tiers !== undefined ||
    routes.some((r) => r.limits !== undefined || r.tiers !== undefined);
  if (!policies && options.concurrency === undefined && options.shed === undefined) {
    add([], "limits nothing: give 'limits', 'tiers', 'routes', 'concurrency' or 'shed'");
  }
}

/** Every option of `createOutboundLimiter()`. */
export const outboundLimiterOptionsSchema = withCrossCheck(
  v.strictObject({
    name: v.optional(token()),
    limits: v.optional(
      withCrossCheck(
        v.array(
          v.strictObject({ name: v.optional(token()), points: positiveInt(), duration: durationSchema }),
        ),
        (windows, report) => {
          if (!Array.isArray(windows)) return;
          const seen = new Set<string>();
          for (const [i, w] of (windows as unknown[]).entries()) {
            const name = isObject(w) ? windowName(w) : undefined;
            if (name === undefined) continue;
            if (seen.has(name)) report([i, 'name'], `'${name}' names two windows; give each a distinct name`);
            seen.add(name);
          }
        },
      ),
    ),
    maxConcurrent: v.optional(positiveInt()),
    maxQueue: v.optional(positiveInt()),
    maxWaitMs: v.optional(positiveInt()),
    store: v.optional(
      objectOption<LimiterStore>('a store such as memoryStore() or redisStore({ url })', ['counter']),
    ),
    prefix: v.optional(v.pipe(v.string(), v.minLength(1))),
  }),
  (options, report) => {
    if (!isObject(options)) return;
    const limits = Array.isArray(options.limits) ? options.limits : [];
    if (limits.length === 0 && options.maxConcurrent === undefined)
      report([], "limits nothing: give 'limits', 'maxConcurrent' or both");
  },
);

/** Options of `memoryStore()`. */
export const memoryStoreOptionsSchema = v.strictObject({
  maxKeys: v.optional(positiveInt()),
  sweepIntervalMs: v.optional(positiveInt()),
});

/** Options of `redisStore()`. */
export const redisStoreOptionsSchema = withCrossCheck(
  v.strictObject({
    client: v.optional(objectOption<RedisClient>('an ioredis client', ['quit'])),
    url: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^rediss?:\/\//, "expected a redis:// or rediss:// URL such as 'redis://127.0.0.1:6379'"),
      ),
    ),
    redisOptions: v.optional(objectOption<RedisClientOptions>('an object of ioredis options')),
    timeoutMs: v.optional(positiveInt()),
    insurance: v.optional(v.boolean()),
    instances: v.optional(positiveInt()),
  }),
  (options, report) => {
    if (isObject(options) && options.client === undefined && options.url === undefined)
      report([], "give 'client' (an ioredis client you own) or 'url'");
  },
);

// The hand-written types are what users read (with their TSDoc); these lines keep them and the schemas
// in step: what the types allow, the schemas accept, and the other way round. valibot infers mutable
// arrays and objects where the types say readonly (readonly is a type matter only), so both sides are
// compared with readonly removed.
const typesAgree: [
  TypesAgree<v.InferInput<typeof limitWindowSchema>, LimitWindow>,
  TypesAgree<v.InferInput<typeof exemptOptionsSchema>, ExemptOptions>,
  TypesAgree<v.InferInput<typeof routeLimitSchema>, RouteLimit>,
  TypesAgree<v.InferInput<typeof rateLimitOptionsSchema>, RateLimitOptions>,
  TypesAgree<v.InferInput<typeof outboundLimiterOptionsSchema>, OutboundLimiterOptions>,
  TypesAgree<v.InferInput<typeof memoryStoreOptionsSchema>, MemoryStoreOptions>,
  TypesAgree<v.InferInput<typeof redisStoreOptionsSchema>, RedisStoreOptions>,
] = [true, true, true, true, true, true, true];
void typesAgree;

// ---------------------------------------------------------------------------------------------
// Compiling checked options
// ---------------------------------------------------------------------------------------------

/**
 * Checks every option (one ConfigError with every problem) and compiles the policy.
 *
 * @throws ConfigError listing every problem, under `rateLimit`.
 */
export function resolve(options: RateLimitOptions): Resolved {
  const o = parseOptions(rateLimitOptionsSchema, options, { name: 'rateLimit' });
  const name = o.name ?? 'default';
  const prefix = o.prefix ?? 'gatehouse:rl';
  const store = o.store ?? memoryStore();
  const keyOptions = {
    ipv6Prefix: o.ipv6Prefix ?? 64,
    apiKeyHeader: (o.apiKeyHeader ?? 'x-api-key').toLowerCase(),
  };
  const headers = o.headers ?? 'ietf';

  const compilePolicy = (label: string, windows: readonly LimitWindow[]): Policy => {
    const compiled = windows.map((w): Window => {
      const per = w.per;
      const seconds = per === undefined ? durationMs(w.duration)! / 1000 : periodSeconds(per);
      const windowLabel = windowName(w)!;
      const spec = {
        keyPrefix: `${prefix}:${name}:${label}:${windowLabel}`,
        points: w.points,
        durationMs: seconds * 1000,
      };
      return {
        item: `"${windowLabel}";r=`,
        name: windowLabel,
        points: w.points,
        seconds,
        per,
        counter: store.counter(spec),
        insurance: store.insurance?.(spec),
      };
    });
    return {
      windows: compiled,
      policyHeader: compiled.map((w) => `"${w.name}";q=${w.points};w=${w.seconds}`).join(', '),
    };
  };

  const compileScope = (
    at: string,
    label: string,
    source: Pick<RouteLimit, 'limits' | 'tiers' | 'key' | 'cost' | 'exempt'>,
    inherit: Scope | undefined,
  ): Scope => {
    let policy = source.limits === undefined ? undefined : compilePolicy(label, source.limits);
    let tiers: Map<string, Policy> | undefined;
    if (source.tiers !== undefined) {
      tiers = new Map(
        Object.entries(source.tiers).map(([tier, windows]) => [
          tier,
          compilePolicy(`${label}:${tier}`, windows),
        ]),
      );
    }
    let defaultTier =
      tiers === undefined || o.defaultTier === undefined ? undefined : tiers.get(o.defaultTier);
    if (inherit !== undefined && policy === undefined && tiers === undefined) {
      policy = inherit.policy;
      tiers = inherit.tiers as Map<string, Policy> | undefined;
      defaultTier = inherit.defaultTier;
    }
    return {
      rule: inherit === undefined ? undefined : label,
      exempt: at !== '' && source.exempt === true,
      policy,
      tiers,
      defaultTier,
      keyOf:
        source.key !== undefined
          ? compileKey(source.key, keyOptions)
          : (inherit?.keyOf ?? compileKey('principal', keyOptions)),
      cost: source.cost ?? inherit?.cost ?? 1,
    };
  };

  const top = compileScope(
    '',
    'all',
    { limits: o.limits, tiers: o.tiers, key: o.key, cost: o.cost },
    undefined,
  );
  const routes: RouteScope[] = (o.routes ?? []).map((rule, i) => {
    const methods = rule.methods === undefined ? undefined : new Set(rule.methods);
    const label = `${rule.path}${methods === undefined ? '' : ` ${[...methods].join(',')}`}`;
    return {
      ...compileScope(`routes[${i}]`, label, rule, top),
      rule: rule.path,
      methods,
      sensitive: createPathMatcher(rule.path, { caseSensitive: true }),
      insensitive: createPathMatcher(rule.path, { caseSensitive: false }),
    };
  });
  const tierOf =
    o.tier ??
    ((exchange: Exchange) => {
      const tier = principalOf(exchange)?.tier;
      return typeof tier === 'string' ? tier : undefined;
    });
  return {
    name,
    top,
    routes,
    tierOf,
    exempt: compileExempt(o.exempt, tierOf),
    store,
    failure: o.failure ?? 'open',
    ietf: headers === 'ietf' || headers === 'both',
    legacy: headers === 'legacy' || headers === 'both',
    concurrency:
      o.concurrency === undefined
        ? undefined
        : {
            perKey: o.concurrency.perKey ?? Number.POSITIVE_INFINITY,
            global: o.concurrency.global ?? Number.POSITIVE_INFINITY,
          },
    shed:
      o.shed === undefined
        ? undefined
        : {
            maxEventLoopDelayMs: o.shed.maxEventLoopDelayMs,
            sampleIntervalMs: o.shed.sampleIntervalMs ?? 500,
            retryAfter: o.shed.retryAfter ?? 1,
          },
  };
}

function compileExempt(
  value: ExemptOptions | undefined,
  tierOf: (exchange: Exchange) => string | undefined,
): ((exchange: Exchange) => boolean) | undefined {
  if (value === undefined) return undefined;
  const checks: ((exchange: Exchange) => boolean)[] = [];
  if (value.ips !== undefined) {
    const matches = createAddressMatcher(value.ips, 'exempt.ips');
    checks.push((exchange) => matches(exchange.clientIp));
  }
  if (value.principals !== undefined) {
    const set = new Set(value.principals);
    checks.push((exchange) => {
      const id = principalOf(exchange)?.id;
      return typeof id === 'string' && set.has(id);
    });
  }
  if (value.tiers !== undefined) {
    const set = new Set(value.tiers);
    checks.push((exchange) => {
      const tier = tierOf(exchange);
      return tier !== undefined && set.has(tier);
    });
  }
  if (value.when !== undefined) checks.push(value.when);
  if (checks.length === 0) return undefined;
  return (exchange) => {
    for (const check of checks) if (check(exchange)) return true;
    return false;
  };
}
