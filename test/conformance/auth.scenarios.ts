// Authentication and authorization on both frameworks: JWT and API-key methods, per-route rules on
// the normalized path, WWW-Authenticate challenges, identity forwarding, and every bad input the
// issue lists. Tokens are signed once here, so both frameworks receive byte-identical requests.
import { apiKeyAuthenticator, jwtAuthenticator } from '@gatehousejs/auth';
import {
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { expect } from 'vitest';
import type { Scenario, Suite } from '../support/conformance.js';

export const ISSUER = 'https://issuer.conformance.test';
export const AUDIENCE = 'urn:conformance:api';
export const IDENTITY_SECRET = new TextEncoder().encode('conformance-identity-secret-0123456789');

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const publicJwk = { ...(await exportJWK(publicKey)), kid: 'conf-1', alg: 'RS256', use: 'sig' };
const publicPem = await exportSPKI(publicKey);
const now = Math.floor(Date.now() / 1000);
// Long-lived so the suite can run for hours without the tokens expiring mid-run.
const LIFETIME = 6 * 3600;

async function token(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + LIFETIME, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'conf-1', ...header })
    .sign(privateKey);
}

const reader = await token({ sub: 'alice', scope: 'read' });
const writer = await token({ sub: 'bob', scope: 'read write' });
const admin = await token({ sub: 'carol', scope: 'read', roles: ['admin'] });
const expired = await token({ sub: 'alice', scope: 'read', iat: now - 7200, exp: now - 3600 });
const notYet = await token({ sub: 'alice', scope: 'read', nbf: now + 3600 });
const wrongIssuer = await token({ sub: 'alice', iss: 'https://evil.test' });
const wrongAudience = await token({ sub: 'alice', aud: 'urn:someone:else' });
const noExp = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now })
  .setProtectedHeader({ alg: 'RS256', kid: 'conf-1' })
  .sign(privateKey);
const algNone = new UnsecuredJWT({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'mallory',
  exp: now + LIFETIME,
}).encode();
const nonePayload = algNone.split('.')[1];
const capitalNone = `${base64url.encode(JSON.stringify({ alg: 'None', typ: 'JWT' }))}.${nonePayload}.`;
const emptySignature = `${reader.split('.').slice(0, 2).join('.')}.`;
// HS256 "signed" with the RSA public key as the HMAC secret: the classic key-confusion attack.
const confused = await new SignJWT({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'mallory',
  roles: ['admin'],
  exp: now + LIFETIME,
})
  .setProtectedHeader({ alg: 'HS256', kid: 'conf-1' })
  .sign(new TextEncoder().encode(publicPem));
const traversalKid = await token({ sub: 'alice' }, { kid: '../../../../etc/passwd' });
const longKid = await token({ sub: 'alice' }, { kid: 'k'.repeat(10_000) });
const jkuToken = await token({ sub: 'mallory' }, { kid: 'elsewhere', jku: 'http://127.0.0.1:9/jwks.json' });
const x5uToken = await token({ sub: 'mallory' }, { kid: 'elsewhere', x5u: 'http://127.0.0.1:9/cert.pem' });
const { privateKey: attackerKey, publicKey: attackerPublic } = await generateKeyPair('RS256', {
  extractable: true,
});
const embeddedJwk = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', exp: now + LIFETIME })
  .setProtectedHeader({ alg: 'RS256', jwk: await exportJWK(attackerPublic) })
  .sign(attackerKey);
const jweShaped = `${base64url.encode(JSON.stringify({ alg: 'RSA-OAEP', enc: 'A256GCM' }))}.a.b.c.d`;
// Larger than the default maxTokenBytes (8 KiB) yet under Node's 16 KiB header limit.
const tenKbToken = await token({ sub: 'alice', pad: 'x'.repeat(10_000) });
const hugeToken = await token({ sub: 'alice', pad: 'x'.repeat(100_000) });

export const API_KEY = 'gh_live_7Qm2xZr41kVb';

