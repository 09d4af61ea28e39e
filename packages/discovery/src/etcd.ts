// etcd v3 discovery: every key under a prefix is one endpoint. A full read, then a watch from the
// revision right after it, keeps the list exact; when the watch breaks (etcd down, restarted, the
// history compacted) the list is kept, marked stale, and rebuilt by a fresh full read once etcd
// answers again — so changes made while the watch was down are seen even when no history of them is
// left to replay.
import { ConfigError, Problems, parseOptions } from '@gatehousejs/core';
import type { IKeyValue, Namespace, Watcher } from 'etcd3';
import { BaseResolver, backoffMs, warn } from './base.js';
import type { Endpoint, Resolver } from './endpoint.js';
import { type EndpointSpec, readEndpoint } from './endpoints.js';
import { EtcdUnavailable, InvalidEntry } from './errors.js';
import { createEtcdClient, deadline, type EtcdConnectionOptions } from './etcd-client.js';
import { etcdResolverOptionsSchema } from './options.js';

/** Options of {@link etcdResolver}. */
export interface EtcdResolverOptions extends EtcdConnectionOptions {
  /** The prefix whose keys are this service's endpoints, e.g. `'/services/orders/'`. */
  prefix: string;
  /**
   * Reads one key's value; return undefined to skip the key. The id of the endpoint is the key
   * without the prefix unless the result names one.
   *
   * @default JSON `{"host","port","protocol","zone","weight","priority","metadata"}` (what
   *   registerWithEtcd writes; unknown fields are ignored), or a URL such as `http://10.0.0.1:8080`
   */
  parse?: (value: string, key: string) => EndpointSpec | undefined;
  /** For diagnostics. @default `'etcd:' + prefix` */
  name?: string;
  /** The deadline of each read from etcd. @default 5000 */
  timeoutMs?: number;
  /** After a failure, read again after about this long, doubling on each further failure… @default 250 */
  retryInitialMs?: number;
  /** …up to this. @default 5000 */
  retryMaxMs?: number;
}

interface Compiled {
  name: string;
  prefix: string;
  client?: Namespace;
  hosts: string[];
  parse?: (value: string, key: string) => EndpointSpec | undefined;
  timeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

class EtcdResolver extends BaseResolver {
  readonly #o: Compiled;
  #client: Namespace | undefined;
  #owned: { close(): void } | undefined;
  /** key → endpoint, as of the last full read plus the watch events since. */
  #entries = new Map<string, Endpoint>();
  /** key → mod revision of a value already reported as invalid (one warning per bad value). */
  readonly #invalid = new Map<string, string>();
  #watcher: Watcher | undefined;
  /** Bumped by every full read and failure, so late events of a replaced watch are ignored. */
  #generation = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void>;
  readonly #cancels = new Set<Promise<void>>();

  constructor(options: Compiled) {
    super(options.name, 'etcd');
    this.#o = options;
    this.#client = options.client;
    this.#running = this.#start();
  }

  async #start(): Promise<void> {
    if (this.#client === undefined) {
      try {
        const client = await createEtcdClient(this.#o.hosts, this.#o);
        this.#owned = client; // closed by stop(), even when close() came first
        this.#client = client as unknown as Namespace;
        if (this.closed) return;
      } catch (error) {
        this.failed(error as Error);
        this.settle();
        return;
      }
    }
    await this.#sync();
  }

