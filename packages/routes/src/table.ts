// The route table: what users write (in code, a YAML/JSON file or an etcd key), and its validation
// into a compiled table with a path to every problem. Everything here runs once per table; the
// request path only reads what this compiled.
import {
  ConfigError,
  type ConfigProblem,
  createPathMatcher,
  didYouMean,
  type PathPolicy,
  Problems,
  parseOptions,
  unknownKeys,
} from '@gatehousejs/core';
import { type ApiVersion, parseVersionRange } from '@gatehousejs/versioning';
import * as v from 'valibot';
import type { DiffOptions } from './diff.js';
import { type HostPattern, parseHostPattern, routeSpecSchema } from './options.js';
import { type CompiledPromotion, compilePromotion } from './promotion.js';

export { type HostPattern, parseHostPattern } from './options.js';

/**
 * How a route is served, in the order a migration goes through them:
 * - `local`: the application's own handler answers;
 * - `shadow`: local answers, a copy goes to the service and the two answers are compared;
 * - `split`: a sticky `weight` % of callers go to the service, the rest to local;
 * - `fallback`: the service answers; when it cannot (refused, timed out, open circuit, 5xx) local does;
 * - `remote`: the service answers, whatever happens.
 */
export type Mode = 'local' | 'shadow' | 'split' | 'fallback' | 'remote';

/** The stages in order; a gate breach moves a route one stage back along this list. */
export const MODES: readonly Mode[] = ['local', 'shadow', 'split', 'fallback', 'remote'];

/**
 * What keeps one caller on one side of a split: its principal (the client IP when anonymous), its IP,
 * a cookie or a header; `'none'` decides every request on its own.
 */
export type Sticky = 'principal' | 'ip' | 'none' | { cookie: string } | { header: string };

/** Why a `fallback` route lets the local handler answer. */
export type FallbackReason = 'connect' | 'timeout' | 'circuit' | '5xx';

