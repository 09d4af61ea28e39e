// Real passport strategies (bearer, header API key, JWT with a real key) run through a plain node:http
// server, with no Express, Koa or passport in between.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { ConfigError, ensureExchange, Gateway, isGatehouseError } from '@gatehousejs/core';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { refusalReason } from './errors.js';
import {
  type PassportOptions,
  type PassportRequest,
  type PassportStrategy,
  passportAuthenticator,
} from './passport.js';
import type { Authenticator, Principal } from './principal.js';

// The strategies ship CommonJS without type declarations (passport-headerapikey's pull in Express's):
// loaded through require and typed here by what the tests use.
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
const passportJwt = require('passport-jwt') as {
  Strategy: new (
    options: Record<string, unknown>,
    verify: (payload: unknown, done: Done) => void,
  ) => PassportStrategy;
  ExtractJwt: { fromAuthHeaderAsBearerToken(): unknown };
};

interface Answer {
  status: number;
  principal?: Principal | null;
  code?: string;
  reason?: string;
  detail?: string;
  headers?: Record<string, string> | null;
  cause?: { name: string; message: string } | null;
}

const gateway = new Gateway();
let server: Server;
let base: string;
let current: Authenticator;
let native: unknown;
let lastReq: IncomingMessage | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    lastReq = req;
    const exchange = ensureExchange(req, res, gateway, undefined, native);
    const send = (status: number, body: Omit<Answer, 'status'>) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    Promise.resolve()
      .then(() => current.authenticate(exchange))
      .then(
        (principal) => send(200, { principal: principal ?? null }),
        (error: unknown) => {
          if (!isGatehouseError(error)) return send(599, { detail: String(error) });
          const cause = error.cause as Error | undefined;
          send(error.status, {
            code: error.code,
            reason: refusalReason(error),
            detail: error.detail,
            headers: error.headers ?? null,
            cause: cause === undefined ? null : { name: cause.name, message: cause.message },
          });
        },
      );
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  native = undefined;
  lastReq = undefined;
});

async function probe(auth: Authenticator, path = '/', headers: Record<string, string> = {}): Promise<Answer> {
  current = auth;
  const res = await fetch(base + path, { headers });
  return { status: res.status, ...((await res.json()) as Omit<Answer, 'status'>) };
}

const TOKENS: Record<string, { id: string; roles: string[] }> = {
  'tok-alice': { id: 'alice', roles: ['admin', 'admin', 'ops'] },
};

function bearer(options?: PassportOptions) {
  const strategy = new BearerStrategy((token, done) => {
    if (token === 'tok-broken') return done(new Error('user store down'));
    const user = TOKENS[token];
    // Called back on a later turn, as a real user lookup would.
    setImmediate(() => (user ? done(null, user, { scope: 'read write read' }) : done(null, false)));
  });
  return passportAuthenticator(strategy, options);
}

describe('passport-http-bearer', () => {
  test('success becomes a principal through the default mapping', async () => {
    const auth = bearer();
    expect(auth.name).toBe('passport:bearer');
    expect(auth.scheme).toBe('Bearer');
    const answer = await probe(auth, '/', { authorization: 'Bearer tok-alice' });
    expect(answer.status).toBe(200);
    expect(answer.principal).toEqual({
      id: 'alice',
      method: 'passport',
      scopes: ['read', 'write'],
      roles: ['admin', 'ops'],
      claims: { strategy: 'bearer' },
    });
  });

  test('a rejected token is AuthInvalid with the strategy challenge as WWW-Authenticate', async () => {
    const answer = await probe(bearer(), '/', { authorization: 'Bearer tok-mallory' });
    expect(answer).toMatchObject({ status: 401, code: 'GH_AUTH_INVALID', reason: 'unknown_credential' });
    expect(answer.headers).toEqual({ 'www-authenticate': 'Bearer realm="Users", error="invalid_token"' });
    expect(answer.detail).not.toContain('tok-mallory');
  });

  test('no credential, or another scheme in Authorization, is no credential (undefined)', async () => {
    expect(await probe(bearer(), '/')).toEqual({ status: 200, principal: null });
    expect(await probe(bearer(), '/', { authorization: 'Basic YTpi' })).toEqual({
      status: 200,
      principal: null,
    });
  });

  test('a malformed Authorization header (fail(400)) is AuthInvalid counted as malformed', async () => {
    const answer = await probe(bearer(), '/', { authorization: 'Bearer tok-alice extra' });
    expect(answer).toMatchObject({
      status: 401,
      code: 'GH_AUTH_INVALID',
      reason: 'malformed',
      headers: null,
    });
  });

  test('the token in the query string reaches the strategy on a plain node request', async () => {
    const auth = bearer({
      credentials: [{ header: 'authorization', scheme: 'Bearer' }, { query: 'access_token' }],
    });
    const ok = await probe(auth, '/?access_token=tok-alice&access_token=ignored');
    expect(ok.principal?.id).toBe('alice');
    const bad = await probe(auth, '/?access_token=nope');
    expect(bad).toMatchObject({ status: 401, code: 'GH_AUTH_INVALID' });
    // Not declared as a location: a bad query token alone counts as no credential.
    expect(await probe(bearer(), '/?access_token=nope')).toEqual({ status: 200, principal: null });
  });

  test('the body a framework parsed (Koa ctx.request.body) reaches the strategy', async () => {
    native = { request: { body: { access_token: 'tok-alice' } } };
    const auth = bearer({ credentials: { body: 'access_token' } });
    expect((await probe(auth)).principal?.id).toBe('alice');
    native = { request: { body: { access_token: 'nope' } } };
    expect(await probe(auth)).toMatchObject({ status: 401, code: 'GH_AUTH_INVALID' });
    native = { request: { body: {} } };
    expect(await probe(auth)).toEqual({ status: 200, principal: null });
  });

  test('an error from the verify callback is AuthFailed, the cause kept and not exposed', async () => {
    const answer = await probe(bearer(), '/', { authorization: 'Bearer tok-broken' });
    expect(answer).toMatchObject({ status: 500, code: 'GH_AUTH_ERROR', reason: 'error' });
    expect(answer.cause).toEqual({ name: 'Error', message: 'user store down' });
    expect(answer.detail).toBe('Authentication failed');
  });
});

