// RateLimitOptions, their defaults, and validation with a path to every problem. Everything here runs
// once, when rateLimit() is called: the request path only reads what this compiled.
import {
  createAddressMatcher,
  createPathMatcher,
  type Exchange,
  nonEmptyString,
  type Problems,
  positiveInt,
  unknownKeys,
} from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import { type Duration, durationMs } from './duration.js';
import { compileKey, type KeyOf, type KeySpec, principalOf } from './keys.js';
import { type CalendarPeriod, periodSeconds } from './periods.js';
import { type Counter, type LimiterStore, memoryStore } from './store.js';

/**
 * One window of a policy. A rolling window (`duration`) starts at a key's first request and resets
 * when it ends; a calendar quota (`per`) resets at the start of each UTC hour, day, ISO week (Monday)
 * or month, the same instant for every key.
 *
 * @example { name: 'burst', points: 20, duration: '1s' }
 * @example { name: 'daily', points: 10_000, per: 'day' }
 */
export interface LimitWindow {
  /**
   * Names the window in `RateLimit` headers, metrics and problem details; unique within a policy.
   * Must be a token (letters, digits, `-`, `_`, `.`).
   *
   * @default the duration in seconds (`'60s'`) or the period (`'day'`)
   */
  name?: string;
  /** Points each key may spend per window (a request spends `cost`, 1 by default). */
  points: number;
  /** The window's length: seconds, or text (`'1s'`, `'15m'`, `'1h'`). Give this or `per`. */
  duration?: Duration;
  /** A calendar quota, reset at the start of each UTC period. Give this or `duration`. */
  per?: CalendarPeriod;
}

/** Who is never limited. Any match exempts the request. */
export interface ExemptOptions {
  /** Client addresses, CIDRs or range names (`'loopback'`, `'private'`), after trusted-proxy resolution. */
  ips?: readonly string[];
  /** Principal ids. */
  principals?: readonly string[];
  /** Principal tiers (`'internal'`). */
  tiers?: readonly string[];
  /** Any other rule; a throwing predicate exempts nothing (and is reported). */
  when?: (exchange: Exchange) => boolean;
}

/** A per-route policy: the first rule matching the normalized path (and method) replaces the top-level one. */
export interface RouteLimit {
  /** A path pattern on the normalized path (`/search`, `/orders/:id`, `/reports/*`). */
  path: string;
  /** Upper-case methods the rule applies to. @default every method */
  methods?: readonly string[];
  /** Windows for this route (instead of the top-level `limits`). */
  limits?: readonly LimitWindow[];
  /** Tiered windows for this route (instead of the top-level `tiers`). */
  tiers?: Readonly<Record<string, readonly LimitWindow[]>>;
  /** The key for this route. @default the top-level `key` */
  key?: KeySpec;
  /** The cost of a request on this route. @default the top-level `cost` */
  cost?: number | ((exchange: Exchange) => number);
  /** `true`: this route is not limited at all (health checks, static assets). */
  exempt?: boolean;
}

