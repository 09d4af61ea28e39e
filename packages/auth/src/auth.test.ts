// The auth middleware's own contract: method order and combination, requirements, challenges,
// forwarding, counting, option errors. Authentication methods here are small in-test authenticators;
// the real ones have their own tests and run behind this middleware in test/conformance.
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, type Exchange, ensureExchange, Gateway, isGatehouseError } from '@gatehousejs/core';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Auth, auth } from './auth.js';
import { AuthFailed, AuthInvalid, AuthUnavailable, refuse } from './errors.js';
import { createIdentityVerifier } from './forward.js';
import type { Authenticator, Principal } from './principal.js';

const reported: unknown[] = [];
const gateway = new Gateway({}, { onError: (error) => reported.push(error) });
let server: Server;
let port: number;
let handle: (exchange: Exchange) => Promise<unknown>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const exchange = ensureExchange(req, res, gateway);
    handle(exchange).then(
      (value) =>
        res.end(
          JSON.stringify({
            ok: value ?? null,
            principal: exchange.state.principal ?? null,
            headers: req.headers,
            raw: req.rawHeaders,
          }),
        ),
      (error: unknown) => {
        const e = isGatehouseError(error) ? error : undefined;
        res.end(
          JSON.stringify({ error: e?.code ?? String(error), status: e?.status, headers: e?.headers ?? {} }),
        );
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

interface Answer {
  ok?: unknown;
  raw?: string[];
  principal?: Principal | null;
  error?: string;
  status?: number;
  headers: Record<string, string>;
}

/** Runs the middleware's onRequest on a real request and reports what it decided. */
async function run(
  mw: Auth,
  path = '/x',
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  handle = async (exchange) => mw.onRequest!(exchange);
  const req = request({ host: '127.0.0.1', port, path, method, headers });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let text = '';
  for await (const chunk of res) text += chunk;
  return JSON.parse(text) as Answer;
}

const principal = (id: string, extra: Partial<Principal> = {}): Principal => ({
  id,
  method: 'header',
  scopes: [],
  roles: [],
  ...extra,
});

// Authenticates `x-test-user: <id>` (sync or async); `bad` is an invalid credential.
function headerMethod(
  name = 'header',
  options: { async?: boolean; scheme?: string; calls?: string[] } = {},
): Authenticator {
  return {
    name,
    scheme: options.scheme ?? 'Bearer',
    authenticate(exchange) {
      options.calls?.push(name);
      const value = exchange.header(`x-${name}`);
      let result: Principal | undefined;
      if (value === 'bad') throw refuse(new AuthInvalid('bad credential'), 'bad_signature');
      if (value === 'down') throw new AuthUnavailable('store down');
      if (value === 'bug') throw new Error('a bug with secret sk_live_1');
      if (value !== undefined) result = principal(value, { method: name, scopes: ['read'] });
      return options.async ? Promise.resolve(result) : result;
    },
  };
}

describe('method combination', () => {
  test("'first': the first method holding a credential decides; later ones are not called", async () => {
    const calls: string[] = [];
    const mw = auth({ methods: [headerMethod('a', { calls }), headerMethod('b', { calls })] });
    const answer = await run(mw, '/x', { 'x-a': 'alice', 'x-b': 'bob' });
    expect(answer.principal?.id).toBe('alice');
    expect(calls).toEqual(['a']);
  });

  test("'first': a method without a credential passes to the next (sync and async alike)", async () => {
    const mw = auth({ methods: [headerMethod('a', { async: true }), headerMethod('b')] });
    expect((await run(mw, '/x', { 'x-b': 'bob' })).principal?.id).toBe('bob');
  });

  test("'first': an invalid credential is refused, never passed to the next method", async () => {
    const calls: string[] = [];
    const mw = auth({ methods: [headerMethod('a', { calls }), headerMethod('b', { calls })] });
    const answer = await run(mw, '/x', { 'x-a': 'bad', 'x-b': 'bob' });
    expect(answer.error).toBe('GH_AUTH_INVALID');
    expect(answer.headers['www-authenticate']).toBe(
      'Bearer realm="gatehouse", error="invalid_token", error_description="Invalid credentials"',
    );
    expect(calls).toEqual(['a']);
  });

  test("'all': every method must authenticate; the principal comes from the first", async () => {
    const mw = auth({ methods: [headerMethod('a'), headerMethod('b', { async: true })], combine: 'all' });
    expect((await run(mw, '/x', { 'x-a': 'alice', 'x-b': 'bob' })).principal?.id).toBe('alice');
    expect((await run(mw, '/x', { 'x-a': 'alice' })).error).toBe('GH_AUTH_REQUIRED');
    expect((await run(mw, '/x', { 'x-b': 'bob' })).error).toBe('GH_AUTH_REQUIRED');
  });

  test('a method that throws a plain error gives a 500 that hides the message, and is reported', async () => {
    reported.length = 0;
    const mw = auth({ methods: [headerMethod('a')] });
    const answer = await run(mw, '/x', { 'x-a': 'bug' });
    expect(answer).toMatchObject({ error: 'GH_AUTH_ERROR', status: 500 });
    expect(JSON.stringify(answer)).not.toContain('sk_live_1');
    expect(reported).toEqual([expect.objectContaining({ message: 'a bug with secret sk_live_1' })]);
  });

  test("a method's own AuthFailed is answered as is and its cause reported", async () => {
    reported.length = 0;
    const cause = new Error('user store unreachable');
    const failing: Authenticator = {
      name: 'store',
      authenticate: () => {
        throw new AuthFailed('lookup failed', { cause });
      },
    };
    const answer = await run(auth({ methods: [failing] }), '/x');
    expect(answer).toMatchObject({ error: 'GH_AUTH_ERROR', status: 500 });
    expect(reported).toEqual([cause]);
  });

  test('an unavailable dependency is a 503 without a challenge', async () => {
    const mw = auth({ methods: [headerMethod('a')] });
    const answer = await run(mw, '/x', { 'x-a': 'down' });
    expect(answer).toMatchObject({ error: 'GH_AUTH_UNAVAILABLE', status: 503 });
    expect(answer.headers['www-authenticate']).toBeUndefined();
  });

  test('a requirement can restrict a route to some methods', async () => {
    const mw = auth({
      methods: [headerMethod('a'), headerMethod('b', { scheme: 'ApiKey' })],
      rules: [{ path: '/machines/*', methods: ['b'] }],
    });
    expect((await run(mw, '/machines/1', { 'x-a': 'alice' })).error).toBe('GH_AUTH_REQUIRED');
    const challenge = (await run(mw, '/machines/1', { 'x-a': 'alice' })).headers['www-authenticate'];
    // Only the scheme the route accepts is offered.
    expect(challenge).toBe('ApiKey realm="gatehouse"');
    expect((await run(mw, '/machines/1', { 'x-b': 'robot' })).principal?.id).toBe('robot');
  });
});

describe('requirements', () => {
  test('roles: any one of them; scopes: all of them', async () => {
    const method: Authenticator = {
      name: 'static',
      scheme: 'Bearer',
      authenticate: (ex) =>
        ex.header('x-who') === 'ops'
          ? principal('ops', { roles: ['ops'], scopes: ['read', 'write'] })
          : principal('dev', { roles: ['dev'], scopes: ['read'] }),
    };
    const mw = auth({
      methods: [method],
      rules: [
        { path: '/deploy', roles: ['admin', 'ops'] },
        { path: '/data', scopes: ['read', 'write'] },
      ],
    });
    expect((await run(mw, '/deploy', { 'x-who': 'ops' })).principal?.id).toBe('ops');
    expect((await run(mw, '/deploy', { 'x-who': 'dev' })).error).toBe('GH_AUTH_FORBIDDEN');
    expect((await run(mw, '/data', { 'x-who': 'ops' })).principal?.id).toBe('ops');
    const refused = await run(mw, '/data', { 'x-who': 'dev' });
    expect(refused.error).toBe('GH_AUTH_FORBIDDEN');
    expect(refused.headers['www-authenticate']).toBe(
      'Bearer realm="gatehouse", error="insufficient_scope", scope="read write"',
    );
  });

  test('an async predicate decides after authentication', async () => {
    const mw = auth({
      methods: [headerMethod('a', { async: true })],
      default: { allow: async (p, ex) => ex.path === `/users/${p.id}` },
    });
    expect((await run(mw, '/users/alice', { 'x-a': 'alice' })).principal?.id).toBe('alice');
    expect((await run(mw, '/users/bob', { 'x-a': 'alice' })).error).toBe('GH_AUTH_FORBIDDEN');
  });

  test('rules match methods and the first matching rule wins', async () => {
    const mw = auth({
      methods: [headerMethod('a')],
      rules: [
        { path: '/items/*', httpMethods: ['GET', 'HEAD'], anonymous: true },
        { path: '/items/*', scopes: ['write'] },
      ],
    });
    expect((await run(mw, '/items/1')).error).toBeUndefined();
    expect((await run(mw, '/items/1', {}, 'DELETE')).error).toBe('GH_AUTH_REQUIRED');
    expect((await run(mw, '/items/1', { 'x-a': 'alice' }, 'DELETE')).error).toBe('GH_AUTH_FORBIDDEN');
  });

  test('require() checks a principal found earlier and knows nothing of the path', async () => {
    const mw = auth({ methods: [headerMethod('a')], default: 'anonymous' });
    const guard = mw.require({ scopes: ['read'] });
    handle = async (exchange) => {
      await mw.onRequest!(exchange);
      return guard.onRequest!(exchange);
    };
    const req = async (headers: Record<string, string>) => {
      const r = request({ host: '127.0.0.1', port, path: '/', headers });
      r.end();
      const [res] = (await once(r, 'response')) as [import('node:http').IncomingMessage];
      let text = '';
      for await (const c of res) text += c;
      return JSON.parse(text) as Answer;
    };
    expect((await req({ 'x-a': 'alice' })).principal?.id).toBe('alice');
    expect((await req({})).error).toBe('GH_AUTH_REQUIRED');
    expect(() => mw.require({ scopes: ['has space'] })).toThrow(ConfigError);
  });
});

describe('forwarding', () => {
  test('a signed identity token the verifier accepts; cached per principal; headers stripped when anonymous', async () => {
    const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
    const same = principal('alice', { scopes: ['read'], roles: ['ops'], tier: 'pro' });
    const method: Authenticator = {
      name: 'fixed',
      authenticate: (ex) => (ex.header('x-anon') ? undefined : same),
    };
    const mw = auth({
      methods: [method],
      default: 'anonymous',
      forward: {
        token: { key: secret, alg: 'HS256' },
        headers: { 'x-user-id': 'id', 'x-tier': 'tier' },
      },
    });
    const first = await run(mw, '/', { 'x-tier': 'enterprise' });
    const second = await run(mw, '/');
    const token = first.headers as unknown as Record<string, string>;
    expect(token['x-user-id']).toBe('alice');
    expect(token['x-tier']).toBe('pro');
    // The client's copy is gone from rawHeaders too, not only from req.headers.
    expect(first.raw).not.toContain('enterprise');
    expect(second.headers['x-gatehouse-identity']).toBe(token['x-gatehouse-identity']);
    const verifier = createIdentityVerifier({ key: secret, alg: 'HS256' });
    const verified = await verifier.fromHeaders(first.headers);
    expect(verified).toMatchObject({
      id: 'alice',
      scopes: ['read'],
      roles: ['ops'],
      tier: 'pro',
      method: 'header',
    });
    const anonymous = await run(mw, '/', {
      'x-anon': '1',
      'x-tier': 'enterprise',
      'x-gatehouse-identity': token['x-gatehouse-identity']!,
    });
    expect(anonymous.headers['x-tier']).toBeUndefined();
    expect(anonymous.headers['x-gatehouse-identity']).toBeUndefined();
  });

  test('the verifier refuses another key, another algorithm, and an expired token', async () => {
    const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
    const mw = auth({
      methods: [{ name: 'fixed', authenticate: () => principal('alice', { expiresAt: Date.now() + 1500 }) }],
      forward: { token: { key: secret, alg: 'HS256', ttlSec: 60 } },
    });
    const { headers } = await run(mw, '/');
    const value = headers['x-gatehouse-identity']!;
    const other = createIdentityVerifier({
      key: new TextEncoder().encode('another-secret-another-secret-xx'),
      alg: 'HS256',
    });
    await expect(other.verify(value)).rejects.toMatchObject({ code: 'GH_AUTH_INVALID' });
    const right = createIdentityVerifier({ key: secret, alg: 'HS256', clockToleranceSec: 0 });
    // Never outlives the credential it was made from (expiresAt in 1.5 s).
    const verified = await right.verify(value);
    expect(verified.expiresAt! - Date.now()).toBeLessThanOrEqual(2000);
    await expect(right.fromHeaders({})).rejects.toMatchObject({ code: 'GH_AUTH_REQUIRED' });
    await expect(right.verify('x'.repeat(20_000))).rejects.toMatchObject({ code: 'GH_AUTH_INVALID' });
  });
});

describe('counting', () => {
  test('stats and the OpenTelemetry counter count outcomes by method and reason', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const mw = auth({
      methods: [headerMethod('a')],
      rules: [{ path: '/open', anonymous: true }],
      meterProvider: provider,
    });
    await run(mw, '/x', { 'x-a': 'alice' });
    await run(mw, '/x', { 'x-a': 'alice' });
    await run(mw, '/x', { 'x-a': 'bad' });
    await run(mw, '/x');
    await run(mw, '/open');
    expect(mw.stats()).toEqual({
      authenticated: { a: 2 },
      anonymous: 1,
      refused: { bad_signature: 1, missing: 1 },
    });
    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics)
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === 'gatehouse.auth.requests')
      .flatMap((m) => m.dataPoints.map((p) => ({ ...p.attributes, value: p.value })));
    expect(points).toEqual(
      expect.arrayContaining([
        { outcome: 'authenticated', 'gatehouse.auth.method': 'a', value: 2 },
        { outcome: 'anonymous', value: 1 },
        { outcome: 'refused', 'gatehouse.auth.reason': 'bad_signature', value: 1 },
        { outcome: 'refused', 'gatehouse.auth.reason': 'missing', value: 1 },
      ]),
    );
    await provider.shutdown();
    expect(metrics).toBeDefined();
  });
});

