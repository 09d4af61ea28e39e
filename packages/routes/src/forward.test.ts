import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Exchange, Gateway, type GatewayConfig } from '@gatehousejs/core';
import { describe, expect, it } from 'vitest';
import {
  type ResponseContext,
  requestHeaders,
  rewriteLocation,
  rewriteSetCookie,
  upstreamPath,
} from './forward.js';
import { type CompiledRoute, compileTable, type HostPattern, parseHostPattern } from './table.js';

const plainGateway = new Gateway({});

interface RequestOptions {
  url?: string;
  method?: string;
  /** Header lines as a client sends them, in order; repeated names allowed. */
  headers?: readonly (readonly [string, string])[];
  /** The socket's remote address. */
  peer?: string;
  gateway?: Gateway;
}

/**
 * A real Exchange over real Node request/response objects, as a server would build them for these
 * bytes. Only the socket's remote address is set by hand, so that any peer (IPv6, a private proxy)
 * can be tried without sending traffic anywhere.
 */
function exchangeFor(options: RequestOptions = {}): Exchange {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', {
    value: options.peer ?? '203.0.113.7',
    configurable: true,
  });
  const req = new IncomingMessage(socket);
  req.method = options.method ?? 'GET';
  req.url = options.url ?? '/';
  const lines = options.headers ?? [['host', 'api.example.com']];
  req.rawHeaders = lines.flat();
  // As Node's parser joins them: repeated fields with ', ', set-cookie as a list.
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of lines) {
    const key = name.toLowerCase();
    const seen = headers[key];
    if (key === 'set-cookie') headers[key] = [...((seen as string[] | undefined) ?? []), value];
    else headers[key] = seen === undefined ? value : `${seen as string}, ${value}`;
  }
  req.headers = headers;
  return new Exchange(req, new ServerResponse(req), options.gateway ?? plainGateway);
}

const services = new Set(['orders']);

/** One compiled route (a proxied one unless the spec says otherwise). */
function routeOf(spec: Record<string, unknown> = {}, config: GatewayConfig = {}): CompiledRoute {
  const gateway = new Gateway(config);
  const [route] = compileTable([{ path: '/*', service: 'orders', ...spec }], {
    services,
    pathPolicy: gateway.pathPolicy,
  });
  if (route === undefined) throw new Error('no route');
  return route;
}

const plain = routeOf();
const v2 = routeOf({ rewrite: { from: '/orders', to: '/api/v2/orders' } });

