// The options of gw.aggregate() and of the response cache, as zod schemas checked once when the
// factory runs (parseOptions from core: every problem in one ConfigError, with paths and did-you-mean).
import { type Exchange, functionOption, objectOption } from '@gatehousejs/core';
import { z } from 'zod';
import type { CacheStore, RedisCacheClient } from './store.js';

const positiveInt = () => z.number().int().positive();
const pointer = () =>
  z.string().regex(/^(\/[^/]*)+$/, { error: "expected a JSON pointer such as '/order/customerId'" });
const headerName = () =>
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected a header name' });

/** Options of the response cache (`gw.responseCache()`, and `cache` on routes, clients and compositions). */
export const cacheOptionsSchema = z
  .strictObject({
    /** `'memory'` (default), `'redis'`, or a `CacheStore` built in code. */
    store: z
      .union([
        z.enum(['memory', 'redis']),
        objectOption<CacheStore>('a CacheStore', ['get', 'set', 'delete', 'deletePrefix']),
      ])
      .default('memory'),
    memory: z
      .strictObject({
        maxEntries: positiveInt().default(10_000),
        maxBytes: positiveInt().default(64 * 1024 * 1024),
      })
      .default({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 }),
    redis: z
      .strictObject({
        url: z
          .string()
          .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
          .optional(),
        client: objectOption<RedisCacheClient>('an ioredis client', ['get', 'set']).optional(),
        prefix: z.string().default('gatehouse:cache:'),
        timeoutMs: positiveInt().default(100),
      })
      .optional(),
    /** Answers larger than this are passed on but not cached. */
    maxBodyBytes: positiveInt().default(1024 * 1024),
    /** Identical concurrent GETs share one upstream call. */
    coalesce: z.boolean().default(true),
    /** Honour a client's `Cache-Control: no-cache` / `max-age` (a client could otherwise force upstream calls). */
    honorRequestDirectives: z.boolean().default(false),
    /** The cache's name in `Cache-Status`. */
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, { error: 'expected a token such as gatehouse' })
      .default('gatehouse'),
  })
  .check(
    z.superRefine(
      (value, ctx) => {
        if (value?.store === 'redis' && value.redis?.url === undefined && value.redis?.client === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['redis'],
            message: "store 'redis' needs redis.url or redis.client",
          });
        }
      },
      { when: () => true },
    ),
  );
export type CacheOptions = z.input<typeof cacheOptionsSchema>;
export type ResolvedCacheOptions = z.output<typeof cacheOptionsSchema>;

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

const text = () => z.string();

/** One named call of a composition. */
export const callSchema = z.strictObject({
  /** A service of the gateway (`services` in its configuration, or a `gw.client(name)`). */
  service: z.string().min(1),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  /** `/orders/{/params/id}`: references are JSON pointers into the context; each value is one encoded segment. */
  path: z
    .string()
    .regex(/^\/[^?#]*$/, { error: "expected a path starting with '/' without '?' or '#' (use 'query')" }),
  query: z.record(z.string().min(1), text()).optional(),
  headers: z.record(headerName(), text()).optional(),
  /** Incoming request headers passed on as they are (`authorization`, `accept-language`). */
  forward: z.array(headerName()).default([]),
  /** A JSON body from a template value: a pointer into the context. */
  body: pointer().optional(),
  /** Calls whose results this one uses; references in templates add theirs implicitly. */
  dependsOn: z.array(z.string()).default([]),
  /** `required` fails the composition when this call fails; `optional` leaves it out (or uses `fallback`). */
  policy: z.enum(['required', 'optional']).default('required'),
  /** The result of an optional call that failed, or of any call that was skipped. */
  fallback: z.unknown().optional(),
  /** Run only when the value at this pointer is present (not null, false or ''), or when the function says so. */
  when: z
    .union([
      pointer(),
      functionOption<(context: CompositionContext) => boolean>('a predicate of the context'),
    ])
    .optional(),
  /** One call per element of the array at this pointer (the element is `/item` in templates). */
  forEach: pointer().optional(),
  /** Calls of a fan-out in flight at once. */
  concurrency: positiveInt().default(4),
  /** Most elements a fan-out or a batch takes; more fail the call. */
  maxItems: positiveInt().default(100),
  /**
   * One call for the whole collection instead: the values at `value` (a pointer into each element)
   * joined with `separator` in query parameter `query`, or repeated when `separator` is `'repeat'`.
   */
  batch: z
    .strictObject({
      query: z.string().min(1),
      value: z.union([pointer(), z.literal('')]).default(''),
      separator: z.string().min(1).default(','),
    })
    .optional(),
  /** This call's own deadline (the composition's still applies). */
  timeoutMs: positiveInt().optional(),
  /** Largest answer read. */
  maxBodyBytes: positiveInt().optional(),
  /** Take this part of the answer as the call's result (`/data`). */
  extract: z.union([pointer(), z.literal('')]).optional(),
  /** Keep only these pointers of the result (each element of a fan-out). */
  pick: z.array(pointer()).optional(),
  /** Remove these pointers from the result. */
  omit: z.array(pointer()).optional(),
  /** Move values: `{ '/customer_id': '/customerId' }`. */
  rename: z.record(pointer(), pointer()).optional(),
  /** A fan-out's answers that are arrays, concatenated into one array. */
  flatten: z.boolean().default(false),
  /** The key of this call's result in a grouped body. @default the call's name */
  as: z.string().min(1).optional(),
  /** Leave the result out of the body (a call only others depend on). */
  include: z.boolean().default(true),
  /** Serve from the response cache (RFC 9111) when the gateway has one. */
  cache: z.boolean().optional(),
});
export type CallSpec = z.input<typeof callSchema>;
export type ResolvedCall = z.output<typeof callSchema>;

const callName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, {
  error: 'expected a call name of letters, digits, _ and - (it is a JSON pointer token)',
});

/** Options of `gw.aggregate()`. */
export const aggregateOptionsSchema = z.strictObject({
  /** Names the composition in errors and metrics. */
  name: z.string().min(1).default('aggregate'),
  /** Answer requests whose normalized path matches (`/screens/orders/:id`); without it, every request that reaches it. */
  path: z.string().regex(/^\//, { error: "expected a path starting with '/'" }).optional(),
  /** Methods answered; others pass on. */
  methods: z.array(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])).default(['GET', 'HEAD']),
  calls: z.record(callName, callSchema),
  /** The whole composition's deadline. */
  timeoutMs: positiveInt().default(5_000),
  /** Largest answer read from any call, unless the call sets its own. */
  maxBodyBytes: positiveInt().default(1024 * 1024),
  /** `group`: each call's result under its name (`as`); `merge`: objects merged in call order. */
  combine: z.enum(['group', 'merge']).default('group'),
  /** A function that builds the body from every result, instead of `combine`. */
  shape: functionOption<(results: Record<string, unknown>, context: CompositionContext) => unknown>(
    'a function of the results and the context',
  ).optional(),
  /** The key of the partial-answer report in an object body; `false` for none (the header stays). */
  partialKey: z.union([z.string().min(1), z.literal(false)]).default('_partial'),
  /** `Cache-Control` of complete answers (partial answers are always `no-store`). */
  cacheControl: z.string().default('no-store'),
  /** Identical concurrent upstream GETs (across requests) share one call. */
  coalesce: z.boolean().default(true),
  /** Serve every GET call from the gateway's response cache (a call's own `cache` wins). */
  cache: z.boolean().default(false),
});
export type AggregateOptions = z.input<typeof aggregateOptionsSchema>;
export type ResolvedAggregateOptions = z.output<typeof aggregateOptionsSchema>;
