// Real mutual TLS: a CA, a server certificate and client certificates made with the openssl CLI in a
// temporary directory, a node:https server asking for client certificates, and node:https clients.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  get as httpGet,
  type ServerResponse,
} from 'node:http';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ensureExchange, Gateway, isGatehouseError } from '@gatehousejs/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { refusalReason } from './errors.js';
import { mtlsAuthenticator, parseSubjectAltName, spiffeTrustDomain } from './mtls.js';
import type { Authenticator, Principal } from './principal.js';

// Skipped (loudly) only on a developer machine without openssl; on CI the suite runs and fails.
const opensslMissing =
  process.env['CI'] !== 'true' &&
  (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'pipe' });
      return false;
    } catch {
      return true;
    }
  })();
if (opensslMissing) {
  console.warn(
    '\n*** mtls.test.ts: SKIPPED — the openssl CLI is not installed (needed to make test certificates) ***\n',
  );
}

interface Answer {
  status: number;
  principal?: Principal | null;
  code?: string;
  reason?: string;
}

interface Pem {
  key: string;
  cert: string;
}

let dir: string;
const pem: Record<string, Pem> = {};
let caCert: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCertificates(): void {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-mtls-'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'openssl.cnf'),
    `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
default_ca = test_ca
[test_ca]
database = ${join(dir, 'index.txt')}
serial = ${join(dir, 'serial')}
new_certs_dir = ${dir}
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
[spiffe_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = @spiffe_san
[spiffe_san]
URI.1 = spiffe://trust.example/ns/x/sa/y
DNS.1 = y.x.svc.example
IP.1 = 10.0.0.7
[dns_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = DNS:api.client.example, DNS:second.client.example
[cn_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
[comma_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = @comma_san
[comma_san]
URI.1 = spiffe://other.example/ns/a,b/sa/c
[expired_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://trust.example/ns/x/sa/old
`,
  );
  const cnf = ['-config', 'openssl.cnf'];
  const key = (name: string) => [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
  ];
  const makeCa = (name: string, cn: string) =>
    openssl(
      'req',
      ...cnf,
      '-x509',
      ...key(name),
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-extensions',
      'ca_ext',
    );
  makeCa('ca', 'Gatehouse Test CA');
  makeCa('other-ca', 'Someone Else CA');
  let serial = 1;
  const issue = (name: string, subject: string, ext: string, ca = 'ca') => {
    openssl('req', ...cnf, ...key(name), '-out', `${name}.csr`, '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-set_serial',
      String(serial++),
      '-days',
      '2',
      '-extfile',
      'openssl.cnf',
      '-extensions',
      ext,
      '-out',
      `${name}.crt`,
    );
  };
  issue('server', '/CN=localhost', 'server_ext');
  issue('spiffe', '/CN=workload-y/O=Example Org', 'spiffe_ext');
  issue('dns', '/CN=api-client', 'dns_ext');
  issue('cn', '/CN=legacy-client/O=Example Org', 'cn_ext');
  issue('comma', '/CN=comma', 'comma_ext');
  issue('rogue', '/CN=rogue', 'spiffe_ext', 'other-ca');
  // `openssl ca` is the one CLI path that sets a validity period in the past on OpenSSL 3.0.
  openssl('req', ...cnf, ...key('expired'), '-out', 'expired.csr', '-subj', '/CN=expired');
  openssl(
    'ca',
    '-batch',
    ...cnf,
    '-cert',
    'ca.crt',
    '-keyfile',
    'ca.key',
    '-in',
    'expired.csr',
    '-out',
    'expired.crt',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-extensions',
    'expired_ext',
    '-notext',
  );
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  caCert = read('ca.crt');
  for (const name of ['server', 'spiffe', 'dns', 'cn', 'comma', 'rogue', 'expired']) {
    pem[name] = { key: read(`${name}.key`), cert: read(`${name}.crt`) };
  }
}

const gateway = new Gateway();
let server: Server;
let port: number;
let current: Authenticator;

function answer(res: ServerResponse, run: () => unknown): void {
  const send = (status: number, body: Omit<Answer, 'status'>) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  Promise.resolve()
    .then(run)
    .then(
      (principal) => send(200, { principal: (principal as Principal | undefined) ?? null }),
      (error: unknown) =>
        isGatehouseError(error)
          ? send(error.status, { code: error.code, reason: refusalReason(error) })
          : send(599, { code: String(error) }),
    );
}

