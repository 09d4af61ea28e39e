// Header and target hygiene across the hop, on every framework over raw sockets: request targets and
// hosts that try to pick another upstream, Location and Set-Cookie naming the service, CR/LF
// injection, hop-by-hop and identity headers, X-Forwarded-* and Forwarded, route header changes, and
// who may force a side with the override header.
import { apiKeyAuthenticator } from '@gatehousejs/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllSame } from '../support/conformance.js';
import { type RawRequest, type RawResponse, request as raw } from '../support/raw-http.js';
import { echo, type Received, startUpstream, type Upstream } from './harness.js';
import {
  type App,
  type AppSpec,
  closeBoth,
  expectProblem,
  expectProblemOnBoth,
  FRAMEWORKS,
  type Framework,
  report,
  startBoth,
} from './support.js';

const TESTER_KEY = 'gh_test_override_0001';
const PLAIN_KEY = 'gh_test_plain_0002';

let orders: Upstream;
let evil: Upstream;
let apps: Record<Framework, App>;

/** The service: special answers for Location, Set-Cookie and response-header checks, else echo. */
const service: Parameters<typeof startUpstream>[0] = (req, res, body) => {
  switch (req.url) {
    case '/api/orders/redirect-internal':
      res.writeHead(302, { location: 'http://internal:8080/api/orders/7?x=1' }).end();
      return;
    case '/api/orders/redirect-relative':
      res.writeHead(302, { location: '/api/orders/8' }).end();
      return;
    case '/api/orders/redirect-self':
      // The service's own address, as it was called: always internal.
      res.writeHead(302, { location: `http://${req.headers.host}/api/orders/9` }).end();
      return;
    case '/api/orders/redirect-other-port':
      res.writeHead(302, { location: 'http://internal:9090/api/orders/7' }).end();
      return;
    case '/api/orders/redirect-external':
      res.writeHead(302, { location: 'https://example.org/api/orders/7' }).end();
      return;
    case '/api/orders/cookie':
      res.setHeader('set-cookie', [
        'a=1; Domain=internal.svc; Path=/api/orders',
        'b=2; Domain=example.org; Path=/elsewhere',
        'c=3; Path=/api/orders/x; Domain=.INTERNAL.svc; HttpOnly',
      ]);
      res.end('{}');
      return;
    case '/hdr/response':
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'x-internal-hop',
        'x-internal-hop': 'named in Connection',
        'keep-alive': 'timeout=99',
        'proxy-authenticate': 'Basic realm="internal"',
        upgrade: 'h2c',
        'x-internal-debug': 'db=primary',
        'x-kept': 'yes',
      });
      res.end('{}');
      return;
    default:
      echo(req, res, body);
  }
};

const routesSpec: AppSpec['routes'] = {
  table: [
    { name: 'hosted', path: '/hosted/*', host: 'api.example.com', service: 'orders' },
    {
      name: 'orders',
      path: '/orders/*',
      service: 'orders',
      rewrite: { from: '/orders', to: '/api/orders' },
      internalHosts: ['internal:8080', 'internal.svc'],
    },
    {
      name: 'hdr',
      path: '/hdr/*',
      service: 'orders',
      requestHeaders: { set: { 'x-route-added': 'yes' }, remove: ['x-drop-me'] },
      responseHeaders: { set: { 'x-served-by': 'gatehouse' }, remove: ['x-internal-debug'] },
    },
    { name: 'ov-local', path: '/ov-local/*', service: 'orders', mode: 'local' },
    { name: 'ov-remote', path: '/ov-remote/*', service: 'orders', mode: 'remote' },
    // Everything under one host goes to the service: a target that names another host must not.
    { name: 'proxied-host', path: '/*', host: 'proxy.test', service: 'orders' },
  ],
};

beforeAll(async () => {
  orders = await startUpstream(service);
  evil = await startUpstream();
  apps = await startBoth({
    config: { services: { orders: { url: orders.url } } },
    before: (gw) => [
      gw.auth({
        methods: [
          apiKeyAuthenticator({
            keys: [
              { key: TESTER_KEY, id: 'tester', scopes: ['gatehouse:route-override'] },
              { key: PLAIN_KEY, id: 'plain', scopes: ['orders:read'] },
            ],
          }),
        ],
        default: 'anonymous',
      }),
    ],
    routes: routesSpec,
  });
});

