// Throwaway PKIs made with the openssl CLI, for every TLS test in the repository (the auth and client
// packages' and the cross-package ones): CAs and certificates issued by them, each certificate's
// extensions named from an openssl config section, EC P-256 keys valid for two days.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private key and its certificate, both PEM. */
export interface KeyPair {
  key: string;
  cert: string;
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

/** What to make: CAs first, then certificates issued by one of them. */
export interface PkiSpec {
  /** Prefix of the temporary directory's name. */
  prefix: string;
  /**
   * openssl config sections for the certificates' extensions (`[server_ext]` …); `[ca_ext]` for the
   * CAs is provided.
   */
  extensions: string;
  /** CA file names and their subject CN. */
  cas: Record<string, string>;
  /** Certificates: file name → subject, extension section and issuing CA (default: `ca`). */
  certs: Record<string, { subject: string; ext: string; ca?: string }>;
}

/** The files made, read back. */
export interface Pki {
  /** The directory holding `<name>.key` / `<name>.crt`, for tools that want files. */
  dir: string;
  /** A CA's certificate (PEM). */
  caCert(name: string): string;
  /** A certificate and its key. */
  pair(name: string): KeyPair;
  /** Removes the directory. Safe to call twice. */
  cleanup(): void;
}

// Our own config rather than the system openssl.cnf (absent on some images). The extension sections
// go through `x509 -req -extfile`: the portable way to set SANs (OpenSSL 1.1.1 and 3.x).
const BASE_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;

/**
 * Generates a PKI into a fresh temporary directory. Synchronous and a few openssl runs per
 * certificate, so call it once per file (in `beforeAll`), and `cleanup()` after. Throws when openssl
 * is missing or fails: check {@link opensslAvailable} first.
 */
export function buildPki(spec: PkiSpec): Pki {
  const dir = mkdtempSync(join(tmpdir(), `${spec.prefix}-`));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(join(dir, 'openssl.cnf'), BASE_CONFIG + spec.extensions);
    // Commands as one string (file names here have no spaces); a subject, which may, comes separately.
    const openssl = (command: string, subject?: string) =>
      execFileSync('openssl', [...command.split(' '), ...(subject === undefined ? [] : ['-subj', subject])], {
        cwd: dir,
        stdio: 'pipe',
      });
    const newKey = (name: string) =>
      `-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${name}.key -config openssl.cnf`;
    for (const [name, cn] of Object.entries(spec.cas)) {
      openssl(`req -x509 ${newKey(name)} -days 2 -extensions ca_ext -out ${name}.crt`, `/CN=${cn}`);
    }
    let serial = 1;
    for (const [name, { subject, ext, ca = 'ca' }] of Object.entries(spec.certs)) {
      openssl(`req -new ${newKey(name)} -out ${name}.csr`, subject);
      openssl(
        `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -set_serial ${serial++} -days 2 ` +
          `-extfile openssl.cnf -extensions ${ext} -out ${name}.crt`,
      );
    }
  } catch (error) {
    cleanup();
    throw error;
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    caCert: (name) => read(`${name}.crt`),
    pair: (name) => ({ key: read(`${name}.key`), cert: read(`${name}.crt`) }),
    cleanup,
  };
}