describe.skipIf(opensslMissing)('mtlsAuthenticator over real TLS', () => {
  beforeAll(async () => {
    makeCertificates();
    server = createServer(
      {
        key: pem['server']!.key,
        cert: pem['server']!.cert,
        ca: caCert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const exchange = ensureExchange(req, res, gateway);
        answer(res, () => current.authenticate(exchange));
      },
    );
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function call(
    auth: Authenticator,
    client?: string,
    agent?: Agent,
  ): Promise<Answer & { localPort: number }> {
    current = auth;
    const credentials = client === undefined ? {} : pem[client]!;
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', ca: caCert, ...credentials, agent: agent ?? false },
        (res) => {
          // Read now: a keep-alive socket goes back to the agent (res.socket = null) at 'end'.
          const localPort = res.socket.localPort!;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode!, localPort, ...(JSON.parse(body) as object) }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('a SPIFFE workload certificate: the URI SAN is the id, the certificate the claims', async () => {
    const auth = mtlsAuthenticator();
    expect(auth.name).toBe('mtls');
    expect(auth.scheme).toBeUndefined();
    const { status, principal } = await call(auth, 'spiffe');
    expect(status).toBe(200);
    const x509 = new X509Certificate(pem['spiffe']!.cert);
    expect(principal).toEqual({
      id: 'spiffe://trust.example/ns/x/sa/y',
      method: 'mtls',
      scopes: [],
      roles: [],
      claims: {
        subject: { CN: 'workload-y', O: 'Example Org' },
        issuer: { CN: 'Gatehouse Test CA' },
        san: { dns: ['y.x.svc.example'], uri: ['spiffe://trust.example/ns/x/sa/y'], ip: ['10.0.0.7'] },
        fingerprint256: x509.fingerprint256,
        serialNumber: x509.serialNumber,
        validTo: x509.validTo,
      },
      expiresAt: Date.parse(x509.validTo),
    });
    expect(principal!.expiresAt).toBeGreaterThan(Date.now());
  });

  test('identity sources: san-dns, cn, and the defaults for certificates without a URI SAN', async () => {
    expect((await call(mtlsAuthenticator({ identity: 'san-dns' }), 'spiffe')).principal?.id).toBe(
      'y.x.svc.example',
    );
    expect((await call(mtlsAuthenticator({ identity: 'cn' }), 'spiffe')).principal?.id).toBe('workload-y');
    expect((await call(mtlsAuthenticator(), 'dns')).principal?.id).toBe('api.client.example');
    expect((await call(mtlsAuthenticator(), 'cn')).principal?.id).toBe('legacy-client');
    expect(await call(mtlsAuthenticator({ identity: 'san-uri' }), 'dns')).toMatchObject({
      status: 401,
      code: 'GH_AUTH_INVALID',
      reason: 'claims',
    });
    const byOrg = mtlsAuthenticator({ identity: (cert) => (cert.subject as { O?: string } | undefined)?.O });
    expect((await call(byOrg, 'cn')).principal?.id).toBe('Example Org');
    expect(await call(byOrg, 'dns')).toMatchObject({ status: 401, code: 'GH_AUTH_INVALID' });
  });

  test('a URI SAN with a comma (quoted by Node) is read whole', async () => {
    const { principal } = await call(mtlsAuthenticator(), 'comma');
    expect(principal?.id).toBe('spiffe://other.example/ns/a,b/sa/c');
  });

  test('no client certificate is no credential', async () => {
    expect(await call(mtlsAuthenticator())).toMatchObject({ status: 200, principal: null });
  });

  test('a certificate from another CA is refused unless dangerouslyAcceptUnauthorized', async () => {
    expect(await call(mtlsAuthenticator(), 'rogue')).toMatchObject({
      status: 401,
      code: 'GH_AUTH_INVALID',
      reason: 'unknown_credential',
    });
    const lax = mtlsAuthenticator({ dangerouslyAcceptUnauthorized: true });
    expect((await call(lax, 'rogue')).principal?.id).toBe('spiffe://trust.example/ns/x/sa/y');
  });

  test('an expired certificate is AuthExpired', async () => {
    expect(await call(mtlsAuthenticator(), 'expired')).toMatchObject({
      status: 401,
      code: 'GH_AUTH_TOKEN_EXPIRED',
      reason: 'expired',
    });
  });

  test('allow-lists: SPIFFE trust domains and exact identities', async () => {
    const trust = mtlsAuthenticator({ allowedSpiffeTrustDomains: ['trust.example'] });
    expect((await call(trust, 'spiffe')).principal?.id).toBe('spiffe://trust.example/ns/x/sa/y');
    expect(await call(trust, 'comma')).toMatchObject({
      status: 401,
      code: 'GH_AUTH_INVALID',
      reason: 'claims',
    });
    expect(await call(trust, 'dns')).toMatchObject({ status: 401, code: 'GH_AUTH_INVALID' });
    const exact = mtlsAuthenticator({ allowedIdentities: ['legacy-client', 'api.client.example'] });
    expect((await call(exact, 'cn')).principal?.id).toBe('legacy-client');
    expect((await call(exact, 'dns')).principal?.id).toBe('api.client.example');
    expect(await call(exact, 'spiffe')).toMatchObject({
      status: 401,
      code: 'GH_AUTH_INVALID',
      reason: 'claims',
    });
  });

  test('an identity function that throws is AuthFailed', async () => {
    const auth = mtlsAuthenticator({
      identity: () => {
        throw new Error('bug');
      },
    });
    expect(await call(auth, 'spiffe')).toMatchObject({ status: 500, code: 'GH_AUTH_ERROR' });
  });

  test('the certificate is read once per connection, again on a new one', async () => {
    let reads = 0;
    const auth = mtlsAuthenticator({
      identity: (cert) => {
        reads++;
        return cert.subject?.CN as string;
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ...pem['cn']!, ca: caCert });
    try {
      const first = await call(auth, 'cn', agent);
      const second = await call(auth, 'cn', agent);
      expect(second.localPort).toBe(first.localPort);
      expect([first.principal?.id, second.principal?.id]).toEqual(['legacy-client', 'legacy-client']);
      expect(reads).toBe(1);
      await call(auth, 'cn');
      expect(reads).toBe(2);
    } finally {
      agent.destroy();
    }
  });
});

describe('without TLS', () => {
  let plain: HttpServer;
  afterAll(() => new Promise((resolve) => plain?.close(resolve)));

  test('a plain HTTP request has no certificate (undefined)', async () => {
    const auth = mtlsAuthenticator();
    plain = createHttpServer((req, res) =>
      answer(res, () => auth.authenticate(ensureExchange(req, res, gateway))),
    );
    plain.listen(0, '127.0.0.1');
    await new Promise((resolve) => plain.once('listening', resolve));
    const body = await new Promise<string>((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port: (plain.address() as AddressInfo).port, agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({ principal: null });
  });
});

describe('parseSubjectAltName', () => {
  test('kinds, order, and values Node quotes', () => {
    expect(
      parseSubjectAltName(
        'DNS:a.example, URI:"spiffe://t.example/a\\u002cb, c\\"d", IP Address:10.0.0.1, email:x@y.example, ' +
          'DNS:b.example, IP Address:0:0:0:0:0:0:0:1, othername:<unsupported>, URI:https://x.example/p',
      ),
    ).toEqual({
      dns: ['a.example', 'b.example'],
      uri: ['spiffe://t.example/a,b, c"d', 'https://x.example/p'],
      ip: ['10.0.0.1', '0:0:0:0:0:0:0:1'],
    });
    expect(parseSubjectAltName(undefined)).toEqual({ dns: [], uri: [], ip: [] });
    expect(parseSubjectAltName('')).toEqual({ dns: [], uri: [], ip: [] });
    // An unterminated quote stops parsing instead of guessing.
    expect(parseSubjectAltName('DNS:a.example, URI:"spiffe://x, DNS:b.example')).toEqual({
      dns: ['a.example'],
      uri: [],
      ip: [],
    });
  });

  test('spiffeTrustDomain', () => {
    expect(spiffeTrustDomain('spiffe://prod.example/ns/a/sa/b')).toBe('prod.example');
    expect(spiffeTrustDomain('spiffe://prod.example')).toBe('prod.example');
    expect(spiffeTrustDomain('spiffe://user@prod.example/x')).toBeUndefined();
    expect(spiffeTrustDomain('spiffe://prod.example:443/x')).toBeUndefined();
    expect(spiffeTrustDomain('spiffe://Prod.Example/x')).toBeUndefined();
    expect(spiffeTrustDomain('spiffe://prod.example/x?y')).toBeUndefined();
    expect(spiffeTrustDomain('https://prod.example/x')).toBeUndefined();
  });
});

describe('options', () => {
  test('every problem is reported at once', () => {
    let error: unknown;
    try {
      mtlsAuthenticator({
        identity: 'email' as never,
        allowedSpiffeTrustDomains: ['Trust.Example', ''],
        allowedIdentities: [],
        dangerouslyAcceptUnauthorized: 'yes' as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "auth.mtls.identity: expected 'san-uri', 'san-dns', 'cn' or a function (cert) => string | undefined, received the string 'email'",
      `auth.mtls.allowedSpiffeTrustDomains[0]: "Trust.Example" is not a trust domain (lower case letters, digits, '.', '-', '_')`,
      `auth.mtls.allowedSpiffeTrustDomains[1]: "" is not a trust domain (lower case letters, digits, '.', '-', '_')`,
      'auth.mtls.allowedIdentities: must be a non-empty array of strings (omit it to allow any)',
      "auth.mtls.dangerouslyAcceptUnauthorized: expected true or false, received the string 'yes' — did you mean true (without quotes)?",
    ]);
    expect(() => mtlsAuthenticator({ identity: 'cn', allowedSpiffeTrustDomains: ['a.example'] })).toThrow(
      "auth.mtls.allowedSpiffeTrustDomains: cannot match identity 'cn': SPIFFE IDs are URI SANs",
    );
    expect(() => mtlsAuthenticator({ identitiy: 'cn' } as never)).toThrow(
      "auth.mtls.identitiy: unknown option; did you mean 'identity'?",
    );
  });
});
