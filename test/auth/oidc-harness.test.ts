// Proves the OpenID Provider harness issues genuine tokens and that its fault injection behaves, so
// auth tests built on it fail for their own reasons rather than the harness's.
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
} from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OidcHarness, startOidcProvider } from '../support/oidc.js';

let oidc: OidcHarness;

beforeAll(async () => {
  oidc = await startOidcProvider();
});

afterAll(async () => {
  await oidc?.close();
});

async function introspect(token: string, authorization = oidc.introspectionClient.authorization) {
  const res = await fetch(oidc.introspectionEndpoint, {
    method: 'POST',
    headers: { authorization },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function jwksKids(): Promise<string[]> {
  const res = await fetch(oidc.jwksUri);
  expect(res.status).toBe(200);
  const { keys } = (await res.json()) as { keys: JWK[] };
  for (const key of keys) expect(key.d, 'the JWKS must publish no private part').toBeUndefined();
  return keys.map((k) => k.kid!);
}

describe('startOidcProvider', () => {
  test('endpoints are on the loopback issuer and match its discovery document', async () => {
    expect(oidc.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(oidc.issuer).toBe(`http://127.0.0.1:${oidc.port}`);
    const res = await fetch(`${oidc.issuer}/.well-known/openid-configuration`);
    const discovery = (await res.json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: oidc.issuer,
      jwks_uri: oidc.jwksUri,
      token_endpoint: oidc.tokenEndpoint,
      introspection_endpoint: oidc.introspectionEndpoint,
    });
    expect(discovery['grant_types_supported']).toContain('client_credentials');
  });

  test('a JWT access token carries the RFC 9068 header and claims', async () => {
    const token = await oidc.token({ resource: oidc.jwtResource, scope: 'read write' });
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: oidc.kid });

    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: oidc.issuer,
      aud: oidc.jwtResource,
      client_id: oidc.client.clientId,
      sub: oidc.client.clientId,
      scope: 'read write',
    });
    expect(typeof claims.jti).toBe('string');
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(60);
  });

  test('it verifies against the remote JWKS', async () => {
    const token = await oidc.token({ resource: oidc.jwtResource, scope: 'admin' });
    const jwks = createRemoteJWKSet(new URL(oidc.jwksUri));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: oidc.issuer,
      audience: oidc.jwtResource,
      typ: 'at+jwt',
    });
    expect(protectedHeader.kid).toBe(oidc.kid);
    expect(payload['scope']).toBe('admin');
  });

  test('without a resource the token is for the JWT resource; unknown resources are refused', async () => {
    const claims = decodeJwt(await oidc.token({ scope: 'read' }));
    expect(claims.aud).toBe(oidc.jwtResource);
    await expect(oidc.token({ resource: 'urn:nobody:here' })).rejects.toThrow(/400.*invalid_target/);
  });

  test('scopes the resource server does not know are left out of the token', async () => {
    const claims = decodeJwt(await oidc.token({ scope: 'read delete' }));
    expect(claims.scope).toBe('read');
  });

  test('the token lifetime can be shortened per token', async () => {
    const claims = decodeJwt(await oidc.token({ ttlSec: 2 }));
    expect(claims.exp! - claims.iat!).toBe(2);
    await expect(oidc.token({ ttlSec: 0 })).rejects.toThrow(/ttlSec must be a positive integer/);
  });

  test('an opaque token introspects as active; a garbage one as inactive', async () => {
    const token = await oidc.token({ resource: oidc.opaqueResource, scope: 'read' });
    expect(token.split('.')).toHaveLength(1);

    const active = await introspect(token);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({
      active: true,
      client_id: oidc.client.clientId,
      aud: oidc.opaqueResource,
      scope: 'read',
      iss: oidc.issuer,
      token_type: 'Bearer',
    });
    expect(typeof active.body['exp']).toBe('number');

    const garbage = await introspect('not-a-token-at-all');
    expect(garbage).toEqual({ status: 200, body: { active: false } });
  });

  test('introspection refuses a caller with the wrong secret', async () => {
    const token = await oidc.token({ resource: oidc.opaqueResource });
    const wrong = `Basic ${Buffer.from(`${oidc.introspectionClient.clientId}:nope`).toString('base64')}`;
    const res = await introspect(token, wrong);
    expect(res.status).toBe(401);
    expect(res.body['error']).toBe('invalid_client');
  });

  test('no request so far made the provider fail', () => {
    expect(oidc.serverErrors).toEqual([]);
  });
});

