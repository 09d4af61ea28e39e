// Header hygiene for everything that forwards: what a client may not claim, and what never crosses a hop.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { ConfigError } from './config/validate.js';
import { Problems, unknownKeys } from './options.js';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1, plus `proxy-connection`,
 * `keep-alive`, and `trailer` and the `proxy-auth*` pair listed by RFC 2616 §13.5.1). Never forwarded;
 * `te: trailers` included: a forwarder that needs it adds it itself.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Identity and internal headers a client must never be able to set, stripped from every request by
 * default: the ones backends, frameworks and auth proxies commonly trust to say who the caller is
 * (oauth2-proxy, Kubernetes' authenticating proxy, Authelia, Kong, Pomerium, AWS ALB, Google IAP,
 * Azure App Service, Cloudflare Access, mTLS-terminating proxies). A trailing `*` matches by prefix;
 * names compare case-insensitively, and `-` and `_` are the same character (see `createHeaderHygiene`).
 */
export const DEFAULT_STRIPPED_HEADERS: readonly string[] = Object.freeze([
  // Gatehouse's own, and generic identity claims.
  'x-gatehouse-*',
  'x-user',
  'x-user-*',
  'x-userid',
  'x-username',
  'x-email',
  'x-roles',
  'x-groups',
  'x-scopes',
  'x-authenticated-*',
  'x-principal-*',
  'x-identity-*',
  // CGI's REMOTE_USER as a header; Kubernetes' authenticating proxy (x-remote-user, -group, -extra-*).
  'remote-user',
  'remote-groups',
  'remote-email',
  'remote-name',
  'x-remote-user',
  'x-remote-group',
  'x-remote-extra-*',
  // oauth2-proxy and nginx auth_request.
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-auth-request-*',
  // API gateways and cloud identity-aware proxies.
  'x-consumer-*',
  'x-credential-identifier',
  'x-anonymous-consumer',
  'x-userinfo',
  'x-jwt-assertion',
  'x-jwt-payload',
  'x-pomerium-*',
  'x-amzn-oidc-*',
  'x-goog-authenticated-user-*',
  'x-goog-iap-jwt-assertion',
  'x-ms-client-principal*',
  'cf-access-authenticated-user-email',
  'cf-access-jwt-assertion',
  // Client certificates as a TLS-terminating proxy passes them on.
  'x-forwarded-client-cert',
  'x-client-cert*',
  'x-ssl-client-*',
  'ssl-client-*',
]);

/** Which client-supplied headers to strip. */
export interface HeaderHygieneOptions {
  /**
   * Extra header names to strip; a trailing `*` matches by prefix (`'x-internal-*'`).
   *
   * @default []
   */
  strip: readonly string[];
  /**
   * Whether {@link DEFAULT_STRIPPED_HEADERS} are stripped too.
   *
   * @default true
   */
  stripDefaults: boolean;
}

/** Header filters compiled once by {@link createHeaderHygiene}. */
export interface HeaderHygiene {
  /** True when the name is on the strip-list (compared case-insensitively). */
  isStripped(name: string): boolean;
  /**
   * Deletes stripped headers from an incoming header object in place and returns how many it removed.
   * `rawHeaders` is left alone: forward with {@link HeaderHygiene.forward}, which filters again.
   */
  stripInbound(headers: IncomingHttpHeaders): number;
  /**
   * A new plain header object (lowercase names; `__proto__` an own property like any header) for
   * forwarding a request or a response, without hop-by-hop headers, headers named in `Connection`,
   * stripped headers (requests only), the lowercase names in `omit`, headers whose name is not a token
   * (so also HTTP/2 pseudo-headers), and values containing CR, LF, NUL or other characters not allowed
   * in a field value. Of a multi-valued header only the bad lines are dropped.
   */
  forward(
    headers: IncomingHttpHeaders | OutgoingHttpHeaders,
    direction: 'request' | 'response',
    omit?: ReadonlySet<string>,
  ): Record<string, string | string[]>;
}

// RFC 9110 §5.6.2 tchar.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** Whether a string is a valid header field name (RFC 9110 §5.1: a non-empty token). */
export function isHeaderName(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * Whether a value may be written as a header value: only HTAB, SP, visible ASCII and obs-text
 * (0x80–0xFF), so never CR, LF or NUL (RFC 9110 §5.5). Characters above 0xFF are refused because Node
 * writes header values as Latin-1.
 */
export function isSafeHeaderValue(value: string): boolean {
  // A regular expression: faster than a loop over charCodeAt on values of typical length (measured).
  return !UNSAFE_VALUE_CHAR.test(value);
}
const UNSAFE_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** The problem with a strip-list pattern, or undefined: a header name with an optional trailing `*`. */
function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return `expected a header name, got ${typeof pattern}`;
  const name = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  return isHeaderName(name)
    ? undefined
    : `invalid header name pattern '${pattern}' (a header name, optionally ending in '*')`;
}

