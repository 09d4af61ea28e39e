// Token introspection against a real RFC 7662 endpoint served by node:http on 127.0.0.1, which this
// file controls (active, inactive, expired, errors, garbage, hangs), counting calls per token and
// checking the client authentication and the form body of every call.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@gatehousejs/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type IntrospectionOptions, introspectionAuthenticator } from './introspection.js';
import { type ProbeServer, refusal, startProbeServer } from './test-probe.js';

// ---------------------------------------------------------------------------------------------------
// The introspection endpoint

const CLIENT_ID = 'gate:house';
const CLIENT_SECRET = 'sé cret/&=';
// RFC 6749 §2.3.1: each part form-urlencoded, then joined with ':' and base64-encoded. Written out by
// hand so that the test does not share the implementation's encoder.
const EXPECTED_BASIC = `Basic ${Buffer.from('gate%3Ahouse:s%C3%A9+cret%2F%26%3D').toString('base64')}`;
const GATEWAY_BEARER = 'Bearer gateway-credential';

interface Behaviour {
  status?: number;
  /** Answered as JSON (with `status`, default 200). */
  json?: unknown;
  /** Answered as-is, with a JSON content type. */
  raw?: string;
  delayMs?: number;
  /** 'headers': never answers; 'body': sends headers and part of the body, never finishes. */
  hang?: 'headers' | 'body';
  /** Answers 307 to this path. */
  redirect?: string;
}

interface Call {
  method: string | undefined;
  path: string | undefined;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
}

const behaviours = new Map<string, Behaviour>();
const calls: Call[] = [];
const callsFor = (token: string) => calls.filter((c) => c.form.get('token') === token).length;
let redirectedTo = 0;

const idp = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (req.url === '/elsewhere') {
    redirectedTo++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ active: true, sub: 'redirected' }));
    return;
  }
  const form = new URLSearchParams(body);
  calls.push({ method: req.method, path: req.url, headers: req.headers, form });
  const authorized =
    req.headers.authorization === EXPECTED_BASIC || req.headers.authorization === GATEWAY_BEARER;
  if (
    req.method !== 'POST' ||
    req.headers['content-type'] !== 'application/x-www-form-urlencoded' ||
    !authorized
  ) {
    res.writeHead(authorized ? 400 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: authorized ? 'invalid_request' : 'invalid_client' }));
    return;
  }
  const behaviour = behaviours.get(form.get('token') ?? '') ?? { json: { active: false } };
  if (behaviour.delayMs !== undefined) await new Promise((done) => setTimeout(done, behaviour.delayMs));
  if (behaviour.hang === 'headers') return;
  if (behaviour.hang === 'body') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"active": tr');
    return;
  }
  if (behaviour.redirect !== undefined) {
    res.writeHead(307, { location: behaviour.redirect });
    res.end();
    return;
  }
  res.writeHead(behaviour.status ?? 200, { 'content-type': 'application/json' });
  res.end(behaviour.raw ?? JSON.stringify(behaviour.json));
});

let endpoint = '';
let tokenCounter = 0;

