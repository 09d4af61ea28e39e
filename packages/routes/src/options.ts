// The route table and the routes package's options as zod schemas (exported: the route table is a
// file format, and a configuration-wide JSON Schema is generated from these same definitions),
// checked through core's parseOptions: every problem, at every depth, in one ConfigError with its
// path and a did-you-mean. What needs the gateway around the table (known services, duplicate names)
// is checked in table.ts and reported in the same ConfigError.

import { isIP } from 'node:net';
import type { Exchange } from '@gatehousejs/core';
import {
  functionOption,
  HOP_BY_HOP,
  isHeaderName,
  isSafeHeaderValue,
  objectOption,
  pathPatternOption,
  withCrossCheck,
} from '@gatehousejs/core';
import { parseVersionRange } from '@gatehousejs/versioning';
import { z } from 'zod';
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
  return z.superRefine<T>((value, ctx) => {
    const message = check(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', input: value, message });
  });
}

/** Only an object of the wrong type gets this message; unknown keys keep theirs. */
const notAnObject = (message: string) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'invalid_type' ? message : undefined;

const fraction = (what = 'a number from 0 to 1') =>
  z
    .number({ error: `must be ${what}` })
    .min(0, { error: `must be ${what}` })
    .max(1, { error: `must be ${what}` });
const positiveInt = () => z.int().positive();

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

const hostPattern = z
  .string({ error: 'must be a host name, host:port or *.domain' })
  .check(rule(hostPatternProblem));
const headerName = z
  .string()
  .check(rule((name: string) => (isHeaderName(name) ? undefined : 'is not a valid header name')));
const prefix = z.string({ error: "must be a path starting with '/'" }).check(rule(prefixProblem));

const method = z.string({ error: "expected an upper-case HTTP method such as 'GET'" }).check(
  rule((m: string) => {
    if (METHOD.test(m)) return undefined;
    const upper = m.toUpperCase();
    return `'${m}' is not an upper-case HTTP method${upper !== m && METHOD.test(upper) ? ` — did you mean '${upper}'?` : ''}`;
  }),
);

