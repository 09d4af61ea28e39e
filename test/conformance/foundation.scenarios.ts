// Foundation scenarios: request ids, problem rendering, path normalization at the edge, client IP,
// header hygiene, malformed HTTP, admin endpoints. Each runs on Express and on Koa.
import { expect } from 'vitest';
import type { Suite } from '../support/conformance.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const standard = <M>(gw: { requestId(): M; admin(): M }) => [gw.requestId(), gw.admin()];

/** Asserts on what the app's handler saw (the /view route echoes the exchange). */
const sees = (fields: Record<string, unknown>) => (body: unknown) => {
  expect(body).toMatchObject(fields);
};

export const requestIdSuite: Suite = {
  name: 'request ids',
  app: { chain: standard },
  scenarios: [
    {
      name: 'generates a UUID when none is sent, echoes it, and exposes it to the handler',
      request: { path: '/view' },
      expect: {
        status: 200,
        headers: { 'x-request-id': UUID },
        body: (body: unknown, res: { headers: Record<string, string[]> }) => {
          expect((body as { requestId: string }).requestId).toBe(res.headers['x-request-id']?.[0]);
        },
      },
    },
    {
      name: 'keeps a well-formed incoming id',
      request: { path: '/view', headers: { 'x-request-id': 'req-42.a:b' } },
      expect: {
        status: 200,
        headers: { 'x-request-id': 'req-42.a:b' },
        body: sees({ requestId: 'req-42.a:b' }),
      },
    },
    {
      name: 'replaces an id longer than 128 characters',
      request: { path: '/hello', headers: { 'x-request-id': 'a'.repeat(129) } },
      expect: { status: 200, headers: { 'x-request-id': UUID } },
    },
    {
      name: 'accepts an id of exactly 128 characters',
      request: { path: '/hello', headers: { 'x-request-id': 'b'.repeat(128) } },
      expect: { status: 200, headers: { 'x-request-id': 'b'.repeat(128) } },
    },
    {
      name: 'replaces an id with spaces, quotes or markup',
      request: { path: '/hello', headers: { 'x-request-id': '<script>"x" y</script>' } },
      expect: { status: 200, headers: { 'x-request-id': UUID }, absent: ['<script>'] },
    },
    {
      name: 'replaces an id sent twice (ambiguous)',
      request: { path: '/hello', headers: { 'x-request-id': ['one', 'two'] } },
      expect: { status: 200, headers: { 'x-request-id': UUID } },
    },
    {
      name: 'a control character in the id is a malformed request (problem+json from the server)',
      request: { raw: 'GET /hello HTTP/1.1\r\nhost: x\r\nx-request-id: a\x01b\r\nconnection: close\r\n\r\n' },
      expect: { status: 400, problem: 'GH_REQUEST_MALFORMED', headers: { 'x-request-id': UUID } },
    },
    {
      name: 'CRLF in the id cannot inject a response header',
      request: {
        raw: 'GET /hello HTTP/1.1\r\nhost: x\r\nx-request-id: abc\r\nSet-Cookie: pwned=1\r\nconnection: close\r\n\r\n',
      },
      expect: { status: 200, headers: { 'x-request-id': 'abc', 'set-cookie': null } },
    },
  ],
};

export const customRequestIdSuite: Suite = {
  name: 'request ids: configured header, incoming ids not trusted',
  app: { config: { requestId: { header: 'x-correlation-id', trustIncoming: false } }, chain: standard },
  scenarios: [
    {
      name: 'ignores a client id and uses the configured header',
      request: { path: '/hello', headers: { 'x-correlation-id': 'client-chosen' } },
      expect: { status: 200, headers: { 'x-correlation-id': UUID, 'x-request-id': null } },
    },
  ],
};

