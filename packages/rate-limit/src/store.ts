// Where counters live. A store makes one counter per window: memory is the embedded default, Redis
// serves fleets through rate-limiter-flexible (INCRBY and the TTL in one Lua script, so four
// instances bursting together admit no more than the limit in total).
import {
  DependencyMonitor,
  dependencyName,
  isThenable,
  loadPeer,
  missingPeer,
  parseOptions,
  peerInstalled,
} from '@gatehousejs/core';
import type { Redis, RedisOptions } from 'ioredis';
import type * as Flexible from 'rate-limiter-flexible';
import { memoryStoreOptionsSchema, redisStoreOptionsSchema } from './options.js';

/** What a counter says after spending points. */
export interface Answer {
  /** Points left in the window (0 when spent). */
  readonly remaining: number;
  /** Milliseconds until the window resets. */
  readonly resetMs: number;
  /** True when this spend went beyond the window's points: refuse the request. */
  readonly refused: boolean;
}

/**
 * One window's counters for every key. `consume` answers synchronously when it can (memory) and with
 * a promise otherwise (Redis); it throws or rejects only when the store fails.
 */
export interface Counter {
  /**
   * Spends `points` for `key`. A key's window starts at its first spend and lasts the counter's
   * duration, or `windowMs` when given (calendar quotas: the time left in the period).
   */
  consume(key: string, points: number, windowMs?: number): Answer | Promise<Answer>;
}

/** What a counter needs to know: its namespace, its points, its window. */
export interface CounterSpec {
  readonly keyPrefix: string;
  readonly points: number;
  readonly durationMs: number;
}

/**
 * A backend for counters; implement it to count elsewhere. `insurance` makes the per-process counter
 * used while the store fails.
 */
export interface LimiterStore {
  /** `'memory'`, `'redis'`, or your own. */
  readonly kind: string;
  counter(spec: CounterSpec): Counter;
  /** A per-process counter for when this store errors; `undefined` for none (then `failure` applies). */
  insurance?(spec: CounterSpec): Counter | undefined;
  /** True while the store is known to be failing (disconnected, or a command failed within the last second). */
  degraded?(): boolean;
  /**
   * The backend's availability, when it is remote: `rateLimit()` has it report its outage and its
   * recovery (each once) to the gateway of the requests it sees, instead of reporting store errors.
   */
  readonly monitor?: DependencyMonitor;
  close?(): Promise<void>;
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Keys each counter keeps at most. Expired windows are swept every `sweepIntervalMs`; beyond this
   * many live keys the oldest windows are dropped first (a flood of distinct keys costs bounded memory).
   *
   * @default 1_000_000
   */
  maxKeys?: number;
  /** @default 30_000 */
  sweepIntervalMs?: number;
}

interface Entry {
  count: number;
  resetAt: number;
}

/**
 * Counts in this process: fixed windows that start at a key's first request, as rate-limiter-flexible's
 * memory limiter counts. Written here rather than using RateLimiterMemory because that one answers
 * every call through a promise and arms one timer per key; a synchronous answer keeps an admitted
 * request free of promise hops (bench/RESULTS.md, issue 5), and one sweep per store bounds memory
 * without a timer per key.
 */
class MemoryCounter implements Counter {
  readonly entries = new Map<string, Entry>();
  readonly #points: number;
  readonly #durationMs: number;
  readonly #maxKeys: number;

  constructor(points: number, durationMs: number, maxKeys: number) {
    this.#points = points;
    this.#durationMs = durationMs;
    this.#maxKeys = maxKeys;
  }

  consume(key: string, points: number, windowMs?: number): Answer {
    const now = Date.now();
    let entry = this.entries.get(key);
    if (entry === undefined || entry.resetAt <= now) {
      if (entry === undefined && this.entries.size >= this.#maxKeys) this.#evict(now);
      entry = { count: 0, resetAt: now + (windowMs ?? this.#durationMs) };
      this.entries.set(key, entry);
    }
    entry.count += points;
    const remaining = this.#points - entry.count;
    return { remaining: Math.max(remaining, 0), resetMs: entry.resetAt - now, refused: remaining < 0 };
  }

  sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
  }

  #evict(now: number): void {
    this.sweep(now);
    // Still full: drop the oldest windows (Map iteration follows insertion order).
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.#maxKeys) break;
      this.entries.delete(key);
    }
  }
}

