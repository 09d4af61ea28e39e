// The configuration's types, its valibot schema (shape, defaults, per-field rules and messages) and
// the JSON Schema for editors generated from it.

import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import * as v from 'valibot';
import { fileJsonSchema } from './json-schema.js';
import { didYouMean } from './suggest.js';
import { booleanHint, describeValue, quote } from './words.js';

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

export { describeValue, quote } from './words.js';

type Issue = v.BaseIssue<unknown>;

/**
 * A message for one schema: "expected <what>, received <value>", or "required: expected …". (An
 * object's missing and unknown keys are worded by validate.ts, which reads the key's own schema.)
 */
function expected(what: string, hint?: (input: unknown) => string): (issue: Issue) => string {
  return (issue) => {
    if (issue.input === undefined) return `required: expected ${what}`;
    return `expected ${what}, received ${describeValue(issue.input)}${hint?.(issue.input) ?? ''}`;
  };
}

/** `"a", "b" or "c"` as `'a', 'b' or 'c'`. */
function listOf(values: readonly string[], last = 'or'): string {
  const quoted = values.map((value) => `'${value}'`);
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

/** The duplicate checks, which the JSON Schema states as `uniqueItems`. */
const uniqueChecks = new WeakSet<object>();

/** Adds a problem for every entry equal (by `key`) to an earlier one. Runs even if entries failed. */
function noDuplicates<T extends string | number = string>(
  noun: string,
  key: (value: string) => string = (value) => value,
) {
  const check = v.rawCheck<T[]>(({ dataset, addIssue }) => {
    const value: unknown = dataset.value;
    if (!Array.isArray(value)) return;
    const seen = new Map<string, number>();
    value.forEach((entry: unknown, i) => {
      if (typeof entry !== 'string' && typeof entry !== 'number') return;
      const k = key(String(entry));
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else
        addIssue({
          input: entry,
          message: `duplicate ${noun} (already at [${first}])`,
          path: [{ type: 'array', origin: 'value', input: value, key: i, value: entry }],
        });
    });
  });
  uniqueChecks.add(check);
  return check;
}

/** Custom issues keep their message; `check` returns one or undefined. One problem per value. */
function rule(check: (value: string) => string | undefined) {
  return v.rawCheck<string>(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.issues !== undefined) return;
    const message = check(dataset.value);
    if (message !== undefined) addIssue({ message });
  });
}

function int(min: number, max: number, what: string) {
  const error = expected(`${what} from ${min} to ${max}`);
  return v.pipe(v.number(error), v.safeInteger(error), v.minValue(min, error), v.maxValue(max, error));
}

function bool() {
  return v.boolean(expected('true or false', booleanHint));
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return v.picklist(
    values,
    expected(`one of ${listOf(values)}`, (input) =>
      typeof input === 'string' ? didYouMean(input, values) : '',
    ),
  );
}

/** A strict object; `what` names it in "expected …" messages. */
function strict<const E extends v.ObjectEntries>(entries: E, what: string) {
  return v.strictObject(entries, expected(what));
}

/** A list of socket peers (admin access). */
function peersOption(description: string) {
  return v.optional(
    v.pipe(
      v.array(proxyEntry, expected('an array of addresses')),
      noDuplicates('entry'),
      v.description(description),
      v.examples([['loopback']]),
    ),
    [],
  );
}

/** A list of local ports (admin access). */
function portsOption(description: string) {
  return v.optional(
    v.pipe(
      v.array(int(1, 65_535, 'a port number'), expected('an array of port numbers')),
      noDuplicates<number>('port'),
      v.description(description),
      v.examples([[9090]]),
    ),
    [],
  );
}

/** A section: a strict object whose keys are all optional, so it defaults to `{}`. */
function section<const E extends v.ObjectEntries>(entries: E, description: string) {
  // The default is parsed like an input, which fills in the keys' defaults; the cast is for the
  // generic entries.
  return v.optional(v.pipe(strict(entries, 'an object'), v.description(description)), {} as never);
}

const httpUrl = v.pipe(
  v.string(expected('an http(s) URL')),
  v.regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\//, (issue) =>
    typeof issue.input === 'string' && URL.canParse(issue.input)
      ? `expected an http or https URL, received the scheme '${new URL(issue.input).protocol.slice(0, -1)}'`
      : `expected an absolute http(s) URL, received ${describeValue(redactUserinfo(issue.input))}`,
  ),
  rule(httpUrlProblem),
);

