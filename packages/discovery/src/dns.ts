// DNS discovery: SRV (the interface Consul's DNS, Kubernetes headless services, CoreDNS and SkyDNS all
// speak) and plain A/AAAA, refreshed when the records' TTL runs out, and never emptied by a failing
// server: NXDOMAIN, SERVFAIL, a timeout or an unreachable server keep the last good endpoints.
import { ConfigError, parseOptions } from '@gatehousejs/core';
import type { Answer } from 'dns-packet';
import { BaseResolver, backoffMs } from './base.js';
import { type DnsServer, parseServer, type QueryType, queryDns, systemServers } from './dns-client.js';
import type { Endpoint, Resolver } from './endpoint.js';
import { endpointId, makeEndpoint, normalizeHost, protocolOf } from './endpoints.js';
import { DnsNoRecords, DnsNotFound } from './errors.js';
import { dnsResolverOptionsSchema } from './options.js';

/** Options of {@link dnsResolver}. */
export interface DnsResolverOptions {
  /**
   * The name to look up: for SRV the full service name (`'_http._tcp.orders.service.consul'`,
   * `'_http._tcp.orders.default.svc.cluster.local'`), else a host name (`'orders.internal'`).
   */
  name: string;
  /**
   * What to ask for. `'SRV'`: each record gives a target, port, priority and weight; `'A'`,
   * `'AAAA'`, `'A+AAAA'`: every address of `name`, on `port`.
   *
   * @default 'SRV'
   */
  type?: 'SRV' | 'A' | 'AAAA' | 'A+AAAA';
  /** The port of every address; required for A/AAAA, not allowed for SRV (records carry theirs). */
  port?: number;
  /** The protocol of every endpoint (DNS does not say). @default 'http:' */
  protocol?: 'http:' | 'https:' | 'http' | 'https';
  /**
   * How SRV targets become endpoints. `'A'`, `'AAAA'`, `'A+AAAA'`: resolved to addresses with the
   * same servers (from the reply's additional section when the server put them there, else by
   * query), one endpoint per address, `hostname` set to the target for TLS; a target with several
   * addresses shares its record's weight among them. `'hostname'`: the target itself is the host,
   * for a client that resolves names on its own (the system resolver must then know them).
   *
   * @default 'A+AAAA'
   */
  srvTargets?: 'A' | 'AAAA' | 'A+AAAA' | 'hostname';
  /**
   * DNS servers, asked in order (the next one when one times out or fails): `'10.0.0.2'`,
   * `'127.0.0.1:5353'`, `'[fd00::53]:53'`.
   *
   * @default the system's servers (`dns.getServers()`, from /etc/resolv.conf)
   */
  servers?: readonly string[];
  /** Refresh no sooner than this after a success, even when the TTL is shorter (Consul's default TTL is 0). @default 1000 */
  minTtlMs?: number;
  /** Refresh at least this often, even when the TTL is longer. @default 30000 */
  maxTtlMs?: number;
  /** How long to wait for each server's answer before asking the next one. @default 2000 */
  timeoutMs?: number;
  /** After a failure, retry after about this long, doubling on each further failure… @default 500 */
  retryInitialMs?: number;
  /** …up to this. @default 10000 */
  retryMaxMs?: number;
}

type Family = 'A' | 'AAAA';

interface Compiled {
  name: string;
  type: 'SRV' | Family | 'A+AAAA';
  port: number;
  protocol: Endpoint['protocol'];
  families: readonly Family[];
  srvHostnames: boolean;
  servers: readonly DnsServer[];
  minTtlMs: number;
  maxTtlMs: number;
  timeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

/** What resolving one host name found, per family, with fall-back to the last good answer. */
interface HostAddresses {
  addresses: string[];
  ttl: number;
  /** A failure that is not the name's authoritative absence (timeout, SERVFAIL, unreachable). */
  failure?: Error;
  /** NXDOMAIN: the name does not exist. */
  notFound?: Error;
}

/** RFC 2782: weight 0 beside positive weights means "a very small chance of being selected". */
const ZERO_WEIGHT = 0.001;

class DnsResolver extends BaseResolver {
  readonly #options: Compiled;
  readonly #abort = new AbortController();
  /** `'A host'` → addresses of the last good answer, for when a later query of that host fails. */
  #lastGood = new Map<string, readonly string[]>();
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void>;

