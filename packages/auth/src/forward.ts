// Identity forwarding: the principal travels to upstreams as a short-lived signed internal token
// and/or plain headers, never as anything the client sent. `createIdentityVerifier` is the small
// piece a service behind the gateway uses to trust the token.
import { createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import {
  type Exchange,
  functionOption,
  type GatehouseError,
  objectOption,
  parseOptions,
  withCrossCheck,
} from '@gatehousejs/core';
import {
  type CryptoKey,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import * as v from 'valibot';
import { AuthExpired, AuthInvalid, AuthRequired, type RefusalReason, refuse } from './errors.js';
import { type Principal, scopeList } from './principal.js';

/** The default header the internal identity token travels in. */
export const IDENTITY_HEADER = 'x-gatehouse-identity';

const SIGNING_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'] as const;
/** An algorithm the identity token can be signed with. */
export type IdentityAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

type KeyInput = KeyObject | CryptoKey | JWK | Uint8Array;

/** How the principal is forwarded to upstreams. */
export interface ForwardOptions {
  /** A signed internal token (a JWT) describing the principal. */
  token?: {
    /** Signing key: a secret (`Uint8Array`, at least 32 bytes) for HS*, or a private key (KeyObject / JWK). */
    key: KeyInput;
    /** Signing algorithm, pinned; the verifier must be given the same. */
    alg: IdentityAlgorithm;
    /** Key id written in the token header, for rotation. */
    kid?: string;
    /** Header it travels in. @default 'x-gatehouse-identity' */
    header?: string;
    /** Lifetime in seconds. @default 60 */
    ttlSec?: number;
    /** `iss` of the token. @default 'gatehouse' */
    issuer?: string;
    /** `aud` of the token (the upstreams' shared audience). @default 'gatehouse-upstream' */
    audience?: string;
  };
  /**
   * Plain headers set from the principal: header name → principal field (`'id'`, `'scopes'`, `'roles'`,
   * `'tier'`, `'clientId'`, `'method'`; lists are space-separated) or a function. Each named header is
   * removed from the client's request first, so a client can never supply it.
   * @example { 'x-user-id': 'id', 'x-user-scopes': 'scopes' }
   */
  headers?: Record<string, PrincipalField | ((principal: Principal) => string | undefined)>;
}

/** A principal field that can be forwarded as a header. */
export type PrincipalField = 'id' | 'method' | 'scopes' | 'roles' | 'tier' | 'clientId';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const HOP_BY_HOP_OR_RESERVED = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'authorization',
]);

/** Forwards one principal: computes the headers (the token is cached per principal until half its life). */
export interface IdentityForwarder {
  /** Header names this forwarder sets (and removes from client requests). */
  readonly headerNames: readonly string[];
  /** Sets the identity headers on the request (after removing any client-supplied copies). */
  apply(exchange: Exchange, principal: Principal | undefined): void | Promise<void>;
  /** The headers for a principal, for outbound calls made by hand. */
  headersFor(principal: Principal): Promise<Record<string, string>>;
}

