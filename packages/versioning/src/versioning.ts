// versioning(): reads the API version of each request from its configured sources, checks it, puts
// it on the exchange (for handlers, the route table, the mesh client, spans, logs and metrics), sets
// the version headers, and optionally strips a path version before the application routes.
import { ConfigError, type ConfigProblem, type Exchange, type Middleware } from '@gatehousejs/core';
import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api';
import { unsupported, VersionAmbiguous, VersionSunset, VersionUnspecified } from './errors.js';
import { type AcceptStatement, acceptStatements, contentTypeVersions, mayNameVersion } from './media-type.js';
import {
  type CompiledOptions,
  type CompiledSource,
  compileOptions,
  type DeclaredVersion,
  type VersioningOptions,
} from './options.js';
import { removePathSegment, versionSegment } from './path-segment.js';
import { type ApiVersion, parseVersion, parseVersionRange, type VersionRange } from './version.js';

/** Where a request's version came from. */
export type VersionSource = 'path' | 'header' | 'query' | 'accept' | 'content-type' | 'custom' | 'default';

/** The API version of one request, as `exchange.state.apiVersion` holds it. */
export interface RequestedVersion {
  /** The version's canonical text (`'2'`, `'1.2'`, `'2026-01-15'`), as headers, spans and metrics show it. */
  readonly text: string;
  readonly version: ApiVersion;
  /** Where it was read (`'default'` when the request named none). */
  readonly source: VersionSource;
  /** The declaration it matched: deprecation, sunset. */
  readonly declared: DeclaredVersion;
}

declare module '@gatehousejs/core' {
  interface ExchangeState {
    /** The request's API version, set by `versioning()` (absent when the request has none). */
    apiVersion?: RequestedVersion;
  }
}

/**
 * The annotation key of the request's version: `@gatehousejs/tracing` copies it onto the server span
 * (`ANNOTATIONS.apiVersion`), the access log and the per-version request counter.
 */
export const API_VERSION_ANNOTATION = 'gatehouse.api.version';

const SOURCES: readonly VersionSource[] = [
  'path',
  'header',
  'query',
  'accept',
  'content-type',
  'custom',
  'default',
];

/** How a source is named in problem details. */
function label(source: CompiledSource): string {
  switch (source.kind) {
    case 'header':
      return `the ${source.name} header`;
    case 'query':
      return `the ${source.name} query parameter`;
    case 'accept':
      return 'Accept';
    case 'content-type':
      return 'Content-Type';
    case 'path':
      return 'the path';
    default:
      return 'the custom source';
  }
}

/** What the client sent, for a problem's detail: cut short, anything but printable ASCII replaced. */
function shown(raw: string): string {
  const text = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return `'${text.replace(/[^\x20-\x7e…]/g, '?')}'`;
}

/** Which status an unsupported version gets: 406 from Accept, 415 from Content-Type, else 400. */
const statusSource = (kind: VersionSource) =>
  kind === 'accept' ? 'accept' : kind === 'content-type' ? 'content-type' : 'other';

/** One version named by one source. */
interface Claim {
  readonly raw: string;
  readonly version: ApiVersion | undefined;
  readonly declared: DeclaredVersion | undefined;
  readonly source: CompiledSource;
}

function sameClaim(a: Claim, b: { raw: string; version: ApiVersion | undefined }): boolean {
  if (a.version !== undefined && b.version !== undefined)
    return a.version.kind === b.version.kind && a.version.key === b.version.key;
  return a.version === b.version && a.raw.trim() === b.raw.trim();
}

const keyOf = (v: ApiVersion) => `${v.kind}:${v.key}`;

/** The version lists of the report headers, valid from `since` until `until` (epoch ms). */
interface Lists {
  readonly since: number;
  readonly until: number;
  /** `api-supported-versions`: declared, not deprecated. */
  readonly supported: string;
  /** `api-deprecated-versions`: deprecated (or past their sunset and still served). */
  readonly deprecated: string | undefined;
  /** Every version still served, oldest first, for problem details. */
  readonly all: string[];
}

/** A per-version table compiled once: the choice for every declared version is made up front. */
export interface VersionTable<T> {
  /** The declared versions the table serves, oldest first. */
  readonly versions: readonly string[];
  /**
   * The entry for the request's version. Throws `GH_VERSION_UNSPECIFIED` when the request has no
   * version and `GH_VERSION_UNSUPPORTED` (400, or 406/415 when the version came from `Accept` /
   * `Content-Type`) when the table has no entry for it.
   */
  select(exchange: Exchange): T;
  /** The entry for a version (`'2'`), or undefined when the table has none. */
  entryFor(version: string): T | undefined;
}

