// A throwaway PKI for the client's TLS tests, made with the openssl CLI (as test/support/certs.ts):
// a CA, two server certificates that differ only in their identity, and two client certificates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  key: string;
  cert: string;
}

/** The URI SAN of the `orders` server certificate. */
export const ORDERS_SPIFFE = 'spiffe://test.example/ns/shop/sa/orders';
/** Its DNS SAN. */
export const ORDERS_DNS = 'orders.internal';
/** The URI SAN of the `impostor` server certificate (same CA, same IP SAN, another workload). */
export const IMPOSTOR_SPIFFE = 'spiffe://test.example/ns/shop/sa/impostor';
export const IMPOSTOR_DNS = 'impostor.internal';

export interface ClientPki {
  ca: string;
  /** Both server certificates carry IP:127.0.0.1, so only an identity check tells them apart. */
  servers: { orders: KeyPair; impostor: KeyPair };
  /** Client certificates with subject CN `client-one` and `client-two`. */
  clients: { one: KeyPair; two: KeyPair };
  dir: string;
  cleanup(): void;
}

let available: boolean | undefined;

export function opensslAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'pipe' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[orders_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = URI:${ORDERS_SPIFFE}, DNS:${ORDERS_DNS}, IP:127.0.0.1
[impostor_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = URI:${IMPOSTOR_SPIFFE}, DNS:${IMPOSTOR_DNS}, IP:127.0.0.1
[client_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
`;

/** Generates the PKI into a fresh temporary directory (EC P-256, two days). Throws without openssl. */
export function makeClientPki(): ClientPki {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-client-pki-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(join(dir, 'openssl.cnf'), CONFIG);
    const openssl = (command: string, subject?: string) =>
      execFileSync('openssl', [...command.split(' '), ...(subject === undefined ? [] : ['-subj', subject])], {
        cwd: dir,
        stdio: 'pipe',
      });
    const newKey = (name: string) =>
      `-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${name}.key -config openssl.cnf`;
    openssl(
      `req -x509 ${newKey('ca')} -days 2 -extensions ca_ext -out ca.crt`,
      '/CN=Gatehouse Client Test CA',
    );
    let serial = 1;
    const issue = (name: string, subject: string, ext: string) => {
      openssl(`req -new ${newKey(name)} -out ${name}.csr`, subject);
      openssl(
        `x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -set_serial ${serial++} -days 2 ` +
          `-extfile openssl.cnf -extensions ${ext} -out ${name}.crt`,
      );
    };
    issue('orders', '/CN=orders', 'orders_ext');
    issue('impostor', '/CN=impostor', 'impostor_ext');
    issue('one', '/CN=client-one', 'client_ext');
    issue('two', '/CN=client-two', 'client_ext');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    const pair = (name: string): KeyPair => ({ key: read(`${name}.key`), cert: read(`${name}.crt`) });
    return {
      ca: read('ca.crt'),
      servers: { orders: pair('orders'), impostor: pair('impostor') },
      clients: { one: pair('one'), two: pair('two') },
      dir,
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
