// What crosses the hop, both ways: the upstream path (from the normalized path, never the raw target),
// request headers (hygiene, X-Forwarded-*, Forwarded, identity, route changes) and response headers
// (hygiene, Location and Set-Cookie rewritten to the public host, route changes).
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { type Exchange, isHeaderName } from '@gatehousejs/core';
import { type CompiledRoute, type HostPattern, hostMatches } from './table.js';

// RFC 3986 pchar, minus '%' (escaped separately) and ';' (escaped unless the path policy keeps
// `;params`): a ';' that was data here must not become path parameters that servers such as Tomcat
// and Spring strip (`/admin;x` served as `/admin`, a path authorization never saw).
const PCHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/") {
  PCHAR[c.charCodeAt(0)] = 1;
}
const SEMICOLON = 0x3b;

/** Applies a prefix rewrite: `/orders/1` with `{ from: '/orders', to: '/api' }` → `/api/1`. */
function swapPrefix(path: string, from: string, to: string): string {
  const rest = from === '/' ? path : path.slice(from.length);
  if (rest === '' || rest === '/') return to;
  return to === '/' ? rest : `${to}${rest}`;
}

/**
 * The path sent upstream: the normalized path (the one routing and authorization decided on), with the
 * route's prefix rewrite, escaped again for the wire. A `%` that the path policy kept (`%2F`, `%5C`,
 * `%25` with `encodedSlashes: 'keep'`) stays as it is; every other byte outside pchar is escaped.
 * The query is passed on as received. It always starts with a single `/`, so no request target (an
 * absolute URI, `//host@x`) can name another host.
 */
export function upstreamPath(exchange: Exchange, route: CompiledRoute, keepPercent: boolean): string {
  let path = exchange.path;
  const rewrite = route.rewrite;
  if (rewrite?.fromMatch(path)) path = swapPrefix(path, rewrite.from, rewrite.to);
  const keepParams = exchange.runtime.pathPolicy.pathParams === 'keep';
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 128 && (PCHAR[c] === 1 || (c === 0x25 && keepPercent) || (c === SEMICOLON && keepParams)))
      continue;
    out += path.slice(plainFrom, i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < path.length) {
      out += encodeURIComponent(path.slice(i, i + 2));
      i++;
    } else {
      out += c < 128 ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(path[i]!);
    }
    plainFrom = i + 1;
  }
  if (plainFrom < path.length) out += path.slice(plainFrom);
  // One leading '/', whatever the path policy merged: '//host/x' would read as an authority.
  if (out.charCodeAt(1) === 0x2f || !out.startsWith('/')) out = `/${out.replace(/^\/+/, '')}`;
  const url = exchange.req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? out : out + url.slice(q);
}

/** An address as a `Forwarded` node: IPv6 quoted in brackets (RFC 7239 §6). */
function forwardedNode(address: string): string {
  // Every hop is an IP address (the peer's, or a trusted entry checked with isIP): a colon means IPv6.
  return address.includes(':') ? `"[${address}]"` : address === '' ? 'unknown' : address;
}

function quoteIfNeeded(value: string): string {
  if (isHeaderName(value)) return value;
  // A host (`api.example.com:8443`, `[::1]:80`) never holds a quote or a backslash: no regex needed.
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}

const MAPPED_V4 = /^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/;

/** What the forwarded request never carries from the incoming one: it gets its own. */
const REPLACED: readonly string[] = [
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'forwarded',
  // The upstream is addressed by its own name; the public host travels in X-Forwarded-Host.
  'host',
  // Node already answered `Expect: 100-continue` to the client; this hop sends the body at once.
  'expect',
];

/**
 * The request headers a forwarded request never carries as received: those the forwarder writes
 * itself, and the migration override header (`override`, lower case) when there is one.
 */
export function forwardOmissions(override?: string): ReadonlySet<string> {
  return new Set(override === undefined ? REPLACED : [...REPLACED, override]);
}

