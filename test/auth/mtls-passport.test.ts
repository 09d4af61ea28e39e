// gw.auth() with client certificates over real mutual TLS and with real passport strategies, on
// every framework: the same requests, the same assertions, and the answers compared.
import { X509Certificate } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { mtlsAuthenticator, type PassportStrategy, passportAuthenticator } from '@gatehousejs/auth';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAMEWORKS, type Framework, type RunningApp, startApp } from '../support/apps.js';
import {
  CLIENT_CN,
  CLIENT_DNS_NAME,
  type ClientName,
  makeTestPki,
  opensslAvailable,
  SPIFFE_ID,
  type TestPki,
} from '../support/certs.js';

// The strategies ship CommonJS without type declarations: loaded through require, typed by use.
const require = createRequire(import.meta.url);
type Done = (err: unknown, user?: unknown, info?: unknown) => void;
const BearerStrategy = (require('passport-http-bearer') as { Strategy: unknown }).Strategy as new (
  verify: (token: string, done: Done) => void,
) => PassportStrategy;
const HeaderAPIKeyStrategy = (require('passport-headerapikey') as { HeaderAPIKeyStrategy: unknown })
  .HeaderAPIKeyStrategy as new (
  header: { header: string; prefix: string },
  passReqToCallback: boolean,
  verify: (apiKey: string, done: Done) => void,
) => PassportStrategy;

// Skipped (loudly) only on a developer machine without openssl; on CI the TLS tests run and fail.
const noOpenssl = process.env['CI'] !== 'true' && !opensslAvailable();
if (noOpenssl) {
  console.warn(
    '\n*** mtls-passport.test.ts: mTLS tests SKIPPED — the openssl CLI is not installed (needed to make test certificates) ***\n',
  );
}

// What a verify callback throws when its user store is down: must never reach a client.
const STORE_FAILURE = 'user store at 10.9.8.7 refused login for svc password=hunter2';
const USERS: Record<string, { id: string; roles: string[] }> = {
  'tok-alice': { id: 'alice', roles: ['admin'] },
};
const API_KEYS: Record<string, { username: string; roles: string[] }> = {
  'k-billing-123': { username: 'svc-billing', roles: ['billing'] },
};

function bearerStrategy(): PassportStrategy {
  return new BearerStrategy((token, done) => {
    if (token === 'tok-store-down') return done(new Error(STORE_FAILURE));
    const user = USERS[token];
    // Answered on a later turn, as a real lookup would be.
    setImmediate(() => (user ? done(null, user, { scope: 'orders:read orders:write' }) : done(null, false)));
  });
}

const apiKeyMethod = () =>
  passportAuthenticator(
    new HeaderAPIKeyStrategy({ header: 'X-Api-Key', prefix: '' }, false, (key, done) =>
      done(null, API_KEYS[key] ?? false),
    ),
    { credentials: { header: 'x-api-key' }, scheme: 'ApiKey' },
  );

type AppName = 'mtls' | 'mtlsAndBearer' | 'passport';

function startAll(framework: Framework, pki: TestPki | undefined): Promise<Record<AppName, RunningApp>> {
  const tls =
    pki === undefined
      ? undefined
      : { ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: false };
  const adminRule = [{ path: '/view/admin/*', roles: ['admin'] }];
  const mtls = () => mtlsAuthenticator({ allowedSpiffeTrustDomains: ['prod.example'] });
  return Promise.all([
    tls === undefined
      ? undefined
      : startApp(framework, { tls, chain: (gw) => [gw.auth({ methods: [mtls()], rules: adminRule })] }),
    tls === undefined
      ? undefined
      : startApp(framework, {
          tls,
          chain: (gw) => [
            gw.auth({ methods: [mtls(), passportAuthenticator(bearerStrategy())], combine: 'all' }),
          ],
        }),
    startApp(framework, {
      chain: (gw) => [
        gw.auth({
          methods: [passportAuthenticator(bearerStrategy()), apiKeyMethod()],
          rules: adminRule,
        }),
      ],
    }),
  ]).then(([mtlsApp, mtlsAndBearer, passport]) => ({
    mtls: mtlsApp!,
    mtlsAndBearer: mtlsAndBearer!,
    passport,
  }));
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: Record<string, unknown>;
}

interface Call {
  app: AppName;
  path: string;
  client?: ClientName;
  headers?: Record<string, string>;
}

