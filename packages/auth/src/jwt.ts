// JWT bearer-token authentication (RFC 7519, RFC 8725 practices, optionally the RFC 9068 access-token
// profile) on jose, with keys from a JWKS endpoint or configured statically.
import {
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  KeyObject,
  type webcrypto,
  X509Certificate,
} from 'node:crypto';
import {
  type Exchange,
  functionOption,
  type GatehouseError,
  isGatehouseError,
  objectOption,
  parseOptions,
  withCrossCheck,
} from '@gatehousejs/core';
import {
  type CryptoKey,
  type JWK,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { createLRU } from 'lru.min';
import * as v from 'valibot';
import { type BearerOptions, checkBearerSyntax, readBearerUnchecked } from './bearer.js';
import { AuthExpired, AuthFailed, AuthInvalid, refuse } from './errors.js';
import {
  isAcceptableKid,
  type JwksCache,
  type JwksOptions,
  jwksCacheFrom,
  jwksInput,
  jwksOptionsSchema,
  resolveJwksOptions,
  unknownKey,
} from './jwks.js';
import { messageOr, oneOrMany, queryOption } from './options.js';
import { type Authenticator, claimAt, type Principal, scopeList } from './principal.js';

/** A verification key configured in code rather than fetched from a JWKS. */
export interface JwtStaticKey {
  /**
   * The key: a public `KeyObject` or `CryptoKey`, a public JWK, a PEM string (SPKI public key or X.509
   * certificate), or, for HS256/HS384/HS512 only, the shared secret as a `Uint8Array` (or an `oct`
   * JWK / secret `KeyObject`). Private keys are refused: the gateway only verifies.
   */
  key: KeyObject | CryptoKey | JWK | string | Uint8Array;
  /**
   * The one algorithm this key verifies (`'RS256'`, `'ES256'`, `'EdDSA'`, `'HS256'`, …). Required:
   * a key is never used with an algorithm chosen by the token (RFC 8725 §3.1).
   */
  alg: string;
  /** Key id; when set, tokens whose header names another `kid` do not use this key. */
  kid?: string;
}

/** Options of {@link jwtAuthenticator}. */
export interface JwtOptions {
  /** Fetch keys from the issuer's JWKS endpoint. Exactly one of `jwks` and `keys` is required. */
  jwks?: JwksOptions;
  /** Verify with these keys. Exactly one of `jwks` and `keys` is required. */
  keys?: readonly JwtStaticKey[];
  /**
   * Algorithms accepted from JWKS keys. `none` and HMAC algorithms are never accepted from a JWKS.
   * A JWKS key that states its own `alg` is used with that algorithm only. Not allowed with `keys`
   * (each static key states its algorithm).
   *
   * @default ['RS256', 'PS256', 'ES256', 'EdDSA']
   */
  algorithms?: readonly string[];
  /** Accepted `iss` value(s). Required. */
  issuer: string | readonly string[];
  /**
   * Accepted `aud` value(s): the token's `aud` must contain one. Required unless
   * `dangerouslySkipAudienceCheck` is true.
   */
  audience?: string | readonly string[];
  /**
   * Accept tokens whatever their audience, i.e. tokens issued for other services too. Only for an
   * issuer that mints tokens for this API alone. Not allowed with the `rfc9068` profile.
   *
   * @default false
   */
  dangerouslySkipAudienceCheck?: boolean;
  /**
   * Leeway for `exp` and `nbf`, in seconds; at most 300.
   *
   * @default 30
   */
  clockToleranceSec?: number;
  /**
   * Claims that must be present besides the ones always required (`exp`, `iss`, `aud`, and those of
   * the profile).
   *
   * @default []
   */
  requiredClaims?: readonly string[];
  /**
   * `'rfc9068'` enforces the JWT access-token profile: header `typ` `at+jwt` (or
   * `application/at+jwt`) and claims `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`.
   *
   * @default 'jwt'
   */
  profile?: 'jwt' | 'rfc9068';
  /**
   * Claim (dotted path) holding the granted scopes, space-separated or an array. With the default,
   * `scp` is read when `scope` is absent.
   *
   * @default 'scope'
   */
  scopesClaim?: string;
  /**
   * Claim (dotted path, e.g. `'realm_access.roles'`) holding roles, an array or space-separated.
   *
   * @default 'roles'
   */
  rolesClaim?: string;
  /**
   * Claim (dotted path) holding the caller's plan or tier; none by default.
   *
   * @default undefined
   */
  tierClaim?: string;
  /**
   * Claim (dotted path) holding the principal id; a token without it (as a non-empty string) is refused.
   *
   * @default 'sub'
   */
  subjectClaim?: string;
  /**
   * Tokens longer than this are refused before any parsing.
   *
   * @default 8192
   */
  maxTokenBytes?: number;
  /**
   * Cache of verified tokens, keyed by the token: a hit costs a lookup and an expiry check. An entry
   * lives until the token's `exp` or `maxTtlMs`, whichever is first; failures are never cached.
   * Because entries are reused for up to `maxTtlMs`, a key removed from the JWKS keeps its tokens
   * valid that long. `false` verifies every request.
   *
   * @default { max: 10_000, maxTtlMs: 300_000 }
   */
  cache?: { max?: number; maxTtlMs?: number } | false;
  /**
   * Also accept the token from this query parameter (RFC 6750 §2.3), e.g. `'access_token'`.
   *
   * @default false
   */
  query?: BearerOptions['query'];
  /**
   * The `Authorization` scheme(s) that carry the token, compared case-insensitively (RFC 9110 §11.1):
   * `'Token'` for clients that send `Authorization: Token <jwt>` (RealWorld/Conduit), or a list such as
   * `['Bearer', 'Token']` to accept both. The first is the method's `scheme`, named first in
   * `WWW-Authenticate`; only `Bearer` challenges carry RFC 6750's `error` parameters.
   *
   * @default 'Bearer'
   */
  scheme?: string | readonly string[];
  /**
   * Customises the principal built from the verified claims; its result is merged over the default
   * mapping (`method` and `expiresAt` stay as verified).
   *
   * @default undefined
   */
  toPrincipal?: (claims: Readonly<JWTPayload>) => Partial<Principal>;
}

/** A JWT authenticator; `verify` checks a token without an exchange (e.g. for WebSocket upgrades). */
export interface JwtAuthenticator extends Authenticator {
  readonly name: 'jwt';
  /** The first configured scheme (`'Bearer'` by default). */
  readonly scheme: string;
  /** Every configured scheme. */
  readonly schemes: readonly string[];
  /**
   * Verifies a token (using the cache) and returns its principal.
   *
   * @throws the same refusals as `authenticate`.
   */
  verify(token: string): Promise<Principal>;
  /** The JWKS cache when configured with `jwks`, for admin pages and tests. */
  readonly jwks: JwksCache | undefined;
}

const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const ASYMMETRIC = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
// Minimum secret length per RFC 7518 §3.2: at least the size of the hash output.
const HMAC_MIN_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };
const EC_CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const RFC9068_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];
const MAX_CLOCK_TOLERANCE_SEC = 300;
// A token without a kid, when several keys fit, is tried against this many of them at most.
const MAX_KEY_CANDIDATES = 8;
// JWS compact serialization: header.payload.signature, base64url. Checked before jose parses anything.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