/** One route of the table. */
export interface RouteSpec {
  /**
   * Names the route in `/routes`, `/migration`, metrics, events and `setMode()`; letters, digits,
   * `.`, `_`, `-`; unique in the table.
   *
   * @default the path pattern, with the methods when given (`'GET /orders/*'`)
   */
  name?: string;
  /**
   * Path pattern on the normalized path: `/orders`, `/orders/*` (everything below), `/orders/:id`; or
   * several, for a group of paths that moves as one (`['/api/profiles/*', '/api/tags']`): one mode,
   * one split, one set of windows, diffs and gates, one name for `setMode()` and the admin API.
   */
  path: string | readonly string[];
  /** Upper-case methods. @default every method */
  methods?: readonly string[];
  /**
   * Hosts the route answers for, compared with the request's host without its port, case-insensitively
   * and exactly (`api.example.com` never matches `api.example.com.evil.net`); `*.example.com` matches one
   * or more labels below `example.com`. @default every host
   */
  host?: string | readonly string[];
  /** Request headers that must be present (`true`) or equal a value. */
  headers?: Readonly<Record<string, string | true>>;
  /** Query parameters that must be present (`true`) or equal a value. */
  query?: Readonly<Record<string, string | true>>;
  /**
   * API versions the route serves, as `gw.version()` read them (mount it before `gw.routes()`): a
   * version (`'2'`), a baseline (`'2+'`: that version and later), or a list of them. A request
   * without a version matches no route that has one, so `/orders` version 1 can stay local while
   * version 2 goes to the new service. @default every request, versioned or not
   */
  version?: string | number | ReadonlyArray<string | number>;
  /** The service (from the gateway's `services`, or a client given in code) the route moves to. */
  service?: string;
  /** @default `'remote'` with a service, `'local'` without */
  mode?: Mode;
  /** Share of callers sent to the service in `split` mode, in percent (0–100). @default 0 */
  weight?: number;
  /**
   * Re-arms the route: any change to this value (a counter, a date) applies the table's `mode` and
   * `weight` again, even when they are unchanged, and starts a new stage. One edit after a gate moved
   * the route back (the run-time mode otherwise stays until the table changes `mode` or `weight`).
   * `routes.rearm(name)` does the same from code.
   */
  rearm?: string | number;
  /**
   * What keeps a caller on one side of a split; `'none'` splits request by request.
   * @default 'principal' (the client IP when anonymous: every caller behind one address goes one way)
   */
  sticky?: Sticky;
  /** Path prefix rewrite towards the service: `{ from: '/orders', to: '/api/v2/orders' }`. */
  rewrite?: { from: string; to: string };
  /** Header changes on the forwarded request (after hygiene). */
  requestHeaders?: { set?: Readonly<Record<string, string>>; remove?: readonly string[] };
  /** Header changes on the service's response (after hygiene). */
  responseHeaders?: { set?: Readonly<Record<string, string>>; remove?: readonly string[] };
  /**
   * One deadline for the whole upstream call, every try included; any try may use all of it, so a
   * slow service is tried once and only fast failures are retried within it. @default 10_000
   */
  timeoutMs?: number;
  /** Longest pause between two chunks of the service's response (raise it for server-sent events). */
  bodyTimeoutMs?: number;
  /**
   * Hosts the service may name in `Location` and `Set-Cookie` `Domain` that must be rewritten to the
   * public host (`internal:8080`, `*.svc.cluster.local`); the service's own endpoints always are.
   */
  internalHosts?: readonly string[];
  /** Shadow copies. */
  shadow?: ShadowSpec;
  /** How shadow answers are compared. */
  diff?: DiffOptions;
  /** When a `fallback` route falls back, and how much request body it keeps to replay. */
  fallback?: FallbackSpec;
  /** Thresholds that move the route one stage back when breached. */
  gates?: GateSpec;
  /**
   * Gated promotion: the route walks `promotion.steps` on its own, one step each time the evidence of
   * the current step passes (see {@link PromotionSpec}). `true` takes every default. @default off
   */
  promotion?: boolean | PromotionSpec;
  /**
   * Pass WebSocket (and other `Upgrade`) requests through to the service when the route sends the
   * request there. Off by default: upgrades never reach the framework's middleware, so only
   * `gw.auth()` (run on them by `gw.routes()`) guards them. @default false
   */
  websocket?: boolean;
  /**
   * Answer GET requests sent to the service through the gateway's RFC 9111 response cache
   * (`gw.responseCache()`, `@gatehousejs/aggregate`): fresh answers from the store with `Age` and
   * `Cache-Status`, stale ones revalidated once however many ask, identical concurrent GETs shared.
   * Only what the service marks cacheable is stored. @default false
   */
  cache?: boolean;
}

/** When a `fallback` route lets the local handler answer. */
export interface FallbackSpec {
  /** Failures of the service that fall back. @default ['connect', 'timeout', 'circuit', '5xx'] */
  on?: readonly FallbackReason[];
  /**
   * For methods that are not idempotent (POST, PATCH, anything but GET, HEAD, OPTIONS, TRACE, PUT and
   * DELETE), the failures that fall back (within `on`): only those where the service cannot have
   * acted on the request, because replaying it locally after a timeout or a 5xx could apply a write
   * twice. @default ['connect', 'circuit']
   */
  nonIdempotentOn?: readonly FallbackReason[];
  /** Request bodies up to this size are kept to replay locally; larger ones cannot fall back. @default 1 MiB */
  maxReplayBytes?: number;
}

/** Shadow-copy limits. */
export interface ShadowSpec {
  /** Shadow calls in flight at once; beyond, copies are skipped (counted). @default 16 */
  maxConcurrent?: number;
  /** Request and response bodies larger than this are not copied or compared. @default 1 MiB */
  maxBodyBytes?: number;
  /**
   * Methods copied to the service. Only reads by default: the service usually shares the monolith's
   * database, so a copied write (PUT, DELETE, POST, PATCH) would be applied twice — once by the local
   * handler, once by the copy — and compared against state it already changed. Add writes only when the
   * service writes somewhere harmless (its own staging database). @default ['GET', 'HEAD']
   */
  methods?: readonly string[];
  /**
   * The header every shadow copy carries (value `1`) so the service can tell a copy from real traffic
   * (skip side effects, keep it out of its own metrics); a client-sent header of that name is removed
   * from every forwarded request. `false`: copies are not marked. @default 'gatehouse-shadow'
   */
  marker?: string | false;
  /** Share of eligible requests copied, 0–1. @default 1 */
  sampleRate?: number;
  /**
   * Share of copied GET/HEAD requests for which a second local answer is fetched (over loopback) to
   * learn which fields differ between two identical requests (timestamps, ids): noise, then ignored.
   * 0 turns learning off. @default 0.1
   */
  noiseSampleRate?: number;
}

