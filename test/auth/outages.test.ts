// Outages of what authentication depends on, with real servers that are stopped and started again on
// the same port: a JWKS endpoint (before any key was loaded, and while keys are cached), an RFC 7662
// introspection endpoint, the Redis holding API keys (a redis-server killed and restarted), and an
// API-key lookup function that throws. Each outage is reported once (GH_DEPENDENCY_UNAVAILABLE with
// its cause) on `gatehouse:error`, to onError and through the gateway's logger, and its end once
// (GH_DEPENDENCY_RECOVERED, logged at info), however many requests it touched; every framework.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApiKeyPrincipal,
  apiKeyAuthenticator,
  hashApiKey,
  introspectionAuthenticator,
  jwtAuthenticator,
} from '@gatehousejs/auth';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import Router from '@koa/router';
import { Redis } from 'ioredis';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expressOf, FRAMEWORKS, type Framework, familyOf, gatewayOf, koaOf } from '../support/apps.js';
import {
  freePort,
  type RedisServer,
  redisClient,
  redisMissing,
  redisServerMissing,
  startRedisServer,
  uniquePrefix,
} from '../support/redis.js';

const ISSUER = 'https://idp.outage.test';
const AUDIENCE = 'urn:gatehouse:outage';

/** A server that can be stopped and started again on the same port. */
async function restartable(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const port = await freePort();
  let server: Server | undefined;
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    async start() {
      server = createServer(handler);
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async stop() {
      if (server === undefined) return;
      server.closeAllConnections();
      await new Promise((done) => server!.close(done));
      server = undefined;
    },
  };
}

interface Logged {
  level: 'error' | 'info';
  msg: string;
  obj: { err?: unknown; phase?: string };
}

