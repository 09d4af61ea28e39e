import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, Exchange, Gateway, isGatehouseError } from '@gatehousejs/core';
import {
  base64url,
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { AuthForbidden, refusalReason } from './errors.js';
import { type JwtAuthenticator, type JwtOptions, jwtAuthenticator } from './jwt.js';

const ISS = 'https://idp.test/';
const AUD = 'https://api.test';

// ---------------------------------------------------------------------------------------------------
// Servers: the issuer's JWKS endpoint (switchable, counting), an attacker's server that tokens point
// at through jku/x5u (must never be contacted), and a gateway-ish server running authenticate().

type Mode = 'normal' | 'error' | 'garbage' | 'hang';
function countingServer(handler: (res: ServerResponse) => void) {
  const state = { requests: 0 };
  const server = createServer((_req, res) => {
    state.requests++;
    handler(res);
  });
  return {
    state,
    url: (path = '/') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const jwksState = { mode: 'normal' as Mode, keys: [] as JWK[] };
const idp = countingServer((res) => {
  if (jwksState.mode === 'hang') return;
  if (jwksState.mode === 'error') {
    res.statusCode = 500;
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(jwksState.mode === 'garbage' ? '{"keys": [' : JSON.stringify({ keys: jwksState.keys }));
});
const attacker = countingServer((res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ keys: [attackerJwk] }));
});

interface Pair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  jwk: JWK;
}
let rs: Pair;
let es: Pair;
let ed: Pair;
let evil: Pair;
let attackerJwk: JWK;

async function pair(alg: string, kid: string): Promise<Pair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { publicKey, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}

const nowSec = () => Math.floor(Date.now() / 1000);

interface SignOptions {
  alg?: string;
  kid?: string | undefined;
  key?: CryptoKey | Uint8Array;
  header?: Record<string, unknown>;
}
function sign(claims: JWTPayload = {}, options: SignOptions = {}): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const now = nowSec();
  const body = { iss: ISS, aud: AUD, sub: 'user-1', iat: now, exp: now + 600, ...claims };
  const kid = 'kid' in options ? options.kid : 'rs-1';
  return new SignJWT(body)
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }), ...options.header })
    .sign(options.key ?? rs.privateKey);
}

const b64json = (value: unknown) => base64url.encode(JSON.stringify(value));
// The same RSA private key, imported for RSA-PSS (WebCrypto keys are bound to one algorithm).
const asPs256 = async (key: CryptoKey) => importPKCS8(await exportPKCS8(key), 'PS256');

const auths: JwtAuthenticator[] = [];
function make(options: Partial<JwtOptions> = {}): JwtAuthenticator {
  const auth = jwtAuthenticator({ jwks: { url: idp.url('/jwks') }, issuer: ISS, audience: AUD, ...options });
  auths.push(auth);
  return auth;
}

async function refusal(promise: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (!isGatehouseError(error)) throw new Error(`not a Gatehouse error: ${String(error)}`);
    return { code: error.code, status: error.status, reason: refusalReason(error), message: error.message };
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  await Promise.all([idp.listen(), attacker.listen()]);
  [rs, es, ed, evil] = await Promise.all([
    pair('RS256', 'rs-1'),
    pair('ES256', 'es-1'),
    pair('EdDSA', 'ed-1'),
    pair('RS256', 'evil-1'),
  ]);
  attackerJwk = evil.jwk;
  jwksState.keys = [rs.jwk, es.jwk, ed.jwk];
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const auth of auths.splice(0)) auth.close?.();
  jwksState.mode = 'normal';
  jwksState.keys = [rs.jwk, es.jwk, ed.jwk];
  idp.state.requests = 0;
});

afterAll(async () => {
  await Promise.all([idp.close(), attacker.close()]);
});

// ---------------------------------------------------------------------------------------------------