/** Header changes on a forwarded request or on the service's response. */
const headerChanges = (side: 'request' | 'response') =>
  z.strictObject(
    {
      set: z
        .record(
          z.string().check(
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
          z
            .string({ error: 'must be a string without CR, LF or NUL' })
            .check(
              rule((value: string) =>
                isSafeHeaderValue(value) ? undefined : 'must be a string without CR, LF or NUL',
              ),
            ),
          { error: notAnObject('must be an object mapping header names to values') },
        )
        .optional(),
      remove: z
        .array(
          z.string().check(
            rule((name: string) => {
              if (!isHeaderName(name)) return 'is not a valid header name';
              return FRAMING.has(name.toLowerCase()) ? 'cannot be removed by a route' : undefined;
            }),
          ),
        )
        .readonly()
        .optional(),
    },
    { error: notAnObject("must be an object with 'set' and/or 'remove'") },
  );

/** `headers` / `query` match conditions: a value, or `true` for "present". */
const matchMap = (keys: z.ZodType<string, string>) =>
  z.record(keys, z.union([z.string(), z.literal(true)], { error: 'must be a string or true' }), {
    error: notAnObject('must be an object mapping names to a value or true'),
  });

/** How shadow answers are compared (`diff` of a route, and `createDiffer()`). */
export const diffOptionsSchema = z.strictObject(
  {
    headers: z
      .array(z.string().regex(TOKEN, { error: 'must be a header name' }), {
        error: 'must be an array of header names',
      })
      .readonly()
      .optional(),
    ignore: z
      .array(z.string().check(rule(diffPathProblem)))
      .readonly()
      .optional(),
    redact: z
      .array(z.string().check(rule(diffPathProblem)))
      .readonly()
      .optional(),
    revealQuery: z
      .array(z.string().min(1), { error: "must be an array of query parameter names ('*' for all)" })
      .readonly()
      .optional(),
    keep: z.int().min(0).max(MAX_KEEP).optional(),
    noiseThreshold: z.int().positive().optional(),
    maxDifferencesPerResponse: z.int().positive().max(MAX_DIFFERENCES).optional(),
  },
  { error: notAnObject('must be an object') },
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

export const shadowSpecSchema = z.strictObject(
  {
    maxConcurrent: positiveInt().optional(),
    maxBodyBytes: positiveInt().optional(),
    methods: z
      .array(method, { error: 'must be an array of upper-case HTTP methods' })
      .min(1, { error: 'must list at least one method (use sampleRate: 0 to copy nothing)' })
      .readonly()
      .optional(),
    marker: z.union([headerName, z.literal(false)], { error: 'must be a header name or false' }).optional(),
    sampleRate: fraction().optional(),
    noiseSampleRate: fraction().optional(),
  },
  { error: notAnObject('must be an object') },
);

export const gateSpecSchema = z.strictObject(
  {
    windowMs: positiveInt().optional(),
    minRequests: positiveInt().optional(),
    maxDiffRate: fraction().optional(),
    maxErrorRateDelta: fraction().optional(),
    maxErrorRate: fraction().optional(),
    maxContractViolationRate: fraction().optional(),
    maxP99DeltaMs: z
      .number({ error: 'must be a number of milliseconds ≥ 0' })
      .min(0, { error: 'must be a number of milliseconds ≥ 0' })
      .optional(),
  },
  { error: notAnObject('must be an object') },
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
const promotionStepSchema = z.union([
  // A pattern (so the JSON Schema has it too), typed as the step texts it admits.
  z.string().regex(STEP_TEXT, {
    error: "must be 'shadow', 'split N' (N % of callers), 'fallback', 'remote' or { mode, weight }",
  }) as unknown as z.ZodType<StepText, StepText>,
  z.strictObject({ mode: z.enum(PROMOTION_MODES), weight: z.number().min(0).max(100).optional() }),
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

/** Gated promotion of a route (`promotion`), checked as a whole: steps in order, thresholds in order. */
export const promotionSpecSchema = z
  .strictObject(
    {
      steps: z.array(promotionStepSchema).min(1).readonly().optional(),
      holdMs: z.int().min(0).optional(),
      minSamples: positiveInt().optional(),
      confidence: z
        .number({ error: 'must be a number from 0.5 to 0.9999' })
        .min(0.5, { error: 'must be a number from 0.5 to 0.9999' })
        .max(0.9999, { error: 'must be a number from 0.5 to 0.9999' })
        .optional(),
      confirm: z.union([z.boolean(), z.array(z.enum(PROMOTION_MODES)).readonly()]).optional(),
      critical: z.array(z.enum(GATE_NAMES)).readonly().optional(),
      tolerance: z
        .strictObject({
          diffRate: fraction().optional(),
          errorRate: fraction().optional(),
          contractRate: fraction().optional(),
          medianMs: z.number().min(0).optional(),
          p99Ms: z.number().min(0).optional(),
        })
        .optional(),
      scoreThresholds: z
        .strictObject({
          pass: z.number().min(0).max(100).optional(),
          marginal: z.number().min(0).max(100).optional(),
        })
        .optional(),
    },
    { error: notAnObject('must be true, false or an object') },
  )
  .superRefine((value, ctx) => {
    const steps = value.steps ?? [];
    let previous: [number, number] | undefined;
    steps.forEach((step, i) => {
      const key = stepKey(step);
      if (key === undefined) return;
      if (key[0] === STAGES.indexOf('split') && !(key[1] > 0 && key[1] < 100)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i],
          input: step,
          message: 'a split step needs a weight above 0 and below 100 (0 is local, 100 is the service)',
        });
        return;
      }
      if (
        previous !== undefined &&
        (key[0] < previous[0] || (key[0] === previous[0] && key[1] <= previous[1]))
      )
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i],
          input: step,
          message:
            'steps must move forward: each a later mode than the one before, or a split with a higher weight',
        });
      previous = key;
    });
    const t = value.scoreThresholds;
    if (t?.pass !== undefined && t.marginal !== undefined && t.marginal > t.pass)
      ctx.addIssue({
        code: 'custom',
        path: ['scoreThresholds', 'marginal'],
        input: t.marginal,
        message: `must not be above pass (${t.pass})`,
      });
  });

/** An API version (`'2'`, `2`, `'2026-01-15'`) or a baseline (`'2+'`), as `@gatehousejs/versioning` reads them. */
const versionRange = z
  .union([z.string(), z.number()])
  .refine((value) => parseVersionRange(value) !== undefined, {
    error: "expected a version ('2', '1.2', '2026-01-15') or a baseline ('2+')",
  });

