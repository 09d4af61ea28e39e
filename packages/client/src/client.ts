// createClient(): the mesh-aware outbound client. One call goes: bulkhead → service breaker →
// attempts (balancer pick among eligible endpoints → endpoint breaker → undici pool, per-try timeout),
// with retries for retriable failures under the retry budget, optional hedging, and outlier ejection
// fed by every answer.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { type PeerCertificate, checkServerIdentity as tlsCheckServerIdentity } from 'node:tls';
import { type Exchange, isGatehouseError } from '@gatehousejs/core';
import { type Endpoint, type Resolver, sameEndpoint, staticResolver } from '@gatehousejs/discovery';
import { type ApiVersion, parseVersion, parseVersionRange, type VersionRange } from '@gatehousejs/versioning';
import {
  type Attributes,
  context,
  type MeterProvider,
  metrics,
  type ObservableResult,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { type BulkheadPolicy, BulkheadRejectedError, bulkhead as cockatielBulkhead } from 'cockatiel';
import type { buildConnector, Dispatcher } from 'undici';
import type { Balancer, BalancerName } from './balancer.js';
import { type Admission, Breaker, type BreakerOptions } from './breaker.js';
import { RetryBudget, type RetryBudgetOptions } from './budget.js';
import { currentDeadline, DEADLINE_HEADER } from './deadline.js';
import { EndpointState, eligible, isServerFailure, type OutlierOptions } from './endpoints.js';
import {
  CircuitOpen,
  ClientBulkheadFull,
  RetryBudgetExhausted,
  UpstreamBadResponse,
  UpstreamTimeout,
  UpstreamTlsError,
  UpstreamUnavailable,
} from './errors.js';
import { type HealthCheckOptions, startHealthChecks } from './health.js';
import { resolveClientOptions } from './options.js';
import { loadUndici } from './undici.js';

/** Timeouts, in milliseconds. */
export interface TimeoutOptions {
  /** TCP (and TLS) connect. @default 1_000 */
  connectMs?: number;
  /** One attempt, until the response headers arrive. @default 5_000 */
  perTryMs?: number;
  /** The whole call, all attempts and backoff included; tightened by an incoming deadline. @default 15_000 */
  totalMs?: number;
  /** Longest pause between two chunks of a response body. @default 30_000 */
  bodyMs?: number;
}

/** Retry settings. */
export interface RetryOptions {
  /** Attempts in all, the first included (1 disables retries). @default 3 */
  maxAttempts?: number;
  /** Response statuses worth another attempt on another endpoint. @default [502, 503, 504] */
  statuses?: readonly number[];
  /**
   * Retry non-idempotent methods (POST, PATCH) too. Connect failures are retried for every method
   * regardless: the request never left.
   *
   * @default false
   */
  nonIdempotent?: boolean;
  /** Exponential backoff with full jitter: a random delay up to `baseMs × 2^(n−1)`, capped at `maxMs`. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** The retry budget shared by every call of this client; `false` disables it (not recommended). */
  budget?: RetryBudgetOptions | false;
}

/** Client TLS (mTLS) settings. */
export interface TlsOptions {
  /** CA bundle (PEM) trusted for upstream certificates; default: Node's. */
  ca?: string | Buffer;
  /** Client certificate and key (PEM) for mTLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The same as files, re-read when they change (certificate rotation without restart). */
  files?: { ca?: string; cert?: string; key?: string };
  /** How often watched files are checked. @default 1_000 */
  watchIntervalMs?: number;
  /** SNI server name. @default the endpoint's host */
  servername?: string;
  /**
   * The identity the server's certificate must carry, instead of the endpoint's host name: DNS
   * names (`orders.internal`) and/or URI SANs (`spiffe://prod.example/ns/shop/sa/orders`). A
   * certificate without one of them fails closed (`GH_UPSTREAM_TLS`).
   */
  identity?: { dns?: readonly string[]; uri?: readonly string[] };
}

/**
 * How the client reports spans; `gw.client()` passes the gateway's tracing. The target comes as
 * `origin` and `path` so that a tracer that records nothing never pays for parsing a URL.
 */
export interface ClientTracer {
  startClientSpan(request: { method: string; origin: string; path: string; exchange?: Exchange }): {
    readonly headers: Record<string, string>;
    end(result: { status: number } | { error: unknown }): void;
  };
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The service's name, for errors, spans and metrics. */
  name: string;
  /** Where the endpoints come from: a resolver from `@gatehousejs/discovery`, or a static list. */
  resolver?: Resolver;
  /** A static list of base URLs (`http://10.0.0.1:8080`) instead of a resolver. */
  endpoints?: readonly string[];
  /** `'p2c'` (least request, the default), `'round-robin'`, `'ewma'`, `'ring-hash'`, or your own. */
  balancer?: BalancerName | Balancer;
  /** This process's zone: endpoints in it are preferred while any is eligible. */
  zone?: string;
  /** Connections per endpoint. @default 64 */
  connections?: number;
  timeouts?: TimeoutOptions;
  retry?: RetryOptions;
  /**
   * Circuit breakers per endpoint (on by default) and for the whole service (off unless given);
   * `false` turns one off, `breaker: false` turns both off.
   */
  breaker?: { endpoint?: BreakerOptions | false; service?: BreakerOptions | false } | false;
  /** Calls in flight at once and calls waiting for a slot (beyond: `GH_CLIENT_BULKHEAD_FULL`). */
  bulkhead?: { maxConcurrent: number; maxPending?: number };
  /**
   * Hedging for idempotent calls: when the first attempt has not answered after `delayMs`, send a
   * second one to another endpoint and take the first answer. Hedges are capped at `maxPercent` of
   * calls (and spend the retry budget).
   */
  hedge?: { delayMs: number; maxPercent?: number };
  /** Passive outlier ejection; `false` turns it off. */
  outlier?: OutlierOptions | false;
  /** Active HTTP health checks. */
  healthCheck?: HealthCheckOptions;
  tls?: TlsOptions;
  /** The header carrying the remaining deadline to the callee; `false` to send none. @default 'x-deadline-ms' */
  deadlineHeader?: string | false;
  /** Spans for calls; default: the global OpenTelemetry tracer, trace context injected either way. */
  tracer?: ClientTracer;
  /** Where client metrics go. @default the global meter provider */
  meterProvider?: MeterProvider;
}

/** One call. */
export interface CallOptions {
  /** @default 'GET' */
  method?: string;
  /** Path and query (`/orders/42?expand=lines`), relative to the endpoint. */
  path: string;
  headers?: Record<string, string | string[]>;
  /**
   * The `headers` object belongs to this call and its names are lower case (a forwarder that built it
   * for this call): the client adds the trace context and the deadline to it instead of copying it.
   *
   * @default false
   */
  headersOwned?: boolean;
  /** A string or bytes can be retried; a stream cannot (a call with a stream body is tried once). */
  body?: string | Uint8Array | NodeJS.ReadableStream | AsyncIterable<Uint8Array> | null;
  signal?: AbortSignal;
  /** Overrides `timeouts.totalMs` for this call (an incoming deadline still tightens it). */
  timeoutMs?: number;
  /**
   * Overrides `timeouts.perTryMs` for this call. Equal to `timeoutMs`, every try may use all the time
   * left, so a slow endpoint is tried once and only fast failures (refused connections, 502/503/504)
   * are retried within the deadline.
   */
  perTryTimeoutMs?: number;
  /** Overrides `timeouts.bodyMs` for this call (a server-sent event stream may idle longer). */
  bodyTimeoutMs?: number;
  /**
   * A cheaper alternative to `signal` on hot paths (an AbortSignal costs EventTarget listeners): called
   * once, synchronously, with a function that cancels the call. A gateway proxy passes one that it
   * calls when its client goes away.
   */
  bindCancel?: (cancel: (reason?: unknown) => void) => void;
  /**
   * The gateway request this call serves: its trace context is the parent of the call's span even
   * where no OpenTelemetry context manager carries it (no SDK registered, propagators configured).
   */
  exchange?: Exchange;
  /** Treat this call as idempotent (or not) whatever its method. */
  idempotent?: boolean;
  /** The key for `'ring-hash'` balancing (a user id, a cart id). */
  hashKey?: string;
  /**
   * The API version the call asks for (`'2'`): only endpoints whose discovery metadata lists it under
   * `api-versions` (`'1, 2'`, `'2+'`) take it, or, when none does, endpoints that list no versions.
   * `false`: any endpoint. @default the version of `exchange` (set by `gw.version()`), if any
   */
  apiVersion?: string | false;
}

/** The discovery metadata key an endpoint lists its API versions under: `'1, 2'`, `'2+'`. */
export const API_VERSIONS_METADATA = 'api-versions';

/** The answer: undici's response, plus where it came from. Consume or dump the body. */
export interface CallResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData['body'];
  /** The endpoint that answered. */
  readonly endpoint: Endpoint;
  /** Attempts made (1 when the first answered), hedges included. */
  readonly attempts: number;
}

