// The whole gateway's configuration as ONE valibot schema, composed from the schemas every package exports
// and checks its own options against (core's sections, the route table, auth, rate limits, tracing,
// the client, discovery, versioning, OpenAPI, aggregation, the response cache). A file is checked by
// exactly the definitions the factories use; the JSON Schema for editors is generated from it
// (json-schema.ts), leaving out what only code can give (functions, objects built in code).
//
// It lives here and not in core: core depends on no capability package, and this package already
// depends on all of them (both adapters depend on it, so `gatewayFromFile` reaches every user).
import { aggregateOptionsSchema, cacheOptionsSchema } from '@gatehousejs/aggregate';
import {
  apiKeyOptionsSchema,
  authOptionsSchema,
  forwardOptionsSchema,
  identityAuthenticatorOptionsSchema,
  introspectionOptionsSchema,
  jwtOptionsSchema,
  mtlsOptionsSchema,
  requirementSchema,
} from '@gatehousejs/auth';
import { clientOptionsSchema, deadlineOptionsSchema } from '@gatehousejs/client';
import { configSchema as coreSchema, extendOptions, serviceSchema, withCrossCheck } from '@gatehousejs/core';
import { dashboardOptionsSchema } from '@gatehousejs/dashboard';
import { dnsResolverOptionsSchema, etcdResolverOptionsSchema } from '@gatehousejs/discovery';
import { openapiOptionsSchema } from '@gatehousejs/openapi';
import {
  memoryStoreOptionsSchema,
  rateLimitOptionsSchema,
  redisStoreOptionsSchema,
} from '@gatehousejs/rate-limit';
import { overrideOptionsSchema, routeSpecSchema } from '@gatehousejs/routes';
import { accessLogOptionsSchema, tracingOptionsSchema } from '@gatehousejs/tracing';
import { versioningOptionsSchema } from '@gatehousejs/versioning';
import * as v from 'valibot';

// A positive integer as zod's `z.int().positive()` was: a safe integer above 0 (so the default message
// is still `expected an integer > 0`).
const positiveInt = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A schema without its `v.optional()` / `v.nullable()` / … wrappers. */
type Unwrapped<S> = S extends { readonly wrapped: infer W } ? Unwrapped<W> : S;

/** The inner schema of `v.optional()` / `v.nullable()` / … wrappers (a default included). */
function inner<S extends v.GenericSchema>(schema: S): Unwrapped<S> {
  let current: v.GenericSchema = schema;
  for (let i = 0; i < 8 && 'wrapped' in current; i++) current = current.wrapped as v.GenericSchema;
  return current as Unwrapped<S>;
}

const core = coreSchema.entries;

// ---------------------------------------------------------------------------------------------
// Services: core's url / endpoints, or discovery (DNS, etcd), with the mesh client's options
// ---------------------------------------------------------------------------------------------

const serviceName = inner(core.services).key;
const [urlService, endpointsService] = serviceSchema.options;
const client = clientOptionsSchema.entries;

/** What a service may be found by: exactly one of these. */
export const SERVICE_SOURCES = ['url', 'endpoints', 'dns', 'etcd'] as const;

/** One service: where its instances are, and how the mesh client calls them. */
export const serviceFileSchema = withCrossCheck(
  v.pipe(
    v.strictObject({
      url: v.optional(urlService.entries.url),
      endpoints: v.optional(endpointsService.entries.endpoints),
      dns: v.optional(dnsResolverOptionsSchema),
      etcd: v.optional(etcdResolverOptionsSchema),
      balancer: client.balancer,
      zone: client.zone,
      connections: client.connections,
      timeouts: client.timeouts,
      retry: client.retry,
      breaker: client.breaker,
      bulkhead: client.bulkhead,
      hedge: client.hedge,
      outlier: client.outlier,
      healthCheck: client.healthCheck,
      tls: client.tls,
      deadlineHeader: client.deadlineHeader,
    }),
    v.description(
      "A service: exactly one of 'url', 'endpoints', 'dns' or 'etcd' says where its instances are; the other keys configure the mesh client that calls it (see @gatehousejs/client).",
    ),
  ),
  (service, report) => {
    if (!isObject(service)) return;
    const given = SERVICE_SOURCES.filter((key) => service[key] !== undefined);
    if (given.length === 0) report([], "give one of 'url', 'endpoints', 'dns' or 'etcd'");
    else if (given.length > 1)
      report([given[1]!], `give only one of 'url', 'endpoints', 'dns' or 'etcd' (also has '${given[0]}')`);
  },
);