function send(app: RunningApp, call: Call, pki: TestPki | undefined): Promise<Answer> {
  const tls = call.app !== 'passport';
  const options = {
    host: '127.0.0.1',
    port: app.port,
    path: call.path,
    headers: call.headers ?? {},
    agent: false as const,
    ...(tls ? { ca: pki!.ca, ...(call.client === undefined ? {} : pki!.clients[call.client]) } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          text,
          body: JSON.parse(text) as Record<string, unknown>,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const expectProblem = (answer: Answer, status: number, code: string) => {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status, code, type: `urn:gatehouse:error:${code}` });
};

interface Scenario extends Call {
  name: string;
  check(answer: Answer): void;
}

const mtlsPrincipal = { id: SPIFFE_ID, method: 'mtls', scopes: [], roles: [] };

const MTLS: Scenario[] = [
  {
    name: 'the SPIFFE workload certificate is the principal',
    app: 'mtls',
    path: '/view/orders',
    client: 'spiffe',
    check: (a) => {
      expect(a.status, a.text).toBe(200);
      expect(a.body['principal']).toEqual(mtlsPrincipal);
    },
  },
  {
    name: 'no client certificate: 401 authentication required',
    app: 'mtls',
    path: '/view/orders',
    check: (a) => {
      expectProblem(a, 401, 'GH_AUTH_REQUIRED');
      expect(a.body['principal']).toBeUndefined();
    },
  },
  {
    name: 'a certificate from another CA: 401 invalid',
    app: 'mtls',
    path: '/view/orders',
    client: 'rogue',
    check: (a) => expectProblem(a, 401, 'GH_AUTH_INVALID'),
  },
  {
    name: 'a trusted certificate with a DNS name only: 401 (not in an allowed trust domain)',
    app: 'mtls',
    path: '/view/orders',
    client: 'dns',
    check: (a) => expectProblem(a, 401, 'GH_AUTH_INVALID'),
  },
  {
    name: 'a trusted certificate with a CN only: 401 (not in an allowed trust domain)',
    app: 'mtls',
    path: '/view/orders',
    client: 'cn',
    check: (a) => {
      expectProblem(a, 401, 'GH_AUTH_INVALID');
      expect(a.text).not.toContain(CLIENT_CN);
    },
  },
  {
    name: 'a certificate principal without the admin role: 403 on the admin rule',
    app: 'mtls',
    path: '/view/admin/users',
    client: 'spiffe',
    check: (a) => expectProblem(a, 403, 'GH_AUTH_FORBIDDEN'),
  },
  {
    name: "combine 'all': the certificate alone is 401",
    app: 'mtlsAndBearer',
    path: '/view/orders',
    client: 'spiffe',
    check: (a) => {
      expectProblem(a, 401, 'GH_AUTH_REQUIRED');
      expect(a.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
    },
  },
  {
    name: "combine 'all': the token alone is 401",
    app: 'mtlsAndBearer',
    path: '/view/orders',
    headers: { authorization: 'Bearer tok-alice' },
    check: (a) => expectProblem(a, 401, 'GH_AUTH_REQUIRED'),
  },
  {
    name: "combine 'all': certificate and token are 200, the principal from the first method",
    app: 'mtlsAndBearer',
    path: '/view/orders',
    client: 'spiffe',
    headers: { authorization: 'Bearer tok-alice' },
    check: (a) => {
      expect(a.status, a.text).toBe(200);
      expect(a.body['principal']).toEqual(mtlsPrincipal);
    },
  },
  {
    name: "combine 'all': a valid token does not rescue an untrusted certificate",
    app: 'mtlsAndBearer',
    path: '/view/orders',
    client: 'rogue',
    headers: { authorization: 'Bearer tok-alice' },
    check: (a) => expectProblem(a, 401, 'GH_AUTH_INVALID'),
  },
  {
    name: "combine 'all': a good certificate does not rescue a bad token",
    app: 'mtlsAndBearer',
    path: '/view/orders',
    client: 'spiffe',
    headers: { authorization: 'Bearer tok-forged' },
    check: (a) => expectProblem(a, 401, 'GH_AUTH_INVALID'),
  },
];

const PASSPORT: Scenario[] = [
  {
    name: 'a valid bearer token is the principal (scopes from info, roles from the user)',
    app: 'passport',
    path: '/view/admin/users',
    headers: { authorization: 'Bearer tok-alice' },
    check: (a) => {
      expect(a.status, a.text).toBe(200);
      expect(a.body['principal']).toEqual({
        id: 'alice',
        method: 'passport',
        scopes: ['orders:read', 'orders:write'],
        roles: ['admin'],
      });
    },
  },
  {
    name: "an unknown bearer token: 401 with the strategy's challenge",
    app: 'passport',
    path: '/view/orders',
    headers: { authorization: 'Bearer tok-forged' },
    check: (a) => {
      expectProblem(a, 401, 'GH_AUTH_INVALID');
      expect(a.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]*", error="invalid_token"$/);
      expect(a.text).not.toContain('tok-forged');
    },
  },
  {
    name: 'a valid API key is the principal',
    app: 'passport',
    path: '/view/orders',
    headers: { 'x-api-key': 'k-billing-123' },
    check: (a) => {
      expect(a.status, a.text).toBe(200);
      expect(a.body['principal']).toEqual({
        id: 'svc-billing',
        method: 'passport',
        scopes: [],
        roles: ['billing'],
      });
    },
  },
  {
    name: 'an unknown API key: 401 invalid',
    app: 'passport',
    path: '/view/orders',
    headers: { 'x-api-key': 'k-guess' },
    check: (a) => {
      expectProblem(a, 401, 'GH_AUTH_INVALID');
      expect(a.text).not.toContain('k-guess');
    },
  },
  {
    name: 'an API key without the admin role: 403, challenged in its own scheme',
    app: 'passport',
    path: '/view/admin/users',
    headers: { 'x-api-key': 'k-billing-123' },
    check: (a) => {
      expectProblem(a, 403, 'GH_AUTH_FORBIDDEN');
      expect(a.headers['www-authenticate']).toBe('ApiKey realm="gatehouse"');
    },
  },
  {
    name: 'the verify callback failing: 500 GH_AUTH_ERROR, its message not shown',
    app: 'passport',
    path: '/view/orders',
    headers: { authorization: 'Bearer tok-store-down' },
    check: (a) => {
      expectProblem(a, 500, 'GH_AUTH_ERROR');
      expect(a.body['detail']).toBe(a.body['title']);
      for (const fragment of ['hunter2', '10.9.8.7', 'user store', 'tok-store-down']) {
        expect(a.text).not.toContain(fragment);
      }
      expect(a.headers['www-authenticate']).toBeUndefined();
    },
  },
  {
    name: 'no credentials: 401 challenging both schemes',
    app: 'passport',
    path: '/view/orders',
    check: (a) => {
      expectProblem(a, 401, 'GH_AUTH_REQUIRED');
      expect(a.headers['www-authenticate']).toBe('Bearer realm="gatehouse", ApiKey realm="gatehouse"');
    },
  },
];

// Answers per scenario and framework, compared once both frameworks have run.
const answers = new Map<string, Partial<Record<Framework, Answer>>>();
const needsTls = (s: Scenario) => s.app !== 'passport';

let pki: TestPki | undefined;
beforeAll(() => {
  if (!noOpenssl) pki = makeTestPki();
});
afterAll(() => pki?.cleanup());

// Each refusal below is meant to have one cause: check the certificates differ only where intended.
test.skipIf(noOpenssl)('the test PKI: who issued each certificate and what it names', () => {
  const ca = new X509Certificate(pki!.ca);
  const x509 = (name: ClientName) => new X509Certificate(pki!.clients[name].cert);
  expect(new X509Certificate(pki!.server.cert).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
  expect(x509('spiffe').subjectAltName).toBe(`URI:${SPIFFE_ID}`);
  expect(x509('dns').subjectAltName).toBe(`DNS:${CLIENT_DNS_NAME}`);
  expect(x509('cn').subjectAltName).toBeUndefined();
  expect(x509('cn').subject).toContain(`CN=${CLIENT_CN}`);
  expect(x509('rogue').subjectAltName).toBe(`URI:${SPIFFE_ID}`);
  for (const name of ['spiffe', 'dns', 'cn'] as const) expect(x509(name).verify(ca.publicKey)).toBe(true);
  expect(x509('rogue').verify(ca.publicKey)).toBe(false);
});

for (const framework of FRAMEWORKS) {
  describe(`${framework}: gw.auth() with mTLS and passport`, () => {
    let apps: Record<AppName, RunningApp>;
    beforeAll(async () => {
      apps = await startAll(framework, pki);
    });
    afterAll(async () => {
      await Promise.all(Object.values(apps ?? {}).map((app) => app?.close()));
    });

    for (const scenario of [...MTLS, ...PASSPORT]) {
      test.skipIf(needsTls(scenario) && noOpenssl)(scenario.name, async () => {
        const answer = await send(apps[scenario.app], scenario, pki);
        answers.set(scenario.name, { ...answers.get(scenario.name), [framework]: answer });
        scenario.check(answer);
      });
    }
  });
}

// The parts of an answer that must not depend on the framework: request ids and ports are per app.
function comparable(answer: Answer | undefined) {
  if (answer === undefined) return undefined;
  const { requestId: _id, host: _host, ...body } = answer.body;
  return {
    status: answer.status,
    contentType: answer.headers['content-type'],
    wwwAuthenticate: answer.headers['www-authenticate'],
    body,
  };
}

describe('every framework answers the same', () => {
  for (const scenario of [...MTLS, ...PASSPORT]) {
    test.skipIf(needsTls(scenario) && noOpenssl)(scenario.name, () => {
      const all = answers.get(scenario.name);
      const [first] = FRAMEWORKS;
      for (const fw of FRAMEWORKS) {
        expect(all?.[fw], `${fw} answered`).toBeDefined();
        expect(comparable(all?.[fw]), `${fw} against ${first}`).toEqual(comparable(all?.[first!]));
      }
    });
  }
});