/** Options of `rateLimit()`. */
export interface RateLimitOptions {
  /**
   * Namespaces this limiter's counters (`<prefix>:<name>:…`); give each `rateLimit()` on a gateway its
   * own name, and the same name on every instance of a fleet.
   *
   * @default 'default'
   */
  name?: string;
  /** Windows applied to every request (all at once: a burst and a sustained rate). Give this or `tiers`. */
  limits?: readonly LimitWindow[];
  /**
   * Windows per plan (`{ free: [...], pro: [...] }`), chosen by `tier`. An empty list means no window
   * limit for that tier. Give this or `limits`.
   */
  tiers?: Readonly<Record<string, readonly LimitWindow[]>>;
  /**
   * The tier of a request: the default reads the principal's `tier` (set by `auth()`).
   *
   * @default (exchange) => exchange.state.principal?.tier
   */
  tier?: (exchange: Exchange) => string | undefined;
  /** The tier for requests whose tier is missing or not in `tiers` (anonymous callers). Must be in `tiers`. */
  defaultTier?: string;
  /**
   * What requests are counted against: one key part or several (composite).
   *
   * @default 'principal' (the principal's id; the client address for anonymous requests)
   */
  key?: KeySpec;
  /**
   * IPv6 clients are grouped by this prefix length (one subscriber usually holds a /64, so one bucket
   * per address would let them multiply their budget by 2^64).
   *
   * @default 64
   */
  ipv6Prefix?: number;
  /** The header the `'api-key'` key part reads. @default 'x-api-key' */
  apiKeyHeader?: string;
  /** Points a request spends: a number, or a function of the exchange (a non-negative integer). @default 1 */
  cost?: number | ((exchange: Exchange) => number);
  /** Requests never limited (internal addresses, principals, tiers, a predicate). */
  exempt?: ExemptOptions;
  /** Per-route policies, first match wins; unmatched requests get the top-level policy. */
  routes?: readonly RouteLimit[];
  /** Where counters live: {@link memoryStore} or `redisStore({ url })`. @default memoryStore() */
  store?: LimiterStore;
  /**
   * When the store fails and there is no insurance limiter (or it fails too): `'open'` admits the
   * request (and reports the failure), `'closed'` refuses it with 503 `GH_RATE_LIMIT_UNAVAILABLE`.
   *
   * @default 'open'
   */
  failure?: 'open' | 'closed';
  /**
   * Response headers on limited routes: `'ietf'` (`RateLimit` and `RateLimit-Policy`,
   * draft-ietf-httpapi-ratelimit-headers), `'legacy'` (`X-RateLimit-Limit/-Remaining/-Reset`),
   * `'both'` or `'none'`. `Retry-After` comes with every refusal regardless.
   *
   * @default 'ietf'
   */
  headers?: 'ietf' | 'legacy' | 'both' | 'none';
  /** In-flight limits: per key (429) and for the whole gateway (a bulkhead, 503). */
  concurrency?: ConcurrencyOptions;
  /** Load shedding on event-loop delay (503 + Retry-After before the process falls over). */
  shed?: ShedOptions;
  /** Prefix of every counter key in the store. @default 'gatehouse:rl' */
  prefix?: string;
  /** Where outcome counters are reported. @default the global OpenTelemetry meter provider */
  meterProvider?: MeterProvider;
}

/** In-flight limits; slots are released when the response ends, fails or the client goes away. */
export interface ConcurrencyOptions {
  /** Requests one key may have in flight at once (beyond: 429 `GH_CONCURRENCY_LIMITED`). */
  perKey?: number;
  /** Requests this limiter admits at once in the whole process (beyond: 503 `GH_BULKHEAD_FULL`). */
  global?: number;
}

/** Load shedding: refuse new work while the event loop lags, so requests in flight can finish. */
export interface ShedOptions {
  /** Shed while the event loop's delay over the last sample exceeds this (ms). */
  maxEventLoopDelayMs: number;
  /** How often the delay is sampled (ms). @default 500 */
  sampleIntervalMs?: number;
  /** `Retry-After` on a shed request, in seconds. @default 1 */
  retryAfter?: number;
}

/** A compiled window: its counters and how it renders in headers. */
export interface Window {
  readonly name: string;
  /** The start of this window's `RateLimit` item, up to the remaining points: `"name";r=`. */
  readonly item: string;
  readonly points: number;
  /** Whole seconds, for the `w` parameter and for rolling windows' store TTL. */
  readonly seconds: number;
  readonly per: CalendarPeriod | undefined;
  readonly counter: Counter;
  readonly insurance: Counter | undefined;
}

/** A compiled policy: its windows and its `RateLimit-Policy` field value (constant per policy). */
export interface Policy {
  readonly windows: readonly Window[];
  readonly policyHeader: string;
}

/** A compiled scope: the top level or one route rule. */
export interface Scope {
  /** The rule's path (for `'route'` keys), undefined at the top level. */
  readonly rule: string | undefined;
  readonly exempt: boolean;
  readonly policy: Policy | undefined;
  readonly tiers: ReadonlyMap<string, Policy> | undefined;
  readonly defaultTier: Policy | undefined;
  readonly keyOf: KeyOf;
  readonly cost: number | ((exchange: Exchange) => number);
}

