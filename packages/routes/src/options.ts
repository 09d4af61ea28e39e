// The route table and the routes package's options as valibot schemas (exported: the route table is a
// file format, and a configuration-wide JSON Schema is generated from these same definitions),
// checked through core's parseOptions: every problem, at every depth, in one ConfigError with its
// path and a did-you-mean. What needs the gateway around the table (known services, duplicate names)
// is checked in table.ts and reported in the same ConfigError.
import { isIP } from 'node:net';
import type { Exchange } from '@gatehousejs/core';
import {
  type CrossCheckReport,
  describeValue,
  functionOption,
  HOP_BY_HOP,
  isHeaderName,
  isSafeHeaderValue,
  objectOption,
  pathPatternOption,
  type TypesAgree,
  withCrossCheck,
} from '@gatehousejs/core';
import { parseVersionRange } from '@gatehousejs/versioning';
import * as v from 'valibot';
import type { OverrideOptions, RoutesOptions } from './controller.js';
import type { DiffOptions } from './diff.js';
import type { EtcdSourceOptions, FileSourceOptions, TableSource } from './source.js';
import type {
  FallbackReason,
  GateSpec,
  Mode,
  PromotionGate,
  PromotionSpec,
  RouteSpec,
  ShadowSpec,
} from './table.js';

const MODE_NAMES = ['local', 'shadow', 'split', 'fallback', 'remote'] as const satisfies readonly Mode[];
const REASONS = ['connect', 'timeout', 'circuit', '5xx'] as const satisfies readonly FallbackReason[];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** Headers a route may never set or remove: they describe the connection or the message framing. */
export const FRAMING: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'host', 'content-length', 'expect']);
/** Longest list of differing comparisons kept, and most differences recorded per comparison. */
export const MAX_KEEP = 10_000;
export const MAX_DIFFERENCES = 1_000;

/** A custom check on a value already of the right type: `check` returns a message or undefined. */
function rule<T>(check: (value: T) => string | undefined) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const message = check(dataset.value);
    if (message !== undefined) addIssue({ message });
  });
}

/**
 * Only an object of the wrong type gets this message (the one issue an object schema raises without a
 * path); unknown and missing keys keep valibot's, and parseOptions words them as for any object.
 */
const notAnObject =
  (message: string) =>
  (issue: v.BaseIssue<unknown>): string =>
    issue.path === undefined ? message : issue.message;

const fraction = (what = 'a number from 0 to 1') =>
  v.pipe(v.number(`must be ${what}`), v.minValue(0, `must be ${what}`), v.maxValue(1, `must be ${what}`));
// A positive integer: problems say `expected a number > 0`.
const positiveInt = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));

/** `host`, `host:port`, or `*.suffix` (optionally with a port). */
export interface HostPattern {
  readonly wildcard: boolean;
  /** Lower-case host (without `*.` for a wildcard: the suffix). */
  readonly host: string;
  readonly port: string | undefined;
}

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

function hostPatternProblem(text: string): string | undefined {
  return parseHostPattern(text) === undefined
    ? `'${text}' is not a host name, host:port or *.domain`
    : undefined;
}

