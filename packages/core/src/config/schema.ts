// The configuration's types, its zod schema (shape, defaults, per-field rules and messages) and the
// JSON Schema for editors generated from it.

import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { didYouMean } from './suggest.js';

// ---------------------------------------------------------------------------------------------
// Types users write
// ---------------------------------------------------------------------------------------------

/** An upstream reached at one base URL. */
export interface UrlServiceConfig {
  /** Base URL, http or https, without credentials, query or fragment. @example 'http://orders:8080' */
  url: string;
}

/** An upstream with several interchangeable instances. */
export interface EndpointsServiceConfig {
  /** Base URLs of the instances; at least one, no duplicates. @example ['http://10.0.0.5:8080', 'http://10.0.0.6:8080'] */
  endpoints: readonly string[];
}

/** A named upstream: either one `url` or a list of `endpoints`. */
export type ServiceConfig = UrlServiceConfig | EndpointsServiceConfig;

/** Where requests matching `path` (and `methods`) go. */
export interface RouteConfig {
  /** Path pattern: `/orders`, `/orders/*` (everything below), `/orders/:id` (one segment). */
  path: string;
  /** The name of a service in `services`, or `'local'` for the application's own handlers. */
  to: string;
  /** Upper-case HTTP methods this route is for. Default: every method. @example ['GET', 'POST'] */
  methods?: readonly string[];
}

/** How request paths are normalised before routing. */
export interface PathsConfig {
  /** `%2F` / `%5C` in a path: reject with 400, decode, or keep encoded. Default `'reject'`. */
  encodedSlashes?: 'reject' | 'decode' | 'keep';
  /** Merge repeated slashes (`//a///b` → `/a/b`). Default `true`. */
  mergeSlashes?: boolean;
  /** Strip a trailing slash (`/a/` → `/a`) or keep it. Default `'strip'`. */
  trailingSlash?: 'strip' | 'keep';
  /** Path parameters (`/a;v=1/b`): strip them, reject with 400, or keep. Default `'strip'`. */
  pathParams?: 'strip' | 'reject' | 'keep';
  /** Match routes case-sensitively. Default `false`. */
  caseSensitive?: boolean;
  /**
   * A path that is not in canonical form (`/a/../b`, `/%61dmin`): rewrite `req.url` to the canonical
   * form before the router sees it, or reject with 400. Default `'rewrite'`.
   */
  nonCanonical?: 'rewrite' | 'reject';
}

/** Which proxies may tell us the client's address. */
export type TrustedProxies = false | number | readonly string[];

/** The header a trusted proxy reports the client address in. */
export type ClientIpHeader = 'x-forwarded-for' | 'forwarded' | 'x-real-ip';

/** How the client IP is resolved. */
export interface ClientIpConfig {
  /**
   * `false` (default): trust no proxy, use the socket address. A number: trust that many hops
   * (1–32). A list: trust these addresses, CIDR ranges or the names `'loopback'`, `'private'`,
   * `'linklocal'`, `'uniquelocal'`. @example ['loopback', '10.0.0.0/8']
   */
  trustedProxies?: TrustedProxies;
  /** Default `'x-forwarded-for'`. */
  header?: ClientIpHeader;
}

/** Header hygiene on requests forwarded upstream. */
export interface HeadersConfig {
  /** Header names to strip; a trailing `*` matches a prefix. Default `[]`. @example ['x-internal-*'] */
  strip?: readonly string[];
  /** Also strip Gatehouse's built-in list (hop-by-hop and spoofable headers). Default `true`. */
  stripDefaults?: boolean;
}

/** Request ids. */
export interface RequestIdConfig {
  /** Header carrying the id, in and out. Default `'x-request-id'`. */
  header?: string;
  /** Reuse a well-formed incoming id instead of generating one. Default `true`. */
  trustIncoming?: boolean;
  /** Longest incoming id accepted (8–1024). Default `128`. */
  maxLength?: number;
  /** Makes a new id. Object API only (not in files). Default `crypto.randomUUID`. */
  generate?: () => string;
}

/** Problem-details rendering. */
export interface ProblemsConfig {
  /** Absolute URI prefix of problem `type`s. Default `'urn:gatehouse:error:'`. */
  typeBase?: string;
}