// ---------------------------------------------------------------------------------------------
// Routes: ONE format, the routes package's table; `to:` (core's old format) read for compatibility
// ---------------------------------------------------------------------------------------------

/** A route of the table, as `@gatehousejs/routes` reads it, plus the deprecated `to`. */
export const routeFileSchema = extendOptions(routeSpecSchema, {
  to: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.metadata({
        deprecated: true,
        description:
          "Deprecated (core's first route format): 'local' reads as mode: local; a service name as service: <name>, mode: remote. Write 'service' and 'mode' instead.",
      }),
    ),
  ),
});

/** Options of the routes controller that are not the table. */
export const routingFileSchema = v.pipe(
  v.strictObject({
    override: v.optional(v.union([v.literal(false), overrideOptionsSchema])),
    gateIntervalMs: v.optional(positiveInt()),
  }),
  v.description('The migration controller: the per-request override header, how often gates run.'),
);

// ---------------------------------------------------------------------------------------------
// Auth: the methods, which code builds as objects, described declaratively
// ---------------------------------------------------------------------------------------------

const text = () => v.pipe(v.string(), v.minLength(1));
/** A key in a file: PEM text, a JWK object. */
const keyText = v.union([text(), v.record(v.string(), v.unknown())]);

/**
 * API keys as `@gatehousejs/auth` takes them, with Redis described by its URL (the authenticator's
 * `redis.client` is built in code): the gateway makes the client.
 */
