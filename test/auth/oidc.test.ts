// gw.auth() against a real OpenID Provider (oidc-provider, in-process), on every framework:
// RFC 9068 JWT access tokens verified through its JWKS, opaque tokens through RFC 7662
// introspection, key rotation, and the JWKS endpoint failing or hanging (stale-if-error).
import { introspectionAuthenticator, jwtAuthenticator } from '@gatehousejs/auth';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAMEWORKS, type RunningApp, startApp } from '../support/apps.js';
import { type OidcHarness, startOidcProvider } from '../support/oidc.js';
import { type RawResponse, request } from '../support/raw-http.js';

let oidc: OidcHarness;

beforeAll(async () => {
  oidc = await startOidcProvider();
});
afterAll(async () => {
  await oidc?.close();
});

interface JwksTuning {
  maxAgeMs?: number;
  cooldownMs?: number;
  timeoutMs?: number;
}

function start(framework: (typeof FRAMEWORKS)[number], jwks: JwksTuning = {}): Promise<RunningApp> {
  return startApp(framework, {
    chain: (gw) => [
      gw.auth({
        methods: [
          jwtAuthenticator({
            jwks: { url: oidc.jwksUri, ...jwks },
            issuer: oidc.issuer,
            audience: oidc.jwtResource,
            profile: 'rfc9068',
            // No skew allowance, so the expiry test need not wait 30 s.
            clockToleranceSec: 0,
          }),
          introspectionAuthenticator({
            endpoint: oidc.introspectionEndpoint,
            clientId: oidc.introspectionClient.clientId,
            clientSecret: oidc.introspectionClient.clientSecret,
            audience: oidc.opaqueResource,
          }),
        ],
        // Both methods read bearer tokens: JWTs everywhere, opaque tokens on /view/opaque.
        default: { methods: ['jwt'] },
        rules: [
          { path: '/view/opaque/*', methods: ['introspection'] },
          { path: '/view/write/*', scopes: ['write'] },
          { path: '/hello', anonymous: true },
        ],
      }),
    ],
  });
}