/** What a controller adds to every forwarded request, decided once. */
export interface Forwarding {
  /** Request headers never forwarded as received ({@link forwardOmissions}). */
  readonly omit: ReadonlySet<string>;
  /**
   * The header (lower case) that carries the request's id to the service, so that the gateway's and
   * the service's logs join: the id `gw.requestId()` accepted or generated, never a malformed one the
   * client sent. Undefined: the id header passes as received.
   */
  readonly requestIdHeader: string | undefined;
}
const DEFAULT_FORWARDING: Forwarding = { omit: forwardOmissions(), requestIdHeader: 'x-request-id' };

/**
 * The forwarding chain: the client (as core's trusted-proxy rules found it), any trusted proxies the
 * request passed (the entries of the incoming X-Forwarded-For after the client's), then the peer.
 * Entries a client wrote itself (left of its own address) never travel on.
 */
function chain(exchange: Exchange): string[] {
  const address = exchange.peerAddress ?? '';
  const peer = address.startsWith('::ffff:') ? address.replace(MAPPED_V4, '') : address;
  const client = exchange.clientIp;
  if (client === peer || client === '') return [peer];
  const incoming = exchange.header('x-forwarded-for');
  const hops = incoming === undefined ? [] : incoming.split(',').map((s) => s.trim());
  const at = hops.lastIndexOf(client);
  const trusted = at === -1 ? [] : hops.slice(at + 1).filter((h) => isIP(h) !== 0);
  return [client, ...trusted, peer];
}

/**
 * The headers of the forwarded request: core's hygiene (hop-by-hop, `Connection`-named, stripped
 * identity headers and bad values all removed), fresh `X-Forwarded-For/Proto/Host` and `Forwarded`,
 * the identity headers a capability (auth) set for upstreams, the request id, no shadow marker (only
 * the controller's own copies carry one), then the route's own changes.
 */
export function requestHeaders(
  exchange: Exchange,
  route: CompiledRoute,
  forwarding: Forwarding = DEFAULT_FORWARDING,
): Record<string, string | string[]> {
  const headers = exchange.runtime.headerHygiene.forward(exchange.req.headers, 'request', forwarding.omit);
  const hops = chain(exchange);
  const proto = exchange.protocol;
  const host = exchange.host;
  const last = `;proto=${proto}${host === undefined ? '' : `;host=${quoteIfNeeded(host)}`}`;
  if (hops.length === 1) {
    headers['x-forwarded-for'] = hops[0]!;
    headers.forwarded = `for=${forwardedNode(hops[0]!)}${last}`;
  } else {
    headers['x-forwarded-for'] = hops.join(', ');
    headers.forwarded = `${hops.map((hop) => `for=${forwardedNode(hop)}`).join(', ')}${last}`;
  }
  headers['x-forwarded-proto'] = proto;
  if (host !== undefined) headers['x-forwarded-host'] = host;
  // Read without creating the state object: a gateway without auth forwarding has none.
  const identity = exchange.stateIfSet?.forwardHeaders;
  if (identity !== undefined) for (const name in identity) headers[name.toLowerCase()] = identity[name]!;
  if (forwarding.requestIdHeader !== undefined && exchange.requestId !== '')
    headers[forwarding.requestIdHeader] = exchange.requestId;
  // A client cannot make its own request look like a shadow copy to the service.
  if (route.shadow.marker !== undefined) delete headers[route.shadow.marker];
  for (const name of route.requestRemove) delete headers[name];
  for (const [name, value] of route.requestSet) headers[name] = value;
  return headers;
}

/** What the response rewrite needs to know about where the request came from and went. */
export interface ResponseContext {
  /** `https://api.example.com` as the client used it, when the host is known. */
  readonly publicOrigin: string | undefined;
  readonly publicHostname: string | undefined;
  /** Hosts that mean "the service itself": its endpoints and the route's `internalHosts`. */
  readonly internal: readonly HostPattern[];
}

const isInternal = (patterns: readonly HostPattern[], host: string) =>
  patterns.some((pattern) => hostMatches(pattern, host));

