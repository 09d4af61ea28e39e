// Self-registration in etcd: a service puts its endpoint under the service's prefix with a lease,
// keeps the lease alive by heartbeat, registers again under a new lease if the old one is lost
// (revoked, or expired while etcd was out of reach), and revokes it on shutdown so that resolvers
// drop the endpoint at once instead of after the TTL.
import { Problems, parseOptions } from '@gatehousejs/core';
import type { Lease, Namespace } from 'etcd3';
import { backoffMs } from './base.js';
import { type EndpointSpec, readEndpoint } from './endpoints.js';
import { DiscoveryClosed, LeaseLost } from './errors.js';
import { createEtcdClient, deadline, type EtcdConnectionOptions } from './etcd-client.js';
import { etcdRegistrationOptionsSchema } from './options.js';

/** Options of {@link registerWithEtcd}. */
export interface EtcdRegistrationOptions extends EtcdConnectionOptions {
  /** The service's prefix, the one its resolvers watch, e.g. `'/services/orders/'`. */
  prefix: string;
  /**
   * This instance: a URL (`'http://10.0.0.7:8080'`) or `{ host, port, protocol?, weight?,
   * priority?, zone?, metadata? }`. Written as JSON that etcdResolver's default parser reads.
   */
  endpoint: EndpointSpec;
  /** The key to write. @default prefix + the endpoint's id (`host:port`), stable across restarts */
  key?: string;
  /**
   * The lease's time to live: how long resolvers keep seeing this instance after it died without
   * closing. The heartbeat runs every third of it. etcd raises very short TTLs to its minimum.
   *
   * @default 10
   */
  ttlSeconds?: number;
  /** The deadline of each call to etcd (grant, put, revoke). @default 5000 */
  timeoutMs?: number;
  /** After a failure, register again after about this long, doubling on each further failure… @default 250 */
  retryInitialMs?: number;
  /** …up to this. @default 5000 */
  retryMaxMs?: number;
}

/** What {@link EtcdRegistration.status} reports. */
export interface RegistrationStatus {
  /** True while the key is written under a live lease (as far as this process knows). */
  readonly registered: boolean;
  /** The current lease, once granted. */
  readonly leaseId?: string;
  /** Epoch ms of the last successful registration. */
  readonly lastSuccessAt?: number;
  /** Why the last attempt failed or the lease was lost; cleared by the next registration. */
  readonly lastError?: Error;
}

/** A running registration. */
export interface EtcdRegistration {
  /** The key written. */
  readonly key: string;
  /** Settles once registered for the first time; rejects only when closed before that. */
  ready(): Promise<void>;
  status(): RegistrationStatus;
  /** Stops the heartbeat and revokes the lease, which deletes the key; never throws. */
  close(): Promise<void>;
}

interface Settings {
  hosts: string[];
  ttlSeconds: number;
  timeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

class Registration implements EtcdRegistration {
  readonly key: string;
  readonly #value: string;
  readonly #o: Settings;
  #client: Namespace | undefined;
  #owned: { close(): void } | undefined;
  #lease: Lease | undefined;
  #leaseId: string | undefined;
  #registered = false;
  #lastSuccessAt: number | undefined;
  #lastError: Error | undefined;
  #closed = false;
  #generation = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void>;
  #settled = false;
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;

