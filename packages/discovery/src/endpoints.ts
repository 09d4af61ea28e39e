// Endpoints from what people and sources write (URLs, objects, etcd JSON) — validated, defaulted and
// frozen — and the comparison that lets a resolver tell a real change from an unchanged refresh.
import { isIP } from 'node:net';
import { Problems, unknownKeys } from '@gatehousejs/core';
import type { Endpoint } from './endpoint.js';

/** An endpoint as written by hand or stored in a source: `host` and `port` required, the rest defaulted. */
export interface EndpointInput {
  /** Host name or IP address; IPv6 with or without brackets. */
  host: string;
  port: number;
  /** @default 'http:' (`'http'` and `'https'` are accepted too) */
  protocol?: 'http:' | 'https:' | 'http' | 'https';
  /** @default `host:port` (`[v6]:port` for IPv6) */
  id?: string;
  /** A positive number. @default 1 */
  weight?: number;
  /** A non-negative integer; lower is preferred. @default 0 */
  priority?: number;
  zone?: string;
  hostname?: string;
  /** Labels; numbers and booleans are turned into strings. */
  metadata?: Readonly<Record<string, string | number | boolean>>;
}

/** What `staticResolver`, `createRegistry().register` and `registerWithEtcd` accept: a URL or an object. */
export type EndpointSpec = string | EndpointInput;

const INPUT_KEYS = ['host', 'port', 'protocol', 'id', 'weight', 'priority', 'zone', 'hostname', 'metadata'];
// Letters, digits, `-`, `_` (SRV-style labels such as Kubernetes pod names) and dots; no leading dot
// or dash. Anything else (spaces, `/`, `@`, `?`) could smuggle a path or credentials into a URL the
// client builds from host and port.
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** `host:port`, with IPv6 in brackets so the port is unambiguous. */
export function endpointId(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A host name or IP address without brackets or a trailing dot, or undefined when it is not one. */
export function normalizeHost(value: string): string | undefined {
  let host = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(host) !== 0) return host;
  if (host.endsWith('.')) host = host.slice(0, -1);
  return HOST_NAME.test(host) && host.length <= 253 ? host.toLowerCase() : undefined;
}

/** `'http:'`/`'https:'` from either spelling; undefined for anything else. */
export function protocolOf(value: unknown): Endpoint['protocol'] | undefined {
  if (value === 'http:' || value === 'http') return 'http:';
  if (value === 'https:' || value === 'https') return 'https:';
  return undefined;
}

/**
 * Reads one endpoint, recording every problem under `path`; undefined when there was any.
 * `defaults.id` names the endpoint when the input does not (an etcd key); `ignoreUnknown` accepts
 * fields it does not know (values written by other tools).
 */
export function readEndpoint(
  input: unknown,
  problems: Problems,
  path: string,
  defaults: { id?: string; ignoreUnknown?: boolean } = {},
): Endpoint | undefined {
  if (typeof input === 'string') return readUrl(input, problems, path, defaults);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    problems.add(path, 'must be a URL string or an object with host and port');
    return undefined;
  }
  const before = problems.count;
  const value = input as Record<string, unknown>;
  // An etcd value may carry fields that newer writers added; only hand-written options must be exact.
  if (defaults.ignoreUnknown !== true) unknownKeys(problems, path, value, INPUT_KEYS);
  let host: string | undefined;
  if (typeof value.host !== 'string' || value.host === '') {
    problems.add(at(path, 'host'), value.host === undefined ? 'is required' : 'must be a non-empty string');
  } else {
    host = normalizeHost(value.host);
    if (host === undefined)
      problems.add(at(path, 'host'), `is not a host name or IP address: '${value.host}'`);
  }
  const port = value.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    problems.add(
      at(path, 'port'),
      port === undefined ? 'is required' : `must be an integer from 1 to 65535, got ${show(port)}`,
    );
  }
  const protocol = value.protocol === undefined ? 'http:' : protocolOf(value.protocol);
  if (protocol === undefined) {
    problems.add(at(path, 'protocol'), `must be 'http:' or 'https:', got ${show(value.protocol)}`);
  }
  const id = value.id ?? defaults.id;
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    problems.add(at(path, 'id'), 'must be a non-empty string');
  }
  const weight = value.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    problems.add(at(path, 'weight'), `must be a positive number, got ${show(value.weight)}`);
  }
  const priority = value.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0) {
    problems.add(at(path, 'priority'), `must be a non-negative integer, got ${show(value.priority)}`);
  }
  for (const key of ['zone', 'hostname'] as const) {
    const field = value[key];
    if (field !== undefined && (typeof field !== 'string' || field === '')) {
      problems.add(at(path, key), 'must be a non-empty string');
    }
  }
  const metadata = readMetadata(value.metadata, problems, at(path, 'metadata'));
  if (problems.count > before || host === undefined) return undefined;
  return makeEndpoint({
    id: (id as string | undefined) ?? endpointId(host, port as number),
    protocol: protocol!,
    host,
    port: port as number,
    weight: weight as number,
    priority: priority as number,
    zone: value.zone as string | undefined,
    hostname: value.hostname as string | undefined,
    metadata,
  });
}