afterAll(async () => {
  await Promise.all([orders?.close(), evil?.close()]);
  await closeBoth(apps);
});

/** The request the service received for this exact URL (the last one, when sent more than once). */
function receivedAt(url: string): Received {
  const found = orders.received.findLast((r) => r.url === url);
  if (found === undefined)
    throw new Error(
      `the service received nothing for ${url}; got ${orders.received.map((r) => r.url).join(', ')}`,
    );
  return found;
}

async function both(req: (fw: Framework) => RawRequest): Promise<Record<Framework, RawResponse>> {
  const out = {} as Record<Framework, RawResponse>;
  for (const fw of FRAMEWORKS) out[fw] = await raw(apps[fw].port, req(fw));
  return out;
}

const side = (res: RawResponse) => (res.json as { side?: string } | undefined)?.side;

describe('request targets and hosts', () => {
  it('an absolute-form target never reaches the host it names', async () => {
    const target = `http://127.0.0.1:${evil.port}/orders/1`;
    const answers = await both(() => ({ path: target, headers: { host: 'proxy.test' } }));
    for (const fw of FRAMEWORKS) {
      const res = answers[fw];
      // Either refused (today: 400 GH_PATH_INVALID), or sent to the configured service at its own
      // path: never to the host it names.
      if (res.status === 200) expect(res.json, fw).toMatchObject({ side: 'remote', url: '/orders/1' });
      else expectProblem(res, { status: 400, code: 'GH_PATH_INVALID' }, fw);
    }
    expectAllSame(answers);
    expect(evil.received).toEqual([]);
  });

  it.each([
    ['//127.0.0.1:{evil}/orders/1', '/127.0.0.1:{evil}/orders/1'],
    ['//evil@127.0.0.1:{evil}/orders/1', '/evil@127.0.0.1:{evil}/orders/1'],
    ['//evil@evil/orders/1', '/evil@evil/orders/1'],
  ])('the path %s goes to the configured service as a path', async (path, upstreamPath) => {
    const fill = (text: string) => text.replaceAll('{evil}', String(evil.port));
    const before = orders.received.length;
    const answers = await both(() => ({ path: fill(path), headers: { host: 'proxy.test' } }));
    for (const fw of FRAMEWORKS) {
      expect(answers[fw].status, fw).toBe(200);
      expect(answers[fw].json, fw).toMatchObject({ side: 'remote', url: fill(upstreamPath) });
    }
    expect(orders.received.slice(before).map((r) => r.url)).toEqual(FRAMEWORKS.map(() => fill(upstreamPath)));
    expect(evil.received).toEqual([]);
  });

  it.each(['api.example.com.evil.net', 'evilapi.example.com', 'xapi.example.com', 'api.example.co'])(
    "a route for host 'api.example.com' does not match Host %s",
    async (host) => {
      const answers = await both((fw) => ({ path: `/hosted/${fw}`, headers: { host } }));
      for (const fw of FRAMEWORKS) {
        expect(answers[fw].json, fw).toEqual({
          side: 'local',
          method: 'GET',
          url: `/hosted/${fw}`,
          body: null,
        });
      }
    },
  );

  it("a route for host 'api.example.com' matches Host API.Example.com:8080", async () => {
    const answers = await both((fw) => ({
      path: `/hosted/${fw}`,
      headers: { host: 'API.Example.com:8080' },
    }));
    for (const fw of FRAMEWORKS)
      expect(answers[fw].json, fw).toMatchObject({ side: 'remote', url: `/hosted/${fw}` });
  });
});

