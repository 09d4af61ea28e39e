// The options of every resolver (static, DNS, etcd), of etcd self-registration and of endpoints as
// zod schemas (exported for a configuration-wide JSON Schema), checked once through core's
// parseOptions: every problem, at every depth, in one ConfigError with its path and a did-you-mean.
import {
  ConfigError,
  functionOption,
  missingPeer,
  objectOption,
  Problems,
  peerInstalled,
  withCrossCheck,
} from '@gatehousejs/core';
import { z } from 'zod';
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
  return z.superRefine<T>((value, ctx) => {
    const message = check(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', input: value, message });
  });
}

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);
const positiveInt = () => z.int().positive();

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
export const endpointInputSchema = z.strictObject({
  host: z
    .string()
    .min(1)
    .check(
      rule((host: string) =>
        normalizeHost(host) === undefined ? `is not a host name or IP address: '${host}'` : undefined,
      ),
    ),
  port: z
    .number({
      error: (issue) =>
        issue.input === undefined
          ? 'is required'
          : `must be an integer from 1 to 65535, got ${show(issue.input)}`,
    })
    .check(
      rule((port: number) =>
        Number.isInteger(port) && port >= 1 && port <= 65_535
          ? undefined
          : `must be an integer from 1 to 65535, got ${show(port)}`,
      ),
    ),
  protocol: z.enum(['http:', 'https:', 'http', 'https']).optional(),
  id: z.string().min(1).optional(),
  weight: z
    .number()
    .check(
      rule((w: number) =>
        Number.isFinite(w) && w > 0 ? undefined : `must be a positive number, got ${show(w)}`,
      ),
    )
    .optional(),
  priority: z
    .number()
    .check(
      rule((p: number) =>
        Number.isInteger(p) && p >= 0 ? undefined : `must be a non-negative integer, got ${show(p)}`,
      ),
    )
    .optional(),
  zone: z.string().min(1).optional(),
  hostname: z.string().min(1).optional(),
  metadata: z
    .record(
      z.string(),
      z.union([z.string(), z.number(), z.boolean()], {
        error: (issue) => `must be a string, number or boolean, got ${show(issue.input)}`,
      }),
    )
    .optional(),
});

/** An endpoint: a URL (`'http://10.0.0.1:8080'`, `'orders:8080'`) or `{ host, port, … }`. */
export const endpointSpecSchema = z.union([z.string().check(rule(urlProblem)), endpointInputSchema], {
  error: 'must be a URL string or an object with host and port',
});

/** Options of `staticResolver()`. */
export const staticResolverOptionsSchema = z.strictObject({ name: z.string().min(1).optional() });

/** What `staticResolver(endpoints, options)` is given, checked together. */
export const staticResolverArgumentsSchema = z.strictObject({
  endpoints: withCrossCheck(
    z
      .array(endpointSpecSchema, { error: 'must be a non-empty array of URLs or { host, port } objects' })
      .min(1, { error: 'must be a non-empty array of URLs or { host, port } objects' })
      .readonly(),
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

const etcdHost = z
  .string()
  .check(
    rule((host: string) =>
      /^https?:\/\/[^/\s]+\/?$/.test(host) ? undefined : `must be http(s)://host:port, got ${show(host)}`,
    ),
  );

/** `client` or `hosts`, shared by etcdResolver and registerWithEtcd. */
const connectionShape = {
  client: objectOption<EtcdClient>('an etcd3 client (new Etcd3(…)) or a namespace of one', [
    'watch',
  ]).optional(),
  hosts: z
    .union([etcdHost, z.array(etcdHost).min(1).readonly()], {
      error: 'must be a URL or a non-empty array of URLs (`http://127.0.0.1:2379`)',
    })
    .optional(),
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

const prefix = z
  .string({
    error: (issue) =>
      issue.input === undefined ? 'is required' : 'must be a non-empty string such as /services/orders/',
  })
  .min(1, { error: 'must be a non-empty string such as /services/orders/' });

/** Options of `etcdResolver()`. */
export const etcdResolverOptionsSchema = withCrossCheck(
  z.strictObject({
    ...connectionShape,
    prefix,
    parse: functionOption<(value: string, key: string) => EndpointSpec | undefined>(
      'a function (value, key) => endpoint | undefined',
    ).optional(),
    name: z.string().min(1).optional(),
    timeoutMs: positiveInt().optional(),
    retryInitialMs: positiveInt().optional(),
    retryMaxMs: positiveInt().optional(),
  }),
  (options, report) => {
    checkConnection(options, report);
    ordered('retryInitialMs', 'retryMaxMs', 5_000)(options, report);
  },
);

/** Options of `registerWithEtcd()`. */
export const etcdRegistrationOptionsSchema = withCrossCheck(
  z.strictObject({
    ...connectionShape,
    prefix,
    endpoint: endpointSpecSchema,
    key: z.string().min(1).optional(),
    ttlSeconds: positiveInt().optional(),
    timeoutMs: positiveInt().optional(),
    retryInitialMs: positiveInt().optional(),
    retryMaxMs: positiveInt().optional(),
  }),
  (options, report) => {
    checkConnection(options, report);
    ordered('retryInitialMs', 'retryMaxMs', 5_000)(options, report);
  },
);

/** Options of `dnsResolver()`. */
export const dnsResolverOptionsSchema = withCrossCheck(
  z.strictObject({
    name: z
      .string()
      .min(1)
      .check(
        rule((name: string) =>
          normalizeHost(name) === undefined ? `is not a DNS name: '${name}'` : undefined,
        ),
      ),
    type: z.enum(['SRV', 'A', 'AAAA', 'A+AAAA']).optional(),
    port: z.int().min(1).max(65_535).optional(),
    protocol: z.enum(['http:', 'https:', 'http', 'https']).optional(),
    srvTargets: z.enum(['A', 'AAAA', 'A+AAAA', 'hostname']).optional(),
    servers: z
      .array(
        z
          .string()
          .check(
            rule((text: string) =>
              parseServer(text) === undefined
                ? `is not an IP address with an optional port: ${show(text)}`
                : undefined,
            ),
          ),
      )
      .min(1, { error: 'must be a non-empty array of addresses (`10.0.0.2`, `127.0.0.1:5353`, `[::1]:53`)' })
      .readonly()
      .optional(),
    minTtlMs: positiveInt().optional(),
    maxTtlMs: positiveInt().optional(),
    timeoutMs: positiveInt().optional(),
    retryInitialMs: positiveInt().optional(),
    retryMaxMs: positiveInt().optional(),
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
// in step: what the types allow, the schemas accept, and the other way round.
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: [
  Agree<z.input<typeof endpointInputSchema>, EndpointInput>,
  Agree<z.input<typeof endpointSpecSchema>, EndpointSpec>,
  Agree<z.input<typeof dnsResolverOptionsSchema>, DnsResolverOptions>,
  Agree<z.input<typeof etcdResolverOptionsSchema>, EtcdResolverOptions>,
  Agree<z.input<typeof etcdRegistrationOptionsSchema>, EtcdRegistrationOptions>,
  Agree<Pick<z.input<typeof etcdResolverOptionsSchema>, 'client' | 'hosts'>, EtcdConnectionOptions>,
] = [true, true, true, true, true, true];
void typesAgree;
