// rateLimit(): per-route and per-consumer limits, concurrency limits, a bulkhead and load shedding as
// one Gatehouse middleware, identical on Express and Koa.
import {
  type Exchange,
  isThenable,
  type Middleware,
  type Outcome,
  type RequestResult,
} from '@gatehousejs/core';
import { type Attributes, metrics, type ObservableResult } from '@opentelemetry/api';
import { BulkheadFull, ConcurrencyLimited, Overloaded, RateLimited, RateLimitUnavailable } from './errors.js';
import {
  type Policy,
  type RateLimitOptions,
  type Resolved,
  resolve,
  type Scope,
  type Window,
} from './options.js';
import { periodAt } from './periods.js';
import { type LoadMonitor, monitorLoad } from './shed.js';
import { consumeWithInsurance, type Answer as StoreAnswer, type StoreErrorHandler } from './store.js';

/** How a request fared, for `stats()`, metrics and the `gatehouse.rate_limit.outcome` annotation. */
export type RateLimitOutcome =
  | 'allowed'
  | 'limited'
  | 'exempt'
  | 'concurrency'
  | 'bulkhead'
  | 'shed'
  | 'unavailable'
  | 'failed_open';

/** Outcome counts since start; `insured` counts decisions the insurance limiter made while the store failed. */
export interface RateLimitStats {
  readonly outcomes: Readonly<Record<RateLimitOutcome, number>>;
  readonly insured: number;
  readonly storeErrors: number;
  /** Requests holding a global slot right now. */
  readonly inFlight: number;
  /** Whether the store says it is failing right now (Redis disconnected or timing out). */
  readonly storeDegraded: boolean;
}

/** The middleware `rateLimit()` returns, with its counters. */
export interface RateLimit extends Middleware {
  stats(): RateLimitStats;
  /** Stops the load sampler and closes the store (a Redis client Gatehouse created). */
  close(): Promise<void>;
}

/** What one window said: its counter's answer, or `undefined` when the store (and insurance) failed. */
type Answer = StoreAnswer | undefined;

interface Slot {
  global: boolean;
  key: string | undefined;
}

const REPORT_EVERY_MS = 10_000;

/**
 * Limits requests per key (client address, principal, API key, route, header, function or several)
 * over one or more windows, with tiers, calendar quotas, per-route policies and exemptions; answers
 * 429 problem+json with `Retry-After` and IETF `RateLimit` / `RateLimit-Policy` headers. Optionally
 * limits requests in flight per key and globally, and sheds load while the event loop lags.
 *
 * Mount it after `auth()` when limits key on the principal or its tier.
 *
 * @throws ConfigError listing every problem in the options (negative points, unknown tier, …).
 * @example
 *   app.use(gw.rateLimit({
 *     limits: [{ name: 'burst', points: 20, duration: '1s' }, { name: 'sustained', points: 600, duration: '1m' }],
 *   }));
 */
