// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${file:…} references are what these tests write
// Sections of a configuration file whose file form differs from the code form, each doing in a running
// gateway what the file says: a signed identity forwarded with a key read from a secret file (an HS256
// secret and an Ed25519 PEM), rate limits kept in a real Redis and shared by two gateways, an OpenAPI
// document and an access log found relative to the file.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdentityVerifier } from '@gatehousejs/auth';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { findRedis, type RedisTarget } from '../support/redis.js';
import { type ConfiguredApp, getJson, startConfigured } from './support.js';

const ON_CI = process.env.CI === 'true';
const KEY = 'partner-key-0123456789';

/** An upstream that remembers the headers of what it received. */
let upstream: Server;
let upstreamUrl: string;
const received: IncomingHttpHeaders[] = [];
beforeAll(async () => {
  upstream = createServer((req, res) => {
    received.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((done) => upstream.close(done));
});

const apps: ConfiguredApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

function directory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sections-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const forwarding = (token: string) => `
services:
  api: { url: "${upstreamUrl}" }
routes:
  - { name: api, path: /api/*, service: api, mode: remote }
auth:
  methods: [{ apiKey: { keys: [{ id: partner, key: ${KEY}, scopes: [orders:read] }] } }]
  default: anonymous
  forward:
    token: ${token}
`;

describe('a signed identity forwarded with a key from a secret file', () => {
  test('HS256: the secret read from ${file:…}; the service verifies the token with it', async () => {
    const secret = randomUUID() + randomUUID();
    const dir = directory({
      'identity.secret': `${secret}\n`,
      'gatehouse.yaml': forwarding('{ alg: HS256, secret: "${file:identity.secret}" }'),
    });
    const app = await startConfigured('express5', { file: join(dir, 'gatehouse.yaml') }, { watch: false });
    apps.push(app);
    received.length = 0;
    expect((await getJson(`${app.url}/api/orders/1`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    const token = received[0]!['x-gatehouse-identity'] as string;
    const verifier = createIdentityVerifier({ key: Buffer.from(secret), alg: 'HS256' });
    expect(await verifier.verify(token)).toMatchObject({ id: 'partner', scopes: ['orders:read'] });
    // The secret never appears in /config (an admin without access gets 403 anyway; this one reads it in-process).
    expect(JSON.stringify(app.gw.configuration?.status())).not.toContain(secret);
  });

  test('EdDSA: a PEM private key read from ${file:…}; the service verifies with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const dir = directory({
      'identity.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      'gatehouse.yaml': forwarding('{ alg: EdDSA, key: "${file:identity.pem}", kid: k1 }'),
    });
    const app = await startConfigured('koa3', { file: join(dir, 'gatehouse.yaml') }, { watch: false });
    apps.push(app);
    received.length = 0;
    expect((await getJson(`${app.url}/api/orders/2`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    const token = received[0]!['x-gatehouse-identity'] as string;
    const verifier = createIdentityVerifier({
      key: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      alg: 'EdDSA',
    });
    expect(await verifier.verify(token)).toMatchObject({ id: 'partner' });
  });
});

test('an OpenAPI document and an access log named relative to the file', async () => {
  const dir = directory({
    'openapi.yaml': readFileSync(new URL('./fixtures/openapi.yaml', import.meta.url), 'utf8'),
    'gatehouse.yaml': `
openapi: { document: openapi.yaml }
accessLog: { destination: logs.jsonl }
`,
  });
  const app = await startConfigured('express4', { file: join(dir, 'gatehouse.yaml') }, { watch: false });
  apps.push(app);
  const refused = await getJson(`${app.url}/api/orders/abc`);
  expect(refused.status).toBe(400);
  expect((refused.body as { code: string }).code).toBe('GH_OPENAPI_REQUEST_INVALID');
  expect((await getJson(`${app.url}/hello`)).status).toBe(200);
  await app.close();
  apps.length = 0;
  const lines = readFileSync(join(dir, 'logs.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { status?: number; path?: string });
  expect(lines.map((l) => l.status)).toEqual([400, 200]);
});

describe('rate limits in Redis, shared by two gateways from one file', () => {
  let redis: RedisTarget | string;
  beforeAll(async () => {
    redis = await findRedis();
    if (typeof redis === 'string') {
      if (ON_CI) throw new Error(`CI=true and no Redis: ${redis}`);
      console.warn(`*** Redis unavailable (${redis}): the shared rate-limit test is skipped ***`);
    }
  });
  afterAll(async () => {
    if (typeof redis !== 'string') await redis?.close();
  });

  test('the fourth request across both gateways is refused', async (context) => {
    if (typeof redis === 'string') return context.skip();
    const name = `shared-${randomUUID().slice(0, 8)}`;
    const dir = directory({
      'gatehouse.yaml': `
rateLimit:
  name: ${name}
  limits: [{ points: 3, duration: 60 }]
  store: { redis: { url: "${redis.url}" } }
`,
    });
    const file = join(dir, 'gatehouse.yaml');
    const a = await startConfigured('express5', { file }, { watch: false });
    apps.push(a);
    const b = await startConfigured('koa3', { file }, { watch: false });
    apps.push(b);
    const statuses = [];
    for (const url of [a.url, b.url, a.url, b.url]) statuses.push((await getJson(`${url}/hello`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
