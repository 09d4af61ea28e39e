// End to end, over real sockets: a Gatehouse gateway authenticates the caller and forwards a signed
// identity (forward.token) to a service that runs Gatehouse itself and trusts that identity with
// identityAuthenticator — every gateway framework against every service framework (Express 5 and 4,
// Koa 3 and 2). The service's own header hygiene strips x-gatehouse-identity like any client header;
// the signature is what makes the gateway's copy trustworthy, and a client's copy never gets through.
import { generateKeyPairSync } from 'node:crypto';
import { identityAuthenticator, jwtAuthenticator } from '@gatehousejs/auth';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, FRAMEWORKS, type Framework, type RunningApp, startApp } from '../support/apps.js';
import { request } from '../support/raw-http.js';

const ISSUER = 'https://idp.forwarding.test';
const AUDIENCE = 'urn:forwarding:api';
const identityKeys = generateKeyPairSync('ed25519');
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const publicJwk = { ...(await exportJWK(publicKey)), kid: 'fw-1', alg: 'ES256' };
const now = Math.floor(Date.now() / 1000);
const reader = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', scope: 'read', roles: ['ops'] })
  .setProtectedHeader({ alg: 'ES256', kid: 'fw-1' })
  .setIssuedAt(now)
  .setExpirationTime(now + 3600)
  .sign(privateKey);

// Both sides let /view/<service>/open/* through without credentials.
const open = { path: '/view/:service/open/*', anonymous: true } as const;

const services = {} as Record<Framework, RunningApp>;
const gateways = {} as Record<Framework, RunningApp>;

beforeAll(async () => {
  for (const fw of FRAMEWORKS) {
    services[fw] = await startApp(fw, {
      chain: (gw) => [
        gw.auth({
          methods: [identityAuthenticator({ key: identityKeys.publicKey, alg: 'EdDSA' })],
          rules: [
            { path: '/hello', anonymous: true },
            open,
            { path: '/view/:service/ops/*', roles: ['ops'] },
          ],
        }),
      ],
    });
  }
  for (const fw of FRAMEWORKS) {
    gateways[fw] = await startApp(fw, {
      config: {
        services: Object.fromEntries(
          FRAMEWORKS.map((svc) => [svc, { url: `http://127.0.0.1:${services[svc].port}` }]),
        ),
      },
      chain: (gw) => [
        gw.auth({
          methods: [
            jwtAuthenticator({
              keys: [{ key: publicJwk, alg: 'ES256', kid: 'fw-1' }],
              issuer: ISSUER,
              audience: AUDIENCE,
            }),
          ],
          rules: [{ path: '/hello', anonymous: true }, open],
          forward: { token: { key: identityKeys.privateKey, alg: 'EdDSA' } },
        }),
        ...FRAMEWORKS.map((svc) =>
          gw.route({ name: `to-${svc}`, path: `/view/${svc}/*`, service: svc, mode: 'remote' }),
        ),
      ],
    });
  }
}, 30_000);

afterAll(async () => {
  await closeAll(gateways);
  await closeAll(services);
});

interface View {
  principal?: { id: string; method: string; scopes: string[]; roles: string[] };
  headers: Record<string, string>;
}

describe.each(FRAMEWORKS)('gateway on %s', (gatewayFw) => {
  describe.each(FRAMEWORKS)('→ service on %s', (serviceFw) => {
    const call = (path: string, headers: Record<string, string> = {}) =>
      request(gateways[gatewayFw].port, { path: `/view/${serviceFw}${path}`, headers });

    it("the service's handler gets the principal the gateway authenticated, not the token", async () => {
      const res = await call('/x', { authorization: `Bearer ${reader}` });
      expect(res.status, res.body.toString()).toBe(200);
      const view = res.json as View;
      expect(view.principal).toEqual({ id: 'alice', method: 'jwt', scopes: ['read'], roles: ['ops'] });
      expect(view.headers['x-gatehouse-identity']).toBeUndefined();
    });

    it("a role in the caller's token admits at the service's own rule", async () => {
      const res = await call('/ops/x', { authorization: `Bearer ${reader}` });
      expect(res.status, res.body.toString()).toBe(200);
    });

    it("a client's forged identity dies at the gateway: the service sees no principal", async () => {
      const res = await call('/open/x', { 'x-gatehouse-identity': 'forged', 'x-user-id': 'root' });
      expect(res.status, res.body.toString()).toBe(200);
      const view = res.json as View;
      expect(view.principal).toBeUndefined();
      expect(view.headers['x-gatehouse-identity']).toBeUndefined();
      expect(view.headers['x-user-id']).toBeUndefined();
    });

    it('without the gateway, the service refuses a forged identity and requires one', async () => {
      const forged = await request(services[serviceFw].port, {
        path: `/view/${serviceFw}/x`,
        headers: { 'x-gatehouse-identity': 'forged' },
      });
      expect(forged.status).toBe(401);
      expect((forged.json as { code: string }).code).toBe('GH_AUTH_INVALID');
      const none = await request(services[serviceFw].port, { path: `/view/${serviceFw}/x` });
      expect(none.status).toBe(401);
      expect((none.json as { code: string }).code).toBe('GH_AUTH_REQUIRED');
    });
  });
});
