// The options of gw.aggregate() and of the response cache, as valibot schemas checked once when the
// factory runs (parseOptions from core: every problem in one ConfigError, with paths and did-you-mean).
import { type Exchange, functionOption, objectOption, withCrossCheck } from '@gatehousejs/core';
import * as v from 'valibot';
import type { CacheStore, RedisCacheClient } from './store.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const positiveInt = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));
const pointer = () =>
  v.pipe(v.string(), v.regex(/^(\/[^/]*)+$/, "expected a JSON pointer such as '/order/customerId'"));
const headerName = () =>
  v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name'));

/** Options of the response cache (`gw.responseCache()`, and `cache` on routes, clients and compositions). */
export const cacheOptionsSchema = withCrossCheck(
  v.strictObject({
    /** `'memory'` (default), `'redis'`, or a `CacheStore` built in code. */
    store: v.optional(
      v.union([
        v.picklist(['memory', 'redis']),
        objectOption<CacheStore>('a CacheStore', ['get', 'set', 'delete', 'deletePrefix']),
      ]),
      'memory',
    ),
    memory: v.optional(
      v.strictObject({
        maxEntries: v.optional(positiveInt(), 10_000),
        maxBytes: v.optional(positiveInt(), 64 * 1024 * 1024),
      }),
      { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 },
    ),
    redis: v.optional(
      v.strictObject({
        url: v.optional(v.pipe(v.string(), v.regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'))),
        client: v.optional(objectOption<RedisCacheClient>('an ioredis client', ['get', 'set'])),
        prefix: v.optional(v.string(), 'gatehouse:cache:'),
        timeoutMs: v.optional(positiveInt(), 100),
      }),
    ),
    /** Answers larger than this are passed on but not cached. */
    maxBodyBytes: v.optional(positiveInt(), 1024 * 1024),
    /** Identical concurrent GETs share one upstream call. */
    coalesce: v.optional(v.boolean(), true),
    /** Honour a client's `Cache-Control: no-cache` / `max-age` (a client could otherwise force upstream calls). */
    honorRequestDirectives: v.optional(v.boolean(), false),
    /** The cache's name in `Cache-Status`. */
    name: v.optional(
      v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'expected a token such as gatehouse')),
      'gatehouse',
    ),
  }),
  (value, report) => {
    if (!isObject(value) || value.store !== 'redis') return;
    const redis = isObject(value.redis) ? value.redis : {};
    if (redis.url === undefined && redis.client === undefined)
      report(['redis'], "store 'redis' needs redis.url or redis.client");
  },
);
export type CacheOptions = v.InferInput<typeof cacheOptionsSchema>;
export type ResolvedCacheOptions = v.InferOutput<typeof cacheOptionsSchema>;

/** What a call's shaping and templates see. */
export interface CompositionContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly principal: Readonly<Record<string, unknown>> | undefined;
  /** Every finished call's result, by name. */
  readonly results: Readonly<Record<string, unknown>>;
  readonly exchange: Exchange;
}

const text = () => v.string();

