// identityAuthenticator on real requests through a real Gateway: the header its own hygiene strips is
// still read (from what hygiene set aside), trusted only when the gateway's key verifies it.
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { ConfigError, ensureExchange, Gateway, isGatehouseError } from '@gatehousejs/core';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auth } from './auth.js';
import { refusalReason } from './errors.js';
import { type IdentityAuthenticatorOptions, identityAuthenticator } from './identity.js';
import type { Authenticator, Principal } from './principal.js';

const gatewayKeys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');

// What a gateway in front forwards: auth()'s own forwarder signs it.
const forwarder = auth({
  methods: [],
  default: 'anonymous',
  forward: { token: { key: gatewayKeys.privateKey, alg: 'EdDSA' } },
});
const alice: Principal = { id: 'alice', method: 'jwt', scopes: ['read'], roles: ['ops'], tier: 'pro' };
const signedFor = async (principal: Principal) =>
  (await forwarder.identityHeaders(principal))['x-gatehouse-identity']!;

interface Answer {
  kind: 'none' | 'principal' | 'refused';
  sync?: boolean;
  principal?: Principal;
  code?: string;
  reason?: string;
  headers?: string[];
}

function serve(gateway: Gateway) {
  let method: Authenticator;
  const server = createServer((req, res) => {
    const exchange = ensureExchange(req, res, gateway);
    const reply = (answer: Answer) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ...answer, headers: Object.keys(req.headers) }));
    };
    let result: ReturnType<Authenticator['authenticate']>;
    try {
      result = method.authenticate(exchange);
    } catch (error) {
      reply(refused(error));
      return;
    }
    const sync = !(result instanceof Promise);
    Promise.resolve(result).then(
      (principal) =>
        reply(principal === undefined ? { kind: 'none' } : { kind: 'principal', sync, principal }),
      (error: unknown) => reply(refused(error)),
    );
  });
  return {
    server,
    use(m: Authenticator) {
      method = m;
    },
  };
}

function refused(error: unknown): Answer {
  if (!isGatehouseError(error)) throw error;
  return { kind: 'refused', code: error.code, reason: refusalReason(error) };
}

const servers: Server[] = [];
async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

// Raw bytes: header names, case and repetition exactly as written.
function send(port: number, lines: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Answer);
    });
    socket.write(['GET /x HTTP/1.1', 'Host: t', ...lines, 'Connection: close', '', ''].join('\r\n'));
  });
}

const hygienic = serve(new Gateway());
const unhygienic = serve(new Gateway({ headers: { stripDefaults: false } }));
let port = 0;
let rawPort = 0;

