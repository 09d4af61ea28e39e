import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, parseConfigText, resolveConfig } from './index.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../gatehouse.schema.json', import.meta.url));
const SAMPLE_FILE = fileURLToPath(new URL('./gatehouse.example.yaml', import.meta.url));
const REGENERATE =
  'GATEHOUSE_WRITE_SCHEMA=1 npx vitest run --project core packages/core/src/config/schema.test.ts';

/** The exact text of packages/core/gatehouse.schema.json. */
function renderConfigJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema, null, 2)}\n`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

/**
 * Just enough of JSON Schema 2020-12 to check the generated schema against valibot: the keywords it
 * uses. Returns the paths where `value` fails.
 */
function jsonSchemaErrors(schema: Schema, value: Json, path = '$'): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path}: ${why}`);
  const type = schema['type'];
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (type !== undefined) {
    const ok = type === 'integer' ? Number.isInteger(value) : type === actual;
    if (!ok) return [`${path}: expected ${String(type)}`];
  }
  if ('const' in schema && schema['const'] !== value) fail('const');
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value as never)) fail('enum');
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'], 'u').test(value))
      fail('pattern');
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) fail('minLength');
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) fail('minimum');
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) fail('maximum');
  }
  if (Array.isArray(value)) {
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) fail('minItems');
    if (
      schema['uniqueItems'] === true &&
      new Set(value.map((v) => JSON.stringify(v))).size !== value.length
    ) {
      fail('uniqueItems');
    }
    const items = schema['items'] as Schema | undefined;
    if (items !== undefined)
      for (const [i, v] of value.entries()) errors.push(...jsonSchemaErrors(items, v, `${path}[${i}]`));
  }
  if (actual === 'object') {
    const object = value as { [key: string]: Json };
    const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const key of (schema['required'] ?? []) as string[]) if (!(key in object)) fail(`required ${key}`);
    for (const [key, v] of Object.entries(object)) {
      const names = schema['propertyNames'] as Schema | undefined;
      if (names !== undefined) errors.push(...jsonSchemaErrors(names, key, `${path}.${key} (name)`));
      const property = properties[key];
      const additional = schema['additionalProperties'] as Schema | boolean | undefined;
      if (property !== undefined) errors.push(...jsonSchemaErrors(property, v, `${path}.${key}`));
      else if (additional === false) fail(`additional property ${key}`);
      else if (typeof additional === 'object')
        errors.push(...jsonSchemaErrors(additional, v, `${path}.${key}`));
    }
  }
  if (Array.isArray(schema['anyOf'])) {
    const branches = schema['anyOf'] as Schema[];
    if (!branches.some((branch) => jsonSchemaErrors(branch, value, path).length === 0)) fail('anyOf');
  }
  if (
    typeof schema['not'] === 'object' &&
    jsonSchemaErrors(schema['not'] as Schema, value, path).length === 0
  ) {
    fail('not');
  }
  return errors;
}

const schema = configJsonSchema as Schema;

