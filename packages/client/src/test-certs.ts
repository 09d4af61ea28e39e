// A throwaway PKI for the client's TLS tests, made with the repository's openssl helper
// (test/support/pki.ts): a CA, two server certificates that differ only in their identity, and two
// client certificates.
import { buildPki, type KeyPair } from '../../../test/support/pki.js';

export { type KeyPair, opensslAvailable } from '../../../test/support/pki.js';

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

const EXTENSIONS = `[orders_ext]
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
  const pki = buildPki({
    prefix: 'gatehouse-client-pki',
    extensions: EXTENSIONS,
    cas: { ca: 'Gatehouse Client Test CA' },
    certs: {
      orders: { subject: '/CN=orders', ext: 'orders_ext' },
      impostor: { subject: '/CN=impostor', ext: 'impostor_ext' },
      one: { subject: '/CN=client-one', ext: 'client_ext' },
      two: { subject: '/CN=client-two', ext: 'client_ext' },
    },
  });
  const { pair } = pki;
  return {
    ca: pki.caCert('ca'),
    servers: { orders: pair('orders'), impostor: pair('impostor') },
    clients: { one: pair('one'), two: pair('two') },
    dir: pki.dir,
    cleanup: pki.cleanup,
  };
}
