// The whole gateway's configuration as ONE zod schema, composed from the schemas every package exports
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
import { z } from 'zod';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The inner schema of `.optional()` / `.default()` / `.prefault()` wrappers. */
function inner(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let i = 0; i < 8; i++) {
    const def = current._zod.def as { innerType?: z.core.$ZodType };
    if (def.innerType === undefined) return current;
    current = def.innerType;
  }
  return current;
}

const core = coreSchema.shape;

// ---------------------------------------------------------------------------------------------
// Services: core's url / endpoints, or discovery (DNS, etcd), with the mesh client's options
// ---------------------------------------------------------------------------------------------

const servicesRecord = inner(core.services) as z.ZodRecord;
const serviceName = servicesRecord.keyType as z.ZodType<string, string>;
const [urlService, endpointsService] = serviceSchema.options as unknown as [z.ZodObject, z.ZodObject];
const client = clientOptionsSchema.shape;

/** What a service may be found by: exactly one of these. */
export const SERVICE_SOURCES = ['url', 'endpoints', 'dns', 'etcd'] as const;

/** One service: where its instances are, and how the mesh client calls them. */
export const serviceFileSchema = withCrossCheck(
  z
    .strictObject({
      url: (urlService.shape.url as z.ZodType<string, string>).optional(),
      endpoints: (endpointsService.shape.endpoints as z.ZodType<string[], string[]>).optional(),
      dns: dnsResolverOptionsSchema.optional(),
      etcd: etcdResolverOptionsSchema.optional(),
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
    })
    .meta({
      description:
        "A service: exactly one of 'url', 'endpoints', 'dns' or 'etcd' says where its instances are; the other keys configure the mesh client that calls it (see @gatehousejs/client).",
    }),
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
  to: z.string().min(1).optional().meta({
    deprecated: true,
    description:
      "Deprecated (core's first route format): 'local' reads as mode: local; a service name as service: <name>, mode: remote. Write 'service' and 'mode' instead.",
  }),
});

/** Options of the routes controller that are not the table. */
export const routingFileSchema = z
  .strictObject({
    override: z.union([z.literal(false), overrideOptionsSchema]).optional(),
    gateIntervalMs: z.int().positive().optional(),
  })
  .meta({ description: 'The migration controller: the per-request override header, how often gates run.' });

// ---------------------------------------------------------------------------------------------
// Auth: the methods, which code builds as objects, described declaratively
// ---------------------------------------------------------------------------------------------

const ms = () => z.int().positive();
/** A key in a file: PEM text, a JWK object. */
const keyText = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

/**
 * API keys as `@gatehousejs/auth` takes them, with Redis described by its URL (the authenticator's
 * `redis.client` is built in code): the gateway makes the client.
 */
const apiKeyFileSchema = extendOptions(apiKeyOptionsSchema, {
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }),
      prefix: z.string().min(1).optional(),
    })
    .optional(),
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
    key: identityAuthenticatorOptionsSchema.shape.key.optional(),
    secret: z.string().min(1).optional(),
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
  z
    .strictObject({
      jwt: jwtOptionsSchema.optional(),
      apiKey: apiKeyFileSchema.optional(),
      introspection: introspectionOptionsSchema.optional(),
      mtls: mtlsOptionsSchema.optional(),
      identity: identityFileSchema.optional(),
    })
    .meta({
      description:
        "One method, by kind: { jwt: {…} }, { apiKey: {…} }, { introspection: {…} }, { mtls: {…} } or { identity: {…} }. Rules name it 'jwt', 'api-key', 'introspection', 'mtls' or 'identity'.",
    }),
  (method, report) => {
    if (!isObject(method)) return;
    const kinds = Object.keys(AUTH_METHODS).filter((k) => method[k] !== undefined);
    if (kinds.length !== 1)
      report([], "give exactly one of 'jwt', 'apiKey', 'introspection', 'mtls' or 'identity' per method");
  },
);

const forwardFileSchema = z.strictObject({
  token: withCrossCheck(
    z.strictObject({
      key: keyText
        .optional()
        .meta({ description: 'The private signing key: PEM (PKCS#8) or a private JWK.' }),
      secret: z
        .string()
        .min(32)
        .optional()
        .meta({ description: 'The shared secret for HS256/HS384/HS512, at least 32 bytes.' }),
      alg: z.enum(['HS256', 'HS384', 'HS512', 'EdDSA', 'ES256', 'ES384', 'RS256', 'PS256']),
      kid: z.string().min(1).optional(),
      header: z.string().min(1).optional(),
      ttlSec: ms().optional(),
      issuer: z.string().min(1).optional(),
      audience: z.string().min(1).optional(),
    }),
    (token, report) => {
      if (isObject(token) && (token.key === undefined) === (token.secret === undefined))
        report([], "give exactly one of 'key' (EdDSA, ES*, RS*, PS*) or 'secret' (HS*)");
    },
  ).optional(),
  headers: forwardOptionsSchema.shape.headers,
});

const auth = authOptionsSchema.shape;

