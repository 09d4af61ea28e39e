// The options of every resolver (static, DNS, etcd), of etcd self-registration and of endpoints as
// valibot schemas (exported for a configuration-wide JSON Schema), checked once through core's
// parseOptions: every problem, at every depth, in one ConfigError with its path and a did-you-mean.
import {
  ConfigError,
  functionOption,
  missingPeer,
  objectOption,
  Problems,
  peerInstalled,
  type TypesAgree,
  withCrossCheck,
} from '@gatehousejs/core';
import * as v from 'valibot';
import type { DnsResolverOptions } from './dns.js';
import { parseServer } from './dns-client.js';
import { type EndpointInput, type EndpointSpec, normalizeHost, readEndpoint } from './endpoints.js';
import type { EtcdResolverOptions } from './etcd.js';
import type { EtcdClient, EtcdConnectionOptions } from './etcd-client.js';
import type { EtcdRegistrationOptions } from './register.js';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A custom check on a value already of the right type: `check` returns a message or undefined. */
function rule<T>(check: (value: T) => string | undefined) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const message = check(dataset.value);
    if (message !== undefined) addIssue({ message });
  });
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);
const positiveInt = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));

/** The first problem `readEndpoint` finds with a URL endpoint (`'http://10.0.0.1:8080'`). */
function urlProblem(text: string): string | undefined {
  const problems = new Problems('');
  readEndpoint(text, problems, '');
  try {
    problems.throwIfAny();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems[0]?.message;
  }
  return undefined;
}

/** An endpoint written by hand: `{ host, port, … }`. */
export const endpointInputSchema = v.strictObject({
  host: v.pipe(
    v.string(),
    v.minLength(1),
    rule((host: string) =>
      normalizeHost(host) === undefined ? `is not a host name or IP address: '${host}'` : undefined,
    ),
  ),
  port: v.pipe(
    v.number((issue) =>
      issue.input === undefined
        ? 'is required'
        : `must be an integer from 1 to 65535, got ${show(issue.input)}`,
    ),
    rule((port: number) =>
      Number.isInteger(port) && port >= 1 && port <= 65_535
        ? undefined
        : `must be an integer from 1 to 65535, got ${show(port)}`,
    ),
  ),
  protocol: v.optional(v.picklist(['http:', 'https:', 'http', 'https'])),
  id: v.optional(v.pipe(v.string(), v.minLength(1))),
  weight: v.optional(
    v.pipe(
      v.number(),
      rule((w: number) =>
        Number.isFinite(w) && w > 0 ? undefined : `must be a positive number, got ${show(w)}`,
      ),
    ),
  ),
  priority: v.optional(
    v.pipe(
      v.number(),
      rule((p: number) =>
        Number.isInteger(p) && p >= 0 ? undefined : `must be a non-negative integer, got ${show(p)}`,
      ),
    ),
  ),
  zone: v.optional(v.pipe(v.string(), v.minLength(1))),
  hostname: v.optional(v.pipe(v.string(), v.minLength(1))),
  metadata: v.optional(
    v.record(
      v.string(),
      v.union(
        [v.string(), v.number(), v.boolean()],
        (issue) => `must be a string, number or boolean, got ${show(issue.input)}`,
      ),
    ),
  ),
});

/** An endpoint: a URL (`'http://10.0.0.1:8080'`, `'orders:8080'`) or `{ host, port, … }`. */
export const endpointSpecSchema = v.union(
  [v.pipe(v.string(), rule(urlProblem)), endpointInputSchema],
  'must be a URL string or an object with host and port',
);

/** Options of `staticResolver()`. */
export const staticResolverOptionsSchema = v.strictObject({
  name: v.optional(v.pipe(v.string(), v.minLength(1))),
});

/** What `staticResolver(endpoints, options)` is given, checked together. */
export const staticResolverArgumentsSchema = v.strictObject({
  endpoints: withCrossCheck(
    v.pipe(
      v.array(endpointSpecSchema, 'must be a non-empty array of URLs or { host, port } objects'),
      v.minLength(1, 'must be a non-empty array of URLs or { host, port } objects'),
    ),
    (endpoints, report) => {
      if (!Array.isArray(endpoints)) return;
      const seen = new Set<string>();
      for (const [i, spec] of (endpoints as unknown[]).entries()) {
        const problems = new Problems('');
        const endpoint = readEndpoint(spec, problems, '');
        if (endpoint === undefined) continue;
        if (seen.has(endpoint.id)) report([i], `duplicates endpoint '${endpoint.id}'`);
        seen.add(endpoint.id);
      }
    },
  ),
  options: staticResolverOptionsSchema,
});

const etcdHost = v.pipe(
  v.string(),
  rule((host: string) =>
    /^https?:\/\/[^/\s]+\/?$/.test(host) ? undefined : `must be http(s)://host:port, got ${show(host)}`,
  ),
);

/** `client` or `hosts`, shared by etcdResolver and registerWithEtcd. */
const connectionShape = {
  client: v.optional(
    objectOption<EtcdClient>('an etcd3 client (new Etcd3(…)) or a namespace of one', ['watch']),
  ),
  hosts: v.optional(
    v.union(
      [etcdHost, v.pipe(v.array(etcdHost), v.minLength(1))],
      'must be a URL or a non-empty array of URLs (`http://127.0.0.1:2379`)',
    ),
  ),
};
/** Exactly one of `client` and `hosts`; `hosts` needs etcd3 installed. */
function checkConnection(
  options: unknown,
  report: (path: (string | number)[], message: string) => void,
): void {
  if (!isObject(options)) return;
  if ((options.client === undefined) === (options.hosts === undefined)) {
    report([], 'give exactly one of `client` (an etcd3 client) and `hosts`');
    return;
  }
  if (options.hosts === undefined) return;
  if (!peerInstalled('etcd3', import.meta.url)) {
    report(['hosts'], missingPeer('etcd3', { path: 'hosts' }).problems[0]!.message);
  }
}