const serviceName = v.pipe(
  v.string(),
  v.regex(SERVICE_NAME, (issue) => {
    const input = String(issue.input);
    const fixed = input
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '');
    const hint = SERVICE_NAME.test(fixed) && fixed !== 'local' ? ` — did you mean '${fixed}'?` : '';
    return `invalid service name ${quote(input)}: use lower-case letters, digits and '-', starting with a letter${hint}`;
  }),
  rule((name) =>
    name === 'local' ? "'local' is reserved: routes use it for the application itself" : undefined,
  ),
);

const urlService = v.pipe(
  strict(
    {
      url: v.pipe(httpUrl, v.description('Base URL, http or https.'), v.examples(['http://orders:8080'])),
    },
    'an object',
  ),
  v.title('Service at one URL'),
);

const endpointsService = v.pipe(
  strict(
    {
      endpoints: v.pipe(
        v.array(httpUrl, expected('an array of http(s) URLs')),
        v.minLength(1, 'must list at least one endpoint'),
        noDuplicates('endpoint', (url) => (URL.canParse(url) ? new URL(url).href : url)),
        v.description('Base URLs of interchangeable instances.'),
        v.examples([['http://10.0.0.5:8080']]),
      ),
    },
    'an object',
  ),
  v.title('Service with several endpoints'),
);

/** The union validate.ts restates per branch, choosing the branch by the keys present. */
export const serviceSchema = v.union(
  [urlService, endpointsService],
  expected("an object with 'url' or 'endpoints'"),
);

