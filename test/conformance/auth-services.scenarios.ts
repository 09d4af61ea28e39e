// Auth as an application migrating to Gatehouse meets it, on every framework: a JWT scheme other than
// Bearer (RealWorld/Conduit clients send `Authorization: Token <jwt>`), and a service that runs
// Gatehouse behind a Gatehouse gateway, trusting the identity the gateway signs (identityAuthenticator)
// although its own header hygiene strips every copy of x-gatehouse-identity a client sends.
import { generateKeyPairSync } from 'node:crypto';
import {
  apiKeyAuthenticator,
  auth,
  identityAuthenticator,
  jwtAuthenticator,
  type Principal,
} from '@gatehousejs/auth';
import type { ProblemRenderer } from '@gatehousejs/core';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { expect } from 'vitest';
import type { Scenario, Suite } from '../support/conformance.js';

const ISSUER = 'https://issuer.services.test';
const AUDIENCE = 'urn:services:api';
const API_KEY = 'gh_live_services_9Xq2';

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const publicJwk = { ...(await exportJWK(publicKey)), kid: 'svc-1', alg: 'RS256' };
const now = Math.floor(Date.now() / 1000);
// Long-lived so the suite can run for hours without the tokens expiring mid-run.
const LIFETIME = 6 * 3600;

const jwt = (claims: JWTPayload) =>
  new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + LIFETIME, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'svc-1' })
    .sign(privateKey);

const reader = await jwt({ sub: 'alice', scope: 'read' });
const writer = await jwt({ sub: 'bob', scope: 'read write' });
const expired = await jwt({ sub: 'alice', scope: 'read', iat: now - 7200, exp: now - 3600 });

const jwtMethod = (scheme: string | readonly string[]) =>
  jwtAuthenticator({
    keys: [{ key: publicJwk, alg: 'RS256', kid: 'svc-1' }],
    issuer: ISSUER,
    audience: AUDIENCE,
    scheme,
  });

const schemeRules = [
  { path: '/hello', anonymous: true },
  { path: '/view/write/*', scopes: ['write'] },
];

// ---------------------------------------------------------------------------------------------------
// The JWT method with another Authorization scheme

