// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${file:…} references are what these tests write
// A gateway and a service both built from configuration files: the gateway authenticates the caller and
// signs the identity (auth.forward.token), the service trusts it through the `identity` method
// (identityAuthenticator) — its key from a file (${file:…} PEM), inline (a public JWK) or, for HS256,
// the shared secret from a file. Each framework is the gateway once and the service once, in front of
// / behind the other family; a client calling the service directly gets nothing past it.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayFromFile as expressFromFile } from '@gatehousejs/express';
import type { FrameworkGateway } from '@gatehousejs/gateway';
import { gatewayFromFile as koaFromFile } from '@gatehousejs/koa';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Framework, isExpress, type RunningApp, startApp } from '../support/apps.js';
import { request } from '../support/raw-http.js';

const API_KEY = 'partner-key-0123456789abcdef';
const gatewayKeys = generateKeyPairSync('ed25519');
const strangerKeys = generateKeyPairSync('ed25519');
const SECRET = `${randomUUID()}${randomUUID()}`;

/** Each framework as the gateway once and as the service once, the service of the other family. */
const PAIRS: readonly [Framework, Framework][] = [
  ['express5', 'koa3'],
  ['express4', 'koa2'],
  ['koa3', 'express5'],
  ['koa2', 'express4'],
];

/** How the two files name the key: the gateway's forward.token and the service's identity method. */
const KEY_FORMS = {
  'an Ed25519 PEM public key from ${file:…}': {
    token: '{ key: "${file:gateway.pem}", alg: EdDSA }',
    identity: '{ key: "${file:gateway.pub}", alg: EdDSA }',
  },
  'an Ed25519 public JWK written inline': {
    token: '{ key: "${file:gateway.pem}", alg: EdDSA }',
    identity: `{ key: ${JSON.stringify(gatewayKeys.publicKey.export({ format: 'jwk' }))}, alg: EdDSA }`,
  },
  'an HS256 secret from ${file:…} on both sides': {
    token: '{ secret: "${file:identity.secret}", alg: HS256 }',
    identity: '{ secret: "${file:identity.secret}", alg: HS256 }',
  },
} as const;

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-identity-'));
writeFileSync(join(dir, 'gateway.pem'), gatewayKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(dir, 'gateway.pub'), gatewayKeys.publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(join(dir, 'identity.secret'), `${SECRET}\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fromFile(framework: Framework, file: string, options: object): Promise<FrameworkGateway<unknown>> {
  const load = isExpress(framework) ? expressFromFile : koaFromFile;
  return load(file, { watch: false, ...options }) as Promise<FrameworkGateway<unknown>>;
}

/** Starts the app for `framework` with the gateway the file describes mounted first. */
function startFromFile(framework: Framework, name: string, text: string, env: Record<string, string> = {}) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return startApp(framework, {
    gateway: (fw, options) => fromFile(fw, file, { ...options, env }),
    chain: (gw) => [gw.middleware()],
  });
}

interface View {
  principal?: { id: string; method: string; scopes: string[]; roles: string[] };
  headers: Record<string, string>;
}

describe.each(Object.entries(KEY_FORMS))('identity with %s', (form, keys) => {
  describe.each(PAIRS)('gateway on %s → service on %s', (gatewayFw, serviceFw) => {
    let service: RunningApp;
    let gateway: RunningApp;
    beforeAll(async () => {
      const label = `${form.replace(/\W+/g, '-')}-${gatewayFw}-${serviceFw}`;
      service = await startFromFile(
        serviceFw,
        `service-${label}`,
        `
auth:
  methods:
    - identity: ${keys.identity}
  rules:
    - { path: /hello, anonymous: true }
    - { path: /view/ops/*, roles: [ops] }
    - { path: /view/*, methods: [identity] }
`,
      );
      gateway = await startFromFile(
        gatewayFw,
        `gateway-${label}`,
        `
services:
  orders: { url: "\${ORDERS_URL}" }
routes:
  - { name: orders, path: /view/*, service: orders, mode: remote }
auth:
  methods:
    - apiKey: { keys: [{ id: partner, key: ${API_KEY}, scopes: [orders:read], roles: [ops] }] }
  rules:
    - { path: /hello, anonymous: true }
  forward:
    token: ${keys.token}
`,
        { ORDERS_URL: `http://127.0.0.1:${service.port}` },
      );
    });
    afterAll(async () => {
      await gateway?.close();
      await service?.close();
    });

    test("the service's handler gets the principal the gateway authenticated; a role admits at its own rule", async () => {
      const res = await request(gateway.port, { path: '/view/orders/1', headers: { 'x-api-key': API_KEY } });
      expect(res.status, res.body.toString()).toBe(200);
      const view = res.json as View;
      expect(view.principal).toEqual({
        id: 'partner',
        method: 'api-key',
        scopes: ['orders:read'],
        roles: ['ops'],
      });
      // The token itself is stripped by the service's hygiene: the application never sees it.
      expect(view.headers['x-gatehouse-identity']).toBeUndefined();
      const ops = await request(gateway.port, { path: '/view/ops/1', headers: { 'x-api-key': API_KEY } });
      expect(ops.status, ops.body.toString()).toBe(200);
    });

    test('without the gateway the service requires an identity, and refuses a forged or foreign one', async () => {
      const none = await request(service.port, { path: '/view/orders/1' });
      expect([none.status, (none.json as { code: string }).code]).toEqual([401, 'GH_AUTH_REQUIRED']);
      const forged = await request(service.port, {
        path: '/view/orders/1',
        headers: { 'x-gatehouse-identity': 'forged' },
      });
      expect([forged.status, (forged.json as { code: string }).code]).toEqual([401, 'GH_AUTH_INVALID']);
      // Well formed, unexpired, the expected issuer and audience, signed with a key that is not the gateway's.
      const foreign = await new SignJWT({ scope: 'orders:read', roles: ['ops'] })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('root')
        .setIssuer('gatehouse')
        .setAudience('gatehouse-upstream')
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(strangerKeys.privateKey);
      const refused = await request(service.port, {
        path: '/view/ops/1',
        headers: { 'x-gatehouse-identity': foreign },
      });
      expect([refused.status, (refused.json as { code: string }).code]).toEqual([401, 'GH_AUTH_INVALID']);
      // Open paths stay open.
      expect((await request(service.port, { path: '/hello' })).status).toBe(200);
    });
  });
});
