// Who made the request, as every capability sees it, and the contract an authentication method
// implements.
import type { Exchange } from '@gatehousejs/core';

/** The authenticated caller. Immutable; shared by rate limiting, tracing, logs and forwarding. */
export interface Principal {
  /** Stable identifier of the caller (JWT `sub`, the API key's owner, the certificate's identity). */
  readonly id: string;
  /** The method that authenticated it: `'jwt'`, `'api-key'`, `'introspection'`, `'passport'`, `'mtls'`, or a custom name. */
  readonly method: string;
  /** Granted scopes (OAuth2 `scope`), deduplicated. */
  readonly scopes: readonly string[];
  /** Granted roles. */
  readonly roles: readonly string[];
  /** Plan or tier for rate limiting (`'free'`, `'pro'`, …). */
  readonly tier?: string;
  /** The OAuth2 client the credential was issued to, when known. */
  readonly clientId?: string;
  /** Claims or attributes the method verified (token claims, key metadata). Never client-supplied headers. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** When the credential stops being valid, in epoch milliseconds. */
  readonly expiresAt?: number;
}

/**
 * One authentication method. `authenticate` returns `undefined` when the request carries no
 * credential of this kind, a {@link Principal} when it carries a valid one, and throws a Gatehouse
 * error (see `errors.ts`: `AuthInvalid`, `AuthExpired`, `AuthConflict`, `AuthUnavailable`,
 * `AuthFailed`) when it carries one that cannot be accepted. It never trusts identity headers.
 */
export interface Authenticator {
  /** Shown in diagnostics and used as `Principal.method` by the built-in methods. */
  readonly name: string;
  /**
   * The `WWW-Authenticate` challenge scheme for this method (`'Bearer'`, `'ApiKey'`, `'Basic'`);
   * omitted when the method has none (mTLS).
   */
  readonly scheme?: string;
  /**
   * Every `Authorization` scheme the method accepts, when there are several (a JWT method reading
   * `Bearer` and `Token`); the first is `scheme`. A 401 without credentials offers each of them, and a
   * refusal names the one the client used. Default: `[scheme]`.
   */
  readonly schemes?: readonly string[];
  authenticate(exchange: Exchange): Principal | undefined | Promise<Principal | undefined>;
  /** Releases timers, connections and caches. */
  close?(): void | Promise<void>;
}

declare module '@gatehousejs/core' {
  interface ExchangeState {
    /** The authenticated caller, set by `auth()`; undefined for anonymous requests. */
    principal?: Principal;
  }
}

/** Splits an OAuth2 `scope` string or array into a deduplicated list; anything else gives []. */
export function scopeList(value: unknown): string[] {
  if (typeof value === 'string') return [...new Set(value.split(' ').filter((s) => s.length > 0))];
  if (Array.isArray(value))
    return [...new Set(value.filter((s): s is string => typeof s === 'string' && s.length > 0))];
  return [];
}

/** Reads a dotted claim path (`'realm_access.roles'`) without touching inherited properties. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  let value: unknown = claims;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