export const tokenSchemeSuite: Suite = {
  name: "auth: a JWT method reading 'Authorization: Token <jwt>' (scheme: 'Token')",
  app: { chain: (gw) => [gw.auth({ methods: [jwtMethod('Token')], rules: schemeRules })] },
  scenarios: [
    {
      name: 'no credential → 401 whose challenge names the Token scheme',
      request: { path: '/view/x' },
      expect: {
        status: 401,
        problem: 'GH_AUTH_REQUIRED',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: 'Token <jwt> → the principal reaches the app',
      request: { path: '/view/x', headers: { authorization: `Token ${reader}` } },
      expect: {
        status: 200,
        body: (body: { principal: unknown }) =>
          expect(body.principal).toEqual({ id: 'alice', method: 'jwt', scopes: ['read'], roles: [] }),
      },
    },
    {
      name: 'the scheme is case-insensitive (RFC 9110 §11.1): tOkEn <jwt> → 200',
      request: { path: '/view/x', headers: { authorization: `tOkEn ${reader}` } },
      expect: { status: 200 },
    },
    {
      name: 'Bearer <jwt> is another scheme here: no credential → 401 required',
      request: { path: '/view/x', headers: { authorization: `Bearer ${reader}` } },
      expect: {
        status: 401,
        problem: 'GH_AUTH_REQUIRED',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: "a scheme that only starts like Token ('Tokens') is another scheme → 401 required",
      request: { path: '/view/x', headers: { authorization: `Tokens ${reader}` } },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED' },
    },
    {
      name: 'an expired token → 401 naming Token, without RFC 6750 parameters (they are for Bearer)',
      request: { path: '/view/x', headers: { authorization: `Token ${expired}` } },
      expect: {
        status: 401,
        problem: 'GH_AUTH_TOKEN_EXPIRED',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: '"Token" without a token → 401 malformed',
      request: { path: '/view/x', headers: { authorization: 'Token' } },
      expect: {
        status: 401,
        problem: 'GH_AUTH_INVALID',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: 'a missing scope → 403 naming Token',
      request: { path: '/view/write/x', headers: { authorization: `Token ${reader}` } },
      expect: {
        status: 403,
        problem: 'GH_AUTH_FORBIDDEN',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: 'the scope → 200',
      request: { path: '/view/write/x', headers: { authorization: `Token ${writer}` } },
      expect: { status: 200 },
    },
  ],
};

export const schemeListSuite: Suite = {
  name: "auth: a JWT method reading both Bearer and Token (scheme: ['Bearer', 'Token']) beside an API key",
  app: {
    chain: (gw) => [
      gw.auth({
        methods: [
          jwtMethod(['Bearer', 'Token']),
          apiKeyAuthenticator({ keys: [{ key: API_KEY, id: 'svc' }] }),
        ],
        rules: schemeRules,
      }),
    ],
  },
  scenarios: [
    {
      name: 'no credential → one challenge per scheme, in order',
      request: { path: '/view/x' },
      expect: {
        status: 401,
        problem: 'GH_AUTH_REQUIRED',
        headers: {
          'www-authenticate': 'Bearer realm="gatehouse", Token realm="gatehouse", ApiKey realm="gatehouse"',
        },
      },
    },
    ...['Bearer', 'Token', 'BEARER', 'token'].map(
      (scheme): Scenario => ({
        name: `${scheme} <jwt> → 200`,
        request: { path: '/view/x', headers: { authorization: `${scheme} ${reader}` } },
        expect: { status: 200 },
      }),
    ),
    {
      name: 'an expired token sent as Token → the challenge names Token',
      request: { path: '/view/x', headers: { authorization: `token ${expired}` } },
      expect: {
        status: 401,
        problem: 'GH_AUTH_TOKEN_EXPIRED',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: 'an expired token sent as Bearer → the RFC 6750 challenge',
      request: { path: '/view/x', headers: { authorization: `Bearer ${expired}` } },
      expect: {
        status: 401,
        problem: 'GH_AUTH_TOKEN_EXPIRED',
        headers: {
          'www-authenticate':
            'Bearer realm="gatehouse", error="invalid_token", error_description="Token expired or not yet valid"',
        },
      },
    },
    {
      name: 'a missing scope over Token → 403 naming Token',
      request: { path: '/view/write/x', headers: { authorization: `Token ${reader}` } },
      expect: {
        status: 403,
        problem: 'GH_AUTH_FORBIDDEN',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: 'a missing scope over Bearer → 403 insufficient_scope',
      request: { path: '/view/write/x', headers: { authorization: `Bearer ${reader}` } },
      expect: {
        status: 403,
        problem: 'GH_AUTH_FORBIDDEN',
        headers: {
          'www-authenticate': 'Bearer realm="gatehouse", error="insufficient_scope", scope="write"',
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------
// A service behind a Gatehouse gateway, running Gatehouse itself

const gatewayKeys = generateKeyPairSync('ed25519');
const strangerKeys = generateKeyPairSync('ed25519');

/** What the gateway in front forwards for a principal: its own forwarder signs it. */
async function forwarded(principal: Principal, key = gatewayKeys.privateKey): Promise<string> {
  const gatewayAuth = auth({
    methods: [],
    default: 'anonymous',
    forward: { token: { key, alg: 'EdDSA', ttlSec: LIFETIME } },
  });
  return (await gatewayAuth.identityHeaders(principal))['x-gatehouse-identity']!;
}

const aliceIdentity = await forwarded({
  id: 'alice',
  method: 'jwt',
  scopes: ['read'],
  roles: ['ops'],
  tier: 'pro',
});
const bobIdentity = await forwarded({ id: 'bob', method: 'api-key', scopes: [], roles: [] });
const strangerIdentity = await forwarded(
  { id: 'alice', method: 'jwt', scopes: ['read'], roles: ['ops'] },
  strangerKeys.privateKey,
);
// alice's token with her roles rewritten to admin: the signature no longer matches.
const [head, payload, signature] = aliceIdentity.split('.');
const tampered = `${head}.${Buffer.from(
  JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['admin'] }),
).toString('base64url')}.${signature}`;

const identity = (token: string) => ({ 'x-gatehouse-identity': token });

export const identityServiceSuite: Suite = {
  name: 'auth: a service trusting the identity its gateway signs (identityAuthenticator), its own hygiene on',
  app: {
    chain: (gw) => [
      gw.auth({
        methods: [identityAuthenticator({ key: gatewayKeys.publicKey, alg: 'EdDSA' })],
        rules: [
          { path: '/hello', anonymous: true },
          { path: '/view/open/*', anonymous: true },
          { path: '/view/ops/*', roles: ['ops'] },
        ],
      }),
    ],
  },
  scenarios: [
    {
      name: "the gateway's signed identity → its principal; the header itself never reaches the app",
      request: { path: '/view/x', headers: { ...identity(aliceIdentity), 'x-user-id': 'root' } },
      expect: {
        status: 200,
        body: (body: { principal: unknown; headers: Record<string, string> }) => {
          expect(body.principal).toEqual({ id: 'alice', method: 'jwt', scopes: ['read'], roles: ['ops'] });
          expect(body.headers['x-gatehouse-identity']).toBeUndefined();
          expect(body.headers['x-user-id']).toBeUndefined();
        },
      },
    },
    {
      name: 'a role the gateway forwarded admits',
      request: { path: '/view/ops/x', headers: identity(aliceIdentity) },
      expect: { status: 200 },
    },
    {
      name: 'a principal without the role → 403, with no challenge (the identity is no client credential)',
      request: { path: '/view/ops/x', headers: identity(bobIdentity) },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN', headers: { 'www-authenticate': null } },
    },
    {
      name: 'no identity → 401 required',
      request: { path: '/view/x' },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED', headers: { 'www-authenticate': null } },
    },
    {
      name: 'a forged identity header → 401 invalid (stripped from the app, refused by the verifier)',
      request: { path: '/view/x', headers: identity('forged') },
      expect: { status: 401, problem: 'GH_AUTH_INVALID', absent: ['forged'] },
    },
    {
      name: 'an identity signed with another key → 401 invalid',
      request: { path: '/view/x', headers: identity(strangerIdentity) },
      expect: { status: 401, problem: 'GH_AUTH_INVALID' },
    },
    {
      name: 'a signed identity with its roles rewritten → 401 invalid',
      request: { path: '/view/ops/x', headers: identity(tampered) },
      expect: { status: 401, problem: 'GH_AUTH_INVALID' },
    },
    {
      name: 'the identity header twice → 400 conflict',
      request: { path: '/view/x', headers: { 'x-gatehouse-identity': [aliceIdentity, bobIdentity] } },
      expect: { status: 400, problem: 'GH_AUTH_CONFLICT' },
    },
    {
      name: 'its underscore twin is stripped and is no identity → 401 required',
      request: { path: '/view/x', headers: { x_gatehouse_identity: aliceIdentity } },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED' },
    },
    {
      name: 'an anonymous route without an identity → 200 without a principal',
      request: { path: '/view/open/x' },
      expect: {
        status: 200,
        body: (body: { principal?: unknown }) => expect(body.principal).toBeUndefined(),
      },
    },
    {
      name: 'an anonymous route still refuses a forged identity',
      request: { path: '/view/open/x', headers: identity(tampered) },
      expect: { status: 401, problem: 'GH_AUTH_INVALID' },
    },
  ],
};

// ---------------------------------------------------------------------------------------------------
// An application's own error format for refusals (gateway option problems.render)

/** RealWorld's GenericErrorModel, for refusals of the API under /api only. */
const realWorldErrors: ProblemRenderer = (problem, exchange) => {
  const path = exchange?.rawPath ?? '';
  if (path === '/view/api/broken') throw new Error('a renderer bug');
  if (!path.startsWith('/api/') && !path.startsWith('/view/api/')) return undefined;
  return { body: { errors: { body: [problem.detail] } } };
};

const CLOCK = [/;t=(\d+)/, /^retry-after: (\d+)$/m];

export const refusalFormatSuite: Suite = {
  name: "problems.render: refusals in the application's own format, status and headers unchanged",
  app: {
    gatewayOptions: { problems: { render: realWorldErrors } },
    chain: (gw) => [
      gw.auth({
        methods: [jwtMethod('Token')],
        rules: [
          { path: '/hello', anonymous: true },
          { path: '/view/api/open/*', anonymous: true },
          { path: '/api/*', anonymous: true },
          { path: '/view/api/write/*', scopes: ['write'] },
        ],
      }),
      gw.rateLimit({
        key: 'ip',
        limits: [{ name: 'minute', points: 1000, duration: 60 }],
        routes: [
          { path: '/hello', exempt: true },
          { path: '/view/api/open/limited', limits: [{ name: 'once', points: 1, duration: 600 }] },
        ],
      }),
    ],
  },
  scenarios: [
    {
      name: 'a 401 under /api: the RealWorld body, the challenge kept',
      request: { path: '/view/api/articles' },
      expect: {
        status: 401,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'www-authenticate': 'Token realm="gatehouse"',
          'cache-control': 'no-store',
        },
        body: { errors: { body: ['This resource needs authentication'] } },
      },
    },
    {
      name: 'a 403 under /api: the RealWorld body',
      request: { path: '/view/api/write/x', headers: { authorization: `Token ${reader}` } },
      expect: {
        status: 403,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'www-authenticate': 'Token realm="gatehouse"',
        },
        body: { errors: { body: ['The credentials do not grant access to this resource'] } },
      },
    },
    {
      name: 'a 429 under /api: the RealWorld body, Retry-After and RateLimit headers kept',
      before: [{ request: { path: '/view/api/open/limited' }, expect: { status: 200 } }],
      request: { path: '/view/api/open/limited' },
      clock: CLOCK,
      expect: {
        status: 429,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'retry-after': /^\d+$/,
          ratelimit: /^"once";r=0;t=\d+$/,
        },
        body: (body: { errors: { body: string[] } }) => expect(body.errors.body).toHaveLength(1),
      },
    },
    {
      name: 'an edge refusal (an encoded slash) under /api: the RealWorld body, the rejected path read raw',
      request: { path: '/view/api/a%2fb' },
      expect: {
        status: 400,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: (body: { errors: { body: string[] } }) => expect(body.errors.body).toHaveLength(1),
      },
    },
    {
      name: "gw.errors()'s 404 for a path nothing serves, under /api: the RealWorld body",
      request: { path: '/api/nothing-here' },
      expect: {
        status: 404,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: { errors: { body: ['No handler for GET /api/nothing-here'] } },
      },
    },
    {
      name: 'outside /api the renderer declines: RFC 9457 problem details',
      request: { path: '/view/other' },
      expect: {
        status: 401,
        problem: 'GH_AUTH_REQUIRED',
        headers: { 'www-authenticate': 'Token realm="gatehouse"' },
      },
    },
    {
      name: 'a renderer that throws: the problem document is sent',
      request: { path: '/view/api/broken' },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED' },
    },
    {
      name: 'an admitted request is untouched',
      request: { path: '/view/api/x', headers: { authorization: `Token ${reader}` } },
      expect: { status: 200 },
    },
  ],
};

export const authServiceSuites: Suite[] = [
  tokenSchemeSuite,
  schemeListSuite,
  identityServiceSuite,
  refusalFormatSuite,
];