describe('what the service names', () => {
  it('Location naming an internal host is rewritten to the public origin, the path mapped back', async () => {
    const internal = await both(() => ({
      path: '/orders/redirect-internal',
      headers: { host: 'shop.test' },
    }));
    const relative = await both(() => ({
      path: '/orders/redirect-relative',
      headers: { host: 'shop.test' },
    }));
    const self = await both(() => ({ path: '/orders/redirect-self', headers: { host: 'shop.test' } }));
    for (const fw of FRAMEWORKS) {
      expect(internal[fw].status, fw).toBe(302);
      expect(internal[fw].headers.location, fw).toEqual(['http://shop.test/orders/7?x=1']);
      expect(relative[fw].headers.location, fw).toEqual(['/orders/8']);
      expect(self[fw].headers.location, fw).toEqual(['http://shop.test/orders/9']);
    }
    expectAllSame(internal);
  });

  it('Location naming an external site, or another port of an internal host, is left alone', async () => {
    const external = await both(() => ({
      path: '/orders/redirect-external',
      headers: { host: 'shop.test' },
    }));
    const otherPort = await both(() => ({
      path: '/orders/redirect-other-port',
      headers: { host: 'shop.test' },
    }));
    for (const fw of FRAMEWORKS) {
      expect(external[fw].headers.location, fw).toEqual(['https://example.org/api/orders/7']);
      expect(otherPort[fw].headers.location, fw).toEqual(['http://internal:9090/api/orders/7']);
    }
  });

  it('Set-Cookie with an internal Domain gets the public host, and its Path is mapped back', async () => {
    const answers = await both(() => ({ path: '/orders/cookie', headers: { host: 'shop.test:8443' } }));
    for (const fw of FRAMEWORKS) {
      expect(answers[fw].headers['set-cookie'], fw).toEqual([
        'a=1; Domain=shop.test; Path=/orders',
        'b=2; Domain=example.org; Path=/elsewhere',
        'c=3; Path=/orders/x; Domain=shop.test; HttpOnly',
      ]);
    }
    expectAllSame(answers);
  });
});

describe('request headers', () => {
  it.each([
    ['a bare LF', 'X-Note: a\nInjected: 1\r\n'],
    ['a bare CR', 'X-Note: a\rInjected: 1\r\n'],
    ['obs-fold', 'X-Note: a\r\n folded\r\n'],
  ])('a header value with %s is 400 problem+json; the service gets nothing', async (_name, line) => {
    const before = orders.received.length;
    const bytes = Buffer.from(
      `GET /orders/crlf HTTP/1.1\r\nHost: shop.test\r\n${line}Connection: close\r\n\r\n`,
      'latin1',
    );
    await expectProblemOnBoth(apps, bytes, { status: 400, code: 'GH_REQUEST_MALFORMED' });
    expect(orders.received.length).toBe(before);
  });

  it('hop-by-hop and client-supplied identity headers never reach the service', async () => {
    await both((fw) => ({
      path: `/hdr/hop-${fw}`,
      headers: {
        connection: 'close, x-secret',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-secret': 'named in Connection',
        'x-user-id': 'admin',
        'x-gatehouse-identity': 'forged',
        'x-forwarded-client-cert': 'By=spiffe://forged',
        'x-keep-me': 'yes',
      },
    }));
    for (const fw of FRAMEWORKS) {
      const got = receivedAt(`/hdr/hop-${fw}`);
      expect(got.headers['x-keep-me'], fw).toBe('yes');
      for (const name of [
        'keep-alive',
        'te',
        'upgrade',
        'proxy-authorization',
        'x-secret',
        'x-user-id',
        'x-gatehouse-identity',
        'x-forwarded-client-cert',
      ]) {
        expect(got.headers[name], `${fw}: ${name}`).toBeUndefined();
      }
      // The hop to the service has its own Connection header; the client's tokens are not in it.
      expect(got.headers.connection ?? '', fw).not.toMatch(/x-secret|close/i);
      expect(JSON.stringify(got.rawHeaders), fw).not.toMatch(/named in Connection|forged|Zm9vOmJhcg/);
    }
  });

  it('without trusted proxies, X-Forwarded-* and Forwarded are the gateway’s own', async () => {
    await both((fw) => ({
      path: `/hdr/xff-${fw}`,
      headers: {
        host: 'shop.test',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        'x-real-ip': '6.6.6.6',
        forwarded: 'for=6.6.6.6;host=evil.example',
      },
    }));
    for (const fw of FRAMEWORKS) {
      const got = receivedAt(`/hdr/xff-${fw}`).headers;
      expect(
        {
          xff: got['x-forwarded-for'],
          proto: got['x-forwarded-proto'],
          host: got['x-forwarded-host'],
          forwarded: got.forwarded,
          realIp: got['x-real-ip'],
        },
        fw,
      ).toEqual({
        xff: '127.0.0.1',
        proto: 'http',
        host: 'shop.test',
        forwarded: 'for=127.0.0.1;proto=http;host=shop.test',
        realIp: undefined,
      });
    }
  });

  it('with trusted loopback proxies, the incoming chain is kept and the peer appended', async () => {
    const trusting = await startBoth({
      config: { services: { orders: { url: orders.url } }, clientIp: { trustedProxies: ['loopback'] } },
      routes: routesSpec,
    });
    try {
      for (const fw of FRAMEWORKS) {
        await raw(trusting[fw].port, {
          path: `/hdr/trusted-${fw}`,
          headers: {
            host: 'shop.test',
            'x-forwarded-for': '203.0.113.7, 127.0.0.5',
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'public.example',
          },
        });
        const got = receivedAt(`/hdr/trusted-${fw}`).headers;
        expect(
          {
            xff: got['x-forwarded-for'],
            proto: got['x-forwarded-proto'],
            host: got['x-forwarded-host'],
            forwarded: got.forwarded,
          },
          fw,
        ).toEqual({
          xff: '203.0.113.7, 127.0.0.5, 127.0.0.1',
          proto: 'https',
          host: 'public.example',
          forwarded: 'for=203.0.113.7, for=127.0.0.5, for=127.0.0.1;proto=https;host=public.example',
        });
      }
    } finally {
      await closeBoth(trusting);
    }
  });

  it("the route's requestHeaders set and remove apply to the forwarded request", async () => {
    await both((fw) => ({
      path: `/hdr/set-${fw}`,
      headers: { 'x-drop-me': 'please', 'x-route-added': 'client value' },
    }));
    for (const fw of FRAMEWORKS) {
      const got = receivedAt(`/hdr/set-${fw}`).headers;
      expect(got['x-drop-me'], fw).toBeUndefined();
      expect(got['x-route-added'], fw).toBe('yes');
    }
  });
});