export const problemSuite: Suite = {
  name: 'problem details',
  app: { chain: standard },
  scenarios: [
    {
      name: 'an unmatched route is a 404 problem naming the normalized path',
      request: { path: '/nope/./there' },
      expect: {
        status: 404,
        problem: 'GH_NOT_FOUND',
        body: (body: unknown, res: { headers: Record<string, string[]> }) => {
          expect(body).toMatchObject({ title: 'Not found', detail: 'No handler for GET /nope/there' });
          expect((body as { requestId: string }).requestId).toBe(res.headers['x-request-id']?.[0]);
        },
        headers: { 'cache-control': 'no-store' },
      },
    },
    {
      name: 'HEAD of an unmatched route has the headers and no body',
      request: { method: 'HEAD', path: '/nope' },
      expect: {
        status: 404,
        headers: { 'content-type': 'application/problem+json', 'content-length': /^\d+$/ },
      },
    },
    {
      name: 'an unexpected error is a 500 that reveals nothing',
      request: { path: '/throw/plain' },
      expect: {
        status: 500,
        problem: 'GH_INTERNAL',
        body: sees({ title: 'Internal server error', detail: 'Internal server error' }),
        absent: ['secret', 'app.js', 'Error:'],
      },
    },
    {
      name: 'an http-errors style error keeps its status and exposed message',
      request: { path: '/throw/http' },
      expect: {
        status: 422,
        problem: 'GH_APP_ERROR',
        body: sees({ title: 'Unprocessable Content', detail: 'The widget is bent' }),
      },
    },
    {
      name: 'an unexposed http error keeps its status but hides its message',
      request: { path: '/throw/hidden' },
      expect: {
        status: 503,
        problem: 'GH_APP_ERROR',
        body: sees({ detail: 'Service Unavailable' }),
        absent: ['hunter2'],
      },
    },
    {
      name: 'a GatehouseError thrown by a handler renders with its code and extensions',
      request: { path: '/throw/gatehouse' },
      expect: {
        status: 418,
        problem: 'GH_TEST_TEAPOT',
        body: sees({ detail: 'Short and stout', spout: 1 }),
      },
    },
  ],
};

const encodedPath = (path: string, problem: string): Suite['scenarios'][number] => ({
  name: `${JSON.stringify(path)} → 400 ${problem}`,
  request: { path },
  expect: { status: 400, problem, headers: { 'x-request-id': UUID } },
});
const normalizesTo = (path: string, normalized: string): Suite['scenarios'][number] => ({
  name: `${JSON.stringify(path)} is seen as ${JSON.stringify(normalized)}`,
  request: { path },
  expect: { status: 200, body: sees({ path: normalized, rawPath: path }) },
});
// The router dispatches on the path Gatehouse decided on: a spelling that climbs out of /view never
// reaches the /view handler (the app has no route for where it lands).
const routedAs = (path: string, normalized: string): Suite['scenarios'][number] => ({
  name: `${JSON.stringify(path)} is routed as ${JSON.stringify(normalized)}, not by the /view route`,
  request: { path },
  expect: {
    status: 404,
    problem: 'GH_NOT_FOUND',
    body: sees({ detail: `No handler for GET ${normalized}` }),
  },
});

export const pathSuite: Suite = {
  name: 'path normalization at the edge',
  app: { chain: standard },
  scenarios: [
    normalizesTo('/view/a/./b/../c', '/view/a/c'),
    routedAs('/view/%2e%2e/%2E%2e/etc/passwd', '/etc/passwd'),
    routedAs('/view/.%2E/.%2e/.%2e/admin', '/admin'),
    normalizesTo('/view/admin;jsessionid=1/x', '/view/admin/x'),
    normalizesTo('/view/caf%C3%A9', '/view/café'),
    normalizesTo('/view/trailing/', '/view/trailing'),
    normalizesTo('/view/%41%42c', '/view/ABc'),
    // Spellings the router alone would not send to /view: Gatehouse hands it the canonical target.
    normalizesTo('/%76iew/x', '/view/x'),
    normalizesTo('//VIEW/./x//', '/VIEW/x'),
    normalizesTo('/other/../view', '/view'),
    normalizesTo('/view/%c3%a9%7e', '/view/é~'),
    encodedPath('/view#x', 'GH_PATH_FRAGMENT'),
    encodedPath('/view/x?q=1#frag', 'GH_PATH_FRAGMENT'),
    encodedPath('/view/%C5%BFecret', 'GH_PATH_INVALID'),
    {
      name: 'duplicate slashes are merged before matching',
      request: { path: '//nothing//here//' },
      expect: {
        status: 404,
        problem: 'GH_NOT_FOUND',
        body: sees({ detail: 'No handler for GET /nothing/here' }),
      },
    },
    encodedPath('/view/a%2fb', 'GH_PATH_ENCODED_SLASH'),
    encodedPath('/view/a%2Fb', 'GH_PATH_ENCODED_SLASH'),
    encodedPath('/view/a%5cb', 'GH_PATH_ENCODED_SLASH'),
    encodedPath('/view/..%2f..%2fadmin', 'GH_PATH_ENCODED_SLASH'),
    encodedPath('/view/%zz', 'GH_PATH_INVALID_ENCODING'),
    encodedPath('/view/%', 'GH_PATH_INVALID_ENCODING'),
    encodedPath('/view/%E0%A4%A', 'GH_PATH_INVALID_ENCODING'),
    encodedPath('/view/%C0%AF', 'GH_PATH_INVALID_ENCODING'),
    encodedPath('/view/%FF', 'GH_PATH_INVALID_ENCODING'),
    encodedPath('/view/a%00b', 'GH_PATH_NUL_BYTE'),
    encodedPath('/view/a%0Ab', 'GH_PATH_INVALID'),
    encodedPath('http://evil.example/view', 'GH_PATH_INVALID'),
    {
      name: 'a raw NUL byte in the request line is refused by the server with a problem',
      request: { raw: 'GET /view/a\x00b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n' },
      expect: { status: 400, problem: 'GH_REQUEST_MALFORMED' },
    },
  ],
};