export interface RouteScope extends Scope {
  readonly methods: ReadonlySet<string> | undefined;
  readonly sensitive: (path: string) => boolean;
  readonly insensitive: (path: string) => boolean;
}

export interface Resolved {
  readonly name: string;
  readonly top: Scope;
  readonly routes: readonly RouteScope[];
  readonly tierOf: (exchange: Exchange) => string | undefined;
  readonly exempt: ((exchange: Exchange) => boolean) | undefined;
  readonly store: LimiterStore;
  readonly failure: 'open' | 'closed';
  readonly ietf: boolean;
  readonly legacy: boolean;
  readonly concurrency: { perKey: number; global: number } | undefined;
  readonly shed: Required<ShedOptions> | undefined;
}

const KNOWN = [
  'name',
  'limits',
  'tiers',
  'tier',
  'defaultTier',
  'key',
  'ipv6Prefix',
  'apiKeyHeader',
  'cost',
  'exempt',
  'routes',
  'store',
  'failure',
  'headers',
  'concurrency',
  'shed',
  'prefix',
  'meterProvider',
] as const;
const WINDOW_KNOWN = ['name', 'points', 'duration', 'per'] as const;
const ROUTE_KNOWN = ['path', 'methods', 'limits', 'tiers', 'key', 'cost', 'exempt'] as const;
const PERIODS: readonly string[] = ['hour', 'day', 'week', 'month'];
// A Structured Field token, so names can be sent as sf-strings without escaping.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Validates every option and compiles the policy; every problem goes to `problems`. */
export function resolve(problems: Problems, options: RateLimitOptions): Resolved {
  if (!isObject(options)) {
    problems.add('', 'must be an options object');
    options = {};
  }
  unknownKeys(problems, '', options, KNOWN);
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !NAME.test(name)) {
    problems.add('name', `must be a token of letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`);
  }
  const prefix = options.prefix ?? 'gatehouse:rl';
  if (options.prefix !== undefined) nonEmptyString(problems, 'prefix', options.prefix);
  const store = options.store ?? memoryStore();
  if (!isObject(store) || typeof (store as Partial<LimiterStore>).counter !== 'function') {
    problems.add('store', 'must be a store such as memoryStore() or redisStore({ url })');
  }
  const ipv6Prefix = options.ipv6Prefix ?? 64;
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 1 || ipv6Prefix > 128) {
    problems.add('ipv6Prefix', `must be an integer from 1 to 128, got ${JSON.stringify(ipv6Prefix)}`);
  }
  const apiKeyHeader = (options.apiKeyHeader ?? 'x-api-key').toLowerCase();
  const failure = options.failure ?? 'open';
  if (failure !== 'open' && failure !== 'closed') {
    problems.add('failure', `must be 'open' or 'closed', got ${JSON.stringify(failure)}`);
  }
  const headers = options.headers ?? 'ietf';
  if (!['ietf', 'legacy', 'both', 'none'].includes(headers)) {
    problems.add('headers', `must be 'ietf', 'legacy', 'both' or 'none', got ${JSON.stringify(headers)}`);
  }
  if (options.tier !== undefined && typeof options.tier !== 'function') {
    problems.add('tier', 'must be a function of the exchange returning a tier name');
  }

  const keyOptions = { ipv6Prefix, apiKeyHeader };
  const makeCounters = (at: string, label: string, windows: unknown): Policy | undefined =>
    compilePolicy(problems, at, windows, (w) => {
      const spec = {
        keyPrefix: `${prefix}:${name}:${label}:${w.name}`,
        points: w.points,
        durationMs: w.seconds * 1000,
      };
      const valid = isObject(store) && typeof (store as Partial<LimiterStore>).counter === 'function';
      return {
        counter: valid ? store.counter(spec) : (undefined as unknown as Counter),
        insurance: valid ? store.insurance?.(spec) : undefined,
      };
    });

  const compileScope = (
    at: string,
    label: string,
    source: { limits?: unknown; tiers?: unknown; key?: unknown; cost?: unknown; exempt?: unknown },
    inherit: Scope | undefined,
  ): Scope => {
    const prefixAt = (p: string) => (at === '' ? p : `${at}.${p}`);
    if (source.limits !== undefined && source.tiers !== undefined) {
      problems.add(at === '' ? 'limits' : prefixAt('limits'), "give either 'limits' or 'tiers', not both");
    }
    let policy: Policy | undefined;
    let tiers: Map<string, Policy> | undefined;
    if (source.limits !== undefined) policy = makeCounters(prefixAt('limits'), label, source.limits);
    if (source.tiers !== undefined) {
      tiers = new Map();
      if (!isObject(source.tiers)) problems.add(prefixAt('tiers'), 'must map tier names to lists of windows');
      else {
        for (const [tier, windows] of Object.entries(source.tiers)) {
          if (!NAME.test(tier)) problems.add(prefixAt(`tiers.${tier}`), 'tier names must be tokens');
          const compiled = makeCounters(prefixAt(`tiers.${tier}`), `${label}:${tier}`, windows);
          if (compiled !== undefined) tiers.set(tier, compiled);
        }
      }
    }
    let defaultTier: Policy | undefined;
    if (tiers !== undefined) {
      const wanted = options.defaultTier;
      if (wanted === undefined) {
        problems.add('defaultTier', `is required with tiers (one of ${[...tiers.keys()].join(', ')})`);
      } else if (!tiers.has(wanted)) {
        problems.add(
          'defaultTier',
          `unknown tier '${wanted}' in ${at === '' ? 'tiers' : prefixAt('tiers')}; expected one of ${[...tiers.keys()].join(', ')}`,
        );
      } else defaultTier = tiers.get(wanted);
    }
    if (inherit === undefined && policy === undefined && tiers === undefined && source.exempt !== true) {
      // Only concurrency or shedding, no windows: allowed.
    }
    if (inherit !== undefined && policy === undefined && tiers === undefined) {
      policy = inherit.policy;
      tiers = inherit.tiers as Map<string, Policy> | undefined;
      defaultTier = inherit.defaultTier;
    }
    const keyOf =
      source.key !== undefined
        ? compileKey(problems, prefixAt('key'), source.key, keyOptions)
        : (inherit?.keyOf ?? compileKey(problems, prefixAt('key'), 'principal', keyOptions));
    const cost =
      source.cost !== undefined ? checkCost(problems, prefixAt('cost'), source.cost) : (inherit?.cost ?? 1);
    if (source.exempt !== undefined && typeof source.exempt !== 'boolean' && at !== '') {
      problems.add(prefixAt('exempt'), 'must be true or false');
    }
    return {
      rule: inherit === undefined ? undefined : label,
      exempt: at !== '' && source.exempt === true,
      policy,
      tiers,
      defaultTier,
      keyOf,
      cost,
    };
  };

  const top = compileScope(
    '',
    'all',
    { limits: options.limits, tiers: options.tiers, key: options.key, cost: options.cost },
    undefined,
  );
  if (
    options.defaultTier !== undefined &&
    options.tiers === undefined &&
    !(options.routes ?? []).some((r) => isObject(r) && r.tiers !== undefined)
  ) {
    problems.add('defaultTier', "has no effect without 'tiers'");
  }

  const routes: RouteScope[] = [];
  if (options.routes !== undefined) {
    if (!Array.isArray(options.routes)) problems.add('routes', 'must be an array of route rules');
    else {
      for (const [i, rule] of (options.routes as unknown[]).entries()) {
        const at = `routes[${i}]`;
        if (!isObject(rule)) {
          problems.add(at, 'must be a route rule object');
          continue;
        }
        unknownKeys(problems, at, rule, ROUTE_KNOWN);
        let sensitive: ((p: string) => boolean) | undefined;
        let insensitive: ((p: string) => boolean) | undefined;
        try {
          sensitive = createPathMatcher(rule.path as string, { caseSensitive: true });
          insensitive = createPathMatcher(rule.path as string, { caseSensitive: false });
        } catch (error) {
          problems.add(`${at}.path`, (error as Error).message);
        }
        let methods: Set<string> | undefined;
        if (rule.methods !== undefined) {
          if (!Array.isArray(rule.methods) || rule.methods.length === 0) {
            problems.add(`${at}.methods`, 'must be a non-empty array of upper-case method names');
          } else {
            for (const [j, m] of (rule.methods as unknown[]).entries()) {
              if (typeof m !== 'string' || !METHOD.test(m)) {
                problems.add(
                  `${at}.methods[${j}]`,
                  `must be an upper-case method name, got ${JSON.stringify(m)}`,
                );
              }
            }
            methods = new Set(rule.methods as string[]);
          }
        }
        const label = `${rule.path as string}${methods === undefined ? '' : ` ${[...methods].join(',')}`}`;
        const scope = compileScope(at, label, rule, top);
        if (sensitive !== undefined && insensitive !== undefined) {
          routes.push({ ...scope, rule: rule.path as string, methods, sensitive, insensitive });
        }
      }
    }
  }

  const concurrency = compileConcurrency(problems, options.concurrency);
  const shed = compileShed(problems, options.shed);
  if (
    top.policy === undefined &&
    top.tiers === undefined &&
    routes.every((r) => r.policy === undefined && r.tiers === undefined) &&
    concurrency === undefined &&
    shed === undefined
  ) {
    problems.add('', "limits nothing: give 'limits', 'tiers', 'routes', 'concurrency' or 'shed'");
  }

  const tierOf =
    typeof options.tier === 'function'
      ? options.tier
      : (exchange: Exchange) => {
          const tier = principalOf(exchange)?.tier;
          return typeof tier === 'string' ? tier : undefined;
        };

  return {
    name,
    top,
    routes,
    tierOf,
    exempt: compileExempt(problems, options.exempt, tierOf),
    store,
    failure,
    ietf: headers === 'ietf' || headers === 'both',
    legacy: headers === 'legacy' || headers === 'both',
    concurrency,
    shed,
  };
}

