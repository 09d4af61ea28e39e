import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, isGatehouseError } from '@gatehousejs/core';
import { exportJWK, generateKeyPair, generateSecret, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { refusalReason } from './errors.js';
import { createJwksCache, type JwksCache, type JwksOptions } from './jwks.js';

// A JWKS endpoint whose behaviour each test switches, counting the requests it receives.
type Mode = 'normal' | 'error' | 'garbage' | 'not-jwks' | 'hang' | 'redirect' | 'chunked-big';
function jwksServer() {
  const state = { mode: 'normal' as Mode, body: { keys: [] as JWK[] } as unknown, requests: 0 };
  const server = createServer((_req, res) => {
    state.requests++;
    switch (state.mode) {
      case 'normal':
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(state.body));
        return;
      case 'error':
        res.statusCode = 500;
        res.end('{"error":"boom"}');
        return;
      case 'garbage':
        res.end('<html>not json');
        return;
      case 'not-jwks':
        res.end('{"issuer":"https://idp.example"}');
        return;
      case 'redirect':
        res.statusCode = 302;
        res.setHeader('location', 'http://127.0.0.1:1/');
        res.end();
        return;
      case 'chunked-big':
        // No Content-Length: only counting the streamed bytes catches it.
        res.write(`{"keys":[], "pad":"${'x'.repeat(4096)}`);
        res.end('"}');
        return;
      case 'hang':
        return; // never answers
    }
  });
  return {
    state,
    get url() {
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    },
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const idp = jwksServer();
let rsa: JWK;
let ec: JWK;
const caches: JwksCache[] = [];
const make = (options: Partial<JwksOptions> = {}) => {
  const cache = createJwksCache({ url: idp.url, ...options });
  caches.push(cache);
  return cache;
};

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    return { code: error.code, status: error.status, reason: refusalReason(error), message: error.message };
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  await idp.listen();
  rsa = {
    ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey)),
    kid: 'rsa-1',
  };
  ec = {
    ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)),
    kid: 'ec-1',
    alg: 'ES256',
  };
});

afterEach(() => {
  for (const cache of caches.splice(0)) cache.close();
  idp.state.mode = 'normal';
  idp.state.body = { keys: [rsa, ec] };
  idp.state.requests = 0;
});

afterAll(() => idp.close());

describe('createJwksCache: fetching', () => {
  test('fetches on first use, resolves keys by kid and alg, and reports stats', async () => {
    idp.state.body = { keys: [rsa, ec] };
    const jwks = make();
    expect(idp.state.requests).toBe(0);
    const key = await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    expect(key.type).toBe('public');
    expect((key.algorithm as { name: string }).name).toBe('RSASSA-PKCS1-v1_5');
    const ecKey = await jwks.getKey({ alg: 'ES256', kid: 'ec-1' });
    expect((ecKey.algorithm as { name: string }).name).toBe('ECDSA');
    expect(idp.state.requests).toBe(1);
    expect(jwks.stats).toMatchObject({ fetches: 1, failures: 0, keyCount: 2, stale: false, fetching: false });
    expect(typeof jwks.stats.lastSuccess).toBe('number');
    expect(jwks.kids()).toEqual(['rsa-1', 'ec-1']);
  });

  test('concurrent first uses share one request', async () => {
    idp.state.body = { keys: [rsa, ec] };
    const jwks = make();
    const keys = await Promise.all(
      Array.from({ length: 25 }, () => jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })),
    );
    expect(keys).toHaveLength(25);
    expect(idp.state.requests).toBe(1);
  });

  test('uses the injected fetch', async () => {
    idp.state.body = { keys: [rsa] };
    const calls: string[] = [];
    const jwks = make({
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    expect(calls).toEqual([idp.url]);
  });

  test('a JWK whose own alg differs from the header is not used (alg pinning)', async () => {
    idp.state.body = { keys: [ec] };
    const jwks = make();
    expect(await refusal(jwks.getKey({ alg: 'ES384', kid: 'ec-1' }))).toMatchObject({
      reason: 'unknown_key',
    });
  });

  test('private and symmetric members of a published set are never used', async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'leaked' };
    const secret = { ...(await exportJWK(await generateSecret('HS256', { extractable: true }))), kid: 'oct' };
    idp.state.body = { keys: [rsa, privateJwk, secret] };
    const jwks = make();
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    expect(jwks.stats.keyCount).toBe(1);
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'leaked' }))).toMatchObject({
      reason: 'unknown_key',
    });
    // HMAC can never resolve from a JWKS, even for a kid that is present.
    expect(await refusal(jwks.getKey({ alg: 'HS256', kid: 'oct' }))).toMatchObject({ reason: 'algorithm' });
    expect(await refusal(jwks.getKey({ alg: 'none' }))).toMatchObject({ reason: 'algorithm' });
  });
});