/**
 * Who may read the admin endpoints other than `/health` and `/ready` (`/metrics`, `/routes`,
 * `/migration`, and any endpoint a capability adds). Any one entry that matches grants access; with
 * none configured those endpoints answer 403 `GH_ADMIN_FORBIDDEN` to everyone.
 */
export interface AdminAccessConfig {
  /**
   * Socket peers (never a forwarded header) that may read them: addresses, CIDR ranges and the names
   * `'loopback'`, `'private'`, `'linklocal'`, `'uniquelocal'`. Behind a reverse proxy on the same host
   * every request comes from loopback: use `ports` or an auth requirement there. Default `[]`.
   * @example ['loopback', '10.0.0.0/8']
   */
  peers?: readonly string[];
  /**
   * Local ports on which they answer anyone who can connect: a separate listener for operators
   * (`gw.serve(app.listen(9090))`, reachable only from inside). Default `[]`. @example [9090]
   */
  ports?: readonly number[];
  /** Everyone may read them, from anywhere; never admits a write. Default `false`. */
  dangerouslyPublic?: boolean;
  /**
   * Who may write (every method but GET and HEAD: the admin write API, `/config/reload`,
   * `/cache/purge`) instead of `peers` and `ports`. Default: `peers` and `ports` (never
   * `dangerouslyPublic`). @example { peers: ['loopback'] }
   */
  write?: AdminWriteAccessConfig;
}

/** Who may use the admin endpoints that change something; any one entry grants access. */
export interface AdminWriteAccessConfig {
  /** Socket peers that may write. Default `[]`. */
  peers?: readonly string[];
  /** Local ports on which anyone who can connect may write. Default `[]`. */
  ports?: readonly number[];
  /** Everyone may write, from anywhere. Default `false`. */
  dangerouslyPublic?: boolean;
}

/** What admin endpoints may show. */
export interface AdminRevealConfig {
  /** Absolute file paths (a route table's file); otherwise only the file's name. Default `false`. */
  filePaths?: boolean;
  /**
   * Data of other callers' requests (paths, request ids and response values kept as shadow-diff
   * evidence); otherwise counts and field names only. Default `false`.
   */
  requestData?: boolean;
}

/** The admin endpoints. */
export interface AdminConfig {
  /** Path prefix: `''` (default) or `/x…` without a trailing slash. @example '/_gatehouse' */
  prefix?: string;
  /** Who may read the admin endpoints besides `/health` and `/ready`. Default: nobody. */
  access?: AdminAccessConfig;
  /** What admin endpoints may show. Default: no file paths, no other caller's request data. */
  reveal?: AdminRevealConfig;
}

/** Limits on every request, and the server timeouts `gw.serve()` sets. */
export interface LimitsConfig {
  /**
   * The most header fields a request may have (1–500); more → 431 `GH_REQUEST_TOO_MANY_HEADERS`.
   * Default `100`.
   */
  maxHeaders?: number;
  /**
   * How long a client has to send the whole request head, 1–600000 ms (Node's `headersTimeout`; a
   * slow sender gets 408 and is disconnected). Default `10000`.
   */
  headersTimeoutMs?: number;
  /** How long a client has to send the whole request, head and body, 1–3600000 ms. Default `60000`. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, 1–600000 ms. Default `5000`. */
  keepAliveTimeoutMs?: number;
}

/** Graceful shutdown. */
export interface ShutdownConfig {
  /** How long to wait for in-flight requests, 0–600000 ms. Default `10000`. */
  drainTimeoutMs?: number;
  /**
   * How long `/ready` answers 503 while the server still accepts connections, before draining starts,
   * so load balancers and orchestrators notice and stop sending traffic; 0–600000 ms. Default `0`.
   */
  readinessGraceMs?: number;
}

