// Edge hardening on every framework: the header-count limit (431, never a silent drop), an ambiguous
// Host (400), the headers timeout serve() sets (408), identity headers and their underscore twins
// stripped before the app sees them, and the admin surface behind its access policy (403 by default,
// /health and /ready open, endpoints registered by capabilities through one API).
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { expect } from 'vitest';
import type { Suite } from '../support/conformance.js';
import type { RawRequest } from '../support/raw-http.js';

/** `n` extra header fields, besides the Host and Connection every request carries. */
const fields = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-field-${i}`, 'v']));
const view = (headers: Record<string, string | string[]>): RawRequest => ({ path: '/view/x', headers });

export const headerLimitSuite: Suite = {
  name: 'edge: header count (default limit of 100 fields)',
  app: { chain: (gw) => [gw.requestId()] },
  scenarios: [
    {
      name: '100 header fields are accepted',
      request: { path: '/hello', headers: fields(98) },
      expect: { status: 200 },
    },
    {
      name: '101 header fields → 431 problem+json',
      request: { path: '/hello', headers: fields(99) },
      expect: {
        status: 431,
        problem: 'GH_REQUEST_TOO_MANY_HEADERS',
        body: (body: { detail?: string }) =>
          expect(body.detail).toBe('The request has more than 100 header fields'),
      },
    },
    {
      // ~12 KB on the wire, within Node's 16 KiB header limit (Node 24.21 refuses a larger head
      // itself; Node 20 let ~19 KB of small fields through), and beyond the 1,000 fields Node alone
      // keeps: it would pass the request on with some of them dropped.
      name: '1,200 small header fields → 431, never forwarded with some of them dropped',
      request: {
        path: '/view/x',
        headers: Object.fromEntries(Array.from({ length: 1_198 }, (_, i) => [`h${i}`, 'v'])),
      },
      expect: { status: 431, problem: 'GH_REQUEST_TOO_MANY_HEADERS' },
    },
  ],
};

export const configuredLimitsSuite: Suite = {
  name: 'edge: configured limits (maxHeaders 20, headers timeout 300 ms)',
  app: { config: { limits: { maxHeaders: 20, headersTimeoutMs: 300 } }, chain: (gw) => [gw.requestId()] },
  scenarios: [
    { name: '20 fields pass', request: { path: '/hello', headers: fields(18) }, expect: { status: 200 } },
    {
      name: '21 fields → 431',
      request: { path: '/hello', headers: fields(19) },
      expect: { status: 431, problem: 'GH_REQUEST_TOO_MANY_HEADERS' },
    },
    {
      name: 'a request head that never ends → 408 problem+json within the headers timeout, then closed',
      request: { raw: 'GET /hello HTTP/1.1\r\nhost: x\r\nx-slow: 1\r\n' },
      expect: { status: 408, problem: 'GH_REQUEST_TIMEOUT', headers: { connection: 'close' } },
    },
  ],
};

export const hostSuite: Suite = {
  name: 'edge: Host',
  app: { chain: (gw) => [gw.requestId()] },
  scenarios: [
    {
      name: 'two Host headers → 400 problem+json',
      request: { path: '/view/x', headers: { host: ['a.example', 'b.example'] } },
      expect: {
        status: 400,
        problem: 'GH_REQUEST_HOST_INVALID',
        body: (body: { detail?: string }) =>
          expect(body.detail).toBe('The request has more than one Host header'),
      },
    },
    {
      name: 'two Host headers spelled in different case → 400',
      request: {
        raw: 'GET /view/x HTTP/1.1\r\nHost: a.example\r\nHOST: a.example\r\nconnection: close\r\n\r\n',
      },
      expect: { status: 400, problem: 'GH_REQUEST_HOST_INVALID' },
    },
    {
      name: 'one Host holding two hosts → 400',
      request: { path: '/view/x', headers: { host: 'a.example, b.example' } },
      expect: { status: 400, problem: 'GH_REQUEST_HOST_INVALID' },
    },
    {
      name: 'one Host with a port is fine',
      request: { path: '/view/x', headers: { host: 'a.example:8080' } },
      expect: { status: 200, body: (body: { host?: string }) => expect(body.host).toBe('a.example:8080') },
    },
  ],
};

/** Identity claims a client may try to slip to the application, each spelled as a backend reads it. */
const FORGED: Record<string, string> = {
  'x-user': 'root',
  'x-user-id': 'root',
  x_user_id: 'root',
  X_User_Id: 'root',
  'x-roles': 'admin',
  x_roles: 'admin',
  'x-email': 'root@example.com',
  x_email: 'root@example.com',
  'x-groups': 'wheel',
  'remote-user': 'root',
  remote_user: 'root',
  'x-remote-user': 'root',
  'x-remote-group': 'system:masters',
  'x-forwarded-user': 'root',
  'x-forwarded-email': 'root@example.com',
  x_forwarded_email: 'root@example.com',
  'x-forwarded-groups': 'admins',
  'x-auth-request-user': 'root',
  'x-auth-request-email': 'root@example.com',
  x_auth_request_groups: 'admins',
  'x-gatehouse-identity': 'forged',
  x_gatehouse_identity: 'forged',
  'x-amzn-oidc-identity': 'root',
  'x-goog-authenticated-user-email': 'accounts.google.com:root@example.com',
  'x-ms-client-principal-name': 'root',
  'cf-access-authenticated-user-email': 'root@example.com',
};

const sawHeaders = (want: Record<string, string>) => (body: unknown) => {
  expect((body as { headers: Record<string, string> }).headers).toEqual(want);
};

export const identityHeaderSuite: Suite = {
  name: 'edge: identity headers a client sends are stripped (with their underscore twins)',
  app: { chain: (gw) => [gw.requestId()] },
  scenarios: [
    {
      name: 'none of the commonly trusted identity headers reaches the handler; other headers do',
      request: view({ ...FORGED, 'x-request-id': 'r-1', 'x-custom': 'kept', accept: 'application/json' }),
      expect: {
        status: 200,
        body: sawHeaders({ 'x-request-id': 'r-1', 'x-custom': 'kept', accept: 'application/json' }),
      },
    },
    {
      name: 'names that only start like an identity header are kept',
      request: view({ 'x-users': 'list', 'x-emails': '2', 'x-remote-user-agent': 'ua', 'cf-ray': 'abc' }),
      expect: {
        status: 200,
        body: sawHeaders({
          'x-users': 'list',
          'x-emails': '2',
          'x-remote-user-agent': 'ua',
          'cf-ray': 'abc',
        }),
      },
    },
  ],
};

export const configuredStripSuite: Suite = {
  name: 'edge: configured strip list, defaults off',
  app: {
    config: { headers: { strip: ['x-tenant'], stripDefaults: false } },
    chain: (gw) => [gw.requestId()],
  },
  scenarios: [
    {
      name: 'the configured name and its underscore twin are stripped; the defaults are not',
      request: view({ 'x-tenant': 't1', x_tenant: 't2', 'x-roles': 'admin' }),
      expect: { status: 200, body: sawHeaders({ 'x-roles': 'admin' }) },
    },
  ],
};

// ─── admin ────────────────────────────────────────────────────────────────────────────────────────

/**
 * An admin chain as a capability package builds it: `/probe` registered through the public API
 * before `gw.admin()` is made, `/late` after it, and `/flush`, a write endpoint, answering POST.
 */
function adminChain<M>(gw: FrameworkGateway<M>, options?: Parameters<FrameworkGateway<M>['admin']>[0]): M[] {
  gw.core.addAdminEndpoint('/probe', (_exchange, view) => ({
    status: 200,
    headers: { 'cache-control': 'no-store' },
    body: { probe: true, file: view.file('/srv/app/config/routes.yaml'), requestData: view.requestData },
  }));
  const admin = gw.admin(options);
  gw.core.addAdminEndpoint('/late', () => ({ status: 200, body: { late: true } }));
  gw.core.addAdminEndpoint('/flush', () => ({ status: 204 }), { methods: ['POST'] });
  return [gw.requestId(), admin];
}

const forbidden = { status: 403, problem: 'GH_ADMIN_FORBIDDEN' } as const;

export const adminDefaultSuite: Suite = {
  name: 'admin: no access policy (the default)',
  app: { chain: (gw) => [gw.tracing({ metrics: { prometheus: true } }), ...adminChain(gw)] },
  scenarios: [
    {
      name: '/health stays open',
      request: { path: '/health' },
      expect: { status: 200, body: { status: 'ok' } },
    },
    {
      name: '/ready stays open',
      request: { path: '/ready' },
      expect: { status: 200, body: { status: 'ready' } },
    },
    {
      name: '/metrics → 403 problem+json saying how to configure access',
      request: { path: '/metrics' },
      expect: {
        ...forbidden,
        body: (body: { detail?: string }) => expect(body.detail).toMatch(/admin\.access/),
        absent: ['gatehouse_', 'http_server'],
      },
    },
    { name: 'an endpoint registered by a capability → 403', request: { path: '/probe' }, expect: forbidden },
    { name: 'one registered after gw.admin() → 403', request: { path: '/late' }, expect: forbidden },
    {
      name: 'matched on the normalized path: no spelling gets around it',
      request: { path: '/%50robe/' },
      expect: forbidden,
    },
    {
      name: 'forwarding headers claiming loopback change nothing',
      request: { path: '/probe', headers: { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' } },
      expect: forbidden,
    },
  ],
};

export const adminPeersSuite: Suite = {
  name: 'admin: access for loopback peers',
  app: { config: { admin: { access: { peers: ['loopback'] } } }, chain: (gw) => adminChain(gw) },
  scenarios: [
    {
      name: 'a loopback peer reads a registered endpoint; file paths show as base names, no request data',
      request: { path: '/probe' },
      expect: { status: 200, body: { probe: true, file: 'routes.yaml', requestData: false } },
    },
    {
      name: 'an endpoint registered after gw.admin() answers too',
      request: { path: '/late' },
      expect: { status: 200, body: { late: true } },
    },
    {
      name: 'a write endpoint answers its method',
      request: { method: 'POST', path: '/flush', body: '' },
      expect: { status: 204 },
    },
    {
      name: 'and refuses others with 405 and Allow',
      request: { path: '/flush' },
      expect: { status: 405, problem: 'GH_METHOD_NOT_ALLOWED', headers: { allow: 'POST' } },
    },
  ],
};

export const adminOtherPeersSuite: Suite = {
  name: 'admin: access for a network the caller is not in, revealing file paths',
  app: {
    config: {
      clientIp: { trustedProxies: ['loopback'] },
      admin: { access: { peers: ['10.0.0.0/8'] }, reveal: { filePaths: true } },
    },
    chain: (gw) => adminChain(gw),
  },
  scenarios: [
    { name: 'a loopback peer is refused', request: { path: '/probe' }, expect: forbidden },
    {
      name: 'a forwarded client address inside the network is not the peer: refused',
      request: { path: '/probe', headers: { 'x-forwarded-for': '10.1.2.3' } },
      expect: forbidden,
    },
    { name: '/health stays open', request: { path: '/health' }, expect: { status: 200 } },
  ],
};

export const adminPublicSuite: Suite = {
  name: 'admin: dangerouslyPublic, revealing what is configured',
  app: {
    config: {
      admin: { access: { dangerouslyPublic: true }, reveal: { filePaths: true, requestData: true } },
    },
    chain: (gw) => adminChain(gw),
  },
  scenarios: [
    {
      name: 'anyone reads it, with what reveal allows',
      request: { path: '/probe' },
      expect: { status: 200, body: { probe: true, file: '/srv/app/config/routes.yaml', requestData: true } },
    },
  ],
};

const KEYS = [
  { key: 'ops-key-1234567890', id: 'ops', roles: ['ops'] },
  { key: 'dev-key-1234567890', id: 'dev', roles: [] },
];

export const adminRequireSuite: Suite = {
  name: 'admin: an auth requirement (admin mounted before auth in the chain)',
  app: {
    chain: (gw) => {
      const authMw = gw.auth({
        methods: [apiKeyAuthenticator({ keys: KEYS })],
        default: 'anonymous',
      });
      return [gw.requestId(), ...adminChain(gw, { access: { require: { roles: ['ops'] } } }), authMw];
    },
  },
  scenarios: [
    { name: '/health needs nothing', request: { path: '/health' }, expect: { status: 200 } },
    {
      name: 'no credentials → 401 with a challenge',
      request: { path: '/probe' },
      expect: {
        status: 401,
        problem: 'GH_AUTH_REQUIRED',
        headers: { 'www-authenticate': /realm="gatehouse"/ },
      },
    },
    {
      name: 'a principal without the role → 403',
      request: { path: '/probe', headers: { 'x-api-key': 'dev-key-1234567890' } },
      expect: { status: 403, problem: 'GH_AUTH_FORBIDDEN' },
    },
    {
      name: 'a principal with the role reads it',
      request: { path: '/probe', headers: { 'x-api-key': 'ops-key-1234567890' } },
      expect: { status: 200, body: { probe: true, file: 'routes.yaml', requestData: false } },
    },
  ],
};

export const edgeSuites: Suite[] = [
  headerLimitSuite,
  configuredLimitsSuite,
  hostSuite,
  identityHeaderSuite,
  configuredStripSuite,
  adminDefaultSuite,
  adminPeersSuite,
  adminOtherPeersSuite,
  adminPublicSuite,
  adminRequireSuite,
];