function compilePolicy(
  problems: Problems,
  at: string,
  windows: unknown,
  counters: (w: { name: string; points: number; seconds: number }) => {
    counter: Counter;
    insurance: Counter | undefined;
  },
): Policy | undefined {
  if (!Array.isArray(windows)) {
    problems.add(at, 'must be an array of windows ({ points, duration } or { points, per })');
    return undefined;
  }
  const compiled: Window[] = [];
  const names = new Set<string>();
  for (const [i, w] of (windows as unknown[]).entries()) {
    const wAt = `${at}[${i}]`;
    if (!isObject(w)) {
      problems.add(wAt, 'must be a window object ({ points, duration } or { points, per })');
      continue;
    }
    unknownKeys(problems, wAt, w, WINDOW_KNOWN);
    const before = problems.count;
    const points = positiveInt(problems, `${wAt}.points`, w.points ?? null, 1);
    let seconds = 0;
    let per: CalendarPeriod | undefined;
    if ((w.duration === undefined) === (w.per === undefined)) {
      problems.add(wAt, "give exactly one of 'duration' (a rolling window) or 'per' (a calendar quota)");
    } else if (w.duration !== undefined) {
      const ms = durationMs(w.duration);
      if (ms === undefined || ms < 1000 || ms % 1000 !== 0) {
        problems.add(
          `${wAt}.duration`,
          `must be a whole number of seconds (≥ 1 s), got ${JSON.stringify(w.duration)}`,
        );
      } else seconds = ms / 1000;
    } else if (typeof w.per !== 'string' || !PERIODS.includes(w.per)) {
      problems.add(`${wAt}.per`, `must be one of ${PERIODS.join(', ')}, got ${JSON.stringify(w.per)}`);
    } else {
      per = w.per as CalendarPeriod;
      seconds = periodSeconds(per);
    }
    const name = w.name ?? per ?? `${seconds}s`;
    if (typeof name !== 'string' || !NAME.test(name)) {
      problems.add(
        `${wAt}.name`,
        `must be a token of letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`,
      );
    } else if (names.has(name)) {
      problems.add(`${wAt}.name`, `'${name}' names two windows of one policy; give each a distinct name`);
    }
    if (problems.count > before) continue;
    names.add(name as string);
    compiled.push({
      item: `"${name as string}";r=`,
      name: name as string,
      points,
      seconds,
      per,
      ...counters({ name: name as string, points, seconds }),
    });
  }
  return {
    windows: compiled,
    policyHeader: compiled.map((w) => `"${w.name}";q=${w.points};w=${w.seconds}`).join(', '),
  };
}