/** The Gatehouse configuration as users write it, in code or (without functions) in a file. */
export interface GatewayConfig {
  /** The JSON Schema reference editors use; ignored. */
  $schema?: string;
  /** Upstreams by name (`/^[a-z][a-z0-9-]*$/`, not `local`). Default `{}`. */
  services?: Readonly<Record<string, ServiceConfig>>;
  /** Routes, matched in order. Default `[]`. */
  routes?: readonly RouteConfig[];
  paths?: PathsConfig;
  clientIp?: ClientIpConfig;
  headers?: HeadersConfig;
  requestId?: RequestIdConfig;
  problems?: ProblemsConfig;
  admin?: AdminConfig;
  limits?: LimitsConfig;
  shutdown?: ShutdownConfig;
}

// ---------------------------------------------------------------------------------------------
// The resolved configuration: every default filled in, deeply readonly (and frozen at runtime)
// ---------------------------------------------------------------------------------------------

export type ResolvedService = { readonly url: string } | { readonly endpoints: readonly string[] };

export interface ResolvedRoute {
  readonly path: string;
  readonly to: string;
  /** Absent: every method. */
  readonly methods?: readonly string[];
}

export interface ResolvedConfig {
  readonly services: Readonly<Record<string, ResolvedService>>;
  readonly routes: readonly ResolvedRoute[];
  readonly paths: Readonly<Required<PathsConfig>>;
  readonly clientIp: { readonly trustedProxies: TrustedProxies; readonly header: ClientIpHeader };
  /** Header names and patterns are lower-cased. */
  readonly headers: { readonly strip: readonly string[]; readonly stripDefaults: boolean };
  /** `header` is lower-cased. */
  readonly requestId: {
    readonly header: string;
    readonly trustIncoming: boolean;
    readonly maxLength: number;
    readonly generate: () => string;
  };
  readonly problems: { readonly typeBase: string };
  readonly admin: {
    readonly prefix: string;
    readonly access: {
      readonly peers: readonly string[];
      readonly ports: readonly number[];
      readonly dangerouslyPublic: boolean;
      readonly write?: {
        readonly peers: readonly string[];
        readonly ports: readonly number[];
        readonly dangerouslyPublic: boolean;
      };
    };
    readonly reveal: { readonly filePaths: boolean; readonly requestData: boolean };
  };
  readonly limits: {
    readonly maxHeaders: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
  };
  readonly shutdown: { readonly drainTimeoutMs: number; readonly readinessGraceMs: number };
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** `'text'`, escaped and shortened, for messages. */
export function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  return `'${JSON.stringify(shown).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** What a value is, for "received …": `the string '5s'`, `the number 3`, `true`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  switch (typeof value) {
    case 'undefined':
      return 'nothing';
    case 'string':
      return `the string ${quote(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return String(value);
    case 'bigint':
      return `the bigint ${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default: {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return 'an object';
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
    }
  }
}

type RawIssue = z.core.$ZodRawIssue;

/** An error map for one schema: "expected <what>, received <value>", or "required: expected …". */
function expected(what: string, hint?: (input: unknown) => string): (issue: RawIssue) => string | undefined {
  return (issue) => {
    if (issue.code === 'unrecognized_keys' || issue.code === 'invalid_key') {
      return undefined; // restated per key by validate.ts
    }
    if (issue.input === undefined) return `required: expected ${what}`;
    return `expected ${what}, received ${describeValue(issue.input)}${hint?.(issue.input) ?? ''}`;
  };
}

/** `"a", "b" or "c"` as `'a', 'b' or 'c'`. */
function listOf(values: readonly string[], last = 'or'): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length <= 1
    ? (quoted[0] ?? '')
    : `${quoted.slice(0, -1).join(', ')} ${last} ${quoted.at(-1)}`;
}

// ---------------------------------------------------------------------------------------------
// Reusable field schemas
// ---------------------------------------------------------------------------------------------

const SERVICE_NAME = /^[a-z][a-z0-9-]*$/;
const HTTP_METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_PATTERN = /^[!#$%&'+.^_`|~0-9A-Za-z-]+\*?$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 3986 pchar without '*' (the wildcard) and without '%' unless it starts an escape.
const LITERAL_SEGMENT = /^(?:[A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9A-Fa-f]{2})+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Keys never accepted anywhere: they could alter object prototypes. */
export const FORBIDDEN_NAMES = ['__proto__', 'constructor', 'prototype'] as const;

/** The names `clientIp.trustedProxies` accepts besides addresses and ranges. */
export const PROXY_RANGE_NAMES = ['loopback', 'private', 'linklocal', 'uniquelocal'] as const;

/** The problem with a route path pattern, or undefined when it is fine. */
export function routePathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return "must start with '/'";
  if (path === '/') return undefined;
  if (/[?#]/.test(path)) return 'must not contain a query or fragment';
  const segments = path.slice(1).split('/');
  const params = new Set<string>();
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === '') return last ? "must not end with '/' (use '/x' or '/x/*')" : "must not contain '//'";
    if (segment === '.' || segment === '..') return "must not contain '.' or '..' segments";
    if (segment === '*') {
      if (!last) return "'*' is only allowed as the last segment";
      continue;
    }
    if (segment.includes('*')) return "'*' must be a whole segment, as in '/x/*'";
    if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (!PARAM_NAME.test(name)) {
        return `invalid parameter ${quote(segment)}: a parameter is ':' and a name of letters, digits and '_'`;
      }
      if (params.has(name)) return `parameter ':${name}' appears twice`;
      params.add(name);
      continue;
    }
    if (!LITERAL_SEGMENT.test(segment))
      return `segment ${quote(segment)} contains characters not allowed in a URL path`;
  }
  return undefined;
}

