// A throwaway PKI for TLS tests, made with the openssl CLI: a CA, a server certificate for the
// loopback address, and client certificates that each exercise one way of naming a client.
import { buildPki, type KeyPair } from './pki.js';

export { type KeyPair, opensslAvailable } from './pki.js';

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

const EXTENSIONS = `[server_ext]
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
  const pki = buildPki({
    prefix: 'gatehouse-pki',
    extensions: EXTENSIONS,
    cas: { ca: 'Gatehouse Test CA', 'other-ca': 'Untrusted Test CA' },
    certs: {
      server: { subject: '/CN=localhost', ext: 'server_ext' },
      spiffe: { subject: '/CN=orders/O=Shop', ext: 'spiffe_ext' },
      dns: { subject: '/CN=orders-dns', ext: 'dns_ext' },
      cn: { subject: `/CN=${CLIENT_CN}/O=Shop`, ext: 'cn_ext' },
      rogue: { subject: '/CN=orders/O=Shop', ext: 'spiffe_ext', ca: 'other-ca' },
    },
  });
  const { pair } = pki;
  return {
    ca: pki.caCert('ca'),
    server: pair('server'),
    clients: { spiffe: pair('spiffe'), dns: pair('dns'), cn: pair('cn'), rogue: pair('rogue') },
    dir: pki.dir,
    cleanup: pki.cleanup,
  };
}