describe('passport-headerapikey', () => {
  const apiKey = () =>
    passportAuthenticator(
      new HeaderAPIKeyStrategy({ header: 'X-Api-Key', prefix: '' }, false, (key, done) =>
        key === 'k-123' ? done(null, { username: 'svc-billing', roles: ['billing'] }) : done(null, false),
      ),
      { credentials: { header: 'x-api-key' }, scheme: 'ApiKey' },
    );

  test('success, rejection and absence', async () => {
    const auth = apiKey();
    expect(auth.name).toBe('passport:headerapikey');
    expect(auth.scheme).toBe('ApiKey');
    const ok = await probe(auth, '/', { 'x-api-key': 'k-123' });
    expect(ok.principal).toMatchObject({ id: 'svc-billing', roles: ['billing'], scopes: [] });
    expect(await probe(auth, '/', { 'x-api-key': 'k-999' })).toMatchObject({
      status: 401,
      code: 'GH_AUTH_INVALID',
      headers: null,
    });
    expect(await probe(auth, '/')).toEqual({ status: 200, principal: null });
    expect(await probe(auth, '/', { 'x-api-key': '' })).toEqual({ status: 200, principal: null });
  });
});

describe('passport-jwt with a real key', () => {
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let otherKeys: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwtAuth: Authenticator;

  beforeAll(async () => {
    keys = await generateKeyPair('ES256');
    otherKeys = await generateKeyPair('ES256');
    const strategy = new passportJwt.Strategy(
      {
        jwtFromRequest: passportJwt.ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: await exportSPKI(keys.publicKey),
        algorithms: ['ES256'],
        issuer: 'https://issuer.test',
        audience: 'api',
      },
      (payload, done) => done(null, payload),
    );
    jwtAuth = passportAuthenticator(strategy, {
      toPrincipal: (user) => {
        const claims = user as { sub: string; scope?: string; exp: number };
        return {
          id: claims.sub,
          method: 'passport',
          scopes: claims.scope?.split(' ') ?? [],
          roles: [],
          expiresAt: claims.exp * 1000,
        };
      },
    });
  });

  const sign = (key: typeof keys.privateKey, expires: number | string = '5m') =>
    new SignJWT({ scope: 'orders:read' })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('user-42')
      .setIssuer('https://issuer.test')
      .setAudience('api')
      .setIssuedAt()
      .setExpirationTime(expires)
      .sign(key);

  test('a valid token maps through toPrincipal', async () => {
    const answer = await probe(jwtAuth, '/', { authorization: `Bearer ${await sign(keys.privateKey)}` });
    expect(answer.principal).toMatchObject({ id: 'user-42', method: 'passport', scopes: ['orders:read'] });
    expect(answer.principal?.expiresAt).toBeGreaterThan(Date.now());
  });

  test('a token signed by another key is AuthInvalid, the library error kept as the cause', async () => {
    const answer = await probe(jwtAuth, '/', { authorization: `Bearer ${await sign(otherKeys.privateKey)}` });
    expect(answer).toMatchObject({ status: 401, code: 'GH_AUTH_INVALID', reason: 'unknown_credential' });
    expect(answer.cause).toEqual({ name: 'JsonWebTokenError', message: 'invalid signature' });
  });

  test('an expired token is AuthExpired', async () => {
    const expired = await sign(keys.privateKey, Math.floor(Date.now() / 1000) - 120);
    const answer = await probe(jwtAuth, '/', { authorization: `Bearer ${expired}` });
    expect(answer).toMatchObject({ status: 401, code: 'GH_AUTH_TOKEN_EXPIRED', reason: 'expired' });
  });

  test('no token is no credential', async () => {
    expect(await probe(jwtAuth, '/')).toEqual({ status: 200, principal: null });
  });
});