/** A path prefix for `rewrite`: plain, absolute, no trailing slash. */
export function prefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return "must be a path starting with '/'";
  if (prefix !== '/' && prefix.endsWith('/')) return "must not end with '/'";
  if (/[?#%\s]/.test(prefix) || prefix.includes('//') || /(^|\/)\.\.?(\/|$)/.test(prefix))
    return 'must be a plain path without query, percent-escapes, empty or dot segments';
  return undefined;
}

const hostPattern = v.pipe(v.string('must be a host name, host:port or *.domain'), rule(hostPatternProblem));
const headerName = v.pipe(
  v.string(),
  rule((name: string) => (isHeaderName(name) ? undefined : 'is not a valid header name')),
);
const prefix = v.pipe(v.string("must be a path starting with '/'"), rule(prefixProblem));

const method = v.pipe(
  v.string("expected an upper-case HTTP method such as 'GET'"),
  rule((m: string) => {
    if (METHOD.test(m)) return undefined;
    const upper = m.toUpperCase();
    return `'${m}' is not an upper-case HTTP method${upper !== m && METHOD.test(upper) ? ` — did you mean '${upper}'?` : ''}`;
  }),
);

/** Header changes on a forwarded request or on the service's response. */
const headerChanges = (side: 'request' | 'response') =>
  v.strictObject(
    {
      set: v.optional(
        v.record(
          v.pipe(
            v.string(),
            rule((name: string) => {
              if (!isHeaderName(name)) return 'is not a valid header name';
              const lower = name.toLowerCase();
              // undici refuses these on requests (`invalid keep-alive header`): every request would fail.
              if (
                FRAMING.has(lower) ||
                (side === 'request' && (lower === 'keep-alive' || lower === 'upgrade'))
              )
                return 'cannot be set by a route';
              return undefined;
            }),
          ),
          v.pipe(
            v.string('must be a string without CR, LF or NUL'),
            rule((value: string) =>
              isSafeHeaderValue(value) ? undefined : 'must be a string without CR, LF or NUL',
            ),
          ),
          notAnObject('must be an object mapping header names to values'),
        ),
      ),
      remove: v.optional(
        v.array(
          v.pipe(
            v.string(),
            rule((name: string) => {
              if (!isHeaderName(name)) return 'is not a valid header name';
              return FRAMING.has(name.toLowerCase()) ? 'cannot be removed by a route' : undefined;
            }),
          ),
        ),
      ),
    },
    notAnObject("must be an object with 'set' and/or 'remove'"),
  );

/** `headers` / `query` match conditions: a value, or `true` for "present". */
const matchMap = (keys: v.GenericSchema<string, string>) =>
  v.record(
    keys,
    v.union([v.string(), v.literal(true)], 'must be a string or true'),
    notAnObject('must be an object mapping names to a value or true'),
  );

/** How shadow answers are compared (`diff` of a route, and `createDiffer()`). */
export const diffOptionsSchema = v.strictObject(
  {
    headers: v.optional(
      v.array(
        v.pipe(v.string(), v.regex(TOKEN, 'must be a header name')),
        'must be an array of header names',
      ),
    ),
    ignore: v.optional(v.array(v.pipe(v.string(), rule(diffPathProblem)))),
    redact: v.optional(v.array(v.pipe(v.string(), rule(diffPathProblem)))),
    revealQuery: v.optional(
      v.array(v.pipe(v.string(), v.minLength(1)), "must be an array of query parameter names ('*' for all)"),
    ),
    keep: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_KEEP))),
    noiseThreshold: v.optional(positiveInt()),
    maxDifferencesPerResponse: v.optional(
      v.pipe(v.number(), v.safeInteger(), v.gtValue(0), v.maxValue(MAX_DIFFERENCES)),
    ),
  },
  notAnObject('must be an object'),
);

/** A field path of `diff.ignore` / `diff.redact`: `/a/*\/b` or `header:name`. */
function diffPathProblem(path: string): string | undefined {
  if (path.startsWith('header:')) {
    const header = path.slice('header:'.length);
    return header !== '*' && !TOKEN.test(header) ? "must name a header after 'header:'" : undefined;
  }
  if (!path.startsWith('/')) return "must be a path starting with '/' or 'header:'";
  if (/~(?![01])/.test(path)) return "has a '~' not followed by 0 or 1 (escape '~' as ~0 and '/' as ~1)";
  return undefined;
}

export const shadowSpecSchema = v.strictObject(
  {
    maxConcurrent: v.optional(positiveInt()),
    maxBodyBytes: v.optional(positiveInt()),
    methods: v.optional(
      v.pipe(
        v.array(method, 'must be an array of upper-case HTTP methods'),
        v.minLength(1, 'must list at least one method (use sampleRate: 0 to copy nothing)'),
      ),
    ),
    marker: v.optional(v.union([headerName, v.literal(false)], 'must be a header name or false')),
    sampleRate: v.optional(fraction()),
    noiseSampleRate: v.optional(fraction()),
  },
  notAnObject('must be an object'),
);

export const gateSpecSchema = v.strictObject(
  {
    windowMs: v.optional(positiveInt()),
    minRequests: v.optional(positiveInt()),
    maxDiffRate: v.optional(fraction()),
    maxErrorRateDelta: v.optional(fraction()),
    maxErrorRate: v.optional(fraction()),
    maxContractViolationRate: v.optional(fraction()),
    maxP99DeltaMs: v.optional(
      v.pipe(
        v.number('must be a number of milliseconds ≥ 0'),
        v.minValue(0, 'must be a number of milliseconds ≥ 0'),
      ),
    ),
  },
  notAnObject('must be an object'),
);

