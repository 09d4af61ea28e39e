// VersioningOptions: the valibot schema every problem is found with (shapes, then the checks across
// fields: versions unique and of one kind, sunset not before deprecation, a default that exists), and
// their compilation into what the request path reads. Everything here runs once, when versioning()
// is called.
import {
  type CrossCheckReport,
  createPathMatcher,
  type Exchange,
  functionOption,
  isHeaderName,
  objectOption,
  parseOptions,
  withCrossCheck,
} from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import * as v from 'valibot';
import type { MediaTypeRule } from './media-type.js';
import { type ApiVersion, compareVersions, parseVersion } from './version.js';

/**
 * Read the version from a path segment: `/v2/orders` (the segment at `index`, written `prefix` +
 * version). A segment that is not `prefix` followed by a version is not a version, so `/vendors`
 * never reads as one.
 */
export interface PathSourceOptions {
  from: 'path';
  /** Which segment, counting from 0 (`/api/v2/orders`: 1). @default 0 */
  index?: number;
  /** What precedes the version in the segment, compared case-insensitively; `''` for `/2/orders`. @default 'v' */
  prefix?: string;
  /**
   * Remove the version segment before the application sees the request: `/v2/orders` reaches the app's
   * `/orders` route, and every Gatehouse middleware after this one (auth rules, rate-limit routes, the
   * route table, upstream paths) sees `/orders` too. @default false
   */
  strip?: boolean;
}

/** Read the version from a request header. */
export interface HeaderSourceOptions {
  from: 'header';
  /** The header. @default 'api-version' */
  name?: string;
}

/** Read the version from a query parameter. */
export interface QuerySourceOptions {
  from: 'query';
  /** The parameter. @default 'api-version' */
  name?: string;
}

/**
 * Read the version from media types: a parameter (`application/vnd.acme+json; version=2`) or a vendor
 * subtype (`application/vnd.acme.v2+json`), in `Accept` (negotiated by q-value) and `Content-Type`.
 */
export interface MediaTypeSourceOptions {
  from: 'media-type';
  /** Which headers. @default ['accept', 'content-type'] */
  in?: ReadonlyArray<'accept' | 'content-type'>;
  /** The media-type parameter naming the version; `false` to read none. @default 'version' */
  parameter?: string | false;
  /** Read `vnd.<vendor>.v<version>` subtypes (`'acme'`); none are read without it. */
  vendor?: string;
  /**
   * Media types (`application/vnd.acme+json`, `application/*`) on which `parameter` counts.
   * @default every media type
   */
  types?: readonly string[];
}

/** A version read by your own code; return `undefined` when the request names none. */
export type CustomSource = (exchange: Exchange) => string | number | undefined;

/**
 * Where a version is read: `'path'`, `'header'`, `'query'`, `'media-type'` (each with its defaults),
 * an object with options, or a function.
 */
export type VersionSourceOptions =
  | 'path'
  | 'header'
  | 'query'
  | 'media-type'
  | PathSourceOptions
  | HeaderSourceOptions
  | QuerySourceOptions
  | MediaTypeSourceOptions
  | CustomSource;

/**
 * One version the API serves, with its lifecycle. Dates are `'2026-06-30'` (midnight UTC), an ISO
 * 8601 date-time with a zone (`'2026-06-30T12:00:00Z'`), or a `Date`.
 *
 * @example { version: '1', deprecation: '2026-01-01', sunset: '2026-12-31', links: { sunset: 'https://example.com/v1' } }
 */
export interface VersionDeclaration {
  /** `1`, `'1.2'`, `'2026-01-15'`. Write two-part numbers as strings (`1.10` as a number is `1.1`). */
  version: string | number;
  /**
   * When the version is (or will be) deprecated: sent as RFC 9745 `Deprecation: @<epoch seconds>` on
   * its responses; from then on it is listed in `api-deprecated-versions` instead of
   * `api-supported-versions`.
   */
  deprecation?: string | Date;
  /** When the version stops being served: sent as RFC 8594 `Sunset` (an HTTP-date). Not before `deprecation`. */
  sunset?: string | Date;
  /** Pages about the deprecation and the sunset, sent as `Link` with `rel="deprecation"` / `rel="sunset"`. */
  links?: { deprecation?: string; sunset?: string };
}

/** Which informative headers versioning sets on the responses of versioned requests. */
export interface VersioningHeaders {
  /** `api-supported-versions` and `api-deprecated-versions`. @default true */
  report?: boolean;
  /** `Deprecation`, `Sunset` and `Link` for a deprecated or sunsetting version. @default true */
  lifecycle?: boolean;
  /** `Vary` naming every request header a version is read from (the header sources, `Accept`). @default true */
  vary?: boolean;
}

