// One outage, reported once. A capability that depends on something outside the process (a JWKS or
// introspection endpoint, Redis, etcd, a DNS server) tells its monitor how each attempt went; the
// monitor tells the gateways it reports to only when the state changes, so an identity provider that
// is down gives one report with its cause, and one more when it answers again — not one per request.
import { DependencyRecovered, DependencyUnavailable, type GatehouseError } from './errors.js';
import type { Exchange } from './exchange.js';

/** Where a monitor reports: a `Gateway`, or the runtime of any exchange (`exchange.runtime`). */
export interface DependencyReporter {
  report(error: unknown, exchange: Exchange | undefined, phase: string): void;
}

/** `up` until an attempt fails; `down` until one succeeds. */
export type DependencyState = 'up' | 'down';

/** What a report says about the dependency (the `dependency` member of the reported error). */
export interface DependencyInfo {
  /** What it is: `'jwks'`, `'introspection'`, `'redis'`, `'etcd'`, `'dns'`. */
  readonly kind: string;
  /** Which one, without credentials: an URL's origin and path, `host:port`, a DNS name. */
  readonly name: string;
  readonly state: DependencyState;
  /** For a recovery: how long it was down, in milliseconds. */
  readonly downForMs?: number;
}

const UNAVAILABLE_TEXT = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Tracks one dependency and reports its outages and recoveries, each once, to every gateway given
 * to {@link DependencyMonitor.reportTo}. The outage is reported as a `GH_DEPENDENCY_UNAVAILABLE` error
 * whose `cause` is the first failure; the recovery as `GH_DEPENDENCY_RECOVERED`. Both carry
 * `dependency` ({@link DependencyInfo}) and go where the gateway reports faults: the
 * `gatehouse:error` channel, `onError`, and the gateway's logger (the recovery at `info`).
 *
 * @example
 *   const monitor = new DependencyMonitor('jwks', 'https://idp.example/jwks.json');
 *   monitor.reportTo(exchange.runtime); // cheap when already known
 *   try { keys = await fetchKeys(); monitor.succeeded(); } catch (error) { monitor.failed(error); throw … }
 */
export class DependencyMonitor {
  readonly kind: string;
  readonly name: string;
  #down = false;
  #since = 0;
  #cause: unknown;
  readonly #reporters = new Set<DependencyReporter>();

  constructor(kind: string, name: string) {
    this.kind = kind;
    this.name = name;
  }

  get state(): DependencyState {
    return this.#down ? 'down' : 'up';
  }

  /** The failure that began the current outage (undefined while up). */
  get cause(): unknown {
    return this.#down ? this.#cause : undefined;
  }

  /** The `phase` of its reports: `dependency:<kind>`. */
  get phase(): string {
    return `dependency:${this.kind}`;
  }

  /**
   * Reports to `reporter` from now on (each reporter once, however often it is given). One that joins
   * during an outage is told about it at once.
   */
  reportTo(reporter: DependencyReporter): void {
    if (this.#reporters.has(reporter)) return;
    this.#reporters.add(reporter);
    if (this.#down) reporter.report(this.#outage(), undefined, this.phase);
  }

  /** An attempt failed: the first failure after success is reported, the rest are not. */
  failed(cause: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.#since = Date.now();
    this.#cause = cause;
    this.#emit(this.#outage());
  }

  /** An attempt succeeded: the first success after an outage is reported as the recovery. */
  succeeded(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#cause = undefined;
    const downForMs = Date.now() - this.#since;
    const dependency: DependencyInfo = { kind: this.kind, name: this.name, state: 'up', downForMs };
    const error = new DependencyRecovered(
      `${this.kind} ${this.name} is available again after ${Math.round(downForMs / 1000)} s`,
      { extensions: { dependency } },
    );
    this.#emit(Object.assign(error, { dependency }));
  }

  #outage(): GatehouseError & { dependency: DependencyInfo } {
    const dependency: DependencyInfo = { kind: this.kind, name: this.name, state: 'down' };
    const error = new DependencyUnavailable(
      `${this.kind} ${this.name} is unavailable: ${UNAVAILABLE_TEXT(this.#cause)}`,
      { cause: this.#cause, extensions: { dependency } },
    );
    return Object.assign(error, { dependency });
  }

  #emit(error: GatehouseError): void {
    for (const reporter of this.#reporters) reporter.report(error, undefined, this.phase);
  }
}

/** An URL as a dependency name: origin and path, never credentials, query or fragment. */
export function dependencyName(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