/** A hand-made strategy: `run` gets the per-request object (with the actions) and the request. */
function custom(
  run: (
    self: PassportStrategy & Record<string, (...args: unknown[]) => void>,
    req: PassportRequest,
  ) => unknown,
) {
  return {
    name: 'custom',
    authenticate(this: never, req: PassportRequest) {
      return run(this, req);
    },
  } as PassportStrategy;
}

describe('the first action wins', () => {
  test('success twice: the first user, mapped once', async () => {
    const mapped: unknown[] = [];
    const auth = passportAuthenticator(
      custom((self) => {
        self.success!({ id: 'first' });
        self.success!({ id: 'second' });
      }),
      {
        toPrincipal: (user) => {
          mapped.push(user);
          return { id: (user as { id: string }).id, method: 'passport', scopes: [], roles: [] };
        },
      },
    );
    expect((await probe(auth)).principal?.id).toBe('first');
    expect(mapped).toEqual([{ id: 'first' }]);
  });

  test('success then fail, and fail then success', async () => {
    const successFirst = passportAuthenticator(
      custom((self) => {
        self.success!({ id: 'first' });
        self.fail!('Bearer');
        self.error!(new Error('late'));
      }),
    );
    expect((await probe(successFirst, '/', { authorization: 'Bearer x' })).principal?.id).toBe('first');
    const failFirst = passportAuthenticator(
      custom((self) => {
        setImmediate(() => {
          self.fail!('Bearer realm="x"');
          self.success!({ id: 'late' });
        });
      }),
    );
    expect(await probe(failFirst, '/', { authorization: 'Bearer x' })).toMatchObject({
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="x"' },
    });
  });

  test('a strategy that never answers fails after timeoutMs, and its late answer is ignored', async () => {
    let late: (() => void) | undefined;
    const auth = passportAuthenticator(
      custom((self) => {
        late = () => self.success!({ id: 'too-late' });
      }),
      { timeoutMs: 40 },
    );
    const answer = await probe(auth, '/', { authorization: 'Bearer x' });
    expect(answer).toMatchObject({ status: 500, code: 'GH_AUTH_ERROR', reason: 'error' });
    expect(() => late!()).not.toThrow();
  });
});