const routePath = v.pipe(
  v.string(expected("a path pattern such as '/orders/*'")),
  v.regex(/^\//, (issue) => `invalid path ${quote(String(issue.input))}: must start with '/'`),
  rule((path) => {
    const problem = routePathProblem(path);
    return problem === undefined ? undefined : `invalid path ${quote(path)}: ${problem}`;
  }),
);

const method = v.pipe(
  v.string(expected("an HTTP method such as 'GET'")),
  v.regex(HTTP_METHOD, (issue) => {
    const input = String(issue.input);
    const upper = input.toUpperCase();
    const hint = upper !== input && HTTP_METHOD.test(upper) ? ` — did you mean '${upper}'?` : '';
    return `expected an upper-case HTTP method such as 'GET', received ${describeValue(input)}${hint}`;
  }),
);

const route = strict(
  {
    path: v.pipe(
      routePath,
      v.description("Path pattern: '/x', '/x/*' (everything below /x) or '/x/:id' (one segment)."),
      v.examples(['/orders/*', '/orders/:id']),
    ),
    to: v.pipe(
      v.string(expected("a service name or 'local'")),
      v.minLength(1, expected("a service name or 'local'")),
      v.description("A service name from 'services', or 'local' for the application's own handlers."),
    ),
    methods: v.optional(
      v.pipe(
        v.array(method, expected('an array of HTTP methods')),
        v.minLength(1, 'must list at least one method (leave it out for every method)'),
        noDuplicates('method'),
        v.description('Upper-case HTTP methods. Default: every method.'),
        v.examples([['GET', 'HEAD']]),
      ),
    ),
  },
  "an object with 'path' and 'to'",
);

const proxyEntry = v.pipe(
  v.string(expected('an IP address, a CIDR range or a range name')),
  rule(proxyEntryProblem),
);

const trustedProxies = v.union(
  [
    v.literal(false),
    int(1, 32, 'a hop count'),
    v.pipe(v.array(proxyEntry, expected('an array of addresses')), noDuplicates('entry')),
  ],
  expected(
    `false, a hop count from 1 to 32, or an array of IP addresses, CIDR ranges and ${listOf(PROXY_RANGE_NAMES)}`,
    (input) => (input === true ? ' (trusting every proxy would let clients spoof their address)' : ''),
  ),
);

const headerName = v.pipe(
  v.string(expected('a header name')),
  v.regex(HEADER_NAME, expected('a header name (letters, digits and -)')),
  v.toLowerCase(),
);

const headerPattern = v.pipe(
  v.string(expected("a header name, optionally ending in '*'")),
  v.regex(HEADER_PATTERN, expected("a header name, optionally ending in '*' (such as 'x-internal-*')")),
  v.toLowerCase(),
);

const typeBase = v.pipe(
  v.string(expected('an absolute URI prefix')),
  v.regex(URI_SCHEME, expected("an absolute URI prefix such as 'https://example.com/problems/'")),
  rule((value) =>
    URL.canParse(value) && !/\s/.test(value)
      ? undefined
      : `expected an absolute URI prefix such as 'https://example.com/problems/', received ${describeValue(value)}`,
  ),
);

const adminPrefix = v.pipe(
  v.string(expected("'' or a path such as '/_gatehouse'")),
  v.regex(/^(?:\/[^/]+)*$/, (issue) => {
    const input = String(issue.input);
    const hint =
      input.endsWith('/') && input.length > 1 ? ` — did you mean ${quote(input.replace(/\/+$/, ''))}?` : '';
    return `expected '' or a path that starts with '/' and does not end with '/', received ${describeValue(input)}${hint}`;
  }),
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

const configEntries = {
  $schema: v.optional(
    v.pipe(
      v.string(expected('a string')),
      v.description('The JSON Schema this file follows; ignored by Gatehouse.'),
    ),
  ),
  services: v.optional(
    v.pipe(
      v.record(serviceName, serviceSchema, expected('an object mapping service names to services')),
      v.description(
        "Upstream services by name (lower-case letters, digits and '-'). Each has a 'url' or 'endpoints'.",
      ),
      v.examples([{ orders: { url: 'http://orders:8080' } }]),
    ),
    {},
  ),
  routes: v.optional(
    v.pipe(
      v.array(route, expected('an array of routes')),
      v.description('Routes, matched in order. Each sends a path pattern to a service or to local.'),
    ),
    [],
  ),
  paths: section(
    {
      encodedSlashes: v.optional(
        v.pipe(
          oneOf(['reject', 'decode', 'keep']),
          v.description('Encoded slashes (%2F, %5C) in paths: reject with 400, decode, or keep encoded.'),
        ),
        'reject',
      ),
      mergeSlashes: v.optional(v.pipe(bool(), v.description("Merge repeated slashes ('//a' → '/a').")), true),
      trailingSlash: v.optional(
        v.pipe(oneOf(['strip', 'keep']), v.description("Strip a trailing slash ('/a/' → '/a') or keep it.")),
        'strip',
      ),
      pathParams: v.optional(
        v.pipe(
          oneOf(['strip', 'reject', 'keep']),
          v.description("Path parameters ('/a;v=1'): strip, reject with 400, or keep."),
        ),
        'strip',
      ),
      caseSensitive: v.optional(v.pipe(bool(), v.description('Match routes case-sensitively.')), false),
      nonCanonical: v.optional(
        v.pipe(
          oneOf(['rewrite', 'reject']),
          v.description(
            "A path not in canonical form ('/a/../b', '/%61dmin'): rewrite it for the router, or reject with 400.",
          ),
        ),
        'rewrite',
      ),
    },
    'How request paths are normalised before routing.',
  ),
  clientIp: section(
    {
      trustedProxies: v.optional(
        v.pipe(
          trustedProxies,
          v.description(
            "false: trust no proxy. A number: trust that many hops (1-32). A list: trust these addresses, CIDR ranges or 'loopback', 'private', 'linklocal', 'uniquelocal'.",
          ),
          v.examples([['loopback', '10.0.0.0/8'], 1]),
        ),
        false,
      ),
      header: v.optional(
        v.pipe(
          oneOf(['x-forwarded-for', 'forwarded', 'x-real-ip']),
          v.description('The header trusted proxies report the client address in.'),
        ),
        'x-forwarded-for',
      ),
    },
    'How the client IP address is resolved.',
  ),
  headers: section(
    {
      strip: v.optional(
        v.pipe(
          v.array(headerPattern, expected('an array of header names')),
          noDuplicates('header', (name) => name.toLowerCase()),
          v.description("Header names to strip from forwarded requests; a trailing '*' matches a prefix."),
        ),
        [],
      ),
      stripDefaults: v.optional(
        v.pipe(
          bool(),
          v.description("Also strip Gatehouse's built-in list of hop-by-hop and spoofable headers."),
        ),
        true,
      ),
    },
    'Header hygiene on forwarded requests.',
  ),
  requestId: section(
    {
      header: v.optional(
        v.pipe(headerName, v.description('The header carrying the request id.')),
        'x-request-id',
      ),
      trustIncoming: v.optional(
        v.pipe(bool(), v.description('Reuse a well-formed incoming request id.')),
        true,
      ),
      maxLength: v.optional(
        v.pipe(int(8, 1024, 'an integer'), v.description('The longest incoming request id accepted.')),
        128,
      ),
      // Functions exist only in the object API (and not in the JSON Schema).
      generate: v.optional(
        v.custom<() => string>((value) => typeof value === 'function', expected('a function')),
      ),
    },
    'Request ids.',
  ),
  problems: section(
    {
      typeBase: v.optional(
        v.pipe(
          typeBase,
          v.description('Absolute URI prefix of problem types.'),
          v.examples(['https://example.com/problems/']),
        ),
        'urn:gatehouse:error:',
      ),
    },
    'Problem details (RFC 9457) rendering.',
  ),
  admin: section(
    {
      prefix: v.optional(
        v.pipe(
          adminPrefix,
          v.description("Path prefix of the admin endpoints: '' or '/x' without a trailing slash."),
          v.examples(['/_gatehouse']),
        ),
        '',
      ),
      access: section(
        {
          peers: peersOption(
            "Socket peers that may use the admin endpoints (read and write): addresses, CIDR ranges or 'loopback', 'private', 'linklocal', 'uniquelocal'. Forwarded headers are never used.",
          ),
          ports: portsOption(
            'Local ports on which the admin endpoints answer anyone who can connect (a separate listener), reads and writes.',
          ),
          dangerouslyPublic: v.optional(
            v.pipe(
              bool(),
              v.description(
                'Everyone may read the admin endpoints, from anywhere. Never admits a write (see write).',
              ),
            ),
            false,
          ),
          write: v.optional(
            v.pipe(
              strict(
                {
                  peers: peersOption('Socket peers that may write.'),
                  ports: portsOption('Local ports on which anyone who can connect may write.'),
                  dangerouslyPublic: v.optional(
                    v.pipe(bool(), v.description('Everyone may write, from anywhere.')),
                    false,
                  ),
                },
                'an object',
              ),
              v.description(
                'Who may write (POST and DELETE: the admin write API, /config/reload, /cache/purge) instead of peers, ports and an auth requirement above. Default: those (never dangerouslyPublic).',
              ),
            ),
          ),
        },
        'Who may use the admin endpoints besides /health and /ready; any one entry grants access. Default: nobody (403).',
      ),
      reveal: section(
        {
          filePaths: v.optional(
            v.pipe(bool(), v.description("Show absolute file paths (otherwise only a file's name).")),
            false,
          ),
          requestData: v.optional(
            v.pipe(
              bool(),
              v.description(
                "Show other callers' request data (paths, request ids, response values kept as diff evidence).",
              ),
            ),
            false,
          ),
        },
        'What admin endpoints may show.',
      ),
    },
    'The admin endpoints.',
  ),
  limits: section(
    {
      maxHeaders: v.optional(
        v.pipe(
          int(1, 500, 'an integer'),
          v.description('The most header fields a request may have; more is answered with 431.'),
        ),
        100,
      ),
      headersTimeoutMs: v.optional(
        v.pipe(
          int(1, 600_000, 'an integer'),
          v.description(
            'How long a client has to send the request head, in milliseconds (applied by serve()).',
          ),
        ),
        10_000,
      ),
      requestTimeoutMs: v.optional(
        v.pipe(
          int(1, 3_600_000, 'an integer'),
          v.description(
            'How long a client has to send the whole request, in milliseconds (applied by serve()).',
          ),
        ),
        60_000,
      ),
      keepAliveTimeoutMs: v.optional(
        v.pipe(
          int(1, 600_000, 'an integer'),
          v.description(
            'How long an idle keep-alive connection stays open, in milliseconds (applied by serve()).',
          ),
        ),
        5_000,
      ),
    },
    'Limits on every request, and the server timeouts serve() sets.',
  ),
  shutdown: section(
    {
      drainTimeoutMs: v.optional(
        v.pipe(
          int(0, 600_000, 'an integer'),
          v.description('How long shutdown waits for in-flight requests, in milliseconds.'),
        ),
        10_000,
      ),
      readinessGraceMs: v.optional(
        v.pipe(
          int(0, 600_000, 'an integer'),
          v.description(
            'How long /ready answers 503 while connections are still accepted, before draining starts, in milliseconds.',
          ),
        ),
        0,
      ),
    },
    'Graceful shutdown.',
  ),
};

/** The valibot schema of the configuration (object API; files additionally reject functions). */
export const configSchema = v.strictObject(
  configEntries,
  (issue) => `expected a configuration object, received ${describeValue(issue.input)}`,
);

// The hand-written types above are what users read; these lines keep them in step with the schema.
type Assignable<From, To> = [From] extends [To] ? true : never;
const typesAgree: [
  Assignable<v.InferInput<typeof configSchema>, GatewayConfig>,
  Assignable<
    Omit<v.InferOutput<typeof configSchema>, '$schema' | 'requestId'>,
    Omit<ResolvedConfig, 'requestId'>
  >,
  Assignable<Omit<ResolvedConfig['requestId'], 'generate'>, v.InferOutput<typeof configSchema>['requestId']>,
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
  const generated = fileJsonSchema(configSchema, {
    // The duplicate checks (noDuplicates) say what `uniqueItems` says.
    overrideAction: (action, jsonSchema) =>
      uniqueChecks.has(action) ? { ...jsonSchema, uniqueItems: true } : undefined,
  });
  const services = (generated['properties'] as Record<string, Record<string, unknown>>)['services']!;
  const names = services['propertyNames'] as Record<string, unknown> | undefined;
  services['propertyNames'] = { ...names, not: { enum: ['local', ...FORBIDDEN_NAMES] } };
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
