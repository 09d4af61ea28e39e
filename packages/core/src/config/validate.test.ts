import { describe, expect, it } from 'vitest';
import { isGatehouseError } from '../errors.js';
import {
  ConfigError,
  type ConfigProblem,
  type GatewayConfig,
  type ResolvedConfig,
  resolveConfig,
} from './index.js';
import { formatPath } from './validate.js';

function problemsOf(input: unknown): ConfigProblem[] {
  try {
    resolveConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Problems as `path: message` lines. */
function lines(input: unknown): string[] {
  return problemsOf(input).map((p) => `${p.path}: ${p.message}`);
}

/** The single problem `input` has. */
function only(input: unknown): string {
  const found = lines(input);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('defaults', () => {
  it('fills every section of an empty configuration', () => {
    const { requestId, ...rest } = resolveConfig({});
    expect(rest).toEqual({
      services: {},
      routes: [],
      paths: {
        encodedSlashes: 'reject',
        mergeSlashes: true,
        trailingSlash: 'strip',
        pathParams: 'strip',
        caseSensitive: false,
        nonCanonical: 'rewrite',
      },
      clientIp: { trustedProxies: false, header: 'x-forwarded-for' },
      headers: { strip: [], stripDefaults: true },
      problems: { typeBase: 'urn:gatehouse:error:' },
      admin: {
        prefix: '',
        access: { peers: [], ports: [], dangerouslyPublic: false },
        reveal: { filePaths: false, requestData: false },
      },
      limits: {
        maxHeaders: 100,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 60_000,
        keepAliveTimeoutMs: 5_000,
      },
      shutdown: { drainTimeoutMs: 10_000, readinessGraceMs: 0 },
    });
    expect(requestId).toMatchObject({ header: 'x-request-id', trustIncoming: true, maxLength: 128 });
    expect(requestId.generate()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('fills the keys left out of a section and keeps the ones given', () => {
    const config = resolveConfig({ paths: { trailingSlash: 'keep' }, shutdown: {} });
    expect(config.paths).toEqual({
      encodedSlashes: 'reject',
      mergeSlashes: true,
      trailingSlash: 'keep',
      pathParams: 'strip',
      caseSensitive: false,
      nonCanonical: 'rewrite',
    });
    expect(config.shutdown.drainTimeoutMs).toBe(10_000);
  });

  it('keeps a full configuration as written (header names lower-cased)', () => {
    const input = {
      services: {
        orders: { url: 'http://orders:8080' },
        users: { endpoints: ['http://u1:80', 'https://u2'] },
      },
      routes: [
        { path: '/orders/*', to: 'orders', methods: ['GET', 'POST'] },
        { path: '/users/:id', to: 'users' },
        { path: '/', to: 'local' },
      ],
      paths: {
        encodedSlashes: 'decode',
        mergeSlashes: false,
        trailingSlash: 'keep',
        pathParams: 'reject',
        caseSensitive: true,
        nonCanonical: 'reject',
      },
      clientIp: { trustedProxies: ['loopback', '10.0.0.0/8', '::1', 'fd00::/8'], header: 'forwarded' },
      headers: { strip: ['X-Internal-*', 'x-debug'], stripDefaults: false },
      requestId: { header: 'X-Correlation-Id', trustIncoming: false, maxLength: 64 },
      problems: { typeBase: 'https://example.com/problems/' },
      admin: { prefix: '/_gatehouse' },
      shutdown: { drainTimeoutMs: 0 },
    } satisfies GatewayConfig;
    const config = resolveConfig(input);
    expect(config.services).toEqual(input.services);
    expect(config.routes).toEqual(input.routes);
    expect(config.paths).toEqual(input.paths);
    expect(config.clientIp).toEqual(input.clientIp);
    expect(config.headers).toEqual({ strip: ['x-internal-*', 'x-debug'], stripDefaults: false });
    expect(config.requestId).toMatchObject({
      header: 'x-correlation-id',
      trustIncoming: false,
      maxLength: 64,
    });
    expect(config.problems.typeBase).toBe('https://example.com/problems/');
    expect(config.admin.prefix).toBe('/_gatehouse');
    expect(config.shutdown.drainTimeoutMs).toBe(0);
  });

  it('ignores $schema', () => {
    expect(resolveConfig({ $schema: './gatehouse.schema.json' })).not.toHaveProperty('$schema');
  });
});

describe('the resolved configuration', () => {
  it('is deeply frozen', () => {
    const config = resolveConfig({
      services: { orders: { endpoints: ['http://a'] } },
      routes: [{ path: '/x', to: 'orders', methods: ['GET'] }],
      clientIp: { trustedProxies: ['loopback'] },
    });
    const objects: unknown[] = [
      config,
      config.services,
      config.services['orders'],
      (config.services['orders'] as { endpoints: readonly string[] }).endpoints,
      config.routes,
      config.routes[0],
      config.routes[0]?.methods,
      config.paths,
      config.clientIp,
      config.clientIp.trustedProxies,
      config.headers.strip,
      config.requestId,
      config.shutdown,
    ];
    for (const object of objects) expect(Object.isFrozen(object)).toBe(true);
    expect(() => {
      (config.shutdown as { drainTimeoutMs: number }).drainTimeoutMs = 1;
    }).toThrow(TypeError);
    expect(() => (config.routes as unknown[]).push({})).toThrow(TypeError);
  });

  it('shares nothing with the input, and the input is left alone', () => {
    const input = { routes: [{ path: '/x', to: 'local', methods: ['GET'] }], paths: { mergeSlashes: false } };
    const snapshot = structuredClone(input);
    const config = resolveConfig(input);
    expect(input).toEqual(snapshot);
    expect(Object.isFrozen(input.routes)).toBe(false);
    expect(config.routes).not.toBe(input.routes);
    input.paths.mergeSlashes = true;
    expect(config.paths.mergeSlashes).toBe(false);
  });

  it('is accepted again as input: the same object back, or a copy validated again', () => {
    const config = resolveConfig({ services: { a: { url: 'http://a' } }, routes: [{ path: '/a', to: 'a' }] });
    expect(resolveConfig(config)).toBe(config);
    const copy: ResolvedConfig = { ...config, requestId: { ...config.requestId } };
    expect(resolveConfig(copy)).toEqual(config);
  });
});

describe('errors', () => {
  it('throws a ConfigError (GH_CONFIG_INVALID, status 0) listing every problem', () => {
    let error: unknown;
    try {
      resolveConfig({
        services: { orders: { url: 'http://orders' } },
        routes: [
          { path: '/a', to: 'local' },
          { path: '/b', to: 'local' },
          { path: '/c', to: 'ordrs' },
        ],
        paths: { trailingSlsh: 'strip' },
        shutdown: { drainTimeoutMs: '5s' },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(isGatehouseError(configError)).toBe(true);
    expect(configError.code).toBe('GH_CONFIG_INVALID');
    expect(configError.status).toBe(0);
    expect(configError.name).toBe('ConfigError');
    expect(configError.message).toBe(
      [
        'Invalid Gatehouse configuration (3 problems):',
        "  - routes[2].to: unknown service 'ordrs' — did you mean 'orders'?",
        "  - paths.trailingSlsh: unknown key — did you mean 'trailingSlash'?",
        "  - shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received the string '5s'",
      ].join('\n'),
    );
    expect(Object.isFrozen(configError.problems)).toBe(true);
    expect(configError.problems[0]).toEqual({
      path: 'routes[2].to',
      message: "unknown service 'ordrs' — did you mean 'orders'?",
    });
  });

  it('says "1 problem"', () => {
    expect(() => resolveConfig({ admin: { prefix: 'x' } })).toThrow(
      /^Invalid Gatehouse configuration \(1 problem\):\n {2}- admin\.prefix: /,
    );
  });

  it('rejects input that is not an object', () => {
    expect(only(undefined)).toBe(': expected a configuration object, received nothing');
    expect(only([])).toBe(': expected a configuration object, received an empty array');
    expect(only('routes: []')).toBe(": expected a configuration object, received the string 'routes: []'");
  });

  it('lists all 30 mistakes of a configuration with 30 mistakes', () => {
    const input = {
      services: {
        Orders: { url: 'http://orders' }, // 1 name
        ftp: { url: 'ftp://files' }, // 2 scheme
        creds: { url: 'http://user:secret@host' }, // 3 credentials
        query: { url: 'http://host/?a=1' }, // 4 query
        none: { endpoints: [] }, // 5 empty endpoints
        dup: { endpoints: ['http://a', 'http://a'] }, // 6 duplicate endpoint
        both: { url: 'http://a', endpoints: ['http://b'] }, // 7 both
      },
      routes: [
        { path: 'orders', to: 'local' }, // 8 path without '/'
        { path: '/a/*/b', to: 'local' }, // 9 wildcard in the middle
        { path: '/a', to: 'ordrs' }, // 10 unknown service
        { path: '/b', to: 'local', methods: ['get'] }, // 11 lower-case method
        { path: '/c', to: 'local', methods: ['GET', 'GET'] }, // 12 duplicate method
        { path: '/c', to: 'local', methods: ['GET'] }, // 13 duplicate route
        { path: '/d', to: 'local', method: ['GET'] }, // 14 unknown key
        { to: 'local' }, // 15 missing path
      ],
      paths: {
        encodedSlashes: 'allow', // 16
        mergeSlashes: 'yes', // 17
        trailingSlash: 'remove', // 18
        pathParams: true, // 19
        caseSensitive: 1, // 20
      },
      clientIp: { trustedProxies: 64, header: 'x-forwarded' }, // 21, 22
      headers: { strip: ['bad header'], stripDefault: true }, // 23, 24
      requestId: { header: 'x request', maxLength: 4 }, // 25, 26
      problems: { typeBase: 'errors/' }, // 27
      admin: { prefix: '/admin/' }, // 28
      shutdown: { drainTimeoutMs: 5.5 }, // 29
      logging: {}, // 30
    };
    const found = lines(input);
    expect(found, found.join('\n')).toHaveLength(30);
    expect(() => resolveConfig(input)).toThrow(/^Invalid Gatehouse configuration \(30 problems\):/);
  });

  it('reports problems in the order of the input', () => {
    const found = problemsOf({
      shutdown: { drainTimeoutMs: -1 },
      routes: [{ path: '/a', to: 'nope' }],
      paths: { mergeSlashes: 0 },
    }).map((p) => p.path);
    expect(found).toEqual(['shutdown.drainTimeoutMs', 'routes[0].to', 'paths.mergeSlashes']);
  });
});

describe('paths in problems', () => {
  it('renders indexes, identifiers and other keys', () => {
    expect(formatPath(['routes', 2, 'to'])).toBe('routes[2].to');
    expect(formatPath(['services', 'orders', 'url'])).toBe('services.orders.url');
    expect(formatPath(['services', 'my.svc'])).toBe('services["my.svc"]');
    expect(formatPath(['services', 'user-profile', 'url'])).toBe('services["user-profile"].url');
    expect(formatPath([])).toBe('');
  });

  it('uses them for keys that are not identifiers', () => {
    expect(lines({ services: { 'my.svc': { url: 'http://a' } } })).toEqual([
      `services["my.svc"]: invalid service name 'my.svc': use lower-case letters, digits and '-', starting with a letter — did you mean 'my-svc'?`,
    ]);
  });
});

describe('unknown keys', () => {
  it('are problems at every level, with a suggestion when one is close', () => {
    expect(
      lines({
        servces: {},
        paths: { trailingSlsh: 'strip' },
        services: { a: { url: 'http://a', timeout: 5 } },
        routes: [{ path: '/a', to: 'a', method: 'GET' }],
        requestId: { maxLenght: 10 },
      }),
    ).toEqual([
      "servces: unknown key — did you mean 'services'?",
      "paths.trailingSlsh: unknown key — did you mean 'trailingSlash'?",
      'services.a.timeout: unknown key',
      "routes[0].method: unknown key — did you mean 'methods'?",
      "requestId.maxLenght: unknown key — did you mean 'maxLength'?",
    ]);
  });

  it('get no suggestion when nothing is close', () => {
    expect(only({ database: { url: 'postgres://' } })).toBe('database: unknown key');
  });
});

describe('prototype pollution guard', () => {
  it("reports '__proto__', 'constructor' and 'prototype' keys and never assigns them", () => {
    const input: unknown = JSON.parse(
      '{"__proto__": {"polluted": true}, "paths": {"constructor": {"polluted": true}}, ' +
        '"services": {"prototype": {"url": "http://a"}, "constructor": {"url": "http://b"}}, ' +
        '"routes": [{"path": "/a", "to": "local", "__proto__": {"to": "evil"}}]}',
    );
    expect(lines(input)).toEqual([
      "__proto__: '__proto__' is not allowed as a key (it could alter object prototypes)",
      "paths.constructor: 'constructor' is not allowed as a key (it could alter object prototypes)",
      "services.prototype: 'prototype' is not allowed as a key (it could alter object prototypes)",
      "services.constructor: 'constructor' is not allowed as a key (it could alter object prototypes)",
      "routes[0].__proto__: '__proto__' is not allowed as a key (it could alter object prototypes)",
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('services', () => {
  it('need valid names, and local is reserved', () => {
    expect(only({ services: { Orders: { url: 'http://a' } } })).toBe(
      "services.Orders: invalid service name 'Orders': use lower-case letters, digits and '-', starting with a letter — did you mean 'orders'?",
    );
    expect(only({ services: { '1st': { url: 'http://a' } } })).toMatch(
      /^services\["1st"\]: invalid service name '1st'/,
    );
    expect(only({ services: { local: { url: 'http://a' } } })).toBe(
      "services.local: 'local' is reserved: routes use it for the application itself",
    );
  });

  it('are still checked when the name is bad', () => {
    expect(lines({ services: { My_Svc: { url: 'ftp://a' } } })).toEqual([
      "services.My_Svc: invalid service name 'My_Svc': use lower-case letters, digits and '-', starting with a letter — did you mean 'my-svc'?",
      "services.My_Svc.url: expected an http or https URL, received the scheme 'ftp'",
    ]);
  });

  it.each([
    ['orders:8080', "expected an http or https URL, received the scheme 'orders'"],
    ['not a url', "expected an absolute http(s) URL, received the string 'not a url'"],
    ['ftp://files', "expected an http or https URL, received the scheme 'ftp'"],
    [
      'http://user:secret@orders',
      'must not contain credentials (user:password@); configure them on the client instead',
    ],
    ['http://orders/?page=1', 'must not contain a query or fragment'],
    ['http://orders/#top', 'must not contain a query or fragment'],
    ['http://orders/?', 'must not contain a query or fragment'],
  ])('reject the url %s', (url, message) => {
    expect(only({ services: { orders: { url } } })).toBe(`services.orders.url: ${message}`);
  });

  it('never echo credentials', () => {
    for (const url of ['http://user:hunter2@a', 'http//user:hunter2@a', 'user:hunter2@a']) {
      const message = lines({ services: { a: { url }, b: { endpoints: [url] } } }).join('\n');
      expect(message).toMatch(/services\.a\.url: /);
      expect(message).not.toContain('hunter2');
    }
    expect(only({ services: { a: { url: '//user:hunter2@a' } } })).toBe(
      "services.a.url: expected an absolute http(s) URL, received the string '//***@a'",
    );
  });

  it('accept http and https URLs with a port and a base path', () => {
    for (const url of [
      'http://orders',
      'https://orders.internal:8443/api/v1',
      'HTTP://ORDERS',
      'http://[::1]:80',
    ]) {
      expect(resolveConfig({ services: { s: { url } } }).services['s']).toEqual({ url });
    }
  });

  it('with endpoints: not empty, no duplicates, each an http(s) URL', () => {
    expect(only({ services: { a: { endpoints: [] } } })).toBe(
      'services.a.endpoints: must list at least one endpoint',
    );
    expect(only({ services: { a: { endpoints: ['http://a:80', 'http://a'] } } })).toBe(
      'services.a.endpoints[1]: duplicate endpoint (already at [0])',
    );
    expect(only({ services: { a: { endpoints: ['http://a', 5] } } })).toBe(
      'services.a.endpoints[1]: expected an http(s) URL, received the number 5',
    );
    expect(only({ services: { a: { endpoints: 'http://a' } } })).toBe(
      "services.a.endpoints: expected an array of http(s) URLs, received the string 'http://a'",
    );
  });

  it('have either url or endpoints', () => {
    expect(only({ services: { a: { url: 'http://a', endpoints: ['http://b'] } } })).toBe(
      "services.a: set only one of 'url' or 'endpoints', not both",
    );
    expect(only({ services: { a: {} } })).toBe("services.a: required: expected 'url' or 'endpoints'");
    expect(lines({ services: { a: { urls: 'http://a' } } })).toEqual([
      "services.a: required: expected 'url' or 'endpoints'",
      "services.a.urls: unknown key — did you mean 'url'?",
    ]);
    expect(only({ services: { a: { url: 'http://a', endpoint: ['x'] } } })).toBe(
      "services.a.endpoint: unknown key — did you mean 'endpoints'?",
    );
    expect(only({ services: { a: 'http://a' } })).toBe(
      "services.a: expected an object with 'url' or 'endpoints', received the string 'http://a'",
    );
    expect(only({ services: [] })).toBe(
      'services: expected an object mapping service names to services, received an empty array',
    );
  });
});

describe('routes', () => {
  const route = (path: string) => ({ routes: [{ path, to: 'local' }] });

  it.each(['/', '/orders', '/orders/*', '/orders/:id', '/orders/:id/items/:item', '/a-b.c~d/%20/@x', '/*'])(
    'accept the path %s',
    (path) => {
      expect(resolveConfig(route(path)).routes[0]?.path).toBe(path);
    },
  );

  it.each([
    ['orders', "must start with '/'"],
    ['', "must start with '/'"],
    ['/orders/', "must not end with '/' (use '/x' or '/x/*')"],
    ['/a//b', "must not contain '//'"],
    ['/a/*/b', "'*' is only allowed as the last segment"],
    ['/a*', "'*' must be a whole segment, as in '/x/*'"],
    ['/a/:', "invalid parameter ':': a parameter is ':' and a name of letters, digits and '_'"],
    ['/a/:1d', "invalid parameter ':1d': a parameter is ':' and a name of letters, digits and '_'"],
    ['/a/:id/:id', "parameter ':id' appears twice"],
    ['/a?b=1', 'must not contain a query or fragment'],
    ['/a/../b', "must not contain '.' or '..' segments"],
    ['/a b', "segment 'a b' contains characters not allowed in a URL path"],
    ['/%zz', "segment '%zz' contains characters not allowed in a URL path"],
  ])('reject the path %j', (path, reason) => {
    expect(only(route(path))).toBe(`routes[0].path: invalid path '${path}': ${reason}`);
  });

  it('go to a defined service or local', () => {
    const services = { orders: { url: 'http://orders' }, users: { url: 'http://users' } };
    expect(
      lines({
        services,
        routes: [
          { path: '/a', to: 'orders' },
          { path: '/b', to: 'local' },
          { path: '/c', to: 'ordrs' },
          { path: '/d', to: 'payments' },
          { path: '/e', to: 'locl' },
        ],
      }),
    ).toEqual([
      "routes[2].to: unknown service 'ordrs' — did you mean 'orders'?",
      "routes[3].to: unknown service 'payments'",
      "routes[4].to: unknown service 'locl' — did you mean 'local'?",
    ]);
    expect(only({ routes: [{ path: '/a', to: 'orders' }] })).toBe(
      "routes[0].to: unknown service 'orders' (no services are defined; use 'local' for the application itself)",
    );
  });

  it('suggest only valid service names', () => {
    const text = lines({
      services: { Orders: { url: 'http://a' } },
      routes: [{ path: '/o', to: 'order' }],
    }).join('\n');
    expect(text).toContain("unknown service 'order'");
    expect(text).not.toContain("did you mean 'Orders'");
  });

  it('do not report a target twice when its service has a problem of its own', () => {
    expect(
      lines({ services: { Orders: { url: 'http://a' } }, routes: [{ path: '/a', to: 'Orders' }] }),
    ).toHaveLength(1);
  });

  it('need path and to', () => {
    expect(lines({ routes: [{}] })).toEqual([
      "routes[0].path: required: expected a path pattern such as '/orders/*'",
      "routes[0].to: required: expected a service name or 'local'",
    ]);
    expect(only({ routes: [{ path: '/a', to: '' }] })).toBe(
      "routes[0].to: expected a service name or 'local', received the string ''",
    );
    expect(only({ routes: ['/a'] })).toBe(
      "routes[0]: expected an object with 'path' and 'to', received the string '/a'",
    );
    expect(only({ routes: { path: '/a' } })).toBe('routes: expected an array of routes, received an object');
  });

  it('take upper-case HTTP methods, without duplicates', () => {
    expect(
      resolveConfig({ routes: [{ path: '/a', to: 'local', methods: ['GET', 'PROPFIND', 'M-SEARCH'] }] })
        .routes[0]?.methods,
    ).toEqual(['GET', 'PROPFIND', 'M-SEARCH']);
    const at = (methods: unknown) => lines({ routes: [{ path: '/a', to: 'local', methods }] });
    expect(at(['get'])).toEqual([
      "routes[0].methods[0]: expected an upper-case HTTP method such as 'GET', received the string 'get' — did you mean 'GET'?",
    ]);
    expect(at(['GET', 'POST', 'GET'])).toEqual(['routes[0].methods[2]: duplicate method (already at [0])']);
    expect(at(['GET ', 'GET'])).toEqual([
      "routes[0].methods[0]: expected an upper-case HTTP method such as 'GET', received the string 'GET '",
    ]);
    expect(at([])).toEqual([
      'routes[0].methods: must list at least one method (leave it out for every method)',
    ]);
    expect(at('GET')).toEqual([
      "routes[0].methods: expected an array of HTTP methods, received the string 'GET'",
    ]);
    expect(at([1])).toEqual([
      "routes[0].methods[0]: expected an HTTP method such as 'GET', received the number 1",
    ]);
  });

  describe('duplicates', () => {
    const routes = (...list: { path: string; methods?: string[] }[]) => ({
      routes: list.map((r) => ({ to: 'local', ...r })),
    });

    it('same path, every method', () => {
      expect(only(routes({ path: '/a' }, { path: '/a' }))).toBe(
        "routes[1].path: duplicate route: routes[0] already matches '/a' for every method",
      );
    });

    it('same path, overlapping methods', () => {
      expect(
        only(routes({ path: '/a', methods: ['GET', 'POST'] }, { path: '/a', methods: ['POST', 'PUT'] })),
      ).toBe("routes[1].path: duplicate route: routes[0] already matches '/a' for POST");
      expect(only(routes({ path: '/a' }, { path: '/a', methods: ['DELETE'] }))).toBe(
        "routes[1].path: duplicate route: routes[0] already matches '/a' for DELETE",
      );
    });

    it('the same pattern with other parameter names, or another case when matching ignores case', () => {
      expect(only(routes({ path: '/a/:id' }, { path: '/a/:name' }))).toMatch(
        /^routes\[1\]\.path: duplicate route/,
      );
      expect(only(routes({ path: '/Orders/*' }, { path: '/orders/*' }))).toMatch(
        /^routes\[1\]\.path: duplicate route/,
      );
    });

    it('not: disjoint methods, different patterns, or case differences when matching is case-sensitive', () => {
      expect(() =>
        resolveConfig(
          routes(
            { path: '/a', methods: ['GET'] },
            { path: '/a', methods: ['POST'] },
            { path: '/a/*' },
            { path: '/a/:id' },
            { path: '/b' },
          ),
        ),
      ).not.toThrow();
      expect(() =>
        resolveConfig({
          ...routes({ path: '/Orders' }, { path: '/orders' }),
          paths: { caseSensitive: true },
        }),
      ).not.toThrow();
    });
  });
});

describe('paths', () => {
  it.each([
    [
      'encodedSlashes',
      'decod',
      "expected one of 'reject', 'decode' or 'keep', received the string 'decod' — did you mean 'decode'?",
    ],
    ['trailingSlash', 'remove', "expected one of 'strip' or 'keep', received the string 'remove'"],
    ['pathParams', true, "expected one of 'strip', 'reject' or 'keep', received true"],
    [
      'mergeSlashes',
      'yes',
      "expected true or false, received the string 'yes' — did you mean true (without quotes)?",
    ],
    [
      'caseSensitive',
      'false',
      "expected true or false, received the string 'false' — did you mean false (without quotes)?",
    ],
    ['caseSensitive', 0, 'expected true or false, received the number 0'],
  ])('%s: %j', (key, value, message) => {
    expect(only({ paths: { [key]: value } })).toBe(`paths.${key}: ${message}`);
  });

  it('must be an object', () => {
    expect(only({ paths: 'strict' })).toBe("paths: expected an object, received the string 'strict'");
    expect(only({ paths: null })).toBe('paths: expected an object, received null');
  });
});

describe('clientIp', () => {
  it.each([
    [false],
    [1],
    [32],
    [[]],
    [['loopback', 'private', 'linklocal', 'uniquelocal']],
    [['127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', '2001:db8::/32', 'fe80::/10', '::/0']],
  ])('accepts trustedProxies %j', (trustedProxies) => {
    expect(resolveConfig({ clientIp: { trustedProxies } }).clientIp.trustedProxies).toEqual(trustedProxies);
  });

  it.each([
    [0, 'expected a hop count from 1 to 32, received the number 0'],
    [33, 'expected a hop count from 1 to 32, received the number 33'],
    [
      true,
      "expected false, a hop count from 1 to 32, or an array of IP addresses, CIDR ranges and 'loopback', 'private', 'linklocal' or 'uniquelocal', received true (trusting every proxy would let clients spoof their address)",
    ],
    [
      1.5,
      "expected false, a hop count from 1 to 32, or an array of IP addresses, CIDR ranges and 'loopback', 'private', 'linklocal' or 'uniquelocal', received the number 1.5",
    ],
    [
      '10.0.0.1',
      "expected false, a hop count from 1 to 32, or an array of IP addresses, CIDR ranges and 'loopback', 'private', 'linklocal' or 'uniquelocal', received the string '10.0.0.1'",
    ],
  ])('rejects trustedProxies %j', (trustedProxies, message) => {
    expect(only({ clientIp: { trustedProxies } })).toBe(`clientIp.trustedProxies: ${message}`);
  });

  it('checks every entry of a list', () => {
    expect(
      lines({
        clientIp: {
          trustedProxies: [
            'privat',
            '10.0.0.0/33',
            '::1/129',
            '10.0.0.0/08',
            '300.1.1.1',
            'loopback',
            'loopback',
            7,
          ],
        },
      }),
    ).toEqual([
      "clientIp.trustedProxies[0]: expected an IP address, a CIDR range or one of 'loopback', 'private', 'linklocal' or 'uniquelocal', received the string 'privat' — did you mean 'private'?",
      "clientIp.trustedProxies[1]: invalid CIDR range '10.0.0.0/33': the prefix length of an IPv4 range is 0 to 32",
      "clientIp.trustedProxies[2]: invalid CIDR range '::1/129': the prefix length of an IPv6 range is 0 to 128",
      "clientIp.trustedProxies[3]: invalid CIDR range '10.0.0.0/08': the prefix length of an IPv4 range is 0 to 32",
      "clientIp.trustedProxies[4]: expected an IP address, a CIDR range or one of 'loopback', 'private', 'linklocal' or 'uniquelocal', received the string '300.1.1.1'",
      'clientIp.trustedProxies[6]: duplicate entry (already at [5])',
      'clientIp.trustedProxies[7]: expected an IP address, a CIDR range or a range name, received the number 7',
    ]);
  });

  it('header is one of three', () => {
    expect(only({ clientIp: { header: 'X-Forwarded-For' } })).toBe(
      "clientIp.header: expected one of 'x-forwarded-for', 'forwarded' or 'x-real-ip', received the string 'X-Forwarded-For' — did you mean 'x-forwarded-for'?",
    );
  });
});

describe('headers', () => {
  it('strip takes header names with an optional trailing *', () => {
    expect(resolveConfig({ headers: { strip: ['X-Internal-*', 'x-debug'] } }).headers.strip).toEqual([
      'x-internal-*',
      'x-debug',
    ]);
    expect(lines({ headers: { strip: ['x-a', 'X-A', 'bad header', '*', 'x-*-y', ''] } })).toEqual([
      'headers.strip[1]: duplicate header (already at [0])',
      "headers.strip[2]: expected a header name, optionally ending in '*' (such as 'x-internal-*'), received the string 'bad header'",
      "headers.strip[3]: expected a header name, optionally ending in '*' (such as 'x-internal-*'), received the string '*'",
      "headers.strip[4]: expected a header name, optionally ending in '*' (such as 'x-internal-*'), received the string 'x-*-y'",
      "headers.strip[5]: expected a header name, optionally ending in '*' (such as 'x-internal-*'), received the string ''",
    ]);
    expect(only({ headers: { stripDefaults: 'no' } })).toBe(
      "headers.stripDefaults: expected true or false, received the string 'no' — did you mean false (without quotes)?",
    );
  });
});

describe('requestId', () => {
  it('maxLength is an integer from 8 to 1024', () => {
    expect(resolveConfig({ requestId: { maxLength: 8 } }).requestId.maxLength).toBe(8);
    expect(resolveConfig({ requestId: { maxLength: 1024 } }).requestId.maxLength).toBe(1024);
    for (const [value, received] of [
      [7, 'the number 7'],
      [1025, 'the number 1025'],
      [64.5, 'the number 64.5'],
      ['64', "the string '64'"],
      [Number.NaN, 'the number NaN'],
    ] as const) {
      expect(only({ requestId: { maxLength: value } })).toBe(
        `requestId.maxLength: expected an integer from 8 to 1024, received ${received}`,
      );
    }
  });

  it('header is a header name', () => {
    expect(only({ requestId: { header: 'x id' } })).toBe(
      "requestId.header: expected a header name (letters, digits and -), received the string 'x id'",
    );
  });

  it('generate: a function in the object API', () => {
    const generate = () => 'fixed-id';
    const config = resolveConfig({ requestId: { generate } });
    expect(config.requestId.generate).toBe(generate);
    expect(Object.isFrozen(generate)).toBe(false); // the user's function is not ours to freeze
    expect(only({ requestId: { generate: 'uuid' } })).toBe(
      "requestId.generate: expected a function, received the string 'uuid'",
    );
  });
});

describe('problems, admin, shutdown', () => {
  it('problems.typeBase is an absolute URI prefix', () => {
    for (const typeBase of [
      'urn:example:',
      'https://example.com/problems/',
      'https://example.com/errors#',
      'tag:example.com,2025:',
    ]) {
      expect(resolveConfig({ problems: { typeBase } }).problems.typeBase).toBe(typeBase);
    }
    for (const typeBase of ['/problems/', 'example.com', 'https://exa mple.com/', '']) {
      expect(only({ problems: { typeBase } })).toMatch(
        /^problems\.typeBase: expected an absolute URI prefix/,
      );
    }
  });

  it("admin.prefix is '' or starts with '/' and does not end with '/'", () => {
    for (const prefix of ['', '/_gatehouse', '/admin/v1']) {
      expect(resolveConfig({ admin: { prefix } }).admin.prefix).toBe(prefix);
    }
    expect(only({ admin: { prefix: '/admin/' } })).toBe(
      "admin.prefix: expected '' or a path that starts with '/' and does not end with '/', received the string '/admin/' — did you mean '/admin'?",
    );
    expect(only({ admin: { prefix: '/' } })).toMatch(/^admin\.prefix: expected '' or a path/);
    expect(only({ admin: { prefix: 'admin' } })).toMatch(/^admin\.prefix: expected '' or a path/);
    expect(only({ admin: { prefix: '/a b' } })).toBe(
      "admin.prefix: segment 'a b' is not allowed in a path prefix",
    );
  });

  it('shutdown.drainTimeoutMs is an integer from 0 to 600000', () => {
    expect(resolveConfig({ shutdown: { drainTimeoutMs: 600_000 } }).shutdown.drainTimeoutMs).toBe(600_000);
    expect(only({ shutdown: { drainTimeoutMs: '5s' } })).toBe(
      "shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received the string '5s'",
    );
    expect(only({ shutdown: { drainTimeoutMs: 600_001 } })).toBe(
      'shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received the number 600001',
    );
    expect(only({ shutdown: { drainTimeoutMs: null } })).toBe(
      'shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received null',
    );
  });
});

describe('admin access and limits', () => {
  it('admin.access takes peers, ports and dangerouslyPublic, each checked', () => {
    const config = resolveConfig({ admin: { access: { peers: ['loopback', '10.0.0.0/8'], ports: [9090] } } });
    expect(config.admin.access).toEqual({
      peers: ['loopback', '10.0.0.0/8'],
      ports: [9090],
      dangerouslyPublic: false,
    });
    expect(
      lines({
        admin: {
          access: {
            peers: ['loopbak', '10.0.0.0/33'],
            ports: [0, 9090, 9090, 70_000],
            dangerouslyPublc: true,
          },
          reveal: { filePaths: 'yes' },
        },
      }),
    ).toEqual([
      "admin.access.peers[0]: expected an IP address, a CIDR range or one of 'loopback', 'private', 'linklocal' or 'uniquelocal', received the string 'loopbak' — did you mean 'loopback'?",
      "admin.access.peers[1]: invalid CIDR range '10.0.0.0/33': the prefix length of an IPv4 range is 0 to 32",
      'admin.access.ports[0]: expected a port number from 1 to 65535, received the number 0',
      'admin.access.ports[2]: duplicate port (already at [1])',
      'admin.access.ports[3]: expected a port number from 1 to 65535, received the number 70000',
      "admin.access.dangerouslyPublc: unknown key — did you mean 'dangerouslyPublic'?",
      "admin.reveal.filePaths: expected true or false, received the string 'yes' — did you mean true (without quotes)?",
    ]);
  });

  it('admin.access.write takes its own peers, ports and dangerouslyPublic; absent unless given', () => {
    expect(
      resolveConfig({ admin: { access: { dangerouslyPublic: true } } }).admin.access.write,
    ).toBeUndefined();
    expect(
      resolveConfig({ admin: { access: { peers: ['private'], write: { peers: ['loopback'] } } } }).admin
        .access.write,
    ).toEqual({ peers: ['loopback'], ports: [], dangerouslyPublic: false });
    expect(
      lines({ admin: { access: { write: { peers: ['loopbak'], port: [9090], dangerouslyPublic: 1 } } } }),
    ).toEqual([
      "admin.access.write.peers[0]: expected an IP address, a CIDR range or one of 'loopback', 'private', 'linklocal' or 'uniquelocal', received the string 'loopbak' — did you mean 'loopback'?",
      "admin.access.write.port: unknown key — did you mean 'ports'?",
      'admin.access.write.dangerouslyPublic: expected true or false, received the number 1',
    ]);
  });

  it('limits are integers in range, and the headers timeout is not longer than the request timeout', () => {
    expect(resolveConfig({ limits: { maxHeaders: 500, headersTimeoutMs: 1 } }).limits).toEqual({
      maxHeaders: 500,
      headersTimeoutMs: 1,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
    });
    expect(lines({ limits: { maxHeaders: 501, headersTimeoutMs: '10s', keepAliveTimeoutMs: 0 } })).toEqual([
      'limits.maxHeaders: expected an integer from 1 to 500, received the number 501',
      "limits.headersTimeoutMs: expected an integer from 1 to 600000, received the string '10s'",
      'limits.keepAliveTimeoutMs: expected an integer from 1 to 600000, received the number 0',
    ]);
    expect(only({ limits: { headersTimeoutMs: 90_000 } })).toBe(
      'limits.headersTimeoutMs: must not exceed limits.requestTimeoutMs (60000)',
    );
    expect(only({ limits: { headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 } })).toBe(
      'limits.headersTimeoutMs: must not exceed limits.requestTimeoutMs (10000)',
    );
  });
});

describe('odd input', () => {
  it('does not hang on cycles', () => {
    const paths: Record<string, unknown> = {};
    paths['self'] = paths;
    expect(only({ paths })).toBe('paths.self: unknown key');
  });

  it('names class instances', () => {
    expect(only({ services: { a: { url: new URL('http://a') } } })).toBe(
      'services.a.url: expected an http(s) URL, received an instance of URL',
    );
  });
});