const PROMOTION_MODES = ['shadow', 'split', 'fallback', 'remote'] as const;
const GATE_NAMES = [
  'baseline',
  'diff',
  'errors',
  'latency',
  'contract',
] as const satisfies readonly PromotionGate[];
const STAGES: readonly string[] = MODE_NAMES;

/** One step of a promotion walk: `'shadow'`, `'split 10'`, `'fallback'`, `'remote'` or `{ mode, weight }`. */
type StepText = 'shadow' | 'fallback' | 'remote' | `split ${number}`;
const STEP_TEXT = /^(?:shadow|fallback|remote|split (?:\d+(?:\.\d+)?))$/;
const promotionStepSchema = v.union([
  // A pattern (so the JSON Schema has it too), typed as the step texts it admits.
  v.pipe(
    v.string(),
    v.regex(
      STEP_TEXT,
      "must be 'shadow', 'split N' (N % of callers), 'fallback', 'remote' or { mode, weight }",
    ),
  ) as unknown as v.GenericSchema<StepText, StepText>,
  v.strictObject({
    mode: v.picklist(PROMOTION_MODES),
    weight: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
  }),
]);

const stepKey = (step: unknown): [number, number] | undefined => {
  if (typeof step === 'string') {
    if (step.startsWith('split ')) return [STAGES.indexOf('split'), Number(step.slice(6))];
    return [STAGES.indexOf(step), 0];
  }
  if (typeof step === 'object' && step !== null && 'mode' in step) {
    const s = step as { mode: string; weight?: number };
    return [STAGES.indexOf(s.mode), s.mode === 'split' ? (s.weight ?? Number.NaN) : 0];
  }
  return undefined;
};

const promotionShape = v.strictObject(
  {
    steps: v.optional(v.pipe(v.array(promotionStepSchema), v.minLength(1))),
    holdMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
    minSamples: v.optional(positiveInt()),
    confidence: v.optional(
      v.pipe(
        v.number('must be a number from 0.5 to 0.9999'),
        v.minValue(0.5, 'must be a number from 0.5 to 0.9999'),
        v.maxValue(0.9999, 'must be a number from 0.5 to 0.9999'),
      ),
    ),
    confirm: v.optional(v.union([v.boolean(), v.array(v.picklist(PROMOTION_MODES))])),
    critical: v.optional(v.array(v.picklist(GATE_NAMES))),
    tolerance: v.optional(
      v.strictObject({
        diffRate: v.optional(fraction()),
        errorRate: v.optional(fraction()),
        contractRate: v.optional(fraction()),
        medianMs: v.optional(v.pipe(v.number(), v.minValue(0))),
        p99Ms: v.optional(v.pipe(v.number(), v.minValue(0))),
      }),
    ),
    scoreThresholds: v.optional(
      v.strictObject({
        pass: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
        marginal: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
      }),
    ),
  },
  notAnObject('must be true, false or an object'),
);

/**
 * The checks of a promotion as a whole: steps in order, thresholds in order. On the input as given
 * (each step that has its shape, each threshold that is a number), so they are reported with every
 * other problem of the route.
 */
function promotionProblems(value: unknown, report: CrossCheckReport): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const o = value as Record<string, unknown>;
  const steps: unknown[] = Array.isArray(o.steps) ? o.steps : [];
  let previous: [number, number] | undefined;
  steps.forEach((step, i) => {
    if (!v.is(promotionStepSchema, step)) return; // the step's own problem is reported by its schema
    const key = stepKey(step);
    if (key === undefined) return;
    if (key[0] === STAGES.indexOf('split') && !(key[1] > 0 && key[1] < 100)) {
      report(
        ['steps', i],
        'a split step needs a weight above 0 and below 100 (0 is local, 100 is the service)',
      );
      return;
    }
    if (previous !== undefined && (key[0] < previous[0] || (key[0] === previous[0] && key[1] <= previous[1])))
      report(
        ['steps', i],
        'steps must move forward: each a later mode than the one before, or a split with a higher weight',
      );
    previous = key;
  });
  const t = o.scoreThresholds as { pass?: unknown; marginal?: unknown } | undefined;
  if (
    typeof t === 'object' &&
    t !== null &&
    typeof t.pass === 'number' &&
    typeof t.marginal === 'number' &&
    t.marginal > t.pass
  )
    report(['scoreThresholds', 'marginal'], `must not be above pass (${t.pass})`);
}

