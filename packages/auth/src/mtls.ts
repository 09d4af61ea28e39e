// Identity from the client certificate of a mutual-TLS connection (node:https, node:tls with
// `requestCert: true`): a SPIFFE ID, a DNS name or a subject CN, decided once per connection.
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { functionOption, parseOptions, withCrossCheck } from '@gatehousejs/core';
import * as v from 'valibot';
import { AuthExpired, AuthFailed, AuthInvalid, refuse } from './errors.js';
import type { Authenticator, Principal } from './principal.js';

/**
 * How the principal id is read from the certificate: the first URI SAN (`'san-uri'`, e.g.
 * `spiffe://trust.example/ns/x/sa/y`), the first DNS SAN (`'san-dns'`), the subject CN (`'cn'`), or a
 * function returning the id (`undefined` when the certificate carries none).
 */
export type MtlsIdentity = 'san-uri' | 'san-dns' | 'cn' | ((cert: PeerCertificate) => string | undefined);

/** Options of {@link mtlsAuthenticator}. */
export interface MtlsOptions {
  /**
   * Where the principal id comes from. Default: the first URI SAN, else the first DNS SAN, else the
   * subject CN.
   */
  identity?: MtlsIdentity;
  /**
   * When set, the identity must be a SPIFFE ID (`spiffe://<trust domain>/…`) in one of these trust
   * domains (lower case, e.g. `['prod.example']`); anything else is `AuthInvalid`. Default: any.
   */
  allowedSpiffeTrustDomains?: readonly string[];
  /** When set, the identity must be exactly one of these strings; anything else is `AuthInvalid`. Default: any. */
  allowedIdentities?: readonly string[];
  /**
   * Accept certificates the TLS layer did not verify (unknown CA, expired). Only for tests or when
   * another layer verifies them: anyone can then claim any identity. Default: `false`.
   */
  dangerouslyAcceptUnauthorized?: boolean;
}

/** The subject alternative names of a certificate, by kind, in certificate order. */
export interface SubjectAltNames {
  /** `DNS:` entries. */
  dns: string[];
  /** `URI:` entries (SPIFFE IDs among them). */
  uri: string[];
  /** `IP Address:` entries, as Node writes them. */
  ip: string[];
}

/** What a verdict for a connection does on each request: the principal, or a fresh refusal. */
type Verdict = () => Principal | undefined;

const NO_CERTIFICATE: Verdict = () => undefined;
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

/**
 * The valibot schema of {@link MtlsOptions}, checked by {@link mtlsAuthenticator} (paths under
 * `auth.mtls`). An `identity` function is code only; the three names are not.
 */
export const mtlsOptionsSchema = withCrossCheck(
  v.strictObject({
    identity: v.optional(
      v.union([
        v.picklist(['san-uri', 'san-dns', 'cn']),
        functionOption<(cert: PeerCertificate) => string | undefined>(
          'a function (cert) => string | undefined',
        ),
      ]),
    ),
    allowedSpiffeTrustDomains: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string(),
            v.regex(
              TRUST_DOMAIN,
              (issue) =>
                `${JSON.stringify(issue.input)} is not a trust domain (lower case letters, digits, '.', '-', '_')`,
            ),
          ),
        ),
        v.minLength(1, 'must be a non-empty array of strings (omit it to allow any)'),
      ),
    ),
    allowedIdentities: v.optional(
      v.pipe(
        v.array(v.pipe(v.string(), v.minLength(1))),
        v.minLength(1, 'must be a non-empty array of strings (omit it to allow any)'),
      ),
    ),
    dangerouslyAcceptUnauthorized: v.optional(v.boolean()),
  }),
  (options, report) => {
    if (typeof options !== 'object' || options === null) return;
    const { identity, allowedSpiffeTrustDomains } = options as MtlsOptions;
    if (allowedSpiffeTrustDomains !== undefined && (identity === 'san-dns' || identity === 'cn'))
      report(['allowedSpiffeTrustDomains'], `cannot match identity '${identity}': SPIFFE IDs are URI SANs`);
  },
);