describe('options', () => {
  test('every problem is listed with its path', () => {
    let error: unknown;
    try {
      auth({
        methods: [{ name: 'x' } as never, headerMethod('a'), headerMethod('a')],
        combine: 'any' as never,
        rules: [
          { path: 'no-slash' },
          { path: '/a', httpMethods: ['get'] },
          { path: '/b', anonymous: true, scopes: ['x'] },
          { path: '/c', methods: ['nope'] },
        ],
        default: 'open' as never,
        realm: 'bad"realm',
        forward: {
          headers: { host: 'id', 'x-ok': 'password' as never },
          token: { key: new Uint8Array(4), alg: 'HS256' },
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'auth.methods[0]',
        'auth.methods[2]',
        'auth.combine',
        'auth.rules[0].path',
        'auth.rules[1].httpMethods[0]',
        'auth.rules[2]',
        'auth.rules[3].methods',
        'auth.default',
        'auth.realm',
        'auth.forward.headers.host',
        'auth.forward.headers["x-ok"]',
        'auth.forward.token.key',
      ]),
    );
  });

  test('no methods is fine only when every route is anonymous', () => {
    expect(() => auth({ methods: [], default: 'anonymous' })).not.toThrow();
    expect(() => auth({ methods: [] })).toThrow(/at least one authentication method/);
  });
});

describe('misspelt options fail at start-up instead of leaving a route open', () => {
  test.each([
    [
      'a rule',
      () => auth({ methods: [headerMethod('a')], rules: [{ path: '/admin/*', role: ['admin'] } as never] }),
      'auth.rules[0].role',
    ],
    ['the options', () => auth({ methods: [headerMethod('a')], rule: [] } as never), 'auth.rule'],
    [
      'the default',
      () => auth({ methods: [headerMethod('a')], default: { scope: ['x'] } as never }),
      'auth.default.scope',
    ],
    [
      'forward',
      () => auth({ methods: [headerMethod('a')], forward: { header: {} } as never }),
      'auth.forward.header',
    ],
    [
      'require()',
      () => auth({ methods: [headerMethod('a')] }).require({ role: ['x'] } as never),
      'auth.require().role',
    ],
    [
      'require() methods',
      () => auth({ methods: [headerMethod('a')] }).require({ methods: ['b'] }),
      'auth.require().methods',
    ],
  ])('%s', (_label, build, path) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path)).toContain(path);
  });
});

describe('route-level requirements', () => {
  test('require({ methods }) refuses a principal another method authenticated; deny refuses everyone', async () => {
    const mw = auth({ methods: [headerMethod('a'), headerMethod('b')], default: 'anonymous' });
    const onlyB = mw.require({ methods: ['b'] });
    const deny = mw.require({ deny: true });
    const through = async (guard: typeof onlyB, headers: Record<string, string>) => {
      handle = async (exchange) => {
        await mw.onRequest!(exchange);
        return guard.onRequest!(exchange);
      };
      const r = request({ host: '127.0.0.1', port, path: '/', headers });
      r.end();
      const [res] = (await once(r, 'response')) as [import('node:http').IncomingMessage];
      let text = '';
      for await (const c of res) text += c;
      return JSON.parse(text) as Answer;
    };
    expect((await through(onlyB, { 'x-a': 'alice' })).error).toBe('GH_AUTH_FORBIDDEN');
    expect((await through(onlyB, { 'x-b': 'bob' })).principal?.id).toBe('bob');
    expect((await through(deny, {})).error).toBe('GH_AUTH_FORBIDDEN');
  });
});