describe('upstreamPath', () => {
  const path = (url: string, route = plain, gateway = plainGateway, keepPercent = false) =>
    upstreamPath(exchangeFor({ url, gateway }), route, keepPercent);

  it('sends the normalized path', () => {
    expect(path('/orders/42')).toBe('/orders/42');
    expect(path('/')).toBe('/');
    expect(path('/orders/./a/../42/')).toBe('/orders/42');
    expect(path('/orders//42')).toBe('/orders/42');
    expect(path("/a-b_c.d~e!$&'()*+,=:@")).toBe("/a-b_c.d~e!$&'()*+,=:@");
  });

  it('passes the query on exactly as received', () => {
    expect(path('/orders/42?expand=lines&q=a%20b&x=%2F')).toBe('/orders/42?expand=lines&q=a%20b&x=%2F');
    expect(path('/orders/a%20b?')).toBe('/orders/a%20b?');
    expect(path('/orders?a=1?b=2')).toBe('/orders?a=1?b=2');
  });

  it('escapes again what the normalized path decoded', () => {
    expect(path('/a%20b')).toBe('/a%20b');
    expect(path('/caf%C3%A9')).toBe('/caf%C3%A9');
    expect(path('/%F0%9F%98%80/x')).toBe('/%F0%9F%98%80/x');
    expect(path('/%22%3C%3E%5E%60%7B%7C%7D')).toBe('/%22%3C%3E%5E%60%7B%7C%7D');
    expect(path('/%7e%41')).toBe('/~A');
  });

  it('escapes a literal % when the policy decoded it', () => {
    expect(path('/100%25')).toBe('/100%25');
    expect(path('/a%2520b')).toBe('/a%2520b');
  });

  it('escapes ? and # of the decoded path, so neither can start a query or a fragment', () => {
    expect(path('/a%3Fadmin=1')).toBe('/a%3Fadmin=1');
    expect(path('/a%3Fx?real=1')).toBe('/a%3Fx?real=1');
    expect(path('/a%23frag')).toBe('/a%23frag');
  });

  // Under the default policy a literal ';' never reaches the normalized path (parameters are stripped),
  // so a ';' there was data (%3B). Sent raw, it starts a path parameter upstream: Tomcat, Jetty and
  // Spring serve '/admin' for '/admin;x', a path the gateway's rules never saw.
  it('escapes a decoded ; so that it cannot start path parameters upstream', () => {
    expect(path('/admin%3Bx')).toBe('/admin%3Bx');
  });

  it('keeps the escapes the path policy kept', () => {
    const keep = new Gateway({ paths: { encodedSlashes: 'keep' } });
    const kept = (url: string) => path(url, plain, keep, true);
    expect(kept('/a%2Fb')).toBe('/a%2Fb');
    expect(kept('/a%2fb')).toBe('/a%2Fb');
    expect(kept('/a%5Cb')).toBe('/a%5Cb');
    expect(kept('/100%25')).toBe('/100%25');
    expect(kept('/a%20b%2F%C3%A9')).toBe('/a%20b%2F%C3%A9');
    // Without keepPercent the same kept escapes would be escaped twice.
    expect(path('/a%2Fb', plain, keep, false)).toBe('/a%252Fb');
  });

  it('rewrites the prefix', () => {
    expect(path('/orders/42?x=1', v2)).toBe('/api/v2/orders/42?x=1');
    expect(path('/orders', v2)).toBe('/api/v2/orders');
    expect(path('/ORDERS/42', v2)).toBe('/api/v2/orders/42');
    expect(path('/orders/a%20b', v2)).toBe('/api/v2/orders/a%20b');
    // Not below the prefix: left alone.
    expect(path('/ordersx/1', v2)).toBe('/ordersx/1');
    expect(path('/other', v2)).toBe('/other');
  });

  it("rewrites to '/'", () => {
    const toRoot = routeOf({ rewrite: { from: '/orders', to: '/' } });
    expect(path('/orders/42?x=1', toRoot)).toBe('/42?x=1');
    expect(path('/orders', toRoot)).toBe('/');
    expect(path('/other', toRoot)).toBe('/other');
  });

  it("rewrites from '/'", () => {
    const fromRoot = routeOf({ rewrite: { from: '/', to: '/api' } });
    expect(path('/x/y?z=1', fromRoot)).toBe('/api/x/y?z=1');
    const identity = routeOf({ rewrite: { from: '/', to: '/' } });
    expect(path('/x/y', identity)).toBe('/x/y');
    expect(path('/', identity)).toBe('/');
  });

  // As '/orders' with { from: '/orders', to: '/api' } becomes '/api': the prefix itself maps to the
  // prefix itself, not to '/api/'.
  it("maps the root itself to the target prefix when rewriting from '/'", () => {
    const fromRoot = routeOf({ rewrite: { from: '/', to: '/api' } });
    expect(path('/', fromRoot)).toBe('/api');
    expect(path('/?page=2', fromRoot)).toBe('/api?page=2');
  });

  it('starts with a single / whatever the request target', () => {
    for (const url of [
      'http://evil.example/x',
      '*',
      '//evil.example/x',
      '/\\evil.example/x',
      '/%2F%2Fevil.example',
    ]) {
      const sent = path(url);
      expect(sent, url).toMatch(/^\/(?!\/)/);
    }
  });

  // With `mergeSlashes: false` the normalized path keeps '//'; sent as is, '//evil.example/x' is a
  // scheme-relative reference naming another host.
  it('starts with a single / even when the path policy keeps empty segments', () => {
    const unmerged = new Gateway({ paths: { mergeSlashes: false } });
    expect(path('//evil.example/x', plain, unmerged)).toMatch(/^\/(?!\/)/);
    const toRoot = routeOf({ rewrite: { from: '/orders', to: '/' } }, { paths: { mergeSlashes: false } });
    expect(path('/orders//evil.example/x', toRoot, unmerged)).toMatch(/^\/(?!\/)/);
  });
});