describe('everything else a strategy can do', () => {
  test('throwing, rejecting, redirect() and pass() are AuthFailed', async () => {
    const cases: PassportStrategy[] = [
      custom(() => {
        throw new Error('boom');
      }),
      custom(() => Promise.reject(new Error('async boom'))),
      custom((self) => self.redirect!('https://idp.example/login?state=secret')),
      custom((self) => self.pass!()),
    ];
    for (const strategy of cases) {
      const answer = await probe(passportAuthenticator(strategy), '/', { authorization: 'Bearer x' });
      expect(answer).toMatchObject({ status: 500, code: 'GH_AUTH_ERROR', detail: 'Authentication failed' });
    }
  });

  test('a challenge that is not a safe header value is not sent', async () => {
    const auth = passportAuthenticator(custom((self) => self.fail!('Bearer\r\nset-cookie: x=1')));
    expect(await probe(auth, '/', { authorization: 'Bearer x' })).toMatchObject({
      status: 401,
      headers: null,
    });
  });

  test('the default mapping needs an id; toPrincipal errors are AuthFailed unless they are Gatehouse errors', async () => {
    const noId = passportAuthenticator(custom((self) => self.success!({ name: 'who?' })));
    expect(await probe(noId, '/', { authorization: 'Bearer x' })).toMatchObject({
      status: 500,
      code: 'GH_AUTH_ERROR',
    });
    const numeric = passportAuthenticator(custom((self) => self.success!({ id: 7 })));
    expect((await probe(numeric, '/', { authorization: 'Bearer x' })).principal?.id).toBe('7');
    const plain = passportAuthenticator(custom((self) => self.success!('svc-a')));
    expect((await probe(plain, '/', { authorization: 'Bearer x' })).principal?.id).toBe('svc-a');
    const bad = passportAuthenticator(
      custom((self) => self.success!({ id: 'a' })),
      {
        toPrincipal: () => ({ id: '' }) as Principal,
      },
    );
    expect(await probe(bad, '/', { authorization: 'Bearer x' })).toMatchObject({
      status: 500,
      code: 'GH_AUTH_ERROR',
    });
    const throws = passportAuthenticator(
      custom((self) => self.success!({ id: 'a' })),
      {
        toPrincipal: () => {
          throw new TypeError('mapping bug');
        },
      },
    );
    expect(await probe(throws, '/', { authorization: 'Bearer x' })).toMatchObject({
      status: 500,
      cause: { name: 'TypeError', message: 'mapping bug' },
    });
    const refuses = passportAuthenticator(
      custom((self) => self.success!({ id: 'a' })),
      {
        toPrincipal: async () => {
          const { AuthForbidden } = await import('./errors.js');
          throw new AuthForbidden('Suspended account');
        },
      },
    );
    expect(await probe(refuses, '/', { authorization: 'Bearer x' })).toMatchObject({
      status: 403,
      code: 'GH_AUTH_FORBIDDEN',
    });
  });

  test('the strategy sees a derived request; the real one is left as it was', async () => {
    let seen: PassportRequest | undefined;
    let seenOptions: unknown;
    const strategyOptions = { session: false };
    const auth = passportAuthenticator(
      {
        name: 'inspect',
        authenticate(this: { success(user: unknown): void }, req: PassportRequest, options?: unknown) {
          seen = req;
          seenOptions = options;
          (req as { user?: unknown }).user = 'written by the strategy';
          this.success({ id: 'x' });
        },
      },
      { strategyOptions },
    );
    await probe(auth, '/a/b?x=1&x=2&__proto__=p&y=', { 'x-test': 'yes' });
    expect(seenOptions).toBe(strategyOptions);
    expect(Object.getPrototypeOf(seen)).toBe(lastReq);
    expect(seen!.headers['x-test']).toBe('yes');
    expect(seen!.url).toBe('/a/b?x=1&x=2&__proto__=p&y=');
    expect(seen!.method).toBe('GET');
    expect(Object.getPrototypeOf(seen!.query)).toBeNull();
    expect({ ...seen!.query }).toEqual({ x: '1', ['__proto__']: 'p', y: '' });
    expect(seen!.body).toBeUndefined();
    expect(Object.hasOwn(lastReq!, 'query')).toBe(false);
    expect((lastReq as { user?: unknown }).user).toBeUndefined();
  });
});

describe('options', () => {
  test('every problem is reported at once', () => {
    let error: unknown;
    try {
      passportAuthenticator({} as PassportStrategy, {
        timeoutMs: -1,
        scheme: 'Bear er',
        toPrincipal: 'nope' as never,
        credentials: [
          { header: 'bad header' },
          { query: 'a', cookie: 'b' } as never,
          { query: 'q', scheme: 'X' } as never,
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'auth.passport.strategy: expected a passport strategy (an object with an authenticate(req, options) method), received an object',
      'auth.passport.timeoutMs: expected a number > 0, received the number -1',
      'auth.passport.scheme: must be a single token without spaces',
      "auth.passport.toPrincipal: expected a function (user, info, exchange) => Principal, received the string 'nope'",
      'auth.passport.credentials[0].header: is not a valid header name',
      'auth.passport.credentials[1]: must have exactly one of header, query, body or cookie',
      'auth.passport.credentials[2].scheme: applies to header only',
    ]);
    expect(() =>
      passportAuthenticator(
        custom(() => {}),
        { credential: { header: 'x-key' } } as never,
      ),
    ).toThrow("auth.passport.credential: unknown option; did you mean 'credentials'?");
  });

  test('a bad scheme is reported once, not again through the default credentials', () => {
    let error: unknown;
    try {
      passportAuthenticator(
        custom(() => {}),
        { scheme: '' },
      );
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems).toEqual([
      { path: 'auth.passport.scheme', message: 'must be a non-empty string' },
    ]);
  });

  test('cookie locations', async () => {
    const auth = passportAuthenticator(
      custom((self) => self.fail!()),
      { credentials: { cookie: 'sid' } },
    );
    expect(await probe(auth, '/', { cookie: 'a=1; sid=' })).toEqual({ status: 200, principal: null });
    expect(await probe(auth, '/', { cookie: 'a=1; sid=abc' })).toMatchObject({ status: 401 });
  });
});
