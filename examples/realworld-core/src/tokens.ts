// The JWTs Conduit issues at registration and login (`Authorization: Token <jwt>`): HS256 with the
// monolith's secret, `sub` the user's id. The same claims are what a Gatehouse jwtAuthenticator is
// configured to check (issuer, audience, algorithm), so the gateway can take over verification.
import { jwtVerify, SignJWT } from 'jose';
import { unauthorized } from './errors.js';

/** `iss` of every Conduit token. */
export const TOKEN_ISSUER = 'conduit';
/** `aud` of every Conduit token. */
export const TOKEN_AUDIENCE = 'conduit-api';
/** The only algorithm Conduit signs and accepts. */
export const TOKEN_ALGORITHM = 'HS256';

export interface TokenOptions {
  /** The HMAC secret, at least 32 bytes (a shorter HS256 key is refused by Gatehouse too). */
  secret: Uint8Array;
  /** Token lifetime in seconds. Default 24 h. */
  ttlSec?: number;
}

export interface Tokens {
  sign(userId: number): Promise<string>;
  /** The user id in a valid token; throws a 401 ConduitError otherwise. */
  verify(token: string): Promise<number>;
}

export function createTokens(options: TokenOptions): Tokens {
  if (options.secret.byteLength < 32)
    throw new TypeError('tokens.secret: at least 32 bytes are needed for HS256');
  const ttl = options.ttlSec ?? 24 * 3600;
  return {
    sign(userId) {
      return new SignJWT({})
        .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
        .setSubject(String(userId))
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(options.secret);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, options.secret, {
          algorithms: [TOKEN_ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'exp'],
        });
        return userIdOf(payload.sub);
      } catch {
        throw unauthorized();
      }
    },
  };
}

/** A user id from a token's `sub` (or a forwarded principal's id); throws 401 when it is not one. */
export function userIdOf(subject: unknown): number {
  const id = typeof subject === 'string' && /^[1-9][0-9]{0,9}$/.test(subject) ? Number(subject) : Number.NaN;
  if (!Number.isSafeInteger(id) || id > 2_147_483_647) throw unauthorized();
  return id;
}

/** The token in an `Authorization: Token <jwt>` header (the RealWorld scheme); undefined otherwise. */
export function tokenFromHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^Token +([^\s]+)$/i.exec(value);
  return match?.[1];
}