/** Counters of one client, for tests and diagnostics. */
export interface ClientStats {
  readonly requests: number;
  readonly retries: number;
  readonly hedges: number;
  readonly budgetExhausted: number;
  readonly panics: number;
  readonly endpoints: ReadonlyArray<{
    id: string;
    inflight: number;
    latencyMs: number;
    healthy: boolean;
    ejected: boolean;
    ejections: number;
    circuit: 'closed' | 'open' | 'half-open' | 'none';
    requests: number;
    failures: number;
  }>;
}

/** A protocol upgrade (WebSocket) through the client. */
export interface UpgradeOptions {
  /** Path and query, relative to the endpoint. */
  path: string;
  /** The protocol asked for (`websocket`): sent as `Upgrade`, with `Connection: upgrade`. */
  protocol: string;
  /** Other request headers (no hop-by-hop headers: `Connection` and `Upgrade` are set from `protocol`). */
  headers?: Record<string, string | string[]>;
  signal?: AbortSignal;
  /** The key for `'ring-hash'` balancing. */
  hashKey?: string;
}

/** An accepted upgrade: the service's 101 headers and the raw connection, now the caller's to use. */
export interface UpgradeResponse {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly socket: import('node:stream').Duplex;
  readonly endpoint: Endpoint;
}

/** The mesh-aware client. */
export interface Client {
  readonly name: string;
  /** One call, with every policy applied. */
  request(options: CallOptions): Promise<CallResponse>;
  /**
   * A protocol upgrade on one endpoint picked by the balancer (breakers and ejection apply; an upgrade
   * is never retried). Rejects with `GH_UPSTREAM_*` errors like `request`, and `GH_UPSTREAM_BAD_RESPONSE`
   * when the service answers anything but 101.
   */
  upgrade(options: UpgradeOptions): Promise<UpgradeResponse>;
  /** A fetch-like call: `path` relative to the service; the body is buffered for retries. */
  fetch(path: string, init?: RequestInit & { hashKey?: string; timeoutMs?: number }): Promise<Response>;
  stats(): ClientStats;
  /** Re-reads `tls.files` now (they are also watched); new connections use the new certificates. */
  reloadTls(): void;
  /** Stops health checks and watches, then closes every pool once its calls finish. */
  close(): Promise<void>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);
const TLS_CODES = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_SSL_|ERR_OSSL_)/;

/** What one attempt came to, on which endpoint. */
type Outcome =
  | { response: Dispatcher.ResponseData; state: EndpointState }
  | {
      failure: Failure;
      state: EndpointState;
      /** The attempt had all the time left, so a timeout means the whole call is out of time. */
      lastChance?: boolean;
    };

/** How an attempt went wrong, for retry decisions, ejection and the error the caller gets. */
type Failure =
  | { kind: 'connect'; error: unknown }
  | { kind: 'reset'; error: unknown }
  | { kind: 'timeout'; error: unknown }
  | { kind: 'tls'; error: unknown }
  | { kind: 'circuit'; error: unknown }
  | { kind: 'aborted'; error: unknown }
  | { kind: 'other'; error: unknown };

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof cause === 'string' ? cause : undefined;
};