export const encodedSlashDecodeSuite: Suite = {
  name: 'path normalization: encoded slashes decoded by configuration',
  app: { config: { paths: { encodedSlashes: 'decode', trailingSlash: 'keep' } }, chain: standard },
  scenarios: [
    normalizesTo('/view/a%2Fb', '/view/a/b'),
    normalizesTo('/view/x/', '/view/x/'),
    routedAs('/view/..%2f..%2fadmin', '/admin'),
  ],
};

export const nonCanonicalRejectSuite: Suite = {
  name: "path normalization: paths.nonCanonical 'reject'",
  app: { config: { paths: { nonCanonical: 'reject' } }, chain: standard },
  scenarios: [
    normalizesTo('/view/a', '/view/a'),
    normalizesTo('/view/a/', '/view/a'),
    normalizesTo('/view/caf%C3%A9', '/view/café'),
    encodedPath('/view/a/../b', 'GH_PATH_NOT_CANONICAL'),
    encodedPath('/%76iew', 'GH_PATH_NOT_CANONICAL'),
    encodedPath('/view//a', 'GH_PATH_NOT_CANONICAL'),
    encodedPath('/view/caf%c3%a9', 'GH_PATH_NOT_CANONICAL'),
    encodedPath('/view;x=1', 'GH_PATH_NOT_CANONICAL'),
  ],
};

export const clientIpSuite: Suite = {
  name: 'client IP: no trusted proxies (default)',
  app: { chain: standard },
  scenarios: [
    {
      name: 'X-Forwarded-For, Forwarded and X-Real-IP from an untrusted peer are ignored',
      request: {
        path: '/view',
        headers: {
          'x-forwarded-for': '203.0.113.9',
          forwarded: 'for=198.51.100.1;proto=https;host=evil.example',
          'x-real-ip': '192.0.2.5',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example',
        },
      },
      expect: {
        status: 200,
        body: sees({ clientIp: '127.0.0.1', protocol: 'http', host: 'conformance.test' }),
      },
    },
  ],
};

export const trustedProxySuite: Suite = {
  name: 'client IP: loopback is a trusted proxy',
  app: { config: { clientIp: { trustedProxies: ['loopback'] } }, chain: standard },
  scenarios: [
    {
      name: 'the client is the first untrusted address from the right',
      request: { path: '/view', headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } },
      expect: { status: 200, body: sees({ clientIp: '198.51.100.7' }) },
    },
    {
      name: 'trusted hops are skipped',
      request: { path: '/view', headers: { 'x-forwarded-for': '203.0.113.9, 127.0.0.5' } },
      expect: { status: 200, body: sees({ clientIp: '203.0.113.9' }) },
    },
    {
      name: 'a garbage entry stops the walk at the last good address',
      request: { path: '/view', headers: { 'x-forwarded-for': '203.0.113.9, not-an-ip' } },
      expect: { status: 200, body: sees({ clientIp: '127.0.0.1' }) },
    },
    {
      name: 'X-Forwarded-Proto and X-Forwarded-Host are honoured from a trusted proxy',
      request: {
        path: '/view',
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' },
      },
      expect: { status: 200, body: sees({ protocol: 'https', host: 'api.example.com' }) },
    },
  ],
};