interface Signed {
  readonly value: string;
  readonly refreshAt: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// A header name that can carry identity: a token, not one the protocol or the proxy owns.
const identityHeaderName = () =>
  v.pipe(
    v.string(),
    v.check(
      (name) => HEADER_NAME.test(name.toLowerCase()) && !HOP_BY_HOP_OR_RESERVED.has(name.toLowerCase()),
      'is not a header name that can carry identity',
    ),
  );
// Token header fields must not break the JWT or a log line.
const safeText = () =>
  v.pipe(
    v.string(),
    v.check(
      (value) => value.length > 0 && safeValue(value),
      'must be a non-empty string without control characters',
    ),
  );

/** The valibot schema of `forward.token`: a signing key that fits its algorithm. */
export const forwardTokenSchema = withCrossCheck(
  v.strictObject({
    key: v.union(
      [
        v.pipe(v.looseObject({ kty: v.string() }), v.description('A private JWK.')),
        objectOption<KeyObject | CryptoKey | Uint8Array>(
          'a private KeyObject, a CryptoKey or a Uint8Array secret',
        ),
      ],
      (issue) =>
        `${issue.input === undefined ? 'required: ' : ''}expected a signing key: a private KeyObject or JWK, a CryptoKey, or a Uint8Array secret for HS*`,
    ),
    alg: v.picklist(SIGNING_ALGORITHMS),
    kid: v.optional(safeText()),
    header: v.optional(identityHeaderName()),
    ttlSec: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
    issuer: v.optional(safeText()),
    audience: v.optional(safeText()),
  }),
  (token, report) => {
    if (!isObject(token) || typeof token.alg !== 'string' || !token.alg.startsWith('HS')) return;
    // RFC 7518 §3.2: an HMAC key at least as long as the hash output.
    const minBytes = token.alg === 'HS512' ? 64 : token.alg === 'HS384' ? 48 : 32;
    if (!(token.key instanceof Uint8Array) || token.key.byteLength < minBytes)
      report(['key'], `an ${token.alg} key must be a Uint8Array secret of at least ${minBytes} bytes`);
  },
);

/**
 * The valibot schema of {@link ForwardOptions} (`auth`'s `forward`): header functions are code only.
 */
export const forwardOptionsSchema = withCrossCheck(
  v.strictObject({
    token: v.optional(forwardTokenSchema),
    headers: v.optional(
      v.record(
        identityHeaderName(),
        v.union([
          v.picklist(['id', 'method', 'scopes', 'roles', 'tier', 'clientId']),
          functionOption<(principal: Principal) => string | undefined>(
            'a function (principal) => string | undefined',
          ),
        ]),
      ),
    ),
  }),
  (options, report) => {
    if (!isObject(options) || !isObject(options.token) || !isObject(options.headers)) return;
    const header = String(options.token.header ?? IDENTITY_HEADER).toLowerCase();
    if (Object.keys(options.headers).some((name) => name.toLowerCase() === header))
      report(['token', 'header'], `'${header}' is also set by forward.headers`);
  },
);

/** Builds the forwarder from options checked against {@link forwardOptionsSchema}. */
export function createForwarder(options: ForwardOptions): IdentityForwarder | undefined {
  const headerNames: string[] = [];
  const plain: Array<[string, (p: Principal) => string | undefined]> = [];
  for (const [name, field] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    plain.push([lower, typeof field === 'function' ? field : fieldReader(field)]);
    headerNames.push(lower);
  }
  const token = options.token;
  let sign: ((principal: Principal) => Promise<string>) | undefined;
  let tokenHeader: string | undefined;
  if (token !== undefined) {
    tokenHeader = (token.header ?? IDENTITY_HEADER).toLowerCase();
    headerNames.push(tokenHeader);
    sign = signer(token, token.ttlSec ?? 60);
  }
  if (headerNames.length === 0) return undefined;
  const cache = new WeakMap<Principal, Signed>();
  const ttlMs = (token?.ttlSec ?? 60) * 1000;

  const tokenFor = async (principal: Principal): Promise<string> => {
    const now = Date.now();
    const cached = cache.get(principal);
    if (cached !== undefined && cached.refreshAt > now) return cached.value;
    const value = await sign!(principal);
    // Principals from a token cache are the same object on every request: reuse the signature for
    // half its lifetime, so upstreams always receive at least ttl/2 of validity.
    cache.set(principal, { value, refreshAt: now + ttlMs / 2 });
    return value;
  };

  const headersFor = async (principal: Principal): Promise<Record<string, string>> => {
    const headers: Record<string, string> = {};
    for (const [name, read] of plain) {
      const value = read(principal);
      if (value !== undefined && safeValue(value)) headers[name] = value;
    }
    if (sign !== undefined) headers[tokenHeader!] = await tokenFor(principal);
    return headers;
  };

  return {
    headerNames,
    headersFor,
    apply(exchange, principal) {
      const req = exchange.req;
      const headers = req.headers;
      for (const name of headerNames) {
        if (headers[name] === undefined) continue;
        delete headers[name];
        // rawHeaders too, so nothing reading them (a proxy, exchange.rawHeader) sees the client's copy.
        req.rawHeaders = withoutRaw(req.rawHeaders, name);
      }
      if (principal === undefined) return;
      // Also on the exchange: a forwarder's hygiene strips identity-looking names (x-gatehouse-*,
      // x-user-*) from the request headers, and adds these back afterwards.
      const forward: Record<string, string> = {};
      exchange.state.forwardHeaders = forward;
      for (const [name, read] of plain) {
        const value = read(principal);
        if (value !== undefined && safeValue(value)) {
          headers[name] = value;
          forward[name] = value;
        }
      }
      if (sign === undefined) return;
      const cached = cache.get(principal);
      if (cached !== undefined && cached.refreshAt > Date.now()) {
        headers[tokenHeader!] = cached.value;
        forward[tokenHeader!] = cached.value;
        return;
      }
      return tokenFor(principal).then((value) => {
        headers[tokenHeader!] = value;
        forward[tokenHeader!] = value;
      });
    },
  };
}

/** jose's verdict as a refusal, counted under its reason; the message never carries the claims. */
function verifyRefusal(error: unknown): GatehouseError {
  if (error instanceof joseErrors.JWTExpired)
    return refuse(new AuthExpired('Identity token expired'), 'expired');
  const reason: RefusalReason =
    error instanceof joseErrors.JWTClaimValidationFailed
      ? 'claims'
      : error instanceof joseErrors.JOSEAlgNotAllowed
        ? 'algorithm'
        : error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid
          ? 'malformed'
          : 'bad_signature';
  return refuse(new AuthInvalid('Identity token is not valid'), reason);
}

function withoutRaw(raw: string[], name: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) kept.push(raw[i]!, raw[i + 1]!);
  }
  return kept;
}