export function rateLimit(options: RateLimitOptions): RateLimit {
  const resolved = resolve(options);
  const { top, routes, exempt, store, ietf, legacy, concurrency, shed: shedOptions } = resolved;
  const counts = new Counts();
  observe(options, resolved.name, counts);
  const monitor: LoadMonitor | undefined =
    shedOptions === undefined
      ? undefined
      : monitorLoad(shedOptions.maxEventLoopDelayMs, shedOptions.sampleIntervalMs);
  const shedAfter = String(shedOptions?.retryAfter ?? 1);

  let lastReport = Number.NEGATIVE_INFINITY;
  // A store with a monitor (Redis) reports its outage and its recovery once each to the gateway of the
  // requests this limiter sees; the store is told which gateway that is when it changes.
  const storeMonitor = store.monitor;
  let reporter: Exchange['runtime'] | undefined;
  const storeFailed = (error: unknown, exchange: Exchange): void => {
    counts.storeErrors++;
    if (storeMonitor !== undefined) return;
    // A store outage fails every request: report it once per interval, not once per request.
    const now = Date.now();
    if (now - lastReport < REPORT_EVERY_MS) return;
    lastReport = now;
    exchange.runtime.report(error, exchange, `rateLimit:${resolved.name}:store`);
  };

  // Store failures are reported through one handler made here, with the exchange as its context:
  // nothing is allocated for it per request.
  const report: StoreErrorHandler = (error, insured, context) => {
    storeFailed(error, context as Exchange);
    if (insured) counts.insured++;
  };
  // The current period of each calendar window, recomputed only when it ends.
  const periods = new Map<Window, { id: string; end: number }>();

  const consume = (exchange: Exchange, w: Window, key: string, cost: number): Answer | Promise<Answer> => {
    if (storeMonitor !== undefined && exchange.runtime !== reporter) {
      reporter = exchange.runtime;
      storeMonitor.reportTo(reporter);
    }
    let storeKey = key;
    let windowMs: number | undefined;
    if (w.per !== undefined) {
      const now = Date.now();
      let period = periods.get(w);
      if (period === undefined || now >= period.end) {
        period = periodAt(w.per, now);
        periods.set(w, period);
      }
      storeKey = `${period.id}:${key}`;
      windowMs = period.end - now;
    }
    return consumeWithInsurance(w, { key: storeKey, cost, windowMs, context: exchange }, report);
  };

  // In-flight bookkeeping (only when `concurrency` is set): per-exchange slots in a WeakMap, so several
  // rateLimit() on one request never share state, and released exactly once in onFinish.
  const slots = new WeakMap<Exchange, Slot>();
  const inFlightByKey = new Map<string, number>();
  let inFlight = 0;

  // Exchanges whose response already closed: a store answer arriving after the client left must not
  // take a per-key slot that no onFinish would ever give back.
  const finished = new WeakSet<Exchange>();

  const release = (exchange: Exchange): void => {
    finished.add(exchange);
    const slot = slots.get(exchange);
    if (slot === undefined) return;
    slots.delete(exchange);
    if (slot.global) inFlight--;
    if (slot.key !== undefined) {
      const n = (inFlightByKey.get(slot.key) ?? 1) - 1;
      if (n <= 0) inFlightByKey.delete(slot.key);
      else inFlightByKey.set(slot.key, n);
    }
  };

  const admit = (exchange: Exchange, key: string, outcome: RateLimitOutcome = 'allowed'): undefined => {
    if (
      concurrency !== undefined &&
      concurrency.perKey !== Number.POSITIVE_INFINITY &&
      !finished.has(exchange)
    ) {
      const n = inFlightByKey.get(key) ?? 0;
      if (n >= concurrency.perKey) {
        counts.add('concurrency', exchange);
        throw new ConcurrencyLimited(`At most ${concurrency.perKey} requests in flight per client`, {
          headers: { 'retry-after': '1' },
        });
      }
      inFlightByKey.set(key, n + 1);
      const slot = slots.get(exchange);
      if (slot !== undefined) slot.key = key;
      else slots.set(exchange, { global: false, key });
    }
    counts.add(outcome, exchange);
    return undefined;
  };

  const decide = (exchange: Exchange, policy: Policy, key: string, answers: readonly Answer[]): undefined => {
    const { windows } = policy;
    let limited: Window | undefined;
    let retryMs = 0;
    let failed = false;
    let header = '';
    let tightest = -1;
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i]!;
      const answer = answers[i];
      if (answer === undefined) {
        failed = true;
        continue;
      }
      const resetMs = answer.resetMs;
      if (answer.refused && (limited === undefined || resetMs > retryMs)) {
        limited = w;
        retryMs = resetMs;
      }
      if (ietf)
        header += `${header === '' ? '' : ', '}${w.item}${answer.remaining};t=${Math.ceil(resetMs / 1000)}`;
      if (legacy && (tightest === -1 || answer.remaining < answers[tightest]!.remaining)) tightest = i;
    }
    if (limited !== undefined) {
      counts.add('limited', exchange);
      const headers = fields(policy, header, tightest, answers);
      headers['retry-after'] = String(Math.max(1, Math.ceil(retryMs / 1000)));
      throw new RateLimited(`Rate limit '${limited.name}' reached`, {
        headers,
        extensions: { policy: limited.name },
      });
    }
    if (failed && resolved.failure === 'closed') {
      counts.add('unavailable', exchange);
      throw new RateLimitUnavailable('The rate-limit store is unavailable', {
        headers: { 'retry-after': '1' },
      });
    }
    // Admitted: the fields go straight onto the response (no object on the hot path).
    if (header !== '') {
      const res = exchange.res;
      const before = res.getHeader('ratelimit');
      if (typeof before === 'string') {
        // Another limiter on this request (app-level and route-level) already reported: both fields
        // are lists, so its items and ours are sent together.
        exchange.setHeader(
          'ratelimit-policy',
          `${res.getHeader('ratelimit-policy')}, ${policy.policyHeader}`,
        );
        exchange.setHeader('ratelimit', `${before}, ${header}`);
      } else {
        exchange.setHeader('ratelimit-policy', policy.policyHeader);
        exchange.setHeader('ratelimit', header);
      }
    }
    if (tightest !== -1) {
      const legacyFields = fields(policy, '', tightest, answers);
      for (const name in legacyFields) exchange.setHeader(name, legacyFields[name]!);
    }
    if (failed) {
      // Admitted on a failed store: it still takes its concurrency slot.
      return concurrency === undefined
        ? counts.add('failed_open', exchange)
        : admit(exchange, key, 'failed_open');
    }
    return concurrency === undefined ? counts.add('allowed', exchange) : admit(exchange, key);
  };

  const limit = (exchange: Exchange, scope: Scope): RequestResult | Promise<RequestResult> => {
    const policy = policyFor(exchange, scope, resolved);
    const key = scope.keyOf(exchange, scope.rule);
    if (policy === undefined || policy.windows.length === 0) {
      return concurrency === undefined ? counts.add('allowed', exchange) : admit(exchange, key);
    }
    const cost = costOf(exchange, scope);
    if (cost === 0) return concurrency === undefined ? counts.add('allowed', exchange) : admit(exchange, key);
    const { windows } = policy;
    // Memory counters answer synchronously: then so does the whole decision, with no promise.
    if (windows.length === 1) {
      const answer = consume(exchange, windows[0]!, key, cost);
      if (!isThenable<Answer>(answer)) return decide(exchange, policy, key, [answer]);
      return answer.then((settled) => decide(exchange, policy, key, [settled]));
    }
    const answers = windows.map((w) => consume(exchange, w, key, cost));
    if (!answers.some((a) => isThenable(a))) return decide(exchange, policy, key, answers as Answer[]);
    return Promise.all(answers).then((settled) => decide(exchange, policy, key, settled));
  };

  const middleware: RateLimit = {
    name: `rateLimit(${resolved.name})`,
    onRequest(exchange) {
      // A request the gateway sent to itself (a migration noise sample) spends no client's quota.
      if (exchange.internal) return counts.add('exempt', exchange);
      if (exempt !== undefined && isExempt(exchange, exempt)) return counts.add('exempt', exchange);
      let scope: Scope = top;
      if (routes.length > 0) {
        const path = exchange.path;
        const sensitive = exchange.runtime.pathPolicy.caseSensitive;
        for (const route of routes) {
          if (route.methods !== undefined && !route.methods.has(exchange.method)) continue;
          if (sensitive ? route.sensitive(path) : route.insensitive(path)) {
            scope = route;
            break;
          }
        }
        // Exempt routes (health checks) skip shedding and the bulkhead too.
        if (scope.exempt) return counts.add('exempt', exchange);
      }
      if (monitor?.overloaded === true) {
        counts.add('shed', exchange);
        throw new Overloaded('The server is overloaded; retry shortly', {
          headers: { 'retry-after': shedAfter },
        });
      }
      if (concurrency !== undefined && concurrency.global !== Number.POSITIVE_INFINITY) {
        if (inFlight >= concurrency.global) {
          counts.add('bulkhead', exchange);
          throw new BulkheadFull('Too many requests in progress; retry shortly', {
            headers: { 'retry-after': '1' },
          });
        }
        inFlight++;
        slots.set(exchange, { global: true, key: undefined });
      }
      return limit(exchange, scope);
    },
    stats: () => ({
      outcomes: { ...counts.outcomes },
      insured: counts.insured,
      storeErrors: counts.storeErrors,
      inFlight,
      storeDegraded: store.degraded?.() ?? false,
    }),
    async close() {
      monitor?.stop();
      await store.close?.();
    },
  };
  if (concurrency !== undefined) {
    (middleware as { onFinish?: (exchange: Exchange, outcome: Outcome) => void }).onFinish = release;
  }
  return middleware;
}

