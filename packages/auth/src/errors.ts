// Every way authentication or authorization can refuse a request, each with a stable code. The
// middleware adds `WWW-Authenticate` (RFC 6750 §3) from the code: see `bearerError()`.
import { defineError, type ErrorOptions, type GatehouseError } from '@gatehousejs/core';

/** No credential was presented on a route that needs one. 401, no RFC 6750 `error`. */
export const AuthRequired = defineError('GH_AUTH_REQUIRED', 401, 'Authentication required');
/** A credential was presented and is not valid (bad signature, unknown key, revoked, malformed). 401 `invalid_token`. */
export const AuthInvalid = defineError('GH_AUTH_INVALID', 401, 'Invalid credentials');
/** A token that was valid once and has expired (or is not valid yet). 401 `invalid_token`. */
export const AuthExpired = defineError('GH_AUTH_TOKEN_EXPIRED', 401, 'Token expired or not yet valid');
/** The same kind of credential was presented more than once (header and query). 400 `invalid_request`. */
export const AuthConflict = defineError('GH_AUTH_CONFLICT', 400, 'Conflicting credentials');
/** Authenticated, but the route's requirements (scopes, roles, predicate) are not met. 403 `insufficient_scope`. */
export const AuthForbidden = defineError('GH_AUTH_FORBIDDEN', 403, 'Forbidden');
/** A service authentication depends on (JWKS, introspection, Redis) could not answer. 503. */
export const AuthUnavailable = defineError(
  'GH_AUTH_UNAVAILABLE',
  503,
  'Authentication temporarily unavailable',
  {
    expose: true,
  },
);
/** An authenticator failed unexpectedly (a passport strategy's `error()`, a key store answering a malformed record). 500. */
export const AuthFailed = defineError('GH_AUTH_ERROR', 500, 'Authentication failed');

/**
 * Why a credential was refused, for metrics and logs (never rendered to the client). Authenticators
 * attach it with {@link refuse}.
 */
export type RefusalReason =
  | 'missing'
  | 'malformed'
  | 'too_large'
  | 'unknown_key'
  | 'bad_signature'
  | 'algorithm'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'inactive'
  | 'unknown_credential'
  | 'conflict'
  | 'forbidden'
  | 'unavailable'
  | 'error';

const kReason = Symbol.for('gatehouse.auth.reason');

/**
 * Tags an error with the reason it is counted under and returns it.
 *
 * @example
 *   throw refuse(new AuthInvalid('Token signature does not verify'), 'bad_signature');
 */
export function refuse<E extends GatehouseError>(error: E, reason: RefusalReason): E {
  Object.defineProperty(error, kReason, { value: reason });
  return error;
}

const kMonitored = Symbol('gatehouse.auth.monitored');

/**
 * Marks a refusal whose cause a dependency monitor reports (once per outage), so that `auth()` does
 * not report it again for every request it refuses.
 */
export function monitored<E extends GatehouseError>(error: E): E {
  Object.defineProperty(error, kMonitored, { value: true });
  return error;
}

/** Whether {@link monitored} marked the error. */
export function isMonitored(error: unknown): boolean {
  return (error as { [kMonitored]?: boolean } | null)?.[kMonitored] === true;
}

/** The reason an error was tagged with by {@link refuse}, else one derived from its code. */
export function refusalReason(error: unknown): RefusalReason {
  const tagged = (error as { [kReason]?: RefusalReason } | null)?.[kReason];
  if (tagged !== undefined) return tagged;
  switch ((error as { code?: unknown } | null)?.code) {
    case AuthRequired.spec.code:
      return 'missing';
    case AuthInvalid.spec.code:
      return 'unknown_credential';
    case AuthExpired.spec.code:
      return 'expired';
    case AuthConflict.spec.code:
      return 'conflict';
    case AuthForbidden.spec.code:
      return 'forbidden';
    case AuthUnavailable.spec.code:
      return 'unavailable';
    default:
      return 'error';
  }
}

/** The RFC 6750 `error` value for a refusal code, or undefined when none applies. */
export function bearerError(
  code: string,
): 'invalid_token' | 'invalid_request' | 'insufficient_scope' | undefined {
  switch (code) {
    case AuthInvalid.spec.code:
    case AuthExpired.spec.code:
      return 'invalid_token';
    case AuthConflict.spec.code:
      return 'invalid_request';
    case AuthForbidden.spec.code:
      return 'insufficient_scope';
    default:
      return undefined;
  }
}

export type { ErrorOptions };
