// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} references are what this file is about
// The whole configuration checked from text and objects: every problem at once with file:line:col and
// a suggestion, `${…}` references (values never shown), the old route format, routes that can never
// match (a property against core's real path matcher).
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem, createPathMatcher } from '@gatehousejs/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkGatehouseConfig, parseGatehouseConfig, parsePath, redactForDisplay } from './load.js';
import { covers, unreachableRoutes } from './reachable.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function problems(run: () => unknown): readonly ConfigProblem[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const at = (line: number, column: number, file = 'gatehouse.yaml') => ({ file, line, column });

describe('a configuration with every kind of mistake', () => {
  test('lists every problem at once, in file order, with file:line:col and a suggestion', () => {
    const found = problems(() =>
      parseGatehouseConfig(fixture('every-mistake.yaml'), 'every-mistake.yaml', { env: { PORT: '8080' } }),
    );
    const src = (line: number, column: number) => at(line, column, 'every-mistake.yaml');
    expect(found).toEqual([
      {
        path: 'services.orders.timeouts.totalMs',
        message: 'expected an integer, received the number 1.5',
        source: src(7, 26),
      },
      {
        path: 'services.inventory.retyr',
        message: "unknown key — did you mean 'retry'?",
        source: src(10, 5),
      },
      {
        path: 'routes[0].service',
        message: "unknown service 'ordrs' — did you mean 'orders'? (services: orders, inventory)",
        source: src(14, 14),
      },
      {
        path: 'routes[1].name',
        message: "duplicate route name 'orders' (already at routes[0])",
        source: src(16, 11),
      },
      {
        path: 'routes[1].path',
        message:
          'can never match: routes[0] comes first and takes every request it would (the table is matched in order; move this route above it)',
        source: src(17, 11),
      },
      {
        path: 'routes[2].mode',
        message:
          "expected one of 'local', 'shadow', 'split', 'fallback' or 'remote', received the string 'splt' — did you mean 'split'?",
        source: src(22, 11),
      },
      {
        path: 'rateLimit.limits[0].duration',
        message:
          "expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received the string '10ms'",
        source: src(25, 32),
      },
      {
        path: 'aggregate[0].calls.order.dependsOn',
        message: 'dependency cycle: order → customer → order',
        source: src(30, 14),
      },
    ]);
  });

  test('the same mistakes in JSON have positions too', () => {
    const text = JSON.stringify(
      {
        services: { orders: { url: 'http://a' } },
        routes: [{ path: '/x', service: 'ordrs' }],
        admin: { prefx: '' },
      },
      null,
      2,
    );
    expect(problems(() => parseGatehouseConfig(text, 'g.json'))).toEqual([
      {
        path: 'routes[0].service',
        message: "unknown service 'ordrs' — did you mean 'orders'? (services: orders)",
        source: at(10, 18, 'g.json'),
      },
      { path: 'admin.prefx', message: "unknown key — did you mean 'prefix'?", source: at(14, 5, 'g.json') },
    ]);
  });

  test('a syntax error is one problem, with the cascade after it counted, not listed', () => {
    const found = problems(() =>
      parseGatehouseConfig('routes:\n  - { path: /a\n  - name: b\n', 'gatehouse.yaml'),
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.source?.line).toBeGreaterThanOrEqual(2);
    expect(found[0]!.message).toMatch(/^syntax error: /);
  });

  test('cross-key problems: admin.access.require without auth, limiter names, auth method names and kinds', () => {
    const found = problems(() =>
      checkGatehouseConfig({
        admin: { access: { peers: ['loopback'], require: { roles: ['ops'] } } },
        rateLimit: [{ limits: [{ points: 1, duration: 1 }] }, { limits: [{ points: 2, duration: 1 }] }],
        auth: {
          methods: [
            { apiKey: { keys: [{ id: 'a', key: 'k1234' }] } },
            { apiKey: { keys: [] } },
            { jwt: { issuer: 'x' } },
          ],
          rules: [{ path: '/a', methods: ['api-kee'] }],
        },
      }),
    );
    expect(found.map((p) => `${p.path}: ${p.message}`)).toEqual([
      // The JWT method's own schema (@gatehousejs/auth's jwtOptionsSchema) finds what it lacks.
      'auth.methods[2].jwt: one of `jwks` or `keys` is required',
      'auth.methods[2].jwt.audience: is required',
      "auth.methods[1].apiKey: 'apiKey' is already auth.methods[0]: one method of each kind",
      "auth.rules[0].methods[0]: no method 'api-kee' in auth.methods — did you mean 'api-key'? (configured: api-key, jwt)",
      "rateLimit[1].name: two limiters are named 'default' (already rateLimit[0]): give each its own 'name'",
    ]);
    expect(
      problems(() =>
        checkGatehouseConfig({
          admin: { access: { require: { roles: ['ops'] }, write: { require: { roles: ['ops'] } } } },
        }),
      ),
    ).toEqual([
      {
        path: 'admin.access.require',
        message: "needs 'auth': the requirement is checked on the principal gw.auth() finds",
      },
      {
        path: 'admin.access.write.require',
        message: "needs 'auth': the requirement is checked on the principal gw.auth() finds",
      },
    ]);
    // access.write has the access keys and require, each checked.
    expect(
      problems(() =>
        checkGatehouseConfig({
          auth: { methods: [{ apiKey: { keys: [{ id: 'a', key: 'k1234' }] } }] },
          admin: { access: { write: { peers: ['loopbak'], requires: { roles: ['ops'] } } } },
        }),
      ).map((p) => p.path),
    ).toEqual(['admin.access.write.peers[0]', 'admin.access.write.requires']);
    // An unknown key under core's sections is found by the schema and by core's own check: listed once.
    expect(problems(() => checkGatehouseConfig({ admin: { access: { pers: ['loopback'] } } }))).toEqual([
      { path: 'admin.access.pers', message: "unknown option; did you mean 'peers'?" },
    ]);
  });

  test('the identity method: one of key or secret, each checked against alg, when the file is read', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = (kind: 'public' | 'private') =>
      kind === 'public'
        ? (publicKey.export({ type: 'spki', format: 'pem' }) as string)
        : (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const identity = (options: Record<string, unknown>) => () =>
      checkGatehouseConfig({ auth: { methods: [{ identity: options }], default: 'anonymous' } });
    const at = (found: readonly ConfigProblem[]) => found.map((p) => `${p.path}: ${p.message}`);
    expect(at(problems(identity({ alg: 'EdDSA' })))).toEqual([
      "auth.methods[0].identity: give exactly one of 'key' (EdDSA, ES*, RS*, PS*; an 'oct' JWK for HS*) or 'secret' (HS*)",
    ]);
    expect(at(problems(identity({ alg: 'EdDSA', key: pem('private') })))).toEqual([
      'auth.methods[0].identity.key: is a private key; configure the public key',
    ]);
    expect(at(problems(identity({ alg: 'EdDSA', secret: 'x'.repeat(64) })))).toEqual([
      "auth.methods[0].identity.secret: EdDSA verifies with a public key: give 'key', not 'secret'",
    ]);
    expect(at(problems(identity({ alg: 'HS384', secret: 'x'.repeat(47) })))).toEqual([
      'auth.methods[0].identity.secret: an HS384 secret must be at least 48 bytes',
    ]);
    expect(at(problems(identity({ alg: 'EdDSA', key: pem('public'), cache: { maxx: 1 } })))).toEqual([
      "auth.methods[0].identity.cache.maxx: unknown option; did you mean 'max'?",
    ]);
    // Valid: PEM text, a public JWK, an HS secret as text; rules name the method 'identity'.
    for (const given of [
      { alg: 'EdDSA', key: pem('public') },
      { alg: 'EdDSA', key: publicKey.export({ format: 'jwk' }) },
      { alg: 'HS256', secret: 'x'.repeat(32), issuer: 'edge', audience: 'orders', cache: false },
    ]) {
      const loaded = checkGatehouseConfig({
        auth: { methods: [{ identity: given }], rules: [{ path: '/orders/*', methods: ['identity'] }] },
      });
      expect(loaded.config.auth?.methods[0]?.identity).toMatchObject(given);
    }
    expect(
      at(
        problems(() =>
          checkGatehouseConfig({
            auth: {
              methods: [{ identity: { alg: 'EdDSA', key: pem('public') } }],
              rules: [{ path: '/a', methods: ['identty'] }],
            },
          }),
        ),
      ),
    ).toEqual([
      "auth.rules[0].methods[0]: no method 'identty' in auth.methods — did you mean 'identity'? (configured: identity)",
    ]);
  });

  test("core's own checks across keys are made on its part", () => {
    const found = problems(() => checkGatehouseConfig({ limits: { headersTimeoutMs: 90_000 } }));
    expect(found).toEqual([
      { path: 'limits.headersTimeoutMs', message: 'must not exceed limits.requestTimeoutMs (60000)' },
    ]);
  });

  test('an OpenAPI document that does not exist, read relative to the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    expect(
      problems(() => checkGatehouseConfig({ openapi: { document: 'openapi.yaml' } }, { baseDir: dir })),
    ).toEqual([{ path: 'openapi.document', message: `no such file: 'openapi.yaml' (read from ${dir})` }]);
    writeFileSync(join(dir, 'openapi.yaml'), 'openapi: 3.1.0\n');
    expect(() =>
      checkGatehouseConfig({ openapi: { document: 'openapi.yaml' } }, { baseDir: dir }),
    ).not.toThrow();
  });
});