/** A fresh token (token68) that the endpoint answers with `behaviour`. */
function token(behaviour: Behaviour, label = 'tok'): string {
  const t = `${label}-${++tokenCounter}-${randomUUID()}`;
  behaviours.set(t, behaviour);
  return t;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------------
// The gateway side: a real HTTP server building an Exchange per request (test-probe.ts).

let probeServer: ProbeServer;
const probe: ProbeServer['probe'] = (auth, init) => probeServer.probe(auth, init);

beforeAll(async () => {
  idp.listen(0, '127.0.0.1');
  await once(idp, 'listening');
  endpoint = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/introspect`;
  probeServer = await startProbeServer();
});
afterAll(async () => {
  idp.closeAllConnections();
  await new Promise((done) => idp.close(done));
  await probeServer.close();
});
afterEach(() => {
  vi.useRealTimers();
});

const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

function authenticator(options: Partial<IntrospectionOptions> = {}) {
  return introspectionAuthenticator({
    endpoint,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...options,
  });
}

function configProblems(options: IntrospectionOptions) {
  try {
    introspectionAuthenticator(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

// Only Date is faked: sockets and timeouts keep running on real time.
function fakeClock() {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now());
}

/** Moves the faked clock forward (the answer cache reads Date.now() on every lookup). */
async function advance(ms: number) {
  vi.setSystemTime(Date.now() + ms);
}

// ---------------------------------------------------------------------------------------------------

describe('an active token', () => {
  it('becomes a principal, asking with client_secret_basic and a form body', async () => {
    const exp = nowSeconds() + 600;
    const answer = {
      active: true,
      sub: 'user-42',
      username: 'ana',
      client_id: 'mobile-app',
      scope: 'orders:read orders:write orders:read',
      exp,
      iss: 'https://login.example',
      aud: ['orders-api'],
      ext: { plan: 'gold' },
    };
    const t = token({ json: answer });
    const { principal } = await probe(authenticator(), bearer(t));
    expect(principal).toEqual({
      id: 'user-42',
      method: 'introspection',
      scopes: ['orders:read', 'orders:write'],
      roles: [],
      clientId: 'mobile-app',
      claims: answer,
      expiresAt: exp * 1000,
    });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen((principal!.claims as { ext: object }).ext)).toBe(true);

    const call = calls.findLast((c) => c.form.get('token') === t)!;
    expect(call.method).toBe('POST');
    expect(call.path).toBe('/introspect');
    expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(call.headers.accept).toBe('application/json');
    expect(call.headers.authorization).toBe(EXPECTED_BASIC);
    expect([...call.form.keys()].sort()).toEqual(['token', 'token_type_hint']);
    expect(call.form.get('token_type_hint')).toBe('access_token');
  });

  it('takes the id from sub, else username, else client_id', async () => {
    const auth = authenticator({ cache: false });
    const byUsername = token({ json: { active: true, username: 'ana', client_id: 'app' } });
    const byClient = token({ json: { active: true, client_id: 'app', sub: '' } });
    const nobody = token({ json: { active: true, scope: 'x' } });
    expect((await probe(auth, bearer(byUsername))).principal?.id).toBe('ana');
    expect((await probe(auth, bearer(byClient))).principal).toMatchObject({ id: 'app', clientId: 'app' });
    expect(refusal(await probe(auth, bearer(nobody)))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      reason: 'claims',
    });
  });

  it('reads scopes, roles and tier from configured members (dotted paths)', async () => {
    const auth = authenticator({
      scopesClaim: 'scp',
      rolesClaim: 'realm_access.roles',
      tierClaim: 'ext.tier',
    });
    const t = token({
      json: {
        active: true,
        sub: 's',
        scope: 'ignored',
        scp: ['a', 'b', 'a'],
        realm_access: { roles: ['admin', 'ops'] },
        ext: { tier: 'pro' },
      },
    });
    expect((await probe(auth, bearer(t))).principal).toMatchObject({
      scopes: ['a', 'b'],
      roles: ['admin', 'ops'],
      tier: 'pro',
    });
  });

  it('checks audience (any of several) and issuer', async () => {
    const auth = authenticator({ audience: ['orders-api', 'billing-api'], issuer: 'https://login.example' });
    const good = token({
      json: { active: true, sub: 's', aud: ['other', 'billing-api'], iss: 'https://login.example' },
    });
    const goodString = token({
      json: { active: true, sub: 's', aud: 'orders-api', iss: 'https://login.example' },
    });
    const wrongAud = token({ json: { active: true, sub: 's', aud: 'other', iss: 'https://login.example' } });
    const noAud = token({ json: { active: true, sub: 's', iss: 'https://login.example' } });
    const wrongIss = token({
      json: { active: true, sub: 's', aud: 'orders-api', iss: 'https://evil.example' },
    });
    expect((await probe(auth, bearer(good))).principal?.id).toBe('s');
    expect((await probe(auth, bearer(goodString))).principal?.id).toBe('s');
    for (const t of [wrongAud, noAud, wrongIss]) {
      expect(refusal(await probe(auth, bearer(t)))).toMatchObject({ status: 401, reason: 'claims' });
    }
  });

  it('sends other client credentials through headers, and no hint when told', async () => {
    const auth = introspectionAuthenticator({
      endpoint,
      headers: { Authorization: GATEWAY_BEARER },
      tokenTypeHint: false,
    });
    const t = token({ json: { active: true, sub: 's' } });
    expect((await probe(auth, bearer(t))).principal?.id).toBe('s');
    const call = calls.findLast((c) => c.form.get('token') === t)!;
    expect(call.headers.authorization).toBe(GATEWAY_BEARER);
    expect([...call.form.keys()]).toEqual(['token']);
  });
});

describe('refusals', () => {
  it('refuses an inactive token with 401 inactive', async () => {
    const t = token({ json: { active: false } });
    expect(refusal(await probe(authenticator(), bearer(t)))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      status: 401,
      reason: 'inactive',
    });
  });

  it('refuses an active token whose exp has passed as expired', async () => {
    const t = token({ json: { active: true, sub: 's', exp: nowSeconds() - 10 } });
    expect(refusal(await probe(authenticator(), bearer(t)))).toMatchObject({
      code: 'GH_AUTH_TOKEN_EXPIRED',
      status: 401,
      reason: 'expired',
    });
  });

  it('returns undefined without a bearer token, and reads the query only when configured', async () => {
    const t = token({ json: { active: true, sub: 'q' } });
    expect(await probe(authenticator())).toEqual({ principal: undefined });
    expect(await probe(authenticator(), { headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toEqual({
      principal: undefined,
    });
    expect(await probe(authenticator(), { path: `/?access_token=${t}` })).toEqual({ principal: undefined });
    const viaQuery = await probe(authenticator({ query: 'access_token' }), { path: `/?access_token=${t}` });
    expect(viaQuery.principal?.id).toBe('q');
  });

  it('refuses conflicting and malformed bearer tokens (readBearer) without asking the server', async () => {
    const before = calls.length;
    const auth = authenticator({ query: 'access_token' });
    const a = token({ json: { active: true, sub: 'a' } });
    const b = token({ json: { active: true, sub: 'b' } });
    expect(refusal(await probe(auth, { ...bearer(a), path: `/?access_token=${b}` })).code).toBe(
      'GH_AUTH_CONFLICT',
    );
    expect(
      refusal(await probe(auth, { headers: { Authorization: [`Bearer ${a}`, `Bearer ${a}`] } })).code,
    ).toBe('GH_AUTH_CONFLICT');
    expect(refusal(await probe(auth, { headers: { authorization: 'Bearer a,b' } })).reason).toBe('malformed');
    expect(calls.length).toBe(before);
  });

  it('refuses a token longer than maxTokenBytes without asking the server', async () => {
    const long = 'x'.repeat(65);
    behaviours.set(long, { json: { active: true, sub: 's' } });
    const auth = authenticator({ maxTokenBytes: 64 });
    expect(refusal(await probe(auth, bearer(long)))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      reason: 'too_large',
    });
    expect(callsFor(long)).toBe(0);
    behaviours.set(long.slice(1), { json: { active: true, sub: 'fits' } });
    expect((await probe(auth, bearer(long.slice(1)))).principal?.id).toBe('fits');
  });
});

describe('when the endpoint cannot answer', () => {
  it.each<[string, Behaviour]>([
    ['a 500', { status: 500, json: { error: 'server_error' } }],
    ['a 401 for our credentials', { status: 401, json: { error: 'invalid_client' } }],
    ['a body that is not JSON', { raw: '<html>oops</html>' }],
    ['a JSON array', { raw: '[true]' }],
    ['an answer without a boolean active', { json: { active: 'true', sub: 's' } }],
    ['an active answer with a non-numeric exp', { json: { active: true, sub: 's', exp: 'soon' } }],
    ['a redirect (never followed)', { redirect: '/elsewhere' }],
  ])('answers 503 for %s, caching nothing', async (_, behaviour) => {
    const t = token(behaviour);
    const auth = authenticator();
    for (let i = 1; i <= 2; i++) {
      const outcome = await probe(auth, bearer(t));
      expect(refusal(outcome)).toMatchObject({
        code: 'GH_AUTH_UNAVAILABLE',
        status: 503,
        reason: 'unavailable',
      });
      // The problem shown to clients says nothing about the endpoint.
      expect(outcome.error!.message).toBe('Token introspection unavailable');
      expect(callsFor(t)).toBe(i);
    }
    expect(redirectedTo).toBe(0);
  });

  it('answers 503 when the client credentials are refused', async () => {
    const t = token({ json: { active: true, sub: 's' } });
    const auth = introspectionAuthenticator({ endpoint, clientId: CLIENT_ID, clientSecret: 'wrong' });
    expect(refusal(await probe(auth, bearer(t))).status).toBe(503);
  });

  it('answers 503 when the endpoint is unreachable', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const auth = introspectionAuthenticator({ endpoint: `http://127.0.0.1:${port}/introspect` });
    expect(refusal(await probe(auth, bearer('some-token'))).status).toBe(503);
  });

  it.each(['headers', 'body'] as const)(
    'gives up after timeoutMs when the endpoint hangs (%s)',
    async (hang) => {
      const t = token({ hang });
      const auth = authenticator({ timeoutMs: 200 });
      const started = Date.now();
      const outcome = await probe(auth, bearer(t));
      const elapsed = Date.now() - started;
      expect(refusal(outcome)).toMatchObject({ code: 'GH_AUTH_UNAVAILABLE', status: 503 });
      expect((outcome.error!.cause as Error).message).toBe('no introspection answer within 200 ms');
      // A bound, not a speed measurement: without the timeout this would wait for the test timeout.
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(5000);
    },
  );
});