/** `retryInitialMs` no larger than `retryMaxMs` (and the same for other min/max pairs). */
function ordered(low: string, high: string, fallbackHigh: number) {
  return (options: unknown, report: (path: (string | number)[], message: string) => void) => {
    if (!isObject(options)) return;
    const a = options[low];
    const b = options[high] ?? fallbackHigh;
    if (typeof a === 'number' && typeof b === 'number' && a > b)
      report([low], `must not exceed ${high} (${b})`);
  };
}

const prefix = v.pipe(
  v.string((issue) =>
    issue.input === undefined ? 'is required' : 'must be a non-empty string such as /services/orders/',
  ),
  v.minLength(1, 'must be a non-empty string such as /services/orders/'),
);

/** Options of `etcdResolver()`. */
export const etcdResolverOptionsSchema = withCrossCheck(
  v.strictObject({
    ...connectionShape,
    prefix,
    parse: v.optional(
      functionOption<(value: string, key: string) => EndpointSpec | undefined>(
        'a function (value, key) => endpoint | undefined',
      ),
    ),
    name: v.optional(v.pipe(v.string(), v.minLength(1))),
    timeoutMs: v.optional(positiveInt()),
    retryInitialMs: v.optional(positiveInt()),
    retryMaxMs: v.optional(positiveInt()),
  }),
  (options, report) => {
    checkConnection(options, report);
    ordered('retryInitialMs', 'retryMaxMs', 5_000)(options, report);
  },
);

/** Options of `registerWithEtcd()`. */
export const etcdRegistrationOptionsSchema = withCrossCheck(
  v.strictObject({
    ...connectionShape,
    prefix,
    endpoint: endpointSpecSchema,
    key: v.optional(v.pipe(v.string(), v.minLength(1))),
    ttlSeconds: v.optional(positiveInt()),
    timeoutMs: v.optional(positiveInt()),
    retryInitialMs: v.optional(positiveInt()),
    retryMaxMs: v.optional(positiveInt()),
  }),
  (options, report) => {
    checkConnection(options, report);
    ordered('retryInitialMs', 'retryMaxMs', 5_000)(options, report);
  },
);

/** Options of `dnsResolver()`. */
export const dnsResolverOptionsSchema = withCrossCheck(
  v.strictObject({
    name: v.pipe(
      v.string(),
      v.minLength(1),
      rule((name: string) =>
        normalizeHost(name) === undefined ? `is not a DNS name: '${name}'` : undefined,
      ),
    ),
    type: v.optional(v.picklist(['SRV', 'A', 'AAAA', 'A+AAAA'])),
    port: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65_535))),
    protocol: v.optional(v.picklist(['http:', 'https:', 'http', 'https'])),
    srvTargets: v.optional(v.picklist(['A', 'AAAA', 'A+AAAA', 'hostname'])),
    servers: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string(),
            rule((text: string) =>
              parseServer(text) === undefined
                ? `is not an IP address with an optional port: ${show(text)}`
                : undefined,
            ),
          ),
        ),
        v.minLength(1, 'must be a non-empty array of addresses (`10.0.0.2`, `127.0.0.1:5353`, `[::1]:53`)'),
      ),
    ),
    minTtlMs: v.optional(positiveInt()),
    maxTtlMs: v.optional(positiveInt()),
    timeoutMs: v.optional(positiveInt()),
    retryInitialMs: v.optional(positiveInt()),
    retryMaxMs: v.optional(positiveInt()),
  }),
  (options, report) => {
    if (!isObject(options)) return;
    const type = options.type ?? 'SRV';
    if (type === 'SRV') {
      if (options.port !== undefined) report(['port'], 'is not used with SRV (each record carries its port)');
    } else if (typeof type === 'string' && options.port === undefined) {
      report(['port'], `is required for type '${type}'`);
    }
    if (type !== 'SRV' && options.srvTargets !== undefined)
      report(['srvTargets'], 'applies to SRV lookups only');
    ordered('minTtlMs', 'maxTtlMs', 30_000)(options, report);
    ordered('retryInitialMs', 'retryMaxMs', 10_000)(options, report);
  },
);

// The hand-written types are what users read (with their TSDoc); these lines keep them and the schemas
// in step: what the types allow, the schemas accept, and the other way round. valibot infers arrays as
// mutable where the types say `readonly T[]`, so both sides are compared without readonly.
const typesAgree: [
  TypesAgree<v.InferInput<typeof endpointInputSchema>, EndpointInput>,
  TypesAgree<v.InferInput<typeof endpointSpecSchema>, EndpointSpec>,
  TypesAgree<v.InferInput<typeof dnsResolverOptionsSchema>, DnsResolverOptions>,
  TypesAgree<v.InferInput<typeof etcdResolverOptionsSchema>, EtcdResolverOptions>,
  TypesAgree<v.InferInput<typeof etcdRegistrationOptionsSchema>, EtcdRegistrationOptions>,
  TypesAgree<Pick<v.InferInput<typeof etcdResolverOptionsSchema>, 'client' | 'hosts'>, EtcdConnectionOptions>,
] = [true, true, true, true, true, true];
void typesAgree;
