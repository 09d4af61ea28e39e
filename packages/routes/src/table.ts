// The route table: what users write (in code, a YAML/JSON file or an etcd key), and its validation
// into a compiled table with a path to every problem. Everything here runs once per table; the
// request path only reads what this compiled.
import { isIP } from 'node:net';
import {
  createPathMatcher,
  HOP_BY_HOP,
  isHeaderName,
  isSafeHeaderValue,
  type PathPolicy,
  Problems,
  positiveInt,
  unknownKeys,
} from '@gatehousejs/core';
import { type DiffOptions, diffOptionProblems } from './diff.js';

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

/** What keeps one caller on one side of a split. */
export type Sticky = 'principal' | 'ip' | { cookie: string } | { header: string };

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
  /** Path pattern on the normalized path: `/orders`, `/orders/*` (everything below), `/orders/:id`. */
  path: string;
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
  /** The service (from the gateway's `services`, or a client given in code) the route moves to. */
  service?: string;
  /** @default `'remote'` with a service, `'local'` without */
  mode?: Mode;
  /** Share of callers sent to the service in `split` mode, in percent (0–100). @default 0 */
  weight?: number;
  /** What keeps a caller on one side of a split. @default 'principal' (the client IP when anonymous) */
  sticky?: Sticky;
  /** Path prefix rewrite towards the service: `{ from: '/orders', to: '/api/v2/orders' }`. */
  rewrite?: { from: string; to: string };
  /** Header changes on the forwarded request (after hygiene). */
  requestHeaders?: { set?: Readonly<Record<string, string>>; remove?: readonly string[] };
  /** Header changes on the service's response (after hygiene). */
  responseHeaders?: { set?: Readonly<Record<string, string>>; remove?: readonly string[] };
  /** The whole upstream call, retries included (the client's `timeouts.totalMs` otherwise). */
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
  fallback?: { on?: readonly FallbackReason[]; maxReplayBytes?: number };
  /** Thresholds that move the route one stage back when breached. */
  gates?: GateSpec;
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

/** Shadow-copy limits. */
export interface ShadowSpec {
  /** Shadow calls in flight at once; beyond, copies are skipped (counted). @default 16 */
  maxConcurrent?: number;
  /** Request and response bodies larger than this are not copied or compared. @default 1 MiB */
  maxBodyBytes?: number;
  /** Copy non-idempotent methods (POST, PATCH) too: only when the service's writes are harmless. @default false */
  nonIdempotent?: boolean;
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

/** The document a file or etcd key holds, and what `routes({ table })` takes. */
export interface RouteTable {
  routes: readonly RouteSpec[];
}

// ---------------------------------------------------------------------------------------------

/** A route ready for the request path. */
export interface CompiledRoute {
  readonly name: string;
  readonly spec: RouteSpec;
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
  readonly rewrite: { from: string; to: string; fromMatch: (path: string) => boolean } | undefined;
  readonly requestSet: readonly [string, string][];
  readonly requestRemove: ReadonlySet<string>;
  readonly responseSet: readonly [string, string][];
  readonly responseRemove: ReadonlySet<string>;
  readonly timeoutMs: number | undefined;
  readonly bodyTimeoutMs: number | undefined;
  readonly internalHosts: readonly HostPattern[];
  readonly shadow: Required<ShadowSpec>;
  readonly diff: DiffOptions;
  readonly fallbackOn: ReadonlySet<FallbackReason>;
  readonly maxReplayBytes: number;
  readonly gates: Required<Pick<GateSpec, 'windowMs' | 'minRequests'>> & GateSpec;
  readonly websocket: boolean;
  /** GETs sent to the service go through the response cache. */
  readonly cache: boolean;
  /** `mode` and `weight` as the table gives them, to tell a table change from a run-time change. */
  readonly fingerprint: string;
}

/** `host`, `host:port`, or `*.suffix` (optionally with a port). */
export interface HostPattern {
  readonly wildcard: boolean;
  /** Lower-case host (without `*.` for a wildcard: the suffix). */
  readonly host: string;
  readonly port: string | undefined;
}

const MiB = 1024 * 1024;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const REASONS: readonly FallbackReason[] = ['connect', 'timeout', 'circuit', '5xx'];
const SPEC_KEYS = [
  'name',
  'path',
  'methods',
  'host',
  'headers',
  'query',
  'service',
  'mode',
  'weight',
  'sticky',
  'rewrite',
  'requestHeaders',
  'responseHeaders',
  'timeoutMs',
  'bodyTimeoutMs',
  'internalHosts',
  'shadow',
  'diff',
  'fallback',
  'gates',
  'websocket',
  'cache',
];
// Headers a route may never set or remove: they describe the connection or the message framing.
const FRAMING = new Set([...HOP_BY_HOP, 'host', 'content-length', 'expect']);

/** Parses `host`, `host:port`, `[v6]:port` or `*.suffix[:port]`; undefined when invalid. */
export function parseHostPattern(text: string): HostPattern | undefined {
  const value = text.trim().toLowerCase();
  if (value === '') return undefined;
  let host = value;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    port = rest === '' ? undefined : rest.slice(1);
    if (port !== undefined && Number(port) > 65_535) return undefined;
    if (isIP(host.slice(1, end)) !== 6) return undefined;
    host = host.slice(0, end + 1);
    return { wildcard: false, host, port };
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) return undefined;
  }
  const wildcard = host.startsWith('*.');
  if (wildcard) host = host.slice(2);
  if (!host.split('.').every((label) => HOST_LABEL.test(label))) return undefined;
  return { wildcard, host, port };
}

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