/** Options of `versioning()` / `gw.version()`. */
export interface VersioningOptions {
  /** The versions the API serves: numbers or dates (all of one kind), each unique. At least one. */
  versions: ReadonlyArray<string | number | VersionDeclaration>;
  /**
   * Where the version is read, in this order. Every source is read; when two name different versions
   * the request is refused with 400 `GH_VERSION_AMBIGUOUS`. `Accept` is negotiated: it agrees when it
   * accepts (q > 0) the version the other sources name.
   *
   * @default ['header'] (the `api-version` header)
   */
  sources?: readonly VersionSourceOptions[];
  /**
   * The version of a request that names none: a declared version, or `'latest'` (the newest one not
   * deprecated, else the newest). Without it (and without `required`), such a request goes on
   * without a version: routes that need one refuse it, the rest serve it.
   */
  default?: string | number;
  /** A request that names no version is refused with 400 `GH_VERSION_UNSPECIFIED`. Not with `default`. @default false */
  required?: boolean;
  /**
   * Path patterns (on the normalized path, after a stripped version segment is removed) that have no
   * version: a version is neither required nor checked there, and no version headers are set
   * (`/health`, `/docs/*`).
   */
  neutral?: readonly string[];
  /** After a version's sunset: `'serve'` it still (with the `Sunset` header), or `'refuse'` with 410 `GH_VERSION_SUNSET`. @default 'serve' */
  afterSunset?: 'serve' | 'refuse';
  /** Which headers are set; `false` for none. */
  headers?: VersioningHeaders | boolean;
  /** The clock deprecation and sunset are compared with, in epoch milliseconds. @default Date.now */
  clock?: () => number;
  /**
   * Where the per-version request counter (`gatehouse.api.requests`) is recorded. `gw.version()` also
   * records it into the gateway's `/metrics` when Prometheus is on. @default the global meter provider
   */
  meterProvider?: MeterProvider;
}

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/(?:\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

const instant = v.union([v.string(), v.date()]);
// An http(s) URL written out with '://' (not 'https:example.com'); v.url() reports what does not parse.
const pageLink = v.pipe(
  v.string('expected an absolute http(s) URL'),
  v.url('expected an absolute http(s) URL'),
  v.check(
    (value) => !URL.canParse(value) || /^https?:\/\//i.test(value.trim()),
    'expected an absolute http(s) URL',
  ),
);

const declarationSchema = v.strictObject({
  version: v.union([v.string(), v.number()]),
  deprecation: v.optional(instant),
  sunset: v.optional(instant),
  links: v.optional(v.strictObject({ deprecation: v.optional(pageLink), sunset: v.optional(pageLink) })),
});

// One object schema for every kind of source (rather than a union discriminated by `from`), so that a
// wrong `from` gets "expected one of 'path', 'header', …" and a misplaced key a message naming its
// kind (see crossCheck) instead of a union's "no branch matched".
const SOURCE_KEYS: Readonly<Record<string, readonly string[]>> = {
  path: ['index', 'prefix', 'strip'],
  header: ['name'],
  query: ['name'],
  'media-type': ['in', 'parameter', 'vendor', 'types'],
};

const sourceObjectSchema = v.strictObject({
  from: v.picklist(['path', 'header', 'query', 'media-type']),
  index: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(15))),
  prefix: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z_-]{0,16}$/, 'expected up to 16 letters, `_` or `-` (or an empty string)'),
    ),
  ),
  strip: v.optional(v.boolean()),
  name: v.optional(v.pipe(v.string(), v.minLength(1))),
  in: v.optional(v.pipe(v.array(v.picklist(['accept', 'content-type'])), v.minLength(1))),
  parameter: v.optional(
    v.union([v.pipe(v.string(), v.regex(TOKEN, 'expected a parameter name (a token)')), v.literal(false)]),
  ),
  vendor: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'expected a vendor name such as acme')),
  ),
  types: v.optional(
    v.array(v.pipe(v.string(), v.regex(MEDIA_TYPE, 'expected a media type such as application/json'))),
  ),
});

const sourceSchema = v.union([
  v.picklist(['path', 'header', 'query', 'media-type']),
  sourceObjectSchema,
  functionOption<CustomSource>('a function of the exchange'),
]);