describe('createJwksCache: kids', () => {
  test('a long or control-character kid is refused without any fetch', async () => {
    const jwks = make();
    for (const kid of ['k'.repeat(10_000), 'k'.repeat(257), 'a\nb', 'a\u0000b', 'a\u007fb']) {
      expect(await refusal(jwks.getKey({ alg: 'RS256', kid }))).toMatchObject({
        code: 'GH_AUTH_INVALID',
        reason: 'unknown_key',
      });
    }
    expect(idp.state.requests).toBe(0);
    // 256 characters is still a kid worth looking up.
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'k'.repeat(256) }))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(idp.state.requests).toBe(1);
  });

  test('a path-like kid is only a lookup key', async () => {
    const jwks = make();
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: '../../etc/passwd' }))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(idp.state.requests).toBe(1);
  });

  test('key rotation: a new kid triggers one refetch once the cooldown has passed', async () => {
    idp.state.body = { keys: [rsa] };
    const jwks = make({ cooldownMs: 300 });
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    idp.state.body = { keys: [rsa, ec] };
    // Within the cooldown of the first fetch: rejected at once, no request.
    expect(await refusal(jwks.getKey({ alg: 'ES256', kid: 'ec-1' }))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(idp.state.requests).toBe(1);
    await sleep(320);
    const key = await jwks.getKey({ alg: 'ES256', kid: 'ec-1' });
    expect(key.type).toBe('public');
    expect(idp.state.requests).toBe(2);
    expect(jwks.kids()).toEqual(['rsa-1', 'ec-1']);
  });

  test('many unknown kids cause at most one fetch per cooldown', async () => {
    idp.state.body = { keys: [rsa] };
    const jwks = make({ cooldownMs: 500 });
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    const burst = () =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) => refusal(jwks.getKey({ alg: 'RS256', kid: `nope-${i}` }))),
      );
    for (const r of await burst()) expect(r.reason).toBe('unknown_key');
    expect(idp.state.requests).toBe(1);
    await sleep(520);
    for (const r of await burst()) expect(r.reason).toBe('unknown_key');
    expect(idp.state.requests).toBe(2);
    for (const r of await burst()) expect(r.reason).toBe('unknown_key');
    expect(idp.state.requests).toBe(2);
  });
});