  constructor(options: Compiled) {
    super(`dns:${options.name}${options.type === 'SRV' ? '' : ` (${options.type})`}`, 'dns');
    this.#options = options;
    this.#running = this.#refresh();
  }

  protected async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #refresh(): Promise<void> {
    const o = this.#options;
    let delay: number;
    try {
      const { endpoints, ttl, failure } = await this.#resolve();
      if (this.closed) return;
      this.publish(endpoints);
      this.succeeded(failure === undefined);
      if (failure === undefined) {
        this.#failures = 0;
        delay = Math.min(o.maxTtlMs, Math.max(o.minTtlMs, ttl * 1000));
      } else {
        // Part of the answer is the last known good one: shown, but stale, and retried soon.
        this.failed(failure);
        delay = backoffMs(this.#failures++, o.retryInitialMs, o.retryMaxMs);
      }
    } catch (error) {
      if (this.closed) return;
      this.failed(error as Error);
      delay = backoffMs(this.#failures++, o.retryInitialMs, o.retryMaxMs);
    }
    this.settle();
    // Unref'd: a resolver waiting for its next refresh must not keep a finished process alive.
    this.#timer = setTimeout(() => {
      this.#running = this.#refresh();
    }, delay).unref();
  }

  /** One full resolution; throws when it found no endpoint at all (so nothing is replaced). */
  async #resolve(): Promise<{ endpoints: Endpoint[]; ttl: number; failure?: Error }> {
    const o = this.#options;
    const used = new Set<string>();
    const result = o.type === 'SRV' ? await this.#resolveSrv(used) : await this.#resolveName(used);
    // Forget hosts that are no longer targets, so the memory follows the service, not its history.
    // Only after a success: a failed SRV query says nothing about which targets are still in use.
    for (const key of this.#lastGood.keys()) if (!used.has(key)) this.#lastGood.delete(key);
    return result;
  }