/** One route of the table, as users write it in code, YAML, JSON or etcd. */
export const routeSpecSchema = z.strictObject(
  {
    name: z
      .string()
      .regex(NAME, {
        error: "must start with a letter or digit and hold only letters, digits, '.', '_', '-'",
      })
      .optional(),
    path: z.union(
      [
        pathPatternOption(),
        z.array(pathPatternOption()).min(1, { error: 'must list at least one path pattern' }).readonly(),
      ],
      { error: 'must be a path pattern or a list of them (a group of paths that moves as one)' },
    ),
    methods: z
      .array(method, { error: 'must be an array of upper-case HTTP methods' })
      .min(1, { error: 'must list at least one method (leave it out for every method)' })
      .readonly()
      .optional(),
    host: z
      .union(
        [
          hostPattern,
          z
            .array(hostPattern)
            .min(1, { error: 'must list at least one host (leave it out for every host)' })
            .readonly(),
        ],
        { error: 'must be a host pattern or a list of them' },
      )
      .optional(),
    headers: matchMap(headerName).optional(),
    query: matchMap(z.string()).optional(),
    version: z
      .union(
        [
          versionRange,
          z
            .array(versionRange)
            .min(1, { error: 'must list at least one version (leave it out for every request)' })
            .readonly(),
        ],
        { error: "must be a version ('2'), a baseline ('2+') or a list of them" },
      )
      .optional(),
    service: z.string().min(1).optional(),
    mode: z.enum(MODE_NAMES).optional(),
    weight: z
      .number({ error: 'must be a percentage from 0 to 100' })
      .min(0, { error: 'must be a percentage from 0 to 100' })
      .max(100, { error: 'must be a percentage from 0 to 100' })
      .optional(),
    rearm: z
      .union([z.string().min(1).max(200), z.number()], {
        error: 'must be a string or a number (change it to re-arm the route)',
      })
      .optional(),
    sticky: z
      .union(
        [
          z.enum(['principal', 'ip', 'none']),
          z.strictObject({ cookie: z.string().min(1) }),
          z.strictObject({ header: headerName }),
        ],
        { error: "must be 'principal', 'ip', 'none', { cookie: name } or { header: name }" },
      )
      .optional(),
    rewrite: z
      .strictObject(
        { from: prefix, to: prefix },
        { error: notAnObject("must be { from: '/prefix', to: '/other' }") },
      )
      .optional(),
    requestHeaders: headerChanges('request').optional(),
    responseHeaders: headerChanges('response').optional(),
    timeoutMs: positiveInt().optional(),
    bodyTimeoutMs: positiveInt().optional(),
    internalHosts: z.array(hostPattern).readonly().optional(),
    shadow: shadowSpecSchema.optional(),
    diff: diffOptionsSchema.optional(),
    fallback: z
      .strictObject(
        {
          on: z.array(z.enum(REASONS)).readonly().optional(),
          nonIdempotentOn: z.array(z.enum(REASONS)).readonly().optional(),
          maxReplayBytes: positiveInt().optional(),
        },
        { error: notAnObject('must be an object') },
      )
      .optional(),
    gates: gateSpecSchema.optional(),
    promotion: z
      .union([z.boolean(), promotionSpecSchema], { error: 'must be true, false or an object' })
      .optional(),
    websocket: z.boolean().optional(),
    cache: z.boolean().optional(),
  },
  { error: notAnObject("must be an object with at least 'path'") },
);

/** The document a routes file or etcd key holds. */
export const routeTableSchema = z.strictObject({ routes: z.array(routeSpecSchema).readonly() });

/** Options of `fileSource()` (and `gw.routes({ watch })`). */
export const fileSourceOptionsSchema = z.strictObject({
  intervalMs: positiveInt().optional(),
  debounceMs: positiveInt().optional(),
});

const etcdHost = z
  .string()
  .regex(/^https?:\/\/[^/\s]+\/?$/, { error: 'must be http(s)://host:port, such as http://127.0.0.1:2379' });

/** Options of `etcdSource()` (and `gw.routes({ etcd })`). */
export const etcdSourceOptionsSchema = z.strictObject({
  hosts: z.union([etcdHost, z.array(etcdHost).min(1)]),
  key: z.string().min(1),
  dialTimeoutMs: positiveInt().optional(),
  auth: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});

/** The per-request override header for testers. */
export const overrideOptionsSchema = z.strictObject({
  header: headerName.optional(),
  scopes: z.array(z.string().min(1)).readonly().optional(),
  roles: z.array(z.string().min(1)).readonly().optional(),
  allow: functionOption<(exchange: Exchange) => boolean>('a function of the exchange').optional(),
});

/** Options of `gw.routes()`. */
export const routesOptionsSchema = withCrossCheck(
  z.strictObject({
    name: z.string().min(1).optional(),
    // The table itself is checked by compileTable (it also needs the gateway's services).
    table: z
      .custom<RouteSpec[] | { routes: RouteSpec[] }>(
        (value) => Array.isArray(value) || (typeof value === 'object' && value !== null),
        { params: { expected: 'an array of routes or { routes: [...] }' } },
      )
      .optional(),
    file: z.string().min(1).optional(),
    watch: fileSourceOptionsSchema.optional(),
    etcd: etcdSourceOptionsSchema.optional(),
    source: objectOption<TableSource>('a table source (an object with start() and close())', [
      'start',
      'close',
    ]).optional(),
    override: z.union([z.literal(false), overrideOptionsSchema]).optional(),
    gateIntervalMs: positiveInt().optional(),
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
// in step: what the types allow, the schemas accept, and the other way round.
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: [
  Agree<z.input<typeof diffOptionsSchema>, DiffOptions>,
  Agree<z.input<typeof shadowSpecSchema>, ShadowSpec>,
  Agree<z.input<typeof gateSpecSchema>, GateSpec>,
  Agree<z.input<typeof promotionSpecSchema>, PromotionSpec>,
  Agree<z.input<typeof routeSpecSchema>, RouteSpec>,
  Agree<z.input<typeof fileSourceOptionsSchema>, FileSourceOptions>,
  Agree<z.input<typeof etcdSourceOptionsSchema>, EtcdSourceOptions>,
  Agree<z.input<typeof overrideOptionsSchema>, OverrideOptions>,
  Agree<Omit<z.input<typeof routesOptionsSchema>, 'table'>, Omit<RoutesOptions, 'table'>>,
] = [true, true, true, true, true, true, true, true, true];
void typesAgree;