/** `auth`: the same rules, requirements and options as `gw.auth()`, with methods described. */
export const authFileSchema = z.strictObject({
  methods: z.array(authMethodFileSchema).readonly(),
  combine: auth.combine,
  rules: auth.rules,
  default: auth.default,
  realm: auth.realm,
  forward: forwardFileSchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// Rate limits: the store as a description
// ---------------------------------------------------------------------------------------------

/** Where limiter counters live: this process, or Redis shared by a fleet. */
export const limiterStoreFileSchema = z.union([
  z.literal('memory'),
  z.strictObject({ memory: memoryStoreOptionsSchema }),
  z.strictObject({ redis: redisStoreOptionsSchema }),
]);

/** One limiter: `gw.rateLimit()`'s options, with `store` described. */
export const rateLimitFileSchema = extendOptions(rateLimitOptionsSchema, {
  store: limiterStoreFileSchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// Admin: core's, and a requirement on the principal gw.auth() found
// ---------------------------------------------------------------------------------------------

const coreAdmin = core.admin.unwrap();
const coreAccess = coreAdmin.shape.access.unwrap();
const coreWrite = coreAccess.shape.write.unwrap();
const requireOption = (who: string) =>
  requirementSchema.optional().meta({
    description: `${who} meeting this requirement on the principal gw.auth() finds (roles, scopes) are admitted; others get auth's 401/403.`,
  });

export const adminFileSchema = extendOptions(coreAdmin, {
  dashboard: z
    .union([z.boolean(), dashboardOptionsSchema], { error: 'must be true, false or an object' })
    .optional()
    .meta({
      description:
        'The migration dashboard (@gatehousejs/dashboard, gw.dashboard()) at {prefix}/dashboard, behind admin.access (its buttons are writes): true for the defaults, or its options. Cannot change at run time (restart).',
      default: false,
    }),
  access: extendOptions(coreAccess, {
    require: requireOption('Callers'),
    write: extendOptions(coreWrite, { require: requireOption('Writers') })
      .optional()
      .meta({
        description:
          'Who may write (POST and DELETE: the admin write API, /config/reload, /cache/purge) instead of peers, ports and require above. Default: those (never dangerouslyPublic).',
      }),
  })
    .optional()
    .meta({
      description:
        'Who may use the admin endpoints besides /health and /ready; any one entry grants access. Writes are admitted by peers, ports and require (or write), never by dangerouslyPublic. Default: nobody (403).',
    }),
}).meta({
  description:
    'The admin endpoints: /health, /ready, /routes, /migration, /config, /metrics and the write API.',
});

/** The listener `gw.listen()` opens. */
export const serverFileSchema = z
  .strictObject({
    port: z
      .int()
      .min(0)
      .max(65_535)
      .optional()
      .meta({ description: 'TCP port; 0 picks a free one.', default: 8080 }),
    host: z.string().min(1).optional().meta({ description: 'Address to listen on.' }),
  })
  .meta({ description: 'The listener gw.listen() opens (cannot change at run time).' });

// ---------------------------------------------------------------------------------------------
// The whole configuration
// ---------------------------------------------------------------------------------------------

/** The whole gateway's configuration, as a file (YAML or JSON) or an etcd key holds it. */
export const gatehouseConfigSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'The JSON Schema this file follows; ignored.' }),
    server: serverFileSchema.optional(),
    services: z.record(serviceName, serviceFileSchema).optional().meta({
      description:
        "Upstream services by name (lower-case letters, digits and '-'): where their instances are and how the mesh client calls them.",
    }),
    routes: z.array(routeFileSchema).readonly().optional().meta({
      description:
        'The route table (@gatehousejs/routes): where matching requests go and how far their migration is (local, shadow, split, fallback, remote). Matched in order.',
    }),
    routing: routingFileSchema.optional(),
    tracing: tracingOptionsSchema.optional().meta({
      description: 'Server spans, trace propagation and metrics (gw.tracing()). Mounted first when present.',
    }),
    accessLog: z
      .union([z.literal(true), accessLogOptionsSchema])
      .optional()
      .meta({ description: 'One JSON line per request (gw.accessLog()); true for the defaults.' }),
    auth: authFileSchema
      .optional()
      .meta({ description: 'Authentication methods, per-route rules and identity forwarding (gw.auth()).' }),
    rateLimit: z
      .union([rateLimitFileSchema, z.array(rateLimitFileSchema).min(1).readonly()])
      .optional()
      .meta({
        description:
          'Rate limits (gw.rateLimit()): one limiter, or several in order, each with its own name.',
      }),
    deadline: z
      .union([z.literal(true), deadlineOptionsSchema])
      .optional()
      .meta({ description: 'Honour an incoming x-deadline-ms (gw.deadline()); true for the defaults.' }),
    versioning: versioningOptionsSchema.optional().meta({ description: 'API versioning (gw.version()).' }),
    openapi: openapiOptionsSchema.optional().meta({
      description:
        "OpenAPI request and response validation (gw.validate()); 'document' is a path relative to this file.",
    }),
    aggregate: z
      .array(aggregateOptionsSchema)
      .readonly()
      .optional()
      .meta({ description: 'BFF compositions (gw.aggregate()), each answering its own path.' }),
    cache: cacheOptionsSchema.optional().meta({
      description: 'The RFC 9111 response cache used by cache: true routes, clients and compositions.',
    }),
    admin: adminFileSchema.optional(),
    paths: core.paths,
    clientIp: core.clientIp,
    headers: core.headers,
    requestId: core.requestId,
    problems: core.problems,
    limits: core.limits,
    shutdown: core.shutdown,
  })
  .meta({ title: 'Gatehouse configuration' });

/** A configuration as written (YAML or JSON), before defaults. */
export type GatehouseConfigInput = z.input<typeof gatehouseConfigSchema>;
/** A configuration after checking (zod's output: defaults of the package schemas filled in). */
export type GatehouseConfig = z.output<typeof gatehouseConfigSchema>;

/** The top-level keys, in the order of the schema (and of `gatehouse init`'s file). */
export const CONFIG_KEYS = Object.keys(gatehouseConfigSchema.shape) as readonly (keyof GatehouseConfig)[];

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