describe('jwtAuthenticator: valid tokens', () => {
  test.each([
    ['RS256', () => rs, 'rs-1'],
    ['ES256', () => es, 'es-1'],
    ['EdDSA', () => ed, 'ed-1'],
  ])('%s token from the JWKS → principal', async (alg, keys, kid) => {
    const auth = make();
    expect(auth.name).toBe('jwt');
    expect(auth.scheme).toBe('Bearer');
    const exp = nowSec() + 300;
    const token = await sign(
      { exp, scope: 'read write read', roles: ['admin'], client_id: 'cli', tenant: 'acme' },
      { alg, kid, key: keys().privateKey },
    );
    const principal = await auth.verify(token);
    expect(principal).toMatchObject({
      id: 'user-1',
      method: 'jwt',
      scopes: ['read', 'write'],
      roles: ['admin'],
      clientId: 'cli',
      expiresAt: exp * 1000,
    });
    expect(principal.tier).toBeUndefined();
    expect(principal.claims).toMatchObject({ iss: ISS, aud: AUD, tenant: 'acme' });
    expect(Object.isFrozen(principal)).toBe(true);
  });

  test('claim mapping: scp fallback, arrays, dotted roles, tier, subject, azp, toPrincipal', async () => {
    const scp = make();
    expect((await scp.verify(await sign({ scp: ['a', 'b'] }))).scopes).toEqual(['a', 'b']);
    expect((await scp.verify(await sign({ scope: 'x', scp: ['a'] }))).scopes).toEqual(['x']);
    expect((await scp.verify(await sign({ azp: 'spa' }))).clientId).toBe('spa');

    const custom = make({
      scopesClaim: 'perms',
      rolesClaim: 'realm_access.roles',
      tierClaim: 'plan',
      subjectClaim: 'uid',
      toPrincipal: (claims) => ({ tier: `${String(claims['plan'])}!`, method: 'forged', expiresAt: 1 }),
    });
    const token = await sign({
      scp: ['ignored'],
      perms: 'p1 p2',
      realm_access: { roles: ['r1', 'r2'] },
      plan: 'pro',
      uid: 'u-42',
    });
    const principal = await custom.verify(token);
    expect(principal).toMatchObject({ id: 'u-42', scopes: ['p1', 'p2'], roles: ['r1', 'r2'], tier: 'pro!' });
    // method and expiresAt always reflect the verification.
    expect(principal.method).toBe('jwt');
    expect(principal.expiresAt).toBeGreaterThan(Date.now());
  });

  test('toPrincipal: a Gatehouse refusal it throws stands; any other throw is a 500', async () => {
    const refusing = make({
      toPrincipal: () => {
        throw new AuthForbidden('suspended account');
      },
    });
    await expect(refusing.verify(await sign({}))).rejects.toMatchObject({ code: 'GH_AUTH_FORBIDDEN' });
    const broken = make({
      toPrincipal: () => {
        throw new Error('bug');
      },
    });
    await expect(broken.verify(await sign({}))).rejects.toMatchObject({ code: 'GH_AUTH_ERROR' });
  });

  test('audience: a token whose aud array contains ours is accepted; any aud with the dangerous option', async () => {
    const auth = make({ audience: ['https://other', AUD] });
    expect((await auth.verify(await sign({ aud: ['x', AUD] }))).id).toBe('user-1');
    const loose = make({ audience: undefined, dangerouslySkipAudienceCheck: true });
    expect((await loose.verify(await sign({ aud: 'https://someone-else' }))).id).toBe('user-1');
    expect((await loose.verify(await sign({ aud: undefined }))).id).toBe('user-1');
  });

  test('RFC 9068 profile: at+jwt with every required claim', async () => {
    const auth = make({ profile: 'rfc9068' });
    const claims = { client_id: 'cli', jti: 'j-1' };
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      const principal = await auth.verify(await sign(claims, { header: { typ } }));
      expect(principal).toMatchObject({ id: 'user-1', clientId: 'cli' });
    }
    for (const typ of [undefined, 'JWT', 'application/jwt']) {
      const token = await sign(claims, { header: typ === undefined ? {} : { typ } });
      expect(await refusal(auth.verify(token))).toMatchObject({ code: 'GH_AUTH_INVALID', reason: 'claims' });
    }
    for (const missing of ['client_id', 'jti', 'iat', 'sub', 'aud']) {
      const token = await sign({ ...claims, [missing]: undefined }, { header: { typ: 'at+jwt' } });
      expect(await refusal(auth.verify(token))).toMatchObject({ reason: 'claims' });
    }
  });
});