describe('requestHeaders', () => {
  it('removes hop-by-hop and Connection-named headers, keeps the rest', () => {
    const exchange = exchangeFor({
      headers: [
        ['Host', 'api.example.com'],
        ['Connection', 'keep-alive, X-Secret'],
        ['X-Secret', 'token'],
        ['Keep-Alive', 'timeout=5'],
        ['TE', 'trailers'],
        ['Trailer', 'x-checksum'],
        ['Upgrade', 'h2c'],
        ['Proxy-Authorization', 'Basic eDp5'],
        ['Proxy-Connection', 'keep-alive'],
        ['Accept', 'application/json'],
        ['Authorization', 'Bearer abc'],
        ['Cookie', 'a=1'],
        ['X-Custom', 'one'],
        ['X-Custom', 'two'],
      ],
    });
    expect(requestHeaders(exchange, plain)).toEqual({
      accept: 'application/json',
      authorization: 'Bearer abc',
      cookie: 'a=1',
      'x-custom': 'one, two',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'api.example.com',
      forwarded: 'for=203.0.113.7;proto=http;host=api.example.com',
    });
  });

  // undici refuses it (NotSupportedError 'expect header not supported'), so a forwarded
  // `Expect: 100-continue` (curl sends it for bodies over 1 KiB) fails the call. Node already answered
  // the 100-continue to the client; the header must not travel on.
  it('does not forward Expect', () => {
    const exchange = exchangeFor({
      method: 'POST',
      headers: [
        ['Host', 'api.example.com'],
        ['Expect', '100-continue'],
        ['Content-Length', '2048'],
      ],
    });
    const headers = requestHeaders(exchange, plain);
    expect(headers['expect']).toBeUndefined();
    expect(headers['content-length']).toBe('2048');
  });

  it('replaces forwarding headers an untrusted client sent', () => {
    const exchange = exchangeFor({
      headers: [
        ['Host', 'api.example.com'],
        ['X-Forwarded-For', '6.6.6.6'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'evil.example'],
        ['X-Real-IP', '6.6.6.6'],
        ['Forwarded', 'for=6.6.6.6;host=evil.example;proto=https'],
      ],
    });
    expect(requestHeaders(exchange, plain)).toEqual({
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'api.example.com',
      forwarded: 'for=203.0.113.7;proto=http;host=api.example.com',
    });
  });

  it('quotes an IPv6 peer in Forwarded and folds IPv4-mapped addresses', () => {
    const v6 = requestHeaders(exchangeFor({ peer: '2001:db8::7' }), plain);
    expect(v6['x-forwarded-for']).toBe('2001:db8::7');
    expect(v6['forwarded']).toBe('for="[2001:db8::7]";proto=http;host=api.example.com');
    const mapped = requestHeaders(exchangeFor({ peer: '::ffff:198.51.100.4' }), plain);
    expect(mapped['x-forwarded-for']).toBe('198.51.100.4');
    expect(mapped['forwarded']).toBe('for=198.51.100.4;proto=http;host=api.example.com');
  });

  it('quotes a host with a port in Forwarded', () => {
    const headers = requestHeaders(exchangeFor({ headers: [['Host', 'api.example.com:8443']] }), plain);
    expect(headers['x-forwarded-host']).toBe('api.example.com:8443');
    expect(headers['forwarded']).toBe('for=203.0.113.7;proto=http;host="api.example.com:8443"');
  });

  it('leaves the host out when the request has none', () => {
    const headers = requestHeaders(exchangeFor({ headers: [] }), plain);
    expect(headers['x-forwarded-host']).toBeUndefined();
    expect(headers['host']).toBeUndefined();
    expect(headers['forwarded']).toBe('for=203.0.113.7;proto=http');
  });

  it('keeps the chain of trusted proxies and drops what the client wrote', () => {
    const trusting = new Gateway({ clientIp: { trustedProxies: ['loopback', '10.0.0.0/8'] } });
    const exchange = exchangeFor({
      gateway: trusting,
      peer: '127.0.0.1',
      headers: [
        ['Host', 'internal-lb'],
        ['X-Forwarded-For', '6.6.6.6, 2001:db8::9, 10.0.0.2'],
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'shop.example.com'],
      ],
    });
    expect(exchange.clientIp).toBe('2001:db8::9');
    const headers = requestHeaders(exchange, plain);
    expect(headers['x-forwarded-for']).toBe('2001:db8::9, 10.0.0.2, 127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('shop.example.com');
    expect(headers['forwarded']).toBe(
      'for="[2001:db8::9]", for=10.0.0.2, for=127.0.0.1;proto=https;host=shop.example.com',
    );
  });

  it('adds the identity a capability set after hygiene stripped the client’s copy', () => {
    const forged = [
      ['Host', 'api.example.com'],
      ['X-Gatehouse-Identity', 'forged'],
      ['X-User-Id', 'admin'],
    ] as const;
    const anonymous = requestHeaders(exchangeFor({ headers: forged }), plain);
    expect(anonymous['x-gatehouse-identity']).toBeUndefined();
    expect(anonymous['x-user-id']).toBeUndefined();

    const exchange = exchangeFor({ headers: forged });
    exchange.state.forwardHeaders = { 'x-gatehouse-identity': 'signed-token', 'x-user-id': 'u-1' };
    const headers = requestHeaders(exchange, plain);
    expect(headers['x-gatehouse-identity']).toBe('signed-token');
    expect(headers['x-user-id']).toBe('u-1');
  });

  it('applies the route’s removals and settings last', () => {
    const route = routeOf({
      requestHeaders: { set: { 'X-Via': 'gatehouse', Accept: 'text/plain' }, remove: ['Cookie', 'X-Absent'] },
    });
    const exchange = exchangeFor({
      headers: [
        ['Host', 'api.example.com'],
        ['Accept', 'application/json'],
        ['Cookie', 'a=1'],
      ],
    });
    expect(requestHeaders(exchange, route)).toEqual({
      accept: 'text/plain',
      'x-via': 'gatehouse',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'api.example.com',
      forwarded: 'for=203.0.113.7;proto=http;host=api.example.com',
    });
  });

  it('leaves the request’s own headers untouched', () => {
    const exchange = exchangeFor({
      headers: [
        ['Host', 'api.example.com'],
        ['Connection', 'x-secret'],
        ['X-Secret', '1'],
      ],
    });
    const before = { ...exchange.req.headers };
    requestHeaders(exchange, routeOf({ requestHeaders: { remove: ['x-secret'], set: { 'x-a': 'b' } } }));
    expect(exchange.req.headers).toEqual(before);
  });
});