function fieldReader(field: PrincipalField): (p: Principal) => string | undefined {
  switch (field) {
    case 'scopes':
      return (p) => p.scopes.join(' ');
    case 'roles':
      return (p) => p.roles.join(' ');
    default:
      return (p) => p[field];
  }
}

// Header values must not carry CR, LF or NUL (response splitting on the way upstream).
function safeValue(value: string): boolean {
  return typeof value === 'string' && !/[\r\n\0]/.test(value);
}

function signer(
  token: NonNullable<ForwardOptions['token']>,
  ttlSec: number,
): (p: Principal) => Promise<string> {
  const resolveKey = lazyKey(token.key, token.alg);
  return async (principal) => {
    const payload: JWTPayload = {
      sub: principal.id,
      gh_method: principal.method,
      scope: principal.scopes.join(' '),
      roles: [...principal.roles],
    };
    if (principal.tier !== undefined) payload.gh_tier = principal.tier;
    if (principal.clientId !== undefined) payload.client_id = principal.clientId;
    const now = Math.floor(Date.now() / 1000);
    // Never outlive the credential the principal came from.
    const credentialExp =
      principal.expiresAt === undefined ? Infinity : Math.floor(principal.expiresAt / 1000);
    return new SignJWT(payload)
      .setProtectedHeader({
        alg: token.alg,
        typ: 'gatehouse-identity+jwt',
        ...(token.kid ? { kid: token.kid } : {}),
      })
      .setIssuer(token.issuer ?? 'gatehouse')
      .setAudience(token.audience ?? 'gatehouse-upstream')
      .setIssuedAt(now)
      .setExpirationTime(Math.min(now + ttlSec, credentialExp))
      .setJti(crypto.randomUUID())
      .sign(await resolveKey());
  };
}