function fraction(problems: Problems, path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    problems.add(path, `must be a number from 0 to 1, got ${JSON.stringify(value) ?? String(value)}`);
    return fallback;
  }
  return value;
}

function stringList(problems: Problems, path: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(path, 'must be an array of strings');
    return [];
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'string' && item !== '') out.push(item);
    else problems.add(`${path}[${i}]`, 'must be a non-empty string');
  });
  return out;
}

function matchMap(
  problems: Problems,
  path: string,
  value: unknown,
  header: boolean,
): [string, string | true][] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    problems.add(path, 'must be an object mapping names to a value or true');
    return [];
  }
  const out: [string, string | true][] = [];
  for (const [name, wanted] of Object.entries(value)) {
    if (header && !isHeaderName(name)) problems.add(`${path}.${name}`, 'is not a valid header name');
    else if (wanted !== true && typeof wanted !== 'string')
      problems.add(`${path}.${name}`, 'must be a string or true');
    else out.push([header ? name.toLowerCase() : name, wanted]);
  }
  return out;
}

function headerChanges(
  problems: Problems,
  path: string,
  value: unknown,
): { set: [string, string][]; remove: Set<string> } {
  const set: [string, string][] = [];
  const remove = new Set<string>();
  if (value === undefined) return { set, remove };
  if (!isObject(value)) {
    problems.add(path, "must be an object with 'set' and/or 'remove'");
    return { set, remove };
  }
  unknownKeys(problems, path, value, ['set', 'remove']);
  if (value.set !== undefined) {
    if (!isObject(value.set)) problems.add(`${path}.set`, 'must be an object mapping header names to values');
    else
      for (const [name, v] of Object.entries(value.set)) {
        const lower = name.toLowerCase();
        if (!isHeaderName(name)) problems.add(`${path}.set.${name}`, 'is not a valid header name');
        else if (FRAMING.has(lower)) problems.add(`${path}.set.${name}`, 'cannot be set by a route');
        else if (typeof v !== 'string' || !isSafeHeaderValue(v))
          problems.add(`${path}.set.${name}`, 'must be a string without CR, LF or NUL');
        else set.push([lower, v]);
      }
  }
  for (const [i, name] of stringList(problems, `${path}.remove`, value.remove).entries()) {
    if (!isHeaderName(name)) problems.add(`${path}.remove[${i}]`, 'is not a valid header name');
    else if (FRAMING.has(name.toLowerCase()))
      problems.add(`${path}.remove[${i}]`, 'cannot be removed by a route');
    else remove.add(name.toLowerCase());
  }
  return { set, remove };
}