/** The embedded default: counters in this process. */
export function memoryStore(options: MemoryStoreOptions = {}): LimiterStore {
  const checked = parseOptions(memoryStoreOptionsSchema, options, { name: 'memoryStore' });
  const maxKeys = checked.maxKeys ?? 1_000_000;
  const sweepIntervalMs = checked.sweepIntervalMs ?? 30_000;
  const counters: MemoryCounter[] = [];
  let timer: NodeJS.Timeout | undefined;
  const make = (points: number, durationMs: number): MemoryCounter => {
    const counter = new MemoryCounter(points, durationMs, maxKeys);
    counters.push(counter);
    if (timer === undefined) {
      timer = setInterval(() => {
        const now = Date.now();
        for (const c of counters) c.sweep(now);
      }, sweepIntervalMs);
      timer.unref();
    }
    return counter;
  };
  return {
    kind: 'memory',
    counter: ({ points, durationMs }) => make(points, durationMs),
    close: async () => {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * The part of an ioredis client a Redis store relies on; an ioredis `Redis` instance fits. Declared
 * here rather than imported from ioredis, an optional peer dependency: declaration files importing it
 * failed to compile (TS2307) in TypeScript apps without it.
 */
export interface RedisClient {
  /** `'ready'` while connected. */
  readonly status: string;
  on(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** ioredis `RedisOptions`, passed on to the client Gatehouse makes from `url`. */
export type RedisClientOptions = Readonly<Record<string, unknown>>;

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client you own (you close it). Gatehouse never queues behind a dead connection: it
   * refuses to send while the client is not `ready` and bounds every command with `timeoutMs`.
   * For a client Gatehouse creates, give `url` instead.
   */
  client?: RedisClient;
  /**
   * `redis://[user:pass@]host:port[/db]`: Gatehouse creates (and closes) an ioredis client that fails
   * fast (no offline queue, no per-command retries) and reconnects in the background, backing off to 1 s.
   */
  url?: string;
  /** Extra ioredis options for the client made from `url`. */
  redisOptions?: RedisClientOptions;
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

type RedisCtor = new (url: string, options: RedisOptions) => Redis;

/** Counters in Redis (ioredis, through rate-limiter-flexible), with in-process insurance for outages. */
export function redisStore(options: RedisStoreOptions): LimiterStore {
  parseOptions(redisStoreOptionsSchema, options, { name: 'redisStore' });
  const timeoutMs = options.timeoutMs ?? 100;
  const instances = options.instances ?? 1;
  // Both are optional peer dependencies (memory counters need neither): the ConfigError's install
  // line names every one missing, so running it is enough.
  const missing = ['rate-limiter-flexible', ...(options.client === undefined ? ['ioredis'] : [])].filter(
    (name) => !peerInstalled(name, import.meta.url),
  );
  if (missing.length > 0)
    throw missingPeer(missing[0]!, {
      path: options.client === undefined ? 'redisStore.url' : 'redisStore.client',
      feature: 'a Redis store',
      install: missing.join(' '),
    });
  let client: Redis;
  let owned = false;
  if (options.client !== undefined) {
    client = options.client as unknown as Redis;
  } else {
    // ioredis is an optional peer dependency: loaded only when a Redis store is configured.
    const loaded = loadPeer<RedisCtor & { default?: RedisCtor }>('ioredis', {
      from: import.meta.url,
      path: 'redisStore.url',
      feature: 'a Redis store',
    });
    const Ctor = loaded.default ?? loaded;
    client = new Ctor(options.url!, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      // No commandTimeout: ioredis would arm a timer per command; the store's one deadline queue
      // bounds every spend instead (see Deadlines).
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
      ...options.redisOptions,
    });
    // Failures surface per command (counted, reported); an unhandled 'error' event would end the process.
    client.on('error', () => {});
    owned = true;
  }
  // rate-limiter-flexible is loaded with the first Redis store, not imported: memory counters do not
  // use it. CommonJS without an `exports` map, so there is one instance either way.
  const { RateLimiterRedis, RateLimiterRes } = loadPeer<typeof Flexible>('rate-limiter-flexible', {
    from: import.meta.url,
    path: 'redisStore',
    feature: 'a Redis store',
  });
  const toAnswer = (res: Flexible.RateLimiterRes, refused: boolean): Answer => ({
    remaining: res.remainingPoints,
    resetMs: Math.max(res.msBeforeNext, 0),
    refused,
  });
  const memory = options.insurance === false ? undefined : memoryStore();
  const deadlines = new Deadlines(timeoutMs);
  const monitor = new DependencyMonitor('redis', redisName(options, client));
  // Connection state changes are news even without traffic: a lost connection (each reconnect attempt
  // of a client Gatehouse owns emits 'error') and a regained one.
  if (owned) client.on('error', (error: unknown) => monitor.failed(error));
  client.on('ready', () => monitor.succeeded());
  // A hung Redis keeps its connection 'ready': recent command failures count as degraded too.
  let lastFailure = Number.NEGATIVE_INFINITY;
  return {
    kind: 'redis',
    counter: ({ keyPrefix, points, durationMs }) => {
      const limiter = new RateLimiterRedis({
        storeClient: client,
        keyPrefix,
        points,
        duration: Math.ceil(durationMs / 1000),
        rejectIfRedisNotReady: true,
      });
      return {
        consume: (key, cost, windowMs) =>
          deadlines
            .bound(
              limiter.consume(
                key,
                cost,
                windowMs === undefined ? {} : { customDuration: Math.ceil(windowMs / 1000) },
              ),
            )
            .then(
              (res) => {
                monitor.succeeded();
                return toAnswer(res, false);
              },
              (error: unknown) => {
                if (error instanceof RateLimiterRes) {
                  monitor.succeeded();
                  return toAnswer(error, true);
                }
                lastFailure = Date.now();
                monitor.failed(error);
                throw error;
              },
            ),
      };
    },
    insurance:
      memory === undefined
        ? undefined
        : (spec) => memory.counter({ ...spec, points: Math.ceil(spec.points / instances) }),
    degraded: () => client.status !== 'ready' || Date.now() - lastFailure < 1000,
    monitor,
    close: async () => {
      deadlines.close();
      await memory?.close?.();
      if (owned) client.disconnect();
    },
  };
}

/** The Redis a store talks to, for reports: `redis://host:port/db`, never its password. */
function redisName(options: RedisStoreOptions, client: Redis): string {
  if (options.url !== undefined) return dependencyName(options.url);
  const { host, port, path } =
    (client as { options?: { host?: string; port?: number; path?: string } }).options ?? {};
  return path !== undefined && path !== '' ? `redis+unix://${path}` : `redis://${host ?? '?'}:${port ?? '?'}`;
}

/** Why a Redis spend failed when Redis did not answer in time. */
export class StoreTimeout extends Error {
  override readonly name = 'StoreTimeout';
}

interface Pending {
  readonly deadline: number;
  readonly reject: (error: unknown) => void;
  settled: boolean;
}

/**
 * Bounds promises by one timeout with at most one timer for all of them. Written by hand: a timer per
 * Redis command (ioredis's `commandTimeout`, rate-limiter-flexible's `RLWrapperTimeouts`) cost the
 * Redis-limited benchmarks about 4 points of throughput (bench/RESULTS.md, session 6). Every spend has
 * the same timeout, so deadlines come in the order spends start: a FIFO queue, with one timer armed
 * for its oldest unsettled entry, is exact.
 */
export class Deadlines {
  readonly #timeoutMs: number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** `work`'s outcome, or a rejection with {@link StoreTimeout} once the timeout has passed. */
  bound<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { deadline: Date.now() + this.#timeoutMs, reject, settled: false };
      this.#queue.push(pending);
      if (this.#timer === undefined) this.#arm(this.#timeoutMs);
      work.then(
        (value) => {
          pending.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.settled = true;
          reject(error);
        },
      );
    });
  }

  /** Stops the timer; spends still pending are left to their own outcome. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#expire, Math.max(ms, 1));
    this.#timer.unref();
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = Date.now();
    const queue = this.#queue;
    let i = 0;
    for (; i < queue.length; i++) {
      const pending = queue[i]!;
      if (pending.settled) continue;
      if (pending.deadline > now) break;
      pending.settled = true;
      pending.reject(new StoreTimeout(`Redis did not answer within ${this.#timeoutMs} ms`));
    }
    // Settled entries after the first pending one stay until a later expiry reaches them.
    this.#queue = i === 0 ? queue : queue.slice(i);
    if (this.#queue.length > 0) this.#arm(this.#queue[0]!.deadline - now);
  };
}

/** A window's counters: its own, and the insurance one used while its store fails. */
export interface Insured {
  readonly counter: Counter;
  readonly insurance: Counter | undefined;
}

/** One spend: what to count, and a context handed back to the error handler (the exchange). */
export interface Spend {
  readonly key: string;
  readonly cost: number;
  readonly windowMs: number | undefined;
  readonly context?: unknown;
}

/** Told of each store failure, and whether the insurance counter then decided. */
export type StoreErrorHandler = (error: unknown, insured: boolean, context: unknown) => void;

/**
 * Spends on a counter and, when its store fails, on the insurance counter. Answers `undefined` when
 * both failed; never throws or rejects. Synchronous when the counters are, and then allocates nothing
 * beyond the answer (the failure path builds what it needs only when it runs).
 */
export function consumeWithInsurance(
  window: Insured,
  spend: Spend,
  report: StoreErrorHandler,
): Answer | undefined | Promise<Answer | undefined> {
  let answer: Answer | Promise<Answer>;
  try {
    answer = window.counter.consume(spend.key, spend.cost, spend.windowMs);
  } catch (error) {
    return insure(error, { window, spend, report });
  }
  if (!isThenable<Answer>(answer)) return answer;
  return Promise.resolve(answer).catch((error: unknown) => insure(error, { window, spend, report }));
}

function insure(
  error: unknown,
  { window, spend, report }: { window: Insured; spend: Spend; report: StoreErrorHandler },
): Answer | undefined | Promise<Answer | undefined> {
  const insurance = window.insurance;
  report(error, insurance !== undefined, spend.context);
  if (insurance === undefined) return undefined;
  const failed = (again: unknown): undefined => {
    report(again, false, spend.context);
    return undefined;
  };
  try {
    const answer = insurance.consume(spend.key, spend.cost, spend.windowMs);
    return isThenable<Answer>(answer) ? Promise.resolve(answer).catch(failed) : answer;
  } catch (again) {
    return failed(again);
  }
}
