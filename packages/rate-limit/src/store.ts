// Where counters live. A store makes one rate-limiter-flexible limiter per window; memory is the
// embedded default, Redis serves fleets (atomic INCR+TTL in one Lua script, so four instances
// bursting together admit no more than the limit in total).
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';

/** The subset of a rate-limiter-flexible limiter Gatehouse uses. */
export interface Counter {
  consume(key: string, points: number, options?: { customDuration?: number }): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
  delete(key: string): Promise<boolean>;
}

/** What a counter needs to know: its namespace, its points, its window in whole seconds. */
export interface CounterSpec {
  readonly keyPrefix: string;
  readonly points: number;
  readonly durationSec: number;
}

/**
 * A backend for counters. Implement it to put counters elsewhere (any rate-limiter-flexible store
 * fits). `insurance` is the limiter used while the store fails; `degraded` says whether it does now.
 */
export interface LimiterStore {
  /** `'memory'`, `'redis'`, or your own. */
  readonly kind: string;
  counter(spec: CounterSpec): Counter;
  /** A per-process counter used when this store errors; `undefined` for none (then `failure` applies). */
  insurance?(spec: CounterSpec): Counter | undefined;
  /** True when the store is known to be unreachable right now (for stats and spans). */
  degraded?(): boolean;
  close?(): Promise<void>;
}

/** The embedded default: counters in this process. */
export function memoryStore(): LimiterStore {
  return {
    kind: 'memory',
    counter: ({ keyPrefix, points, durationSec }) =>
      new RateLimiterMemory({ keyPrefix, points, duration: durationSec }) as unknown as Counter,
  };
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client you own (you close it). Gatehouse never queues behind a dead connection: it
   * refuses to send while the client is not `ready` and bounds every command with `timeoutMs`.
   * For a client Gatehouse creates, give `url` instead.
   */
  client?: Redis;
  /**
   * `redis://[user:pass@]host:port[/db]`: Gatehouse creates (and closes) an ioredis client that fails
   * fast (no offline queue, no per-command retries) and reconnects in the background.
   */
  url?: string;
  /** Extra ioredis options for the client made from `url`. */
  redisOptions?: RedisOptions;
  /**
   * How long a Redis round trip may take before the insurance limiter (or `failure`) decides.
   *
   * @default 100 (milliseconds)
   */
  timeoutMs?: number;
  /**
   * While Redis fails, count in this process instead (an insurance limiter) so limits still hold
   * approximately. With `instances: n`, each process admits `points / n` (rounded up) per window.
   *
   * @default true
   */
  insurance?: boolean;
  /**
   * How many gateway processes share this Redis: sizes the insurance limits.
   *
   * @default 1
   */
  instances?: number;
}

const requireHere = createRequire(import.meta.url);

/** Counters in Redis (via ioredis), with an in-process insurance limiter for outages. */
export function redisStore(options: RedisStoreOptions): LimiterStore {
  const timeoutMs = options.timeoutMs ?? 100;
  const instances = options.instances ?? 1;
  const insurance = options.insurance ?? true;
  let client: Redis;
  let owned = false;
  if (options.client !== undefined) {
    client = options.client;
  } else {
    // ioredis is an optional peer dependency: loaded only when a Redis store is configured.
    const IORedis = requireHere('ioredis') as {
      default?: new (url: string, o: RedisOptions) => Redis;
    } & (new (
      url: string,
      o: RedisOptions,
    ) => Redis);
    const Ctor = IORedis.default ?? IORedis;
    client = new Ctor(options.url!, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // Reconnect forever, backing off to 1 s: recovery needs no restart.
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
      ...options.redisOptions,
    });
    // Errors surface per command (and are counted); an unhandled 'error' event would crash the process.
    client.on('error', () => {});
    owned = true;
  }
  return {
    kind: 'redis',
    counter: ({ keyPrefix, points, durationSec }) => {
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix,
        points,
        duration: durationSec,
        rejectIfRedisNotReady: true,
      });
      return new RLWrapperTimeouts({
        limiter: limiter as unknown as RateLimiterAbstract,
        timeoutMs,
      }) as unknown as Counter;
    },
    insurance: insurance
      ? ({ keyPrefix, points, durationSec }) =>
          new RateLimiterMemory({
            keyPrefix,
            points: Math.ceil(points / instances),
            duration: durationSec,
          }) as unknown as Counter
      : undefined,
    degraded: () => client.status !== 'ready',
    close: async () => {
      if (owned) client.disconnect();
    },
  };
}

/** Whether a rejection from a counter means "limit reached" (rather than a store failure). */
export const isLimitReached = (value: unknown): value is RateLimiterRes => value instanceof RateLimiterRes;

// Answers that refused: a counter rejects with its RateLimiterRes when the limit is reached and
// resolves with it otherwise. The answer is tagged rather than recomputed from points, because the
// insurance counter that may have answered has smaller limits than the window.
const refused = new WeakSet<RateLimiterRes>();

/**
 * Consumes on a counter and, when its store fails, on the insurance counter. Resolves with the
 * answer (see {@link wasRefused}) or `undefined` when both failed; never rejects.
 */
export function consumeWithInsurance(
  counter: Counter,
  insurance: Counter | undefined,
  call: { key: string; cost: number; options: { customDuration: number } | undefined },
  onStoreError: (error: unknown, insured: boolean) => void,
): Promise<RateLimiterRes | undefined> {
  const limitOrFail = (error: unknown): RateLimiterRes | undefined => {
    if (!isLimitReached(error)) return undefined;
    refused.add(error);
    return error;
  };
  return counter.consume(call.key, call.cost, call.options).then(undefined, (error: unknown) => {
    if (isLimitReached(error)) return limitOrFail(error);
    onStoreError(error, insurance !== undefined);
    if (insurance === undefined) return undefined;
    return insurance.consume(call.key, call.cost, call.options).then(undefined, (again: unknown) => {
      if (isLimitReached(again)) return limitOrFail(again);
      onStoreError(again, false);
      return undefined;
    });
  });
}

/** Whether a counter's answer refused the request (the window's points are spent). */
export const wasRefused = (answer: RateLimiterRes): boolean => refused.has(answer);