// Patterns are checked by createHeaderHygiene first.
function compileStripList(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((pattern) => {
    const prefix = pattern.endsWith('*');
    const name = prefix ? pattern.slice(0, -1) : pattern;
    // Token characters that mean something in a regular expression.
    const escaped = name.toLowerCase().replace(/[.*+^$|`]/g, '\\$&');
    return prefix ? escaped : `${escaped}$`;
  });
  // `-` and `_` match each other: servers built on CGI (WSGI, Rack, PHP) turn both into `_` in the
  // environment, so `x_user_id` reaches the application as `x-user-id` would.
  const re = new RegExp(`^(?:${alternatives.join('|').replace(/[-_]/g, '[-_]')})`, 'i');
  // Checked for every header of every request: most names cannot match because of their first two
  // characters alone (the defaults start with x-, re, cf or ss; content-*, cookie and sec-* do not
  // pass), and a table lookup is far cheaper than the regular expression (measured ~2 % of Express
  // throughput when every name ran it).
  const pairs = new Uint8Array(128 * 128);
  const singles = new Uint8Array(128);
  for (const pattern of patterns) {
    const name = pattern.toLowerCase().replace(/\*$/, '');
    const firsts = forms(name.charCodeAt(0));
    if (name.length < 2) {
      for (const c of firsts) singles[c] = 1;
      continue;
    }
    for (const c of firsts) for (const d of forms(name.charCodeAt(1))) pairs[c * 128 + d] = 1;
  }
  return (name) => {
    const c = name.charCodeAt(0);
    const d = name.charCodeAt(1);
    if (c >= 128) return false;
    if (singles[c] !== 1 && !(d < 128 && pairs[c * 128 + d] === 1)) return false;
    return re.test(name);
  };
}

/** The character codes a header name character matches: both cases, and `-` with `_`. */
function forms(c: number): number[] {
  if (c === 0x2d || c === 0x5f) return [0x2d, 0x5f];
  if (c >= 0x61 && c <= 0x7a) return [c, c - 0x20];
  return [c];
}

const KEEP_ALIVE_OR_CLOSE = /^(?:keep-alive|close)$/i;
const OWN = { enumerable: true, writable: true, configurable: true } as const;

function connectionTokens(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) connectionTokens(item, into);
  } else if (typeof value === 'string') {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') into.add(name);
    }
  }
}

function safeValue(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return isSafeHeaderValue(value) ? value : undefined;
  if (typeof value === 'number') return String(value);
  if (!Array.isArray(value)) return undefined;
  const kept: string[] = [];
  for (const item of value) {
    const text = typeof item === 'number' ? String(item) : item;
    if (typeof text === 'string' && isSafeHeaderValue(text)) kept.push(text);
  }
  return kept.length === 0 ? undefined : kept;
}

/**
 * Compiles the strip-list once (into one case-insensitive test) so per-request filtering is cheap.
 * A name is stripped when it matches a pattern with `-` and `_` taken as the same character: its
 * underscore twin (`x_user_id` for `x-user-id`) reaches an application behind a CGI-style server (WSGI,
 * Rack, PHP, nginx with `underscores_in_headers on`) under the same name, so it is as much a forgery.
 *
 * @param options - `strip` defaults to `[]`, `stripDefaults` to true
 * @throws ConfigError listing every problem with its path (`headers.strip[1]: invalid header name
 *   pattern 'x a' …`), for a pattern that is not a header name with an optional trailing `*`
 * @example
 *   const hygiene = createHeaderHygiene({ strip: ['x-internal-*'] });
 *   hygiene.stripInbound(req.headers);
 *   const upstreamHeaders = hygiene.forward(req.headers, 'request');
 */
export function createHeaderHygiene(options: Partial<HeaderHygieneOptions> = {}): HeaderHygiene {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError([{ path: 'headers', message: 'expected an object ({ strip?, stripDefaults? })' }]);
  const problems = new Problems('headers');
  unknownKeys(problems, '', options, ['strip', 'stripDefaults']);
  const extra = options.strip ?? [];
  if (!Array.isArray(extra)) problems.add('strip', 'expected an array of header names');
  else {
    extra.forEach((pattern: unknown, i) => {
      const problem = patternProblem(pattern);
      if (problem !== undefined) problems.add(`strip[${i}]`, problem);
    });
  }
  if (options.stripDefaults !== undefined && typeof options.stripDefaults !== 'boolean')
    problems.add('stripDefaults', 'expected true or false');
  problems.throwIfAny();
  const patterns = (options.stripDefaults ?? true) ? [...DEFAULT_STRIPPED_HEADERS, ...extra] : [...extra];
  const isStripped = compileStripList(patterns);

  return {
    isStripped,

    stripInbound(headers) {
      let removed = 0;
      for (const name in headers) {
        if (isStripped(name)) {
          delete headers[name];
          removed++;
        }
      }
      return removed;
    },

    // One pass over the headers into a plain object (measured ~40 % faster than two passes into a
    // prototype-less one: bench/RESULTS.md, issue 7); `__proto__` is defined as an own property.
    forward(headers, direction, omit) {
      let named: Set<string> | undefined;
      const out: Record<string, string | string[]> = {};
      const request = direction === 'request';
      for (const name in headers) {
        if (!Object.hasOwn(headers, name)) continue;
        const lower = name.toLowerCase();
        if (HOP_BY_HOP.has(lower)) {
          const value = headers[name];
          // The common values name only hop-by-hop headers, which are dropped anyway: no set to build
          // (this runs on every proxied response; splitting cost about 1 % of one, bench/RESULTS.md).
          if (lower === 'connection' && !(typeof value === 'string' && KEEP_ALIVE_OR_CLOSE.test(value))) {
            named ??= new Set();
            connectionTokens(value, named);
          }
          continue;
        }
        if (omit?.has(lower) || (request && isStripped(lower)) || !isHeaderName(name)) continue;
        const value = safeValue(headers[name]);
        if (value === undefined) continue;
        if (!Object.hasOwn(out, lower)) {
          if (lower === '__proto__') Object.defineProperty(out, lower, { value, ...OWN });
          else out[lower] = value;
        } else {
          // 'X-A' and 'x-a' both set on an outgoing object: keep every line rather than pick one.
          out[lower] = [out[lower]!, value].flat();
        }
      }
      // Headers the Connection header names are hop-by-hop for this message (RFC 9110 §7.6.1).
      if (named !== undefined) {
        for (const name of named) if (Object.hasOwn(out, name)) delete out[name];
      }
      return out;
    },
  };
}