/** One named call of a composition. */
export const callSchema = v.strictObject({
  /** A service of the gateway (`services` in its configuration, or a `gw.client(name)`). */
  service: v.pipe(v.string(), v.minLength(1)),
  method: v.optional(v.picklist(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']), 'GET'),
  /** `/orders/{/params/id}`: references are JSON pointers into the context; each value is one encoded segment. */
  path: v.pipe(
    v.string(),
    v.regex(/^\/[^?#]*$/, "expected a path starting with '/' without '?' or '#' (use 'query')"),
  ),
  query: v.optional(v.record(v.pipe(v.string(), v.minLength(1)), text())),
  headers: v.optional(v.record(headerName(), text())),
  /** Incoming request headers passed on as they are (`authorization`, `accept-language`). */
  forward: v.optional(v.array(headerName()), []),
  /** A JSON body from a template value: a pointer into the context. */
  body: v.optional(pointer()),
  /** Calls whose results this one uses; references in templates add theirs implicitly. */
  dependsOn: v.optional(v.array(v.string()), []),
  /** `required` fails the composition when this call fails; `optional` leaves it out (or uses `fallback`). */
  policy: v.optional(v.picklist(['required', 'optional']), 'required'),
  /** The result of an optional call that failed, or of any call that was skipped. */
  fallback: v.optional(v.unknown()),
  /** Run only when the value at this pointer is present (not null, false or ''), or when the function says so. */
  when: v.optional(
    v.union([
      pointer(),
      functionOption<(context: CompositionContext) => boolean>('a predicate of the context'),
    ]),
  ),
  /** One call per element of the array at this pointer (the element is `/item` in templates). */
  forEach: v.optional(pointer()),
  /** Calls of a fan-out in flight at once. */
  concurrency: v.optional(positiveInt(), 4),
  /** Most elements a fan-out or a batch takes; more fail the call. */
  maxItems: v.optional(positiveInt(), 100),
  /**
   * One call for the whole collection instead: the values at `value` (a pointer into each element)
   * joined with `separator` in query parameter `query`, or repeated when `separator` is `'repeat'`.
   */
  batch: v.optional(
    v.strictObject({
      query: v.pipe(v.string(), v.minLength(1)),
      value: v.optional(v.union([pointer(), v.literal('')]), ''),
      separator: v.optional(v.pipe(v.string(), v.minLength(1)), ','),
    }),
  ),
  /** This call's own deadline (the composition's still applies). */
  timeoutMs: v.optional(positiveInt()),
  /** Largest answer read. */
  maxBodyBytes: v.optional(positiveInt()),
  /** Take this part of the answer as the call's result (`/data`). */
  extract: v.optional(v.union([pointer(), v.literal('')])),
  /** Keep only these pointers of the result (each element of a fan-out). */
  pick: v.optional(v.array(pointer())),
  /** Remove these pointers from the result. */
  omit: v.optional(v.array(pointer())),
  /** Move values: `{ '/customer_id': '/customerId' }`. */
  rename: v.optional(v.record(pointer(), pointer())),
  /** A fan-out's answers that are arrays, concatenated into one array. */
  flatten: v.optional(v.boolean(), false),
  /** The key of this call's result in a grouped body. @default the call's name */
  as: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Leave the result out of the body (a call only others depend on). */
  include: v.optional(v.boolean(), true),
  /** Serve from the response cache (RFC 9111) when the gateway has one. */
  cache: v.optional(v.boolean()),
});
export type CallSpec = v.InferInput<typeof callSchema>;
export type ResolvedCall = v.InferOutput<typeof callSchema>;

const callName = v.pipe(
  v.string(),
  v.regex(
    /^[A-Za-z_][A-Za-z0-9_-]*$/,
    'expected a call name of letters, digits, _ and - (it is a JSON pointer token)',
  ),
);

/** Options of `gw.aggregate()`. */
export const aggregateOptionsSchema = v.strictObject({
  /** Names the composition in errors and metrics. */
  name: v.optional(v.pipe(v.string(), v.minLength(1)), 'aggregate'),
  /** Answer requests whose normalized path matches (`/screens/orders/:id`); without it, every request that reaches it. */
  path: v.optional(v.pipe(v.string(), v.regex(/^\//, "expected a path starting with '/'"))),
  /** Methods answered; others pass on. */
  methods: v.optional(v.array(v.picklist(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])), [
    'GET',
    'HEAD',
  ]),
  calls: v.record(callName, callSchema),
  /** The whole composition's deadline. */
  timeoutMs: v.optional(positiveInt(), 5_000),
  /** Largest answer read from any call, unless the call sets its own. */
  maxBodyBytes: v.optional(positiveInt(), 1024 * 1024),
  /** `group`: each call's result under its name (`as`); `merge`: objects merged in call order. */
  combine: v.optional(v.picklist(['group', 'merge']), 'group'),
  /** A function that builds the body from every result, instead of `combine`. */
  shape: v.optional(
    functionOption<(results: Record<string, unknown>, context: CompositionContext) => unknown>(
      'a function of the results and the context',
    ),
  ),
  /** The key of the partial-answer report in an object body; `false` for none (the header stays). */
  partialKey: v.optional(v.union([v.pipe(v.string(), v.minLength(1)), v.literal(false)]), '_partial'),
  /** `Cache-Control` of complete answers (partial answers are always `no-store`). */
  cacheControl: v.optional(v.string(), 'no-store'),
  /** Identical concurrent upstream GETs (across requests) share one call. */
  coalesce: v.optional(v.boolean(), true),
  /** Serve every GET call from the gateway's response cache (a call's own `cache` wins). */
  cache: v.optional(v.boolean(), false),
});
export type AggregateOptions = v.InferInput<typeof aggregateOptionsSchema>;
export type ResolvedAggregateOptions = v.InferOutput<typeof aggregateOptionsSchema>;
