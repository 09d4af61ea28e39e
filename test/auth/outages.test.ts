// Outages of the identity provider's endpoints, with real servers that are stopped and started again on
// the same port: a JWKS endpoint (before any key was loaded, and while keys are cached) and an RFC 7662
// introspection endpoint. Each outage is reported once (GH_DEPENDENCY_UNAVAILABLE with its cause) on
// `gatehouse:error`, to onError and through the gateway's logger, and its end once
// (GH_DEPENDENCY_RECOVERED, logged at info), however many requests it touched; every framework.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { introspectionAuthenticator, jwtAuthenticator } from '@gatehousejs/auth';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import Router from '@koa/router';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expressOf, FRAMEWORKS, type Framework, familyOf, gatewayOf, koaOf } from '../support/apps.js';
import { freePort } from '../support/redis.js';

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
