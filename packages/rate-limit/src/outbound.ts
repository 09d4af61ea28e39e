// A limiter for outbound calls: protects a fragile upstream from this process (or, on a shared
// Redis store, from the whole fleet). Callers wait a bounded time for a token and a concurrency slot,
// then give up with GH_OUTBOUND_LIMITED rather than queueing forever.
import { parseOptions } from '@gatehousejs/core';
import { type Duration, durationMs } from './duration.js';
import { OutboundLimited } from './errors.js';
import { type LimitWindow, outboundLimiterOptionsSchema } from './options.js';
import { type Counter, consumeWithInsurance, type LimiterStore, memoryStore } from './store.js';

/** Options of {@link createOutboundLimiter}. */
export interface OutboundLimiterOptions {
  /** Namespaces the counters (`<prefix>:outbound:<name>:…`). @default 'default' */
  name?: string;
  /** Rolling windows the calls must fit (e.g. 50 per second to a partner API); each needs its `duration`. */
  limits?: readonly (Pick<LimitWindow, 'name' | 'points'> & { duration: Duration })[];
  /** Calls in flight at once. @default unlimited */
  maxConcurrent?: number;
  /** Callers that may wait for a slot; beyond, calls fail at once. @default 1000 */
  maxQueue?: number;
  /** How long a call may wait for a slot and a token before failing with GH_OUTBOUND_LIMITED. @default 1000 */
  maxWaitMs?: number;
  /** Where window counters live; a shared Redis store limits the whole fleet. @default memoryStore() */
  store?: LimiterStore;
  /** @default 'gatehouse:rl' */
  prefix?: string;
}

/** Per-call options. */
export interface AcquireOptions {
  /** Aborts the wait (the call then rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Separate budgets per key (an endpoint, a tenant). @default 'all' */
  key?: string;
  /** Points this call spends. @default 1 */
  cost?: number;
}

/** A limiter for outbound calls. */
export interface OutboundLimiter {
  /**
   * Waits for a concurrency slot and a token; resolves with the function that gives the slot back
   * (call it exactly once, when the call ends). Rejects with `OutboundLimited` (503) when neither
   * comes within `maxWaitMs`, or with the signal's reason when aborted.
   */
  acquire(options?: AcquireOptions): Promise<() => void>;
  /** Runs `fn` inside a slot, releasing it however `fn` ends. */
  run<T>(fn: () => Promise<T>, options?: AcquireOptions): Promise<T>;
  stats(): OutboundLimiterStats;
  close(): Promise<void>;
}

export interface OutboundLimiterStats {
  readonly admitted: number;
  readonly rejected: number;
  readonly inFlight: number;
  readonly waiting: number;
}

interface OutboundWindow {
  readonly name: string;
  readonly counter: Counter;
  readonly insurance: Counter | undefined;
}

const ignore = (): void => {};

interface Waiter {
  grant(): void;
}

/**
 * Creates an outbound limiter.
 *
 * @throws ConfigError listing every problem in the options.
 * @example
 *   const partner = createOutboundLimiter({ limits: [{ points: 50, duration: '1s' }], maxConcurrent: 10 });
 *   const res = await partner.run(() => fetch('https://partner.example/api'));
 */
export function createOutboundLimiter(options: OutboundLimiterOptions = {}): OutboundLimiter {
  const o = parseOptions(outboundLimiterOptionsSchema, options, { name: 'outboundLimiter' });
  const name = o.name ?? 'default';
  const store = o.store ?? memoryStore();
  const prefix = o.prefix ?? 'gatehouse:rl';
  const maxConcurrent = o.maxConcurrent ?? Number.POSITIVE_INFINITY;
  const maxQueue = o.maxQueue ?? 1000;
  const maxWaitMs = o.maxWaitMs ?? 1000;
  const windows: OutboundWindow[] = (o.limits ?? []).map((w) => {
    const ms = durationMs(w.duration)!;
    const windowName = w.name ?? `${ms / 1000}s`;
    const spec = { keyPrefix: `${prefix}:outbound:${name}:${windowName}`, points: w.points, durationMs: ms };
    return { name: windowName, counter: store.counter(spec), insurance: store.insurance?.(spec) };
  });

  let inFlight = 0;
  let admitted = 0;
  let rejected = 0;
  const queue: Waiter[] = [];

  const refuse = (why: string, retryMs: number): never => {
    rejected++;
    throw new OutboundLimited(why, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryMs / 1000))) },
    });
  };

  const releaseSlot = (): void => {
    const next = queue.shift();
    if (next !== undefined) next.grant();
    else inFlight--;
  };

  const slot = (deadline: number, signal: AbortSignal | undefined): Promise<void> | undefined => {
    if (inFlight < maxConcurrent) {
      inFlight++;
      return undefined;
    }
    if (queue.length >= maxQueue) refuse('Too many calls waiting for this upstream', 1000);
    return new Promise<void>((resolvePromise, reject) => {
      const waiter: Waiter = {
        grant: () => {
          cleanup();
          resolvePromise();
        },
      };
      const drop = (error: unknown) => {
        const at = queue.indexOf(waiter);
        if (at !== -1) queue.splice(at, 1);
        cleanup();
        reject(error);
      };
      const timer = setTimeout(
        () => {
          try {
            refuse('No capacity to this upstream within the wait limit', 1000);
          } catch (error) {
            drop(error);
          }
        },
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => drop(signal!.reason);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  };

  const consume = (w: OutboundWindow, key: string, cost: number) =>
    // A failed store (and insurance) admits: an outbound limiter must not take the service down.
    consumeWithInsurance(w, { key, cost, windowMs: undefined }, ignore);

  const sleep = (ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(done, ms);
      function done() {
        signal?.removeEventListener('abort', onAbort);
        resolvePromise();
      }
      function onAbort() {
        clearTimeout(timer);
        reject(signal!.reason);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const tokens = async (deadline: number, o: AcquireOptions): Promise<void> => {
    const key = o.key ?? 'all';
    const cost = o.cost ?? 1;
    for (const w of windows) {
      for (;;) {
        o.signal?.throwIfAborted();
        const answer = await consume(w, key, cost);
        if (answer === undefined || !answer.refused) break;
        const wait = Math.max(answer.resetMs, 1);
        if (Date.now() + wait > deadline) refuse(`Outbound limit '${w.name}' reached`, wait);
        await sleep(wait, o.signal);
      }
    }
  };

  const limiter: OutboundLimiter = {
    async acquire(o = {}) {
      o.signal?.throwIfAborted();
      const deadline = Date.now() + maxWaitMs;
      if (maxConcurrent !== Number.POSITIVE_INFINITY) await slot(deadline, o.signal);
      try {
        await tokens(deadline, o);
      } catch (error) {
        if (maxConcurrent !== Number.POSITIVE_INFINITY) releaseSlot();
        throw error;
      }
      admitted++;
      let released = false;
      return () => {
        if (released || maxConcurrent === Number.POSITIVE_INFINITY) return;
        released = true;
        releaseSlot();
      };
    },
    async run(fn, o) {
      const release = await limiter.acquire(o);
      try {
        return await fn();
      } finally {
        release();
      }
    },
    stats: () => ({
      admitted,
      rejected,
      inFlight: maxConcurrent === Number.POSITIVE_INFINITY ? 0 : inFlight,
      waiting: queue.length,
    }),
    async close() {
      await store.close?.();
    },
  };
  return limiter;
}