/** Gate thresholds, evaluated over a sliding window. */
export interface GateSpec {
  /** @default 60_000 */
  windowMs?: number;
  /** Requests each compared side needs in the window before the gate judges. @default 20 */
  minRequests?: number;
  /** Highest share (0–1) of shadow comparisons that differ. */
  maxDiffRate?: number;
  /** Highest error rate (5xx and failures, 0–1) of the service minus that of local. */
  maxErrorRateDelta?: number;
  /** Highest error rate (0–1) of the service, when there is no local traffic to compare with. */
  maxErrorRate?: number;
  /** Highest p99 latency of the service minus that of local, in ms. */
  maxP99DeltaMs?: number;
  /**
   * Highest share (0–1) of the service's answers that break the API contract, as judged by a
   * contract observer (`gw.validate()`'s contract guard); any mode but local.
   */
  maxContractViolationRate?: number;
}

/** A gate of gated promotion. */
export type PromotionGate = 'baseline' | 'diff' | 'errors' | 'latency' | 'contract';

/** One step of a promotion walk: a mode, or `'split N'` (N % of callers to the service). */
export type PromotionStep =
  | 'shadow'
  | 'fallback'
  | 'remote'
  | `split ${number}`
  | { mode: Exclude<Mode, 'local'>; weight?: number };

/**
 * Gated promotion: from where the route stands, move to the next step once the current step has run
 * for `holdMs`, each side has `minSamples`, and the verdict over the step's traffic is `pass`; step
 * back (and stop walking until re-armed) when it is `fail`.
 */
export interface PromotionSpec {
  /** The steps walked, in order (strictly later stages, split weights rising). @default ['shadow', 'split 10', 'split 50', 'remote'] */
  steps?: readonly PromotionStep[];
  /** Least time in a step before it may be left for the next, in ms. @default 300_000 */
  holdMs?: number;
  /** Requests (comparisons, contract checks) each judged side needs in the step before a gate judges. @default 50 */
  minSamples?: number;
  /** Confidence of the one-sided tests (α = 1 − confidence). @default 0.99 */
  confidence?: number;
  /** Wait for a person (`promote()`, the admin API) before entering these modes; `true`: every step. @default false */
  confirm?: boolean | readonly Exclude<Mode, 'local'>[];
  /** Gates whose `fail` fails the verdict on its own. @default ['diff', 'errors', 'contract'] */
  critical?: readonly PromotionGate[];
  /** How much worse than its control the service may be before a gate calls it worse. */
  tolerance?: {
    /** Diff rate above the noise baseline (0–1). @default 0.01 */
    diffRate?: number;
    /** Error rate above the control's (0–1). @default 0.01 */
    errorRate?: number;
    /** Share of the service's answers that break the API contract (0–1). @default 0 */
    contractRate?: number;
    /** Median latency above the control's, in ms. @default 25 */
    medianMs?: number;
    /** p99 latency above the control's, in ms. @default 100 */
    p99Ms?: number;
  };
  /** Kayenta's score thresholds (0–100): at or above `pass` promotes, at or above `marginal` holds. @default { pass: 95, marginal: 75 } */
  scoreThresholds?: { pass?: number; marginal?: number };
}

/** The document a file or etcd key holds, and what `routes({ table })` takes. */
export interface RouteTable {
  routes: readonly RouteSpec[];
}

// ---------------------------------------------------------------------------------------------

/** Shadow settings ready for the request path. */
export interface CompiledShadow {
  readonly maxConcurrent: number;
  readonly maxBodyBytes: number;
  readonly methods: ReadonlySet<string>;
  readonly sampleRate: number;
  readonly noiseSampleRate: number;
  /** The marker header (lower case), or undefined when copies are not marked. */
  readonly marker: string | undefined;
}

