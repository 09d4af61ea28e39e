// What discovery produces and the contract every resolver implements: the current endpoints of one
// service, kept up to date (watch semantics), and never emptied by a failing source.
import type { DependencyMonitor } from '@gatehousejs/core';

/** One instance of a service. Immutable; resolvers publish new objects when anything changes. */
export interface Endpoint {
  /** Stable identity across updates: `host:port` unless the source names it (an etcd key, a registry id). */
  readonly id: string;
  /** `'http:'` or `'https:'`. */
  readonly protocol: 'http:' | 'https:';
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /**
   * The DNS name `host` was resolved from, when `host` is an address found through DNS (the SRV
   * target, or the A/AAAA name): the name to verify a TLS certificate against (SNI) and, usually, to
   * send as `Host`. Absent when `host` is itself the name, or when the source gave an address.
   */
  readonly hostname?: string;
  /** Relative weight for load balancing (SRV weight; 1 when the source has none). */
  readonly weight: number;
  /** Lower is preferred (SRV priority; 0 when the source has none). Only the best priority with healthy endpoints is used. */
  readonly priority: number;
  /** Locality for zone-aware balancing (`'eu-west-1a'`), when the source knows it. */
  readonly zone?: string;
  /** Free-form labels from the source (etcd value fields, registry metadata). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Health of a resolver's source, for diagnostics. */
export interface ResolverStatus {
  /** Epoch ms of the last successful resolution or watch event; undefined before the first. */
  readonly lastSuccessAt?: number;
  /** The last failure (NXDOMAIN, SERVFAIL, timeout, etcd down), cleared by the next success. */
  readonly lastError?: Error;
  /** True while the endpoints shown are the last known good ones because the source is failing. */
  readonly stale: boolean;
}

/**
 * The endpoints of one service, kept current. A failure of the source (DNS NXDOMAIN, SERVFAIL,
 * timeout, etcd unreachable) never empties a non-empty list: the last known good endpoints stay
 * until the source answers again.
 */
export interface Resolver {
  /** For diagnostics (`'dns:orders.service.consul'`, `'etcd:/services/orders/'`). */
  readonly name: string;
  /** The endpoints now (possibly empty before the first resolution). Never throws. */
  current(): readonly Endpoint[];
  /**
   * Calls `listener` with the full list on every change (not for unchanged refreshes). Returns the
   * function that unsubscribes.
   */
  subscribe(listener: (endpoints: readonly Endpoint[]) => void): () => void;
  /** Settles when the first resolution finished (with whatever it found; it rejects only after close). */
  ready(): Promise<readonly Endpoint[]>;
  status(): ResolverStatus;
  /** Stops timers and watches. */
  close(): Promise<void>;
  /**
   * A remote source's availability (DNS, etcd): its outage and its recovery are reported once each
   * to the gateways given to `monitor.reportTo()`; `gw.client()` does that for its resolver.
   */
  readonly monitor?: DependencyMonitor;
}
