import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem, loadConfigFile, parseConfigText, resolveConfig } from './index.js';

function problemsOf(run: () => unknown): ConfigProblem[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Problems as `file:line:col path: message`, as the error message lists them. */
function located(text: string, file = 'gatehouse.yaml'): string[] {
  return problemsOf(() => parseConfigText(text, file)).map((p) => {
    const where = p.source === undefined ? '' : `${p.source.file}:${p.source.line}:${p.source.column} `;
    return `${where}${p.path === '' ? '' : `${p.path}: `}${p.message}`;
  });
}

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const VALID_YAML = yaml(
  '# yaml-language-server: $schema=../../gatehouse.schema.json',
  'services:',
  '  orders:',
  '    url: http://orders:8080',
  '  users:',
  '    endpoints: [http://users-1:8080, http://users-2:8080]',
  'routes:',
  "  - { path: '/orders/*', to: orders, methods: [GET, POST] }",
  '  - path: /users/:id',
  '    to: users',
  'paths:',
  '  trailingSlash: keep',
  'clientIp:',
  '  trustedProxies: [loopback, 10.0.0.0/8]',
  'shutdown:',
  '  drainTimeoutMs: 5000',
);

const VALID_JSON = JSON.stringify(
  {
    services: {
      orders: { url: 'http://orders:8080' },
      users: { endpoints: ['http://users-1:8080', 'http://users-2:8080'] },
    },
    routes: [
      { path: '/orders/*', to: 'orders', methods: ['GET', 'POST'] },
      { path: '/users/:id', to: 'users' },
    ],
    paths: { trailingSlash: 'keep' },
    clientIp: { trustedProxies: ['loopback', '10.0.0.0/8'] },
    shutdown: { drainTimeoutMs: 5000 },
  },
  null,
  2,
);

describe('parseConfigText', () => {
  it('reads YAML and JSON to the same resolved configuration', () => {
    const fromYaml = parseConfigText(VALID_YAML, 'gatehouse.yaml');
    const fromJson = parseConfigText(VALID_JSON, 'gatehouse.json');
    expect(fromYaml.routes).toEqual([
      { path: '/orders/*', to: 'orders', methods: ['GET', 'POST'] },
      { path: '/users/:id', to: 'users' },
    ]);
    expect(fromYaml.shutdown.drainTimeoutMs).toBe(5000);
    expect(fromYaml.paths.mergeSlashes).toBe(true); // default filled
    const { requestId: a, ...restYaml } = fromYaml;
    const { requestId: b, ...restJson } = fromJson;
    expect(restYaml).toEqual(restJson);
    expect({ ...a, generate: null }).toEqual({ ...b, generate: null });
    expect(Object.isFrozen(fromYaml.routes[0])).toBe(true);
  });

  it('takes an empty YAML file (or one with only comments) as the empty configuration', () => {
    expect(parseConfigText('', 'gatehouse.yaml').routes).toEqual([]);
    expect(parseConfigText('# nothing yet\n', 'gatehouse.yml').shutdown.drainTimeoutMs).toBe(10_000);
  });

  it('accepts a byte-order mark and $schema', () => {
    expect(parseConfigText(`\uFEFF{"$schema": "./gatehouse.schema.json"}`, 'gatehouse.json').routes).toEqual(
      [],
    );
    expect(parseConfigText('\uFEFFroutes: []\n', 'gatehouse.yaml').routes).toEqual([]);
  });

  it('maps every problem of a YAML file to its line and column, in file order', () => {
    const text = yaml(
      'services:', // 1
      '  orders:', // 2
      '    url: http://orders:8080', // 3
      '  "my.svc":', // 4
      '    url: ftp://files', // 5
      'routes:', // 6
      '  - path: /orders/*', // 7
      '    to: orders', // 8
      '  - path: /users', // 9
      '    to: local', // 10
      '  - path: /items', // 11
      '    to: ordrs', // 12
      '  - path: /x', // 13
      '    methods: [GET, get]', // 14
      'paths:', // 15
      '  trailingSlsh: strip', // 16
      'shutdown:', // 17
      '  drainTimeoutMs: 5s', // 18
    );
    expect(located(text)).toEqual([
      `gatehouse.yaml:4:3 services["my.svc"]: invalid service name 'my.svc': use lower-case letters, digits and '-', starting with a letter — did you mean 'my-svc'?`,
      'gatehouse.yaml:5:10 services["my.svc"].url: expected an http or https URL, received the scheme \'ftp\'',
      "gatehouse.yaml:12:9 routes[2].to: unknown service 'ordrs' — did you mean 'orders'?",
      "gatehouse.yaml:13:5 routes[3].to: required: expected a service name or 'local'",
      "gatehouse.yaml:14:20 routes[3].methods[1]: expected an upper-case HTTP method such as 'GET', received the string 'get' — did you mean 'GET'?",
      "gatehouse.yaml:16:3 paths.trailingSlsh: unknown key — did you mean 'trailingSlash'?",
      "gatehouse.yaml:18:19 shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received the string '5s'",
    ]);
  });

  it('lists them in the message with file:line:col', () => {
    expect(() => parseConfigText(yaml('routes:', '  - path: /a', '    to: ordrs'), 'gatehouse.yaml')).toThrow(
      "Invalid Gatehouse configuration (1 problem):\n  - gatehouse.yaml:3:9 routes[0].to: unknown service 'ordrs' (no services are defined; use 'local' for the application itself)",
    );
  });

  it('maps JSON problems the same way', () => {
    const text = [
      '{', // 1
      '  "routes": [', // 2
      '    { "path": "/a", "to": "local" },', // 3
      '    { "path": "/b", "to": "nowhere", "method": "GET" }', // 4
      '  ],', // 5
      '  "shutdown": { "drainTimeoutMs": "5s" }', // 6
      '}',
    ].join('\n');
    expect(located(text, 'gatehouse.json')).toEqual([
      "gatehouse.json:4:27 routes[1].to: unknown service 'nowhere' (no services are defined; use 'local' for the application itself)",
      "gatehouse.json:4:38 routes[1].method: unknown key — did you mean 'methods'?",
      "gatehouse.json:6:35 shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received the string '5s'",
    ]);
  });

  it('points at the key for unknown and forbidden keys, and through aliases', () => {
    expect(
      located(
        yaml(
          'defaults: &d', // 1
          '  mergeSlashes: maybe', // 2
          'paths: *d', // 3
          '__proto__:', // 4
          '  polluted: true', // 5
        ),
      ),
    ).toEqual([
      'gatehouse.yaml:1:1 defaults: unknown key',
      "gatehouse.yaml:2:17 paths.mergeSlashes: expected true or false, received the string 'maybe'",
      "gatehouse.yaml:4:1 __proto__: '__proto__' is not allowed as a key (it could alter object prototypes)",
    ]);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('points at the key when the value is empty', () => {
    expect(located(yaml('shutdown:', '  drainTimeoutMs:'))).toEqual([
      'gatehouse.yaml:2:3 shutdown.drainTimeoutMs: expected an integer from 0 to 600000, received null',
    ]);
  });

  it('reports duplicate keys with their paths, in YAML and in JSON, together with other problems', () => {
    expect(
      located(
        yaml(
          'shutdown:', // 1
          '  drainTimeoutMs: 1000', // 2
          '  drainTimeoutMs: 2000', // 3
          'routes:', // 4
          '  - path: /a', // 5
          '    to: local', // 6
          '    to: nope', // 7
        ),
      ),
    ).toEqual([
      'gatehouse.yaml:3:3 shutdown.drainTimeoutMs: duplicate key (first defined on line 2)',
      'gatehouse.yaml:7:5 routes[0].to: duplicate key (first defined on line 6)',
      "gatehouse.yaml:7:9 routes[0].to: unknown service 'nope' (no services are defined; use 'local' for the application itself)",
    ]);
    expect(
      located('{\n  "admin": {"prefix": ""},\n  "admin": {"prefix": "/x"}\n}', 'gatehouse.json'),
    ).toEqual(['gatehouse.json:3:3 admin: duplicate key (first defined on line 2)']);
  });

  it('reports YAML syntax errors with positions', () => {
    const unclosed = located(yaml('routes: [', '  - path: /a'));
    expect(unclosed.length).toBeGreaterThan(0);
    for (const line of unclosed) expect(line).toMatch(/^gatehouse\.yaml:\d+:\d+ syntax error: /);
    expect(located(yaml('paths:', '  mergeSlashes: true', ' trailingSlash: keep'))).toEqual([
      expect.stringMatching(/^gatehouse\.yaml:3:\d+ syntax error: /),
    ]);
    expect(located(yaml('a: 1', '---', 'b: 2'))).toEqual([
      expect.stringMatching(/^gatehouse\.yaml:2:1 syntax error: Source contains multiple documents/),
    ]);
    expect(located('key: "unterminated\n')).toEqual([
      expect.stringMatching(/^gatehouse\.yaml:\d+:\d+ syntax error: Missing closing "quote/),
    ]);
  });

  it('reports JSON syntax errors with positions', () => {
    expect(located('{\n  "a": 1,\n}', 'c.json')).toEqual([
      expect.stringMatching(/^c\.json:3:1 syntax error: /),
    ]);
    expect(located('{\n  "a": tru\n}', 'c.json')).toEqual([
      "c.json:2:8 syntax error: 'tru' is not a JSON value",
    ]);
    expect(located('{\n  routes: []\n}', 'c.json')).toEqual([
      expect.stringMatching(/^c\.json:2:3 syntax error: /),
    ]);
    expect(located('{"routes": [', 'c.json')).toEqual([
      expect.stringMatching(/^c\.json:1:\d+ syntax error: /),
    ]);
    expect(located('', 'c.json')).toEqual([
      expect.stringMatching(/^c\.json:1:1 syntax error: unexpected end of input/),
    ]);
  });

  it('rejects a top level that is not a mapping', () => {
    expect(located(yaml('- path: /a', '  to: local'))).toEqual([
      'gatehouse.yaml:1:1 expected a configuration object, received an array',
    ]);
    expect(located('"routes"', 'c.json')).toEqual([
      "c.json:1:1 expected a configuration object, received the string 'routes'",
    ]);
  });

  it('rejects functions: requestId.generate is for code only', () => {
    expect(located(yaml('requestId:', '  generate: uuid'))).toEqual([
      'gatehouse.yaml:2:3 requestId.generate: functions can only be set in code (the object API), not in a configuration file',
    ]);
    const origin = { file: 'gatehouse.yaml', text: yaml('requestId:', '  maxLength: 64') };
    const fromFile = { requestId: { maxLength: 64, generate: () => 'x' } };
    expect(problemsOf(() => resolveConfig(fromFile, origin)).map((p) => p.message)).toEqual([
      'functions can only be set in code (the object API), not in a configuration file',
    ]);
  });

  it('keeps YAML 1.2 scalars as strings (yes is not true) and says so', () => {
    expect(located(yaml('headers:', '  stripDefaults: yes'))).toEqual([
      "gatehouse.yaml:2:18 headers.stripDefaults: expected true or false, received the string 'yes' — did you mean true (without quotes)?",
    ]);
  });

  it('limits alias expansion', () => {
    const bomb = yaml(
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    );
    expect(located(bomb)).toEqual([expect.stringMatching(/alias/i)]);
  });
});

describe('resolveConfig with an origin', () => {
  it('adds positions from the text to problems found in the parsed value', () => {
    const text = yaml('shutdown:', '  drainTimeoutMs: -5');
    const problems = problemsOf(() =>
      resolveConfig({ shutdown: { drainTimeoutMs: -5 } }, { file: 'g.yaml', text }),
    );
    expect(problems).toEqual([
      {
        path: 'shutdown.drainTimeoutMs',
        message: 'expected an integer from 0 to 600000, received the number -5',
        source: { file: 'g.yaml', line: 2, column: 19 },
      },
    ]);
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads .yaml, .yml and .json by extension', async () => {
    await writeFile(join(dir, 'a.yaml'), VALID_YAML);
    await writeFile(join(dir, 'b.yml'), VALID_YAML);
    await writeFile(join(dir, 'c.JSON'), VALID_JSON);
    for (const name of ['a.yaml', 'b.yml', 'c.JSON']) {
      const config = await loadConfigFile(join(dir, name));
      expect(config.services['orders']).toEqual({ url: 'http://orders:8080' });
    }
  });

  it('names the file in problems', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, yaml('admin:', '  prefix: admin'));
    await expect(loadConfigFile(file)).rejects.toThrow(`${file}:2:11 admin.prefix: expected ''`);
  });

  it('parses a .json file as JSON (YAML in it is a syntax error)', async () => {
    const file = join(dir, 'yaml-in.json');
    await writeFile(file, yaml('routes: []'));
    const error = await loadConfigFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.message).toMatch(/^syntax error: /);
  });

  it('rejects other extensions and missing files with a ConfigError', async () => {
    await expect(loadConfigFile(join(dir, 'gatehouse.toml'))).rejects.toThrow(
      /configuration files end in \.yaml, \.yml or \.json/,
    );
    const error = await loadConfigFile(join(dir, 'missing.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/cannot read .*missing\.yaml.*: ENOENT/);
    expect((error as ConfigError).cause).toMatchObject({ code: 'ENOENT' });
  });
});
