// The JSON Schema editors use, checked against the validator it is generated from: the committed file
// is what the schema generates; documents both accept, documents both refuse (fixed ones and seeded
// mutations of a full configuration), and the checks only the validator makes, listed.
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '@gatehousejs/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { unusedKeyDocs } from './descriptions.js';
import { configJsonSchema, configJsonSchemaText, contradictedDefaults } from './json-schema.js';
import { checkGatehouseConfig } from './load.js';
import { configReference } from './reference.js';

const committed = new URL('../../gatehouse.schema.json', import.meta.url);

test('packages/gateway/gatehouse.schema.json is the schema the validator generates', () => {
  const generated = configJsonSchemaText();
  // GATEHOUSE_WRITE_SCHEMA=1 npx vitest run --project gateway packages/gateway/src/config/json-schema.test.ts
  if (process.env.GATEHOUSE_WRITE_SCHEMA === '1') writeFileSync(committed, generated);
  expect(readFileSync(committed, 'utf8'), 'regenerate it: GATEHOUSE_WRITE_SCHEMA=1 npx vitest run …').toBe(
    generated,
  );
});

test('docs/configuration.md is the reference the schema generates', () => {
  const file = new URL('../../../../docs/configuration.md', import.meta.url);
  const generated = configReference();
  if (process.env.GATEHOUSE_WRITE_SCHEMA === '1') writeFileSync(file, generated);
  expect(readFileSync(file, 'utf8'), 'regenerate it: GATEHOUSE_WRITE_SCHEMA=1 npx vitest run …').toBe(
    generated,
  );
  // Every top-level key has its section.
  for (const key of Object.keys(configJsonSchema.properties as object).filter((k) => k !== '$schema'))
    expect(generated).toContain(`## \`${key}\``);
});

test('every key of the reference has its meaning and its default (descriptions.ts fills what a schema leaves out)', () => {
  const rows = configReference()
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()));
  expect(rows.length).toBeGreaterThan(500);
  const withoutMeaning = rows.filter((cells) => cells[4] === '').map((cells) => cells[1]);
  const withoutDefault = rows.filter((cells) => cells[3] === '').map((cells) => cells[1]);
  expect(withoutMeaning, 'add a description (descriptions.ts or the package schema)').toEqual([]);
  expect(withoutDefault, 'add a default (descriptions.ts or the package schema)').toEqual([]);
  // Entries that name no key, or state a default other than the package's own, are mistakes.
  expect(unusedKeyDocs(), 'entries of descriptions.ts that no key uses').toEqual([]);
  expect(contradictedDefaults).toEqual([]);
  // A value default is given to editors too; one in words (what leaving the key out means) only here.
  const port = (configJsonSchema.properties as Record<string, { properties: Record<string, unknown> }>)
    .server!.properties.port as { default?: unknown };
  expect(port.default).toBe(8080);
  expect(rows.find((cells) => cells[1] === '`routes[].methods`')?.[3]).toBe('every method');
  expect(rows.find((cells) => cells[1] === '`routes[].promotion.holdMs`')?.slice(3, 5)).toEqual([
    '`300000`',
    'Least time in a step before the next, in ms.',
  ]);
});

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
(addFormats as unknown as (instance: Ajv2020) => void)(ajv);
const schemaAccepts = ajv.compile(configJsonSchema as object);