/** Gated promotion of a route (`promotion`), checked as a whole: steps in order, thresholds in order. */
export const promotionSpecSchema = withCrossCheck(promotionShape, promotionProblems);

/** An API version (`'2'`, `2`, `'2026-01-15'`) or a baseline (`'2+'`), as `@gatehousejs/versioning` reads them. */
const versionRange = v.pipe(
  v.union([v.string(), v.number()]),
  v.check(
    (value) => parseVersionRange(value) !== undefined,
    "expected a version ('2', '1.2', '2026-01-15') or a baseline ('2+')",
  ),
);

/** One route of the table, as users write it in code, YAML, JSON or etcd. */
export const routeSpecSchema = v.strictObject(
  {
    name: v.optional(
      v.pipe(
        v.string(),
        v.regex(NAME, "must start with a letter or digit and hold only letters, digits, '.', '_', '-'"),
      ),
    ),
    path: v.union(
      [
        pathPatternOption(),
        v.pipe(v.array(pathPatternOption()), v.minLength(1, 'must list at least one path pattern')),
      ],
      'must be a path pattern or a list of them (a group of paths that moves as one)',
    ),
    methods: v.optional(
      v.pipe(
        v.array(method, 'must be an array of upper-case HTTP methods'),
        v.minLength(1, 'must list at least one method (leave it out for every method)'),
      ),
    ),
    host: v.optional(
      v.union(
        [
          hostPattern,
          v.pipe(
            v.array(hostPattern),
            v.minLength(1, 'must list at least one host (leave it out for every host)'),
          ),
        ],
        'must be a host pattern or a list of them',
      ),
    ),
    headers: v.optional(matchMap(headerName)),
    query: v.optional(matchMap(v.string())),
    version: v.optional(
      v.union(
        [
          versionRange,
          v.pipe(
            v.array(versionRange),
            v.minLength(1, 'must list at least one version (leave it out for every request)'),
          ),
        ],
        "must be a version ('2'), a baseline ('2+') or a list of them",
      ),
    ),
    service: v.optional(v.pipe(v.string(), v.minLength(1))),
    mode: v.optional(v.picklist(MODE_NAMES)),
    weight: v.optional(
      v.pipe(
        v.number('must be a percentage from 0 to 100'),
        v.minValue(0, 'must be a percentage from 0 to 100'),
        v.maxValue(100, 'must be a percentage from 0 to 100'),
      ),
    ),
    rearm: v.optional(
      v.union(
        [v.pipe(v.string(), v.minLength(1), v.maxLength(200)), v.number()],
        'must be a string or a number (change it to re-arm the route)',
      ),
    ),
    sticky: v.optional(
      v.union(
        [
          v.picklist(['principal', 'ip', 'none']),
          // The two objects in a union of their own: the key given chooses which one a problem is about.
          v.union([
            v.strictObject({ cookie: v.pipe(v.string(), v.minLength(1)) }),
            v.strictObject({ header: headerName }),
          ]),
        ],
        "must be 'principal', 'ip', 'none', { cookie: name } or { header: name }",
      ),
    ),
    rewrite: v.optional(
      v.strictObject({ from: prefix, to: prefix }, notAnObject("must be { from: '/prefix', to: '/other' }")),
    ),
    requestHeaders: v.optional(headerChanges('request')),
    responseHeaders: v.optional(headerChanges('response')),
    timeoutMs: v.optional(positiveInt()),
    bodyTimeoutMs: v.optional(positiveInt()),
    internalHosts: v.optional(v.array(hostPattern)),
    shadow: v.optional(shadowSpecSchema),
    diff: v.optional(diffOptionsSchema),
    fallback: v.optional(
      v.strictObject(
        {
          on: v.optional(v.array(v.picklist(REASONS))),
          nonIdempotentOn: v.optional(v.array(v.picklist(REASONS))),
          maxReplayBytes: v.optional(positiveInt()),
        },
        notAnObject('must be an object'),
      ),
    ),
    gates: v.optional(gateSpecSchema),
    promotion: v.optional(v.union([v.boolean(), promotionSpecSchema], 'must be true, false or an object')),
    websocket: v.optional(v.boolean()),
    cache: v.optional(v.boolean()),
  },
  notAnObject("must be an object with at least 'path'"),
);