describe('${…} references', () => {
  test('environment variables, defaults, $${ escapes; a whole reference reads as the number or boolean a key takes', () => {
    const loaded = parseGatehouseConfig(
      [
        'server:',
        '  port: ${PORT}',
        '  host: ${HOST:-127.0.0.1}',
        'services:',
        '  orders: { url: "http://${ORDERS_HOST}:8081" }',
        'auth:',
        '  methods: [{ apiKey: { keys: [{ id: "${TENANT}", key: "${KEY}" }] } }]',
        '  realm: "$${literal}"',
        'admin:',
        '  access:',
        '    dangerouslyPublic: ${PUBLIC}',
      ].join('\n'),
      'gatehouse.yaml',
      {
        env: {
          PORT: '8081',
          ORDERS_HOST: 'orders.internal',
          TENANT: '1234',
          KEY: 'k-12345',
          PUBLIC: 'false',
        },
      },
    );
    expect(loaded.config.server).toEqual({ port: 8081, host: '127.0.0.1' });
    expect(loaded.config.services?.orders?.url).toBe('http://orders.internal:8081');
    // A key that takes a string keeps the digits as text.
    expect(loaded.config.auth?.methods[0]?.apiKey?.keys?.[0]).toMatchObject({ id: '1234', key: 'k-12345' });
    expect(loaded.config.auth?.realm).toBe('${literal}');
    expect(loaded.config.admin?.access?.dangerouslyPublic).toBe(false);
  });

  test('an unset variable or an unreadable file is a problem at its value, with the reference, not the value', () => {
    const found = problems(() =>
      parseGatehouseConfig(
        'server:\n  host: ${NOPE}\nauth:\n  methods: []\n  realm: ${file:/no/such/secret}\n',
        'gatehouse.yaml',
        {
          env: {},
        },
      ),
    );
    expect(found).toEqual([
      {
        path: 'server.host',
        message: 'the environment variable NOPE is not set (give it a value, or a default: ${NOPE:-value})',
        source: at(2, 9),
      },
      {
        path: 'auth.realm',
        message: "cannot read the secret file '/no/such/secret' (ENOENT)",
        source: at(5, 10),
      },
    ]);
  });

  test('secrets are never printed: a refused value shows its reference; /config shows references and redacts secret keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-secret-'));
    writeFileSync(join(dir, 'port'), 'hunter2-port-secret\n');
    writeFileSync(join(dir, 'client'), 's3cr3t-client-value\n');
    const text = [
      'server:',
      '  port: ${file:port}',
      'auth:',
      '  methods:',
      '    - introspection:',
      '        endpoint: https://idp.example/introspect',
      '        clientId: gatehouse',
      '        clientSecret: ${file:client}',
      '    - apiKey: { keys: [{ id: partner, key: inline-plaintext-key }] }',
      'cache: { store: redis, redis: { url: "redis://user:pa55word@cache:6379" } }',
    ].join('\n');
    const found = problems(() => parseGatehouseConfig(text, 'gatehouse.yaml', { baseDir: dir }));
    expect(found).toEqual([
      {
        path: 'server.port',
        message: "expected an integer, received the string '${file:port}'",
        source: at(2, 9),
      },
    ]);
    const fixed = text.replace('  port: ${file:port}', '  port: 8080');
    const loaded = parseGatehouseConfig(fixed, 'gatehouse.yaml', { baseDir: dir });
    expect(loaded.config.auth?.methods[0]?.introspection?.clientSecret).toBe('s3cr3t-client-value');
    const shown = JSON.stringify(loaded.shown);
    for (const secret of ['s3cr3t-client-value', 'inline-plaintext-key', 'pa55word'])
      expect(shown).not.toContain(secret);
    expect(shown).toContain('"clientSecret":"${file:client}"');
    expect(shown).toContain('"key":"[redacted]"');
    expect(shown).toContain('redis://user:[redacted]@cache:6379');
  });

  test('a secret written inline under a secret key is hidden in problems too', () => {
    const found = problems(() =>
      checkGatehouseConfig({
        auth: { methods: [], forward: { token: { alg: 'HS256', secret: 'too-short-but-secret' } } },
      }),
    );
    expect(JSON.stringify(found)).not.toContain('too-short-but-secret');
    expect(found.map((p) => p.path)).toContain('auth.forward.token.secret');
  });

  test('code values in an object pass through untouched, beside a reference read as a number', () => {
    // A class instance (its methods on the prototype, its state in a private field), a function, a
    // KeyObject and bytes: what code gives and no copy keeps. Coercing `${ADMIN_PORT}` used to
    // structuredClone the whole object (DataCloneError); substitution copied every object it met.
    class Lines {
      readonly #lines: unknown[] = [];
      info(obj: unknown) {
        this.#lines.push(obj);
      }
      get count() {
        return this.#lines.length;
      }
    }
    const logger = new Lines();
    const toPrincipal = () => ({ id: 'someone' });
    const key = createSecretKey(Buffer.alloc(32, 7));
    const bytes = new Uint8Array(32).fill(9);
    const written = {
      accessLog: { logger },
      auth: {
        methods: [
          {
            jwt: {
              keys: [
                { key, alg: 'HS256', kid: 'a' },
                { key: bytes, alg: 'HS256', kid: 'b' },
              ],
              issuer: 'https://issuer.example',
              audience: 'api',
              scheme: '${SCHEME}',
              toPrincipal,
            },
          },
        ],
      },
      admin: { access: { ports: ['${ADMIN_PORT}'] } },
    };
    const before = JSON.stringify(written);
    const loaded = checkGatehouseConfig(written, { env: { ADMIN_PORT: '9901', SCHEME: 'Token' } });
    expect(loaded.config.admin?.access?.ports).toEqual([9901]);
    const accessLog = loaded.config.accessLog as { logger: unknown };
    expect(accessLog.logger).toBe(logger);
    const jwt = loaded.config.auth?.methods[0]?.jwt;
    expect(jwt?.keys?.[0]?.key).toBe(key);
    expect(jwt?.keys?.[1]?.key).toBe(bytes);
    expect(jwt?.toPrincipal).toBe(toPrincipal);
    expect(jwt?.scheme).toBe('Token');
    logger.info({});
    expect(logger.count).toBe(1);
    // /config names code values; it never walks them (a client holds cycles, a key holds secrets).
    expect(loaded.shown).toMatchObject({
      accessLog: { logger: '[code]' },
      auth: {
        methods: [{ jwt: { keys: [{ key: '[redacted]' }, { key: '[redacted]' }], toPrincipal: '[code]' } }],
      },
    });
    // The object given is not changed.
    expect(JSON.stringify(written)).toBe(before);
    expect(written.admin.access.ports).toEqual(['${ADMIN_PORT}']);
  });

  test('redactForDisplay keeps references and structure', () => {
    expect(
      redactForDisplay({
        a: { password: 'x', token: '${TOKEN}', url: 'https://u:p@h/x' },
        key: { kty: 'OKP', d: 'secret' },
      }),
    ).toEqual({
      a: { password: '[redacted]', token: '${TOKEN}', url: 'https://u:[redacted]@h/x' },
      key: '[redacted]',
    });
  });
});