// Node has had a global CryptoKey since 17; the type lives in the DOM lib, which this package omits.
const CryptoKeyClass = (globalThis as { CryptoKey?: abstract new () => unknown }).CryptoKey;

interface PreparedKey {
  readonly key: KeyObject | Uint8Array;
  readonly alg: string;
  readonly kid: string | undefined;
}

/**
 * The verified-token cache is keyed by the last characters of the signature, not the whole token:
 * every request brings a fresh string, and hashing a ~600-character token for a Map lookup cost
 * ~1.1 µs a request (measured), the tail ~0.2 µs. The tail of a signature is as good as random; the
 * entry keeps the full token and a hit needs an exact match, so a collision is only a miss.
 */
const CACHE_KEY_CHARS = 32;
const cacheKey = (token: string): string => token.slice(-CACHE_KEY_CHARS);

interface CacheEntry {
  /** The exact token verified. */
  readonly token: string;
  readonly principal: Principal;
  /** Epoch ms after which the entry never answers: min(exp, verification time + maxTtlMs). */
  readonly until: number;
}

/** Several static keys fit a token without a usable kid; iterated like jose's JWKSMultipleMatchingKeys. */
class SeveralKeys extends Error {
  constructor(readonly keys: readonly (KeyObject | Uint8Array)[]) {
    super('several keys match');
  }
  async *[Symbol.asyncIterator]() {
    yield* this.keys;
  }
}