/** The IETF fields (when `header` is given) and the legacy ones (for window `tightest`), as an object. */
function fields(
  policy: Policy,
  header: string,
  tightest: number,
  answers: readonly (StoreAnswer | undefined)[],
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (header !== '') {
    headers['ratelimit-policy'] = policy.policyHeader;
    headers.ratelimit = header;
  }
  if (tightest !== -1) {
    const answer = answers[tightest]!;
    headers['x-ratelimit-limit'] = String(policy.windows[tightest]!.points);
    headers['x-ratelimit-remaining'] = String(answer.remaining);
    headers['x-ratelimit-reset'] = String(Math.ceil((Date.now() + answer.resetMs) / 1000));
  }
  return headers;
}

function isExempt(exchange: Exchange, exempt: (exchange: Exchange) => boolean): boolean {
  try {
    return exempt(exchange) === true;
  } catch (error) {
    exchange.runtime.report(error, exchange, 'rateLimit:exempt');
    return false;
  }
}

function policyFor(exchange: Exchange, scope: Scope, resolved: Resolved): Policy | undefined {
  if (scope.tiers === undefined) return scope.policy;
  let tier: string | undefined;
  try {
    tier = resolved.tierOf(exchange);
  } catch (error) {
    exchange.runtime.report(error, exchange, 'rateLimit:tier');
  }
  return (tier === undefined ? undefined : scope.tiers.get(tier)) ?? scope.defaultTier;
}