const hostPattern = (text: string): HostPattern => {
  const parsed = parseHostPattern(text);
  if (parsed === undefined) throw new Error(`'${text}' did not parse`);
  return parsed;
};

/** As the controller builds it: the endpoint's host and hostname, then the route's internalHosts. */
const internal: HostPattern[] = ['orders.internal:8080', 'orders.internal', '*.svc.cluster.local'].map(
  hostPattern,
);
const publicContext: ResponseContext = {
  publicOrigin: 'https://api.example.com',
  publicHostname: 'api.example.com',
  internal,
};
const noHost: ResponseContext = { publicOrigin: undefined, publicHostname: undefined, internal };

describe('rewriteLocation', () => {
  it('maps relative paths back through the rewrite', () => {
    expect(rewriteLocation('/api/v2/orders/1', v2, publicContext)).toBe('/orders/1');
    expect(rewriteLocation('/api/v2/orders', v2, publicContext)).toBe('/orders');
    expect(rewriteLocation('/api/v2/orders/1?x=1#f', v2, publicContext)).toBe('/orders/1?x=1#f');
    expect(rewriteLocation('/api/v2/ordersx', v2, publicContext)).toBe('/api/v2/ordersx');
    expect(rewriteLocation('/elsewhere', v2, publicContext)).toBe('/elsewhere');
    expect(rewriteLocation('/api/v2/orders/1', plain, publicContext)).toBe('/api/v2/orders/1');
  });

  // The query or fragment is not part of the path the prefix is compared with.
  it('maps the prefix itself back when a query or fragment follows it', () => {
    expect(rewriteLocation('/api/v2/orders?page=2', v2, publicContext)).toBe('/orders?page=2');
    expect(rewriteLocation('/api/v2/orders#top', v2, publicContext)).toBe('/orders#top');
  });

  it("maps back a rewrite from '/'", () => {
    const fromRoot = routeOf({ rewrite: { from: '/', to: '/api' } });
    expect(rewriteLocation('/api/x', fromRoot, publicContext)).toBe('/x');
    expect(rewriteLocation('/api', fromRoot, publicContext)).toBe('/');
    expect(rewriteLocation('/other', fromRoot, publicContext)).toBe('/other');
  });

  it("maps back a rewrite to '/'", () => {
    const toRoot = routeOf({ rewrite: { from: '/orders', to: '/' } });
    expect(rewriteLocation('/42', toRoot, publicContext)).toBe('/orders/42');
  });

  // upstreamPath sends '/orders' as '/': the way back must give '/orders', not '/orders/'.
  it("maps the root back to the prefix itself for a rewrite to '/'", () => {
    const toRoot = routeOf({ rewrite: { from: '/orders', to: '/' } });
    expect(rewriteLocation('/', toRoot, publicContext)).toBe('/orders');
  });

  it('rewrites absolute URLs naming the service to the public origin', () => {
    expect(rewriteLocation('http://orders.internal:8080/api/v2/orders/1?x=1#f', v2, publicContext)).toBe(
      'https://api.example.com/orders/1?x=1#f',
    );
    expect(rewriteLocation('https://ORDERS.Internal/api/v2/orders', v2, publicContext)).toBe(
      'https://api.example.com/orders',
    );
    expect(rewriteLocation('http://a.b.svc.cluster.local/api/v2/orders/9', v2, publicContext)).toBe(
      'https://api.example.com/orders/9',
    );
    expect(rewriteLocation('http://orders.internal:8080/unrelated', v2, publicContext)).toBe(
      'https://api.example.com/unrelated',
    );
  });

  it('makes them relative when the public host is unknown', () => {
    expect(rewriteLocation('http://orders.internal:8080/api/v2/orders/1?x=1', v2, noHost)).toBe(
      '/orders/1?x=1',
    );
  });

  it('handles scheme-relative references', () => {
    expect(rewriteLocation('//orders.internal:8080/api/v2/orders/1', v2, publicContext)).toBe(
      'https://api.example.com/orders/1',
    );
    expect(rewriteLocation('//orders.internal/api/v2/orders/1', v2, noHost)).toBe('/orders/1');
    expect(rewriteLocation('//example.org/api/v2/orders/1', v2, publicContext)).toBe(
      '//example.org/api/v2/orders/1',
    );
  });

  it('leaves external hosts, other schemes and unparsable values alone', () => {
    for (const value of [
      'https://example.org/api/v2/orders/1',
      'http://orders.internal.evil.net/api/v2/orders/1',
      'http://evilorders.internal:8080/x',
      'http://svc.cluster.local/x',
      'http://orders.internals/x',
      'ftp://orders.internal:8080/api/v2/orders/1',
      'mailto:ops@orders.internal',
      'urn:isbn:0451450523',
      'next/page',
      '?page=2',
      '',
    ]) {
      expect(rewriteLocation(value, v2, publicContext), value).toBe(value);
    }
  });

  // URL drops a default port from `host`; the entry names that port, and so does the Location.
  it('recognises an internal host written with its default port', () => {
    const context: ResponseContext = { ...publicContext, internal: [hostPattern('legacy.internal:80')] };
    expect(rewriteLocation('http://legacy.internal:80/api/v2/orders/1', v2, context)).toBe(
      'https://api.example.com/orders/1',
    );
  });
});