/**
 * Authenticates `Authorization: Bearer <JWT>` requests (or the schemes `scheme` names). Options are validated here, once: every
 * problem is reported in one `ConfigError` with paths under `jwt`.
 *
 * Refusals: AuthExpired (`expired`, `not_yet_valid`); AuthInvalid (`malformed`, `too_large`,
 * `bad_signature`, `algorithm`, `unknown_key`, `claims`); AuthConflict from {@link readBearer};
 * AuthUnavailable when the JWKS cannot be fetched and no keys are cached. Messages never contain the
 * token or its claims.
 *
 * @example
 *   const jwt = jwtAuthenticator({
 *     jwks: { url: 'https://idp.example/.well-known/jwks.json' },
 *     issuer: 'https://idp.example/',
 *     audience: 'https://api.example/',
 *   });
 */
export function jwtAuthenticator(options: JwtOptions): JwtAuthenticator {
  const config = resolveOptions(options);
  const { cache, maxTokenBytes, verifyOptions, bearer, jwks } = config;
  const pending = new Map<string, Promise<Principal>>();
  // The gateway that hears about JWKS outages: the one whose requests this method last saw.
  let reporter: Exchange['runtime'] | undefined;

  // Looked up on the jwks object at each call so that instrumentation (or a test spy) sees every use.
  const getKey: JWTVerifyGetKey =
    jwks !== undefined ? (header, token) => jwks.getKey(header, token) : staticResolver(config.staticKeys);

  async function verifyUncached(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      payload = await verifyWithCandidates(token, getKey, verifyOptions);
    } catch (error) {
      throw mapError(error);
    }
    const principal = toPrincipal(payload, config);
    if (cache !== undefined) {
      const now = Date.now();
      const until = Math.min(principal.expiresAt!, now + config.cacheMaxTtlMs);
      // A token accepted only thanks to clock tolerance is past its exp: never cached.
      if (until > now) cache.set(cacheKey(token), { token, principal, until });
    }
    return principal;
  }

  // Concurrent requests with the same uncached token share one verification.
  function verifyShared(token: string): Promise<Principal> {
    let promise = pending.get(token);
    if (promise === undefined) {
      promise = verifyUncached(token).finally(() => pending.delete(token));
      pending.set(token, promise);
    }
    return promise;
  }

  function cached(token: string): Principal | undefined {
    const key = cacheKey(token);
    const entry = cache!.get(key);
    // Another token with the same signature tail is a miss (it is verified), never an eviction.
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.until > Date.now()) return entry.principal;
    cache!.delete(key);
    return undefined;
  }

  return {
    name: 'jwt',
    scheme: config.schemes[0]!,
    schemes: config.schemes,
    jwks,
    authenticate(exchange: Exchange) {
      if (jwks !== undefined && exchange.runtime !== reporter) {
        reporter = exchange.runtime;
        jwks.monitor.reportTo(reporter);
      }
      // The syntax check (a regular expression over the whole token) runs only on a cache miss: a
      // cached token is the exact string that passed it when it was verified.
      const token = readBearerUnchecked(exchange, bearer);
      if (token === undefined) return undefined;
      if (token.length > maxTokenBytes) throw tooLarge(maxTokenBytes);
      if (cache !== undefined) {
        const hit = cached(token);
        if (hit !== undefined) return hit;
      }
      checkBearerSyntax(token);
      return verifyShared(token);
    },
    async verify(token: string) {
      if (typeof token !== 'string') throw malformed();
      if (token.length > maxTokenBytes) throw tooLarge(maxTokenBytes);
      const hit = cache === undefined ? undefined : cached(token);
      return hit ?? verifyShared(token);
    },
    close() {
      jwks?.close();
      cache?.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Verification

async function verifyWithCandidates(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  // jose would reject these too, but later and with less precise errors; a JWE (five segments) is
  // not a signed token at all.
  if (!COMPACT_JWS.test(token)) throw malformed();
  try {
    return (await jwtVerify(token, getKey, options)).payload;
  } catch (error) {
    if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys || error instanceof SeveralKeys)) throw error;
    // No kid and several keys fit: try each; the first whose signature verifies decides.
    let tried = 0;
    for await (const key of error as AsyncIterable<CryptoKey | KeyObject | Uint8Array>) {
      if (++tried > MAX_KEY_CANDIDATES) break;
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof joseErrors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new joseErrors.JWSSignatureVerificationFailed();
  }
}

function staticResolver(keys: readonly PreparedKey[]): JWTVerifyGetKey {
  const byAlg = new Map<string, PreparedKey[]>();
  for (const k of keys) {
    const list = byAlg.get(k.alg);
    if (list === undefined) byAlg.set(k.alg, [k]);
    else list.push(k);
  }
  return (header: JWSHeaderParameters) => {
    // jose has already checked alg against the configured keys' algorithms.
    const list = byAlg.get(header.alg ?? '') ?? [];
    const kid = header.kid;
    let candidates = list;
    if (kid !== undefined) {
      if (!isAcceptableKid(kid)) throw unknownKey();
      candidates = list.filter((k) => k.kid === kid);
      if (candidates.length === 0) candidates = list.filter((k) => k.kid === undefined);
    }
    if (candidates.length === 0) throw unknownKey();
    if (candidates.length === 1) return candidates[0]!.key;
    throw new SeveralKeys(candidates.map((k) => k.key));
  };
}

const malformed = () => refuse(new AuthInvalid('Malformed token'), 'malformed');
const tooLarge = (max: number) => refuse(new AuthInvalid(`Token exceeds ${max} bytes`), 'too_large');
const algorithmRefused = () => refuse(new AuthInvalid('Token algorithm is not accepted'), 'algorithm');
const claimsRefused = (what: string) => refuse(new AuthInvalid(`Token ${what}`), 'claims');

/** Every failure as a Gatehouse refusal; jose's errors (which may carry the claims) never escape. */
function mapError(error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  if (error instanceof joseErrors.JOSEError) {
    switch (error.code) {
      case 'ERR_JWT_EXPIRED':
        return refuse(new AuthExpired('Token has expired'), 'expired');
      case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
        const { claim, reason } = error as joseErrors.JWTClaimValidationFailed;
        if (claim === 'nbf' && reason === 'check_failed') {
          return refuse(new AuthExpired('Token is not valid yet'), 'not_yet_valid');
        }
        if (claim === 'typ') return claimsRefused('type (typ header) is not accepted');
        // The claim name comes from jose's fixed set or from our configuration, never from the token.
        return claimsRefused(
          reason === 'missing' ? `lacks the '${claim}' claim` : `'${claim}' claim is not accepted`,
        );
      }
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return algorithmRefused();
      case 'ERR_JOSE_NOT_SUPPORTED':
        // jose uses this class for an algorithm it or the runtime lacks, and for a `crit` header
        // naming an extension it does not understand (RFC 7515 §4.1.11); only the message tells them
        // apart, and the reason is only a metrics label, so an unrecognised message counts as algorithm.
        return error.message.startsWith('Extension Header Parameter') ? malformed() : algorithmRefused();
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return refuse(new AuthInvalid('Token signature does not verify'), 'bad_signature');
      case 'ERR_JWS_INVALID':
      case 'ERR_JWT_INVALID':
        return malformed();
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return unknownKey();
      case 'ERR_JWKS_INVALID':
      case 'ERR_JWK_INVALID':
        // The issuer published a key that cannot be used (not public, bad parameters).
        return refuse(new AuthInvalid('Token signing key is not usable'), 'unknown_key');
      default:
        return new AuthFailed('Token verification failed');
    }
  }
  // Not the client's doing: a key jose refuses to use (an RSA modulus under 2048 bits), or a bug.
  // The cause is kept for logs; it is never rendered (500 is not exposed).
  return new AuthFailed('Token verification failed', { cause: error });
}