function costOf(exchange: Exchange, scope: Scope): number {
  const cost = scope.cost;
  if (typeof cost === 'number') return cost;
  let value: unknown;
  try {
    value = cost(exchange);
  } catch (error) {
    exchange.runtime.report(error, exchange, 'rateLimit:cost');
    return 1;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  exchange.runtime.report(
    new TypeError(`rateLimit cost(): expected a non-negative integer, got ${String(value)}`),
    exchange,
    'rateLimit:cost',
  );
  return 1;
}

class Counts {
  readonly outcomes: Record<RateLimitOutcome, number> = {
    allowed: 0,
    limited: 0,
    exempt: 0,
    concurrency: 0,
    bulkhead: 0,
    shed: 0,
    unavailable: 0,
    failed_open: 0,
  };
  insured = 0;
  storeErrors = 0;

  add(outcome: RateLimitOutcome, exchange: Exchange): undefined {
    this.outcomes[outcome]++;
    exchange.annotate('gatehouse.rate_limit.outcome', outcome);
    return undefined;
  }
}

// Outcomes are an observable counter read at collection time: the request path increments a number.
function observe(options: RateLimitOptions, name: string, counts: Counts): void {
  const meter = (options.meterProvider ?? metrics).getMeter('@gatehousejs/rate-limit');
  const counter = meter.createObservableCounter('gatehouse.rate_limit.requests', {
    description:
      'Requests seen by rateLimit(), by outcome (allowed, limited, exempt, concurrency, bulkhead, shed, …)',
    unit: '{request}',
  });
  counter.addCallback((result: ObservableResult<Attributes>) => {
    for (const [outcome, n] of Object.entries(counts.outcomes)) {
      if (n > 0)
        result.observe(n, { 'gatehouse.rate_limit.name': name, 'gatehouse.rate_limit.outcome': outcome });
    }
  });
}