/** What `gw.version()` hands the middleware beyond its options. */
export interface VersioningContext {
  /**
   * More meter providers the per-version counter is recorded into (the gateway's Prometheus
   * registry), asked for on the first versioned request, when every middleware is mounted.
   */
  meterProviders?: () => ReadonlyArray<MeterProvider | undefined>;
}

/** The name of the per-version request counter (Prometheus: `gatehouse_api_requests_total`). */
export const API_REQUESTS_METRIC = 'gatehouse.api.requests';

/** The neutral versioning middleware, with the helpers that build on it. */
export interface Versioning extends Middleware {
  /** Reads, checks and records the request's version; throws the refusal as a GatehouseError. */
  onRequest(exchange: Exchange): undefined;
  /** The declared versions, oldest first. */
  readonly versions: readonly DeclaredVersion[];
  /**
   * Compiles a per-version table: keys are versions (`'1'`) or baselines (`'2+'`: that version and
   * every later one, until an exact key or a higher baseline takes over). Every key must name a
   * declared version. Throws one ConfigError listing every problem, under `name`.
   *
   * @example versioning.table({ '1': listOrdersV1, '2+': listOrdersV2 }).select(exchange)
   */
  table<T>(entries: Readonly<Record<string, T>>, name?: string): VersionTable<T>;
}

/** The keys of a table as ranges, checked against the declared versions. */
function tableRanges(
  keys: readonly string[],
  declared: readonly DeclaredVersion[],
  name: string,
): VersionRange[] {
  const problems: ConfigProblem[] = [];
  const ranges: VersionRange[] = [];
  const seen = new Map<string, string>();
  for (const key of keys) {
    const path = `${name}[${JSON.stringify(key)}]`;
    const range = parseVersionRange(key);
    if (range === undefined) {
      problems.push({
        path,
        message: `'${key}' is not a version (2, '1.2', '2026-01-15') or a baseline ('2+')`,
      });
      continue;
    }
    const id = `${keyOf(range.from)}:${range.orLater}`;
    const twin = seen.get(id);
    if (twin !== undefined) {
      problems.push({ path, message: `names the same versions as '${twin}'` });
      continue;
    }
    seen.set(id, key);
    if (!declared.some((d) => range.includes(d.version))) {
      const list = declared.map((d) => d.text).join(', ');
      problems.push({
        path,
        message: range.orLater
          ? `no declared version is ${range.from.text} or later (versions: ${list})`
          : `version ${range.from.text} is not declared (versions: ${list})`,
      });
    }
    ranges.push(range);
  }
  if (keys.length === 0) problems.push({ path: name, message: 'must name at least one version' });
  if (problems.length > 0) throw new ConfigError(problems);
  return ranges;
}

class VersioningMiddleware implements Versioning {
  readonly name = 'versioning';
  readonly versions: readonly DeclaredVersion[];
  readonly #c: CompiledOptions;
  /** Declared versions by their usual spellings (`2`, `v2`, `2.0`): most requests parse nothing. */
  readonly #bySpelling = new Map<string, DeclaredVersion>();
  readonly #byKey = new Map<string, DeclaredVersion>();
  /** What `exchange.state.apiVersion` holds: one frozen object per declared version and source. */
  readonly #requested = new Map<DeclaredVersion, readonly RequestedVersion[]>();
  readonly #mayName = new Map<CompiledSource, (header: string) => boolean>();
  /** The segment a path version is stripped from, or -1. */
  readonly #stripIndex: number;
  /** Deprecations and sunsets, in order: the version lists change only at these instants. */
  readonly #transitions: readonly number[];
  readonly #moreProviders: (() => ReadonlyArray<MeterProvider | undefined>) | undefined;
  /** The per-version counters, made on the first versioned request; the attributes, made once. */
  #counters: Counter[] | undefined;
  readonly #attributes = new Map<DeclaredVersion, Attributes>();
  /** Whether a strip that could not happen was reported (once per middleware). */
  #stripRefused = false;
  /** Claims of the usual spellings of declared versions, per source, made once. */
  readonly #known = new Map<CompiledSource, Map<string, Claim>>();
  // Scratch state of the request being read: onRequest is synchronous and nothing it calls enters
  // it again, so one set per middleware serves every request without allocating (one object less per
  // request; the profile of a versioned request is mostly the garbage collector).
  #first: Claim | undefined;
  #conflict: Claim | undefined;
  #statements: AcceptStatement[] | undefined;
  #pathFound = false;
  #lists: Lists = { since: 0, until: -1, supported: '', deprecated: undefined, all: [] };