class PerTryTimeout extends Error {
  constructor() {
    super('per-try timeout');
    this.name = 'PerTryTimeout';
  }
}

/**
 * Cancellation of a call and its attempts on plain callbacks. Not an AbortSignal: an AbortSignal per
 * attempt handed to undici costs about 20 µs (EventTarget listeners); undici accepts an EventEmitter
 * as its signal, and one emitter per attempt costs next to nothing (bench/RESULTS.md, issue 6).
 */
class Cancel {
  aborted = false;
  reason: unknown;
  #listeners: ((reason: unknown) => void)[] | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` on abort (at once if already aborted); returns the function that removes it. */
  on(listener: (reason: unknown) => void): () => void {
    if (this.aborted) {
      listener(this.reason);
      return () => {};
    }
    this.#listeners ??= [];
    this.#listeners.push(listener);
    return () => {
      const list = this.#listeners;
      if (list === undefined) return;
      const at = list.indexOf(listener);
      if (at !== -1) list.splice(at, 1);
    };
  }

  /** A child cancelled with this one (and on its own). */
  child(): Cancel {
    const child = new Cancel();
    const off = this.on((reason) => child.abort(reason));
    child.on(off);
    return child;
  }
}

const PER_TRY = new PerTryTimeout();

/** The failure of a call an endpoint's open circuit refused: it never reached the endpoint. */
const circuitRefusal = (state: EndpointState): Failure => ({
  kind: 'circuit',
  error: new Error(`the circuit of ${state.id} is open`),
});

/**
 * The signal of one attempt, as undici takes it: anything with `on`/`once`/`removeListener` for
 * 'abort', `aborted` and `reason` (an EventEmitter would do; this holds one listener and costs less to
 * make). With no `reason`, undici rejects with its own RequestAbortedError.
 */
class AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  #listener: (() => void) | undefined = undefined;

  on(_event: 'abort', listener: () => void): this {
    this.#listener = listener;
    return this;
  }

  once(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: () => void): this {
    if (this.#listener === listener) this.#listener = undefined;
    return this;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

function classify(error: unknown, why: unknown): Failure {
  if (why === PER_TRY) return { kind: 'timeout', error: new PerTryTimeout() };
  if (why !== undefined) return { kind: 'aborted', error: why };
  const code = codeOf(error);
  if (code === undefined) return { kind: 'other', error };
  if (CONNECT_CODES.has(code)) return { kind: 'connect', error };
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout', error };
  if (TLS_CODES.test(code)) return { kind: 'tls', error };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') {
    return { kind: 'reset', error };
  }
  return { kind: 'other', error };
}

/**
 * Creates a client for one service.
 *
 * @throws ConfigError listing every problem in the options.
 * @example
 *   const orders = createClient({ name: 'orders', resolver: dnsResolver({ name: '_http._tcp.orders.svc', type: 'SRV' }) });
 *   const res = await orders.request({ path: '/orders/42' });
 *   const order = await res.body.json();
 */
export function createClient(options: ClientOptions): Client {
  const {
    timeouts,
    retry,
    outlier,
    balancer,
    connections,
    endpointBreaker,
    serviceBreaker: serviceBreakerOptions,
  } = resolveClientOptions(options);
  const name = options.name;
  const resolver = options.resolver ?? staticResolver(options.endpoints as string[]);
  const deadlineHeader =
    options.deadlineHeader === false ? undefined : (options.deadlineHeader ?? DEADLINE_HEADER).toLowerCase();
  const budget = retry.maxAttempts > 1 && retry.budget !== false ? new RetryBudget(retry.budget) : undefined;
  const hedgeBudget =
    options.hedge === undefined
      ? undefined
      : new RetryBudget({ ratio: (options.hedge.maxPercent ?? 10) / 100, minPerSecond: 0 });
  const serviceBreaker = serviceBreakerOptions === undefined ? undefined : new Breaker(serviceBreakerOptions);
  const bulkheadPolicy: BulkheadPolicy | undefined =
    options.bulkhead === undefined
      ? undefined
      : cockatielBulkhead(options.bulkhead.maxConcurrent, options.bulkhead.maxPending ?? 0);
  const tracer = options.tracer ?? defaultTracer(name);
  const counts = { requests: 0, retries: 0, hedges: 0, panics: 0 };

  // TLS material, re-read from files on change; pools made after a reload use it.
  let tlsMaterial = loadTls(options.tls);
  const connectOptions = (endpoint: Endpoint) => {
    const tls = options.tls;
    const base: Record<string, unknown> = { timeout: timeouts.connectMs };
    if (tls === undefined && endpoint.hostname === undefined) return base;
    // SNI: the configured name, else the DNS name the address came from (an SRV target).
    const servername = tls?.servername ?? endpoint.hostname;
    if (tls === undefined) return { ...base, servername };
    return {
      ...base,
      ...tlsMaterial,
      ...(servername === undefined ? {} : { servername }),
      ...(tls.identity === undefined ? {} : { checkServerIdentity: identityCheck(tls.identity) }),
    };
  };
  const makePool = (state: EndpointState) =>
    new (loadUndici().Pool)(state.origin, {
      connections,
      connect: preciseConnector(connectOptions(state.endpoint), timeouts.connectMs),
      // Off: every attempt has its own timer (see launch), which may be longer than perTryMs when a
      // call asks for it, and undici's own would cut it short.
      headersTimeout: 0,
      bodyTimeout: timeouts.bodyMs,
      keepAliveTimeout: 30_000,
    });

  // Which endpoints are eligible is recomputed when something changes (discovery, an ejection, a
  // breaker), and at least every 100 ms for what changes with time (ejections and health).
  let version = 0;
  const changed = () => {
    version++;
  };
  let eligibleCache: { version: number; until: number; result: ReturnType<typeof eligible> } | undefined;
  const states = new Map<string, EndpointState>();
  let all: EndpointState[] = [];
  const sync = (endpoints: readonly Endpoint[]) => {
    const next = new Map<string, EndpointState>();
    for (const endpoint of endpoints) {
      const existing = states.get(endpoint.id);
      if (existing !== undefined && sameEndpoint(existing.endpoint, endpoint))
        next.set(endpoint.id, existing);
      else {
        const state = new EndpointState(endpoint, makePool, endpointBreaker);
        state.breaker?.onStateChange(changed);
        next.set(endpoint.id, state);
      }
    }
    for (const [id, state] of states) {
      if (next.get(id) === state) continue;
      // Gone from discovery: no new calls; calls in flight finish, then the pool closes.
      state.removed = true;
      void state.pool.close().catch(() => {});
    }
    states.clear();
    for (const [id, state] of next) states.set(id, state);
    all = [...next.values()];
    changed();
  };
  sync(resolver.current());
  const unsubscribe = resolver.subscribe(sync);
  const health =
    options.healthCheck === undefined
      ? undefined
      : startHealthChecks(() => all, options.healthCheck, changed);
  observe(
    options.meterProvider,
    name,
    () => all,
    counts,
    () => budget?.exhausted ?? 0,
  );

  const reloadTls = () => {
    tlsMaterial = loadTls(options.tls);
    for (const state of all) {
      const old = state.pool;
      state.pool = makePool(state);
      void old.close().catch(() => {});
    }
  };
  const files = options.tls?.files;
  const watched =
    files === undefined ? [] : [files.ca, files.cert, files.key].filter((f): f is string => f !== undefined);
  const onFileChange = () => {
    try {
      reloadTls();
    } catch {
      // A half-written file: keep the previous material; the next change retries.
    }
  };
  for (const file of watched)
    watchFile(file, { interval: options.tls?.watchIntervalMs ?? 1_000, persistent: false }, onFileChange);

  // The API versions each endpoint declares (metadata `api-versions`), parsed once per endpoint object;
  // null when it declares none. The endpoints serving a version, per eligible list and version.
  const declared = new WeakMap<Endpoint, readonly VersionRange[] | null>();
  const declaredBy = (endpoint: Endpoint): readonly VersionRange[] | null => {
    let ranges = declared.get(endpoint);
    if (ranges === undefined) {
      const text = endpoint.metadata?.[API_VERSIONS_METADATA];
      ranges =
        text === undefined
          ? null
          : text.split(',').flatMap((part) => {
              const range = parseVersionRange(part);
              return range === undefined ? [] : [range];
            });
      declared.set(endpoint, ranges);
    }
    return ranges;
  };
  let servingCache: { of: readonly EndpointState[]; byVersion: Map<string, EndpointState[]> } | undefined;
  const serving = (candidates: readonly EndpointState[], wanted: ApiVersion): EndpointState[] => {
    if (servingCache?.of !== candidates) servingCache = { of: candidates, byVersion: new Map() };
    const id = `${wanted.kind}:${wanted.key}`;
    let list = servingCache.byVersion.get(id);
    if (list === undefined) {
      const declaring: EndpointState[] = [];
      const agnostic: EndpointState[] = [];
      for (const c of candidates) {
        const ranges = declaredBy(c.endpoint);
        if (ranges === null) agnostic.push(c);
        else if (ranges.some((range) => range.includes(wanted))) declaring.push(c);
      }
      list = declaring.length > 0 ? declaring : agnostic;
      servingCache.byVersion.set(id, list);
    }
    return list;
  };
  /** The version a call asks for: its own `apiVersion`, else its exchange's. */
  const versionAsked = (call: CallOptions): ApiVersion | undefined => {
    if (call.apiVersion === false) return undefined;
    if (call.apiVersion !== undefined) return parseVersion(call.apiVersion);
    return call.exchange?.stateIfSet?.apiVersion?.version;
  };

  const pick = (
    tried: ReadonlySet<EndpointState>,
    key: string | undefined,
    wanted?: ApiVersion,
  ): EndpointState | undefined => {
    const now = performance.now();
    if (eligibleCache === undefined || eligibleCache.version !== version || eligibleCache.until < now) {
      eligibleCache = { version, until: now + 100, result: eligible(all, now, options.zone) };
    }
    const { panic } = eligibleCache.result;
    const candidates =
      wanted === undefined
        ? eligibleCache.result.candidates
        : serving(eligibleCache.result.candidates, wanted);
    if (panic) counts.panics++;
    if (candidates.length === 0) return undefined;
    const fresh = tried.size === 0 ? candidates : candidates.filter((c) => !tried.has(c));
    return balancer.pick(fresh.length > 0 ? fresh : candidates, key);
  };

  const recordFailure = (state: EndpointState, now: number) => {
    state.counts.failures++;
    if (outlier === undefined) return;
    state.failures++;
    if (state.failures < outlier.consecutiveFailures || state.ejectedUntil > now) return;
    const live = all.filter((s) => !s.removed);
    const ejected = live.filter((s) => s.ejectedUntil > now).length;
    if (((ejected + 1) * 100) / live.length > outlier.maxEjectionPercent) return;
    state.ejections++;
    state.counts.ejections++;
    state.ejectedUntil = now + Math.min(outlier.baseEjectionMs * state.ejections, outlier.maxEjectionMs);
    changed();
    state.failures = 0;
  };
  const recordSuccess = (state: EndpointState) => {
    state.failures = 0;
  };

  const NONE_TRIED: ReadonlySet<EndpointState> = new Set();

  /**
   * One attempt on one endpoint. Resolves with the response or a classified failure; never rejects.
   * Promise chains rather than async functions on this path: each async layer costs a call a promise
   * and microtask hops (about 1 µs each on Node 20), and a relayed request pays for every one.
   */
  const attempt = (
    state: EndpointState,
    call: CallOptions,
    deadlineAt: number,
    cancel: Cancel,
  ): Promise<Outcome> => {
    const breaker = state.breaker;
    const admitted = breaker === undefined ? 'closed' : breaker.admit();
    if (admitted === false) return Promise.resolve({ failure: circuitRefusal(state), state });
    try {
      return launch(state, call, deadlineAt, cancel, admitted);
    } catch (error) {
      // Thrown before the request left (a tracer, a header value): the endpoint was never asked, and
      // an admitted probe must not keep its circuit half-open for ever.
      breaker?.record(admitted, undefined);
      return Promise.resolve({ failure: { kind: 'other', error }, state });
    }
  };

  /** The request of an attempt its endpoint's breaker admitted. */
  const launch = (
    state: EndpointState,
    call: CallOptions,
    deadlineAt: number,
    cancel: Cancel,
    admitted: Admission,
  ): Promise<Outcome> => {
    const breaker = state.breaker;
    const left = deadlineAt - performance.now();
    const wanted = call.perTryTimeoutMs ?? timeouts.perTryMs;
    const perTry = Math.max(1, Math.min(wanted, left));
    const signal = new AttemptSignal();
    let why: unknown;
    const stop = (reason: unknown) => {
      if (why !== undefined) return;
      why = reason;
      signal.abort();
    };
    const off = cancel.on(stop);
    const timer = setTimeout(stop, perTry, PER_TRY);
    const method = (call.method ?? 'GET').toUpperCase();
    const span = tracer.startClientSpan({
      method,
      origin: state.origin,
      path: call.path,
      exchange: call.exchange,
    });
    // Header names compared case-insensitively: a caller's `Traceparent` or `X-Deadline-Ms` must not
    // travel next to the ones set here.
    let headers: Record<string, string | string[]>;
    if (call.headersOwned === true && call.headers !== undefined) headers = call.headers;
    else {
      headers = {};
      for (const name in call.headers) headers[name.toLowerCase()] = call.headers[name]!;
    }
    for (const name in span.headers) headers[name.toLowerCase()] = span.headers[name]!;
    if (deadlineHeader !== undefined)
      headers[deadlineHeader] = String(Math.max(1, Math.floor(deadlineAt - performance.now())));
    const started = performance.now();
    state.inflight++;
    state.counts.requests++;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      state.inflight--;
    };
    const send = () =>
      state.pool.request({
        origin: state.origin,
        path: call.path,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: call.body as Dispatcher.DispatchOptions['body'],
        signal,
        // The attempt's own timer above enforces the per-try timeout: undici's headers timer runs on
        // a coarse clock and was seen firing up to 500 ms early, cutting tries short.
        headersTimeout: 0,
        ...(call.bodyTimeoutMs === undefined ? {} : { bodyTimeout: call.bodyTimeoutMs }),
      });
    const answered = (response: Dispatcher.ResponseData): Outcome => {
      clearTimeout(timer);
      off();
      const now = performance.now();
      state.observeLatency(now - started, now);
      const failure = isServerFailure(response.statusCode);
      breaker?.record(admitted, failure);
      if (failure) recordFailure(state, now);
      else recordSuccess(state);
      span.end({ status: response.statusCode });
      // 'close' follows the end of the body and its destruction (an error, an abort) alike.
      response.body.on('close', done);
      return { response, state };
    };
    const failed = (error: unknown): Outcome => {
      clearTimeout(timer);
      off();
      done();
      const failure = classify(error, why);
      // A call its caller cancelled (not the per-try timeout) says nothing about the endpoint.
      breaker?.record(admitted, failure.kind === 'aborted' ? undefined : true);
      if (failure.kind === 'connect' || failure.kind === 'reset' || failure.kind === 'timeout') {
        recordFailure(state, performance.now());
      }
      span.end({ error: failure.error });
      return wanted >= left ? { failure, state, lastChance: true } : { failure, state };
    };
    try {
      return send().then(answered, failed);
    } catch (error) {
      return Promise.resolve(failed(error));
    }
  };

  const backoff = (n: number) => Math.random() * Math.min(retry.maxMs, retry.baseMs * 2 ** (n - 1));
  const sleep = (ms: number, cancel: Cancel) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      const off = cancel.on(finish);
      function finish() {
        off();
        clearTimeout(timer);
        resolve();
      }
    });

  /**
   * Every attempt of one call, retries and a hedge included. The first attempt without a hedge is
   * chained straight to the caller; only an answer that is not final enters the retry loop.
   */
  const attempts = (call: CallOptions, deadlineAt: number, cancel: Cancel): Promise<CallResponse> => {
    budget?.request();
    hedgeBudget?.request();
    if (options.hedge !== undefined) return retrying(call, deadlineAt, cancel, undefined);
    const state = pick(NONE_TRIED, call.hashKey, versionAsked(call));
    if (state === undefined) return retrying(call, deadlineAt, cancel, undefined);
    return attempt(state, call, deadlineAt, cancel).then((outcome) =>
      'response' in outcome && !retry.statuses.has(outcome.response.statusCode)
        ? // undici's answer is a plain object made for this call: it becomes the call's answer.
          Object.assign(outcome.response, { endpoint: state.endpoint, attempts: 1 })
        : retrying(call, deadlineAt, cancel, outcome),
    );
  };

  /** The retry loop, from the start or after a first attempt's `first` outcome. */
  const retrying = async (
    call: CallOptions,
    deadlineAt: number,
    cancel: Cancel,
    first: Outcome | undefined,
  ): Promise<CallResponse> => {
    const method = (call.method ?? 'GET').toUpperCase();
    const idempotent = call.idempotent ?? IDEMPOTENT.has(method);
    const replayable =
      call.body === undefined ||
      call.body === null ||
      typeof call.body === 'string' ||
      call.body instanceof Uint8Array;
    const tried = new Set<EndpointState>();
    let last: Failure | undefined;
    let made = 0;
    for (let n = 1; ; n++) {
      const wanted = versionAsked(call);
      const state = n === 1 && first !== undefined ? first.state : pick(tried, call.hashKey, wanted);
      if (state === undefined) {
        const which = wanted === undefined ? '' : ` for API version ${wanted.text}`;
        throw new UpstreamUnavailable(`No endpoint of '${name}' is available${which}`, {
          cause: last?.error,
        });
      }
      tried.add(state);
      let outcome: Outcome;
      if (n === 1 && first !== undefined) {
        made++;
        outcome = first;
      } else if (n === 1 && options.hedge !== undefined && idempotent && replayable) {
        outcome = await hedged(state, call, deadlineAt, cancel, tried, () => made++);
      } else {
        made++;
        outcome = await attempt(state, call, deadlineAt, cancel);
      }
      const canRetry = (connectFailure: boolean) =>
        n < retry.maxAttempts &&
        replayable &&
        (idempotent || retry.nonIdempotent || connectFailure) &&
        deadlineAt - performance.now() > 1;
      if ('response' in outcome) {
        const { response } = outcome;
        if (
          !retry.statuses.has(response.statusCode) ||
          !canRetry(false) ||
          (budget !== undefined && !budget.tryRetry())
        ) {
          // undici's answer is a plain object made for this call: it becomes the call's answer.
          return Object.assign(response, { endpoint: outcome.state.endpoint, attempts: made });
        }
        await response.body.dump().catch(() => {});
        last = { kind: 'other', error: new Error(`status ${response.statusCode}`) };
      } else {
        const { failure } = outcome;
        last = failure;
        if (failure.kind === 'aborted') throw failure.error;
        if (failure.kind === 'tls')
          throw new UpstreamTlsError(`TLS to '${name}' failed`, { cause: failure.error });
        // Timers are not exact to the millisecond: a try that was given all the time left and timed
        // out ends the call even if a moment seems to remain.
        if (deadlineAt - performance.now() <= 1 || (failure.kind === 'timeout' && outcome.lastChance))
          throw new UpstreamTimeout(`'${name}' did not answer in time`, { cause: failure.error });
        const retriable =
          failure.kind === 'connect' ||
          failure.kind === 'circuit' ||
          failure.kind === 'reset' ||
          failure.kind === 'timeout';
        // A call refused by an open endpoint circuit never reached it: try another without spending budget.
        if (failure.kind === 'circuit' && n < retry.maxAttempts + all.length) continue;
        if (!retriable || !canRetry(failure.kind === 'connect')) throw finalError(failure);
        if (budget !== undefined && !budget.tryRetry()) {
          throw new RetryBudgetExhausted(`'${name}' is failing and its retry budget is spent`, {
            cause: failure.error,
          });
        }
      }
      counts.retries++;
      outcome.state.counts.retries++;
      await sleep(Math.min(backoff(n), Math.max(0, deadlineAt - performance.now())), cancel);
      if (cancel.aborted) throw cancel.reason;
      if (deadlineAt - performance.now() <= 1) {
        throw new UpstreamTimeout(`'${name}' did not answer in time`, { cause: last.error });
      }
    }
  };

  const finalError = (failure: Failure) => {
    switch (failure.kind) {
      case 'timeout':
        return new UpstreamTimeout(`'${name}' did not answer in time`, { cause: failure.error });
      case 'connect':
        return new UpstreamUnavailable(`'${name}' refused the connection`, { cause: failure.error });
      case 'circuit':
        return new CircuitOpen(`Every endpoint of '${name}' has its circuit open`, { cause: failure.error });
      case 'reset':
        return new UpstreamBadResponse(`'${name}' closed the connection before answering`, {
          cause: failure.error,
        });
      default:
        return isGatehouseError(failure.error)
          ? failure.error
          : new UpstreamBadResponse(`'${name}' failed`, { cause: failure.error });
    }
  };

  /** The first attempt, with a hedge on another endpoint if it is slow; the first good answer wins. */
  const hedged = (
    first: EndpointState,
    call: CallOptions,
    deadlineAt: number,
    cancel: Cancel,
    tried: Set<EndpointState>,
    count: () => void,
  ): Promise<
    { response: Dispatcher.ResponseData; state: EndpointState } | { failure: Failure; state: EndpointState }
  > =>
    new Promise((resolve) => {
      const racers: Cancel[] = [];
      let pending = 0;
      let settled = false;
      let lastFailure: { failure: Failure; state: EndpointState } | undefined;
      const launch = (state: EndpointState) => {
        const local = cancel.child();
        racers.push(local);
        pending++;
        count();
        void attempt(state, call, deadlineAt, local).then((result) => {
          pending--;
          if (settled) {
            if ('response' in result) void result.response.body.dump().catch(() => {});
            return;
          }
          const good = 'response' in result && !retry.statuses.has(result.response.statusCode);
          if (good || pending === 0) {
            settled = true;
            clearTimeout(timer);
            for (const racer of racers) if (racer !== local) racer.abort(new Error('hedge lost'));
            resolve('response' in result ? { ...result, state } : (lastFailure ?? { ...result, state }));
          } else if (!('response' in result)) {
            lastFailure = { ...result, state };
          } else {
            void result.response.body.dump().catch(() => {});
          }
        });
      };
      launch(first);
      const timer = setTimeout(() => {
        // A hedge is capped by maxPercent and, being extra load, spends the retry budget too.
        if (settled || hedgeBudget === undefined || !hedgeBudget.tryRetry()) return;
        if (budget !== undefined && !budget.tryRetry()) return;
        const second = pick(tried, call.hashKey, versionAsked(call));
        if (second === undefined || tried.has(second)) return;
        tried.add(second);
        counts.hedges++;
        launch(second);
      }, options.hedge!.delayMs);
    });

  const run = (call: CallOptions): Promise<CallResponse> => {
    counts.requests++;
    const now = performance.now();
    const inherited = currentDeadline();
    let totalMs = call.timeoutMs ?? timeouts.totalMs;
    if (inherited !== undefined) totalMs = Math.min(totalMs, inherited - now);
    if (totalMs <= 0) return Promise.reject(new UpstreamTimeout(`No time left to call '${name}'`));
    const deadlineAt = now + totalMs;
    const admitted = serviceBreaker === undefined ? 'closed' : serviceBreaker.admit();
    if (admitted === false) return Promise.reject(new CircuitOpen(`The circuit to '${name}' is open`));
    // No timer for the whole call: each attempt's timer is cut to the time left, and backoff never
    // sleeps past the deadline, so the deadline holds with one timer per attempt.
    const cancel = new Cancel();
    call.bindCancel?.((reason) => cancel.abort(reason ?? new Error('cancelled by the caller')));
    // The caller's AbortSignal is listened to only when there is one (EventTarget listeners cost).
    const callerSignal = call.signal;
    try {
      let result: Promise<CallResponse>;
      if (callerSignal === undefined) result = attempts(call, deadlineAt, cancel);
      else {
        const onAbort = () => cancel.abort(callerSignal.reason);
        if (callerSignal.aborted) cancel.abort(callerSignal.reason);
        else callerSignal.addEventListener('abort', onAbort, { once: true });
        result = attempts(call, deadlineAt, cancel).finally(() =>
          callerSignal.removeEventListener('abort', onAbort),
        );
      }
      if (serviceBreaker === undefined) return result;
      // The whole call, retries included, judged for the service; one its caller cancelled is not.
      return result.then(
        (response) => {
          serviceBreaker.record(admitted, isServerFailure(response.statusCode));
          return response;
        },
        (error: unknown) => {
          serviceBreaker.record(admitted, cancel.aborted ? undefined : true);
          throw error;
        },
      );
    } catch (error) {
      // Something thrown before the first await (a tracer, a header): a rejection, as from any call,
      // and a probe admitted by the service breaker gives its turn back.
      serviceBreaker?.record(admitted, undefined);
      return Promise.reject(error);
    }
  };

  const guarded = (call: CallOptions): Promise<CallResponse> => {
    if (bulkheadPolicy === undefined) return run(call);
    return bulkheadPolicy
      .execute(() => run(call))
      .catch((error: unknown) => {
        if (error instanceof BulkheadRejectedError)
          throw new ClientBulkheadFull(`Too many calls to '${name}' at once`, { cause: error });
        throw error;
      });
  };

  const upgrade = async (call: UpgradeOptions): Promise<UpgradeResponse> => {
    counts.requests++;
    const state = pick(new Set(), call.hashKey);
    if (state === undefined) throw new UpstreamUnavailable(`No endpoint of '${name}' is available`);
    const span = tracer.startClientSpan({ method: 'GET', origin: state.origin, path: call.path });
    const headers: Record<string, string | string[]> = {};
    for (const key in call.headers) headers[key.toLowerCase()] = call.headers[key]!;
    for (const key in span.headers) headers[key.toLowerCase()] = span.headers[key]!;
    // Admitted last, right before the request: nothing between may throw and strand a probe.
    const admitted = state.breaker === undefined ? 'closed' : state.breaker.admit();
    if (admitted === false) {
      const refusal = circuitRefusal(state);
      span.end({ error: refusal.error });
      throw finalError(refusal);
    }
    const started = performance.now();
    state.counts.requests++;
    try {
      const result = await state.pool.upgrade({
        path: call.path,
        method: 'GET',
        protocol: call.protocol,
        headers,
        signal: call.signal,
      });
      const now = performance.now();
      state.observeLatency(now - started, now);
      state.breaker?.record(admitted, false);
      recordSuccess(state);
      span.end({ status: 101 });
      return { headers: result.headers, socket: result.socket, endpoint: state.endpoint };
    } catch (error) {
      const failure = classify(error, call.signal?.aborted ? call.signal.reason : undefined);
      state.breaker?.record(admitted, failure.kind === 'aborted' ? undefined : true);
      if (failure.kind === 'connect' || failure.kind === 'reset' || failure.kind === 'timeout') {
        recordFailure(state, performance.now());
      }
      span.end({ error: failure.error });
      if (failure.kind === 'aborted') throw failure.error;
      if (failure.kind === 'tls') throw new UpstreamTlsError(`TLS to '${name}' failed`, { cause: error });
      const final = finalError(failure);
      if (failure.kind === 'other' && !isGatehouseError(failure.error))
        throw new UpstreamBadResponse(`'${name}' refused the upgrade`, { cause: error });
      throw final;
    }
  };

  return {
    name,
    request: guarded,
    upgrade,
    async fetch(path, init = {}) {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, key) => {
        headers[key] = value;
      });
      let body: string | Uint8Array | undefined;
      if (init.body !== undefined && init.body !== null)
        body = new Uint8Array(await new Response(init.body).arrayBuffer());
      const res = await guarded({
        path,
        method: init.method,
        headers,
        body,
        signal: init.signal ?? undefined,
        hashKey: init.hashKey,
        timeoutMs: init.timeoutMs,
      });
      const out = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) out.append(key, v);
      }
      const empty = res.statusCode === 204 || res.statusCode === 304 || init.method?.toUpperCase() === 'HEAD';
      if (empty) await res.body.dump();
      return new Response(empty ? null : (res.body as unknown as ReadableStream), {
        status: res.statusCode,
        headers: out,
      });
    },
    stats: () => ({
      requests: counts.requests,
      retries: counts.retries,
      hedges: counts.hedges,
      budgetExhausted: budget?.exhausted ?? 0,
      panics: counts.panics,
      endpoints: all.map((s) => ({
        id: s.id,
        inflight: s.inflight,
        latencyMs: s.latencyMs,
        healthy: s.healthy,
        ejected: s.ejectedUntil > performance.now(),
        ejections: s.ejections,
        circuit: s.breaker === undefined ? 'none' : s.breaker.state,
        requests: s.counts.requests,
        failures: s.counts.failures,
      })),
    }),
    reloadTls,
    async close() {
      unsubscribe();
      health?.stop();
      for (const file of watched) unwatchFile(file, onFileChange);
      await Promise.all(all.map((s) => s.pool.close().catch(() => {})));
      if (options.resolver === undefined) await resolver.close();
    },
  };
}

