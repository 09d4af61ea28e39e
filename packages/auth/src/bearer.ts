// Finds an OAuth2 bearer token in a request (RFC 6750 §2.1 header, optionally §2.3 query), shared by
// every method that accepts bearer tokens (JWT, introspection). The scheme is `Bearer` unless the
// method names others (`Token`, as RealWorld/Conduit clients send).
import { type Exchange, isHeaderName } from '@gatehousejs/core';
import { AuthConflict, AuthInvalid, refuse } from './errors.js';

/** Where {@link readBearer} may look for a token besides the `Authorization` header. */
export interface BearerOptions {
  /**
   * Name of a query parameter that may carry the token (RFC 6750 §2.3), e.g. `'access_token'`; `false`
   * or absent to read the header only. Off by default: tokens in URLs end up in logs and `Referer`s.
   *
   * @default false
   */
  query?: string | false;
  /**
   * The `Authorization` scheme(s) that carry the token, compared case-insensitively (RFC 9110 §11.1):
   * `'Token'` for `Authorization: Token <jwt>`, or a list to accept several during a migration
   * (`['Bearer', 'Token']`). A header with another scheme is not this method's credential.
   *
   * @default 'Bearer'
   */
  scheme?: string | readonly string[];
}

// "bearer" followed by whitespace or the end: the scheme is ours, whatever follows. A tab after it is
// still our scheme (and then malformed), not some other scheme named "Bearer\t…".
const BEARER_SCHEME = /^bearer(?=[ \t]|$)/i;
// Patterns for configured schemes, compiled once per options object (a method passes the same one on
// every request).
const compiled = new WeakMap<BearerOptions, RegExp>();

/**
 * The `Authorization` schemes as a list, each checked to be an auth-scheme token (RFC 9110 §11.1).
 *
 * @throws TypeError for an empty list or a scheme that is not a token.
 */
export function bearerSchemes(scheme: BearerOptions['scheme']): readonly string[] {
  if (scheme === undefined) return ['Bearer'];
  const list = typeof scheme === 'string' ? [scheme] : scheme;
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError('scheme: expected a scheme name or a non-empty list of them');
  for (const name of list) {
    if (typeof name !== 'string' || !isHeaderName(name))
      throw new TypeError(`scheme: ${JSON.stringify(name)} is not an auth-scheme (a token such as 'Bearer')`);
  }
  return list;
}

function schemePattern(options: BearerOptions): RegExp {
  if (options.scheme === undefined) return BEARER_SCHEME;
  let pattern = compiled.get(options);
  if (pattern === undefined) {
    // Token characters that mean something in a regular expression are escaped. Without the `u` flag,
    // `i` never folds a non-ASCII character onto an ASCII one (`ſ` is not `s`), as RFC 9110 wants.
    const names = bearerSchemes(options.scheme).map((s) => s.replace(/[.*+^$|`]/g, '\\$&'));
    pattern = new RegExp(`^(?:${names.join('|')})(?=[ \\t]|$)`, 'i');
    compiled.set(options, pattern);
  }
  return pattern;
}
// RFC 6750 §2.1 b64token (the token68 syntax of RFC 7235).
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

const malformed = () => refuse(new AuthInvalid('Malformed bearer token'), 'malformed');
const conflict = (detail: string) => refuse(new AuthConflict(detail), 'conflict');

/**
 * The bearer token a request carries, or `undefined` when it carries none (no `Authorization` header,
 * or one with another scheme than `options.scheme`: not this method's credential).
 *
 * @throws AuthConflict (`'conflict'`) when `Authorization` was sent more than once, or when the header
 *   and the query parameter (or the parameter twice) carry different tokens; identical copies count once.
 * @throws AuthInvalid (`'malformed'`) for `Bearer` with an empty token or one outside the token68 syntax.
 * @throws TypeError when `options.scheme` is not a scheme name or a list of them.
 *
 * @example
 *   const token = readBearer(exchange, { query: 'access_token' });
 */
export function readBearer(exchange: Exchange, options: BearerOptions = {}): string | undefined {
  const token = readBearerUnchecked(exchange, options);
  if (token !== undefined) checkBearerSyntax(token);
  return token;
}

/**
 * {@link readBearer} without the token68 syntax check, for a caller that first looks the exact token
 * up in a cache of tokens it verified (a cached token passed the check when it was verified) and calls
 * {@link checkBearerSyntax} on a miss. Conflicts and empty tokens are still refused here.
 */
export function readBearerUnchecked(exchange: Exchange, options: BearerOptions = {}): string | undefined {
  // rawHeader, not header(): Node keeps only the first Authorization in req.headers and silently
  // drops the rest, which would hide a smuggled second credential.
  const raw = exchange.rawHeader('authorization');
  if (raw !== undefined && typeof raw !== 'string') {
    throw conflict('The Authorization header was sent more than once');
  }
  const fromHeader = raw === undefined ? undefined : bearerCredential(raw, schemePattern(options));
  const param = options.query;
  if (param === undefined || param === false) return fromHeader;

  const values = exchange.query.getAll(param);
  if (values.length === 0) return fromHeader;
  const fromQuery = values[0]!;
  for (let i = 1; i < values.length; i++) {
    if (values[i] !== fromQuery) throw conflict('The bearer token query parameter was sent more than once');
  }
  if (fromHeader !== undefined && fromHeader !== fromQuery) {
    throw conflict('Bearer tokens in the Authorization header and the query differ');
  }
  if (fromQuery.length === 0) throw malformed();
  return fromQuery;
}

/** The token of an Authorization value with one of our schemes; undefined for another scheme. */
function bearerCredential(value: string, scheme: RegExp): string | undefined {
  if (!scheme.test(value)) return undefined;
  // test() rather than exec(): no match array per request. The scheme ends at the first space or tab.
  let end = 6;
  if (scheme !== BEARER_SCHEME) {
    end = 0;
    while (end < value.length && value.charCodeAt(end) !== 32 && value.charCodeAt(end) !== 9) end++;
  }
  let start = end;
  while (value.charCodeAt(start) === 32) start++;
  // No space at all means "Bearer" alone (Node trims trailing whitespace) or "Bearer\t…".
  if (start === end) throw malformed();
  const token = value.slice(start);
  if (token.length === 0) throw malformed();
  return token;
}

/** Throws AuthInvalid (`'malformed'`) unless the token has the token68 syntax of RFC 6750 §2.1. */
export function checkBearerSyntax(token: string): void {
  if (!TOKEN68.test(token)) throw malformed();
}