describe('caching', () => {
  it('asks once for a repeated active token', async () => {
    const t = token({ json: { active: true, sub: 's', exp: nowSeconds() + 600 } });
    const auth = authenticator();
    for (let i = 0; i < 3; i++) expect((await probe(auth, bearer(t))).principal?.id).toBe('s');
    expect(callsFor(t)).toBe(1);
  });

  it('never serves an active answer past its exp, even with a long maxTtlMs', async () => {
    fakeClock();
    const t = token({ json: { active: true, sub: 's', exp: nowSeconds() + 30 } });
    const auth = authenticator({ cache: { maxTtlMs: 3_600_000 } });
    expect((await probe(auth, bearer(t))).principal?.id).toBe('s');
    await advance(20_000);
    expect((await probe(auth, bearer(t))).principal?.id).toBe('s');
    expect(callsFor(t)).toBe(1);
    await advance(11_000);
    expect(refusal(await probe(auth, bearer(t)))).toMatchObject({
      code: 'GH_AUTH_TOKEN_EXPIRED',
      reason: 'expired',
    });
  });

  it('asks again after maxTtlMs when exp is further away (a revoked token stops working)', async () => {
    fakeClock();
    const t = token({ json: { active: true, sub: 's', exp: nowSeconds() + 3600 } });
    const auth = authenticator({ cache: { maxTtlMs: 60_000 } });
    expect((await probe(auth, bearer(t))).principal?.id).toBe('s');
    await advance(59_000);
    expect((await probe(auth, bearer(t))).principal?.id).toBe('s');
    expect(callsFor(t)).toBe(1);
    behaviours.set(t, { json: { active: false } });
    await advance(2_000);
    expect(refusal(await probe(auth, bearer(t))).reason).toBe('inactive');
    expect(callsFor(t)).toBe(2);
  });

  it('remembers an inactive answer for negativeTtlMs, then asks again', async () => {
    fakeClock();
    const t = token({ json: { active: false } });
    const auth = authenticator();
    expect(refusal(await probe(auth, bearer(t))).reason).toBe('inactive');
    await advance(4_000);
    expect(refusal(await probe(auth, bearer(t))).reason).toBe('inactive');
    expect(callsFor(t)).toBe(1);
    behaviours.set(t, { json: { active: true, sub: 'now-active' } });
    await advance(1_500);
    expect((await probe(auth, bearer(t))).principal?.id).toBe('now-active');
    expect(callsFor(t)).toBe(2);
  });

  it('asks every time when the cache is off', async () => {
    const t = token({ json: { active: true, sub: 's' } });
    const auth = authenticator({ cache: false });
    await probe(auth, bearer(t));
    await probe(auth, bearer(t));
    expect(callsFor(t)).toBe(2);
  });

  it('coalesces concurrent introspections of the same token', async () => {
    const t = token({ json: { active: true, sub: 's' }, delayMs: 150 });
    const other = token({ json: { active: true, sub: 'o' }, delayMs: 150 });
    const auth = authenticator();
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => probe(auth, bearer(t))),
      probe(auth, bearer(other)),
    ]);
    expect(results.map((r) => r.principal?.id)).toEqual(['s', 's', 's', 's', 's', 'o']);
    expect(callsFor(t)).toBe(1);
    expect(callsFor(other)).toBe(1);
  });

  it('coalesces a failing introspection too, without caching it', async () => {
    const t = token({ status: 500, json: {}, delayMs: 150 });
    const auth = authenticator();
    const results = await Promise.all(Array.from({ length: 4 }, () => probe(auth, bearer(t))));
    for (const r of results) expect(refusal(r).status).toBe(503);
    // Each request gets its own error object.
    expect(new Set(results.map((r) => r.error)).size).toBe(4);
    expect(callsFor(t)).toBe(1);
    await probe(auth, bearer(t));
    expect(callsFor(t)).toBe(2);
  });
});