  async #resolveName(used: Set<string>): Promise<{ endpoints: Endpoint[]; ttl: number; failure?: Error }> {
    const o = this.#options;
    const found = await this.#addressesOf(o.name, used);
    if (found.addresses.length === 0) {
      throw found.failure ?? found.notFound ?? new DnsNoRecords(`${o.name} (${o.type}): no address records`);
    }
    const endpoints = found.addresses.map((address) =>
      makeEndpoint({
        id: endpointId(address, o.port),
        protocol: o.protocol,
        host: address,
        port: o.port,
        weight: 1,
        priority: 0,
        hostname: o.name,
      }),
    );
    return { endpoints, ttl: found.ttl, ...(found.failure ? { failure: found.failure } : {}) };
  }

  async #resolveSrv(used: Set<string>): Promise<{ endpoints: Endpoint[]; ttl: number; failure?: Error }> {
    const o = this.#options;
    const reply = await this.#query(o.name, 'SRV');
    const chain = follow(reply.answers, o.name, 'SRV');
    const records: Array<{ target: string; port: number; priority: number; weight: number }> = [];
    for (const answer of chain.records) {
      if (answer.type !== 'SRV') continue;
      // RFC 2782: a target of "." means the service is decidedly not available at this name.
      const target =
        answer.data.target === '.' || answer.data.target === ''
          ? undefined
          : normalizeHost(answer.data.target);
      if (target === undefined || answer.data.port === 0) continue;
      records.push({
        target,
        port: answer.data.port,
        priority: answer.data.priority ?? 0,
        weight: answer.data.weight ?? 0,
      });
    }
    if (records.length === 0)
      throw new DnsNoRecords(`${o.name} (SRV): no usable SRV records from ${reply.server}`);
    let ttl = chain.ttl;
    const weights = normalizeWeights(records);

    const byId = new Map<string, Endpoint>();
    // Two records reaching the same host and port make one endpoint, at the better priority, with
    // the weights of that priority added up.
    const add = (host: string, port: number, priority: number, weight: number, hostname?: string) => {
      const id = endpointId(host, port);
      const seen = byId.get(id);
      if (seen !== undefined && seen.priority < priority) return;
      const sum = seen !== undefined && seen.priority === priority ? seen.weight + weight : weight;
      byId.set(id, makeEndpoint({ id, protocol: o.protocol, host, port, weight: sum, priority, hostname }));
    };

    if (o.srvHostnames) {
      records.forEach((record, i) => {
        add(record.target, record.port, record.priority, weights[i]!);
      });
      return { endpoints: [...byId.values()], ttl };
    }

    // Addresses of each distinct target: the additional section when the server sent them (one
    // round trip, as Consul and dnsmasq do), else a query per target.
    const targets = new Map<string, HostAddresses>();
    await Promise.all(
      [...new Set(records.map((r) => r.target))].map(async (target) => {
        const fromReply = o.families.map((family) => follow(reply.additionals, target, family));
        const addresses = fromReply.flatMap((chain) => chain.records.map(addressOf));
        if (addresses.length > 0) {
          // Remembered like queried ones, for a later reply without them and a failing query.
          o.families.forEach((family, i) => {
            this.#lastGood.set(`${family} ${target}`, fromReply[i]!.records.map(addressOf));
            used.add(`${family} ${target}`);
          });
          const ttls = fromReply.filter((c) => c.records.length > 0).map((c) => c.ttl);
          targets.set(target, { addresses, ttl: Math.min(...ttls) });
        } else {
          targets.set(target, await this.#addressesOf(target, used));
        }
      }),
    );

    let failure: Error | undefined;
    let notFound: Error | undefined;
    records.forEach((record, i) => {
      const found = targets.get(record.target)!;
      failure ??= found.failure;
      notFound ??= found.notFound;
      if (found.addresses.length === 0) return;
      ttl = Math.min(ttl, found.ttl);
      // The record's weight belongs to the target: a dual-stack target must not count twice.
      const share = weights[i]! / found.addresses.length;
      for (const address of found.addresses) add(address, record.port, record.priority, share, record.target);
    });
    if (byId.size === 0) {
      throw failure ?? notFound ?? new DnsNoRecords(`${o.name} (SRV): no SRV target has an address`);
    }
    return { endpoints: [...byId.values()], ttl, ...(failure ? { failure } : {}) };
  }

  /** Every address of `host` in the wanted families; a family whose query failed keeps its last good answer. */
  async #addressesOf(host: string, used: Set<string>): Promise<HostAddresses> {
    const families = this.#options.families;
    const settled = await Promise.allSettled(families.map((family) => this.#query(host, family)));
    const found: HostAddresses = { addresses: [], ttl: Number.POSITIVE_INFINITY };
    families.forEach((family, i) => {
      const key = `${family} ${host}`;
      used.add(key);
      const outcome = settled[i]!;
      if (outcome.status === 'fulfilled') {
        const chain = follow(outcome.value.answers, host, family);
        const addresses = chain.records.map(addressOf);
        this.#lastGood.set(key, addresses);
        found.addresses.push(...addresses);
        if (addresses.length > 0) found.ttl = Math.min(found.ttl, chain.ttl);
      } else if (outcome.reason instanceof DnsNotFound) {
        this.#lastGood.delete(key);
        found.notFound ??= outcome.reason;
      } else {
        found.failure ??= outcome.reason as Error;
        found.addresses.push(...(this.#lastGood.get(key) ?? []));
      }
    });
    return found;
  }

  #query(name: string, type: QueryType) {
    const o = this.#options;
    return queryDns(name, type, { servers: o.servers, timeoutMs: o.timeoutMs, signal: this.#abort.signal });
  }
}

/**
 * The records of `type` for `name`, following CNAMEs within the section, and the smallest TTL on
 * the way (a CNAME that expires sooner makes the whole answer expire sooner).
 */
function follow(
  section: readonly Answer[],
  name: string,
  type: QueryType,
): { records: Answer[]; ttl: number } {
  let current = name.toLowerCase();
  let ttl = Number.POSITIVE_INFINITY;
  for (let hops = 0; hops < 8; hops++) {
    const records = section.filter((r) => r.type === type && r.name.toLowerCase() === current);
    if (records.length > 0) {
      return { records, ttl: Math.min(ttl, ...records.map((r) => ('ttl' in r ? (r.ttl ?? 0) : 0))) };
    }
    const alias = section.find((r) => r.type === 'CNAME' && r.name.toLowerCase() === current);
    if (alias === undefined || alias.type !== 'CNAME') break;
    ttl = Math.min(ttl, alias.ttl ?? 0);
    current = alias.data.toLowerCase();
  }
  return { records: [], ttl };
}

/** The address of an A or AAAA record (follow() returns only those for these types). */
function addressOf(record: Answer): string {
  return record.type === 'A' || record.type === 'AAAA' ? record.data : '';
}

/**
 * SRV weights as balancer weights, per priority group (RFC 2782): a group whose weights are all 0
 * has "no server selection to do" (each gets 1); a 0 beside positive weights gets a very small share.
 */
function normalizeWeights(records: ReadonlyArray<{ priority: number; weight: number }>): number[] {
  const positive = new Set(records.filter((r) => r.weight > 0).map((r) => r.priority));
  return records.map((r) => (r.weight > 0 ? r.weight : positive.has(r.priority) ? ZERO_WEIGHT : 1));
}

/**
 * A resolver over DNS. Starts resolving at once; `ready()` settles after the first attempt.
 *
 * @throws ConfigError (`GH_CONFIG_INVALID`) listing every invalid option.
 * @example
 *   const orders = dnsResolver({ name: '_http._tcp.orders.service.consul', servers: ['127.0.0.1:8600'] });
 *   await orders.ready();
 */
export function dnsResolver(options: DnsResolverOptions): Resolver {
  return new DnsResolver(compile(options));
}

function compile(options: DnsResolverOptions): Compiled {
  const o = parseOptions(dnsResolverOptionsSchema, options, { name: 'dnsResolver' });
  const type = o.type ?? 'SRV';
  const srvTargets = o.srvTargets ?? 'A+AAAA';
  const servers = o.servers === undefined ? systemServers() : o.servers.map((text) => parseServer(text)!);
  if (servers.length === 0) {
    throw new ConfigError([
      { path: 'dnsResolver.servers', message: 'none given and the system has no DNS server configured' },
    ]);
  }
  const name = normalizeHost(o.name)!;
  const port = o.port ?? 0;
  const protocol = protocolOf(o.protocol ?? 'http:');
  const minTtlMs = o.minTtlMs ?? 1_000;
  const maxTtlMs = o.maxTtlMs ?? 30_000;
  const timeoutMs = o.timeoutMs ?? 2_000;
  const retryInitialMs = o.retryInitialMs ?? 500;
  const retryMaxMs = o.retryMaxMs ?? 10_000;

  const familiesOf = (spec: string): Family[] =>
    spec === 'A+AAAA' ? ['A', 'AAAA'] : spec === 'AAAA' ? ['AAAA'] : ['A'];
  return {
    name,
    type,
    port,
    protocol: protocol!,
    families: familiesOf(type === 'SRV' ? srvTargets : type),
    srvHostnames: type === 'SRV' && srvTargets === 'hostname',
    servers,
    minTtlMs,
    maxTtlMs,
    timeoutMs,
    retryInitialMs,
    retryMaxMs,
  };
}