function checkCost(problems: Problems, at: string, cost: unknown): number | ((exchange: Exchange) => number) {
  if (typeof cost === 'function') return cost as (exchange: Exchange) => number;
  if (typeof cost === 'number' && Number.isInteger(cost) && cost >= 0) return cost;
  problems.add(at, `must be a non-negative integer or a function, got ${JSON.stringify(cost)}`);
  return 1;
}

function compileConcurrency(
  problems: Problems,
  value: unknown,
): { perKey: number; global: number } | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.add('concurrency', 'must be an object ({ perKey, global })');
    return undefined;
  }
  unknownKeys(problems, 'concurrency', value, ['perKey', 'global']);
  if (value.perKey === undefined && value.global === undefined) {
    problems.add('concurrency', "give 'perKey', 'global' or both");
  }
  return {
    perKey: positiveInt(problems, 'concurrency.perKey', value.perKey, Number.POSITIVE_INFINITY),
    global: positiveInt(problems, 'concurrency.global', value.global, Number.POSITIVE_INFINITY),
  };
}

function compileShed(problems: Problems, value: unknown): Required<ShedOptions> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.add('shed', 'must be an object ({ maxEventLoopDelayMs })');
    return undefined;
  }
  unknownKeys(problems, 'shed', value, ['maxEventLoopDelayMs', 'sampleIntervalMs', 'retryAfter']);
  return {
    maxEventLoopDelayMs: positiveInt(
      problems,
      'shed.maxEventLoopDelayMs',
      value.maxEventLoopDelayMs ?? null,
      100,
    ),
    sampleIntervalMs: positiveInt(problems, 'shed.sampleIntervalMs', value.sampleIntervalMs, 500),
    retryAfter: positiveInt(problems, 'shed.retryAfter', value.retryAfter, 1),
  };
}