/**
 * Authenticates the client certificate of a TLS connection. Answers `undefined` when the connection
 * is not TLS or the client sent no certificate; refuses with `AuthInvalid` a certificate the server
 * did not verify (`AuthExpired` when it expired), one with no usable identity, or one outside the
 * allow-lists. The principal's claims are `{ subject, issuer, san, fingerprint256, serialNumber,
 * validTo }`, its `expiresAt` the certificate's end of validity.
 *
 * The server must ask for certificates (`requestCert: true`) and pass the trusted CAs (`ca`); with
 * `rejectUnauthorized: false` the connection is kept and this method refuses per request (a clean
 * 401 instead of a TLS alert). It never reads forwarded certificate headers: behind a proxy that
 * terminates TLS there is no certificate here.
 *
 * The certificate cannot change during a connection, so the decision is made once per socket (keep-
 * alive requests reuse it); only the expiry is checked per request.
 *
 * Throws a `ConfigError` listing every problem with the options.
 *
 * @example
 *   https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, app);
 *   gw.auth({ methods: [mtlsAuthenticator({ allowedSpiffeTrustDomains: ['prod.example'] })] });
 */
export function mtlsAuthenticator(options: MtlsOptions = {}): Authenticator {
  const o = parseOptions(mtlsOptionsSchema, options, { name: 'auth.mtls' });
  const identity = o.identity;
  const trustDomains = o.allowedSpiffeTrustDomains && new Set(o.allowedSpiffeTrustDomains);
  const allowedIdentities = o.allowedIdentities && new Set(o.allowedIdentities);
  const acceptUnauthorized = o.dangerouslyAcceptUnauthorized ?? false;
  const identify = identityReader(identity);
  const verdicts = new WeakMap<object, Verdict>();

  const decide = (socket: TLSSocket): Verdict => {
    const cert = socket.getPeerCertificate();
    if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return NO_CERTIFICATE;
    if (!socket.authorized && !acceptUnauthorized) return unverified(socket.authorizationError);
    let id: string | undefined;
    try {
      id = identify(cert);
    } catch (error) {
      return refusal(() => refuse(new AuthFailed('mTLS identity function threw', { cause: error }), 'error'));
    }
    if (id !== undefined && (typeof id !== 'string' || id.length === 0)) {
      return refusal(() =>
        refuse(new AuthFailed('mTLS identity function must return a non-empty string or undefined'), 'error'),
      );
    }
    if (id === undefined) {
      return refusal(() =>
        refuse(new AuthInvalid('Client certificate carries no usable identity'), 'claims'),
      );
    }
    if (trustDomains !== undefined && !trustDomains.has(spiffeTrustDomain(id) ?? '')) {
      return refusal(() =>
        refuse(new AuthInvalid('Client certificate identity is not in an allowed trust domain'), 'claims'),
      );
    }
    if (allowedIdentities !== undefined && !allowedIdentities.has(id)) {
      return refusal(() => refuse(new AuthInvalid('Client certificate identity is not allowed'), 'claims'));
    }
    const principal = toPrincipal(id, cert);
    const expiresAt = principal.expiresAt;
    // The handshake checked validity once; a keep-alive connection can outlive the certificate.
    if (expiresAt === undefined || acceptUnauthorized) return () => principal;
    return () => {
      if (Date.now() >= expiresAt) throw refuse(new AuthExpired('Client certificate expired'), 'expired');
      return principal;
    };
  };

  return {
    name: 'mtls',
    authenticate(exchange) {
      const socket = exchange.req.socket as Partial<TLSSocket> | null | undefined;
      if (
        typeof socket !== 'object' ||
        socket === null ||
        socket.encrypted !== true ||
        typeof socket.getPeerCertificate !== 'function'
      ) {
        return undefined;
      }
      let verdict = verdicts.get(socket);
      if (verdict === undefined) {
        verdict = decide(socket as TLSSocket);
        verdicts.set(socket, verdict);
      }
      return verdict();
    },
  };
}

/** A verdict that throws a new error for every request (errors are not shared between requests). */
function refusal(make: () => Error): Verdict {
  return () => {
    throw make();
  };
}

function unverified(reason: unknown): Verdict {
  // Node reports the OpenSSL verification code as a string (typed as an Error in @types/node).
  const code = typeof reason === 'string' ? reason : (reason as { code?: unknown } | null | undefined)?.code;
  const cause = new Error(`TLS verification failed: ${String(code ?? reason)}`);
  if (code === 'CERT_HAS_EXPIRED') {
    return refusal(() => refuse(new AuthExpired('Client certificate expired', { cause }), 'expired'));
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return refusal(() =>
      refuse(new AuthExpired('Client certificate not yet valid', { cause }), 'not_yet_valid'),
    );
  }
  return refusal(() =>
    refuse(new AuthInvalid('Client certificate not trusted', { cause }), 'unknown_credential'),
  );
}

