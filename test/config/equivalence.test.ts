// The code API and the configuration file are one thing: the same gateway built from code (gw.tracing(),
// gw.auth(), gw.rateLimit(), … in the documented order) and from a YAML file (gatewayFromFile +
// gw.middleware()) answers the same scenarios identically, on every framework. Each answer meets its
// expectation, the file-built app answers exactly as the code-built one, and every framework as the
// first.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { ConfigError } from '@gatehousejs/core';
import { gatewayFromFile as expressFromFile } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { parseGatehouseConfig } from '@gatehousejs/gateway/config';
import { gatewayFromFile as koaFromFile } from '@gatehousejs/koa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type AppSpec,
  closeAll,
  FRAMEWORKS,
  type Framework,
  isExpress,
  type RunningApp,
  startApp,
} from '../support/apps.js';
import { check, type Expectation, expectSame } from '../support/conformance.js';
import { type RawRequest, type RawResponse, request } from '../support/raw-http.js';
import { type NamedUpstream, startUpstream } from './support.js';

const KEY = 'partner-key-0123456789';
const DOCUMENT = new URL('./fixtures/openapi.yaml', import.meta.url).pathname;

let upstream: NamedUpstream;

/** The gateway as a YAML file: what a user writes. */
const yaml = () => `
services:
  api: { url: "${upstream.url}", retry: { maxAttempts: 1 } }
routes:
  - name: api
    path: /api/*
    service: api
    mode: remote
    responseHeaders: { set: { x-route: api } }
tracing: {}
auth:
  methods:
    - apiKey: { keys: [{ id: partner, key: ${KEY}, scopes: [orders:read] }] }
  rules: [{ path: /api/*, scopes: [orders:read] }]
  default: anonymous
  forward: { headers: { x-user-id: id } }
rateLimit:
  limits: [{ points: 1000, duration: 60 }]
  routes: [{ path: /view/*, limits: [{ points: 3, duration: 60 }] }]
deadline: true
versioning:
  versions: ['1', '2']
  sources: [header]
  neutral: [/hello, /view, /view/*, /api/*, /screen/*, /health, /ready]
openapi:
  document: ${DOCUMENT}
aggregate:
  - name: screen
    path: /screen/:id
    calls:
      order: { service: api, path: "/api/orders/{/params/id}" }
admin:
  access: { peers: [loopback] }
requestId: { header: x-request-id }
`;

/** The same gateway in code, in the order mount() uses. */
const codeSpec = (): AppSpec => ({
  config: {
    services: { api: { url: upstream.url } },
    admin: { access: { peers: ['loopback'] } },
    requestId: { header: 'x-request-id' },
  },
  chain: (gw) => {
    gw.client('api', { retry: { maxAttempts: 1 } });
    return [
      gw.tracing({}),
      gw.requestId(),
      gw.admin(),
      gw.auth({
        methods: [apiKeyAuthenticator({ keys: [{ id: 'partner', key: KEY, scopes: ['orders:read'] }] })],
        rules: [{ path: '/api/*', scopes: ['orders:read'] }],
        default: 'anonymous',
        forward: { headers: { 'x-user-id': 'id' } },
      }),
      gw.rateLimit({
        limits: [{ points: 1000, duration: 60 }],
        routes: [{ path: '/view/*', limits: [{ points: 3, duration: 60 }] }],
      }),
      gw.deadline(),
      gw.version({
        versions: ['1', '2'],
        sources: ['header'],
        neutral: ['/hello', '/view', '/view/*', '/api/*', '/screen/*', '/health', '/ready'],
      }),
      gw.validate({ document: DOCUMENT }),
      gw.routes({
        table: [
          {
            name: 'api',
            path: '/api/*',
            service: 'api',
            mode: 'remote',
            responseHeaders: { set: { 'x-route': 'api' } },
          },
        ],
      }),
      gw.aggregate({
        name: 'screen',
        path: '/screen/:id',
        calls: { order: { service: 'api', path: '/api/orders/{/params/id}' } },
      }),
    ];
  },
});

const fileSpec = (): AppSpec => ({
  gateway: async (framework: Framework, options) => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-equivalence-')), 'gatehouse.yaml');
    writeFileSync(file, yaml());
    const made = isExpress(framework)
      ? await expressFromFile(file, { ...options, watch: false })
      : await koaFromFile(file, { ...options, watch: false });
    return made as FrameworkGateway<unknown>;
  },
  chain: (gw) => [gw.middleware()],
});

interface Scenario {
  name: string;
  request: RawRequest;
  expect: Expectation;
  before?: RawRequest[];
  clock?: RegExp[];
}