// ---------------------------------------------------------------------------------------------------
// Claims → principal

function toPrincipal(payload: JWTPayload, config: ResolvedJwtOptions): Principal {
  const exp = payload.exp;
  // jose checked that exp is a number; JSON can still spell Infinity (1e999).
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw claimsRefused("'exp' claim is not accepted");
  const id = claimAt(payload, config.subjectClaim);
  if (typeof id !== 'string' || id.length === 0) throw claimsRefused('has no subject');
  let scopeValue = claimAt(payload, config.scopesClaim);
  if (scopeValue === undefined && config.scopesClaim === 'scope') scopeValue = payload['scp'];
  const tierValue = config.tierClaim === undefined ? undefined : claimAt(payload, config.tierClaim);
  const clientId =
    typeof payload['client_id'] === 'string'
      ? payload['client_id']
      : typeof payload['azp'] === 'string'
        ? payload['azp']
        : undefined;
  const claims = Object.freeze(payload);
  let principal: Principal = {
    id,
    method: 'jwt',
    scopes: Object.freeze(scopeList(scopeValue)),
    roles: Object.freeze(scopeList(claimAt(payload, config.rolesClaim))),
    tier: typeof tierValue === 'string' && tierValue.length > 0 ? tierValue : undefined,
    clientId,
    claims,
    expiresAt: exp * 1000,
  };
  if (config.toPrincipal !== undefined) {
    let custom: Partial<Principal>;
    try {
      custom = config.toPrincipal(claims);
    } catch (error) {
      // A refusal chosen on purpose (AuthForbidden, AuthInvalid, …) stands; anything else is a fault.
      if (isGatehouseError(error)) throw error;
      throw new AuthFailed('toPrincipal failed', { cause: error });
    }
    principal = { ...principal, ...custom, method: 'jwt', expiresAt: principal.expiresAt };
    if (typeof principal.id !== 'string' || principal.id.length === 0) {
      throw new AuthFailed('toPrincipal returned a principal without an id');
    }
  }
  return Object.freeze(principal);
}