function readMetadata(
  value: unknown,
  problems: Problems,
  path: string,
): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add(path, 'must be an object of strings');
    return undefined;
  }
  const entries: Array<[string, string]> = [];
  for (const [key, field] of Object.entries(value)) {
    if (typeof field === 'string' || typeof field === 'number' || typeof field === 'boolean') {
      entries.push([key, String(field)]);
    } else {
      problems.add(at(path, key), `must be a string, number or boolean, got ${show(field)}`);
    }
  }
  // fromEntries defines own properties, so a `__proto__` label stays a label.
  return Object.freeze(Object.fromEntries(entries));
}

function readUrl(
  text: string,
  problems: Problems,
  path: string,
  defaults: { id?: string },
): Endpoint | undefined {
  let url: URL;
  try {
    // `host:port` alone is common in configuration; read it as http (new URL would take `host:` as a scheme).
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    problems.add(path, `is not a URL: '${text}'`);
    return undefined;
  }
  const protocol = protocolOf(url.protocol);
  if (protocol === undefined) {
    problems.add(path, `must be an http: or https: URL, got '${url.protocol}'`);
    return undefined;
  }
  // An endpoint is where to connect; paths, credentials and queries belong to routes and the client.
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  ) {
    problems.add(
      path,
      `must be scheme://host[:port] only (no path, credentials, query or fragment): '${text}'`,
    );
    return undefined;
  }
  const host = normalizeHost(url.hostname);
  if (host === undefined) {
    problems.add(path, `has an invalid host: '${text}'`);
    return undefined;
  }
  const port = url.port === '' ? (protocol === 'https:' ? 443 : 80) : Number(url.port);
  return makeEndpoint({
    id: defaults.id ?? endpointId(host, port),
    protocol,
    host,
    port,
    weight: 1,
    priority: 0,
  });
}

/** A frozen Endpoint without undefined optional members (so lists compare and print cleanly). */
export function makeEndpoint(fields: {
  id: string;
  protocol: Endpoint['protocol'];
  host: string;
  port: number;
  weight: number;
  priority: number;
  zone?: string | undefined;
  hostname?: string | undefined;
  metadata?: Readonly<Record<string, string>> | undefined;
}): Endpoint {
  const endpoint: { -readonly [K in keyof Endpoint]: Endpoint[K] } = {
    id: fields.id,
    protocol: fields.protocol,
    host: fields.host,
    port: fields.port,
    weight: fields.weight,
    priority: fields.priority,
  };
  if (fields.zone !== undefined) endpoint.zone = fields.zone;
  if (fields.hostname !== undefined) endpoint.hostname = fields.hostname;
  if (fields.metadata !== undefined) endpoint.metadata = Object.freeze({ ...fields.metadata });
  return Object.freeze(endpoint);
}

/**
 * Reads a URL such as `'http://10.0.0.1:8080'`, `'https://[2001:db8::1]:8443'` or `'orders:8080'`
 * (http) into an Endpoint; the port defaults to 80 or 443.
 *
 * @throws ConfigError (`GH_CONFIG_INVALID`) when the text is not an http(s) URL of a host and port.
 */
export function parseEndpoint(url: string): Endpoint {
  const problems = new Problems('endpoint');
  const endpoint = typeof url === 'string' ? readUrl(url, problems, '', {}) : undefined;
  if (typeof url !== 'string') problems.add('', `must be a string, got ${show(url)}`);
  problems.throwIfAny();
  return endpoint!;
}

/** The same endpoint in every field a consumer can see. */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a.id === b.id &&
    a.protocol === b.protocol &&
    a.host === b.host &&
    a.port === b.port &&
    a.weight === b.weight &&
    a.priority === b.priority &&
    a.zone === b.zone &&
    a.hostname === b.hostname &&
    sameLabels(a.metadata, b.metadata)
  );
}

function sameLabels(a: Endpoint['metadata'], b: Endpoint['metadata']): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

/** Lists sorted by id (see {@link sortedById}) holding the same endpoints. */
export function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  return a.length === b.length && a.every((endpoint, i) => sameEndpoint(endpoint, b[i]!));
}

/**
 * A frozen copy sorted by id: sources answer in any order (DNS rotates SRV and A records), and one
 * order makes an unchanged answer compare equal.
 */
export function sortedById(endpoints: Iterable<Endpoint>): readonly Endpoint[] {
  return Object.freeze([...endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}

/**
 * The endpoints of the best (lowest) priority among those `usable` accepts — RFC 2782's rule that
 * lower-priority targets are used only while no better one is available. Consumers that balance
 * across every endpoint regardless of priority can ignore this.
 *
 * @example preferredEndpoints(resolver.current(), (e) => !ejected.has(e.id))
 */
export function preferredEndpoints(
  endpoints: readonly Endpoint[],
  usable: (endpoint: Endpoint) => boolean = () => true,
): Endpoint[] {
  let best = Number.POSITIVE_INFINITY;
  let chosen: Endpoint[] = [];
  for (const endpoint of endpoints) {
    if (endpoint.priority > best || !usable(endpoint)) continue;
    if (endpoint.priority < best) {
      best = endpoint.priority;
      chosen = [];
    }
    chosen.push(endpoint);
  }
  return chosen;
}

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