// A JWK is imported once, on first use; other key forms are used as they are.
function lazyKey(input: KeyInput, alg: IdentityAlgorithm): () => Promise<KeyObject | CryptoKey | Uint8Array> {
  let key: Promise<KeyObject | CryptoKey | Uint8Array> | undefined;
  return () => {
    key ??= isJwk(input)
      ? (importJWK(input, alg) as Promise<KeyObject | CryptoKey | Uint8Array>)
      : Promise.resolve(input as KeyObject | CryptoKey | Uint8Array);
    return key;
  };
}

function isJwk(value: unknown): value is JWK {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    typeof (value as { kty?: unknown }).kty === 'string'
  );
}

/** Options of {@link createIdentityVerifier}: the counterpart of `forward.token`. */
export interface IdentityVerifierOptions {
  /**
   * The verification key: the same secret (HS*, a `Uint8Array`) or the public key matching the
   * gateway's private key (a `KeyObject`, `CryptoKey`, public JWK, or PEM text: SPKI or certificate).
   */
  key: KeyInput | string;
  /** The pinned algorithm; tokens signed with any other are refused. */
  alg: IdentityAlgorithm;
  /** Expected `iss`. @default 'gatehouse' */
  issuer?: string;
  /** Expected `aud`. @default 'gatehouse-upstream' */
  audience?: string;
  /** Header read by `fromHeaders`. @default 'x-gatehouse-identity' */
  header?: string;
  /** Allowed clock skew in seconds. @default 5 */
  clockToleranceSec?: number;
}

/** What a service behind the gateway uses to trust forwarded identities. */
export interface IdentityVerifier {
  /** Verifies a token; throws `AuthInvalid` (401) when it is not one the gateway signed, or expired. */
  verify(token: string): Promise<Principal>;
  /** Reads the identity header from a Node/Express/Koa header object; `AuthRequired` when absent. */
  fromHeaders(headers: Record<string, string | string[] | undefined>): Promise<Principal>;
}

/** The options both the verifier and `identityAuthenticator` take. */
export const identityVerifierShape = {
  key: v.union(
    [
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description('A public key as PEM text (SPKI or an X.509 certificate).'),
      ),
      v.pipe(
        v.looseObject({ kty: v.string() }),
        v.description("A public JWK (or an 'oct' JWK holding an HS* secret)."),
      ),
      objectOption<KeyObject | CryptoKey | Uint8Array>('a KeyObject, a CryptoKey or a Uint8Array secret'),
    ],
    (issue) =>
      `${issue.input === undefined ? 'required: ' : ''}expected a key: PEM text, a JWK, a KeyObject, a CryptoKey or a Uint8Array secret`,
  ),
  alg: v.picklist(SIGNING_ALGORITHMS),
  issuer: v.optional(v.pipe(v.string(), v.minLength(1))),
  audience: v.optional(v.pipe(v.string(), v.minLength(1))),
  header: v.optional(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name'))),
  clockToleranceSec: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(300))),
};

/** A key that cannot verify tokens of `alg`, found when the options are checked rather than per request. */
export function checkVerifierKey(value: unknown, report: (path: string[], message: string) => void): void {
  if (typeof value !== 'object' || value === null) return;
  const { key, alg } = value as { key?: unknown; alg?: unknown };
  if (key === undefined || key === null) return;
  const known = typeof alg === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(alg);
  // Text is a public key whatever the algorithm says; other keys are judged against a known one.
  if (!known && (typeof key !== 'string' || key.includes('PRIVATE KEY'))) return;
  const problem = verifierKeyProblem(key, known ? (alg as IdentityAlgorithm) : 'EdDSA');
  if (problem !== undefined) report(['key'], problem);
}