/** A malformed URL may still hold a password: `user:secret@host` → `***@host`. */
function redactUserinfo(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/[^/@\s]*@/g, '***@') : value;
}

/** The problem with an upstream URL, or undefined. Never echoes credentials. */
function httpUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value))
    return `expected an absolute http(s) URL, received ${describeValue(redactUserinfo(value))}`;
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `expected an http or https URL, received the scheme '${url.protocol.slice(0, -1)}'`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not contain credentials (user:password@); configure them on the client instead';
  }
  if (url.hostname === '') return 'must include a host';
  if (/[?#]/.test(value)) return 'must not contain a query or fragment';
  return undefined;
}

/** The problem with a trusted-proxy entry, or undefined. */
function proxyEntryProblem(value: string): string | undefined {
  if ((PROXY_RANGE_NAMES as readonly string[]).includes(value)) return undefined;
  const slash = value.lastIndexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const version = isIP(address);
  if (version === 0) {
    return (
      `expected an IP address, a CIDR range or one of ${listOf(PROXY_RANGE_NAMES)}, ` +
      `received ${describeValue(value)}${didYouMean(value, PROXY_RANGE_NAMES)}`
    );
  }
  if (slash === -1) return undefined;
  const prefix = value.slice(slash + 1);
  const max = version === 4 ? 32 : 128;
  if (!/^(?:0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > max) {
    return `invalid CIDR range ${quote(value)}: the prefix length of an IPv${version} range is 0 to ${max}`;
  }
  return undefined;
}

/** Adds a problem for every entry equal (by `key`) to an earlier one. Runs even if entries failed. */
const uniqueChecks = new WeakSet<z.core.$ZodCheck<never>>();

function noDuplicates(noun: string, key: (value: string) => string = (v) => v) {
  const check = z.superRefine<unknown>(
    (value, ctx) => {
      if (!Array.isArray(value)) return;
      const seen = new Map<string, number>();
      value.forEach((entry: unknown, i) => {
        if (typeof entry !== 'string' && typeof entry !== 'number') return;
        const k = key(String(entry));
        const first = seen.get(k);
        if (first === undefined) seen.set(k, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: [i],
            input: entry,
            message: `duplicate ${noun} (already at [${first}])`,
          });
      });
    },
    { when: () => true },
  );
  uniqueChecks.add(check); // `uniqueItems` in the JSON Schema
  return check;
}

function int(min: number, max: number, what: string) {
  const error = expected(`${what} from ${min} to ${max}`);
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const WORDY_BOOLEANS: Record<string, string> = {
  yes: 'true',
  on: 'true',
  true: 'true',
  no: 'false',
  off: 'false',
  false: 'false',
};

function bool() {
  return z.boolean({
    error: expected('true or false', (input) => {
      const meant = typeof input === 'string' ? WORDY_BOOLEANS[input.toLowerCase()] : undefined;
      return meant === undefined ? '' : ` — did you mean ${meant} (without quotes)?`;
    }),
  });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: expected(`one of ${listOf(values)}`, (input) =>
      typeof input === 'string' ? didYouMean(input, values) : '',
    ),
  });
}

