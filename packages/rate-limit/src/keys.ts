// What a request is counted against: the client address (IPv6 grouped by prefix), the principal, an
// API key, the route, a header, a function, or several of them together.
import { createHash } from 'node:crypto';
import type { Exchange } from '@gatehousejs/core';

/**
 * One part of a rate-limit key:
 * - `'ip'`: the client address through core's trusted-proxy resolution; IPv6 grouped by
 *   `ipv6Prefix` (a /64 is one subscriber), IPv4-mapped IPv6 folded to IPv4;
 * - `'principal'`: the authenticated principal's id, or the client address for anonymous requests;
 * - `'api-key'`: the API key header (case and surrounding whitespace folded, then hashed: a client
 *   cannot multiply its budget with `KEY`, `key ` and `Key`), or the client address without one;
 * - `'route'`: the route the limit belongs to (the matched rule, else the framework's route
 *   template, else `'*'`), never the raw path;
 * - `{ header }`: a request header's value (e.g. a tenant id), or the client address without one;
 * - a function of the exchange returning a string.
 */
export type KeyPart = 'ip' | 'principal' | 'api-key' | 'route' | { readonly header: string } | KeyFunction;

/** A custom key; return `undefined` to fall back to the client address. */
export type KeyFunction = (exchange: Exchange) => string | undefined;

/** A key is one part or several (composite: all must match for two requests to share a bucket). */
export type KeySpec = KeyPart | readonly KeyPart[];

/**
 * A compiled key, computed once per request. `rule` is the path of the matched `routes` rule, if
 * one matched.
 */
export type KeyOf = (exchange: Exchange, rule: string | undefined) => string;

interface PrincipalLike {
  readonly id?: unknown;
  readonly tier?: unknown;
}

/** The principal `auth()` put on the exchange, if any (read structurally: no dependency on auth). */
export function principalOf(exchange: Exchange): PrincipalLike | undefined {
  return (exchange.state as { principal?: PrincipalLike }).principal;
}

// Keys from request data are bounded: a 10 kB header must not become a 10 kB Redis key.
const MAX_RAW_KEY = 128;
const digest = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 22);
const bounded = (text: string): string => (text.length > MAX_RAW_KEY ? `#${digest(text)}` : text);

/**
 * The client address as a rate-limit key: IPv4 as is, IPv6 masked to `prefix` bits
 * (`2001:db8:1:2::/64`), `'unknown'` when the peer is gone.
 */
export function ipKey(address: string, prefix: number): string {
  if (address === '') return 'unknown';
  if (!address.includes(':') || prefix >= 128) return address;
  const groups = expandIPv6(address);
  if (groups === undefined) return address;
  const out: string[] = [];
  let bits = prefix;
  for (const group of groups) {
    if (bits <= 0) break;
    out.push((bits >= 16 ? group : group & (0xffff << (16 - bits)) & 0xffff).toString(16));
    bits -= 16;
  }
  return `${out.join(':')}::/${prefix}`;
}

/** The eight 16-bit groups of an IPv6 address (already validated by core). */
function expandIPv6(address: string): number[] | undefined {
  const [head, tail] = address.split('::', 2) as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::1.2.3.4) takes two groups.
  const last = (tail === undefined ? left : right).at(-1);
  if (last?.includes('.')) {
    const octets = last.split('.').map(Number);
    const list = tail === undefined ? left : right;
    list.splice(
      -1,
      1,
      ((octets[0]! << 8) | octets[1]!).toString(16),
      ((octets[2]! << 8) | octets[3]!).toString(16),
    );
  }
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
  return groups.some((g) => Number.isNaN(g)) ? undefined : groups;
}

/** An API key folded for counting: trimmed, lower-cased, hashed (never stored in clear). */
export function apiKeyKey(value: string): string | undefined {
  const folded = value.trim().toLowerCase();
  return folded === '' ? undefined : `k:${digest(folded)}`;
}

const firstHeader = (exchange: Exchange, name: string): string | undefined => {
  const value = exchange.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Compiles a key spec once; the spec was checked by `keySpecSchema` (options.ts). */
export function compileKey(spec: KeySpec, options: { ipv6Prefix: number; apiKeyHeader: string }): KeyOf {
  const parts: readonly KeyPart[] = Array.isArray(spec) ? spec : [spec as KeyPart];
  const compiled = parts.map((part) => compilePart(part, options));
  if (compiled.length === 1) return compiled[0]!;
  // Length-prefixed parts: no separator a header value could forge ('a|b' + 'c' vs 'a' + 'b|c').
  return (exchange, rule) => {
    let key = '';
    for (const part of compiled) {
      const value = part(exchange, rule);
      key += `${value.length}:${value}`;
    }
    return key;
  };
}

function compilePart(
  part: KeyPart,
  { ipv6Prefix, apiKeyHeader }: { ipv6Prefix: number; apiKeyHeader: string },
): KeyOf {
  const ip = (exchange: Exchange): string => ipKey(exchange.clientIp, ipv6Prefix);
  if (typeof part === 'function') {
    return (exchange) => {
      const value = part(exchange);
      return typeof value === 'string' && value !== '' ? `f:${bounded(value)}` : ip(exchange);
    };
  }
  switch (part) {
    case 'ip':
      return ip;
    case 'principal':
      return (exchange) => {
        const id = principalOf(exchange)?.id;
        return typeof id === 'string' && id !== '' ? `p:${bounded(id)}` : ip(exchange);
      };
    case 'api-key':
      return (exchange) => {
        const value = firstHeader(exchange, apiKeyHeader);
        return (value === undefined ? undefined : apiKeyKey(value)) ?? ip(exchange);
      };
    case 'route':
      return (exchange, rule) => `r:${rule ?? exchange.matchedRoute ?? '*'}`;
  }
  const name = part.header.toLowerCase();
  return (exchange) => {
    const value = firstHeader(exchange, name)?.trim();
    return value === undefined || value === '' ? ip(exchange) : `h:${bounded(value)}`;
  };
}