describe('one route format', () => {
  test("core's old `to:` is read as service/mode, with a warning at its position", () => {
    const loaded = parseGatehouseConfig(
      'services: { orders: { url: "http://o" } }\nroutes:\n  - { path: /orders/*, to: orders }\n  - { path: /health, to: local }\n',
      'gatehouse.yaml',
    );
    expect(loaded.config.routes).toEqual([
      { path: '/orders/*', service: 'orders', mode: 'remote' },
      { path: '/health', mode: 'local' },
    ]);
    expect(loaded.warnings).toEqual([
      {
        path: 'routes[0].to',
        message: "'to: orders' is the old route format: write 'service: orders' and 'mode: remote'",
        source: at(3, 24),
      },
      {
        path: 'routes[1].to',
        message: "'to: local' is the old route format: write 'mode: local'",
        source: at(4, 22),
      },
    ]);
  });

  test('`to` with `service` or `mode` is refused; an unknown `to` service is found like any other', () => {
    const found = problems(() =>
      checkGatehouseConfig({
        services: { orders: { url: 'http://o' } },
        routes: [
          { path: '/a', to: 'orders', mode: 'shadow' },
          { path: '/b', to: 'ordrs' },
        ],
      }),
    );
    expect(found.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "routes[0].to: 'to' is the old form of 'service' and 'mode': give either 'to' or 'service'/'mode'",
      "routes[1].to: unknown service 'ordrs' — did you mean 'orders'? (services: orders)",
    ]);
  });
});