/** A list of socket peers (admin access). */
function peersOption(description: string) {
  return z
    .array(proxyEntry, { error: expected('an array of addresses') })
    .check(noDuplicates('entry'))
    .default([])
    .meta({ description, examples: [['loopback']] });
}

/** A list of local ports (admin access). */
function portsOption(description: string) {
  return z
    .array(int(1, 65_535, 'a port number'), { error: expected('an array of port numbers') })
    .check(noDuplicates('port'))
    .default([])
    .meta({ description, examples: [[9090]] });
}

function section<T extends z.core.$ZodLooseShape>(shape: T, description: string) {
  return z
    .strictObject(shape, { error: expected('an object') })
    .prefault({} as never) // every key is optional; the cast is for the generic shape
    .meta({ description });
}

/** Custom issues keep their message; `check` returns one or undefined. */
function rule(check: (value: string) => string | undefined) {
  return z.superRefine<string>(
    (value, ctx) => {
      const message = check(value);
      if (message !== undefined) ctx.addIssue({ code: 'custom', input: value, message });
    },
    { when: (payload) => payload.issues.length === 0 }, // one problem per value
  );
}

const httpUrl = z
  .string({ error: expected('an http(s) URL') })
  .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\//, {
    error: (issue) =>
      typeof issue.input === 'string' && URL.canParse(issue.input)
        ? `expected an http or https URL, received the scheme '${new URL(issue.input).protocol.slice(0, -1)}'`
        : `expected an absolute http(s) URL, received ${describeValue(redactUserinfo(issue.input))}`,
  })
  .check(rule(httpUrlProblem));

const serviceName = z
  .string()
  .regex(SERVICE_NAME, {
    error: (issue) => {
      const input = String(issue.input);
      const fixed = input
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^[^a-z]+/, '');
      const hint = SERVICE_NAME.test(fixed) && fixed !== 'local' ? ` — did you mean '${fixed}'?` : '';
      return `invalid service name ${quote(input)}: use lower-case letters, digits and '-', starting with a letter${hint}`;
    },
  })
  .check(
    rule((name) =>
      name === 'local' ? "'local' is reserved: routes use it for the application itself" : undefined,
    ),
  );

const urlService = z
  .strictObject({
    url: httpUrl.meta({ description: 'Base URL, http or https.', examples: ['http://orders:8080'] }),
  })
  .meta({ title: 'Service at one URL' });

const endpointsService = z
  .strictObject({
    endpoints: z
      .array(httpUrl, { error: expected('an array of http(s) URLs') })
      .min(1, { error: 'must list at least one endpoint' })
      .check(noDuplicates('endpoint', (v) => (URL.canParse(v) ? new URL(v).href : v)))
      .meta({ description: 'Base URLs of interchangeable instances.', examples: [['http://10.0.0.5:8080']] }),
  })
  .meta({ title: 'Service with several endpoints' });

/** The union validate.ts restates per branch, choosing the branch by the keys present. */
export const serviceSchema = z.union([urlService, endpointsService], {
  error: expected("an object with 'url' or 'endpoints'"),
});

