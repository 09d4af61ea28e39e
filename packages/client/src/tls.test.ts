// TLS to upstreams with a real PKI: identity checks on the server certificate (URI and DNS SANs)
// failing closed, mTLS client certificates, and certificate rotation from files without a restart.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ClientPki,
  IMPOSTOR_DNS,
  makeClientPki,
  ORDERS_DNS,
  ORDERS_SPIFFE,
  opensslAvailable,
} from './test-certs.js';
import { preferring, rejection, sleep, useFixtures, waitFor } from './test-upstreams.js';

// Skipped (loudly) only on a developer machine without openssl; on CI the TLS tests run, and fail there
// if openssl is missing.
const noOpenssl = process.env.CI !== 'true' && !opensslAvailable();
if (noOpenssl) {
  console.warn('SKIPPING the client TLS tests: the openssl CLI is not installed (apt-get install openssl)');
}

describe.skipIf(noOpenssl)('TLS to upstreams', () => {
  const fx = useFixtures();
  let pki: ClientPki;
  beforeAll(() => {
    pki = makeClientPki();
  });
  afterAll(() => pki?.cleanup());

  const serve = (which: 'orders' | 'impostor', mtls = false) =>
    fx.upstream(undefined, {
      ...pki.servers[which],
      ...(mtls ? { ca: pki.ca, requestCert: true, rejectUnauthorized: true } : {}),
    });

  test('a server certificate without the expected URI SAN fails closed with GH_UPSTREAM_TLS; no request is sent', async () => {
    const impostor = await serve('impostor');
    const client = fx.client({
      name: 'orders',
      endpoints: [impostor.url],
      tls: { ca: pki.ca, identity: { uri: [ORDERS_SPIFFE] } },
    });
    for (let i = 0; i < 3; i++) {
      const error = await rejection(client.request({ path: '/orders/1' }));
      expect(error).toMatchObject({ code: 'GH_UPSTREAM_TLS', status: 502 });
    }
    expect(impostor.hits()).toBe(0);
  });

  test('a TLS failure is not retried onto another endpoint that would pass: it fails closed', async () => {
    const impostor = await serve('impostor');
    const orders = await serve('orders');
    const client = fx.client({
      name: 'orders',
      endpoints: [impostor.url, orders.url],
      balancer: preferring(impostor.id, orders.id),
      tls: { ca: pki.ca, identity: { dns: [ORDERS_DNS] } },
    });
    const error = await rejection(client.request({ path: '/orders/1' }));
    expect(error).toMatchObject({ code: 'GH_UPSTREAM_TLS', status: 502 });
    expect(impostor.hits()).toBe(0);
  });

  test('the expected identity passes, by URI SAN or by DNS SAN', async () => {
    const orders = await serve('orders');
    const byUri = fx.client({
      name: 'orders',
      endpoints: [orders.url],
      tls: { ca: pki.ca, identity: { uri: [ORDERS_SPIFFE] } },
    });
    const byDns = fx.client({
      name: 'orders',
      endpoints: [orders.url],
      tls: { ca: pki.ca, identity: { dns: ['other.internal', ORDERS_DNS] } },
    });
    for (const client of [byUri, byDns]) {
      const res = await client.request({ path: '/orders/1' });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('200');
    }
    expect(orders.hits()).toBe(2);
  });

  test('a DNS identity the certificate does not carry fails closed', async () => {
    const orders = await serve('orders');
    const client = fx.client({
      name: 'orders',
      endpoints: [orders.url],
      tls: { ca: pki.ca, identity: { dns: [IMPOSTOR_DNS] } },
    });
    expect(await rejection(client.request({ path: '/' }))).toMatchObject({ code: 'GH_UPSTREAM_TLS' });
    expect(orders.hits()).toBe(0);
  });

  test('a server certificate from a CA the client does not trust fails closed', async () => {
    const orders = await serve('orders');
    const client = fx.client({ name: 'orders', endpoints: [orders.url], tls: {} });
    expect(await rejection(client.request({ path: '/' }))).toMatchObject({
      code: 'GH_UPSTREAM_TLS',
      status: 502,
    });
    expect(orders.hits()).toBe(0);
  });

  test('mTLS: the client presents its certificate and the server sees its subject', async () => {
    const orders = await serve('orders', true);
    const client = fx.client({
      name: 'orders',
      endpoints: [orders.url],
      tls: { ca: pki.ca, ...pki.clients.one, identity: { uri: [ORDERS_SPIFFE] } },
    });
    const res = await client.request({ path: '/whoami' });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(orders.seen.map((s) => s.clientCn)).toEqual(['client-one']);
  });

  test('mTLS: without a client certificate the server refuses, and the call fails', async () => {
    const orders = await serve('orders', true);
    const client = fx.client({ name: 'orders', endpoints: [orders.url], tls: { ca: pki.ca } });
    const error = await rejection(client.request({ path: '/whoami' }));
    expect(error.status).toBeGreaterThanOrEqual(500);
    expect(orders.hits()).toBe(0);
  });

  test('rotation: rewriting tls.files makes new connections use the new client certificate, without a restart', async () => {
    const orders = await serve('orders', true);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-client-rotate-'));
    try {
      const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
      // Each file is replaced whole (write beside it, then rename), as a certificate agent does.
      const put = (file: string, content: string) => {
        writeFileSync(`${file}.tmp`, content);
        renameSync(`${file}.tmp`, file);
      };
      put(files.ca, pki.ca);
      put(files.key, pki.clients.one.key);
      put(files.cert, pki.clients.one.cert);
      const client = fx.client({
        name: 'orders',
        endpoints: [orders.url],
        tls: { files, watchIntervalMs: 50, identity: { uri: [ORDERS_SPIFFE] } },
      });
      const call = async () => {
        const res = await client.request({ path: '/whoami' });
        await res.body.dump();
        return res.statusCode;
      };
      expect(await call()).toBe(200);
      expect(orders.seen.at(-1)?.clientCn).toBe('client-one');

      // Let the watcher see the first files settle, so the rewrite below is a change.
      await sleep(100);
      put(files.key, pki.clients.two.key);
      put(files.cert, pki.clients.two.cert);
      const failures: unknown[] = [];
      await waitFor(
        'calls to present the new certificate',
        async () => {
          const status = await call().catch((error: unknown) => {
            failures.push(error);
            return 0;
          });
          return status === 200 && orders.seen.at(-1)?.clientCn === 'client-two';
        },
        { timeoutMs: 3_000, intervalMs: 20 },
      );
      expect(failures).toEqual([]);
      for (let i = 0; i < 3; i++) expect(await call()).toBe(200);
      expect(orders.seen.slice(-3).map((s) => s.clientCn)).toEqual([
        'client-two',
        'client-two',
        'client-two',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