beforeAll(async () => {
  port = await listen(hygienic.server);
  rawPort = await listen(unhygienic.server);
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

describe('identityAuthenticator', () => {
  test("reads the gateway's token although hygiene strips the header; the app never sees it", async () => {
    const method = identityAuthenticator({ key: gatewayKeys.publicKey, alg: 'EdDSA' });
    expect(method.name).toBe('identity');
    expect(method.scheme).toBeUndefined();
    hygienic.use(method);
    const token = await signedFor(alice);
    const first = await send(port, [`X-Gatehouse-Identity: ${token}`, 'x-other: 1']);
    expect(first).toMatchObject({
      kind: 'principal',
      sync: false,
      principal: { id: 'alice', method: 'jwt', scopes: ['read'], roles: ['ops'], tier: 'pro' },
    });
    expect(first.principal!.claims).toMatchObject({
      iss: 'gatehouse',
      aud: 'gatehouse-upstream',
      sub: 'alice',
    });
    expect(first.headers).not.toContain('x-gatehouse-identity');
    expect(first.headers).toContain('x-other');
    // The same token again: from the cache, synchronously.
    expect(await send(port, [`x-gatehouse-identity: ${token}`])).toMatchObject({
      kind: 'principal',
      sync: true,
    });
    expect(await send(port, [])).toMatchObject({ kind: 'none' });
  });

  test('forged, foreign-key, tampered, expired, empty and repeated tokens are refused', async () => {
    hygienic.use(identityAuthenticator({ key: gatewayKeys.publicKey, alg: 'EdDSA' }));
    const token = await signedFor(alice);
    const [header, payload, signature] = token.split('.');
    const admin = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['admin'] }),
    ).toString('base64url');
    const foreign = await new SignJWT({ sub: 'mallory' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-identity+jwt' })
      .setIssuer('gatehouse')
      .setAudience('gatehouse-upstream')
      .setExpirationTime('1h')
      .sign(otherKeys.privateKey);
    const expired = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-identity+jwt' })
      .setIssuer('gatehouse')
      .setAudience('gatehouse-upstream')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
      .sign(gatewayKeys.privateKey);
    const wrongAudience = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'gatehouse-identity+jwt' })
      .setIssuer('gatehouse')
      .setAudience('another-service')
      .setExpirationTime('1h')
      .sign(gatewayKeys.privateKey);
    const cases: [string[], string, string][] = [
      [['x-gatehouse-identity: forged'], 'GH_AUTH_INVALID', 'malformed'],
      [[`x-gatehouse-identity: ${foreign}`], 'GH_AUTH_INVALID', 'bad_signature'],
      [[`x-gatehouse-identity: ${header}.${admin}.${signature}`], 'GH_AUTH_INVALID', 'bad_signature'],
      [[`x-gatehouse-identity: ${expired}`], 'GH_AUTH_TOKEN_EXPIRED', 'expired'],
      [[`x-gatehouse-identity: ${wrongAudience}`], 'GH_AUTH_INVALID', 'claims'],
      [['x-gatehouse-identity: '], 'GH_AUTH_INVALID', 'malformed'],
      [[`x-gatehouse-identity: ${token}`, `X-Gatehouse-Identity: ${token}`], 'GH_AUTH_CONFLICT', 'conflict'],
    ];
    for (const [lines, code, reason] of cases) {
      expect(await send(port, lines), lines.join(' | ').slice(0, 60)).toMatchObject({
        kind: 'refused',
        code,
        reason,
      });
    }
  });

  test('an underscore twin is not the identity header', async () => {
    hygienic.use(identityAuthenticator({ key: gatewayKeys.publicKey, alg: 'EdDSA' }));
    expect(await send(port, [`x_gatehouse_identity: ${await signedFor(alice)}`])).toMatchObject({
      kind: 'none',
    });
  });

  test('with hygiene off (stripDefaults: false) the header is read from the request; a custom header and PEM key', async () => {
    unhygienic.use(identityAuthenticator({ key: gatewayKeys.publicKey, alg: 'EdDSA' }));
    expect(await send(rawPort, [`x-gatehouse-identity: ${await signedFor(alice)}`])).toMatchObject({
      kind: 'principal',
      principal: { id: 'alice' },
    });
    const custom = auth({
      methods: [],
      default: 'anonymous',
      forward: {
        token: {
          key: gatewayKeys.privateKey,
          alg: 'EdDSA',
          header: 'x-conduit-identity',
          audience: 'conduit',
        },
      },
    });
    const token = (await custom.identityHeaders(alice))['x-conduit-identity']!;
    const pem = gatewayKeys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    unhygienic.use(
      identityAuthenticator({
        key: pem,
        alg: 'EdDSA',
        header: 'X-Conduit-Identity',
        audience: 'conduit',
        cache: false,
      }),
    );
    const answer = await send(rawPort, [`x-conduit-identity: ${token}`]);
    expect(answer).toMatchObject({ kind: 'principal', sync: false, principal: { id: 'alice' } });
    // cache: false verifies every time.
    expect(await send(rawPort, [`x-conduit-identity: ${token}`])).toMatchObject({ sync: false });
  });

  test('options: every problem in one ConfigError, with paths and suggestions', () => {
    const problemsOf = (options: unknown) => {
      try {
        identityAuthenticator(options as IdentityAuthenticatorOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      throw new Error('expected a ConfigError');
    };
    expect(
      problemsOf({
        key: gatewayKeys.publicKey,
        alg: 'EdDSSA',
        issuerr: 'x',
        cache: { max: 0 },
        header: 'x y',
      }),
    ).toEqual([
      "identity.alg: expected one of 'HS256', 'HS384', 'HS512', 'EdDSA', 'ES256', 'ES384', 'RS256' or 'PS256', received the string 'EdDSSA' — did you mean 'EdDSA'?",
      "identity.issuerr: unknown option; did you mean 'issuer'?",
      'identity.cache.max: expected a number > 0, received the number 0',
      'identity.header: expected a header name',
    ]);
    expect(problemsOf({ key: gatewayKeys.privateKey, alg: 'EdDSA' })).toEqual([
      'identity.key: is a private key; configure the public key',
    ]);
    expect(problemsOf({ key: new Uint8Array(16), alg: 'HS256' })).toEqual([
      'identity.key: an HS256 secret must be at least 32 bytes',
    ]);
    expect(problemsOf({ key: new Uint8Array(32), alg: 'EdDSA' })).toEqual([
      'identity.key: EdDSA verifies with a public key, not a secret',
    ]);
    expect(problemsOf({ key: 'not a pem', alg: 'EdDSA' })).toEqual([
      'identity.key: is not a PEM public key or certificate',
    ]);
    expect(problemsOf({ alg: 'EdDSA' })[0]).toMatch(/^identity\.key: required/);
  });
});