function verifierKeyProblem(key: unknown, alg: IdentityAlgorithm): string | undefined {
  const hmac = alg.startsWith('HS');
  const minBytes = alg === 'HS512' ? 64 : alg === 'HS384' ? 48 : 32;
  if (key instanceof Uint8Array) {
    if (!hmac) return `${alg} verifies with a public key, not a secret`;
    return key.byteLength < minBytes ? `an ${alg} secret must be at least ${minBytes} bytes` : undefined;
  }
  if (isJwk(key)) {
    if (hmac !== (key.kty === 'oct'))
      return hmac ? `${alg} needs a secret ('oct' JWK)` : `${alg} needs a public JWK`;
    if (!hmac && 'd' in key) return 'is a private key; configure the public key';
    return undefined;
  }
  if (typeof key === 'string') {
    if (hmac) return `${alg} needs the secret as a Uint8Array`;
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) return 'is a private key; configure the public key';
    try {
      pemPublicKey(key);
    } catch {
      return 'is not a PEM public key or certificate';
    }
    return undefined;
  }
  if (key instanceof KeyObject) {
    if (hmac !== (key.type === 'secret'))
      return hmac ? `${alg} needs a secret key` : `${alg} needs a public key, not a secret`;
    if (key.type === 'private') return 'is a private key; configure the public key';
  }
  return undefined;
}

function pemPublicKey(pem: string): KeyObject {
  return pem.includes('-----BEGIN CERTIFICATE-----')
    ? new X509Certificate(pem).publicKey
    : createPublicKey(pem);
}

/** The valibot schema {@link createIdentityVerifier} checks its options against. */
export const identityVerifierOptionsSchema = withCrossCheck(
  v.strictObject(identityVerifierShape),
  checkVerifierKey,
);

/**
 * For services behind the gateway: verifies the internal identity token it forwards.
 *
 * @throws ConfigError listing every problem in the options.
 *
 * @example
 *   const identity = createIdentityVerifier({ key: sharedSecret, alg: 'HS256' });
 *   app.use(async (req, res, next) => { req.user = await identity.fromHeaders(req.headers); next(); });
 */
export function createIdentityVerifier(options: IdentityVerifierOptions): IdentityVerifier {
  parseOptions(identityVerifierOptionsSchema, options, { name: 'createIdentityVerifier' });
  return identityVerifierFrom(options);
}

/** A verifier from options already checked against {@link identityVerifierOptionsSchema}. */
export function identityVerifierFrom(options: IdentityVerifierOptions): IdentityVerifier {
  const header = (options.header ?? IDENTITY_HEADER).toLowerCase();
  const resolveKey = lazyKey(
    typeof options.key === 'string' ? pemPublicKey(options.key) : options.key,
    options.alg,
  );
  const verify = async (token: string): Promise<Principal> => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) {
      throw refuse(new AuthInvalid('Malformed identity token'), 'malformed');
    }
    try {
      const { payload } = await jwtVerify(token, await resolveKey(), {
        algorithms: [options.alg],
        issuer: options.issuer ?? 'gatehouse',
        audience: options.audience ?? 'gatehouse-upstream',
        typ: 'gatehouse-identity+jwt',
        clockTolerance: options.clockToleranceSec ?? 5,
        requiredClaims: ['exp', 'sub'],
      });
      return {
        id: String(payload.sub),
        method: typeof payload.gh_method === 'string' ? payload.gh_method : 'forwarded',
        scopes: scopeList(payload.scope),
        roles: scopeList(payload.roles),
        ...(typeof payload.gh_tier === 'string' ? { tier: payload.gh_tier } : {}),
        ...(typeof payload.client_id === 'string' ? { clientId: payload.client_id } : {}),
        claims: payload,
        expiresAt: (payload.exp as number) * 1000,
      };
    } catch (error) {
      throw verifyRefusal(error);
    }
  };
  return {
    verify,
    fromHeaders(headers) {
      const value = headers[header];
      if (Array.isArray(value))
        return Promise.reject(refuse(new AuthInvalid('Identity header sent twice'), 'conflict'));
      if (value === undefined || value === '') return Promise.reject(new AuthRequired('No identity token'));
      return verify(value);
    },
  };
}