// ---------------------------------------------------------------------------------------------------
// Options

interface ResolvedJwtOptions {
  readonly jwks: JwksCache | undefined;
  readonly staticKeys: readonly PreparedKey[];
  readonly verifyOptions: JWTVerifyOptions;
  readonly cache: ReturnType<typeof createLRU<string, CacheEntry>> | undefined;
  readonly cacheMaxTtlMs: number;
  readonly maxTokenBytes: number;
  readonly bearer: BearerOptions;
  readonly schemes: readonly string[];
  readonly scopesClaim: string;
  readonly rolesClaim: string;
  readonly tierClaim: string | undefined;
  readonly subjectClaim: string;
  readonly toPrincipal: JwtOptions['toPrincipal'];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const STATIC_ALGORITHMS = [...ASYMMETRIC, ...Object.keys(HMAC_MIN_BYTES)] as const;
const noneRefused = (issue: { input?: unknown }) =>
  typeof issue.input === 'string' && issue.input.toLowerCase() === 'none'
    ? "'none' is never accepted"
    : undefined;

/** The valibot schema of one {@link JwtStaticKey}: the key is checked against its `alg` as well. */
export const jwtStaticKeySchema = withCrossCheck(
  v.strictObject({
    key: v.union(
      [
        v.pipe(
          v.string(),
          v.minLength(1),
          v.description('A public key as PEM text (SPKI or an X.509 certificate).'),
        ),
        v.pipe(v.looseObject({ kty: v.string() }), v.description("A public JWK, or an 'oct' JWK for HS*.")),
        objectOption<KeyObject | CryptoKey | Uint8Array>('a KeyObject, a CryptoKey or a Uint8Array secret'),
      ],
      (issue) =>
        `${issue.input === undefined ? 'required: ' : ''}expected a key: PEM text, a JWK, a KeyObject, a CryptoKey or a Uint8Array secret`,
    ),
    alg: v.picklist(
      STATIC_ALGORITHMS,
      messageOr((issue) =>
        issue.input === undefined ? 'required: a static key must state its algorithm' : noneRefused(issue),
      ),
    ),
    kid: v.optional(
      v.pipe(
        v.string(),
        v.check(
          (kid: string) => isAcceptableKid(kid),
          'must be a non-empty string of at most 256 characters without control characters',
        ),
        v.minLength(1, 'must be a non-empty string of at most 256 characters without control characters'),
      ),
    ),
  }),
  (entry, report) => {
    if (!isObject(entry) || typeof entry.alg !== 'string') return;
    if (!(STATIC_ALGORITHMS as readonly string[]).includes(entry.alg)) return;
    if (entry.key === undefined || entry.key === null) return;
    const prepared = prepareKey(entry.key, entry.alg);
    if (typeof prepared === 'string') report(['key'], prepared);
  },
);

/**
 * The valibot schema of {@link JwtOptions}, checked by {@link jwtAuthenticator} (paths under `jwt`). Keys
 * are checked against their algorithms; `toPrincipal` and `jwks.fetch` are code only.
 */
export const jwtOptionsSchema = withCrossCheck(
  v.strictObject({
    jwks: v.optional(jwksOptionsSchema),
    keys: v.optional(v.pipe(v.array(jwtStaticKeySchema), v.minLength(1))),
    algorithms: v.optional(
      v.pipe(
        v.array(
          v.picklist(
            [...ASYMMETRIC] as [string, ...string[]],
            messageOr(
              (issue) =>
                noneRefused(issue) ??
                (typeof issue.input === 'string' && issue.input.startsWith('HS')
                  ? `${issue.input} (a shared secret) cannot come from a JWKS; use \`keys\``
                  : undefined),
            ),
          ),
        ),
        v.minLength(1),
      ),
    ),
    issuer: oneOrMany('the accepted issuer (a string or a list of them)'),
    audience: v.optional(oneOrMany('the accepted audience (a string or a list of them)')),
    dangerouslySkipAudienceCheck: v.optional(v.boolean()),
    clockToleranceSec: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(MAX_CLOCK_TOLERANCE_SEC))),
    requiredClaims: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
    profile: v.optional(v.picklist(['jwt', 'rfc9068'])),
    scopesClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    rolesClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    tierClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    subjectClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    maxTokenBytes: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
    cache: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({
          max: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
          maxTtlMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
        }),
      ]),
    ),
    query: v.optional(queryOption()),
    scheme: v.optional(schemeOption()),
    toPrincipal: v.optional(
      functionOption<(claims: Readonly<JWTPayload>) => Partial<Principal>>(
        'a function (claims) => Partial<Principal>',
      ),
    ),
  }),
  (options, report) => {
    if (!isObject(options)) return;
    if (options.jwks !== undefined && options.keys !== undefined)
      report([], 'set either `jwks` or `keys`, not both');
    else if (options.jwks === undefined && options.keys === undefined)
      report([], 'one of `jwks` or `keys` is required');
    if (options.keys !== undefined && options.algorithms !== undefined)
      report(['algorithms'], 'applies to `jwks` only; each static key states its own `alg`');
    // Keys without a kid may share an alg (each is tried); two with the same kid are a mistake.
    if (Array.isArray(options.keys)) {
      const seen = new Set<string>();
      options.keys.forEach((entry: unknown, i: number) => {
        if (!isObject(entry) || typeof entry.kid !== 'string' || typeof entry.alg !== 'string') return;
        const identity = `${entry.alg} ${entry.kid}`;
        if (seen.has(identity)) report(['keys', i], 'another key has the same alg and kid');
        seen.add(identity);
      });
    }
    const skip = options.dangerouslySkipAudienceCheck === true;
    if (skip && options.audience !== undefined)
      report(['audience'], 'cannot be combined with `dangerouslySkipAudienceCheck: true`');
    if (!skip && options.audience === undefined) report(['audience'], 'is required');
    if (skip && options.profile === 'rfc9068')
      report(['dangerouslySkipAudienceCheck'], 'RFC 9068 requires the audience to be checked');
  },
);

