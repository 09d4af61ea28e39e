// A throwaway PKI for TLS tests, made with the openssl CLI: a CA, a server certificate for the
// loopback address, and client certificates that each exercise one way of naming a client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private key and its certificate, both PEM. */
export interface KeyPair {
  key: string;
  cert: string;
}

/** The client certificates {@link makeTestPki} issues. */
export type ClientName = 'spiffe' | 'dns' | 'cn' | 'rogue';

/** The SPIFFE ID in the `spiffe` (and `rogue`) client certificate's URI SAN. */
export const SPIFFE_ID = 'spiffe://prod.example/ns/shop/sa/orders';
/** The only DNS SAN of the `dns` client certificate. */
export const CLIENT_DNS_NAME = 'orders.shop.svc.example';
/** The subject CN of the `cn` client certificate (which has no SAN). */
export const CLIENT_CN = 'legacy-orders';

export interface TestPki {
  /** The CA certificate every certificate here except `rogue` chains to (PEM). */
  ca: string;
  /** Server certificate for `localhost` and `127.0.0.1`. */
  server: KeyPair;
  /**
   * Client certificates: `spiffe` (URI SAN {@link SPIFFE_ID}), `dns` (DNS SAN {@link CLIENT_DNS_NAME}
   * only), `cn` (subject CN {@link CLIENT_CN}, no SAN), `rogue` (the same SPIFFE ID, issued by another CA).
   */
  clients: Record<ClientName, KeyPair>;
  /** The directory holding `<name>.key` / `<name>.crt` (ca, server, spiffe, …) for tools that want files. */
  dir: string;
  /** Removes the directory. Safe to call twice. */
  cleanup(): void;
}

let available: boolean | undefined;

/** Whether the openssl CLI can be run (checked once). */
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

// Our own config rather than the system openssl.cnf (absent on some images). The extension sections
// go through `x509 -req -extfile`: the portable way to set SANs (OpenSSL 1.1.1 and 3.x).
const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
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
subjectAltName = URI:${SPIFFE_ID}
[dns_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = DNS:${CLIENT_DNS_NAME}
[cn_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
`;

/**
 * Generates the PKI into a fresh temporary directory (EC P-256 keys, valid for two days). Synchronous
 * and about a dozen openssl runs, so call it once per file (in `beforeAll`), and `cleanup()` after.
 * Throws when openssl is missing or fails: check {@link opensslAvailable} first.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pki-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(join(dir, 'openssl.cnf'), CONFIG);
    // Commands as one string (file names here have no spaces); a subject, which may, comes separately.
    const openssl = (command: string, subject?: string) =>
      execFileSync('openssl', [...command.split(' '), ...(subject === undefined ? [] : ['-subj', subject])], {
        cwd: dir,
        stdio: 'pipe',
      });
    const newKey = (name: string) =>
      `-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${name}.key -config openssl.cnf`;
    const makeCa = (name: string, cn: string) =>
      openssl(`req -x509 ${newKey(name)} -days 2 -extensions ca_ext -out ${name}.crt`, `/CN=${cn}`);
    let serial = 1;
    const issue = (name: string, subject: string, ext: string, ca = 'ca') => {
      openssl(`req -new ${newKey(name)} -out ${name}.csr`, subject);
      openssl(
        `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -set_serial ${serial++} -days 2 ` +
          `-extfile openssl.cnf -extensions ${ext} -out ${name}.crt`,
      );
    };
    makeCa('ca', 'Gatehouse Test CA');
    makeCa('other-ca', 'Untrusted Test CA');
    issue('server', '/CN=localhost', 'server_ext');
    issue('spiffe', '/CN=orders/O=Shop', 'spiffe_ext');
    issue('dns', '/CN=orders-dns', 'dns_ext');
    issue('cn', `/CN=${CLIENT_CN}/O=Shop`, 'cn_ext');
    issue('rogue', '/CN=orders/O=Shop', 'spiffe_ext', 'other-ca');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    const pair = (name: string): KeyPair => ({ key: read(`${name}.key`), cert: read(`${name}.crt`) });
    return {
      ca: read('ca.crt'),
      server: pair('server'),
      clients: { spiffe: pair('spiffe'), dns: pair('dns'), cn: pair('cn'), rogue: pair('rogue') },
      dir,
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