/** A route ready for the request path. */
export interface CompiledRoute {
  readonly name: string;
  readonly spec: RouteSpec;
  /** The route's path patterns, as written (one, or a group's). */
  readonly paths: readonly string[];
  /**
   * The one label of a request on this route in metrics, spans and logs (`http.route`), whichever side
   * answers: the pattern that matched `path`.
   */
  readonly label: (path: string) => string;
  readonly index: number;
  readonly service: string | undefined;
  readonly mode: Mode;
  readonly weight: number;
  readonly sticky: Sticky;
  readonly matchPath: (path: string) => boolean;
  readonly methods: ReadonlySet<string> | undefined;
  readonly hosts: readonly HostPattern[] | undefined;
  readonly headers: readonly [string, string | true][];
  readonly query: readonly [string, string | true][];
  /** Whether a request's API version is one the route serves; undefined when the route has no `version`. */
  readonly version: ((version: ApiVersion) => boolean) | undefined;
  readonly rewrite: { from: string; to: string; fromMatch: (path: string) => boolean } | undefined;
  readonly requestSet: readonly [string, string][];
  readonly requestRemove: ReadonlySet<string>;
  readonly responseSet: readonly [string, string][];
  readonly responseRemove: ReadonlySet<string>;
  readonly timeoutMs: number | undefined;
  readonly bodyTimeoutMs: number | undefined;
  readonly internalHosts: readonly HostPattern[];
  readonly shadow: CompiledShadow;
  readonly diff: DiffOptions;
  readonly fallbackOn: ReadonlySet<FallbackReason>;
  /** The failures that fall back for a method that is not idempotent (`on` ∩ `nonIdempotentOn`). */
  readonly fallbackOnNonIdempotent: ReadonlySet<FallbackReason>;
  readonly maxReplayBytes: number;
  readonly gates: Required<Pick<GateSpec, 'windowMs' | 'minRequests'>> & GateSpec;
  readonly websocket: boolean;
  /** GETs sent to the service go through the response cache. */
  readonly cache: boolean;
  /** Gated promotion, when the route has it. */
  readonly promotion: CompiledPromotion | undefined;
  /**
   * `mode`, `weight` and `rearm` as the table gives them, to tell a table change (or a re-arm) from a
   * run-time change.
   */
  readonly fingerprint: string;
}

const MiB = 1024 * 1024;
const REASONS: readonly FallbackReason[] = ['connect', 'timeout', 'circuit', '5xx'];
/** Failures where the request never reached the service: replaying a write locally is safe. */
const NEVER_SENT: readonly FallbackReason[] = ['connect', 'circuit'];
/** Methods shadowed by default: reads only (see `ShadowSpec.methods`). */
const SHADOWED_METHODS: readonly string[] = ['GET', 'HEAD'];

/**
 * Whether a request host (`Host` header or trusted `X-Forwarded-Host`, `host[:port]`) matches a
 * pattern: the whole name, never a prefix or suffix of it; a wildcard needs at least one label more.
 */