function identityReader(identity: MtlsIdentity | undefined): (cert: PeerCertificate) => string | undefined {
  switch (identity) {
    case 'san-uri':
      return (cert) => parseSubjectAltName(cert.subjectaltname).uri[0];
    case 'san-dns':
      return (cert) => parseSubjectAltName(cert.subjectaltname).dns[0];
    case 'cn':
      return commonName;
    case undefined:
      return (cert) => {
        const san = parseSubjectAltName(cert.subjectaltname);
        return san.uri[0] ?? san.dns[0] ?? commonName(cert);
      };
    default:
      return identity;
  }
}

function commonName(cert: PeerCertificate): string | undefined {
  // Node gives an array when the subject has the attribute more than once.
  const cn = (cert.subject as Record<string, string | string[] | undefined> | undefined)?.['CN'];
  const first = Array.isArray(cn) ? cn[0] : cn;
  return typeof first === 'string' && first.length > 0 ? first : undefined;
}

/**
 * The trust domain of a SPIFFE ID (`spiffe://prod.example/ns/a` → `prod.example`), or undefined when
 * `id` is not a well-formed SPIFFE ID (no port, user info, query or fragment; lower-case domain).
 */
export function spiffeTrustDomain(id: string): string | undefined {
  if (!id.startsWith('spiffe://')) return undefined;
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const domain = slash === -1 ? rest : rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(domain) || /[?#]/.test(rest)) return undefined;
  return domain;
}

/**
 * Parses Node's `subjectaltname` string (`DNS:a.example, URI:spiffe://…, IP Address:10.0.0.1`).
 * Since Node 17.3.1/16.13.2 a value that contains a separator or a quote is written as a JSON string
 * (`URI:"spiffe://x/a\u002cb"`), so a comma inside a quoted value does not split it; kinds other
 * than DNS, URI and IP Address (email, othername, …) are skipped.
 */
export function parseSubjectAltName(value: string | undefined): SubjectAltNames {
  const out: SubjectAltNames = { dns: [], uri: [], ip: [] };
  if (typeof value !== 'string') return out;
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ') i++;
    const colon = value.indexOf(':', i);
    if (colon === -1) break;
    const kind = value.slice(i, colon);
    let entry: string;
    i = colon + 1;
    if (value[i] === '"') {
      const end = closingQuote(value, i + 1);
      if (end === -1) break;
      try {
        entry = JSON.parse(value.slice(i, end + 1)) as string;
      } catch {
        // A quoted value that is not valid JSON: stop rather than guess where the next entry starts.
        break;
      }
      i = end + 1;
      const comma = value.indexOf(',', i);
      i = comma === -1 ? value.length : comma + 1;
    } else {
      const comma = value.indexOf(', ', i);
      const end = comma === -1 ? value.length : comma;
      entry = value.slice(i, end);
      i = comma === -1 ? value.length : comma + 2;
    }
    if (kind === 'DNS') out.dns.push(entry);
    else if (kind === 'URI') out.uri.push(entry);
    else if (kind === 'IP Address') out.ip.push(entry);
  }
  return out;
}

function closingQuote(value: string, from: number): number {
  for (let i = from; i < value.length; i++) {
    if (value[i] === '\\') i++;
    else if (value[i] === '"') return i;
  }
  return -1;
}

function toPrincipal(id: string, cert: PeerCertificate): Principal {
  const san = parseSubjectAltName(cert.subjectaltname);
  const expiresAt = typeof cert.valid_to === 'string' ? Date.parse(cert.valid_to) : Number.NaN;
  const claims = Object.freeze({
    subject: nameRecord(cert.subject),
    issuer: nameRecord(cert.issuer),
    san: Object.freeze({
      dns: Object.freeze(san.dns),
      uri: Object.freeze(san.uri),
      ip: Object.freeze(san.ip),
    }),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validTo: cert.valid_to,
  });
  return Object.freeze({
    id,
    method: 'mtls',
    scopes: Object.freeze([]),
    roles: Object.freeze([]),
    claims,
    ...(Number.isFinite(expiresAt) ? { expiresAt } : {}),
  });
}

// A plain frozen copy: Node's objects have a null prototype and may be shared with the socket.
// fromEntries defines properties, so an attribute named `__proto__` cannot reach the prototype.
function nameRecord(name: unknown): Readonly<Record<string, string | readonly string[]>> {
  const entries: [string, string | readonly string[]][] = [];
  if (typeof name === 'object' && name !== null) {
    for (const [key, value] of Object.entries(name)) {
      if (typeof value === 'string') entries.push([key, value]);
      else if (Array.isArray(value)) {
        entries.push([key, Object.freeze(value.filter((v): v is string => typeof v === 'string'))]);
      }
    }
  }
  return Object.freeze(Object.fromEntries(entries));
}