export const headerSuite: Suite = {
  name: 'header hygiene',
  app: { config: { headers: { strip: ['x-tenant-*'] } }, chain: standard },
  scenarios: [
    {
      name: 'client-supplied identity and internal headers never reach the app',
      request: {
        path: '/view',
        headers: {
          'x-user-id': 'admin',
          'X-Gatehouse-Principal': 'root',
          'x-forwarded-client-cert': 'Hash=abc',
          'x-tenant-id': 'other-tenant',
          'x-custom': 'kept',
        },
      },
      expect: {
        status: 200,
        body: (body: unknown) => {
          const headers = (body as { headers: Record<string, string> }).headers;
          expect(headers['x-custom']).toBe('kept');
          for (const name of [
            'x-user-id',
            'x-gatehouse-principal',
            'x-forwarded-client-cert',
            'x-tenant-id',
          ]) {
            expect(headers[name], name).toBeUndefined();
          }
        },
      },
    },
    {
      name: '64 KiB of headers → 431 problem',
      request: { path: '/hello', headers: { 'x-big': 'a'.repeat(64 * 1024) } },
      expect: { status: 431, problem: 'GH_REQUEST_HEADERS_TOO_LARGE' },
    },
    {
      name: 'a bare CR inside a header value → 400 problem',
      request: { raw: 'GET /hello HTTP/1.1\r\nhost: x\r\nx-a: one\rtwo\r\nconnection: close\r\n\r\n' },
      expect: { status: 400, problem: 'GH_REQUEST_MALFORMED' },
    },
    {
      name: 'a header name with a space → 400 problem',
      request: { raw: 'GET /hello HTTP/1.1\r\nhost: x\r\nbad name: 1\r\nconnection: close\r\n\r\n' },
      expect: { status: 400, problem: 'GH_REQUEST_MALFORMED' },
    },
    {
      name: 'garbage instead of HTTP → 400 problem',
      request: { raw: 'HELLO\r\n\r\n' },
      expect: { status: 400, problem: 'GH_REQUEST_MALFORMED' },
    },
  ],
};

export const adminSuite: Suite = {
  name: 'admin endpoints',
  app: { chain: standard },
  scenarios: [
    {
      name: 'GET /health → 200',
      request: { path: '/health' },
      expect: { status: 200, body: { status: 'ok' }, headers: { 'cache-control': 'no-store' } },
    },
    {
      name: 'GET /ready → 200 once started',
      request: { path: '/ready' },
      expect: { status: 200, body: { status: 'ready' } },
    },
    {
      name: 'matched on the normalized path',
      request: { path: '/HEALTH/' },
      expect: { status: 200, body: { status: 'ok' } },
    },
    {
      name: 'POST /health → 405 with Allow',
      request: { method: 'POST', path: '/health', body: '{}' },
      expect: { status: 405, problem: 'GH_METHOD_NOT_ALLOWED', headers: { allow: 'GET, HEAD' } },
    },
  ],
};

export const adminPrefixSuite: Suite = {
  name: 'admin endpoints under a prefix',
  app: { config: { admin: { prefix: '/_gatehouse' } }, chain: standard },
  scenarios: [
    { name: 'the prefixed path answers', request: { path: '/_gatehouse/health' }, expect: { status: 200 } },
    {
      name: 'the bare path does not',
      request: { path: '/health' },
      expect: { status: 404, problem: 'GH_NOT_FOUND' },
    },
  ],
};

export const foundationSuites: Suite[] = [
  requestIdSuite,
  customRequestIdSuite,
  problemSuite,
  pathSuite,
  encodedSlashDecodeSuite,
  nonCanonicalRejectSuite,
  clientIpSuite,
  trustedProxySuite,
  headerSuite,
  adminSuite,
  adminPrefixSuite,
];