export function hostMatches(pattern: HostPattern, requestHost: string): boolean {
  let host = requestHost.toLowerCase();
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    port = end !== -1 && host[end + 1] === ':' ? host.slice(end + 2) : undefined;
    host = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      port = host.slice(colon + 1);
      host = host.slice(0, colon);
    }
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (pattern.port !== undefined && pattern.port !== port) return false;
  if (!pattern.wildcard) return host === pattern.host;
  return host.length > pattern.host.length + 1 && host.endsWith(`.${pattern.host}`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a table compiles against. */
export interface TableContext {
  /** Services a route may name; a route naming another is a problem. */
  readonly services: ReadonlySet<string>;
  readonly pathPolicy: Pick<PathPolicy, 'caseSensitive'>;
}

const routeListSchema = v.array(routeSpecSchema);

/**
 * Validates a route table (a parsed document or the object API) and compiles it. Throws one
 * `ConfigError` listing every problem with its path (`routes[2].weight: …`): the shape of every route
 * (`routeSpecSchema`), and what needs the gateway around it (known services, a service for every mode
 * but local, unique names).
 */
export function compileTable(input: unknown, context: TableContext, label = 'routes'): CompiledRoute[] {
  const problems = new Problems(label);
  const list = isObject(input) && 'routes' in input ? input.routes : input;
  if (isObject(input)) unknownKeys(problems, '', input, ['routes']);
  if (!Array.isArray(list)) {
    problems.add('', "must be an array of routes (or an object with 'routes')");
    problems.throwIfAny();
  }
  // An empty YAML value (`mode:`) is null: read it as left out, the same for every key of a route.
  const routes = (list as unknown[]).map((route) =>
    isObject(route) ? Object.fromEntries(Object.entries(route).filter(([, value]) => value !== null)) : route,
  );
  let specs: RouteSpec[] | undefined;
  const failed = new Set<number>();
  try {
    specs = parseOptions(routeListSchema, routes, { name: label }) as RouteSpec[];
  } catch (error) {
    problems.merge(error);
    for (const { path } of error instanceof ConfigError ? error.problems : []) {
      const index = /^\[(\d+)\]/.exec(path.slice(label.length));
      if (index !== null) failed.add(Number(index[1]));
    }
  }
  // Checked even when routes have other problems, so one run lists them all.
  for (const problem of contextProblems(routes, context, failed)) problems.add(problem.path, problem.message);
  problems.throwIfAny();
  return specs!.map((spec, index) => compileRoute(spec, index, context));
}

/**
 * The default name of a route: its path (a group's paths joined with ','), with its methods when given
 * (`'GET /orders/*'`).
 */
export function defaultRouteName(route: Record<string, unknown>, index: number): string | undefined {
  const path = Array.isArray(route.path)
    ? route.path.every((p) => typeof p === 'string')
      ? route.path.join(',')
      : undefined
    : route.path;
  if (typeof path !== 'string') return undefined;
  const methods = route.methods;
  if (methods === undefined) return path;
  if (!Array.isArray(methods) || !methods.every((m) => typeof m === 'string')) return `route-${index}`;
  return `${methods.join(',')} ${path}`;
}

/**
 * Problems only the gateway around a table can tell: services, modes without one, duplicate names.
 * A defaulted name is compared only for routes without other problems (`failed`): ten broken copies
 * of one route would otherwise bury their real problems under "two routes are named".
 */
function contextProblems(
  routes: readonly unknown[],
  context: TableContext,
  failed: ReadonlySet<number>,
): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  const known = [...context.services];
  const troubled = new Set(failed);
  routes.forEach((route, index) => {
    if (!isObject(route)) return;
    const { service, mode } = route;
    if (typeof service === 'string' && service !== '' && !context.services.has(service)) {
      troubled.add(index);
      found.push({
        path: `[${index}].service`,
        message:
          known.length === 0
            ? `unknown service "${service}"; none is configured`
            : `unknown service "${service}"${didYouMean(service, known).replace(' — ', '; ')}; known: ${known.join(', ')}`,
      });
    }
    const effective = mode ?? (service === undefined ? 'local' : 'remote');
    const promotion = route.promotion;
    if (service === undefined && promotion !== undefined && promotion !== false) {
      troubled.add(index);
      found.push({
        path: `[${index}].service`,
        message: 'is required for promotion (it walks towards the service)',
      });
    }
    if (service === undefined && effective !== 'local' && MODES.includes(effective as Mode)) {
      troubled.add(index);
      found.push({ path: `[${index}].service`, message: `is required in '${String(effective)}' mode` });
    }
  });
  const names = new Map<string, number>();
  routes.forEach((route, index) => {
    if (!isObject(route)) return;
    const name = route.name;
    if (typeof name === 'string') {
      const first = names.get(name);
      if (first !== undefined)
        found.push({
          path: `[${index}].name`,
          message: `duplicate route name '${name}' (already at [${first}])`,
        });
      else names.set(name, index);
    } else if (name === undefined && !troubled.has(index)) {
      const fallback = defaultRouteName(route, index);
      const first = fallback === undefined ? undefined : names.get(fallback);
      if (first !== undefined)
        found.push({
          path: `[${index}].name`,
          message: `two routes are named '${fallback}' (already at [${first}]): give one a name`,
        });
      else if (fallback !== undefined) names.set(fallback, index);
    }
  });
  return found;
}

/** The ranges of a route's `version` (checked by the schema) as one test. */
function versionMatcher(given: RouteSpec['version']): CompiledRoute['version'] {
  if (given === undefined) return undefined;
  const ranges = (Array.isArray(given) ? given : [given]).map((text) => parseVersionRange(text)!);
  return (version) => ranges.some((range) => range.includes(version));
}