function hostPatterns(problems: Problems, path: string, value: unknown): HostPattern[] {
  const list = typeof value === 'string' ? [value] : stringList(problems, path, value);
  if (Array.isArray(value) && value.length === 0 && path.endsWith('.host'))
    problems.add(path, 'must list at least one host (leave it out for every host)');
  const out: HostPattern[] = [];
  for (const [i, text] of list.entries()) {
    const pattern = parseHostPattern(text);
    if (pattern === undefined)
      problems.add(
        typeof value === 'string' ? path : `${path}[${i}]`,
        `'${text}' is not a host name, host:port or *.domain`,
      );
    else out.push(pattern);
  }
  return out;
}

function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) return "must be a path starting with '/'";
  if (prefix !== '/' && prefix.endsWith('/')) return "must not end with '/'";
  if (/[?#%\s]/.test(prefix) || prefix.includes('//') || /(^|\/)\.\.?(\/|$)/.test(prefix))
    return 'must be a plain path without query, percent-escapes, empty or dot segments';
  return undefined;
}

/** What a table compiles against. */
export interface TableContext {
  /** Services a route may name; a route naming another is a problem. */
  readonly services: ReadonlySet<string>;
  readonly pathPolicy: Pick<PathPolicy, 'caseSensitive'>;
}

/**
 * Validates a route table (a parsed document or the object API) and compiles it. Throws a
 * `ConfigError` listing every problem with its path (`routes[2].weight: …`).
 */
export function compileTable(input: unknown, context: TableContext, label = 'routes'): CompiledRoute[] {
  const problems = new Problems(label);
  const list = isObject(input) && 'routes' in input ? input.routes : input;
  if (isObject(input)) unknownKeys(problems, '', input, ['routes']);
  if (!Array.isArray(list)) {
    problems.add('', "must be an array of routes (or an object with 'routes')");
    problems.throwIfAny();
  }
  const names = new Map<string, number>();
  const compiled: CompiledRoute[] = [];
  (list as unknown[]).forEach((raw, index) => {
    const at = `[${index}]`;
    if (!isObject(raw)) {
      problems.add(at, "must be an object with at least 'path'");
      return;
    }
    // Checked even when the route has other problems, so one run lists them all.
    if (typeof raw.name === 'string') {
      const first = names.get(raw.name);
      if (first !== undefined)
        problems.add(`${at}.name`, `duplicate route name '${raw.name}' (already at [${first}])`);
      else names.set(raw.name, index);
    }
    const route = compileRoute(problems, at, raw, index, context);
    if (route === undefined) return;
    if (typeof raw.name !== 'string') {
      const first = names.get(route.name);
      if (first !== undefined)
        problems.add(
          `${at}.name`,
          `two routes are named '${route.name}' (already at [${first}]): give one a name`,
        );
      else names.set(route.name, index);
    }
    compiled.push(route);
  });
  problems.throwIfAny();
  return compiled;
}

function compileRoute(
  problems: Problems,
  at: string,
  given: Record<string, unknown>,
  index: number,
  context: TableContext,
): CompiledRoute | undefined {
  // An empty YAML value (`mode:`) is null: read it as left out, the same for every key.
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) if (value !== null) raw[key] = value;
  const before = problems.count;
  unknownKeys(problems, at, raw, SPEC_KEYS);
  const p = (key: string) => `${at}.${key}`;

  let matchPath: (path: string) => boolean = () => false;
  if (typeof raw.path !== 'string') problems.add(p('path'), 'is required: a pattern such as /orders/*');
  else {
    try {
      matchPath = createPathMatcher(raw.path, context.pathPolicy);
    } catch (error) {
      problems.add(p('path'), (error as Error).message);
    }
  }
  const methodList = raw.methods === undefined ? undefined : stringList(problems, p('methods'), raw.methods);
  for (const [i, m] of (methodList ?? []).entries()) {
    if (!METHOD.test(m)) problems.add(`${p('methods')}[${i}]`, `'${m}' is not an upper-case HTTP method`);
  }
  if (methodList !== undefined && methodList.length === 0 && Array.isArray(raw.methods))
    problems.add(p('methods'), 'must list at least one method (leave it out for every method)');

  const service = raw.service;
  if (service !== undefined && (typeof service !== 'string' || !context.services.has(service))) {
    const known = [...context.services];
    problems.add(
      p('service'),
      `unknown service ${JSON.stringify(service)}${known.length > 0 ? `; known: ${known.join(', ')}` : '; none is configured'}`,
    );
  }
  const mode = (raw.mode ?? (service === undefined ? 'local' : 'remote')) as Mode;
  if (!MODES.includes(mode)) problems.add(p('mode'), `must be one of ${MODES.join(', ')}`);
  else if (mode !== 'local' && service === undefined)
    problems.add(p('service'), `is required in '${mode}' mode`);
  let weight = 0;
  if (raw.weight !== undefined) {
    if (typeof raw.weight !== 'number' || !(raw.weight >= 0 && raw.weight <= 100))
      problems.add(p('weight'), 'must be a percentage from 0 to 100');
    else weight = raw.weight;
  }
  let sticky: Sticky = 'principal';
  if (raw.sticky !== undefined) {
    const s = raw.sticky;
    if (s === 'principal' || s === 'ip') sticky = s;
    else if (isObject(s) && typeof s.cookie === 'string' && s.cookie !== '' && Object.keys(s).length === 1)
      sticky = { cookie: s.cookie };
    else if (
      isObject(s) &&
      typeof s.header === 'string' &&
      isHeaderName(s.header) &&
      Object.keys(s).length === 1
    )
      sticky = { header: s.header.toLowerCase() };
    else problems.add(p('sticky'), "must be 'principal', 'ip', { cookie: name } or { header: name }");
  }

  let rewrite: CompiledRoute['rewrite'];
  if (raw.rewrite !== undefined) {
    const r = raw.rewrite;
    if (!isObject(r)) problems.add(p('rewrite'), "must be { from: '/prefix', to: '/other' }");
    else {
      unknownKeys(problems, p('rewrite'), r, ['from', 'to']);
      const fromProblem = prefixProblem(r.from);
      const toProblem = prefixProblem(r.to);
      if (fromProblem !== undefined) problems.add(`${p('rewrite')}.from`, fromProblem);
      if (toProblem !== undefined) problems.add(`${p('rewrite')}.to`, toProblem);
      if (fromProblem === undefined && toProblem === undefined) {
        const from = r.from as string;
        rewrite = {
          from,
          to: r.to as string,
          fromMatch: createPathMatcher(from === '/' ? '/*' : `${from}/*`, context.pathPolicy),
        };
      }
    }
  }
  const request = headerChanges(problems, p('requestHeaders'), raw.requestHeaders);
  const response = headerChanges(problems, p('responseHeaders'), raw.responseHeaders);
  const timeoutMs =
    raw.timeoutMs === undefined ? undefined : positiveInt(problems, p('timeoutMs'), raw.timeoutMs, 1);
  const bodyTimeoutMs =
    raw.bodyTimeoutMs === undefined
      ? undefined
      : positiveInt(problems, p('bodyTimeoutMs'), raw.bodyTimeoutMs, 1);

  const s = raw.shadow ?? {};
  if (!isObject(s)) problems.add(p('shadow'), 'must be an object');
  const sh = isObject(s) ? s : {};
  unknownKeys(problems, p('shadow'), sh, [
    'maxConcurrent',
    'maxBodyBytes',
    'nonIdempotent',
    'sampleRate',
    'noiseSampleRate',
  ]);
  if (sh.nonIdempotent !== undefined && typeof sh.nonIdempotent !== 'boolean')
    problems.add(`${p('shadow')}.nonIdempotent`, 'must be true or false');
  const shadow: Required<ShadowSpec> = {
    maxConcurrent: positiveInt(problems, `${p('shadow')}.maxConcurrent`, sh.maxConcurrent, 16),
    maxBodyBytes: positiveInt(problems, `${p('shadow')}.maxBodyBytes`, sh.maxBodyBytes, MiB),
    nonIdempotent: sh.nonIdempotent === true,
    sampleRate: fraction(problems, `${p('shadow')}.sampleRate`, sh.sampleRate, 1),
    noiseSampleRate: fraction(problems, `${p('shadow')}.noiseSampleRate`, sh.noiseSampleRate, 0.1),
  };
  for (const [path, message] of diffOptionProblems(raw.diff ?? {})) {
    problems.add(path === '' ? p('diff') : `${p('diff')}.${path.replace(/^\./, '')}`, message);
  }

  const f = raw.fallback ?? {};
  if (!isObject(f)) problems.add(p('fallback'), 'must be an object');
  const fb = isObject(f) ? f : {};
  unknownKeys(problems, p('fallback'), fb, ['on', 'maxReplayBytes']);
  const on = fb.on === undefined ? REASONS : stringList(problems, `${p('fallback')}.on`, fb.on);
  for (const [i, reason] of on.entries()) {
    if (!REASONS.includes(reason as FallbackReason))
      problems.add(`${p('fallback')}.on[${i}]`, `must be one of ${REASONS.join(', ')}`);
  }

  const g = raw.gates ?? {};
  if (!isObject(g)) problems.add(p('gates'), 'must be an object');
  const gt = isObject(g) ? g : {};
  unknownKeys(problems, p('gates'), gt, [
    'windowMs',
    'minRequests',
    'maxDiffRate',
    'maxErrorRateDelta',
    'maxErrorRate',
    'maxP99DeltaMs',
    'maxContractViolationRate',
  ]);
  const gates: CompiledRoute['gates'] = {
    windowMs: positiveInt(problems, `${p('gates')}.windowMs`, gt.windowMs, 60_000),
    minRequests: positiveInt(problems, `${p('gates')}.minRequests`, gt.minRequests, 20),
  };
  for (const key of ['maxDiffRate', 'maxErrorRateDelta', 'maxErrorRate', 'maxContractViolationRate'] as const) {
    if (gt[key] !== undefined) gates[key] = fraction(problems, `${p('gates')}.${key}`, gt[key], 1);
  }
  if (gt.maxP99DeltaMs !== undefined) {
    if (typeof gt.maxP99DeltaMs !== 'number' || !(gt.maxP99DeltaMs >= 0))
      problems.add(`${p('gates')}.maxP99DeltaMs`, 'must be a number of milliseconds ≥ 0');
    else gates.maxP99DeltaMs = gt.maxP99DeltaMs;
  }

  const methods = methodList === undefined ? undefined : new Set(methodList);
  const defaultName =
    typeof raw.path === 'string'
      ? methodList === undefined
        ? raw.path
        : `${methodList.join(',')} ${raw.path}`
      : `route-${index}`;
  let name = defaultName;
  if (raw.name !== undefined) {
    if (typeof raw.name !== 'string' || !NAME.test(raw.name))
      problems.add(
        p('name'),
        "must start with a letter or digit and hold only letters, digits, '.', '_', '-'",
      );
    else name = raw.name;
  }
  const hosts = raw.host === undefined ? undefined : hostPatterns(problems, p('host'), raw.host);
  const internalHosts = hostPatterns(problems, p('internalHosts'), raw.internalHosts ?? []);
  const headers = matchMap(problems, p('headers'), raw.headers, true);
  const query = matchMap(problems, p('query'), raw.query, false);
  const maxReplayBytes = positiveInt(problems, `${p('fallback')}.maxReplayBytes`, fb.maxReplayBytes, MiB);
  if (raw.websocket !== undefined && typeof raw.websocket !== 'boolean')
    problems.add(p('websocket'), 'must be true or false');
  if (raw.cache !== undefined && typeof raw.cache !== 'boolean') problems.add(p('cache'), 'must be true or false');
  if (problems.count > before) return undefined;
  return {
    name,
    spec: raw as unknown as RouteSpec,
    index,
    service: service as string | undefined,
    mode,
    weight,
    sticky,
    matchPath,
    methods,
    hosts,
    headers,
    query,
    rewrite,
    requestSet: request.set,
    requestRemove: request.remove,
    responseSet: response.set,
    responseRemove: response.remove,
    timeoutMs,
    bodyTimeoutMs,
    internalHosts,
    shadow,
    diff: (raw.diff ?? {}) as DiffOptions,
    fallbackOn: new Set(on as FallbackReason[]),
    maxReplayBytes,
    gates,
    websocket: raw.websocket === true,
    cache: raw.cache === true,
    fingerprint: `${mode}:${weight}`,
  };
}