/** The `Authorization` scheme(s): tokens (RFC 9110 §11.1), each once whatever its case. */
function schemeOption() {
  const token = v.pipe(
    v.string(),
    v.regex(
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
      'expected an auth-scheme: a token such as Bearer or Token, without spaces',
    ),
  );
  return withCrossCheck(v.union([token, v.pipe(v.array(token), v.minLength(1))]), (value, report) => {
    if (!Array.isArray(value)) return;
    const lower = value.map((x) => String(x).toLowerCase());
    lower.forEach((x, i) => {
      if (lower.indexOf(x) !== i) report([i], `'${String(value[i])}' is listed twice (schemes ignore case)`);
    });
  });
}

function resolveOptions(options: JwtOptions): ResolvedJwtOptions {
  const input =
    isObject(options) && options.jwks !== undefined ? { ...options, jwks: jwksInput(options.jwks) } : options;
  const o = parseOptions(jwtOptionsSchema, input, { name: 'jwt' });
  const staticKeys: PreparedKey[] = (o.keys ?? []).map((entry) => ({
    // Checked by the schema: prepareKey gives a key here.
    key: prepareKey(entry.key, entry.alg) as KeyObject | Uint8Array,
    alg: entry.alg,
    kid: entry.kid,
  }));
  const algorithms =
    o.jwks !== undefined
      ? [...(o.algorithms ?? DEFAULT_ALGORITHMS)]
      : [...new Set(staticKeys.map((k) => k.alg))];
  const required = new Set<string>(['exp', ...(o.requiredClaims ?? [])]);
  const profile = o.profile ?? 'jwt';
  if (profile === 'rfc9068') for (const claim of RFC9068_CLAIMS) required.add(claim);
  const verifyOptions: JWTVerifyOptions = {
    algorithms,
    issuer: typeof o.issuer === 'string' ? o.issuer : [...o.issuer],
    clockTolerance: o.clockToleranceSec ?? 30,
    requiredClaims: [...required],
  };
  if (o.dangerouslySkipAudienceCheck !== true && o.audience !== undefined)
    verifyOptions.audience = typeof o.audience === 'string' ? [o.audience] : [...o.audience];
  if (profile === 'rfc9068') verifyOptions.typ = 'at+jwt';
  const schemes = Object.freeze(typeof o.scheme === 'string' ? [o.scheme] : [...(o.scheme ?? ['Bearer'])]);
  const cache = o.cache === false ? undefined : (o.cache ?? {});
  return {
    jwks: o.jwks === undefined ? undefined : jwksCacheFrom(resolveJwksOptions(o.jwks)),
    staticKeys,
    verifyOptions,
    cache: cache === undefined ? undefined : createLRU<string, CacheEntry>({ max: cache.max ?? 10_000 }),
    cacheMaxTtlMs: cache?.maxTtlMs ?? 300_000,
    maxTokenBytes: o.maxTokenBytes ?? 8192,
    // The default scheme takes readBearer's precompiled path.
    bearer: {
      query: o.query ?? false,
      scheme: schemes.length === 1 && schemes[0] === 'Bearer' ? undefined : schemes,
    },
    schemes,
    scopesClaim: o.scopesClaim ?? 'scope',
    rolesClaim: o.rolesClaim ?? 'roles',
    tierClaim: o.tierClaim,
    subjectClaim: o.subjectClaim ?? 'sub',
    toPrincipal: o.toPrincipal,
  };
}