/** The document a routes file or etcd key holds. */
export const routeTableSchema = v.strictObject({ routes: v.array(routeSpecSchema) });

/** Options of `fileSource()` (and `gw.routes({ watch })`). */
export const fileSourceOptionsSchema = v.strictObject({
  intervalMs: v.optional(positiveInt()),
  debounceMs: v.optional(positiveInt()),
});

const etcdHost = v.pipe(
  v.string(),
  v.regex(/^https?:\/\/[^/\s]+\/?$/, 'must be http(s)://host:port, such as http://127.0.0.1:2379'),
);

/** Options of `etcdSource()` (and `gw.routes({ etcd })`). */
export const etcdSourceOptionsSchema = v.strictObject({
  hosts: v.union([etcdHost, v.pipe(v.array(etcdHost), v.minLength(1))]),
  key: v.pipe(v.string(), v.minLength(1)),
  dialTimeoutMs: v.optional(positiveInt()),
  auth: v.optional(v.strictObject({ username: v.string(), password: v.string() })),
});

/** The per-request override header for testers. */
export const overrideOptionsSchema = v.strictObject({
  header: v.optional(headerName),
  scopes: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  roles: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  allow: v.optional(functionOption<(exchange: Exchange) => boolean>('a function of the exchange')),
});

/** Options of `gw.routes()`. */
export const routesOptionsSchema = withCrossCheck(
  v.strictObject({
    name: v.optional(v.pipe(v.string(), v.minLength(1))),
    // The table itself is checked by compileTable (it also needs the gateway's services).
    table: v.optional(
      v.custom<RouteSpec[] | { routes: RouteSpec[] }>(
        (value) => Array.isArray(value) || (typeof value === 'object' && value !== null),
        (issue) => `expected an array of routes or { routes: [...] }, received ${describeValue(issue.input)}`,
      ),
    ),
    file: v.optional(v.pipe(v.string(), v.minLength(1))),
    watch: v.optional(fileSourceOptionsSchema),
    etcd: v.optional(etcdSourceOptionsSchema),
    source: v.optional(
      objectOption<TableSource>('a table source (an object with start() and close())', ['start', 'close']),
    ),
    override: v.optional(v.union([v.literal(false), overrideOptionsSchema])),
    gateIntervalMs: v.optional(positiveInt()),
  }),
  (value, report) => {
    if (typeof value !== 'object' || value === null) return;
    const o = value as Record<string, unknown>;
    const given = ['table', 'file', 'etcd', 'source'].filter((k) => o[k] !== undefined);
    if (given.length > 1)
      report(
        [],
        `give at most one of 'table', 'file', 'etcd' and 'source' (got ${given.map((k) => `'${k}'`).join(' and ')})`,
      );
    if (o.watch !== undefined && o.file === undefined) report(['watch'], "has no effect without 'file'");
  },
);

// The hand-written types are what users read (with their TSDoc); these lines keep them and the schemas
// in step: what the types allow, the schemas accept, and the other way round. The schemas' arrays are
// mutable where the types' are read-only: both sides are compared without `readonly`.
const typesAgree: [
  TypesAgree<v.InferInput<typeof diffOptionsSchema>, DiffOptions>,
  TypesAgree<v.InferInput<typeof shadowSpecSchema>, ShadowSpec>,
  TypesAgree<v.InferInput<typeof gateSpecSchema>, GateSpec>,
  TypesAgree<v.InferInput<typeof promotionSpecSchema>, PromotionSpec>,
  TypesAgree<v.InferInput<typeof routeSpecSchema>, RouteSpec>,
  TypesAgree<v.InferInput<typeof fileSourceOptionsSchema>, FileSourceOptions>,
  TypesAgree<v.InferInput<typeof etcdSourceOptionsSchema>, EtcdSourceOptions>,
  TypesAgree<v.InferInput<typeof overrideOptionsSchema>, OverrideOptions>,
  TypesAgree<Omit<v.InferInput<typeof routesOptionsSchema>, 'table'>, Omit<RoutesOptions, 'table'>>,
] = [true, true, true, true, true, true, true, true, true];
void typesAgree;