  constructor(key: string, value: string, client: Namespace | undefined, options: Settings) {
    this.key = key;
    this.#value = value;
    this.#client = client;
    this.#o = options;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => {});
    this.#running = this.#start();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  status(): RegistrationStatus {
    return Object.freeze({
      registered: this.#registered,
      ...(this.#leaseId !== undefined ? { leaseId: this.#leaseId } : {}),
      ...(this.#lastSuccessAt !== undefined ? { lastSuccessAt: this.#lastSuccessAt } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#generation++;
    clearTimeout(this.#timer);
    if (!this.#settled) {
      this.#settled = true;
      this.#rejectReady(new DiscoveryClosed(`registration of ${this.key} was closed before it succeeded`));
    }
    await this.#running;
    const lease = this.#lease;
    this.#lease = undefined;
    this.#registered = false;
    if (lease !== undefined) {
      // Revoking deletes the key now; if etcd is unreachable the lease simply expires after its TTL.
      await lease.revoke(deadline(this.#o.timeoutMs)).catch(() => {});
    }
    this.#owned?.close();
  }

  async #start(): Promise<void> {
    if (this.#client === undefined) {
      try {
        const client = await createEtcdClient(this.#o.hosts, this.#o);
        this.#owned = client;
        this.#client = client as unknown as Namespace;
      } catch (error) {
        this.#lastError = error as Error;
        return;
      }
    }
    await this.#register();
  }

  /** Grants a lease and writes the key under it; the lease's keepalive then runs on its own. */
  async #register(): Promise<void> {
    if (this.#closed) return;
    const generation = ++this.#generation;
    const previous = this.#lease;
    const lease = this.#client!.lease(this.#o.ttlSeconds, deadline(this.#o.timeoutMs));
    this.#lease = lease;
    lease.on('lost', (error) => this.#lost(generation, error));
    try {
      await lease.put(this.key).value(this.#value).options(deadline(this.#o.timeoutMs)).exec();
      this.#leaseId = await lease.grant();
    } catch (error) {
      this.#lost(generation, error as Error);
      return;
    }
    if (this.#closed || generation !== this.#generation) return;
    this.#registered = true;
    this.#lastSuccessAt = Date.now();
    this.#lastError = undefined;
    this.#failures = 0;
    if (!this.#settled) {
      this.#settled = true;
      this.#resolveReady();
    }
    // The key now hangs on the new lease; the old one, if etcd still has it, only wastes a slot.
    if (previous !== undefined) void previous.revoke(deadline(this.#o.timeoutMs)).catch(() => {});
  }

  #lost(generation: number, error: Error): void {
    if (this.#closed || generation !== this.#generation) return;
    this.#generation++;
    this.#registered = false;
    // Stop this lease's keepalive; it is revoked once a new registration replaced it.
    this.#lease?.release();
    this.#lastError = new LeaseLost(`${this.key}: ${error.message} (registering again)`, { cause: error });
    const delay = backoffMs(this.#failures++, this.#o.retryInitialMs, this.#o.retryMaxMs);
    this.#timer = setTimeout(() => {
      this.#running = this.#register();
    }, delay).unref();
  }
}

/**
 * Announces this instance under `prefix` with a lease and a heartbeat, and keeps it announced until
 * `close()`. Registration starts at once and retries with backoff while etcd is unreachable.
 *
 * @throws ConfigError (`GH_CONFIG_INVALID`) listing every invalid option.
 * @example
 *   const registration = registerWithEtcd({
 *     hosts: 'http://127.0.0.1:2379',
 *     prefix: '/services/orders/',
 *     endpoint: { host: '10.0.0.7', port: 8080, zone: 'eu-west-1a' },
 *   });
 *   process.once('SIGTERM', () => void registration.close().then(() => server.close()));
 */
export function registerWithEtcd(options: EtcdRegistrationOptions): EtcdRegistration {
  const o = parseOptions(etcdRegistrationOptionsSchema, options, { name: 'registerWithEtcd' });
  const hosts = o.hosts === undefined ? [] : typeof o.hosts === 'string' ? [o.hosts] : [...o.hosts];
  const endpoint = readEndpoint(o.endpoint, new Problems('registerWithEtcd'), 'endpoint');
  const ttlSeconds = o.ttlSeconds ?? 10;
  const timeoutMs = o.timeoutMs ?? 5_000;
  const retryInitialMs = o.retryInitialMs ?? 250;
  const retryMaxMs = o.retryMaxMs ?? 5_000;
  const e = endpoint!;
  // The id is the key's business; everything else a resolver needs travels in the value.
  const value = JSON.stringify({
    host: e.host,
    port: e.port,
    protocol: e.protocol,
    weight: e.weight,
    priority: e.priority,
    ...(e.zone !== undefined ? { zone: e.zone } : {}),
    ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
    ...(e.metadata !== undefined ? { metadata: e.metadata } : {}),
  });
  return new Registration(
    options.key ?? `${options.prefix}${e.id}`,
    value,
    options.client as unknown as Namespace | undefined,
    {
      hosts,
      ttlSeconds,
      timeoutMs,
      retryInitialMs,
      retryMaxMs,
    },
  );
}