  constructor(options: VersioningOptions, context: VersioningContext = {}) {
    const c = compileOptions(options);
    this.#c = c;
    this.versions = c.versions;
    this.#moreProviders = context.meterProviders;
    for (const d of c.versions) {
      this.#attributes.set(d, Object.freeze({ [API_VERSION_ANNOTATION]: d.text }));
      this.#byKey.set(keyOf(d.version), d);
      const spellings = [d.text, `v${d.text}`, `V${d.text}`];
      if (d.version.kind === 'number' && !d.text.includes('.'))
        spellings.push(`${d.text}.0`, `v${d.text}.0`, `V${d.text}.0`);
      for (const spelling of spellings) this.#bySpelling.set(spelling, d);
      this.#requested.set(
        d,
        SOURCES.map((source) => Object.freeze({ text: d.text, version: d.version, source, declared: d })),
      );
    }
    for (const s of c.sources) {
      if (s.kind === 'accept' || s.kind === 'content-type') this.#mayName.set(s, mayNameVersion(s.rule));
      const known = new Map<string, Claim>();
      for (const [raw, d] of this.#bySpelling)
        known.set(raw, Object.freeze({ raw, version: d.version, declared: d, source: s }));
      this.#known.set(s, known);
    }
    const path = c.sources.find((s) => s.kind === 'path');
    this.#stripIndex = path?.kind === 'path' && path.strip ? path.index : -1;
    this.#transitions = [
      ...new Set(
        c.versions.flatMap((d) => [d.deprecation, d.sunset].filter((t): t is number => t !== undefined)),
      ),
    ].sort((a, b) => a - b);
  }

  /** A client's text as a claim: its version, if it is one, and the declaration, if there is one. */
  #claim(raw: string, source: CompiledSource): Claim {
    const known = this.#known.get(source)?.get(raw);
    if (known !== undefined) return known;
    const version = parseVersion(raw);
    const declared = version === undefined ? undefined : this.#byKey.get(keyOf(version));
    return { raw, version, declared, source };
  }

  /** Records one claim: the first one, or the first that disagrees with it. */
  #add(claim: Claim): void {
    if (this.#first === undefined) this.#first = claim;
    else if (this.#conflict === undefined && !sameClaim(this.#first, claim)) this.#conflict = claim;
  }

  /** Adds the claims of one header or parameter value: a comma-separated list is several claims. */
  #offer(value: string, source: CompiledSource): void {
    if (value.indexOf(',') === -1) {
      const raw = value.trim();
      if (raw !== '') this.#add(this.#claim(raw, source));
      return;
    }
    for (const part of value.split(',')) {
      const raw = part.trim();
      if (raw !== '') this.#add(this.#claim(raw, source));
    }
  }

  /**
   * Reads every source, in order, into the scratch fields: the first claim, the first that disagrees
   * with it, the statements of `Accept`, whether the path named a version.
   */
  #read(exchange: Exchange): void {
    this.#first = undefined;
    this.#conflict = undefined;
    this.#statements = undefined;
    this.#pathFound = false;
    for (const source of this.#c.sources) {
      switch (source.kind) {
        case 'path': {
          const raw = versionSegment(exchange.path, source.index, source.prefix);
          if (raw !== undefined) {
            this.#pathFound = true;
            this.#add(this.#claim(raw, source));
          }
          break;
        }
        case 'header': {
          const value = exchange.rawHeader(source.name);
          if (typeof value === 'string') this.#offer(value, source);
          else if (value !== undefined) for (const each of value) this.#offer(each, source);
          break;
        }
        case 'query': {
          if (exchange.req.url?.includes('?') !== true) break;
          for (const value of exchange.query.getAll(source.name)) this.#offer(value, source);
          break;
        }
        case 'accept': {
          const header = exchange.header('accept');
          if (header === undefined || !this.#mayName.get(source)!(header)) break;
          const found = acceptStatements(header, source.rule);
          if (found.length > 0) this.#statements = found;
          break;
        }
        case 'content-type': {
          const header = exchange.header('content-type');
          if (header === undefined || !this.#mayName.get(source)!(header)) break;
          for (const raw of contentTypeVersions(header, source.rule))
            this.#add(this.#claim(raw.trim(), source));
          break;
        }
        case 'custom': {
          const value = source.read(exchange);
          if (value !== undefined && value !== null && String(value).trim() !== '')
            this.#add(this.#claim(String(value).trim(), source));
          break;
        }
      }
    }
  }

  /** `api-supported-versions` / `api-deprecated-versions` as of `now`, recomputed at each transition. */
  #listsAt(now: number): Lists {
    const lists = this.#lists;
    if (now >= lists.since && now < lists.until) return lists;
    const refuseAfterSunset = this.#c.afterSunset === 'refuse';
    const supported: string[] = [];
    const deprecated: string[] = [];
    for (const d of this.#c.versions) {
      const gone = d.sunset !== undefined && now >= d.sunset;
      if (gone && refuseAfterSunset) continue;
      if (gone || (d.deprecation !== undefined && now >= d.deprecation)) deprecated.push(d.text);
      else supported.push(d.text);
    }
    let since = Number.NEGATIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    for (const t of this.#transitions) {
      if (t <= now) since = t;
      else {
        until = t;
        break;
      }
    }
    this.#lists = {
      since,
      until,
      supported: supported.join(', '),
      deprecated: deprecated.length === 0 ? undefined : deprecated.join(', '),
      all: this.#c.versions
        .filter((d) => !(refuseAfterSunset && d.sunset !== undefined && now >= d.sunset))
        .map((d) => d.text),
    };
    return this.#lists;
  }

  onRequest(exchange: Exchange): undefined {
    const c = this.#c;
    this.#read(exchange);
    const first = this.#first;
    const conflict = this.#conflict;
    const statements = this.#statements;
    const strip = this.#pathFound && this.#stripIndex !== -1;
    if (c.neutral !== undefined) {
      const appPath = strip ? removePathSegment(exchange.path, this.#stripIndex) : exchange.path;
      if (c.neutral(appPath)) {
        // No version is needed or checked here; one that resolves cleanly is still recorded.
        if (first?.declared !== undefined && conflict === undefined)
          this.#record(exchange, first.declared, first.source.kind);
        if (strip) this.#strip(exchange);
        return undefined;
      }
    }

    const now = this.#transitions.length === 0 ? 0 : c.clock();
    const lists = this.#listsAt(now);
    if (c.report) {
      exchange.setHeader('api-supported-versions', lists.supported);
      if (lists.deprecated !== undefined) exchange.setHeader('api-deprecated-versions', lists.deprecated);
    }
    if (c.vary !== undefined) addVary(exchange, c.vary);

    let chosen: DeclaredVersion;
    let source: VersionSource;
    if (first !== undefined) {
      if (conflict !== undefined) throw this.#ambiguous(lists, first, conflict);
      if (
        statements !== undefined &&
        !statements.some((s) => s.q > 0 && sameClaim(first, this.#claim(s.raw, first.source)))
      ) {
        const other = statements.find((s) => s.q > 0) ?? statements[0]!;
        const accept = this.#c.sources.find((s) => s.kind === 'accept')!;
        throw this.#ambiguous(lists, first, { raw: other.raw, source: accept }, other.q === 0);
      }
      if (first.declared === undefined)
        throw this.#unsupported(lists, first.raw, first.version, first.source.kind);
      chosen = first.declared;
      source = first.source.kind;
    } else if (statements?.some((s) => s.q > 0)) {
      const accept = this.#c.sources.find((s) => s.kind === 'accept')!;
      let best: { declared: DeclaredVersion; q: number } | undefined;
      let top: AcceptStatement | undefined;
      for (const statement of statements) {
        if (statement.q === 0) continue;
        if (top === undefined || statement.q > top.q) top = statement;
        const { declared } = this.#claim(statement.raw, accept);
        if (declared === undefined) continue;
        // The client's weight first; between equal weights, the newer version.
        if (
          best === undefined ||
          statement.q > best.q ||
          (statement.q === best.q && declared.version.key > best.declared.version.key)
        )
          best = { declared, q: statement.q };
      }
      if (best === undefined) throw this.#unsupported(lists, top!.raw, parseVersion(top!.raw), 'accept');
      chosen = best.declared;
      source = 'accept';
    } else if (c.defaultVersion !== undefined) {
      chosen = c.defaultVersion;
      source = 'default';
    } else if (c.required) {
      throw new VersionUnspecified(
        `This API needs a version, given in ${this.#where()}; supported: ${lists.all.join(', ')}`,
        { extensions: { supported: lists.all } },
      );
    } else {
      return undefined;
    }

    if (c.afterSunset === 'refuse' && chosen.sunset !== undefined && now >= chosen.sunset) {
      const headers: Record<string, string> = { sunset: chosen.sunsetHeader! };
      if (chosen.linkHeader !== undefined) headers.link = chosen.linkHeader;
      throw new VersionSunset(`Version ${chosen.text} was retired on ${chosen.sunsetHeader}`, {
        headers,
        extensions: { supported: lists.all },
      });
    }
    this.#record(exchange, chosen, source);
    if (c.lifecycle) {
      if (chosen.deprecationHeader !== undefined) exchange.setHeader('deprecation', chosen.deprecationHeader);
      if (chosen.sunsetHeader !== undefined) exchange.setHeader('sunset', chosen.sunsetHeader);
      if (chosen.linkHeader !== undefined) appendHeader(exchange, 'link', chosen.linkHeader);
    }
    if (strip) this.#strip(exchange);
    return undefined;
  }

  #record(exchange: Exchange, declared: DeclaredVersion, source: VersionSource): void {
    exchange.state.apiVersion = this.#requested.get(declared)![SOURCES.indexOf(source)]!;
    exchange.annotate(API_VERSION_ANNOTATION, declared.text);
    this.#counters ??= this.#makeCounters();
    const attributes = this.#attributes.get(declared);
    for (const counter of this.#counters) counter.add(1, attributes);
  }

  /** One counter per meter provider that records anything (a no-op provider gets none). */
  #makeCounters(): Counter[] {
    const providers = new Set<MeterProvider>([
      this.#c.meterProvider ?? metrics.getMeterProvider(),
      ...(this.#moreProviders?.() ?? []).filter((p): p is MeterProvider => p !== undefined),
    ]);
    const counters: Counter[] = [];
    for (const provider of providers) {
      const meter = provider.getMeter('@gatehousejs/versioning');
      // The API's no-op meter is a singleton (`createNoopMeter()` returns it): skip its counters.
      if (meter === createNoopMeter() || meter.constructor?.name === 'NoopMeter') continue;
      counters.push(
        meter.createCounter(API_REQUESTS_METRIC, {
          description: 'Requests per API version: when a version gets none, it can be retired',
          unit: '{request}',
        }),
      );
    }
    return counters;
  }

  #strip(exchange: Exchange): void {
    if (exchange.rewritePath(removePathSegment(exchange.path, this.#stripIndex)) || this.#stripRefused)
      return;
    // Mounted inside a router that has already matched: nothing can change what it dispatches on.
    this.#stripRefused = true;
    exchange.runtime.report(
      new Error(
        'versioning: strip has no effect where a router has already matched (a mounted router or a route): mount gw.version() on the app itself',
      ),
      exchange,
      'versioning.onRequest',
    );
  }

  /** Where this API reads versions, for messages: `the path, the api-version header`. */
  #where(): string {
    return this.#c.sources.map(label).join(', ');
  }

  #ambiguous(
    lists: { all: string[] },
    a: Claim,
    b: { raw: string; source: CompiledSource },
    refused = false,
  ): Error {
    const detail = refused
      ? `${capital(label(a.source))} names version ${shown(a.raw)}, which ${label(b.source)} refuses (q=0)`
      : `${capital(label(a.source))} names version ${shown(a.raw)} and ${label(b.source)} names ${shown(b.raw)}`;
    return new VersionAmbiguous(detail, { extensions: { supported: lists.all } });
  }

  #unsupported(
    lists: { all: string[] },
    raw: string,
    version: ApiVersion | undefined,
    kind: VersionSource,
  ): Error {
    const what =
      version === undefined
        ? `${shown(raw)} is not an API version`
        : `Version ${version.text} is not supported`;
    return unsupported(statusSource(kind), `${what}; supported: ${lists.all.join(', ')}`, {
      extensions: { supported: lists.all },
    });
  }

  table<T>(entries: Readonly<Record<string, T>>, name = 'version.route'): VersionTable<T> {
    if (typeof entries !== 'object' || entries === null)
      throw new ConfigError([{ path: name, message: 'expected an object mapping versions to handlers' }]);
    const keys = Object.keys(entries);
    const ranges = tableRanges(keys, this.versions, name);
    const choice = new Map<string, T>();
    for (const d of this.versions) {
      let best: number | undefined;
      for (let i = 0; i < ranges.length; i++) {
        const range = ranges[i]!;
        if (!range.includes(d.version)) continue;
        const current = best === undefined ? undefined : ranges[best]!;
        // An exact key beats a baseline; a higher baseline beats a lower one.
        if (
          current === undefined ||
          (current.orLater && (!range.orLater || range.from.key > current.from.key))
        )
          best = i;
      }
      if (best !== undefined) choice.set(keyOf(d.version), entries[keys[best]!]!);
    }
    const served = this.versions.filter((d) => choice.has(keyOf(d.version))).map((d) => d.text);
    return {
      versions: served,
      select(exchange) {
        const requested = exchange.stateIfSet?.apiVersion;
        if (requested === undefined)
          throw new VersionUnspecified(`This route needs an API version; it serves ${served.join(', ')}`, {
            extensions: { supported: served },
          });
        const entry = choice.get(keyOf(requested.version));
        if (entry === undefined)
          throw unsupported(
            statusSource(requested.source),
            `Version ${requested.text} is not served here; this route serves ${served.join(', ')}`,
            { extensions: { supported: served } },
          );
        return entry;
      },
      entryFor(version) {
        const parsed = parseVersion(version);
        return parsed === undefined ? undefined : choice.get(keyOf(parsed));
      },
    };
  }
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Adds names to `Vary` without repeating one already there (compared case-insensitively). */
function addVary(exchange: Exchange, names: string): void {
  const existing = exchange.res.getHeader('vary');
  if (existing === undefined) {
    exchange.setHeader('vary', names);
    return;
  }
  const current = String(existing);
  if (current.trim() === '*') return;
  const have = new Set(current.split(',').map((n) => n.trim().toLowerCase()));
  const added = names.split(', ').filter((n) => !have.has(n));
  if (added.length > 0) exchange.setHeader('vary', `${current}, ${added.join(', ')}`);
}

/** Appends a `Link` value to any the response already has. */
function appendHeader(exchange: Exchange, name: string, value: string): void {
  const existing = exchange.res.getHeader(name);
  exchange.setHeader(name, existing === undefined ? value : `${String(existing)}, ${value}`);
}

/**
 * API versioning as a neutral middleware: the version of each request read from the configured
 * sources (path, header, media type, query, a function), checked against the declared versions, put
 * on the exchange (`exchange.state.apiVersion`), and announced in headers (`api-supported-versions`,
 * `Deprecation`, `Sunset`, `Link`, `Vary`). Options are checked now: one ConfigError lists every
 * problem. Mount it before anything that routes by version (`gw.routes()`, `gw.version.route()`).
 *
 * @example
 *   const v = versioning({
 *     versions: [{ version: '1', deprecation: '2026-01-01', sunset: '2026-12-31' }, '2'],
 *     sources: [{ from: 'path', strip: true }, 'header'],
 *     default: 'latest',
 *   });
 */
export function versioning(options: VersioningOptions, context?: VersioningContext): Versioning {
  return new VersioningMiddleware(options, context);
}

/** Options of `gw.version.route()`. */
export interface VersionRouteOptions {
  /**
   * A request whose version the table has no handler for (or that has no version): `'refuse'` it with
   * `GH_VERSION_UNSUPPORTED` / `GH_VERSION_UNSPECIFIED`, or pass it on to what follows (`'next'`),
   * as if the table were not there.
   *
   * @default 'refuse'
   */
  otherwise?: 'refuse' | 'next';
}

/**
 * A native middleware of the framework, typed loosely: a router's middleware (`router.routes()` of
 * `@koa/router`) has a context type of its own that the framework's plain middleware type rejects.
 */
export type NativeHandler = (...args: never[]) => unknown;

/**
 * `gw.version` on a framework gateway whose native middleware is `M`: a call mounts versioning, and
 * `route()` dispatches to one native handler per version.
 */
export interface VersionMethod<M> {
  /**
   * API versioning for the whole app (see {@link versioning}); one per gateway. Mount it before the
   * routes that depend on the version and before `gw.routes()`.
   */
  (options: VersioningOptions): M;
  /**
   * One native middleware that runs the handler (a router, a route handler, any middleware) written
   * for the request's version: keys are versions (`'1'`) or baselines (`'2+'`). Needs `gw.version()`
   * first; the keys are checked against its versions (one ConfigError lists every problem).
   *
   * @example app.use(gw.version.route({ '1': v1Router, '2+': v2Router }))
   */
  route(handlers: Readonly<Record<string, M | NativeHandler>>, options?: VersionRouteOptions): M;
  /** The versioning `gw.version()` made, if it has been called. */
  readonly instance: Versioning | undefined;
}