const routePath = z
  .string({ error: expected("a path pattern such as '/orders/*'") })
  .regex(/^\//, { error: (issue) => `invalid path ${quote(String(issue.input))}: must start with '/'` })
  .check(
    rule((path) => {
      const problem = routePathProblem(path);
      return problem === undefined ? undefined : `invalid path ${quote(path)}: ${problem}`;
    }),
  );

const method = z.string({ error: expected("an HTTP method such as 'GET'") }).regex(HTTP_METHOD, {
  error: (issue) => {
    const input = String(issue.input);
    const upper = input.toUpperCase();
    const hint = upper !== input && HTTP_METHOD.test(upper) ? ` — did you mean '${upper}'?` : '';
    return `expected an upper-case HTTP method such as 'GET', received ${describeValue(input)}${hint}`;
  },
});

const route = z.strictObject(
  {
    path: routePath.meta({
      description: "Path pattern: '/x', '/x/*' (everything below /x) or '/x/:id' (one segment).",
      examples: ['/orders/*', '/orders/:id'],
    }),
    to: z
      .string({ error: expected("a service name or 'local'") })
      .min(1, { error: expected("a service name or 'local'") })
      .meta({
        description: "A service name from 'services', or 'local' for the application's own handlers.",
      }),
    methods: z
      .array(method, { error: expected('an array of HTTP methods') })
      .min(1, { error: 'must list at least one method (leave it out for every method)' })
      .check(noDuplicates('method'))
      .optional()
      .meta({ description: 'Upper-case HTTP methods. Default: every method.', examples: [['GET', 'HEAD']] }),
  },
  { error: expected("an object with 'path' and 'to'") },
);

const proxyEntry = z
  .string({ error: expected('an IP address, a CIDR range or a range name') })
  .check(rule(proxyEntryProblem));

const trustedProxies = z.union(
  [
    z.literal(false),
    int(1, 32, 'a hop count'),
    z.array(proxyEntry, { error: expected('an array of addresses') }).check(noDuplicates('entry')),
  ],
  {
    error: expected(
      `false, a hop count from 1 to 32, or an array of IP addresses, CIDR ranges and ${listOf(PROXY_RANGE_NAMES)}`,
      (input) => (input === true ? ' (trusting every proxy would let clients spoof their address)' : ''),
    ),
  },
);

const headerName = z
  .string({ error: expected('a header name') })
  .regex(HEADER_NAME, { error: expected('a header name (letters, digits and -)') })
  .overwrite((name) => name.toLowerCase());

const headerPattern = z
  .string({ error: expected("a header name, optionally ending in '*'") })
  .regex(HEADER_PATTERN, {
    error: expected("a header name, optionally ending in '*' (such as 'x-internal-*')"),
  })
  .overwrite((name) => name.toLowerCase());

const typeBase = z
  .string({ error: expected('an absolute URI prefix') })
  .regex(URI_SCHEME, { error: expected("an absolute URI prefix such as 'https://example.com/problems/'") })
  .check(
    rule((value) =>
      URL.canParse(value) && !/\s/.test(value)
        ? undefined
        : `expected an absolute URI prefix such as 'https://example.com/problems/', received ${describeValue(value)}`,
    ),
  );

const adminPrefix = z
  .string({ error: expected("'' or a path such as '/_gatehouse'") })
  .regex(/^(?:\/[^/]+)*$/, {
    error: (issue) => {
      const input = String(issue.input);
      const hint =
        input.endsWith('/') && input.length > 1 ? ` — did you mean ${quote(input.replace(/\/+$/, ''))}?` : '';
      return `expected '' or a path that starts with '/' and does not end with '/', received ${describeValue(input)}${hint}`;
    },
  })
  .check(
    rule((prefix) => {
      const segment = prefix
        .split('/')
        .slice(1)
        .find((s) => !LITERAL_SEGMENT.test(s) || s === '.' || s === '..');
      return segment === undefined ? undefined : `segment ${quote(segment)} is not allowed in a path prefix`;
    }),
  );

/** Default request-id generator. */
export const defaultGenerateRequestId: () => string = () => randomUUID();

// ---------------------------------------------------------------------------------------------
// The whole configuration
// ---------------------------------------------------------------------------------------------

/** The zod schema of the configuration (object API; files additionally reject functions). */
export const configSchema = z.strictObject(
  {
    $schema: z
      .string({ error: expected('a string') })
      .optional()
      .meta({ description: 'The JSON Schema this file follows; ignored by Gatehouse.' }),
    services: z
      .record(serviceName, serviceSchema, { error: expected('an object mapping service names to services') })
      .default({})
      .meta({
        description:
          "Upstream services by name (lower-case letters, digits and '-'). Each has a 'url' or 'endpoints'.",
        examples: [{ orders: { url: 'http://orders:8080' } }],
      }),
    routes: z
      .array(route, { error: expected('an array of routes') })
      .default([])
      .meta({ description: 'Routes, matched in order. Each sends a path pattern to a service or to local.' }),
    paths: section(
      {
        encodedSlashes: oneOf(['reject', 'decode', 'keep']).default('reject').meta({
          description: 'Encoded slashes (%2F, %5C) in paths: reject with 400, decode, or keep encoded.',
        }),
        mergeSlashes: bool().default(true).meta({ description: "Merge repeated slashes ('//a' → '/a')." }),
        trailingSlash: oneOf(['strip', 'keep'])
          .default('strip')
          .meta({ description: "Strip a trailing slash ('/a/' → '/a') or keep it." }),
        pathParams: oneOf(['strip', 'reject', 'keep'])
          .default('strip')
          .meta({ description: "Path parameters ('/a;v=1'): strip, reject with 400, or keep." }),
        caseSensitive: bool().default(false).meta({ description: 'Match routes case-sensitively.' }),
        nonCanonical: oneOf(['rewrite', 'reject']).default('rewrite').meta({
          description:
            "A path not in canonical form ('/a/../b', '/%61dmin'): rewrite it for the router, or reject with 400.",
        }),
      },
      'How request paths are normalised before routing.',
    ),
    clientIp: section(
      {
        trustedProxies: trustedProxies.default(false).meta({
          description:
            "false: trust no proxy. A number: trust that many hops (1-32). A list: trust these addresses, CIDR ranges or 'loopback', 'private', 'linklocal', 'uniquelocal'.",
          examples: [['loopback', '10.0.0.0/8'], 1],
        }),
        header: oneOf(['x-forwarded-for', 'forwarded', 'x-real-ip'])
          .default('x-forwarded-for')
          .meta({ description: 'The header trusted proxies report the client address in.' }),
      },
      'How the client IP address is resolved.',
    ),
    headers: section(
      {
        strip: z
          .array(headerPattern, { error: expected('an array of header names') })
          .check(noDuplicates('header', (v) => v.toLowerCase()))
          .default([])
          .meta({
            description: "Header names to strip from forwarded requests; a trailing '*' matches a prefix.",
          }),
        stripDefaults: bool()
          .default(true)
          .meta({ description: "Also strip Gatehouse's built-in list of hop-by-hop and spoofable headers." }),
      },
      'Header hygiene on forwarded requests.',
    ),
    requestId: section(
      {
        header: headerName
          .default('x-request-id')
          .meta({ description: 'The header carrying the request id.' }),
        trustIncoming: bool().default(true).meta({ description: 'Reuse a well-formed incoming request id.' }),
        maxLength: int(8, 1024, 'an integer')
          .default(128)
          .meta({ description: 'The longest incoming request id accepted.' }),
        generate: z
          .custom<() => string>((value) => typeof value === 'function', { error: expected('a function') })
          .optional(),
      },
      'Request ids.',
    ),
    problems: section(
      {
        typeBase: typeBase.default('urn:gatehouse:error:').meta({
          description: 'Absolute URI prefix of problem types.',
          examples: ['https://example.com/problems/'],
        }),
      },
      'Problem details (RFC 9457) rendering.',
    ),
    admin: section(
      {
        prefix: adminPrefix.default('').meta({
          description: "Path prefix of the admin endpoints: '' or '/x' without a trailing slash.",
          examples: ['/_gatehouse'],
        }),
        access: section(
          {
            peers: peersOption(
              "Socket peers that may use the admin endpoints (read and write): addresses, CIDR ranges or 'loopback', 'private', 'linklocal', 'uniquelocal'. Forwarded headers are never used.",
            ),
            ports: portsOption(
              'Local ports on which the admin endpoints answer anyone who can connect (a separate listener), reads and writes.',
            ),
            dangerouslyPublic: bool().default(false).meta({
              description:
                'Everyone may read the admin endpoints, from anywhere. Never admits a write (see write).',
            }),
            write: z
              .strictObject(
                {
                  peers: peersOption('Socket peers that may write.'),
                  ports: portsOption('Local ports on which anyone who can connect may write.'),
                  dangerouslyPublic: bool()
                    .default(false)
                    .meta({ description: 'Everyone may write, from anywhere.' }),
                },
                { error: expected('an object') },
              )
              .optional()
              .meta({
                description:
                  'Who may write (POST and DELETE: the admin write API, /config/reload, /cache/purge) instead of peers, ports and an auth requirement above. Default: those (never dangerouslyPublic).',
              }),
          },
          'Who may use the admin endpoints besides /health and /ready; any one entry grants access. Default: nobody (403).',
        ),
        reveal: section(
          {
            filePaths: bool()
              .default(false)
              .meta({ description: "Show absolute file paths (otherwise only a file's name)." }),
            requestData: bool().default(false).meta({
              description:
                "Show other callers' request data (paths, request ids, response values kept as diff evidence).",
            }),
          },
          'What admin endpoints may show.',
        ),
      },
      'The admin endpoints.',
    ),
    limits: section(
      {
        maxHeaders: int(1, 500, 'an integer')
          .default(100)
          .meta({ description: 'The most header fields a request may have; more is answered with 431.' }),
        headersTimeoutMs: int(1, 600_000, 'an integer').default(10_000).meta({
          description:
            'How long a client has to send the request head, in milliseconds (applied by serve()).',
        }),
        requestTimeoutMs: int(1, 3_600_000, 'an integer').default(60_000).meta({
          description:
            'How long a client has to send the whole request, in milliseconds (applied by serve()).',
        }),
        keepAliveTimeoutMs: int(1, 600_000, 'an integer').default(5_000).meta({
          description:
            'How long an idle keep-alive connection stays open, in milliseconds (applied by serve()).',
        }),
      },
      'Limits on every request, and the server timeouts serve() sets.',
    ),
    shutdown: section(
      {
        drainTimeoutMs: int(0, 600_000, 'an integer')
          .default(10_000)
          .meta({ description: 'How long shutdown waits for in-flight requests, in milliseconds.' }),
        readinessGraceMs: int(0, 600_000, 'an integer').default(0).meta({
          description:
            'How long /ready answers 503 while connections are still accepted, before draining starts, in milliseconds.',
        }),
      },
      'Graceful shutdown.',
    ),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? `expected a configuration object, received ${describeValue(issue.input)}`
        : undefined,
  },
);

// The hand-written types above are what users read; these lines keep them in step with the schema.
type Assignable<From, To> = [From] extends [To] ? true : never;
const typesAgree: [
  Assignable<z.input<typeof configSchema>, GatewayConfig>,
  Assignable<Omit<z.output<typeof configSchema>, '$schema' | 'requestId'>, Omit<ResolvedConfig, 'requestId'>>,
  Assignable<Omit<ResolvedConfig['requestId'], 'generate'>, z.output<typeof configSchema>['requestId']>,
] = [true, true, true];
void typesAgree;

// ---------------------------------------------------------------------------------------------
// JSON Schema for editors
// ---------------------------------------------------------------------------------------------

/** Where the published schema lives; `$id` of {@link configJsonSchema}. */
export const CONFIG_SCHEMA_ID = 'https://unpkg.com/@gatehousejs/core/gatehouse.schema.json';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function buildJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // Functions exist only in the object API.
      if (zodSchema instanceof z.ZodObject && 'generate' in zodSchema.shape)
        delete jsonSchema.properties?.['generate'];
      // What refinements check, where JSON Schema can say it too.
      if (zodSchema instanceof z.ZodArray && zodSchema._zod.def.checks?.some((c) => uniqueChecks.has(c))) {
        jsonSchema.uniqueItems = true;
      }
      const names = jsonSchema.propertyNames;
      if (zodSchema instanceof z.ZodRecord && typeof names === 'object') {
        jsonSchema.propertyNames = { ...names, not: { enum: ['local', ...FORBIDDEN_NAMES] } };
      }
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: 'Gatehouse configuration',
    description:
      'Configuration of Gatehouse, the embeddable API gateway for Express and Koa. In YAML, reference this schema with `# yaml-language-server: $schema=<url or path>`.',
    ...rest,
  };
}

/** The JSON Schema (draft 2020-12) of configuration files, for editors; frozen. */
export const configJsonSchema: object = deepFreeze(buildJsonSchema());
