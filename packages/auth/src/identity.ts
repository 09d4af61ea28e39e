// The identity a gateway in front signs and forwards (`forward.token`), read as an authentication
// method by a service that runs Gatehouse itself. That service's header hygiene strips every
// client's copy of `x-gatehouse-*` (the gateway is a client too, to it), so the token is read from
// what hygiene set aside (`exchange.strippedHeader`) and trusted only once its signature verifies
// with the gateway's key: a copy a client forged is refused, and the application never sees any.
import { parseOptions, withCrossCheck } from '@gatehousejs/core';
import { createLRU } from 'lru.min';
import * as v from 'valibot';
import { AuthConflict, AuthInvalid, refuse } from './errors.js';
import {
  checkVerifierKey,
  IDENTITY_HEADER,
  type IdentityVerifierOptions,
  identityVerifierFrom,
  identityVerifierShape,
} from './forward.js';
import type { Authenticator, Principal } from './principal.js';

/**
 * Options of {@link identityAuthenticator}: the verifier's ({@link IdentityVerifierOptions}, the
 * counterpart of the gateway's `forward.token`) and a cache.
 *
 * @example
 *   identityAuthenticator({ key: createPublicKey(readFileSync('identity-signing.pub.pem')), alg: 'EdDSA' })
 */
export interface IdentityAuthenticatorOptions extends IdentityVerifierOptions {
  /**
   * Verified tokens remembered until they expire, keyed by the token: the gateway reuses one
   * signature per principal for half its lifetime, so most requests skip the signature check. At
   * most `max` tokens (least recently used goes first); `false` verifies every request.
   *
   * @default { max: 10_000 }
   */
  cache?: { max?: number } | false;
}

/** The valibot schema {@link identityAuthenticator} checks its options against. */
export const identityAuthenticatorOptionsSchema = withCrossCheck(
  v.strictObject({
    ...identityVerifierShape,
    cache: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({ max: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))) }),
      ]),
    ),
  }),
  checkVerifierKey,
);

interface Entry {
  readonly token: string;
  readonly principal: Principal;
}

/**
 * Authenticates requests by the identity token a Gatehouse gateway in front signed and forwarded
 * (its `forward.token`): the method of a service that runs Gatehouse too. The token is read from
 * `header` (`x-gatehouse-identity` by default) even though this service's header hygiene strips that
 * header from the request, and is trusted only when it verifies with `key`.
 *
 * - no identity header: `undefined` (no credential of this kind: the next method, or anonymous);
 * - a valid token: the principal the gateway forwarded (`id`, `scopes`, `roles`, `tier`, `clientId`;
 *   `method` is the one that authenticated the caller at the gateway; `claims` the token's);
 * - a forged, tampered, foreign or expired token: 401 (`GH_AUTH_INVALID`, `GH_AUTH_TOKEN_EXPIRED`);
 * - the header twice: 400 `GH_AUTH_CONFLICT`.
 *
 * Its `name` is `'identity'` (for rules' `methods`); it has no challenge scheme, being no credential
 * a client is asked for.
 *
 * @throws ConfigError listing every problem in the options (paths under `identity`).
 * @example
 *   app.use(gw.auth({ methods: [identityAuthenticator({ key: gatewayPublicKey, alg: 'EdDSA' })] }));
 */
export function identityAuthenticator(options: IdentityAuthenticatorOptions): Authenticator {
  const { cache: cacheOption, ...verifierOptions } = parseOptions(
    identityAuthenticatorOptionsSchema,
    options,
    { name: 'identity' },
  );
  // parseOptions copies plain objects; the key itself (a KeyObject, bytes) passes through as given.
  const verifier = identityVerifierFrom(verifierOptions as IdentityVerifierOptions);
  const header = (verifierOptions.header ?? IDENTITY_HEADER).toLowerCase();
  const cache =
    cacheOption === false ? undefined : createLRU<string, Entry>({ max: cacheOption?.max ?? 10_000 });
  const pending = new Map<string, Promise<Principal>>();

  // The key is the signature's tail (as jwt.ts does, for the same reason: no hashing per request); an
  // entry keeps the whole token and answers only an exact match.
  const cacheKey = (token: string) => token.slice(-32);

  const verify = (token: string): Principal | Promise<Principal> => {
    if (cache !== undefined) {
      const entry = cache.get(cacheKey(token));
      if (entry !== undefined && entry.token === token) {
        if (entry.principal.expiresAt! > Date.now()) return entry.principal;
        cache.delete(cacheKey(token));
      }
    }
    let running = pending.get(token);
    if (running === undefined) {
      running = verifier
        .verify(token)
        .then((principal) => {
          const frozen = Object.freeze(principal);
          // Accepted within the clock tolerance only: past its exp, so never cached.
          if (cache !== undefined && frozen.expiresAt! > Date.now())
            cache.set(cacheKey(token), { token, principal: frozen });
          return frozen;
        })
        .finally(() => pending.delete(token));
      pending.set(token, running);
    }
    return running;
  };

  return {
    name: 'identity',
    authenticate(exchange) {
      // Hygiene set a stripped header aside; a name it does not strip is still in the request.
      const value = exchange.strippedHeader(header) ?? exchange.rawHeader(header);
      if (value === undefined) return undefined;
      if (typeof value !== 'string')
        throw refuse(new AuthConflict('The identity header was sent more than once'), 'conflict');
      if (value.length === 0) throw refuse(new AuthInvalid('Malformed identity token'), 'malformed');
      return verify(value);
    },
    close() {
      cache?.clear();
    },
  };
}