const auth = { 'x-api-key': KEY };
const SCENARIOS: Scenario[] = [
  {
    name: 'an application route',
    request: { path: '/hello' },
    expect: { status: 200, body: { hello: 'world' }, headers: { 'x-request-id': /.+/ } },
  },
  {
    name: 'a proxied route without the scope its rule needs: 401 with a challenge',
    request: { path: '/api/orders/1' },
    expect: { status: 401, problem: 'GH_AUTH_REQUIRED', headers: { 'www-authenticate': /.+/ } },
  },
  {
    name: 'a proxied route with a key: the service answers, the route sets its header',
    request: { path: '/api/orders/1', headers: auth },
    expect: { status: 200, body: { upstream: 'api', path: '/api/orders/1' }, headers: { 'x-route': 'api' } },
  },
  {
    name: 'OpenAPI refuses a parameter the document does not allow, before the route',
    request: { path: '/api/orders/abc', headers: auth },
    expect: { status: 400, problem: 'GH_OPENAPI_REQUEST_INVALID' },
  },
  {
    name: 'a composition calls the service',
    request: { path: '/screen/7' },
    expect: { status: 200, body: { order: { upstream: 'api', path: '/api/orders/7' } } },
  },
  {
    name: 'an unsupported API version',
    request: { path: '/versioned', headers: { 'api-version': '9' } },
    expect: { status: 400, problem: 'GH_VERSION_UNSUPPORTED' },
  },
  {
    name: 'the rate limit: the fourth request in the window is refused',
    before: [{ path: '/view/a' }, { path: '/view/b' }, { path: '/view/c' }],
    request: { path: '/view/d' },
    expect: { status: 429, problem: 'GH_RATE_LIMITED' },
    clock: [/retry-after: (\d+)/, /t=(\d+)/, /"retryAfter":(\d+)/, /in (\d+) s/],
  },
  {
    name: 'the admin: health',
    request: { path: '/health' },
    expect: { status: 200, body: { status: 'ok' } },
  },
  {
    name: 'a path refused at the edge still gets a request id',
    request: { path: '/api/a%2Fb' },
    expect: { status: 400, problem: 'GH_PATH_ENCODED_SLASH', headers: { 'x-request-id': /.+/ } },
  },
  {
    name: 'nothing answers: 404',
    request: { path: '/nowhere' },
    expect: { status: 404, problem: 'GH_NOT_FOUND' },
  },
];

describe('one gateway from code and from a file answers identically', () => {
  const code = {} as Record<Framework, RunningApp>;
  const file = {} as Record<Framework, RunningApp>;
  beforeAll(async () => {
    upstream = await startUpstream('api');
    for (const framework of FRAMEWORKS) {
      code[framework] = await startApp(framework, codeSpec());
      file[framework] = await startApp(framework, fileSpec());
    }
  });
  afterAll(async () => {
    await closeAll(code);
    await closeAll(file);
    await upstream?.close();
  });

  for (const scenario of SCENARIOS) {
    test(scenario.name, async () => {
      const first: Partial<Record<Framework, RawResponse>> = {};
      for (const framework of FRAMEWORKS) {
        const answers: RawResponse[] = [];
        for (const app of [code[framework], file[framework]]) {
          for (const step of scenario.before ?? []) await request(app.port, step);
          const answer = await request(app.port, scenario.request);
          check(answer, scenario.expect, `${framework} ${app === code[framework] ? 'code' : 'file'}`);
          answers.push(answer);
        }
        expectSame(answers[0]!, answers[1]!, scenario.clock, [
          `${framework} from code`,
          `${framework} from the file`,
        ]);
        first[framework] = answers[1];
      }
      for (const framework of FRAMEWORKS.slice(1))
        expectSame(first[FRAMEWORKS[0]!]!, first[framework]!, scenario.clock, [FRAMEWORKS[0]!, framework]);
    });
  }

  test('nothing was reported as a fault on either side', () => {
    for (const framework of FRAMEWORKS) {
      expect(code[framework].reported, `${framework} code`).toEqual([]);
      expect(file[framework].reported, `${framework} file`).toEqual([]);
    }
  });
});

test('the README examples, written as one configuration file, are valid', () => {
  const text = readFileSync(new URL('../../docs/examples/gatehouse.yaml', import.meta.url), 'utf8');
  try {
    parseGatehouseConfig(text, 'gatehouse.yaml', {
      env: { ORDERS_URL: 'http://127.0.0.1:8081', IDP: 'https://login.example.com' },
      baseDir: new URL('../../docs/examples/', import.meta.url).pathname,
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(error.message);
    throw error;
  }
});