describe('response headers', () => {
  it("hop-by-hop headers from the service are dropped; the route's responseHeaders apply", async () => {
    const answers = await both(() => ({ path: '/hdr/response' }));
    for (const fw of FRAMEWORKS) {
      const headers = answers[fw].headers;
      expect(answers[fw].status, fw).toBe(200);
      expect(headers['x-kept'], fw).toEqual(['yes']);
      expect(headers['x-served-by'], fw).toEqual(['gatehouse']);
      for (const name of [
        'x-internal-hop',
        'keep-alive',
        'proxy-authenticate',
        'upgrade',
        'x-internal-debug',
      ]) {
        expect(headers[name], `${fw}: ${name}`).toBeUndefined();
      }
      // Only the gateway's own Connection header: the client asked to close.
      expect(headers.connection, fw).toEqual(['close']);
    }
    expectAllSame(answers);
  });
});

describe('the override header', () => {
  const cases: Array<[string, string, Record<string, string>, 'local' | 'remote']> = [
    ['anonymous, remote forced on a local route', 'ov-local', {}, 'local'],
    ['anonymous, local forced on a remote route', 'ov-remote', {}, 'remote'],
    ['a principal without the scope', 'ov-local', { 'x-api-key': PLAIN_KEY }, 'local'],
    [
      'a principal with gatehouse:route-override, remote forced',
      'ov-local',
      { 'x-api-key': TESTER_KEY },
      'remote',
    ],
    [
      'a principal with gatehouse:route-override, local forced',
      'ov-remote',
      { 'x-api-key': TESTER_KEY },
      'local',
    ],
  ];

  it.each(cases)('%s', async (_name, route, headers, expected) => {
    const forced = route === 'ov-local' ? 'remote' : 'local';
    const counts = Object.fromEntries(FRAMEWORKS.map((fw) => [fw, report(apps[fw], route).overrides]));
    const honoured = expected !== (route === 'ov-local' ? 'local' : 'remote');
    const answers = await both((fw) => ({
      path: `/${route}/${fw}-${expected}-${Object.keys(headers).length}`,
      headers: { ...headers, 'gatehouse-route': forced },
    }));
    for (const fw of FRAMEWORKS) {
      expect(answers[fw].status, fw).toBe(200);
      expect(side(answers[fw]), fw).toBe(expected);
      const now = report(apps[fw], route).overrides;
      expect(now, fw).toEqual({
        honoured: counts[fw]!.honoured + (honoured ? 1 : 0),
        denied: counts[fw]!.denied + (honoured ? 0 : 1),
      });
      if (expected === 'remote') {
        // The tester's switch is for the gateway: the service never sees it.
        expect(
          receivedAt((answers[fw].json as { url: string }).url).headers['gatehouse-route'],
          fw,
        ).toBeUndefined();
      }
    }
  });
});