const get = (app: RunningApp, path: string, token?: string): Promise<RawResponse> =>
  request(app.port, { path, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

const principalOf = (res: RawResponse) => (res.json as { principal?: Record<string, unknown> }).principal;

for (const framework of FRAMEWORKS) {
  describe(`${framework}: gw.auth() with a real OpenID Provider`, () => {
    let app: RunningApp;
    beforeAll(async () => {
      app = await start(framework);
    });
    afterAll(async () => {
      await app?.close();
    });

    test('an RFC 9068 client-credentials token is verified through the JWKS', async () => {
      const token = await oidc.token({ scope: 'read write' });
      const res = await get(app, '/view/x', token);
      expect(res.status, res.body.toString()).toBe(200);
      expect(principalOf(res)).toEqual({
        id: oidc.client.clientId,
        method: 'jwt',
        scopes: ['read', 'write'],
        roles: [],
      });
      expect((await get(app, '/view/write/x', token)).status).toBe(200);
    });

    test('a read-only token is refused on a write route with insufficient_scope', async () => {
      const res = await get(app, '/view/write/x', await oidc.token({ scope: 'read' }));
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']?.[0]).toBe(
        'Bearer realm="gatehouse", error="insufficient_scope", scope="write"',
      );
    });

    test('a token for another resource (audience) is refused', async () => {
      const res = await get(
        app,
        '/view/x',
        await oidc.token({ resource: oidc.opaqueResource, scope: 'read' }),
      );
      expect(res.status).toBe(401);
    });

    test('an opaque token is introspected (RFC 7662); a garbage one is inactive', async () => {
      const opaque = await oidc.token({ resource: oidc.opaqueResource, scope: 'read' });
      expect(opaque.split('.')).toHaveLength(1);
      const ok = await get(app, '/view/opaque/x', opaque);
      expect(ok.status, ok.body.toString()).toBe(200);
      expect(principalOf(ok)).toMatchObject({
        id: oidc.client.clientId,
        method: 'introspection',
        scopes: ['read'],
      });
      const bad = await get(app, '/view/opaque/x', 'not-a-real-token-0123456789');
      expect(bad.status).toBe(401);
      expect((bad.json as { code: string }).code).toBe('GH_AUTH_INVALID');
    });

    test('an expired token is refused', async () => {
      const token = await oidc.token({ scope: 'read', ttlSec: 1 });
      await new Promise((r) => setTimeout(r, 2_100));
      const res = await get(app, '/view/x', token);
      expect(res.status).toBe(401);
      expect((res.json as { code: string }).code).toBe('GH_AUTH_TOKEN_EXPIRED');
    });
  });
}

describe('key rotation and JWKS failures (every framework)', () => {
  test('rotation: a new kid triggers one refetch; tokens of the removed key no longer verify', async () => {
    const apps = await Promise.all(FRAMEWORKS.map((fw) => start(fw, { cooldownMs: 100 })));
    try {
      const before = await oidc.token({ scope: 'read' });
      const unseenOld = await oidc.token({ scope: 'read' });
      for (const app of apps) expect((await get(app, '/view/x', before)).status).toBe(200);
      await oidc.rotate();
      await new Promise((r) => setTimeout(r, 150));
      const after = await oidc.token({ scope: 'read' });
      for (const app of apps) {
        expect((await get(app, '/view/x', after)).status, app.framework).toBe(200);
        // Never verified before, signed by a key the JWKS no longer lists.
        expect((await get(app, '/view/x', unseenOld)).status, app.framework).toBe(401);
      }
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  });

  test('stale-if-error: the JWKS failing keeps known keys verifying; unknown kids are refused; refetches are bounded', async () => {
    const apps = await Promise.all(
      FRAMEWORKS.map((fw) => start(fw, { maxAgeMs: 200, cooldownMs: 60_000, timeoutMs: 500 })),
    );
    try {
      const warm = await oidc.token({ scope: 'read' });
      for (const app of apps) expect((await get(app, '/view/x', warm)).status).toBe(200);
      for (const mode of ['500', 'garbage', 'hang'] as const) {
        oidc.jwksFault(mode);
        await new Promise((r) => setTimeout(r, 250));
        // A token never seen (so not in the verified-token cache) signed by the known key.
        const fresh = await oidc.token({ scope: 'read' });
        for (const app of apps) {
          const res = await get(app, '/view/x', fresh);
          expect(res.status, `${app.framework} while the JWKS answers ${mode}`).toBe(200);
        }
      }
      // The provider rotates while its JWKS is down: the new kid cannot be fetched → 401, not 5xx.
      await oidc.rotate({ keepOld: true });
      oidc.jwksFault('500');
      const rotated = await oidc.token({ scope: 'read' });
      const fetchesBefore = oidc.jwksRequests;
      for (const app of apps) {
        for (let i = 0; i < 5; i++) {
          const res = await get(app, '/view/x', rotated);
          expect(res.status, app.framework).toBe(401);
        }
      }
      // Unknown-kid refetches are rate limited: at most one per app within the cooldown (plus one
      // background refresh each, the keys being older than maxAgeMs).
      expect(oidc.jwksRequests - fetchesBefore).toBeLessThanOrEqual(2 * apps.length);
    } finally {
      oidc.jwksFault('ok');
      await Promise.all(apps.map((a) => a.close()));
    }
  });

  test('a JWKS that hangs on first use answers 503 within the timeout, not a hang', async () => {
    oidc.jwksFault('hang');
    const apps = await Promise.all(FRAMEWORKS.map((fw) => start(fw, { timeoutMs: 300 })));
    try {
      const token = await oidc.token({ scope: 'read' });
      for (const app of apps) {
        const started = Date.now();
        const res = await get(app, '/view/x', token);
        expect(res.status, app.framework).toBe(503);
        expect((res.json as { code: string }).code).toBe('GH_AUTH_UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(3_000);
      }
    } finally {
      oidc.jwksFault('ok');
      await Promise.all(apps.map((a) => a.close()));
    }
  });
});