const apiKeyFileSchema = extendOptions(apiKeyOptionsSchema, {
  redis: v.optional(
    v.strictObject({
      url: v.pipe(v.string(), v.regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')),
      prefix: v.optional(text()),
    }),
  ),
});

/** The shortest secret each HMAC algorithm takes, in bytes (RFC 7518 §3.2: at least the hash size). */
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/**
 * The identity a gateway in front signed and forwarded (`identityAuthenticator`), for a service that
 * runs Gatehouse too: its verification key as PEM text or a public JWK (`${file:…}` reads either from
 * a file), or for HS* the shared secret as text. The gateway's `auth.forward.token` is the other end.
 */
const identityFileSchema = withCrossCheck(
  extendOptions(identityAuthenticatorOptionsSchema, {
    key: v.optional(identityAuthenticatorOptionsSchema.entries.key),
    secret: v.optional(text()),
  }),
  (identity, report) => {
    if (!isObject(identity)) return;
    const { key, secret, alg } = identity;
    if ((key === undefined) === (secret === undefined)) {
      report([], "give exactly one of 'key' (EdDSA, ES*, RS*, PS*; an 'oct' JWK for HS*) or 'secret' (HS*)");
      return;
    }
    if (typeof secret !== 'string' || typeof alg !== 'string') return;
    const min = HMAC_MIN_BYTES[alg];
    if (min === undefined) report(['secret'], `${alg} verifies with a public key: give 'key', not 'secret'`);
    else if (Buffer.byteLength(secret) < min)
      report(['secret'], `an ${alg} secret must be at least ${min} bytes`);
  },
);

/** The authentication methods a file can describe, by key; the name rules refer to them by. */
export const AUTH_METHODS = {
  jwt: 'jwt',
  apiKey: 'api-key',
  introspection: 'introspection',
  mtls: 'mtls',
  identity: 'identity',
} as const;

/** One authentication method: exactly one key, naming its kind. */
export const authMethodFileSchema = withCrossCheck(
  v.pipe(
    v.strictObject({
      jwt: v.optional(jwtOptionsSchema),
      apiKey: v.optional(apiKeyFileSchema),
      introspection: v.optional(introspectionOptionsSchema),
      mtls: v.optional(mtlsOptionsSchema),
      identity: v.optional(identityFileSchema),
    }),
    v.description(
      "One method, by kind: { jwt: {…} }, { apiKey: {…} }, { introspection: {…} }, { mtls: {…} } or { identity: {…} }. Rules name it 'jwt', 'api-key', 'introspection', 'mtls' or 'identity'.",
    ),
  ),
  (method, report) => {
    if (!isObject(method)) return;
    const kinds = Object.keys(AUTH_METHODS).filter((k) => method[k] !== undefined);
    if (kinds.length !== 1)
      report([], "give exactly one of 'jwt', 'apiKey', 'introspection', 'mtls' or 'identity' per method");
  },
);

const forwardFileSchema = v.strictObject({
  token: v.optional(
    withCrossCheck(
      v.strictObject({
        key: v.optional(
          v.pipe(keyText, v.description('The private signing key: PEM (PKCS#8) or a private JWK.')),
        ),
        secret: v.optional(
          v.pipe(
            v.string(),
            v.minLength(32),
            v.description('The shared secret for HS256/HS384/HS512, at least 32 bytes.'),
          ),
        ),
        alg: v.picklist(['HS256', 'HS384', 'HS512', 'EdDSA', 'ES256', 'ES384', 'RS256', 'PS256']),
        kid: v.optional(text()),
        header: v.optional(text()),
        ttlSec: v.optional(positiveInt()),
        issuer: v.optional(text()),
        audience: v.optional(text()),
      }),
      (token, report) => {
        if (isObject(token) && (token.key === undefined) === (token.secret === undefined))
          report([], "give exactly one of 'key' (EdDSA, ES*, RS*, PS*) or 'secret' (HS*)");
      },
    ),
  ),
  headers: forwardOptionsSchema.entries.headers,
});

const auth = authOptionsSchema.entries;

/** `auth`: the same rules, requirements and options as `gw.auth()`, with methods described. */
export const authFileSchema = v.strictObject({
  methods: v.array(authMethodFileSchema),
  combine: auth.combine,
  rules: auth.rules,
  default: auth.default,
  realm: auth.realm,
  forward: v.optional(forwardFileSchema),
});

// ---------------------------------------------------------------------------------------------
// Rate limits: the store as a description
// ---------------------------------------------------------------------------------------------

/** Where limiter counters live: this process, or Redis shared by a fleet. */
export const limiterStoreFileSchema = v.union([
  v.literal('memory'),
  v.strictObject({ memory: memoryStoreOptionsSchema }),
  v.strictObject({ redis: redisStoreOptionsSchema }),
]);

/** One limiter: `gw.rateLimit()`'s options, with `store` described. */
export const rateLimitFileSchema = extendOptions(rateLimitOptionsSchema, {
  store: v.optional(limiterStoreFileSchema),
});

// ---------------------------------------------------------------------------------------------
// Admin: core's, and a requirement on the principal gw.auth() found
// ---------------------------------------------------------------------------------------------

const coreAdmin = inner(core.admin);
const coreAccess = inner(coreAdmin.entries.access);
const coreWrite = inner(coreAccess.entries.write);
const requireOption = (who: string) =>
  v.optional(
    v.pipe(
      requirementSchema,
      v.description(
        `${who} meeting this requirement on the principal gw.auth() finds (roles, scopes) are admitted; others get auth's 401/403.`,
      ),
    ),
  );

export const adminFileSchema = v.pipe(
  extendOptions(coreAdmin, {
    dashboard: v.optional(
      v.pipe(
        v.union([v.boolean(), dashboardOptionsSchema], 'must be true, false or an object'),
        v.metadata({
          description:
            'The migration dashboard (@gatehousejs/dashboard, gw.dashboard()) at {prefix}/dashboard, behind admin.access (its buttons are writes): true for the defaults, or its options. Cannot change at run time (restart).',
          default: false,
        }),
      ),
    ),
    access: v.optional(
      v.pipe(
        extendOptions(coreAccess, {
          require: requireOption('Callers'),
          write: v.optional(
            v.pipe(
              extendOptions(coreWrite, { require: requireOption('Writers') }),
              v.description(
                'Who may write (POST and DELETE: the admin write API, /config/reload, /cache/purge) instead of peers, ports and require above. Default: those (never dangerouslyPublic).',
              ),
            ),
          ),
        }),
        v.description(
          'Who may use the admin endpoints besides /health and /ready; any one entry grants access. Writes are admitted by peers, ports and require (or write), never by dangerouslyPublic. Default: nobody (403).',
        ),
      ),
    ),
  }),
  v.description(
    'The admin endpoints: /health, /ready, /routes, /migration, /config, /metrics and the write API.',
  ),
);

/** The listener `gw.listen()` opens. */
export const serverFileSchema = v.pipe(
  v.strictObject({
    port: v.optional(
      v.pipe(
        v.number(),
        v.safeInteger(),
        v.minValue(0),
        v.maxValue(65_535),
        v.metadata({ description: 'TCP port; 0 picks a free one.', default: 8080 }),
      ),
    ),
    host: v.optional(v.pipe(v.string(), v.minLength(1), v.description('Address to listen on.'))),
  }),
  v.description('The listener gw.listen() opens (cannot change at run time).'),
);

// ---------------------------------------------------------------------------------------------
// The whole configuration
// ---------------------------------------------------------------------------------------------

/** The whole gateway's configuration, as a file (YAML or JSON) or an etcd key holds it. */
export const gatehouseConfigSchema = v.pipe(
  v.strictObject({
    $schema: v.optional(v.pipe(v.string(), v.description('The JSON Schema this file follows; ignored.'))),
    server: v.optional(serverFileSchema),
    services: v.optional(
      v.pipe(
        v.record(serviceName, serviceFileSchema),
        v.description(
          "Upstream services by name (lower-case letters, digits and '-'): where their instances are and how the mesh client calls them.",
        ),
      ),
    ),
    routes: v.optional(
      v.pipe(
        v.array(routeFileSchema),
        v.description(
          'The route table (@gatehousejs/routes): where matching requests go and how far their migration is (local, shadow, split, fallback, remote). Matched in order.',
        ),
      ),
    ),
    routing: v.optional(routingFileSchema),
    tracing: v.optional(
      v.pipe(
        tracingOptionsSchema,
        v.description(
          'Server spans, trace propagation and metrics (gw.tracing()). Mounted first when present.',
        ),
      ),
    ),
    accessLog: v.optional(
      v.pipe(
        v.union([v.literal(true), accessLogOptionsSchema]),
        v.description('One JSON line per request (gw.accessLog()); true for the defaults.'),
      ),
    ),
    auth: v.optional(
      v.pipe(
        authFileSchema,
        v.description('Authentication methods, per-route rules and identity forwarding (gw.auth()).'),
      ),
    ),
    rateLimit: v.optional(
      v.pipe(
        v.union([rateLimitFileSchema, v.pipe(v.array(rateLimitFileSchema), v.minLength(1))]),
        v.description(
          'Rate limits (gw.rateLimit()): one limiter, or several in order, each with its own name.',
        ),
      ),
    ),
    deadline: v.optional(
      v.pipe(
        v.union([v.literal(true), deadlineOptionsSchema]),
        v.description('Honour an incoming x-deadline-ms (gw.deadline()); true for the defaults.'),
      ),
    ),
    versioning: v.optional(v.pipe(versioningOptionsSchema, v.description('API versioning (gw.version()).'))),
    openapi: v.optional(
      v.pipe(
        openapiOptionsSchema,
        v.description(
          "OpenAPI request and response validation (gw.validate()); 'document' is a path relative to this file.",
        ),
      ),
    ),
    aggregate: v.optional(
      v.pipe(
        v.array(aggregateOptionsSchema),
        v.description('BFF compositions (gw.aggregate()), each answering its own path.'),
      ),
    ),
    cache: v.optional(
      v.pipe(
        cacheOptionsSchema,
        v.description('The RFC 9111 response cache used by cache: true routes, clients and compositions.'),
      ),
    ),
    admin: v.optional(adminFileSchema),
    paths: core.paths,
    clientIp: core.clientIp,
    headers: core.headers,
    requestId: core.requestId,
    problems: core.problems,
    limits: core.limits,
    shutdown: core.shutdown,
  }),
  v.title('Gatehouse configuration'),
);

/** A configuration as written (YAML or JSON), before defaults. */
export type GatehouseConfigInput = v.InferInput<typeof gatehouseConfigSchema>;
/** A configuration after checking (the schema's output: defaults of the package schemas filled in). */
export type GatehouseConfig = v.InferOutput<typeof gatehouseConfigSchema>;

/** The top-level keys, in the order of the schema (and of `gatehouse init`'s file). */
export const CONFIG_KEYS = Object.keys(gatehouseConfigSchema.entries) as readonly (keyof GatehouseConfig)[];

/**
 * What cannot change while the gateway runs: a reload that changes them keeps the running value and
 * reports the key (restart to apply). Everything else is applied atomically between requests. A
 * dotted key is one part of a section (`admin.dashboard`: its endpoints are registered once); the
 * rest of that section stays reloadable.
 */
export const RESTART_ONLY: readonly string[] = [
  'server',
  'admin.dashboard',
  'routing',
  'tracing',
  'cache',
  'paths',
  'clientIp',
  'headers',
  'requestId',
  'problems',
  'limits',
  'shutdown',
];