/**
 * undici's connector with a connect timeout on its own timer: undici's timeouts tick on a coarse
 * shared clock (about half a second), and a 150 ms connect timeout must fail over in 150 ms, not 1 s.
 * undici's own timeout stays as a backstop that destroys a socket that never connects.
 */
function preciseConnector(options: Record<string, unknown>, timeoutMs: number): buildConnector.connector {
  const connect = loadUndici().buildConnector({
    ...options,
    timeout: timeoutMs + 1_000,
  } as buildConnector.BuildOptions);
  return (opts, callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      const error = Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), {
        code: 'UND_ERR_CONNECT_TIMEOUT',
      });
      callback(error, null);
    }, timeoutMs);
    connect(opts, (error, socket) => {
      clearTimeout(timer);
      if (settled) {
        socket?.destroy();
        return;
      }
      settled = true;
      if (error !== null) callback(error, null);
      else callback(null, socket!);
    });
  };
}

function loadTls(tls: TlsOptions | undefined): Record<string, string | Buffer> {
  if (tls === undefined) return {};
  const out: Record<string, string | Buffer> = {};
  for (const key of ['ca', 'cert', 'key'] as const) {
    const file = tls.files?.[key];
    const value = file !== undefined ? readFileSync(file) : tls[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The server's certificate must carry one of the expected DNS names or URI SANs; nothing else passes. */
function identityCheck(identity: NonNullable<TlsOptions['identity']>) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const sans = (cert.subjectaltname ?? '').split(', ');
    for (const uri of identity.uri ?? []) if (sans.includes(`URI:${uri}`)) return undefined;
    for (const dns of identity.dns ?? [])
      if (tlsCheckServerIdentity(dns, cert) === undefined) return undefined;
    const error = new Error(
      `certificate identity ${cert.subjectaltname ?? '(none)'} matches none of ${[...(identity.uri ?? []), ...(identity.dns ?? [])].join(', ')}`,
    );
    (error as { code?: string }).code = 'ERR_TLS_CERT_ALTNAME_INVALID';
    return error;
  };
}

function defaultTracer(service: string): ClientTracer {
  const tracer = trace.getTracer('@gatehousejs/client');
  return {
    startClientSpan({ method, origin, path }) {
      const span = tracer.startSpan(method, { kind: SpanKind.CLIENT }, context.active());
      if (span.isRecording()) {
        const url = new URL(path, origin);
        span.setAttributes({
          'http.request.method': method,
          'server.address': url.hostname,
          'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
          'url.full': `${url.origin}${url.pathname}`,
          'gatehouse.upstream': service,
        });
      }
      const headers: Record<string, string> = {};
      // A span nobody records has the parent's ids: pass the active context on as it is.
      const active = context.active();
      propagation.inject(span.isRecording() ? trace.setSpan(active, span) : active, headers);
      return {
        headers,
        end(result) {
          if ('status' in result) {
            span.setAttribute('http.response.status_code', result.status);
            if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          } else {
            const error = result.error as { name?: string; code?: string };
            span.setAttribute('error.type', error?.code ?? error?.name ?? 'Error');
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
  };
}

// Per-endpoint counters read at collection time: the call path only increments numbers.
function observe(
  provider: MeterProvider | undefined,
  service: string,
  endpoints: () => readonly EndpointState[],
  counts: { retries: number; hedges: number; panics: number },
  exhausted: () => number,
): void {
  const meter = (provider ?? metrics).getMeter('@gatehousejs/client');
  const requests = meter.createObservableCounter('gatehouse.client.requests', {
    description: 'Attempts sent to each endpoint, and how many failed (5xx, refused, reset, timed out)',
    unit: '{request}',
  });
  const ejections = meter.createObservableCounter('gatehouse.client.ejections', {
    description: 'Outlier ejections per endpoint',
    unit: '{ejection}',
  });
  const circuit = meter.createObservableGauge('gatehouse.client.circuit_open', {
    description: '1 while an endpoint circuit is open (or half-open), else 0',
  });
  const latency = meter.createObservableGauge('gatehouse.client.latency', {
    description: "Each endpoint's smoothed (peak-EWMA) response latency, as the balancer sees it",
    unit: 'ms',
  });
  const inflight = meter.createObservableGauge('gatehouse.client.inflight', {
    description: 'Calls in flight to each endpoint',
    unit: '{request}',
  });
  const retries = meter.createObservableCounter('gatehouse.client.retries', {
    description: 'Retries and hedges made, and retries refused by the retry budget',
    unit: '{retry}',
  });
  requests.addCallback((result: ObservableResult<Attributes>) => {
    for (const s of endpoints()) {
      result.observe(s.counts.requests, {
        'gatehouse.upstream': service,
        'gatehouse.endpoint': s.id,
        outcome: 'sent',
      });
      result.observe(s.counts.failures, {
        'gatehouse.upstream': service,
        'gatehouse.endpoint': s.id,
        outcome: 'failed',
      });
    }
  });
  ejections.addCallback((result) => {
    for (const s of endpoints())
      result.observe(s.counts.ejections, { 'gatehouse.upstream': service, 'gatehouse.endpoint': s.id });
  });
  circuit.addCallback((result) => {
    for (const s of endpoints()) {
      if (s.breaker === undefined) continue;
      result.observe(s.breaker.state === 'closed' ? 0 : 1, {
        'gatehouse.upstream': service,
        'gatehouse.endpoint': s.id,
      });
    }
  });
  latency.addCallback((result) => {
    for (const s of endpoints()) {
      result.observe(s.latencyMs, { 'gatehouse.upstream': service, 'gatehouse.endpoint': s.id });
    }
  });
  inflight.addCallback((result) => {
    for (const s of endpoints())
      result.observe(s.inflight, { 'gatehouse.upstream': service, 'gatehouse.endpoint': s.id });
  });
  retries.addCallback((result) => {
    result.observe(counts.retries, { 'gatehouse.upstream': service, kind: 'retry' });
    result.observe(counts.hedges, { 'gatehouse.upstream': service, kind: 'hedge' });
    result.observe(exhausted(), { 'gatehouse.upstream': service, kind: 'budget_exhausted' });
  });
}
