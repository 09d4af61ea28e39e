// Where cached answers live: a small interface with an in-process LRU default (bounded by entries and
// bytes) and a Redis store shared by a fleet. A store never decides freshness; the cache does, from
// the stored policy (http-cache-semantics).
import { loadPeer } from '@gatehousejs/core';
import CachePolicy from 'http-cache-semantics';
import type { Redis, RedisOptions } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** One stored answer and the policy that says how long it may be reused. */
export interface CacheEntry {
  readonly policy: CachePolicy;
  readonly status: number;
  /** The answer's end-to-end headers (hop-by-hop ones removed), without `Age`. */
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  /** The request header names the answer's `Vary` lists (lower case), and their values when stored. */
  readonly vary: readonly string[];
  readonly varyKey: string;
  /** Epoch milliseconds until which the entry is fresh, and at which its age was zero. */
  readonly freshUntil: number;
  readonly bornAt: number;
  /**
   * Set when stored: every header already passes the gateway's response hygiene unchanged (lower-case
   * token names, no hop-by-hop ones, safe values), so a route writing a hit can skip that pass. An
   * entry without it (another store's, a deserialized one) is filtered as any upstream answer.
   */
  readonly clean?: boolean;
}

/**
 * A cache backend. Reads and writes may be synchronous (memory) or not (Redis); a failing backend
 * rejects and the cache carries on without it.
 */
export interface CacheStore {
  /** `'memory'`, `'redis'`, or your own, for diagnostics. */
  readonly kind: string;
  /** `get` answers synchronously (a fresh hit is then served without a promise). */
  readonly sync?: boolean;
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  /** Stores `entry` for `ttlMs` (the policy's time to live, stale windows included). */
  set(key: string, entry: CacheEntry, ttlMs: number): void | Promise<void>;
  delete(key: string): boolean | Promise<boolean>;
  /** Deletes every key starting with `prefix`; resolves with how many went. */
  deletePrefix(prefix: string): number | Promise<number>;
  close?(): void | Promise<void>;
}

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  maxEntries?: number;
  /** Most bytes kept (bodies and headers, roughly). @default 64 MiB */
  maxBytes?: number;
}

const sizeOf = (key: string, entry: CacheEntry): number => {
  let size = key.length + entry.body.length + 64;
  for (const name in entry.headers) size += name.length + String(entry.headers[name]).length + 4;
  return size;
};

/** An in-process LRU store (lru-cache), bounded by entries and bytes; entries expire with their TTL. */
export function memoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const lru = new LRUCache<string, CacheEntry>({
    max: options.maxEntries ?? 10_000,
    maxSize: maxBytes,
    // One entry may not take more than an eighth of the store: a huge answer would flush everything.
    maxEntrySize: Math.max(1, Math.floor(maxBytes / 8)),
    sizeCalculation: (entry, key) => sizeOf(key, entry),
    ttlAutopurge: false,
  });
  // One options object for every read: lru-cache's `get(key)` makes (and extends) a fresh one per call.
  const readOptions: LRUCache.GetOptions<string, CacheEntry, unknown> = {};
  return {
    kind: 'memory',
    sync: true,
    get: (key) => lru.get(key, readOptions),
    set(key, entry, ttlMs) {
      lru.set(key, entry, { ttl: Math.max(1, ttlMs) });
    },
    delete: (key) => lru.delete(key),
    deletePrefix(prefix) {
      let n = 0;
      for (const key of [...lru.keys()]) if (key.startsWith(prefix) && lru.delete(key)) n++;
      return n;
    },
    close() {
      lru.clear();
    },
  };
}

/**
 * An ioredis client (a `Redis` instance) as the Redis store takes it. Declared here rather than
 * imported from ioredis, an optional peer dependency: declaration files importing it failed to
 * compile (TS2307) in TypeScript apps without it.
 */
export interface RedisCacheClient {
  getBuffer(...args: never[]): unknown;
  get(...args: never[]): unknown;
  set(...args: never[]): unknown;
  unlink(...args: never[]): unknown;
  scan(...args: never[]): unknown;
  disconnect(): void;
}

/** Options of {@link redisStore}. */
export interface RedisCacheStoreOptions {
  /** `redis://host:port`; or give `client`. */
  url?: string;
  /** An ioredis client you own (not closed with the store). */
  client?: RedisCacheClient;
  /** Prefix of every key. @default 'gatehouse:cache:' */
  prefix?: string;
  /** Longest wait for one Redis command; past it the cache goes on without Redis. @default 100 */
  timeoutMs?: number;
  /** Extra ioredis options (`RedisOptions`) when the store makes its own client. */
  redisOptions?: Readonly<Record<string, unknown>>;
}