  protected async stop(): Promise<void> {
    this.#generation++;
    clearTimeout(this.#timer);
    await this.#running;
    this.#dropWatcher();
    // Cancelling tells etcd to drop the watch; bounded, since etcd may be the thing that is down.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#cancels]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.#o.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#owned?.close();
  }

  /** A full read of the prefix, then a watch from the revision after it. */
  async #sync(): Promise<void> {
    const generation = ++this.#generation;
    this.#dropWatcher();
    const client = this.#client!;
    try {
      const response = await client
        .getAll()
        .prefix(this.#o.prefix)
        .options(deadline(this.#o.timeoutMs))
        .exec();
      if (this.closed || generation !== this.#generation) return;
      const entries = new Map<string, Endpoint>();
      for (const kv of response.kvs) {
        const read = this.#read(kv);
        if (read !== undefined) entries.set(read[0], read[1]);
      }
      this.#entries = entries;
      this.publish(entries.values());
      this.succeeded();
      this.#failures = 0;
      this.settle();
      this.#watch(client, generation, response.header.revision);
    } catch (error) {
      this.#fail(generation, error as Error);
    }
  }

  #watch(client: Namespace, generation: number, revision: string): void {
    const watcher = client
      .watch()
      .prefix(this.#o.prefix)
      .startRevision((BigInt(revision) + 1n).toString())
      .watcher();
    this.#watcher = watcher;
    const current = () => !this.closed && generation === this.#generation;
    watcher.on('put', (kv) => {
      if (!current()) return;
      const read = this.#read(kv);
      const key = kv.key.toString();
      if (read === undefined) this.#entries.delete(key);
      else this.#entries.set(key, read[1]);
      this.publish(this.#entries.values());
      this.succeeded();
    });
    watcher.on('delete', (kv) => {
      if (!current()) return;
      const key = kv.key.toString();
      this.#invalid.delete(key);
      this.#entries.delete(key);
      this.publish(this.#entries.values());
      this.succeeded();
    });
    // The watch stream broke (etcd died or restarted) or etcd cancelled the watch (its start
    // revision was compacted away): either way only a full read can say what changed meanwhile.
    watcher.on('disconnected', (error) => this.#fail(generation, error));
    watcher.on('error', (error) => this.#fail(generation, error));
  }

  #fail(generation: number, error: Error): void {
    if (this.closed || generation !== this.#generation) return;
    this.#generation++;
    this.#dropWatcher();
    this.failed(
      new EtcdUnavailable(`etcd ${this.#o.prefix}: ${error.message} (keeping the last known endpoints)`, {
        cause: error,
      }),
    );
    this.settle();
    const delay = backoffMs(this.#failures++, this.#o.retryInitialMs, this.#o.retryMaxMs);
    this.#timer = setTimeout(() => {
      this.#running = this.#sync();
    }, delay).unref();
  }

  #dropWatcher(): void {
    const watcher = this.#watcher;
    if (watcher === undefined) return;
    this.#watcher = undefined;
    watcher.removeAllListeners();
    watcher.on('error', () => {}); // an unheard 'error' would throw
    const cancel = watcher.cancel().catch(() => {});
    this.#cancels.add(cancel);
    void cancel.finally(() => this.#cancels.delete(cancel));
  }

  /** One key as [key, endpoint]; undefined (and one warning) when its value is not an endpoint. */
  #read(kv: IKeyValue): [string, Endpoint] | undefined {
    const key = kv.key.toString();
    const value = kv.value.toString();
    const rest = key.slice(this.#o.prefix.length);
    const problems = new Problems('value');
    let endpoint: Endpoint | undefined;
    try {
      const spec = this.#o.parse ? this.#o.parse(value, key) : defaultParse(value);
      if (spec === undefined) return undefined;
      endpoint = readEndpoint(spec, problems, '', { id: rest === '' ? key : rest, ignoreUnknown: true });
    } catch (error) {
      problems.add('', `cannot be read: ${(error as Error).message}`);
    }
    if (endpoint !== undefined) {
      this.#invalid.delete(key);
      return [key, endpoint];
    }
    if (this.#invalid.get(key) !== kv.mod_revision) {
      this.#invalid.set(key, kv.mod_revision);
      const reason = new InvalidEntry(`${this.name}: skipping key '${key}': ${describe(problems)}`);
      warn(reason.code, reason.message);
    }
    return undefined;
  }
}

/** `value.port: must be …; value.host: …` */
function describe(problems: Problems): string {
  try {
    problems.throwIfAny();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  }
  return 'not an endpoint';
}

/** JSON when the value looks like an object, else a URL. */
function defaultParse(value: string): EndpointSpec {
  const text = value.trim();
  return text.startsWith('{') ? (JSON.parse(text) as EndpointSpec) : text;
}

/**
 * A resolver over the keys under an etcd prefix, kept current by a watch. Starts at once;
 * `ready()` settles after the first read (or its failure).
 *
 * @throws ConfigError (`GH_CONFIG_INVALID`) listing every invalid option.
 * @example
 *   const orders = etcdResolver({ hosts: 'http://127.0.0.1:2379', prefix: '/services/orders/' });
 */
export function etcdResolver(options: EtcdResolverOptions): Resolver {
  const o = parseOptions(etcdResolverOptionsSchema, options, { name: 'etcdResolver' });
  return new EtcdResolver({
    name: o.name ?? `etcd:${o.prefix}`,
    prefix: o.prefix,
    hosts: o.hosts === undefined ? [] : typeof o.hosts === 'string' ? [o.hosts] : [...o.hosts],
    timeoutMs: o.timeoutMs ?? 5_000,
    retryInitialMs: o.retryInitialMs ?? 250,
    retryMaxMs: o.retryMaxMs ?? 5_000,
    ...(o.client ? { client: o.client as unknown as Namespace } : {}),
    ...(o.parse ? { parse: o.parse } : {}),
  });
}