describe('createJwksCache: failures', () => {
  test.each([
    ['HTTP 500', 'error', /HTTP 500/],
    ['garbage', 'garbage', /not JSON/],
    ['JSON that is not a key set', 'not-jwks', /not a JSON Web Key Set/],
    ['a redirect (never followed)', 'redirect', /HTTP 302/],
    ['a streamed body over maxBytes', 'chunked-big', /larger than 1024 bytes/],
  ] as const)('first use failing with %s → AuthUnavailable', async (_name, mode, lastError) => {
    idp.state.mode = mode;
    const jwks = make({ maxBytes: 1024 });
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'rsa-1' }))).toMatchObject({
      code: 'GH_AUTH_UNAVAILABLE',
      status: 503,
      reason: 'unavailable',
    });
    expect(jwks.stats).toMatchObject({ fetches: 1, failures: 1, keyCount: 0, stale: false });
    expect(jwks.stats.lastError).toMatch(lastError);
    expect(jwks.stats.lastError).not.toContain('127.0.0.1');
  });

  test('a hanging endpoint on first use → AuthUnavailable after timeoutMs', async () => {
    idp.state.mode = 'hang';
    const jwks = make({ timeoutMs: 150 });
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'rsa-1' }))).toMatchObject({ status: 503 });
    expect(jwks.stats.lastError).toBe('timed out after 150 ms');
  });

  test('a declared Content-Length over maxBytes, and too many keys, fail the fetch', async () => {
    idp.state.body = { keys: [rsa, ec] };
    const small = make({ maxBytes: 100 });
    expect(await refusal(small.getKey({ alg: 'RS256', kid: 'rsa-1' }))).toMatchObject({ status: 503 });
    expect(small.stats.lastError).toMatch(/larger than 100 bytes/);
    const few = make({ maxKeys: 1 });
    expect(await refusal(few.getKey({ alg: 'RS256', kid: 'rsa-1' }))).toMatchObject({ status: 503 });
    expect(few.stats.lastError).toBe('key set has 2 keys, more than 1');
  });

  test('without keys, a failed fetch is not retried by every request, and recovery follows', async () => {
    idp.state.mode = 'error';
    const jwks = make();
    await refusal(jwks.getKey({ alg: 'RS256', kid: 'rsa-1' }));
    await refusal(jwks.getKey({ alg: 'RS256', kid: 'rsa-1' }));
    await refusal(jwks.getKey({ alg: 'RS256', kid: 'rsa-1' }));
    expect(idp.state.requests).toBe(1);
    idp.state.mode = 'normal';
    await sleep(1050);
    expect((await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })).type).toBe('public');
    expect(idp.state.requests).toBe(2);
  });

  test('stale-if-error: cached keys keep verifying while refreshes fail; unknown kids are rejected', async () => {
    idp.state.body = { keys: [rsa] };
    const jwks = make({ maxAgeMs: 50, cooldownMs: 50 });
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    idp.state.mode = 'error';
    await sleep(70);
    expect(jwks.stats.stale).toBe(true);
    // Served from the cache at once; the refresh runs in the background.
    expect((await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })).type).toBe('public');
    expect(jwks.stats.fetching).toBe(true);
    await vi.waitFor(() => expect(jwks.stats.fetching).toBe(false));
    expect(jwks.stats).toMatchObject({ fetches: 2, failures: 1, keyCount: 1, stale: true, fetching: false });
    expect((await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })).type).toBe('public');
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'new' }))).toMatchObject({ reason: 'unknown_key' });
    // Once the endpoint is back, the next refresh succeeds and the set is fresh again.
    const lastSuccess = jwks.stats.lastSuccess!;
    idp.state.mode = 'normal';
    await sleep(60);
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    // (Not checked through `stale`: with a 50 ms maxAge the new keys are soon stale again.)
    await vi.waitFor(() => expect(jwks.stats.lastSuccess).toBeGreaterThan(lastSuccess));
  });

  test('stale-if-error with a hanging endpoint: known kids never wait; unknown kids wait at most timeoutMs', async () => {
    idp.state.body = { keys: [rsa] };
    const jwks = make({ maxAgeMs: 50, cooldownMs: 50, timeoutMs: 200 });
    await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' });
    idp.state.mode = 'hang';
    await sleep(70);
    expect((await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })).type).toBe('public');
    expect(jwks.stats.fetching).toBe(true);
    // The unknown kid joins the hanging refresh, which the timeout ends.
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'new' }))).toMatchObject({ reason: 'unknown_key' });
    expect(jwks.stats).toMatchObject({ fetching: false, failures: 1, lastError: 'timed out after 200 ms' });
    expect((await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })).type).toBe('public');
    // A cooldown after the failed refresh, the next use tries again (and the next test starts clean).
    await vi.waitFor(() => expect(idp.state.requests).toBe(3));
  });

  test('refresh() fetches now and reports failure; close() aborts and stops serving keys', async () => {
    idp.state.body = { keys: [rsa] };
    const jwks = make();
    await jwks.refresh();
    await jwks.refresh();
    expect(idp.state.requests).toBe(2);
    idp.state.mode = 'error';
    expect(await refusal(jwks.refresh())).toMatchObject({ status: 503 });
    expect((await jwks.getKey({ alg: 'RS256', kid: 'rsa-1' })).type).toBe('public');
    idp.state.mode = 'hang';
    const hanging = refusal(jwks.refresh());
    await sleep(20);
    jwks.close();
    expect(await hanging).toMatchObject({ status: 503 });
    expect(await refusal(jwks.getKey({ alg: 'RS256', kid: 'rsa-1' }))).toMatchObject({ status: 503 });
  });
});

describe('createJwksCache: options', () => {
  test('every problem is listed at once, with paths', () => {
    let error: unknown;
    try {
      createJwksCache({
        url: 'ftp://idp.example/jwks',
        timeoutMs: -1,
        maxAgeMs: 1.5,
        cooldownMs: 'soon',
        maxKeys: 0,
        maxBytes: Number.NaN,
        fetch: 'no',
        extra: true,
      } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      'jwks.cooldownMs',
      'jwks.extra',
      'jwks.fetch',
      'jwks.maxAgeMs',
      'jwks.maxBytes',
      'jwks.maxKeys',
      'jwks.timeoutMs',
      'jwks.url',
    ]);
    expect(() => createJwksCache({} as never)).toThrow(/jwks\.url: required: expected a string/);
    expect(() => createJwksCache({ url: 'not a url' })).toThrow(
      /jwks\.url: expected an absolute http or https URL$/m,
    );
    expect(() => createJwksCache({ url: 'ftp://idp/jwks' })).toThrow(
      /jwks\.url: expected an http or https URL, not ftp:/,
    );
    // A URL object is taken as its text.
    expect(createJwksCache({ url: new URL('https://idp.example/jwks') }).url).toBe(
      'https://idp.example/jwks',
    );
  });
});