describe('routes that can never match', () => {
  const check = (routes: unknown[], versioning = false) =>
    unreachableRoutes(routes, { caseSensitive: false, versioning }).map((p) => p.index);

  test('shadowed by an earlier route for the same methods; conditions and narrower methods keep a route reachable', () => {
    expect(check([{ path: '/a/*' }, { path: '/a/:id' }, { path: '/a' }, { path: '/b' }])).toEqual([1, 2]);
    expect(check([{ path: '/a/:id' }, { path: '/a/*' }])).toEqual([]);
    expect(
      check([{ path: '/a/*', methods: ['GET'] }, { path: '/a/x' }, { path: '/a/y', methods: ['GET'] }]),
    ).toEqual([2]);
    expect(check([{ path: '/a/*', host: 'x.example' }, { path: '/a/x' }])).toEqual([]);
    expect(check([{ path: '/A/*' }, { path: '/a/x' }])).toEqual([1]);
    expect(check([{ path: ['/a/*', '/b'] }, { path: ['/b', '/a/c'] }, { path: ['/b', '/c'] }])).toEqual([1]);
    expect(check([{ path: '/*' }, { path: '/' }, { path: '/x/y' }])).toEqual([1, 2]);
    expect(check([{ path: '/v', version: '2' }])).toEqual([0]);
    expect(check([{ path: '/v', version: '2' }], true)).toEqual([]);
  });

  // A pattern of 1–3 segments from a small alphabet, so that overlaps are common.
  const segment = fc.constantFrom('a', 'b', ':p', ':q');
  const pattern = fc
    .tuple(fc.array(segment, { minLength: 0, maxLength: 3 }), fc.boolean())
    .map(([segments, wildcard]) => {
      const path = `/${[...segments, ...(wildcard ? ['*'] : [])].join('/')}`;
      // A parameter name may appear once per pattern.
      return path.replace(/:q(?=.*:q)/, 'a').replace(/:p(?=.*:p)/, 'b');
    })
    .filter((p) => !/\/\*$/.test(p) || p !== '/*' || true);
  const concrete = fc
    .array(fc.constantFrom('a', 'b', 'c'), { minLength: 0, maxLength: 5 })
    .map((s) => `/${s.join('/')}`);
  const parse = (p: string) => {
    const parts = p === '/' ? [] : p.slice(1).split('/');
    const wildcard = parts.at(-1) === '*';
    if (wildcard) parts.pop();
    return { segments: parts.map((s) => (s.startsWith(':') ? ':' : s)), wildcard };
  };

  test('covers(a, b) is sound: every path b matches, a matches (core createPathMatcher, seeded)', () => {
    fc.assert(
      fc.property(pattern, pattern, fc.array(concrete, { minLength: 1, maxLength: 20 }), (a, b, paths) => {
        if (!covers(parse(a), parse(b))) return;
        const matchA = createPathMatcher(a);
        const matchB = createPathMatcher(b);
        for (const path of paths)
          if (matchB(path)) expect(matchA(path), `${a} should match ${path} (as ${b} does)`).toBe(true);
      }),
      { seed: 19, numRuns: 2_000 },
    );
  });
});

test('parsePath reads what formatPath writes', () => {
  expect(parsePath('routes[2].to')).toEqual(['routes', 2, 'to']);
  expect(parsePath('services["my.svc"].url')).toEqual(['services', 'my.svc', 'url']);
  expect(parsePath('aggregate[0].calls.order.dependsOn')).toEqual([
    'aggregate',
    0,
    'calls',
    'order',
    'dependsOn',
  ]);
});