/** An app whose only route answers 200 to whoever `gw.auth()` admits, with a recording logger. */
async function startApp(framework: Framework, methods: unknown[]) {
  const logged: Logged[] = [];
  const reported: Array<{ phase: string; code?: string; error: unknown }> = [];
  const gw = gatewayOf(
    framework,
    {},
    {
      logger: {
        error: (obj, msg) => logged.push({ level: 'error', msg, obj: obj as Logged['obj'] }),
        info: (obj, msg) => logged.push({ level: 'info', msg, obj: obj as Logged['obj'] }),
      },
      onError: (error, { phase }) => reported.push({ phase, code: (error as { code?: string }).code, error }),
    },
  ) as FrameworkGateway<never>;
  const authMw = gw.auth({ methods: methods as never });
  let listener: Parameters<typeof createServer>[1];
  if (familyOf(framework) === 'express') {
    const app = expressOf(framework)();
    app.use(authMw);
    app.get('/private', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(...(gw as unknown as { errors(): never[] }).errors());
    listener = app;
  } else {
    const app = new (koaOf(framework))();
    app.silent = true;
    app.use((gw as unknown as { errors(): never }).errors());
    app.use(authMw);
    const router = new Router();
    router.get('/private', (ctx) => {
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    listener = app.callback();
  }
  const server = createServer(listener);
  gw.serve(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await gw.start();
  const port = (server.address() as AddressInfo).port;
  return {
    logged,
    reported,
    get: async (token: string) =>
      (await fetch(`http://127.0.0.1:${port}/private`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    /** The status of GET /private with these headers. */
    send: async (headers: Record<string, string>) =>
      (await fetch(`http://127.0.0.1:${port}/private`, { headers })).status,
    close: () => gw.close({ deadlineMs: 1_000 }),
  };
}

/** What was reported, as `phase code` lines, in order. */
const lines = (app: { reported: Array<{ phase: string; code?: string }> }) =>
  app.reported.map((r) => `${r.phase} ${r.code}`);

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// One channel subscriber for the file: everything published on gatehouse:error, by phase and code.
const published: string[] = [];
const onPublish = (message: unknown) => {
  const { error, phase } = message as { error: { code?: string }; phase: string };
  published.push(`${phase} ${error.code}`);
};
beforeAll(() => subscribe('gatehouse:error', onPublish));
afterAll(() => unsubscribe('gatehouse:error', onPublish));

describe.each(FRAMEWORKS)('a JWKS endpoint that goes away, on %s', (framework: Framework) => {
  let jwks: Awaited<ReturnType<typeof restartable>>;
  let token: string;
  const apps: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await jwks.stop();
  });
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = await restartable((_req, res) => {
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    token = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  });

  it('down before any key was loaded: 503s, one report with the cause, one recovery when it is back', async () => {
    const app = await startApp(framework, [
      jwtAuthenticator({ jwks: { url: jwks.url('/jwks.json') }, issuer: ISSUER, audience: AUDIENCE }),
    ]);
    apps.push(app);
    published.length = 0;
    for (let i = 0; i < 5; i++) expect(await app.get(token)).toBe(503);
    expect(lines(app)).toEqual(['dependency:jwks GH_DEPENDENCY_UNAVAILABLE']);
    const outage = app.reported[0]!.error as Error;
    expect(outage.message).toBe(`jwks ${jwks.url('/jwks.json')} is unavailable: network error: ECONNREFUSED`);
    expect((outage.cause as Error).message).toBe('network error: ECONNREFUSED');
    expect(app.logged.map((l) => [l.level, l.msg])).toEqual([['error', outage.message]]);
    expect(app.logged[0]!.obj.phase).toBe('dependency:jwks');

    await jwks.start();
    // Without keys, a failed fetch is retried on use at most once a second.
    await until('a verified request', async () => (await app.get(token)) === 200);
    for (let i = 0; i < 3; i++) expect(await app.get(token)).toBe(200);
    expect(lines(app)).toEqual([
      'dependency:jwks GH_DEPENDENCY_UNAVAILABLE',
      'dependency:jwks GH_DEPENDENCY_RECOVERED',
    ]);
    expect(app.logged.map((l) => l.level)).toEqual(['error', 'info']);
    expect(app.logged[1]!.msg).toMatch(
      /^jwks http:\/\/127\.0\.0\.1:\d+\/jwks\.json is available again after \d+ s$/,
    );
    expect(published).toEqual([
      'dependency:jwks GH_DEPENDENCY_UNAVAILABLE',
      'dependency:jwks GH_DEPENDENCY_RECOVERED',
    ]);
  });

  it('down while keys are cached: requests still verify, the outage and its end are reported once each', async () => {
    await jwks.start();
    const app = await startApp(framework, [
      jwtAuthenticator({
        // Keys are refreshed in the background once 50 ms old, at most every 20 ms.
        jwks: { url: jwks.url('/jwks.json'), maxAgeMs: 50, cooldownMs: 20 },
        issuer: ISSUER,
        audience: AUDIENCE,
        cache: false,
      } as never),
    ]);
    apps.push(app);
    expect(await app.get(token)).toBe(200);
    await jwks.stop();
    // Many requests, many failed background refreshes: still 200 (stale keys), one report.
    await until('the outage report', async () => {
      expect(await app.get(token)).toBe(200);
      return app.reported.length > 0;
    });
    for (let i = 0; i < 10; i++) {
      expect(await app.get(token)).toBe(200);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(lines(app)).toEqual(['dependency:jwks GH_DEPENDENCY_UNAVAILABLE']);
    await jwks.start();
    await until('the recovery report', async () => {
      expect(await app.get(token)).toBe(200);
      return app.reported.length > 1;
    });
    for (let i = 0; i < 5; i++) expect(await app.get(token)).toBe(200);
    expect(lines(app)).toEqual([
      'dependency:jwks GH_DEPENDENCY_UNAVAILABLE',
      'dependency:jwks GH_DEPENDENCY_RECOVERED',
    ]);
  });
});

describe.each(FRAMEWORKS)('an introspection endpoint that goes away, on %s', (framework: Framework) => {
  let idp: Awaited<ReturnType<typeof restartable>>;
  beforeAll(async () => {
    idp = await restartable((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ active: true, sub: 'svc-1', exp: Math.floor(Date.now() / 1000) + 600 }));
    });
  });
  afterAll(async () => {
    await idp.stop();
  });

  it('503s while it is down, one report with the cause; one recovery when it answers again', async () => {
    await idp.start();
    const app = await startApp(framework, [
      introspectionAuthenticator({ endpoint: idp.url('/introspect'), timeoutMs: 500, cache: false } as never),
    ]);
    try {
      expect(await app.get('opaque-1')).toBe(200);
      await idp.stop();
      for (let i = 0; i < 5; i++) expect(await app.get(`opaque-${i}`)).toBe(503);
      expect(lines(app)).toEqual(['dependency:introspection GH_DEPENDENCY_UNAVAILABLE']);
      const outage = app.reported[0]!.error as Error;
      expect(outage.message).toMatch(
        new RegExp(`^introspection ${idp.url('/introspect').replace(/[.]/g, '\\.')} is unavailable: `),
      );
      expect(outage.cause).toBeInstanceOf(Error);
      expect(app.logged.map((l) => l.level)).toEqual(['error']);
      await idp.start();
      expect(await app.get('opaque-again')).toBe(200);
      expect(await app.get('opaque-again-2')).toBe(200);
      expect(lines(app)).toEqual([
        'dependency:introspection GH_DEPENDENCY_UNAVAILABLE',
        'dependency:introspection GH_DEPENDENCY_RECOVERED',
      ]);
      expect(app.logged.map((l) => l.level)).toEqual(['error', 'info']);
    } finally {
      await app.close();
    }
  });
});

const API_KEY = 'gh_live_outage_0123456789abcdef';

const noRedisServer = redisServerMissing();
if (noRedisServer !== undefined) redisMissing('test/auth/outages.test.ts (API keys in Redis)', noRedisServer);

describe.skipIf(noRedisServer !== undefined).each(FRAMEWORKS)(
  'the Redis holding API keys, killed and restarted, on %s',
  (framework: Framework) => {
    let server: RedisServer;
    let admin: Redis;
    let client: Redis;
    const prefix = `${uniquePrefix('auth-outage')}:`;
    const storeKey = () =>
      admin.set(`${prefix}${hashApiKey(API_KEY).slice('sha256:'.length)}`, JSON.stringify({ id: 'partner' }));
    beforeAll(async () => {
      server = await startRedisServer();
      admin = redisClient(server.url);
      // As the README asks: no offline queue and a command timeout, so a dead Redis fails fast.
      client = new Redis(server.url, { enableOfflineQueue: false, commandTimeout: 500 });
      client.on('error', () => {});
      await storeKey();
    });
    afterAll(async () => {
      client.disconnect();
      admin.disconnect();
      await server.stop();
    });

    it('503s while it is down, one report with the cause; one recovery when it answers again', async () => {
      const app = await startApp(framework, [
        apiKeyAuthenticator({ redis: { client, prefix }, cache: false }),
      ]);
      try {
        const key = { 'x-api-key': API_KEY };
        expect(await app.send(key)).toBe(200);
        published.length = 0;
        await server.kill();
        for (let i = 0; i < 5; i++) expect(await app.send(key)).toBe(503);
        expect(lines(app)).toEqual(['dependency:redis GH_DEPENDENCY_UNAVAILABLE']);
        const outage = app.reported[0]!.error as Error & { dependency: { name: string } };
        expect(outage.dependency.name).toBe(`redis://127.0.0.1:${server.port} ${prefix}*`);
        expect(outage.cause).toBeInstanceOf(Error);
        expect(outage.message).toBe(
          `redis redis://127.0.0.1:${server.port} ${prefix}* is unavailable: ${(outage.cause as Error).message}`,
        );
        expect(app.logged.map((l) => [l.level, l.msg])).toEqual([['error', outage.message]]);
        expect(app.logged[0]!.obj.phase).toBe('dependency:redis');

        // Back, empty (nothing is persisted): the key is stored again, the client reconnects by itself.
        await server.restart();
        await until('the key stored again', async () => {
          try {
            await storeKey();
            return true;
          } catch {
            return false;
          }
        });
        await until('an admitted request', async () => (await app.send(key)) === 200);
        for (let i = 0; i < 3; i++) expect(await app.send(key)).toBe(200);
        expect(lines(app)).toEqual([
          'dependency:redis GH_DEPENDENCY_UNAVAILABLE',
          'dependency:redis GH_DEPENDENCY_RECOVERED',
        ]);
        expect(app.logged.map((l) => l.level)).toEqual(['error', 'info']);
        expect(app.logged[1]!.msg).toMatch(
          new RegExp(`^redis redis://127\\.0\\.0\\.1:${server.port} \\S+ is available again after \\d+ s$`),
        );
        expect(published).toEqual([
          'dependency:redis GH_DEPENDENCY_UNAVAILABLE',
          'dependency:redis GH_DEPENDENCY_RECOVERED',
        ]);
      } finally {
        await app.close();
      }
    });
  },
);

describe.each(FRAMEWORKS)('an API-key lookup function that fails, on %s', (framework: Framework) => {
  it('503s while it throws, one report with the cause; one recovery when it answers again', async () => {
    let down = false;
    const records: Record<string, ApiKeyPrincipal> = {
      [hashApiKey(API_KEY)]: { id: 'partner' },
      // A record that is wrong is no outage: refused (500) and reported with each request.
      [hashApiKey(`${API_KEY}-bad`)]: { id: '' },
    };
    const app = await startApp(framework, [
      apiKeyAuthenticator({
        lookup: async function accounts(hash) {
          if (down) throw new Error('accounts database: connection refused');
          return records[hash];
        },
        cache: false,
      }),
    ]);
    try {
      expect(await app.send({ 'x-api-key': API_KEY })).toBe(200);
      down = true;
      for (let i = 0; i < 5; i++) expect(await app.send({ 'x-api-key': `${API_KEY}-${i}` })).toBe(503);
      expect(lines(app)).toEqual(['dependency:lookup GH_DEPENDENCY_UNAVAILABLE']);
      const outage = app.reported[0]!.error as Error;
      expect(outage.message).toBe(
        'lookup apiKey.lookup (accounts) is unavailable: accounts database: connection refused',
      );
      expect((outage.cause as Error).message).toBe('accounts database: connection refused');
      expect(app.logged.map((l) => [l.level, l.msg])).toEqual([['error', outage.message]]);

      down = false;
      expect(await app.send({ 'x-api-key': 'gh_live_not_a_known_key' })).toBe(401);
      expect(await app.send({ 'x-api-key': API_KEY })).toBe(200);
      expect(lines(app)).toEqual([
        'dependency:lookup GH_DEPENDENCY_UNAVAILABLE',
        'dependency:lookup GH_DEPENDENCY_RECOVERED',
      ]);
      expect(app.logged.map((l) => l.level)).toEqual(['error', 'info']);

      for (let i = 0; i < 2; i++) expect(await app.send({ 'x-api-key': `${API_KEY}-bad` })).toBe(500);
      expect(lines(app).slice(2)).toEqual([
        'auth:api-key GH_CONFIG_INVALID',
        'auth:api-key GH_CONFIG_INVALID',
      ]);
    } finally {
      await app.close();
    }
  });
});