describe('JWKS fault injection', () => {
  test('each mode behaves and every request is counted', async () => {
    const before = oidc.jwksRequests;
    try {
      oidc.jwksFault('500');
      const failed = await fetch(oidc.jwksUri);
      expect(failed.status).toBe(500);
      await failed.arrayBuffer();

      oidc.jwksFault('garbage');
      const garbage = await fetch(oidc.jwksUri);
      expect(garbage.status).toBe(200);
      const text = await garbage.text();
      expect(() => JSON.parse(text)).toThrow(SyntaxError);

      oidc.jwksFault('hang');
      const abort = AbortSignal.timeout(500);
      await expect(fetch(oidc.jwksUri, { signal: abort })).rejects.toThrow(/abort|timeout/i);

      oidc.jwksFault('ok');
      expect(await jwksKids()).toEqual([oidc.kid]);
      expect(oidc.jwksRequests - before).toBe(4);
    } finally {
      oidc.jwksFault('ok');
    }
  });

  test('other routes are not affected by a JWKS fault', async () => {
    try {
      oidc.jwksFault('500');
      const token = await oidc.token();
      expect(decodeProtectedHeader(token).kid).toBe(oidc.kid);
    } finally {
      oidc.jwksFault('ok');
    }
  });
});

describe('key rotation', () => {
  test('rotate() restarts on the same port with a new kid; old tokens no longer verify', async () => {
    const port = oidc.port;
    const oldKid = oidc.kid;
    const oldToken = await oidc.token({ scope: 'read' });
    const opaque = await oidc.token({ resource: oidc.opaqueResource });

    await oidc.rotate();
    expect(oidc.port).toBe(port);
    expect(oidc.kid).not.toBe(oldKid);
    expect(await jwksKids()).toEqual([oidc.kid]);

    const newToken = await oidc.token({ scope: 'read' });
    expect(decodeProtectedHeader(newToken).kid).toBe(oidc.kid);

    // A fresh key set, as a verifier would build after the rotation.
    const jwks = createRemoteJWKSet(new URL(oidc.jwksUri));
    await expect(jwtVerify(newToken, jwks, { issuer: oidc.issuer })).resolves.toBeDefined();
    await expect(jwtVerify(oldToken, jwks)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });

    // The token store outlives the restart.
    expect((await introspect(opaque)).body['active']).toBe(true);
  });

  test('rotate({ keepOld }) publishes both keys and signs with the new one', async () => {
    const oldKid = oidc.kid;
    const oldToken = await oidc.token();
    await oidc.rotate({ keepOld: true });
    expect(await jwksKids()).toEqual([oidc.kid, oldKid]);
    expect(decodeProtectedHeader(await oidc.token()).kid).toBe(oidc.kid);
    const jwks = createRemoteJWKSet(new URL(oidc.jwksUri));
    await expect(jwtVerify(oldToken, jwks, { audience: oidc.jwtResource })).resolves.toBeDefined();
  });

  test('rotate({ keys }) uses the given key; without kid or alg it gets its thumbprint and ES256', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    await oidc.rotate({ keys: [jwk] });
    expect(oidc.kid).toBe(await calculateJwkThumbprint(jwk));
    const token = await oidc.token();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: oidc.kid, typ: 'at+jwt' });
    const jwks = createRemoteJWKSet(new URL(oidc.jwksUri));
    await expect(jwtVerify(token, jwks)).resolves.toBeDefined();
    expect(oidc.signingKeys[0]).toMatchObject({ kid: oidc.kid, d: jwk.d });
  });

  test('rotate() keeps the connections, the fault mode and the counter; close() ends hung requests', async () => {
    const own = await startOidcProvider();
    try {
      own.jwksFault('hang');
      const pending = fetch(own.jwksUri);
      // Let the request reach the server before rotating.
      await expect.poll(() => own.jwksRequests).toBe(1);
      await own.rotate();
      await expect(fetch(own.jwksUri, { signal: AbortSignal.timeout(300) })).rejects.toThrow(
        /abort|timeout/i,
      );
      expect(own.jwksRequests).toBe(2);
      await own.close();
      await expect(pending).rejects.toThrow(TypeError);
    } finally {
      await own.close();
    }
  });
});

describe('options', () => {
  test('given keys and accessTokenTtlSec are used', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'given-key', alg: 'RS256' };
    const other = await startOidcProvider({ keys: [jwk], accessTokenTtlSec: 42 });
    try {
      expect(other.port).not.toBe(oidc.port);
      const token = await other.token({ scope: 'write' });
      expect(decodeProtectedHeader(token).kid).toBe('given-key');
      const claims = decodeJwt(token);
      expect(claims.exp! - claims.iat!).toBe(42);
      expect(claims.iss).toBe(other.issuer);
    } finally {
      await other.close();
    }
  });

  test('invalid options and keys are refused', async () => {
    await expect(startOidcProvider({ accessTokenTtlSec: 1.5 })).rejects.toThrow(/accessTokenTtlSec/);
    await expect(startOidcProvider({ keys: [] })).rejects.toThrow(/at least one signing key/);
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    await expect(startOidcProvider({ keys: [await exportJWK(publicKey)] })).rejects.toThrow(/\.d /);
  });
});