describe('jwtAuthenticator: refusals', () => {
  test('alg none / None with an empty signature → algorithm', async () => {
    const auth = make();
    const payload = b64json({ iss: ISS, aud: AUD, sub: 'x', exp: nowSec() + 60 });
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${b64json({ alg, kid: 'rs-1' })}.${payload}.`;
      expect(await refusal(auth.verify(token))).toMatchObject({
        code: 'GH_AUTH_INVALID',
        reason: 'algorithm',
      });
    }
    // An allowed alg with the signature stripped does not verify.
    const stripped = (await sign()).replace(/[^.]+$/, '');
    expect(await refusal(auth.verify(stripped))).toMatchObject({ reason: 'bad_signature' });
  });

  test('HS256 signed with the RSA public key (PEM bytes as the secret) → algorithm, JWKS and static keys', async () => {
    const pem = await exportSPKI(rs.publicKey);
    const forged = await sign({}, { alg: 'HS256', kid: 'rs-1', key: new TextEncoder().encode(pem) });
    expect(await refusal(make().verify(forged))).toMatchObject({ reason: 'algorithm' });
    const statik = make({ jwks: undefined, keys: [{ key: pem, alg: 'RS256', kid: 'rs-1' }] });
    expect(await refusal(statik.verify(forged))).toMatchObject({ reason: 'algorithm' });
    // Also with the JWK's own bytes as the secret.
    const jwkBytes = new TextEncoder().encode(JSON.stringify(rs.jwk));
    expect(
      await refusal(make().verify(await sign({}, { alg: 'HS256', kid: 'rs-1', key: jwkBytes }))),
    ).toMatchObject({ reason: 'algorithm' });
  });

  test('an algorithm outside the allow-list, and a JWKS key pinned to another alg → refused', async () => {
    const rsOnly = make({ algorithms: ['RS256'] });
    const esToken = await sign({}, { alg: 'ES256', kid: 'es-1', key: es.privateKey });
    expect(await refusal(rsOnly.verify(esToken))).toMatchObject({ reason: 'algorithm' });
    // The RSA key states alg RS256: a PS256 signature by the same key is not accepted.
    jwksState.keys = [{ ...rs.jwk, alg: 'RS256' }];
    const ps = await sign({}, { alg: 'PS256', kid: 'rs-1', key: await asPs256(rs.privateKey) });
    expect(await refusal(make().verify(ps))).toMatchObject({ reason: 'unknown_key' });
  });

  test('a forged signature → bad_signature', async () => {
    const auth = make();
    const forged = await sign({}, { kid: 'rs-1', key: evil.privateKey });
    expect(await refusal(auth.verify(forged))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      reason: 'bad_signature',
    });
    // Same header and signature, payload changed.
    const good = await sign();
    const [h, , s] = good.split('.');
    const tampered = `${h}.${b64json({ iss: ISS, aud: AUD, sub: 'admin', exp: nowSec() + 60 })}.${s}`;
    expect(await refusal(auth.verify(tampered))).toMatchObject({ reason: 'bad_signature' });
  });

  test("kid '../../etc/passwd' and a 10 KB kid → unknown_key; the long one without any fetch", async () => {
    const auth = make({ maxTokenBytes: 65_536 });
    expect(await refusal(auth.verify(await sign({}, { kid: '../../etc/passwd' })))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(idp.state.requests).toBe(1);
    const cold = make({ maxTokenBytes: 65_536 });
    expect(await refusal(cold.verify(await sign({}, { kid: 'k'.repeat(10_240) })))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(idp.state.requests).toBe(1);
    expect(cold.jwks!.stats.fetches).toBe(0);
  });

  test('jku / x5u / jwk headers are never followed: the attacker server gets zero requests', async () => {
    const auth = make();
    const jku = attacker.url('/jwks.json');
    const headers = [
      { jku },
      { x5u: attacker.url('/cert.pem') },
      { jwk: attackerJwk },
      { jku, x5u: attacker.url('/cert.pem'), jwk: attackerJwk },
    ];
    for (const header of headers) {
      const ownKid = await sign({}, { kid: 'evil-1', key: evil.privateKey, header });
      expect(await refusal(auth.verify(ownKid))).toMatchObject({ reason: 'unknown_key' });
      const borrowedKid = await sign({}, { kid: 'rs-1', key: evil.privateKey, header });
      expect(await refusal(auth.verify(borrowedKid))).toMatchObject({ reason: 'bad_signature' });
      const noKid = await sign({}, { kid: undefined, key: evil.privateKey, header });
      expect((await refusal(auth.verify(noKid))).code).toBe('GH_AUTH_INVALID');
    }
    expect(attacker.state.requests).toBe(0);
  });

  test('expired → AuthExpired/expired; nbf in the future → AuthExpired/not_yet_valid', async () => {
    const auth = make();
    expect(await refusal(auth.verify(await sign({ exp: nowSec() - 3600 })))).toMatchObject({
      code: 'GH_AUTH_TOKEN_EXPIRED',
      status: 401,
      reason: 'expired',
    });
    expect(await refusal(auth.verify(await sign({ nbf: nowSec() + 3600 })))).toMatchObject({
      code: 'GH_AUTH_TOKEN_EXPIRED',
      reason: 'not_yet_valid',
    });
  });

  test('clock tolerance edges (default 30 s, and 0)', async () => {
    const T = 1_900_000_000;
    const tokens = {
      expInside: await sign({ iat: T - 100, exp: T - 29 }),
      expEdge: await sign({ iat: T - 100, exp: T - 30 }),
      nbfEdge: await sign({ iat: T, nbf: T + 30, exp: T + 600 }),
      nbfOutside: await sign({ iat: T, nbf: T + 31, exp: T + 600 }),
      expNow: await sign({ iat: T - 100, exp: T }),
      expNext: await sign({ iat: T - 100, exp: T + 1 }),
    };
    const auth = make({ cache: false });
    const strict = make({ cache: false, clockToleranceSec: 0 });
    await auth.jwks!.refresh();
    await strict.jwks!.refresh();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T * 1000);
    expect((await auth.verify(tokens.expInside)).id).toBe('user-1');
    expect(await refusal(auth.verify(tokens.expEdge))).toMatchObject({ reason: 'expired' });
    expect((await auth.verify(tokens.nbfEdge)).id).toBe('user-1');
    expect(await refusal(auth.verify(tokens.nbfOutside))).toMatchObject({ reason: 'not_yet_valid' });
    expect(await refusal(strict.verify(tokens.expNow))).toMatchObject({ reason: 'expired' });
    expect((await strict.verify(tokens.expNext)).id).toBe('user-1');
  });

  test.each([
    ['wrong iss', { iss: 'https://evil.test/' }],
    ['wrong aud', { aud: 'https://other.api' }],
    ['missing iss', { iss: undefined }],
    ['missing aud', { aud: undefined }],
    ['missing exp', { exp: undefined }],
    ['missing sub', { sub: undefined }],
    ['empty sub', { sub: '' }],
    ['exp not a number', { exp: 'tomorrow' as unknown as number }],
  ])('%s → AuthInvalid/claims', async (_name, claims) => {
    expect(await refusal(make().verify(await sign(claims)))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      status: 401,
      reason: 'claims',
    });
  });

  test('requiredClaims are enforced; an infinite exp (1e999) is refused', async () => {
    const auth = make({ requiredClaims: ['tenant'] });
    expect(await refusal(auth.verify(await sign()))).toMatchObject({ reason: 'claims' });
    expect((await auth.verify(await sign({ tenant: 't' }))).id).toBe('user-1');
    const payload = new TextEncoder().encode(`{"iss":"${ISS}","aud":"${AUD}","sub":"x","exp":1e999}`);
    const forever = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'RS256', kid: 'rs-1' })
      .sign(rs.privateKey);
    expect(await refusal(make().verify(forever))).toMatchObject({ reason: 'claims' });
  });

  test('a 100 KB token → too_large before parsing; JWE-shaped and garbage tokens → malformed', async () => {
    const auth = make();
    const huge = `${b64json({ alg: 'RS256', kid: 'rs-1' })}.${'A'.repeat(100_000)}.sig`;
    expect(await refusal(auth.verify(huge))).toMatchObject({ reason: 'too_large' });
    expect(idp.state.requests).toBe(0);
    const jwe = `${b64json({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: 'rs-1' })}.AAAA.AAAA.AAAA.AAAA`;
    for (const token of [
      jwe,
      'garbage',
      '',
      'a.b',
      'a.b.c.d',
      '!!!.###.$$$',
      `${base64url.encode('not json')}.${b64json({ sub: 'x' })}.c2ln`,
      // Properly signed, but with a critical extension nobody here understands.
      await new CompactSign(new TextEncoder().encode(JSON.stringify({ iss: ISS, aud: AUD, sub: 'x' })))
        .setProtectedHeader({ alg: 'RS256', kid: 'rs-1', crit: ['x-unknown'], 'x-unknown': 1 })
        .sign(rs.privateKey, { crit: { 'x-unknown': true } }),
      // Properly signed, but the payload is not a claims object (the signature is checked first).
      await new CompactSign(new TextEncoder().encode('[1,2]'))
        .setProtectedHeader({ alg: 'RS256', kid: 'rs-1' })
        .sign(rs.privateKey),
      `${b64json({ kid: 'rs-1' })}.${b64json({ sub: 'x' })}.c2ln`,
    ]) {
      expect(await refusal(auth.verify(token)), token).toMatchObject({
        code: 'GH_AUTH_INVALID',
        reason: 'malformed',
      });
    }
  });

  test('refusal messages never carry the token or its claims', async () => {
    const auth = make();
    const marker = 'SECRETMARKER';
    const tokens = [
      await sign({ sub: marker, exp: nowSec() - 3600 }),
      await sign({ sub: marker, iss: marker }),
      await sign({ sub: marker }, { key: evil.privateKey }),
      await sign({ sub: marker }, { kid: marker }),
      `${b64json({ alg: 'none', kid: marker })}.${b64json({ sub: marker })}.`,
    ];
    for (const token of tokens) {
      const result = await refusal(auth.verify(token));
      expect(result.message).not.toContain(marker);
      expect(result.message).not.toContain(token.slice(0, 20));
    }
  });
});

describe('jwtAuthenticator: JWKS behaviour', () => {
  test('key rotation: a token with a new kid causes one refetch and verifies', async () => {
    const auth = make({ jwks: { url: idp.url('/jwks'), cooldownMs: 100 } });
    jwksState.keys = [rs.jwk];
    await auth.verify(await sign());
    const next = await pair('RS256', 'rs-2');
    jwksState.keys = [rs.jwk, next.jwk];
    const rotated = await sign({}, { kid: 'rs-2', key: next.privateKey });
    await sleep(120);
    expect((await auth.verify(rotated)).id).toBe('user-1');
    expect(idp.state.requests).toBe(2);
  });

  test('many unknown kids → at most one fetch per cooldown', async () => {
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => sign({}, { kid: `random-${i}` })));
    const known = await sign();
    const auth = make({ jwks: { url: idp.url('/jwks'), cooldownMs: 500 } });
    await auth.verify(known);
    for (const t of tokens) expect((await refusal(auth.verify(t))).reason).toBe('unknown_key');
    expect(idp.state.requests).toBe(1);
    await sleep(520);
    const results = await Promise.all(tokens.map((t) => refusal(auth.verify(t))));
    for (const r of results) expect(r.reason).toBe('unknown_key');
    expect(idp.state.requests).toBe(2);
    for (const t of tokens) expect((await refusal(auth.verify(t))).reason).toBe('unknown_key');
    expect(idp.state.requests).toBe(2);
  });

  test('stale-if-error: JWKS failing or hanging after the first fetch → cached keys still verify', async () => {
    const auth = make({
      cache: false,
      jwks: { url: idp.url('/jwks'), maxAgeMs: 50, cooldownMs: 50, timeoutMs: 200 },
    });
    await auth.verify(await sign());
    for (const mode of ['error', 'hang'] as const) {
      jwksState.mode = mode;
      await sleep(70);
      expect((await auth.verify(await sign())).id).toBe('user-1');
      expect(auth.jwks!.stats.stale).toBe(true);
      expect(await refusal(auth.verify(await sign({}, { kid: 'unknown' })))).toMatchObject({
        reason: 'unknown_key',
      });
      expect((await auth.verify(await sign({}, { alg: 'ES256', kid: 'es-1', key: es.privateKey }))).id).toBe(
        'user-1',
      );
    }
    expect(auth.jwks!.stats.failures).toBeGreaterThanOrEqual(2);
    expect(auth.jwks!.stats.lastError).toBe('timed out after 200 ms');
  });

  test.each(['error', 'garbage', 'hang'] as const)(
    'JWKS %s on first use → AuthUnavailable (503)',
    async (mode) => {
      jwksState.mode = mode;
      const auth = make({ jwks: { url: idp.url('/jwks'), timeoutMs: 150 } });
      expect(await refusal(auth.verify(await sign()))).toMatchObject({
        code: 'GH_AUTH_UNAVAILABLE',
        status: 503,
        reason: 'unavailable',
      });
    },
  );

  test('a token without kid verifies when several keys could fit (each is tried)', async () => {
    const other = await pair('RS256', 'rs-0');
    jwksState.keys = [
      { ...other.jwk, kid: undefined },
      { ...rs.jwk, kid: undefined },
    ];
    const auth = make();
    expect((await auth.verify(await sign({}, { kid: undefined }))).id).toBe('user-1');
    expect(
      await refusal(auth.verify(await sign({}, { kid: undefined, key: evil.privateKey }))),
    ).toMatchObject({
      reason: 'bad_signature',
    });
  });
});

describe('jwtAuthenticator: verified-token cache', () => {
  test('a cache hit does not verify again; failures are never cached', async () => {
    const auth = make();
    const getKey = vi.spyOn(auth.jwks!, 'getKey');
    const token = await sign();
    const first = await auth.verify(token);
    const second = await auth.verify(token);
    expect(second).toBe(first);
    expect(getKey).toHaveBeenCalledTimes(1);
    const bad = await sign({}, { key: evil.privateKey });
    await refusal(auth.verify(bad));
    await refusal(auth.verify(bad));
    expect(getKey).toHaveBeenCalledTimes(3);
  });

  test("a forged token sharing a cached token's signature tail is verified (and refused), never a hit", async () => {
    const auth = make();
    const token = await sign({ sub: 'alice' });
    await auth.verify(token);
    const [header, , signature] = token.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'mallory', exp: 4_000_000_000 })).toString(
      'base64url',
    );
    const forged = `${header}.${forgedPayload}.${signature}`;
    expect(forged.slice(-32)).toBe(token.slice(-32));
    expect(await refusal(auth.verify(forged))).toMatchObject({ reason: 'bad_signature' });
    // The genuine token is still served from the cache.
    const getKey = vi.spyOn(auth.jwks!, 'getKey');
    expect((await auth.verify(token)).id).toBe('alice');
    expect(getKey).not.toHaveBeenCalled();
  });

  test('concurrent verifications of one new token share a single verification', async () => {
    const auth = make();
    const getKey = vi.spyOn(auth.jwks!, 'getKey');
    const token = await sign();
    const principals = await Promise.all(Array.from({ length: 10 }, () => auth.verify(token)));
    expect(new Set(principals).size).toBe(1);
    expect(getKey).toHaveBeenCalledTimes(1);
  });

  test('an entry expires with its token and never outlives exp, even within clock tolerance', async () => {
    const T = 1_900_000_000;
    const token = await sign({ iat: T, exp: T + 10 });
    const auth = make();
    await auth.jwks!.refresh();
    const getKey = vi.spyOn(auth.jwks!, 'getKey');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T * 1000);
    await auth.verify(token);
    vi.setSystemTime((T + 9) * 1000);
    await auth.verify(token);
    expect(getKey).toHaveBeenCalledTimes(1);
    // Past exp but inside the 30 s tolerance: still accepted, but verified every time.
    vi.setSystemTime((T + 10) * 1000);
    await auth.verify(token);
    vi.setSystemTime((T + 12) * 1000);
    await auth.verify(token);
    expect(getKey).toHaveBeenCalledTimes(3);
    vi.setSystemTime((T + 41) * 1000);
    expect(await refusal(auth.verify(token))).toMatchObject({ reason: 'expired' });
  });

  test('an entry lives at most maxTtlMs', async () => {
    const T = 1_900_000_000;
    const token = await sign({ iat: T, exp: T + 3600 });
    const auth = make({ cache: { maxTtlMs: 1000 } });
    await auth.jwks!.refresh();
    const getKey = vi.spyOn(auth.jwks!, 'getKey');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T * 1000);
    await auth.verify(token);
    vi.setSystemTime(T * 1000 + 999);
    await auth.verify(token);
    expect(getKey).toHaveBeenCalledTimes(1);
    vi.setSystemTime(T * 1000 + 1000);
    await auth.verify(token);
    expect(getKey).toHaveBeenCalledTimes(2);
  });

  test('the cache is bounded by max (least recently used goes first); cache: false verifies always', async () => {
    const auth = make({ cache: { max: 2 } });
    const getKey = vi.spyOn(auth.jwks!, 'getKey');
    const [a, b, c] = await Promise.all([sign({ sub: 'a' }), sign({ sub: 'b' }), sign({ sub: 'c' })]);
    await auth.verify(a);
    await auth.verify(b);
    await auth.verify(c);
    expect(getKey).toHaveBeenCalledTimes(3);
    await auth.verify(c);
    await auth.verify(b);
    expect(getKey).toHaveBeenCalledTimes(3);
    await auth.verify(a);
    expect(getKey).toHaveBeenCalledTimes(4);

    const uncached = make({ cache: false });
    const spy = vi.spyOn(uncached.jwks!, 'getKey');
    await uncached.verify(a);
    await uncached.verify(a);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});

describe('jwtAuthenticator: static keys', () => {
  test('PEM, JWK, CryptoKey and HMAC secrets each verify their own algorithm', async () => {
    const secret = randomBytes(32);
    const auth = make({
      jwks: undefined,
      keys: [
        { key: await exportSPKI(rs.publicKey), alg: 'RS256', kid: 'rs-1' },
        { key: es.jwk, alg: 'ES256' },
        { key: ed.publicKey, alg: 'EdDSA', kid: 'ed-1' },
        { key: secret, alg: 'HS256', kid: 'hs' },
      ],
    });
    expect(auth.jwks).toBeUndefined();
    expect((await auth.verify(await sign())).id).toBe('user-1');
    expect((await auth.verify(await sign({}, { alg: 'ES256', kid: 'any', key: es.privateKey }))).id).toBe(
      'user-1',
    );
    expect((await auth.verify(await sign({}, { alg: 'EdDSA', kid: 'ed-1', key: ed.privateKey }))).id).toBe(
      'user-1',
    );
    expect((await auth.verify(await sign({}, { alg: 'HS256', kid: 'hs', key: secret }))).id).toBe('user-1');
    expect(
      await refusal(auth.verify(await sign({}, { alg: 'HS256', kid: 'hs', key: randomBytes(32) }))),
    ).toMatchObject({ reason: 'bad_signature' });
    // RS256 key has kid rs-1: another kid finds no RS256 key.
    expect(await refusal(auth.verify(await sign({}, { kid: 'other' })))).toMatchObject({
      reason: 'unknown_key',
    });
    const ps = await sign({}, { alg: 'PS256', key: await asPs256(rs.privateKey) });
    expect(await refusal(auth.verify(ps))).toMatchObject({ reason: 'algorithm' });
  });

  test('two keys of one alg without kids are both tried', async () => {
    const other = await pair('RS256', 'x');
    const auth = make({
      jwks: undefined,
      keys: [
        { key: other.publicKey, alg: 'RS256' },
        { key: rs.jwk, alg: 'RS256' },
      ],
    });
    expect((await auth.verify(await sign({}, { kid: undefined }))).id).toBe('user-1');
  });
});

describe('jwtAuthenticator: authenticate(exchange)', () => {
  let server: Server;
  let current: JwtAuthenticator;
  let base: string;

  beforeAll(async () => {
    const gateway = new Gateway();
    server = createServer((req, res) => {
      const exchange = new Exchange(req, res, gateway);
      const respond = (body: unknown) => res.end(JSON.stringify(body));
      let result: unknown;
      try {
        result = current.authenticate(exchange);
      } catch (error) {
        respond({ thrown: isGatehouseError(error) ? refusalReason(error) : String(error) });
        return;
      }
      const sync = !(result instanceof Promise);
      Promise.resolve(result).then(
        (principal) => respond({ sync, principal: principal ?? null }),
        (error) => respond({ rejected: isGatehouseError(error) ? refusalReason(error) : String(error) }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const call = async (path: string, headers: Record<string, string> = {}) =>
    (await (await fetch(base + path, { headers })).json()) as Record<string, unknown>;

  test('no credential / another scheme → undefined; Bearer → principal, then a synchronous cache hit', async () => {
    current = make();
    expect(await call('/')).toEqual({ sync: true, principal: null });
    expect(await call('/', { authorization: 'Basic dXNlcjpwYXNz' })).toEqual({ sync: true, principal: null });
    const token = await sign({ scope: 'read' });
    const first = await call('/', { authorization: `Bearer ${token}` });
    expect(first).toMatchObject({
      sync: false,
      principal: { id: 'user-1', scopes: ['read'], method: 'jwt' },
    });
    const second = await call('/', { authorization: `bearer ${token}` });
    expect(second).toMatchObject({ sync: true, principal: { id: 'user-1' } });
  });

  test('refusals surface as thrown or rejected Gatehouse errors', async () => {
    current = make({ maxTokenBytes: 100 });
    expect(await call('/', { authorization: 'Bearer' })).toEqual({ thrown: 'malformed' });
    expect(await call('/', { authorization: `Bearer ${'a'.repeat(101)}` })).toEqual({ thrown: 'too_large' });
    current = make();
    expect(await call('/', { authorization: `Bearer ${await sign({ exp: nowSec() - 3600 })}` })).toEqual({
      rejected: 'expired',
    });
  });

  test('scheme: Token instead of Bearer, case-insensitive; a list accepts each; others stand aside', async () => {
    const token = await sign({ scope: 'read' });
    current = make({ scheme: 'Token' });
    expect(current.scheme).toBe('Token');
    expect(current.schemes).toEqual(['Token']);
    expect(await call('/', { authorization: `Token ${token}` })).toMatchObject({
      principal: { id: 'user-1' },
    });
    expect(await call('/', { authorization: `tOKEN ${token}` })).toMatchObject({
      principal: { id: 'user-1' },
    });
    // Bearer is not this method's scheme any more: no credential of its kind.
    expect(await call('/', { authorization: `Bearer ${token}` })).toEqual({ sync: true, principal: null });
    // A scheme that only starts like ours is another scheme.
    expect(await call('/', { authorization: `Tokens ${token}` })).toEqual({ sync: true, principal: null });
    expect(await call('/', { authorization: 'Token' })).toEqual({ thrown: 'malformed' });
    expect(await call('/', { authorization: 'Token\tabc' })).toEqual({ thrown: 'malformed' });

    current = make({ scheme: ['Bearer', 'Token'] });
    expect(current.scheme).toBe('Bearer');
    for (const scheme of ['Bearer', 'bearer', 'Token', 'TOKEN'])
      expect(await call('/', { authorization: `${scheme} ${token}` })).toMatchObject({
        principal: { id: 'user-1' },
      });
    expect(await call('/', { authorization: `Basic ${token}` })).toEqual({ sync: true, principal: null });
  });

  test('query parameter only when configured; header and query must agree', async () => {
    const token = await sign();
    current = make();
    expect(await call(`/?access_token=${token}`)).toEqual({ sync: true, principal: null });
    current = make({ query: 'access_token' });
    expect(await call(`/?access_token=${token}`)).toMatchObject({ principal: { id: 'user-1' } });
    expect(
      await call(`/?access_token=${token}`, { authorization: `Bearer ${await sign({ sub: 'x' })}` }),
    ).toEqual({
      thrown: 'conflict',
    });
  });
});

describe('jwtAuthenticator: options', () => {
  const problemsOf = (options: unknown) => {
    try {
      jwtAuthenticator(options as JwtOptions);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    throw new Error('expected a ConfigError');
  };

  test('every problem is listed at once, with paths', () => {
    const problems = problemsOf({
      jwks: { url: 'ftp://idp/jwks', maxKeys: 0 },
      algorithms: ['RS256', 'none', 'HS256', 'XS999'],
      clockToleranceSec: 301,
      requiredClaims: ['ok', ''],
      profile: 'oauth',
      scopesClaim: '',
      maxTokenBytes: -5,
      cache: { max: 0, ttl: 5 },
      query: 7,
      toPrincipal: 'nope',
      issuerr: ISS,
    });
    const paths = problems.map((p) => p.slice(0, p.indexOf(':')));
    expect(paths.sort()).toEqual(
      [
        'jwt.issuerr',
        'jwt.jwks.url',
        'jwt.jwks.maxKeys',
        'jwt.algorithms[1]',
        'jwt.algorithms[2]',
        'jwt.algorithms[3]',
        'jwt.issuer',
        'jwt.audience',
        'jwt.clockToleranceSec',
        'jwt.requiredClaims[1]',
        'jwt.profile',
        'jwt.scopesClaim',
        'jwt.maxTokenBytes',
        'jwt.cache.ttl',
        'jwt.cache.max',
        'jwt.query',
        'jwt.toPrincipal',
      ].sort(),
    );
    expect(problems).toContain("jwt.algorithms[1]: 'none' is never accepted");
    expect(problems).toContain('jwt.clockToleranceSec: expected a number ≤ 300, received the number 301');
    expect(problems).toContain(
      'jwt.algorithms[2]: HS256 (a shared secret) cannot come from a JWKS; use `keys`',
    );
    expect(problems).toContain(
      "jwt.algorithms[3]: expected one of 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA' or 'Ed25519', received the string 'XS999'",
    );
    expect(problems).toContain(
      "jwt.profile: expected one of 'jwt' or 'rfc9068', received the string 'oauth'",
    );
    expect(problems).toContain("jwt.issuerr: unknown option; did you mean 'issuer'?");
  });

  test('scheme: a token, or a list of distinct tokens', () => {
    const base = { jwks: { url: 'https://x' }, issuer: ISS, audience: AUD };
    expect(problemsOf({ ...base, scheme: 'To ken' })).toEqual([
      'jwt.scheme: expected an auth-scheme: a token such as Bearer or Token, without spaces',
    ]);
    expect(problemsOf({ ...base, scheme: ['Bearer', 'Token', 'bearer'] })).toEqual([
      "jwt.scheme[2]: 'bearer' is listed twice (schemes ignore case)",
    ]);
    expect(problemsOf({ ...base, scheme: [] })).toEqual(['jwt.scheme: must not be empty']);
    expect(problemsOf({ ...base, schema: 'Token' })).toEqual([
      "jwt.schema: unknown option; did you mean 'scheme'?",
    ]);
  });

  test('key source: exactly one of jwks and keys', () => {
    expect(problemsOf({ issuer: ISS, audience: AUD })).toEqual(['jwt: one of `jwks` or `keys` is required']);
    expect(problemsOf({ issuer: ISS, audience: AUD, jwks: { url: 'https://x' }, keys: [] })).toContain(
      'jwt: set either `jwks` or `keys`, not both',
    );
  });

  test('static keys: alg required, HMAC vs asymmetric mismatches, private keys, weak keys', async () => {
    const pem = await exportSPKI(rs.publicKey);
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const privatePem = await exportPKCS8(privateKey);
    const problems = problemsOf({
      issuer: ISS,
      audience: AUD,
      algorithms: ['RS256'],
      keys: [
        { key: pem },
        { key: pem, alg: 'HS256' },
        { key: randomBytes(32), alg: 'RS256' },
        { key: privatePem, alg: 'RS256' },
        { key: randomBytes(16), alg: 'HS256' },
        { key: es.jwk, alg: 'RS256' },
        { key: 'just-a-string-secret', alg: 'HS256' },
        { key: pem, alg: 'none' },
        { key: { ...es.jwk, alg: 'ES384' }, alg: 'ES256' },
        { key: pem, alg: 'RS256', kid: 'x\ny' },
      ],
    });
    expect(problems).toEqual([
      'jwt.algorithms: applies to `jwks` only; each static key states its own `alg`',
      'jwt.keys[0].alg: required: a static key must state its algorithm',
      'jwt.keys[1].key: HS256 needs a shared secret, not an asymmetric key',
      'jwt.keys[2].key: RS256 needs an asymmetric public key, not a secret',
      'jwt.keys[3].key: is a private key; configure the public key',
      'jwt.keys[4].key: HS256 needs a secret of at least 32 bytes',
      'jwt.keys[5].key: RS256 needs an RSA key (rsaEncryption), got ec',
      'jwt.keys[6].key: must be a PEM public key; pass an HMAC secret as a Uint8Array',
      "jwt.keys[7].alg: 'none' is never accepted",
      "jwt.keys[8].key: JWK states alg 'ES384' but the entry says 'ES256'",
      'jwt.keys[9].kid: must be a non-empty string of at most 256 characters without control characters',
    ]);
    // Secret-shaped JWKs for asymmetric algs are refused too.
    expect(
      problemsOf({ issuer: ISS, audience: AUD, keys: [{ key: { kty: 'oct', k: 'AAAA' }, alg: 'ES256' }] }),
    ).toEqual(['jwt.keys[0].key: ES256 needs an asymmetric public key, not a secret']);
  });

  test('audience: required unless skipped; skipping conflicts with audience and with rfc9068', () => {
    expect(problemsOf({ jwks: { url: 'https://x' }, issuer: ISS })).toEqual(['jwt.audience: is required']);
    expect(
      problemsOf({
        jwks: { url: 'https://x' },
        issuer: ISS,
        audience: AUD,
        dangerouslySkipAudienceCheck: true,
      }),
    ).toEqual(['jwt.audience: cannot be combined with `dangerouslySkipAudienceCheck: true`']);
    expect(
      problemsOf({
        jwks: { url: 'https://x' },
        issuer: [ISS, ''],
        dangerouslySkipAudienceCheck: true,
        profile: 'rfc9068',
      }),
    ).toEqual([
      'jwt.issuer[1]: must not be empty',
      'jwt.dangerouslySkipAudienceCheck: RFC 9068 requires the audience to be checked',
    ]);
  });
});