/** The inverse of the route's rewrite, for paths the service names (`/api/v2/orders/1` → `/orders/1`). */
function publicPath(route: CompiledRoute, path: string): string {
  const rewrite = route.rewrite;
  if (rewrite === undefined) return path;
  if (path === rewrite.to || path.startsWith(rewrite.to === '/' ? '/' : `${rewrite.to}/`)) {
    return swapPrefix(path, rewrite.to, rewrite.from);
  }
  return path;
}

/** {@link publicPath} on a path that may carry a query or fragment. */
function publicReference(route: CompiledRoute, reference: string): string {
  const end = reference.search(/[?#]/);
  return end === -1
    ? publicPath(route, reference)
    : publicPath(route, reference.slice(0, end)) + reference.slice(end);
}

/** `Location` naming the service rewritten to the public origin (relative when the host is unknown). */
export function rewriteLocation(value: string, route: CompiledRoute, context: ResponseContext): string {
  if (value.startsWith('/') && !value.startsWith('//')) return publicReference(route, value);
  let url: URL;
  try {
    url = new URL(value.startsWith('//') ? `http:${value}` : value);
  } catch {
    return value;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return value;
  // URL drops a default port: `internal:80` in the configuration must still match `http://internal:80/`.
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (!isInternal(context.internal, url.host) && !isInternal(context.internal, `${url.hostname}:${port}`))
    return value;
  const path = publicPath(route, url.pathname) + url.search + url.hash;
  return context.publicOrigin === undefined ? path : context.publicOrigin + path;
}

/** A `Set-Cookie` whose `Domain` names the service gets the public host; its `Path` is mapped back. */
export function rewriteSetCookie(value: string, route: CompiledRoute, context: ResponseContext): string {
  const parts = value.split(';');
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const attr = part.slice(eq + 1).trim();
    if (key === 'domain') {
      const domain = attr.replace(/^\./, '');
      if (
        isInternal(context.internal, domain) ||
        context.internal.some((p) => p.host === domain.toLowerCase())
      ) {
        // Without a known public host the cookie becomes host-only, which is always safe.
        parts[i] = context.publicHostname === undefined ? '' : ` Domain=${context.publicHostname}`;
        changed = true;
      }
    } else if (key === 'path' && route.rewrite !== undefined) {
      const mapped = publicPath(route, attr);
      if (mapped !== attr) {
        parts[i] = ` Path=${mapped}`;
        changed = true;
      }
    }
  }
  return changed ? parts.filter((part) => part !== '').join(';') : value;
}

/** The headers of the response sent to the client, from the service's. */
export function responseHeaders(
  upstream: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  exchange: Exchange,
  route: CompiledRoute,
  contextOf: () => ResponseContext,
): Record<string, string | string[]> {
  return shapeResponseHeaders(exchange.runtime.headerHygiene.forward(upstream, 'response'), route, contextOf);
}

/**
 * What {@link responseHeaders} does after response hygiene, on `headers` in place: `Location` and
 * `Set-Cookie` mapped back to the public host and path, the route's removals and additions. Called
 * directly for headers known to pass hygiene already (a response cache hit's, `CLEAN_HEADERS`).
 */
export function shapeResponseHeaders(
  headers: Record<string, string | string[]>,
  route: CompiledRoute,
  contextOf: () => ResponseContext,
): Record<string, string | string[]> {
  const location = headers.location;
  const cookies = headers['set-cookie'];
  if (location === undefined && cookies === undefined) {
    for (const name of route.responseRemove) delete headers[name];
    for (const [name, value] of route.responseSet) headers[name] = value;
    return headers;
  }
  const context = contextOf();
  if (typeof location === 'string') headers.location = rewriteLocation(location, route, context);
  if (cookies !== undefined) {
    headers['set-cookie'] = (Array.isArray(cookies) ? cookies : [cookies]).map((c) =>
      rewriteSetCookie(c, route, context),
    );
  }
  for (const name of route.responseRemove) delete headers[name];
  for (const [name, value] of route.responseSet) headers[name] = value;
  return headers;
}