/** Compiles one route the schema and the context checks accepted. */
function compileRoute(spec: RouteSpec, index: number, context: TableContext): CompiledRoute {
  const service = spec.service;
  const mode: Mode = spec.mode ?? (service === undefined ? 'local' : 'remote');
  const weight = spec.weight ?? 0;
  const s = spec.sticky ?? 'principal';
  const sticky: Sticky =
    typeof s === 'string' ? s : 'cookie' in s ? { cookie: s.cookie } : { header: s.header.toLowerCase() };
  const rewrite =
    spec.rewrite === undefined
      ? undefined
      : {
          from: spec.rewrite.from,
          to: spec.rewrite.to,
          fromMatch: createPathMatcher(
            spec.rewrite.from === '/' ? '/*' : `${spec.rewrite.from}/*`,
            context.pathPolicy,
          ),
        };
  const changes = (side: RouteSpec['requestHeaders']) => ({
    set: Object.entries(side?.set ?? {}).map(([name, value]): [string, string] => [
      name.toLowerCase(),
      value,
    ]),
    remove: new Set((side?.remove ?? []).map((name) => name.toLowerCase())),
  });
  const request = changes(spec.requestHeaders);
  const response = changes(spec.responseHeaders);
  const hostList = (value: string | readonly string[] | undefined) =>
    (value === undefined ? [] : typeof value === 'string' ? [value] : value).map((h) => parseHostPattern(h)!);
  const paths: readonly string[] = typeof spec.path === 'string' ? [spec.path] : [...spec.path];
  const matchers = paths.map((pattern) => createPathMatcher(pattern, context.pathPolicy));
  const fallbackOn = new Set(spec.fallback?.on ?? REASONS);
  const marker = spec.shadow?.marker ?? 'gatehouse-shadow';
  const gates: CompiledRoute['gates'] = {
    ...spec.gates,
    windowMs: spec.gates?.windowMs ?? 60_000,
    minRequests: spec.gates?.minRequests ?? 20,
  };
  return {
    name: spec.name ?? defaultRouteName(spec as unknown as Record<string, unknown>, index)!,
    spec,
    paths,
    label:
      paths.length === 1
        ? () => paths[0]!
        : (path) => paths[matchers.findIndex((match) => match(path))] ?? paths[0]!,
    index,
    service,
    mode,
    weight,
    sticky,
    matchPath: matchers.length === 1 ? matchers[0]! : (path) => matchers.some((match) => match(path)),
    methods: spec.methods === undefined ? undefined : new Set(spec.methods),
    hosts: spec.host === undefined ? undefined : hostList(spec.host),
    headers: Object.entries(spec.headers ?? {}).map(([name, wanted]): [string, string | true] => [
      name.toLowerCase(),
      wanted,
    ]),
    query: Object.entries(spec.query ?? {}),
    version: versionMatcher(spec.version),
    rewrite,
    requestSet: request.set,
    requestRemove: request.remove,
    responseSet: response.set,
    responseRemove: response.remove,
    timeoutMs: spec.timeoutMs,
    bodyTimeoutMs: spec.bodyTimeoutMs,
    internalHosts: hostList(spec.internalHosts),
    shadow: {
      maxConcurrent: spec.shadow?.maxConcurrent ?? 16,
      maxBodyBytes: spec.shadow?.maxBodyBytes ?? MiB,
      methods: new Set(spec.shadow?.methods ?? SHADOWED_METHODS),
      sampleRate: spec.shadow?.sampleRate ?? 1,
      noiseSampleRate: spec.shadow?.noiseSampleRate ?? 0.1,
      marker: marker === false ? undefined : marker.toLowerCase(),
    },
    diff: (spec.diff ?? {}) as DiffOptions,
    fallbackOn,
    fallbackOnNonIdempotent: new Set(
      (spec.fallback?.nonIdempotentOn ?? NEVER_SENT).filter((reason) => fallbackOn.has(reason)),
    ),
    maxReplayBytes: spec.fallback?.maxReplayBytes ?? MiB,
    gates,
    websocket: spec.websocket === true,
    cache: spec.cache === true,
    promotion: compilePromotion(spec.promotion),
    fingerprint: `${mode}:${weight}:${spec.rearm ?? ''}`,
  };
}