function validatorAccepts(document: unknown): boolean {
  try {
    checkGatehouseConfig(document);
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

/** A configuration using every section (what README examples use). */
const FULL = {
  server: { port: 8080, host: '127.0.0.1' },
  services: {
    orders: {
      url: 'http://127.0.0.1:8081',
      timeouts: { connectMs: 500, totalMs: 5000 },
      retry: { maxAttempts: 2, budget: { ratio: 0.2 } },
      breaker: { endpoint: { mode: 'consecutive', threshold: 5 } },
      balancer: 'p2c',
    },
    users: { endpoints: ['http://10.0.0.5:8080', 'http://10.0.0.6:8080'], healthCheck: { path: '/health' } },
    search: { dns: { name: '_http._tcp.search.internal', type: 'SRV' } },
  },
  routes: [
    {
      name: 'orders',
      path: '/orders/*',
      service: 'orders',
      mode: 'split',
      weight: 10,
      sticky: { cookie: 'session' },
      gates: { maxErrorRateDelta: 0.02, minRequests: 50 },
      diff: { ignore: ['/updatedAt'] },
    },
    { name: 'users', path: ['/users/*', '/profiles/*'], service: 'users', mode: 'shadow' },
    { path: '/health', mode: 'local' },
  ],
  routing: { override: { header: 'x-route' }, gateIntervalMs: 500 },
  tracing: { propagators: ['tracecontext', 'baggage'], metrics: { prometheus: true } },
  accessLog: { headers: ['user-agent'] },
  auth: {
    methods: [
      { jwt: { issuer: 'https://idp.example', audience: 'api', jwks: { url: 'https://idp.example/jwks' } } },
      { apiKey: { keys: [{ id: 'partner', hash: `sha256:${'a'.repeat(64)}`, scopes: ['orders:read'] }] } },
    ],
    rules: [
      { path: '/public/*', anonymous: true },
      { path: '/orders/*', scopes: ['orders:read'] },
    ],
    default: 'authenticated',
    forward: { headers: { 'x-user-id': 'id' } },
  },
  rateLimit: [
    {
      name: 'global',
      limits: [{ points: 100, duration: '1m' }],
      routes: [{ path: '/health', exempt: true }],
    },
    {
      name: 'tiers',
      tiers: { free: [{ points: 10, duration: 60 }], pro: [] },
      defaultTier: 'free',
      store: 'memory',
    },
  ],
  deadline: true,
  versioning: { versions: ['1', '2'], sources: ['header'], default: 'latest' },
  aggregate: [
    {
      name: 'order-screen',
      path: '/screens/orders/:id',
      calls: {
        order: { service: 'orders', path: '/orders/{/params/id}' },
        customer: { service: 'users', path: '/users/{/order/customerId}', policy: 'optional' },
      },
    },
  ],
  cache: { store: 'memory', memory: { maxEntries: 1000 } },
  admin: {
    prefix: '/_gatehouse',
    access: { peers: ['loopback'], require: { roles: ['ops'] } },
    reveal: { filePaths: true },
  },
  paths: { trailingSlash: 'strip' },
  clientIp: { trustedProxies: ['loopback', '10.0.0.0/8'] },
  headers: { strip: ['x-internal-*'] },
  requestId: { header: 'x-request-id' },
  problems: { typeBase: 'https://errors.example.com/' },
  limits: { maxHeaders: 80 },
  shutdown: { drainTimeoutMs: 5000 },
};

describe('the JSON Schema and the validator agree', () => {
  test('a configuration using every section: both accept', () => {
    expect(validatorAccepts(FULL)).toBe(true);
    expect(schemaAccepts(FULL), JSON.stringify(schemaAccepts.errors)).toBe(true);
  });

  test('what only code can give is not in the schema', () => {
    const text = configJsonSchemaText();
    for (const key of [
      '"meterProvider"',
      '"resolver"',
      '"tracer"',
      '"guard"',
      '"allow"',
      '"clock"',
      '"shape"',
      '"parse"',
    ]) {
      expect(text.includes(key), `${key} is code-only`).toBe(false);
    }
    const properties = configJsonSchema.properties as Record<string, { anyOf?: { properties?: object }[] }>;
    const limiter = properties.rateLimit!.anyOf![0]!.properties as Record<string, unknown>;
    expect(Object.keys(limiter)).not.toContain('tier');
    expect(JSON.stringify(limiter.store)).toContain('"redis"');
  });

  const refusedByBoth: Record<string, unknown> = {
    'an unknown top-level key': { servces: {} },
    'an unknown key in a route': { routes: [{ path: '/a', mode: 'local', weigth: 1 }] },
    'a mode that does not exist': {
      services: { a: { url: 'http://a' } },
      routes: [{ path: '/a', service: 'a', mode: 'shadw' }],
    },
    'a weight over 100': {
      services: { a: { url: 'http://a' } },
      routes: [{ path: '/a', service: 'a', mode: 'split', weight: 101 }],
    },
    'a service name with capitals': { services: { Orders: { url: 'http://a' } } },
    'the service name local': { services: { local: { url: 'http://a' } } },
    'a URL that is not http(s)': { services: { a: { url: 'ftp://a' } } },
    'a duration with milliseconds': { rateLimit: { limits: [{ points: 1, duration: '10ms' }] } },
    'a fractional timeout': { services: { a: { url: 'http://a', timeouts: { totalMs: 1.5 } } } },
    'a port out of range': { server: { port: 70000 } },
    'a boolean written as a word': { paths: { mergeSlashes: 'yes' } },
    'an auth method of an unknown kind': { auth: { methods: [{ oauth: {} }] } },
    'an API key hash that is not sha256': {
      auth: { methods: [{ apiKey: { keys: [{ id: 'a', hash: 'md5:00' }] } }] },
    },
    'an unknown propagator': { tracing: { propagators: ['zipkin'] } },
    'a composition call without a service': { aggregate: [{ calls: { a: { path: '/a' } } }] },
    'a cache store that does not exist': { cache: { store: 'disk' } },
    'a request id header with a space': { requestId: { header: 'x request id' } },
    'admin access to every proxy (true)': { clientIp: { trustedProxies: true } },
  };
  for (const [name, document] of Object.entries(refusedByBoth)) {
    test(`${name}: both refuse`, () => {
      expect(validatorAccepts(document)).toBe(false);
      expect(schemaAccepts(document)).toBe(false);
    });
  }

  // What a JSON Schema cannot state; the validator (and `gatehouse validate`) finds it.
  const validatorOnly: Record<string, unknown> = {
    'a route naming a service that is not configured': { routes: [{ path: '/a', service: 'nope' }] },
    'two routes with one name': {
      routes: [
        { name: 'a', path: '/a', mode: 'local' },
        { name: 'a', path: '/b', mode: 'local' },
      ],
    },
    'a route that can never match': {
      routes: [
        { path: '/a/*', mode: 'local' },
        { path: '/a/b', mode: 'local' },
      ],
    },
    'a cycle between calls': {
      services: { a: { url: 'http://a' } },
      aggregate: [
        { calls: { x: { service: 'a', path: '/x/{/y/id}' }, y: { service: 'a', path: '/y/{/x/id}' } } },
      ],
    },
    'a path pattern ending in /': { routes: [{ path: '/a/', mode: 'local' }] },
    'both url and endpoints': { services: { a: { url: 'http://a', endpoints: ['http://b'] } } },
    'a URL with credentials': { services: { a: { url: 'http://user:pw@a' } } },
    'a headers timeout over the request timeout': { limits: { headersTimeoutMs: 90_000 } },
  };
  for (const [name, document] of Object.entries(validatorOnly)) {
    test(`${name}: only the validator refuses`, () => {
      expect(schemaAccepts(document), JSON.stringify(schemaAccepts.errors)).toBe(true);
      expect(validatorAccepts(document)).toBe(false);
    });
  }

  /** Every path to a value in `value`, objects and arrays included. */
  function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
    const own = [at];
    if (Array.isArray(value)) return [...own, ...value.flatMap((v, i) => paths(v, [...at, i]))];
    if (typeof value === 'object' && value !== null)
      return [...own, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]))];
    return own;
  }
  const objectPaths = paths(FULL).filter((p) => {
    const v = p.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], FULL);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  });
  const leafPaths = paths(FULL).filter((p) => {
    const v = p.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], FULL);
    return typeof v !== 'object' || v === null;
  });
  const set = (path: (string | number)[], value: unknown) => {
    const copy = structuredClone(FULL) as Record<string | number, unknown>;
    let node = copy;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
    node[path.at(-1)!] = value;
    return copy;
  };

  test('an unknown key added anywhere: both refuse (seeded)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...objectPaths), (path) => {
        const document = structuredClone(FULL) as Record<string | number, unknown>;
        let node = document;
        for (const k of path) node = node[k] as Record<string | number, unknown>;
        node.zzUnknownKey = 1;
        // Records (services, tiers, headers maps) take any key; their values must still be right.
        const agree = validatorAccepts(document) === schemaAccepts(document);
        expect(
          agree,
          `${path.join('.')}: validator ${validatorAccepts(document)}, schema ${schemaAccepts(document)}`,
        ).toBe(true);
      }),
      { seed: 19, numRuns: 300 },
    );
  });

  // The schema is never stricter than the validator (an editor never flags what Gatehouse accepts);
  // where it is looser, the validator's own checks (a version that is not declared, …) refuse.
  test('a value replaced by one of another JSON type: the schema refuses only what the validator refuses (seeded)', () => {
    const others = (value: unknown): unknown[] =>
      [42, 'text', true, [], {}, null].filter(
        (o) => typeof o !== typeof value || Array.isArray(o) !== Array.isArray(value),
      );
    let bothRefused = 0;
    fc.assert(
      fc.property(fc.constantFrom(...leafPaths), fc.nat(5), (path, pick) => {
        const value = path.reduce<unknown>((node, k) => (node as Record<string | number, unknown>)[k], FULL);
        const choices = others(value);
        const document = set(path, choices[pick % choices.length]);
        const v = validatorAccepts(document);
        const s = schemaAccepts(document);
        if (!v && !s) bothRefused++;
        expect(
          !v || s,
          `${path.join('.')} = ${JSON.stringify(choices[pick % choices.length])}: validator ${v}, schema ${s}`,
        ).toBe(true);
      }),
      { seed: 19, numRuns: 400 },
    );
    // Most replacements are type errors both find.
    expect(bothRefused).toBeGreaterThan(300);
  });
});