function compileExempt(
  problems: Problems,
  value: unknown,
  tierOf: (exchange: Exchange) => string | undefined,
): ((exchange: Exchange) => boolean) | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.add('exempt', 'must be an object ({ ips, principals, tiers, when })');
    return undefined;
  }
  unknownKeys(problems, 'exempt', value, ['ips', 'principals', 'tiers', 'when']);
  const list = (key: string): string[] | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((e) => typeof e !== 'string' || e === '')) {
      problems.add(`exempt.${key}`, 'must be an array of non-empty strings');
      return undefined;
    }
    return v as string[];
  };
  const checks: ((exchange: Exchange) => boolean)[] = [];
  const ips = list('ips');
  if (ips !== undefined) {
    try {
      const matches = createAddressMatcher(ips, 'exempt.ips');
      checks.push((exchange) => matches(exchange.clientIp));
    } catch (error) {
      problems.add('exempt.ips', (error as Error).message.replace(/^exempt\.ips: /, ''));
    }
  }
  const principals = list('principals');
  if (principals !== undefined) {
    const set = new Set(principals);
    checks.push((exchange) => {
      const id = principalOf(exchange)?.id;
      return typeof id === 'string' && set.has(id);
    });
  }
  const tiers = list('tiers');
  if (tiers !== undefined) {
    const set = new Set(tiers);
    checks.push((exchange) => {
      const tier = tierOf(exchange);
      return tier !== undefined && set.has(tier);
    });
  }
  if (value.when !== undefined) {
    if (typeof value.when !== 'function') problems.add('exempt.when', 'must be a function of the exchange');
    else checks.push(value.when as (exchange: Exchange) => boolean);
  }
  if (checks.length === 0) return undefined;
  return (exchange) => {
    for (const check of checks) if (check(exchange)) return true;
    return false;
  };
}