function authChain<M>(
  gw: { auth(o: Parameters<typeof import('@gatehousejs/auth').auth>[0]): M },
  deny = false,
): M {
  return gw.auth({
    methods: [
      jwtAuthenticator({
        keys: [{ key: publicJwk, alg: 'RS256', kid: 'conf-1' }],
        issuer: ISSUER,
        audience: AUDIENCE,
        query: 'access_token',
      }),
      apiKeyAuthenticator({ keys: [{ key: API_KEY, id: 'svc-reports', scopes: ['read'] }] }),
    ],
    rules: deny
      ? [
          { path: '/view/open/*', anonymous: true },
          { path: '/view/listed/*' },
          { path: '/hello', anonymous: true },
        ]
      : [
          { path: '/view/public/*', anonymous: true },
          { path: '/view/admin/*', roles: ['admin'] },
          { path: '/view/orders/*', httpMethods: ['POST'], scopes: ['write'] },
          { path: '/view/orders/*', scopes: ['read'] },
          { path: '/view/closed/*', deny: true },
          {
            path: '/view/mine/:id',
            allow: (principal, exchange) => exchange.path.endsWith(`/${principal.id}`),
          },
          { path: '/hello', anonymous: true },
        ],
    default: deny ? 'deny' : 'authenticated',
    forward: {
      headers: { 'x-user-id': 'id', 'x-user-scopes': 'scopes' },
      token: { key: IDENTITY_SECRET, alg: 'HS256' },
    },
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const CHALLENGE = 'Bearer realm="gatehouse", ApiKey realm="gatehouse"';
const invalidToken = (name: string, t: string, code = 'GH_AUTH_INVALID'): Scenario => ({
  name,
  request: { path: '/view/x', headers: bearer(t) },
  expect: {
    status: 401,
    problem: code,
    headers: {
      'www-authenticate': /^Bearer realm="gatehouse", error="invalid_token", error_description="[^"]+"$/,
    },
    absent: [t.slice(-20), 'mallory'],
  },
});

// A token without the admin role reaches /view/admin through every spelling of the path: each is
// the same normalized path and meets the admin rule (403), never the anonymous /view/public rule.
const ADMIN_SPELLINGS = [
  '/view/public/../admin/x',
  '/view/%61dmin/x',
  '//view//admin/x',
  '/VIEW/ADMIN/x',
  '/view/admin/x/',
  '/view/admin;x=1/x',
  '/view/public/%2e%2e/admin/x',
];

export const authSuite: Suite = {
  name: 'auth: methods, rules on the normalized path, challenges, forwarding',
  app: {
    chain: (gw) => [authChain(gw)],
    guards: (gw) => ({
      'admin-scope': [gw.authorize({ scopes: ['admin'] })],
      writer: [gw.authorize({ scopes: ['write'] })],
    }),
  },
  scenarios: [
    {
      name: 'no credential → 401 with a challenge per method',
      request: { path: '/view/x' },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED', headers: { 'www-authenticate': CHALLENGE } },
    },
    {
      name: 'a valid JWT → the principal reaches the app, identity forwarded as headers and a signed token',
      request: { path: '/view/x', headers: bearer(reader) },
      expect: {
        status: 200,
        body: (body: { principal: unknown; headers: Record<string, string> }) => {
          expect(body.principal).toEqual({ id: 'alice', method: 'jwt', scopes: ['read'], roles: [] });
          expect(body.headers['x-user-id']).toBe('alice');
          expect(body.headers['x-user-scopes']).toBe('read');
          expect(body.headers['x-gatehouse-identity']).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
        },
      },
    },
    {
      name: 'the Bearer scheme is case-insensitive',
      request: { path: '/view/x', headers: { authorization: `bEaReR ${reader}` } },
      expect: { status: 200 },
    },
    {
      name: 'another scheme (Basic) is not a bearer credential → 401 required',
      request: { path: '/view/x', headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED', headers: { 'www-authenticate': CHALLENGE } },
    },
    {
      name: 'client-supplied identity headers never reach the app; the gateway sets its own',
      request: {
        path: '/view/x',
        headers: {
          ...bearer(reader),
          'x-user-id': 'root',
          'x-user-roles': 'admin',
          'x-user-scopes': 'admin write',
          'x-gatehouse-identity': 'forged',
        },
      },
      expect: {
        status: 200,
        body: (body: { headers: Record<string, string> }) => {
          expect(body.headers['x-user-id']).toBe('alice');
          expect(body.headers['x-user-scopes']).toBe('read');
          expect(body.headers['x-user-roles']).toBeUndefined();
          expect(body.headers['x-gatehouse-identity']).not.toBe('forged');
        },
      },
    },
    {
      name: 'roles supplied by the client in headers grant nothing',
      request: {
        path: '/view/admin/x',
        headers: { ...bearer(reader), 'x-user-roles': 'admin', 'x-roles': 'admin' },
      },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'an anonymous route answers without credentials, with no identity headers',
      request: { path: '/view/public/page', headers: { 'x-user-id': 'root' } },
      expect: {
        status: 200,
        body: (body: { principal?: unknown; headers: Record<string, string> }) => {
          expect(body.principal).toBeUndefined();
          expect(body.headers['x-user-id']).toBeUndefined();
          expect(body.headers['x-gatehouse-identity']).toBeUndefined();
        },
      },
    },
    {
      name: 'an anonymous route still verifies a presented token',
      request: { path: '/view/public/page', headers: bearer(expired) },
      expect: { status: 401, problem: 'GH_AUTH_TOKEN_EXPIRED' },
    },
    {
      name: 'the admin rule refuses a token without the role → 403 insufficient_scope',
      request: { path: '/view/admin/x', headers: bearer(reader) },
      expect: {
        status: 403,
        problem: 'GH_AUTH_FORBIDDEN',
        headers: {
          'www-authenticate':
            'Bearer realm="gatehouse", error="insufficient_scope", error_description="Forbidden"',
        },
      },
    },
    {
      name: 'the admin rule admits a token with the role',
      request: { path: '/view/admin/x', headers: bearer(admin) },
      expect: { status: 200 },
    },
    ...ADMIN_SPELLINGS.map(
      (path): Scenario => ({
        name: `${path} meets the admin rule (403 for a non-admin)`,
        request: { path, headers: bearer(reader) },
        expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
      }),
    ),
    ...ADMIN_SPELLINGS.map(
      (path): Scenario => ({
        name: `${path} without credentials is not the anonymous public route (401)`,
        request: { path },
        expect: { status: 401, problem: 'GH_AUTH_REQUIRED' },
      }),
    ),
    {
      name: '/view/admin%2fx (an encoded slash) is refused at the edge',
      request: { path: '/view/admin%2fx', headers: bearer(admin) },
      expect: { status: 400, problem: 'GH_PATH_ENCODED_SLASH' },
    },
    {
      name: 'scope read on a write route → 403 naming the scope',
      request: { method: 'POST', path: '/view/orders/1', headers: bearer(reader), body: '{}' },
      expect: {
        status: 403,
        problem: 'GH_AUTH_FORBIDDEN',
        headers: {
          'www-authenticate': 'Bearer realm="gatehouse", error="insufficient_scope", scope="write"',
        },
        body: (body: { required_scopes: string[] }) => expect(body.required_scopes).toEqual(['write']),
      },
    },
    {
      name: 'scope write on the write route is admitted',
      request: { method: 'POST', path: '/view/orders/1', headers: bearer(writer), body: '{}' },
      expect: { status: 200 },
    },
    {
      name: 'scope read on the read route is admitted',
      request: { path: '/view/orders/1', headers: bearer(reader) },
      expect: { status: 200 },
    },
    {
      name: 'a deny rule refuses even an admin',
      request: { path: '/view/closed/x', headers: bearer(admin) },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'a predicate over principal and request admits its owner',
      request: { path: '/view/mine/alice', headers: bearer(reader) },
      expect: { status: 200 },
    },
    {
      name: 'a predicate over principal and request refuses another caller',
      request: { path: '/view/mine/bob', headers: bearer(reader) },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'gw.authorize() on a route refuses a principal without the scope',
      request: { path: '/guarded/admin-scope', headers: bearer(reader) },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'gw.authorize() on a route admits a principal with the scope',
      request: { path: '/guarded/writer', headers: bearer(writer) },
      expect: { status: 200 },
    },
    invalidToken('alg none → 401', algNone),
    invalidToken("alg 'None' → 401", capitalNone),
    invalidToken('an empty signature → 401', emptySignature),
    invalidToken('HS256 signed with the RSA public key → 401', confused),
    invalidToken('a kid with path traversal → 401', traversalKid),
    invalidToken('a 10 KB kid → 401', longKid),
    invalidToken('a jku header pointing elsewhere → 401', jkuToken),
    invalidToken('an x5u header pointing elsewhere → 401', x5uToken),
    invalidToken('an embedded jwk header → 401', embeddedJwk),
    invalidToken('expired → 401', expired, 'GH_AUTH_TOKEN_EXPIRED'),
    invalidToken('not yet valid → 401', notYet, 'GH_AUTH_TOKEN_EXPIRED'),
    invalidToken('wrong issuer → 401', wrongIssuer),
    invalidToken('wrong audience → 401', wrongAudience),
    invalidToken('missing exp → 401', noExp),
    invalidToken('a JWE → 401', jweShaped),
    invalidToken('a token larger than maxTokenBytes → 401', tenKbToken),
    invalidToken('garbage → 401', 'not.a.jwt'),
    ...[
      ['"Bearer" without a token', 'Bearer'],
      ['a token with a space inside', 'Bearer abc def'],
      ['a token with characters outside token68', 'Bearer abc<script>'],
      ['a tab after the scheme', 'Bearer\tabc.def.ghi'],
    ].map(
      ([label, value]): Scenario => ({
        name: `${label} → 401 malformed`,
        request: { path: '/view/x', headers: { authorization: value! } },
        expect: {
          status: 401,
          problem: 'GH_AUTH_INVALID',
          headers: { 'www-authenticate': /^Bearer realm="gatehouse", error="invalid_token"/ },
          absent: ['<script>'],
        },
      }),
    ),
    {
      name: 'a 100 KB token exceeds the header limit → 431 before any parsing',
      request: { path: '/view/x', headers: bearer(hugeToken) },
      expect: { status: 431, problem: 'GH_REQUEST_HEADERS_TOO_LARGE' },
    },
    {
      name: 'a valid header token plus a different query token → 400 invalid_request',
      request: { path: `/view/x?access_token=${writer}`, headers: bearer(reader) },
      expect: {
        status: 400,
        problem: 'GH_AUTH_CONFLICT',
        headers: { 'www-authenticate': /^Bearer realm="gatehouse", error="invalid_request"/ },
      },
    },
    {
      name: 'the same token in header and query is one credential',
      request: { path: `/view/x?access_token=${reader}`, headers: bearer(reader) },
      expect: { status: 200 },
    },
    {
      name: 'two Authorization headers → 400',
      request: { path: '/view/x', headers: { authorization: [`Bearer ${reader}`, `Bearer ${admin}`] } },
      expect: { status: 400, problem: 'GH_AUTH_CONFLICT' },
    },
    {
      name: 'an API key authenticates its principal',
      request: { path: '/view/x', headers: { 'x-api-key': API_KEY } },
      expect: {
        status: 200,
        body: (body: { principal: unknown }) =>
          expect(body.principal).toEqual({
            id: 'svc-reports',
            method: 'api-key',
            scopes: ['read'],
            roles: [],
          }),
      },
    },
    ...[
      ['differing by case', API_KEY.toUpperCase()],
      ['with inner whitespace', `${API_KEY.slice(0, 6)} ${API_KEY.slice(6)}`],
      ['with one more character', `${API_KEY}x`],
      ['that is empty', ''],
      ['longer than maxKeyBytes (256)', 'k'.repeat(300)],
      ['unknown', 'gh_live_0000000000000'],
    ].map(
      ([label, key]): Scenario => ({
        name: `an API key ${label} → 401`,
        request: { path: '/view/x', headers: { 'x-api-key': key! } },
        expect: { status: 401, problem: 'GH_AUTH_INVALID', absent: [API_KEY] },
      }),
    ),
    {
      name: 'an API key sent twice with different values → 400',
      request: { path: '/view/x', headers: { 'x-api-key': [API_KEY, 'gh_live_other'] } },
      expect: { status: 400, problem: 'GH_AUTH_CONFLICT' },
    },
  ],
};

export const denyByDefaultSuite: Suite = {
  name: 'auth: deny by default',
  app: { chain: (gw) => [authChain(gw, true)] },
  scenarios: [
    {
      name: 'a route no rule lists is refused even for a valid principal',
      request: { path: '/view/x', headers: bearer(admin) },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'a listed authenticated route admits a valid principal',
      request: { path: '/view/listed/x', headers: bearer(reader) },
      expect: { status: 200 },
    },
    {
      name: 'a listed authenticated route still needs credentials',
      request: { path: '/view/listed/x' },
      expect: { status: 401, problem: 'GH_AUTH_REQUIRED' },
    },
    {
      name: 'a listed anonymous route answers without credentials',
      request: { path: '/view/open/page' },
      expect: { status: 200 },
    },
    {
      name: 'dot segments cannot climb out of the anonymous route',
      request: { path: '/view/open/../secret' },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
  ],
};

export { publicJwk };