type RedisCtor = new (url: string, options: RedisOptions) => Redis;

/** What goes into Redis: the policy as http-cache-semantics serialises it, headers, the body in base64. */
interface Serialized {
  p: CachePolicy.CachePolicyObject;
  s: number;
  h: Record<string, string | string[]>;
  b: string;
  v: string[];
  k: string;
  f: number;
  a: number;
}

const GLOB = /[*?[\]\\]/g;

/** Bounds a Redis command: ioredis has no per-call timeout without a timer per command anyway. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * A Redis store (ioredis, an optional peer dependency loaded when this is called), shared by every
 * instance of a fleet. Commands fail fast while Redis is down (no offline queue); the cache then
 * answers from upstream as if it had no store.
 */
export function redisStore(options: RedisCacheStoreOptions): CacheStore {
  const prefix = options.prefix ?? 'gatehouse:cache:';
  const timeoutMs = options.timeoutMs ?? 100;
  let client: Redis;
  let owned = false;
  if (options.client !== undefined) client = options.client as unknown as Redis;
  else {
    const loaded = loadPeer<RedisCtor & { default?: RedisCtor }>('ioredis', {
      from: import.meta.url,
      path: 'responseCache.redis.url',
      feature: 'a Redis response cache',
    });
    const Ctor = loaded.default ?? loaded;
    client = new Ctor(options.url!, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1_000),
      ...options.redisOptions,
    });
    // Failures surface per command; an unhandled 'error' event would end the process.
    client.on('error', () => {});
    owned = true;
  }
  // Without an offline queue a command sent while the connection is still being made fails at once:
  // the first requests after start would report an outage that is not one. Until the client is ready
  // a command waits for it (at most timeoutMs); once it was ready, a lost connection fails fast.
  let everReady = client.status === 'ready';
  const ready = (): Promise<void> | undefined => {
    if (client.status === 'ready') {
      everReady = true;
      return undefined;
    }
    if (
      everReady ||
      (client.status !== 'connecting' && client.status !== 'wait' && client.status !== 'connect')
    )
      return undefined;
    if (client.status === 'wait') void client.connect().catch(() => {});
    return within(
      new Promise<void>((resolve) => {
        client.once('ready', () => resolve());
      }),
      timeoutMs,
    ).then(() => {
      everReady = true;
    });
  };
  const run = <T>(command: () => Promise<T>, ms = timeoutMs): Promise<T> => {
    const waiting = ready();
    return waiting === undefined ? within(command(), ms) : waiting.then(() => within(command(), ms));
  };
  return {
    kind: 'redis',
    async get(key) {
      const raw = await run(() => client.getBuffer(prefix + key));
      if (raw === null) return undefined;
      const data = JSON.parse(raw.toString('utf8')) as Serialized;
      return {
        policy: CachePolicy.fromObject(data.p),
        status: data.s,
        headers: data.h,
        body: Buffer.from(data.b, 'base64'),
        vary: data.v,
        varyKey: data.k,
        freshUntil: data.f,
        bornAt: data.a,
      };
    },
    async set(key, entry, ttlMs) {
      const data: Serialized = {
        p: entry.policy.toObject(),
        s: entry.status,
        h: entry.headers as Record<string, string | string[]>,
        b: entry.body.toString('base64'),
        v: [...entry.vary],
        k: entry.varyKey,
        f: entry.freshUntil,
        a: entry.bornAt,
      };
      await run(() => client.set(prefix + key, JSON.stringify(data), 'PX', Math.max(1, Math.ceil(ttlMs))));
    },
    async delete(key) {
      return (await run(() => client.unlink(prefix + key))) > 0;
    },
    async deletePrefix(start) {
      // SCAN, not KEYS: a large keyspace is walked in steps without blocking Redis.
      const pattern = `${(prefix + start).replace(GLOB, '\\$&')}*`;
      let cursor = '0';
      let n = 0;
      do {
        const [next, keys] = await run(
          () => client.scan(cursor, 'MATCH', pattern, 'COUNT', 500),
          timeoutMs * 10,
        );
        cursor = next;
        if (keys.length > 0) n += await run(() => client.unlink(...keys), timeoutMs * 10);
      } while (cursor !== '0');
      return n;
    },
    async close() {
      if (owned) client.disconnect();
    },
  };
}