/** The key ready for jose, or a problem message (never quoting key material). */
function prepareKey(input: unknown, alg: string): KeyObject | Uint8Array | string {
  let key: KeyObject;
  try {
    if (input instanceof KeyObject) key = input;
    else if (CryptoKeyClass !== undefined && input instanceof CryptoKeyClass) {
      key = KeyObject.from(input as webcrypto.CryptoKey);
    } else if (input instanceof Uint8Array) key = createSecretKey(Buffer.from(input));
    else if (typeof input === 'string') {
      if (!input.includes('-----BEGIN ')) {
        return 'must be a PEM public key; pass an HMAC secret as a Uint8Array';
      }
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(input))
        return 'is a private key; configure the public key';
      key = input.includes('-----BEGIN CERTIFICATE-----')
        ? new X509Certificate(input).publicKey
        : createPublicKey(input);
    } else if (typeof input === 'object' && input !== null && typeof (input as JWK).kty === 'string') {
      const jwk = input as JWK;
      if (jwk.alg !== undefined && jwk.alg !== alg)
        return `JWK states alg '${jwk.alg}' but the entry says '${alg}'`;
      if (jwk.kty === 'oct') {
        if (typeof jwk.k !== 'string') return 'oct JWK has no `k`';
        key = createSecretKey(Buffer.from(jwk.k, 'base64url'));
      } else {
        if ('d' in jwk) return 'is a private key; configure the public key';
        key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      }
    } else {
      return 'must be a KeyObject, CryptoKey, JWK, PEM string or Uint8Array secret';
    }
  } catch {
    return 'is not a valid key';
  }

  const minSecret = HMAC_MIN_BYTES[alg];
  if (minSecret !== undefined) {
    if (key.type !== 'secret') return `${alg} needs a shared secret, not an asymmetric key`;
    if (key.symmetricKeySize! < minSecret) return `${alg} needs a secret of at least ${minSecret} bytes`;
    return new Uint8Array(key.export());
  }
  if (key.type === 'secret') return `${alg} needs an asymmetric public key, not a secret`;
  if (key.type === 'private') return 'is a private key; configure the public key';
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    if (type !== 'rsa') return `${alg} needs an RSA key (rsaEncryption), got ${type}`;
    if ((details?.modulusLength ?? 0) < 2048) return `${alg} needs an RSA key of at least 2048 bits`;
  } else if (alg.startsWith('ES')) {
    if (type !== 'ec' || details?.namedCurve !== EC_CURVES[alg])
      return `${alg} needs an EC key on ${EC_CURVES[alg]}`;
  } else if (type !== 'ed25519') {
    return `${alg} needs an Ed25519 key, got ${type}`;
  }
  return key;
}
