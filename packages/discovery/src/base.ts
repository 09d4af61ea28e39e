// What every resolver shares: the published list (replaced only on a real change), its subscribers,
// readiness, the health of the source, and closing. Sources only call publish/succeeded/failed.
import { DependencyMonitor } from '@gatehousejs/core';
import type { Endpoint, Resolver, ResolverStatus } from './endpoint.js';
import { sameEndpoints, sortedById } from './endpoints.js';
import { DiscoveryClosed } from './errors.js';

const NONE: readonly Endpoint[] = Object.freeze([]);

/** A warning, not a throw: one faulty subscriber must neither stop the others nor the source. */
export function warn(code: string, message: string, error?: unknown): void {
  process.emitWarning(message, {
    type: 'GatehouseWarning',
    code,
    ...(error instanceof Error && error.stack !== undefined ? { detail: error.stack } : {}),
  });
}

export abstract class BaseResolver implements Resolver {
  readonly name: string;
  /** The source's availability, for remote sources (`kind` given): outages and recoveries, once each. */
  readonly monitor: DependencyMonitor | undefined;
  #endpoints: readonly Endpoint[] = NONE;
  readonly #listeners = new Set<(endpoints: readonly Endpoint[]) => void>();
  #lastSuccessAt: number | undefined;
  #lastError: Error | undefined;
  #closed = false;
  #settled = false;
  readonly #ready: Promise<readonly Endpoint[]>;
  #resolveReady!: (endpoints: readonly Endpoint[]) => void;
  #rejectReady!: (error: Error) => void;

  /** `kind` (`'dns'`, `'etcd'`) marks a remote source whose outages are worth reporting. */
  constructor(name: string, kind?: string) {
    this.name = name;
    this.monitor = kind === undefined ? undefined : new DependencyMonitor(kind, name);
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Closing before the first resolution rejects ready(); nobody awaiting it is not an error.
    this.#ready.catch(() => {});
  }

  current(): readonly Endpoint[] {
    return this.#endpoints;
  }

  subscribe(listener: (endpoints: readonly Endpoint[]) => void): () => void {
    if (this.#closed) return () => {};
    // A wrapper, so subscribing the same function twice gives two independent subscriptions.
    const entry = (endpoints: readonly Endpoint[]) => listener(endpoints);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  ready(): Promise<readonly Endpoint[]> {
    return this.#ready;
  }

  status(): ResolverStatus {
    const status: { -readonly [K in keyof ResolverStatus]: ResolverStatus[K] } = {
      stale: this.#lastError !== undefined,
    };
    if (this.#lastSuccessAt !== undefined) status.lastSuccessAt = this.#lastSuccessAt;
    if (this.#lastError !== undefined) status.lastError = this.#lastError;
    return Object.freeze(status);
  }

  /** True once close() was called; sources check it after every await. */
  protected get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (!this.#settled) {
      this.#settled = true;
      this.#rejectReady(new DiscoveryClosed(`${this.name} was closed before its first resolution`));
    }
    await this.stop();
  }

  /** Releases the source's timers, sockets and watches. Called once, by close(). */
  protected abstract stop(): Promise<void>;

  /** Replaces the list and tells subscribers, unless nothing a consumer can see changed. */
  protected publish(endpoints: Iterable<Endpoint>): boolean {
    if (this.#closed) return false;
    const next = sortedById(endpoints);
    if (sameEndpoints(next, this.#endpoints)) return false;
    this.#endpoints = next;
    for (const listener of [...this.#listeners]) {
      try {
        listener(next);
      } catch (error) {
        warn(
          'GH_DISCOVERY_SUBSCRIBER_THREW',
          `${this.name}: a subscriber threw: ${(error as Error)?.message ?? String(error)}`,
          error,
        );
      }
    }
    return true;
  }

  /**
   * The source answered: the list shown is current. `complete: false` for an answer only partly
   * fresh (a failure follows at once): it does not end an outage.
   */
  protected succeeded(complete = true): void {
    this.#lastSuccessAt = Date.now();
    this.#lastError = undefined;
    if (complete && !this.#closed) this.monitor?.succeeded();
  }

  /** The source failed: the list shown (unchanged by this) is the last known good one. */
  protected failed(error: Error): void {
    this.#lastError = error;
    if (!this.#closed) this.monitor?.failed(error);
  }

  /** The first resolution finished, with whatever it found. */
  protected settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolveReady(this.#endpoints);
  }
}

/**
 * Exponential backoff with jitter for retries after a failure: attempt 0 waits about `initialMs`,
 * each further one twice as long, never more than `maxMs`. Jitter (50–100 %) keeps a fleet that
 * lost its source at the same moment from retrying in lockstep.
 */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(base * (0.5 + Math.random() * 0.5)));
}