describe('configJsonSchema', () => {
  it('matches the committed packages/core/gatehouse.schema.json', () => {
    const generated = renderConfigJsonSchema();
    if (process.env['GATEHOUSE_WRITE_SCHEMA'] === '1') writeFileSync(SCHEMA_FILE, generated);
    let committed = '';
    try {
      committed = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // compared below, with the message saying how to create it
    }
    expect(
      committed === generated,
      `packages/core/gatehouse.schema.json is out of date with the valibot schema; regenerate it with:\n  ${REGENERATE}\n`,
    ).toBe(true);
  });

  it('is a draft 2020-12 schema with $id, title and description', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['$id']).toBe('https://unpkg.com/@gatehousejs/core/gatehouse.schema.json');
    expect(schema['title']).toBe('Gatehouse configuration');
    expect(schema['description']).toMatch(/yaml-language-server/);
    expect(Object.keys(schema['properties'] as object)).toEqual([
      '$schema',
      'services',
      'routes',
      'paths',
      'clientIp',
      'headers',
      'requestId',
      'problems',
      'admin',
      'limits',
      'shutdown',
    ]);
    expect(Object.isFrozen(configJsonSchema)).toBe(true);
  });

  it('leaves out functions', () => {
    const requestId = (schema['properties'] as Record<string, Schema>)['requestId']!;
    expect(Object.keys(requestId['properties'] as object)).toEqual(['header', 'trustIncoming', 'maxLength']);
    expect(JSON.stringify(schema)).not.toMatch(/generate/);
  });

  it('gives every setting a description, and every optional setting with a default its default', () => {
    const sections = schema['properties'] as Record<string, Schema>;
    const defaults: Record<string, Json> = {};
    for (const [name, section] of Object.entries(sections)) {
      expect(section['description'], name).toEqual(expect.any(String));
      for (const [key, setting] of Object.entries((section['properties'] ?? {}) as Record<string, Schema>)) {
        expect(setting['description'], `${name}.${key}`).toEqual(expect.any(String));
        defaults[`${name}.${key}`] = setting['default'] ?? null;
      }
    }
    expect(defaults).toEqual({
      'paths.encodedSlashes': 'reject',
      'paths.mergeSlashes': true,
      'paths.trailingSlash': 'strip',
      'paths.pathParams': 'strip',
      'paths.caseSensitive': false,
      'paths.nonCanonical': 'rewrite',
      'clientIp.trustedProxies': false,
      'clientIp.header': 'x-forwarded-for',
      'headers.strip': [],
      'headers.stripDefaults': true,
      'requestId.header': 'x-request-id',
      'requestId.trustIncoming': true,
      'requestId.maxLength': 128,
      'problems.typeBase': 'urn:gatehouse:error:',
      'admin.prefix': '',
      'admin.access': {},
      'admin.reveal': {},
      'limits.maxHeaders': 100,
      'limits.headersTimeoutMs': 10_000,
      'limits.requestTimeoutMs': 60_000,
      'limits.keepAliveTimeoutMs': 5_000,
      'shutdown.drainTimeoutMs': 10_000,
      'shutdown.readinessGraceMs': 0,
    });
  });

  it('agrees with validation: what resolves passes the JSON Schema', () => {
    const valid: Json[] = [
      {},
      { $schema: './gatehouse.schema.json' },
      {
        services: { orders: { url: 'http://orders' }, 'user-svc': { endpoints: ['http://a', 'https://b'] } },
        routes: [{ path: '/orders/:id', to: 'orders', methods: ['GET', 'M-SEARCH'] }],
        clientIp: { trustedProxies: 2 },
        headers: { strip: ['x-internal-*'] },
      },
      { clientIp: { trustedProxies: ['loopback', '::1/128'] }, admin: { prefix: '/a/b' } },
      {
        admin: { access: { peers: ['loopback', '10.0.0.0/8'], ports: [9090] }, reveal: { filePaths: true } },
        limits: {
          maxHeaders: 50,
          headersTimeoutMs: 5_000,
          requestTimeoutMs: 30_000,
          keepAliveTimeoutMs: 65_000,
        },
      },
      { admin: { access: { dangerouslyPublic: true } } },
    ];
    for (const config of valid) {
      expect(() => resolveConfig(config)).not.toThrow();
      expect(jsonSchemaErrors(schema, config), JSON.stringify(config)).toEqual([]);
    }
  });

  it('agrees with validation: editors flag what validation rejects', () => {
    const invalid: Json[] = [
      { routs: [] },
      { services: { Orders: { url: 'http://a' } } },
      { services: { local: { url: 'http://a' } } },
      { services: { constructor: { url: 'http://a' } } },
      { services: { a: { url: 'ftp://a' } } },
      { services: { a: { url: 'http://a', endpoints: ['http://b'] } } },
      { services: { a: { endpoints: [] } } },
      { services: { a: { endpoints: ['http://a', 'http://a'] } } },
      { routes: [{ path: 'x', to: 'local' }] },
      { routes: [{ path: '/x' }] },
      { routes: [{ path: '/x', to: 'local', methods: ['get'] }] },
      { routes: [{ path: '/x', to: 'local', methods: ['GET', 'GET'] }] },
      { paths: { trailingSlash: 'remove' } },
      { clientIp: { trustedProxies: true } },
      { clientIp: { trustedProxies: 33 } },
      { headers: { strip: ['bad header'] } },
      { requestId: { maxLength: 4 } },
      { requestId: { generate: 'uuid' } },
      { problems: { typeBase: '/relative' } },
      { admin: { prefix: '/admin/' } },
      { admin: { access: { ports: [0] } } },
      { admin: { access: { ports: [9090, 9090] } } },
      { admin: { access: { dangerouslyPublic: 'yes' } } },
      { admin: { acess: {} } },
      { admin: { reveal: { paths: true } } },
      { limits: { maxHeaders: 0 } },
      { limits: { maxHeaders: 2000 } },
      { limits: { headersTimeoutMs: '10s' } },
      { limits: { keepAliveTimeoutMs: 0 } },
      { shutdown: { drainTimeoutMs: '5s' } },
      { shutdown: { drainTimeoutMs: 1.5 } },
    ];
    for (const config of invalid) {
      expect(() => resolveConfig(config), JSON.stringify(config)).toThrow();
      expect(jsonSchemaErrors(schema, config), JSON.stringify(config)).not.toEqual([]);
    }
  });
});

describe('the sample configuration', () => {
  const text = readFileSync(SAMPLE_FILE, 'utf8');

  it('references the schema for editors', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../gatehouse.schema.json');
  });

  it('is valid and resolves as written, with defaults filled in', () => {
    const config = parseConfigText(text, SAMPLE_FILE);
    expect(config.services).toEqual({
      orders: { url: 'http://orders.internal:8080' },
      users: { endpoints: ['http://users-1.internal:8080', 'http://users-2.internal:8080'] },
    });
    expect(config.routes).toEqual([
      { path: '/orders/*', to: 'orders', methods: ['GET', 'POST'] },
      { path: '/users/:id', to: 'users' },
      { path: '/health', to: 'local' },
    ]);
    expect(config.paths).toEqual({
      encodedSlashes: 'reject',
      mergeSlashes: true,
      trailingSlash: 'strip',
      pathParams: 'strip',
      caseSensitive: false,
      nonCanonical: 'rewrite',
    });
    expect(config.clientIp).toEqual({
      trustedProxies: ['loopback', '10.0.0.0/8'],
      header: 'x-forwarded-for',
    });
    expect(config.headers).toEqual({ strip: ['x-internal-*'], stripDefaults: true });
    expect(config.requestId).toMatchObject({ header: 'x-request-id', trustIncoming: true, maxLength: 64 });
    expect(config.problems.typeBase).toBe('https://errors.example.com/');
    expect(config.admin.prefix).toBe('/_gatehouse');
    expect(config.shutdown.drainTimeoutMs).toBe(15_000);
  });

  it('passes the JSON Schema editors use', async () => {
    const { parse } = await import('yaml');
    expect(jsonSchemaErrors(schema, parse(text) as Json)).toEqual([]);
  });
});