describe('options', () => {
  it('lists every problem at once', () => {
    expect(
      configProblems({
        endpoint: 'ftp://login.example/introspect',
        clientId: 'id',
        headers: {
          authorization: 'Bearer x',
          'content-type': 'text/plain',
          'bad name': 'v',
          'x-ok': 'a\r\nb',
        },
        tokenTypeHint: '',
        timeoutMs: 0,
        audience: [],
        issuer: '',
        cache: { max: 0, maxTtlMs: -1, negativeTtlMs: 1.5 },
        query: '',
        scopesClaim: '',
        maxTokenBytes: Number.NaN,
        fetch: 'fetch' as never,
        extra: true,
      } as IntrospectionOptions),
    ).toEqual([
      'introspection.clientSecret: give clientId and clientSecret together',
      'introspection.endpoint: expected an http or https URL, not ftp:',
      'introspection.headers.authorization: conflicts with clientId/clientSecret (HTTP Basic)',
      'introspection.headers["content-type"]: is set by the authenticator',
      'introspection.headers["bad name"]: is not a valid header name',
      'introspection.headers["x-ok"]: must be a string without control characters',
      'introspection.tokenTypeHint: must not be empty',
      'introspection.timeoutMs: expected a number > 0, received the number 0',
      'introspection.audience: must not be empty',
      'introspection.issuer: must not be empty',
      'introspection.cache.max: expected a number > 0, received the number 0',
      'introspection.cache.maxTtlMs: expected a number > 0, received the number -1',
      'introspection.cache.negativeTtlMs: expected an integer, received the number 1.5',
      'introspection.query: must not be empty',
      'introspection.scopesClaim: must not be empty',
      'introspection.maxTokenBytes: expected an integer, received the number NaN',
      "introspection.fetch: expected a fetch function, received the string 'fetch'",
      'introspection.extra: unknown option; expected one of endpoint, clientId, clientSecret, headers, tokenTypeHint, timeoutMs, audience, issuer, cache, query, scopesClaim, rolesClaim, tierClaim, maxTokenBytes, fetch',
    ]);
  });

  it('requires an endpoint without embedded credentials', () => {
    expect(configProblems({} as IntrospectionOptions)).toEqual([
      'introspection.endpoint: required: expected a string',
    ]);
    expect(configProblems({ endpoint: 'not a url' })).toEqual([
      'introspection.endpoint: expected an absolute http or https URL',
    ]);
    // A URL object is taken as its text, with the same checks.
    expect(configProblems({ endpoint: new URL('https://u:p@login.example/x') })).toEqual([
      'introspection.endpoint: must not carry credentials; use clientId and clientSecret, or headers',
    ]);
    const problems = configProblems({ endpoint: 'https://user:hunter2@login.example/introspect' });
    expect(problems).toEqual([
      'introspection.endpoint: must not carry credentials; use clientId and clientSecret, or headers',
    ]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('refuses an Authorization header together with clientId', () => {
    expect(
      configProblems({ endpoint, clientId: 'a', clientSecret: 'b', headers: { Authorization: 'Bearer x' } }),
    ).toEqual(['introspection.headers.Authorization: conflicts with clientId/clientSecret (HTTP Basic)']);
  });
});
