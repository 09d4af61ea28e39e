// What Gatehouse adds at the monolith's edge, checked over real sockets: Conduit's tokens verified
// by gw.auth() (the same refusal whichever side serves the route), the identity the services trust
// (forged or missing), rate limits, and the plain monolith's own token check for comparison.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresMissing } from './postgres.js';
import { ADMIN_KEY, type Showcase, setGroupsMode, startShowcase } from './support.js';

const showcase = await startShowcase('gateway');

const now = () => Math.floor(Date.now() / 1000);

/** A compact JWS signed with an Ed25519 key: what a forger with their own key could send. */
function signedJwt(header: object, claims: object, key: KeyObject): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part(header)}.${part(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

if (typeof showcase === 'string') {
  postgresMissing('examples/realworld-monolith/test/gateway.test.ts', showcase);
} else {
  describe('Gatehouse at the edge of the Conduit monolith', () => {
    const sc: Showcase = showcase;
    const api = `${sc.stack.urls.monolith}/api`;
    let token = '';
    let carolId = '';

    beforeAll(async () => {
      const res = await fetch(`${api}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          user: { username: 'carol', email: 'carol@example.test', password: 'pw-123456' },
        }),
      });
      expect(res.status).toBe(201);
      token = ((await res.json()) as { user: { token: string } }).user.token;
      carolId = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub;
    });
    afterAll(async () => {
      await setGroupsMode(sc.stack, 'local');
      await sc.close();
    });

    test('a route that needs a user: 401 problem+json with a Token challenge, the same in local and remote mode', async () => {
      const refusals = [];
      for (const mode of ['local', 'remote'] as const) {
        await setGroupsMode(sc.stack, mode);
        for (const authorization of [undefined, 'Token not-a-jwt', `Token ${token}x`]) {
          const res = await fetch(
            `${api}/articles/feed`,
            authorization ? { headers: { authorization } } : {},
          );
          const body = (await res.json()) as { code: string };
          refusals.push([
            mode,
            res.status,
            res.headers.get('content-type'),
            res.headers.get('www-authenticate'),
            body.code,
          ]);
        }
      }
      await setGroupsMode(sc.stack, 'local');
      const expected = (mode: string) => [
        [mode, 401, 'application/problem+json', 'Token realm="gatehouse"', 'GH_AUTH_REQUIRED'],
        // RFC 6750's error parameter belongs to Bearer; other schemes get the bare challenge.
        [mode, 401, 'application/problem+json', 'Token realm="gatehouse"', 'GH_AUTH_INVALID'],
        [mode, 401, 'application/problem+json', 'Token realm="gatehouse"', 'GH_AUTH_INVALID'],
      ];
      expect(refusals).toEqual([...expected('local'), ...expected('remote')]);
      // Nothing refused at the edge reached a service.
      expect(sc.logs.services).toHaveLength(0);
    });

    test('an open route with a bad token is refused, not served anonymously; another scheme is ignored', async () => {
      const bad = await fetch(`${api}/tags`, { headers: { authorization: 'Token garbage' } });
      expect(bad.status).toBe(401);
      const bearer = await fetch(`${api}/tags`, { headers: { authorization: 'Bearer something' } });
      expect(bearer.status).toBe(200);
      expect(await bearer.json()).toEqual({ tags: [] });
    });

    test('the plain monolith checks tokens itself and answers in the RealWorld error shape', async () => {
      const missing = await fetch(`${sc.plainUrl}/api/articles/feed`);
      expect([missing.status, await missing.text()]).toEqual([
        401,
        '{"errors":{"body":["missing or invalid authorization token"]}}',
      ]);
      const ok = await fetch(`${sc.plainUrl}/api/user`, { headers: { authorization: `Token ${token}` } });
      expect(((await ok.json()) as { user: { username: string; token: string } }).user).toMatchObject({
        username: 'carol',
        token,
      });
    });

    test('services trust only the identity the gateway signed', async () => {
      await setGroupsMode(sc.stack, 'remote');
      try {
        // Through the gateway: the caller is who the token says, on the service.
        const viaGateway = await fetch(`${api}/articles/feed`, {
          headers: { authorization: `Token ${token}` },
        });
        expect([viaGateway.status, await viaGateway.json()]).toEqual([
          200,
          { articles: [], articlesCount: 0 },
        ]);
      } finally {
        await setGroupsMode(sc.stack, 'local');
      }
      const service = `${sc.stack.urls.articles}/api/articles/feed`;
      // Straight to the service: no identity is an anonymous caller (Conduit's own 401 here) …
      const anonymous = await fetch(service);
      expect([anonymous.status, await anonymous.text()]).toEqual([
        401,
        '{"errors":{"body":["missing or invalid authorization token"]}}',
      ]);
      // … an identity signed with the gateway's key is the user it names …
      const claims = (sub: string) => ({
        sub,
        gh_method: 'jwt',
        iss: 'gatehouse',
        aud: 'gatehouse-upstream',
        iat: now(),
        exp: now() + 60,
        jti: sub,
      });
      const header = { alg: 'EdDSA', typ: 'gatehouse-identity+jwt' };
      const genuine = await fetch(service, {
        headers: { 'x-gatehouse-identity': signedJwt(header, claims(carolId), sc.identity.privateKey) },
      });
      expect([genuine.status, await genuine.json()]).toEqual([200, { articles: [], articlesCount: 0 }]);
      // … and the same claims signed with any other key are refused by the service's gw.auth().
      const forger = generateKeyPairSync('ed25519');
      const forged = signedJwt(header, claims(carolId), forger.privateKey);
      const refused = await fetch(service, { headers: { 'x-gatehouse-identity': forged } });
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { code: string }).code).toBe('GH_AUTH_INVALID');
    });

    test('a client cannot send the identity header through the gateway', async () => {
      await setGroupsMode(sc.stack, 'remote');
      try {
        const before = sc.logs.services.length;
        // A made-up identity on an open route: stripped at the edge, so the service sees an
        // anonymous caller and answers (a forged token reaching it would have been a 401).
        const res = await fetch(`${api}/tags`, {
          headers: { 'x-gatehouse-identity': 'eyJhbGciOiJFZERTQSJ9.e30.x' },
        });
        expect([res.status, await res.json()]).toEqual([200, { tags: [] }]);
        expect(sc.logs.services.slice(before).map((l) => l.principal)).toEqual([undefined]);
      } finally {
        await setGroupsMode(sc.stack, 'local');
      }
    });

    test('logins are rate limited per address: 30 a minute, then 429 with Retry-After', async () => {
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 31; i++) {
        const res = await fetch(`${api}/users/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: { email: 'nobody@example.test', password: 'x' } }),
        });
        statuses.push(res.status);
        if (res.status === 429) limited = res;
        else await res.arrayBuffer();
      }
      expect(statuses).toEqual([...Array(30).fill(401), 429]);
      expect(limited!.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await limited!.json()) as { code: string; policy: string }).policy).toBe('login');
      // Other routes keep their own budget for the same caller.
      expect((await fetch(`${api}/tags`)).status).toBe(200);
    });

    test('requests that break openapi.yml are refused at the edge, the same in local and remote mode', async () => {
      const answers = [];
      const before = sc.logs.services.length;
      for (const mode of ['local', 'remote'] as const) {
        await setGroupsMode(sc.stack, mode);
        for (const path of ['/articles?limit=0', '/articles?offset=-1', '/articles?colour=red']) {
          const res = await fetch(`${api}${path}`);
          const body = (await res.json()) as { code: string };
          answers.push([mode, path, res.status, res.headers.get('content-type'), body.code]);
        }
      }
      await setGroupsMode(sc.stack, 'local');
      expect(answers.map(([, ...rest]) => rest)).toEqual(
        [1, 2].flatMap(() =>
          ['/articles?limit=0', '/articles?offset=-1', '/articles?colour=red'].map((path) => [
            path,
            400,
            'application/problem+json',
            expect.stringMatching(/^GH_OPENAPI_/),
          ]),
        ),
      );
      // Refused before routing: the services never saw them, in either mode.
      expect(sc.logs.services.length).toBe(before);
    });

    test('the admin endpoints: health and readiness open, the rest only with the admin key', async () => {
      const admin = `${sc.stack.urls.monolith}/_gatehouse`;
      expect((await fetch(`${admin}/health`)).status).toBe(200);
      expect((await fetch(`${admin}/ready`)).status).toBe(200);
      for (const endpoint of ['routes', 'migration', 'metrics']) {
        const anonymous = await fetch(`${admin}/${endpoint}`);
        const wrongKey = await fetch(`${admin}/${endpoint}`, { headers: { 'x-api-key': 'not-the-key' } });
        const userToken = await fetch(`${admin}/${endpoint}`, {
          headers: { authorization: `Token ${token}` },
        });
        const withKey = await fetch(`${admin}/${endpoint}`, { headers: { 'x-api-key': ADMIN_KEY } });
        expect([anonymous.status, wrongKey.status, userToken.status, withKey.status], endpoint).toEqual([
          401, 401, 401, 200,
        ]);
        expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
      }
      const routes = (await (
        await fetch(`${admin}/migration`, { headers: { 'x-api-key': ADMIN_KEY } })
      ).json()) as {
        routes: Array<{
          name: string;
          mode: string;
          service: string;
          paths: string[];
          promotion?: {
            steps: Array<{ mode: string; weight: number }>;
            holdMs: number;
            next: unknown;
            status: string;
          };
        }>;
      };
      expect(routes.routes.map((r) => [r.name, r.mode, r.service, r.paths])).toEqual([
        ['articles', 'local', 'articles', ['/api/articles/*']],
        ['profiles', 'local', 'profiles', ['/api/profiles/*', '/api/tags']],
      ]);
      // gatehouse.yaml's gated promotion, in force on the profiles group only: its walk, its hold, and
      // where it goes next once the verdict passes (nothing judged yet: too few requests).
      const [articles, profiles] = routes.routes;
      expect(articles!.promotion).toBeUndefined();
      expect(profiles!.promotion).toMatchObject({
        steps: [
          { mode: 'shadow', weight: 0 },
          { mode: 'split', weight: 10 },
          { mode: 'split', weight: 50 },
          { mode: 'remote', weight: 0 },
        ],
        holdMs: 120_000,
        next: { mode: 'shadow' },
        status: 'judging',
      });
    });

    test("the monolith runs on Express 4, its own dependency beside the workspace root's Express 5", () => {
      const fromMonolith = createRequire(new URL('../src/monolith.ts', import.meta.url));
      expect(fromMonolith('express/package.json').version).toMatch(/^4\.(2[1-9]|[3-9][0-9])\./);
      // app.del() exists on Express 4 only (removed in 5): the app under test is an Express 4 app.
      expect(typeof (sc.plain.app as unknown as { del?: unknown }).del).toBe('function');
      expect(typeof (sc.stack.monolith.app as unknown as { del?: unknown }).del).toBe('function');
    });

    test('no unexpected server-side errors on any side', () => {
      expect(sc.errors).toEqual([]);
    });
  });
}