/**
 * The options of `versioning()` as a valibot schema: shapes, and the checks across fields (versions
 * parse, are unique and of one kind; sunset not before deprecation; `default` declared and not with
 * `required`; one path source; `neutral` patterns valid). Every problem is found in one pass.
 */
export const versioningOptionsSchema = withCrossCheck(
  v.strictObject({
    versions: v.pipe(v.array(v.union([v.string(), v.number(), declarationSchema])), v.minLength(1)),
    sources: v.optional(v.pipe(v.array(sourceSchema), v.minLength(1))),
    default: v.optional(v.union([v.string(), v.number()])),
    required: v.optional(v.boolean()),
    neutral: v.optional(v.array(v.string())),
    afterSunset: v.optional(v.picklist(['serve', 'refuse'])),
    headers: v.optional(
      v.union([
        v.boolean(),
        v.strictObject({
          report: v.optional(v.boolean()),
          lifecycle: v.optional(v.boolean()),
          vary: v.optional(v.boolean()),
        }),
      ]),
    ),
    clock: v.optional(functionOption<() => number>('a function returning epoch milliseconds')),
    meterProvider: v.optional(objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter'])),
  }),
  crossCheck,
);

// The hand-written interfaces carry the documentation; this keeps them and the schema in step (the
// schema's arrays are mutable where the interfaces' are read-only).
type Writable<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends Date
    ? T
    : T extends ReadonlyArray<infer U>
      ? Writable<U>[]
      : T extends object
        ? { -readonly [K in keyof T]: Writable<T[K]> }
        : T;
type Accepts<A, B> = [A] extends [B] ? true : never;
const _inputMatches: Accepts<
  Writable<VersioningOptions>,
  v.InferInput<typeof versioningOptionsSchema>
> = true;
void _inputMatches;

// ---------------------------------------------------------------------------------------------
// Checks across fields (defensive: they run even when a field already failed its shape)
// ---------------------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Epoch ms of a date option, or undefined when it is not one. */
export function instantOf(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string') return undefined;
  if (DATE_ONLY.test(value)) {
    const at = Date.parse(`${value}T00:00:00Z`);
    // Date.parse rolls 2026-02-30 over to March: a date must survive the round trip.
    return Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== value ? undefined : at;
  }
  if (!DATE_TIME.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

const INSTANT_HELP = "expected a date ('2026-06-30'), an ISO 8601 date-time with a zone, or a Date";

function versionOf(value: unknown): ApiVersion | undefined {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
    ? parseVersion(String(value))
    : undefined;
}

function crossCheck(input: unknown, problem: CrossCheckReport): void {
  if (!isObject(input)) return;

  const seen = new Map<string, number>();
  let kind: ApiVersion['kind'] | undefined;
  const versions = Array.isArray(input.versions) ? input.versions : [];
  versions.forEach((item: unknown, i) => {
    const raw = isObject(item) && !(item instanceof Date) ? item.version : item;
    const at = isObject(item) ? [i, 'version'] : [i];
    if (typeof raw !== 'string' && typeof raw !== 'number') return; // the shape check reports it
    const version = versionOf(raw);
    if (version === undefined) {
      problem(
        ['versions', ...at],
        `'${String(raw)}' is not a version: expected a number such as 2 or '1.2', or a date such as '2026-01-15'`,
      );
      return;
    }
    kind ??= version.kind;
    if (version.kind !== kind)
      problem(
        ['versions', ...at],
        'versions must all be numbers or all be dates: they are ordered against each other',
      );
    const first = seen.get(`${version.kind}:${version.text}`);
    if (first !== undefined)
      problem(['versions', ...at], `version ${version.text} is already declared at versions[${first}]`);
    else seen.set(`${version.kind}:${version.text}`, i);
    if (!isObject(item)) return;
    const deprecation = item.deprecation === undefined ? undefined : instantOf(item.deprecation);
    const sunset = item.sunset === undefined ? undefined : instantOf(item.sunset);
    if (item.deprecation !== undefined && deprecation === undefined)
      problem(['versions', i, 'deprecation'], INSTANT_HELP);
    if (item.sunset !== undefined && sunset === undefined) problem(['versions', i, 'sunset'], INSTANT_HELP);
    if (deprecation !== undefined && sunset !== undefined && sunset < deprecation)
      problem(['versions', i, 'sunset'], 'the sunset must not come before the deprecation');
    if (isObject(item.links)) {
      if (item.links.deprecation !== undefined && item.deprecation === undefined)
        problem(['versions', i, 'links', 'deprecation'], "a deprecation link needs a 'deprecation' date");
      if (item.links.sunset !== undefined && item.sunset === undefined)
        problem(['versions', i, 'links', 'sunset'], "a sunset link needs a 'sunset' date");
    }
  });

  if (
    input.default !== undefined &&
    (typeof input.default === 'string' || typeof input.default === 'number')
  ) {
    if (input.required === true)
      problem(['default'], "a request cannot both need a version ('required') and get a default");
    if (input.default !== 'latest') {
      const version = versionOf(input.default);
      if (version === undefined)
        problem(['default'], `'${String(input.default)}' is not a version (nor 'latest')`);
      else if (seen.size > 0 && !seen.has(`${version.kind}:${version.text}`))
        problem(['default'], `version ${version.text} is not in 'versions'`);
    }
  }

  if (Array.isArray(input.sources)) {
    let paths = 0;
    const named = new Map<string, number>();
    input.sources.forEach((source: unknown, i) => {
      const from = typeof source === 'string' ? source : isObject(source) ? source.from : undefined;
      if (from === 'path') paths++;
      if (from === 'path' && paths === 2) problem(['sources', i], 'only one path source can be given');
      if (from === 'header' || from === 'query') {
        const name = isObject(source) && typeof source.name === 'string' ? source.name : 'api-version';
        const key = `${from}:${from === 'header' ? name.toLowerCase() : name}`;
        const first = named.get(key);
        if (first !== undefined)
          problem(['sources', i], `the ${from} '${name}' is already read by sources[${first}]`);
        else named.set(key, i);
      }
      if (
        from === 'media-type' &&
        isObject(source) &&
        source.parameter === false &&
        source.vendor === undefined
      )
        problem(['sources', i], "reads nothing: give a 'vendor', or leave 'parameter' on");
      if (
        from === 'header' &&
        isObject(source) &&
        typeof source.name === 'string' &&
        !isHeaderName(source.name)
      )
        problem(['sources', i, 'name'], `expected a header name, received '${source.name}'`);
      const own = typeof from === 'string' ? SOURCE_KEYS[from] : undefined;
      if (own !== undefined && isObject(source)) {
        for (const key of Object.keys(source)) {
          if (key === 'from' || own.includes(key)) continue;
          const kind = Object.keys(SOURCE_KEYS).find((k) => SOURCE_KEYS[k]!.includes(key));
          if (kind !== undefined)
            problem(['sources', i, key], `'${key}' is an option of ${kind} sources, not of ${from} sources`);
        }
      }
    });
  }

  if (Array.isArray(input.neutral)) {
    input.neutral.forEach((pattern: unknown, i) => {
      if (typeof pattern !== 'string') return;
      if (pattern.length > 1 && pattern.endsWith('/')) {
        problem(
          ['neutral', i],
          `'${pattern}' ends with '/', which normalized paths do not (trailing slashes are stripped): write '${pattern.replace(/\/+$/, '') || '/'}'`,
        );
        return;
      }
      try {
        createPathMatcher(pattern);
      } catch (error) {
        problem(['neutral', i], (error as Error).message);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

/** A declared version, with its lifecycle and the header values it sends, computed once. */
export interface DeclaredVersion {
  readonly version: ApiVersion;
  /** The canonical text: what headers, spans, logs and metrics show. */
  readonly text: string;
  /** Epoch ms of the deprecation, when one is set. */
  readonly deprecation: number | undefined;
  /** Epoch ms of the sunset, when one is set. */
  readonly sunset: number | undefined;
  /** `Deprecation` (RFC 9745: a structured-field date, `@1767225600`). */
  readonly deprecationHeader: string | undefined;
  /** `Sunset` (RFC 8594: an HTTP-date). */
  readonly sunsetHeader: string | undefined;
  /** `Link` values for `rel="deprecation"` and `rel="sunset"`, joined. */
  readonly linkHeader: string | undefined;
}

/** A compiled source. */
export type CompiledSource =
  | { readonly kind: 'path'; readonly index: number; readonly prefix: string; readonly strip: boolean }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'accept'; readonly rule: MediaTypeRule }
  | { readonly kind: 'content-type'; readonly rule: MediaTypeRule }
  | { readonly kind: 'custom'; readonly read: CustomSource };

/** Everything the request path reads. */
export interface CompiledOptions {
  /** Oldest first. */
  readonly versions: readonly DeclaredVersion[];
  readonly sources: readonly CompiledSource[];
  readonly defaultVersion: DeclaredVersion | undefined;
  readonly required: boolean;
  readonly neutral: ((path: string) => boolean) | undefined;
  readonly afterSunset: 'serve' | 'refuse';
  readonly report: boolean;
  readonly lifecycle: boolean;
  /** The `Vary` value (header names), or undefined. */
  readonly vary: string | undefined;
  readonly clock: () => number;
  readonly meterProvider: MeterProvider | undefined;
}

function declared(item: string | number | VersionDeclaration): DeclaredVersion {
  const spec: VersionDeclaration = typeof item === 'object' ? item : { version: item };
  const version = parseVersion(String(spec.version))!;
  const deprecation = spec.deprecation === undefined ? undefined : instantOf(spec.deprecation);
  const sunset = spec.sunset === undefined ? undefined : instantOf(spec.sunset);
  const links: string[] = [];
  // URLs went through the WHATWG parser (`href`): percent-encoded, so they cannot end the `<…>`.
  if (spec.links?.deprecation !== undefined)
    links.push(`<${new URL(spec.links.deprecation).href}>; rel="deprecation"`);
  if (spec.links?.sunset !== undefined) links.push(`<${new URL(spec.links.sunset).href}>; rel="sunset"`);
  return {
    version,
    text: version.text,
    deprecation,
    sunset,
    deprecationHeader: deprecation === undefined ? undefined : `@${Math.floor(deprecation / 1000)}`,
    sunsetHeader: sunset === undefined ? undefined : new Date(sunset).toUTCString(),
    linkHeader: links.length === 0 ? undefined : links.join(', '),
  };
}

function compileSource(source: VersionSourceOptions): CompiledSource[] {
  if (typeof source === 'function') return [{ kind: 'custom', read: source }];
  const spec =
    typeof source === 'string'
      ? ({ from: source } as Exclude<VersionSourceOptions, string | CustomSource>)
      : source;
  switch (spec.from) {
    case 'path':
      return [
        {
          kind: 'path',
          index: spec.index ?? 0,
          prefix: (spec.prefix ?? 'v').toLowerCase(),
          strip: spec.strip ?? false,
        },
      ];
    case 'header':
      return [{ kind: 'header', name: (spec.name ?? 'api-version').toLowerCase() }];
    case 'query':
      return [{ kind: 'query', name: spec.name ?? 'api-version' }];
    case 'media-type': {
      const rule: MediaTypeRule = {
        types: (spec.types ?? []).map((t) => t.toLowerCase()),
        parameter: spec.parameter === false ? undefined : (spec.parameter ?? 'version').toLowerCase(),
        vendor: spec.vendor?.toLowerCase(),
      };
      // One entry per header, in the order given, so each is named on its own in errors and state.
      const headers = spec.in ?? (['accept', 'content-type'] as const);
      return [...new Set(headers)].map((header) => ({ kind: header, rule }));
    }
  }
}

/** Validates `options` (one ConfigError listing every problem) and compiles them. */
export function compileOptions(options: VersioningOptions): CompiledOptions {
  const parsed = parseOptions(versioningOptionsSchema, options, { name: 'versioning' }) as VersioningOptions;
  const versions = parsed.versions.map(declared).sort((a, b) => compareVersions(a.version, b.version));
  const sources = (parsed.sources ?? ['header']).flatMap(compileSource);
  let defaultVersion: DeclaredVersion | undefined;
  if (parsed.default === 'latest') {
    const current = versions.filter((v) => v.deprecation === undefined && v.sunset === undefined);
    defaultVersion = (current.length > 0 ? current : versions).at(-1);
  } else if (parsed.default !== undefined) {
    const wanted = parseVersion(String(parsed.default))!;
    defaultVersion = versions.find((v) => v.version.key === wanted.key);
  }
  const headers = parsed.headers ?? true;
  const flags =
    typeof headers === 'boolean' ? { report: headers, lifecycle: headers, vary: headers } : headers;
  const varied = [
    ...new Set(
      sources.flatMap((s) => (s.kind === 'header' ? [s.name] : s.kind === 'accept' ? ['accept'] : [])),
    ),
  ];
  const matchers = (parsed.neutral ?? []).map((pattern) => createPathMatcher(pattern));
  return {
    versions,
    sources,
    defaultVersion,
    required: parsed.required ?? false,
    neutral: matchers.length === 0 ? undefined : (path) => matchers.some((m) => m(path)),
    afterSunset: parsed.afterSunset ?? 'serve',
    report: flags.report ?? true,
    lifecycle: flags.lifecycle ?? true,
    vary: (flags.vary ?? true) && varied.length > 0 ? varied.join(', ') : undefined,
    clock: parsed.clock ?? Date.now,
    meterProvider: parsed.meterProvider,
  };
}