describe('rewriteSetCookie', () => {
  it('gives the public host to a Domain naming the service and maps the Path back', () => {
    expect(
      rewriteSetCookie('sid=1; Domain=orders.internal; Path=/api/v2/orders; HttpOnly', v2, publicContext),
    ).toBe('sid=1; Domain=api.example.com; Path=/orders; HttpOnly');
    expect(
      rewriteSetCookie('sid=1; domain=.Orders.Internal; path=/api/v2/orders/cart', v2, publicContext),
    ).toBe('sid=1; Domain=api.example.com; Path=/orders/cart');
    expect(rewriteSetCookie('sid=1; Domain=x.svc.cluster.local; Secure', v2, publicContext)).toBe(
      'sid=1; Domain=api.example.com; Secure',
    );
  });

  it('removes the Domain when the public host is unknown', () => {
    expect(rewriteSetCookie('sid=1; Domain=orders.internal; Path=/api/v2/orders; HttpOnly', v2, noHost)).toBe(
      'sid=1; Path=/orders; HttpOnly',
    );
  });

  it('returns other cookies identical', () => {
    for (const cookie of [
      'sid=1',
      'sid=1; Path=/elsewhere; Secure',
      'sid=1;Domain=example.org;Path=/x',
      'sid=1; Domain=orders.internal.evil.net',
      'sid=1; Domain=evilorders.internal',
      'sid=a=b; Max-Age=60',
      'Domain=orders.internal',
    ]) {
      expect(rewriteSetCookie(cookie, v2, publicContext), cookie).toBe(cookie);
    }
    // Without a rewrite the Path is the service's and the public one alike.
    expect(rewriteSetCookie('sid=1; Path=/api/v2/orders', plain, publicContext)).toBe(
      'sid=1; Path=/api/v2/orders',
    );
  });

  it('keeps the value even when it contains =', () => {
    expect(rewriteSetCookie('sid=a=b; Path=/api/v2/orders', v2, publicContext)).toBe('sid=a=b; Path=/orders');
  });
});
