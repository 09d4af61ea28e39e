// OAuth 2.0 token introspection (RFC 7662) for opaque bearer tokens: the authorization server says
// whether a token is active and whose it is; answers are cached, never past the token's expiry.
import { createHash } from 'node:crypto';
import {
  DependencyMonitor,
  dependencyName,
  type Exchange,
  functionOption,
  isHeaderName,
  isSafeHeaderValue,
  parseOptions,
  withCrossCheck,
} from '@gatehousejs/core';
import * as v from 'valibot';
import { readBearer } from './bearer.js';
import { AuthExpired, AuthInvalid, AuthUnavailable, monitored, refuse } from './errors.js';
import { expiringLru } from './expiring-lru.js';
import { httpUrlOption, oneOrMany, queryOption } from './options.js';
import { type Authenticator, claimAt, type Principal, scopeList } from './principal.js';
import { readLimited } from './read-limited.js';

/** How introspection answers are remembered. */
export interface IntrospectionCacheOptions {
  /** Most tokens remembered (active and inactive together). @default 10_000 */
  max?: number;
  /**
   * Longest an active answer is trusted, in ms. An entry lives until the token's `exp` or this long,
   * whichever comes first, so a token revoked at the server keeps working here for up to this long.
   *
   * @default 300_000 (5 minutes)
   */
  maxTtlMs?: number;
  /**
   * How long an inactive (or expired, or refused) token is remembered, in ms, so that a client
   * retrying a bad token does not reach the server each time.
   *
   * @default 5_000
   */
  negativeTtlMs?: number;
}

/**
 * Options of {@link introspectionAuthenticator}.
 *
 * @example
 *   introspectionAuthenticator({
 *     endpoint: 'https://login.example.com/oauth2/introspect',
 *     clientId: 'gatehouse',
 *     clientSecret: process.env.INTROSPECTION_SECRET!,
 *     audience: 'orders-api',
 *   })
 */
export interface IntrospectionOptions {
  /** The introspection endpoint, http or https. Required. Redirects are not followed. */
  endpoint: string | URL;
  /**
   * Client id for `client_secret_basic` (RFC 6749 §2.3.1): sent as HTTP Basic, each part
   * form-urlencoded first. Give it with `clientSecret`, or use `headers` for another scheme.
   */
  clientId?: string;
  /** Client secret for `client_secret_basic`; see `clientId`. */
  clientSecret?: string;
  /**
   * Extra request headers, e.g. `{ authorization: 'Bearer <token of the gateway>' }` for servers that
   * authenticate callers another way. Not with `clientId` when it sets `authorization`.
   */
  headers?: Readonly<Record<string, string>>;
  /** The `token_type_hint` sent with each token; `false` to send none. @default 'access_token' */
  tokenTypeHint?: string | false;
  /**
   * Each introspection (connection, answer and body) is aborted after this long, and the request is
   * refused with 503.
   *
   * @default 3000
   */
  timeoutMs?: number;
  /** When set, the answer's `aud` (a string or an array) must contain one of these. */
  audience?: string | readonly string[];
  /** When set, the answer's `iss` must equal it. */
  issuer?: string;
  /** Answer caching (see {@link IntrospectionCacheOptions}); `false` asks the server every time. */
  cache?: IntrospectionCacheOptions | false;
  /**
   * A query parameter that may carry the token besides the `Authorization` header (RFC 6750 §2.3),
   * e.g. `'access_token'`. Off by default: URLs end up in logs.
   *
   * @default false
   */
  query?: string | false;
  /** Member of the answer holding the scopes (a space-separated string or an array); dotted paths work. @default 'scope' */
  scopesClaim?: string;
  /** Member of the answer holding the roles (an array or a space-separated string); none by default. */
  rolesClaim?: string;
  /** Member of the answer holding the caller's tier (a string); none by default. */
  tierClaim?: string;
  /** Longest token accepted, in bytes; longer ones are refused without a call to the server. @default 8192 */
  maxTokenBytes?: number;
  /** The fetch implementation, for tests or a custom dispatcher. @default globalThis.fetch */
  fetch?: typeof fetch;
}

const PREFIX = 'introspection';
// Headers the request itself defines; letting `headers` replace them would break the protocol.
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'transfer-encoding', 'host', 'accept']);
// An introspection answer is a small JSON object; anything near this size is not one.
const MAX_ANSWER_BYTES = 1024 * 1024;

/** What the server said about one token, shared by the requests that asked at the same time. */
type Answer =
  | { readonly kind: 'active'; readonly principal: Principal }
  | { readonly kind: 'refused'; readonly reason: 'inactive' | 'expired' | 'claims'; readonly detail: string }
  | { readonly kind: 'unavailable'; readonly cause: unknown };

type Refused = Extract<Answer, { kind: 'refused' }>;

interface Resolved {
  readonly endpoint: URL;
  readonly headers: Record<string, string>;
  readonly tokenTypeHint: string | undefined;
  readonly timeoutMs: number;
  readonly audience: readonly string[] | undefined;
  readonly issuer: string | undefined;
  readonly query: string | false;
  readonly scopesClaim: string;
  readonly rolesClaim: string | undefined;
  readonly tierClaim: string | undefined;
  readonly maxTokenBytes: number;
  readonly fetch: typeof fetch;
  readonly cache:
    | { readonly max: number; readonly maxTtlMs: number; readonly negativeTtlMs: number }
    | undefined;
}

/**
 * Authenticates opaque bearer tokens with an RFC 7662 introspection endpoint. Returns `undefined`
 * when the request has no bearer token; refuses an inactive token (401), an expired one (401), one
 * failing `audience`/`issuer` (401), and answers 503 when the server cannot be asked (error status,
 * not JSON, timeout, network error; nothing is cached then). Requests carrying the same token while
 * it is being introspected share one call.
 */
export function introspectionAuthenticator(options: IntrospectionOptions): Authenticator {
  const resolved = resolveOptions(options);
  const cache =
    resolved.cache === undefined
      ? undefined
      : // Wall-clock time, the clock `exp` is measured on.
        expiringLru<Answer>(resolved.cache.max, () => Date.now());
  const pending = new Map<string, Promise<Answer>>();
  // An endpoint that cannot be asked is reported once, with the cause, to the gateways whose
  // requests this method sees, and once more when it answers again; not once per request.
  const monitor = new DependencyMonitor('introspection', dependencyName(resolved.endpoint));
  let reporter: Exchange['runtime'] | undefined;

  function remember(key: string, answer: Answer): void {
    if (cache === undefined || resolved.cache === undefined || answer.kind === 'unavailable') return;
    if (answer.kind === 'refused') {
      cache.set(key, answer, resolved.cache.negativeTtlMs);
      return;
    }
    const expiresAt = answer.principal.expiresAt;
    const ttl =
      expiresAt === undefined
        ? resolved.cache.maxTtlMs
        : Math.min(resolved.cache.maxTtlMs, expiresAt - Date.now());
    if (ttl >= 1) cache.set(key, answer, Math.floor(ttl));
  }

  return {
    name: 'introspection',
    scheme: 'Bearer',
    async authenticate(exchange) {
      if (exchange.runtime !== reporter) {
        reporter = exchange.runtime;
        monitor.reportTo(reporter);
      }
      const token = readBearer(exchange, { query: resolved.query });
      if (token === undefined) return undefined;
      // readBearer accepts token68 only, which is ASCII: characters are bytes.
      if (token.length > resolved.maxTokenBytes) {
        throw refuse(
          new AuthInvalid(`Bearer token longer than ${resolved.maxTokenBytes} bytes`),
          'too_large',
        );
      }
      // Keyed by digest: the cache and the pending map hold no usable tokens, and keys stay small.
      const key = createHash('sha256').update(token).digest('base64url');
      let answer = cache?.get(key);
      if (answer === undefined) {
        let running = pending.get(key);
        if (running === undefined) {
          running = introspect(resolved, token).then((fresh) => {
            if (fresh.kind === 'unavailable') monitor.failed(fresh.cause);
            else monitor.succeeded();
            remember(key, fresh);
            return fresh;
          });
          running = running.finally(() => pending.delete(key));
          pending.set(key, running);
        }
        answer = await running;
      }
      return accept(answer);
    },
    close() {
      cache?.clear();
    },
  };
}

/** Turns an answer into a principal or a refusal; errors are made per request, never shared. */
function accept(answer: Answer): Principal {
  switch (answer.kind) {
    case 'active': {
      const { expiresAt } = answer.principal;
      // The cache drops entries at `exp`; this also covers a clock step and a coalesced answer that
      // arrived just before expiry.
      if (expiresAt !== undefined && expiresAt <= Date.now()) throw expired();
      return answer.principal;
    }
    case 'refused':
      throw answer.reason === 'expired' ? expired() : refuse(new AuthInvalid(answer.detail), answer.reason);
    default:
      // The cause travels with the refusal (spans, logs); the outage itself is reported once, by
      // the method's monitor, not once per refused request.
      throw monitored(
        refuse(
          new AuthUnavailable('Token introspection unavailable', { cause: answer.cause }),
          'unavailable',
        ),
      );
  }
}

function expired() {
  return refuse(new AuthExpired('Token expired'), 'expired');
}

// ---------------------------------------------------------------------------------------------------
// Calling the endpoint

/** Why an introspection could not be done; only for logs (the cause of a 503), never rendered. */
class IntrospectionFailed extends Error {
  override name = 'IntrospectionFailed';
}

async function introspect(options: Resolved, token: string): Promise<Answer> {
  const form = new URLSearchParams({ token });
  if (options.tokenTypeHint !== undefined) form.set('token_type_hint', options.tokenTypeHint);
  // Not tied to the client's request: the call may be shared by several requests, and its answer is
  // worth caching even when the first client has gone.
  const signal = AbortSignal.timeout(options.timeoutMs);
  let json: unknown;
  try {
    // redirect 'manual': a 3xx is a failure; following it would send the token (and our client
    // credentials, for a 307/308) wherever the redirect points.
    const response = await options.fetch(options.endpoint, {
      method: 'POST',
      headers: options.headers,
      body: form.toString(),
      redirect: 'manual',
      signal,
    });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => {});
      throw new IntrospectionFailed(`introspection endpoint answered HTTP ${response.status}`);
    }
    const text = await readLimited(
      response,
      MAX_ANSWER_BYTES,
      () => new IntrospectionFailed(`introspection answer larger than ${MAX_ANSWER_BYTES} bytes`),
    );
    try {
      json = JSON.parse(text);
    } catch {
      throw new IntrospectionFailed('introspection answer is not JSON');
    }
  } catch (error) {
    const cause = signal.aborted
      ? new IntrospectionFailed(`no introspection answer within ${options.timeoutMs} ms`, { cause: error })
      : error;
    return { kind: 'unavailable', cause };
  }
  return interpret(options, json);
}

/** Reads an RFC 7662 answer: active or not, then expiry, issuer, audience and subject. */
function interpret(options: Resolved, json: unknown): Answer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return {
      kind: 'unavailable',
      cause: new IntrospectionFailed('introspection answer is not a JSON object'),
    };
  }
  const claims = json as Record<string, unknown>;
  if (claims.active === false) return refused('inactive', 'Token is not active');
  if (claims.active !== true) {
    return {
      kind: 'unavailable',
      cause: new IntrospectionFailed('introspection answer has no boolean "active"'),
    };
  }
  let expiresAt: number | undefined;
  if (claims.exp !== undefined) {
    if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
      return {
        kind: 'unavailable',
        cause: new IntrospectionFailed('introspection answer has a non-numeric "exp"'),
      };
    }
    expiresAt = claims.exp * 1000;
    if (expiresAt <= Date.now()) return refused('expired', 'Token expired');
  }
  if (options.issuer !== undefined && claims.iss !== options.issuer) {
    return refused('claims', 'Token issuer not accepted');
  }
  if (options.audience !== undefined) {
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!options.audience.some((wanted) => aud.includes(wanted))) {
      return refused('claims', 'Token audience not accepted');
    }
  }
  const id = [claims.sub, claims.username, claims.client_id].find(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
  if (id === undefined) return refused('claims', 'Token has no subject, username or client_id');
  const tier = options.tierClaim === undefined ? undefined : claimAt(claims, options.tierClaim);
  const principal: Principal = Object.freeze({
    id,
    method: 'introspection',
    scopes: Object.freeze(scopeList(claimAt(claims, options.scopesClaim))),
    roles: Object.freeze(
      options.rolesClaim === undefined ? [] : scopeList(claimAt(claims, options.rolesClaim)),
    ),
    ...(typeof tier === 'string' ? { tier } : {}),
    ...(typeof claims.client_id === 'string' ? { clientId: claims.client_id } : {}),
    // Parsed here from JSON, so freezing it touches nothing anyone else holds.
    claims: deepFreeze(claims),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  });
  return { kind: 'active', principal };
}

function refused(reason: Refused['reason'], detail: string): Refused {
  return { kind: 'refused', reason, detail };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Options

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The valibot schema of {@link IntrospectionOptions}, checked by {@link introspectionAuthenticator} (paths
 * under `introspection`). The endpoint is text here; the factory also takes a `URL` object. `fetch` is
 * code only.
 */
export const introspectionOptionsSchema = withCrossCheck(
  v.strictObject({
    endpoint: httpUrlOption(true),
    clientId: v.optional(v.pipe(v.string(), v.minLength(1))),
    clientSecret: v.optional(v.pipe(v.string(), v.minLength(1))),
    headers: v.optional(
      v.record(
        v.pipe(v.string(), v.check(isHeaderName, 'is not a valid header name')),
        v.pipe(v.string(), v.check(isSafeHeaderValue, 'must be a string without control characters')),
      ),
    ),
    tokenTypeHint: v.optional(queryOption()),
    timeoutMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
    audience: v.optional(oneOrMany('the accepted audience (a string or a list of them)')),
    issuer: v.optional(v.pipe(v.string(), v.minLength(1))),
    cache: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({
          max: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
          maxTtlMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
          negativeTtlMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
        }),
      ]),
    ),
    query: v.optional(queryOption()),
    scopesClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    rolesClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    tierClaim: v.optional(v.pipe(v.string(), v.minLength(1))),
    maxTokenBytes: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
    fetch: v.optional(functionOption<typeof fetch>('a fetch function')),
  }),
  (options, report) => {
    if (!isObject(options)) return;
    const headers = isObject(options.headers) ? options.headers : {};
    for (const name of Object.keys(headers)) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) report(['headers', name], 'is set by the authenticator');
    }
    if ((options.clientId === undefined) !== (options.clientSecret === undefined))
      report(
        [options.clientId === undefined ? 'clientId' : 'clientSecret'],
        'give clientId and clientSecret together',
      );
    const authorization = Object.keys(headers).find((name) => name.toLowerCase() === 'authorization');
    if (authorization !== undefined && (options.clientId !== undefined || options.clientSecret !== undefined))
      report(['headers', authorization], 'conflicts with clientId/clientSecret (HTTP Basic)');
  },
);

function resolveOptions(options: IntrospectionOptions): Resolved {
  const endpoint = isObject(options) && options.endpoint instanceof URL ? options.endpoint.href : undefined;
  const o = parseOptions(
    introspectionOptionsSchema,
    endpoint === undefined ? options : { ...options, endpoint },
    { name: PREFIX },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(o.headers ?? {})) headers[name.toLowerCase()] = value;
  if (o.clientId !== undefined && o.clientSecret !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${formEncode(o.clientId)}:${formEncode(o.clientSecret)}`).toString('base64')}`;
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  headers.accept = 'application/json';
  const cache = o.cache === false ? undefined : (o.cache ?? {});
  return {
    endpoint: new URL(o.endpoint),
    headers,
    tokenTypeHint: o.tokenTypeHint === false ? undefined : (o.tokenTypeHint ?? 'access_token'),
    timeoutMs: o.timeoutMs ?? 3000,
    audience:
      o.audience === undefined
        ? undefined
        : Object.freeze(typeof o.audience === 'string' ? [o.audience] : [...o.audience]),
    issuer: o.issuer,
    query: o.query ?? false,
    scopesClaim: o.scopesClaim ?? 'scope',
    rolesClaim: o.rolesClaim,
    tierClaim: o.tierClaim,
    maxTokenBytes: o.maxTokenBytes ?? 8192,
    fetch: o.fetch ?? globalThis.fetch,
    cache:
      cache === undefined
        ? undefined
        : {
            max: cache.max ?? 10_000,
            maxTtlMs: cache.maxTtlMs ?? 300_000,
            negativeTtlMs: cache.negativeTtlMs ?? 5_000,
          },
  };
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for the Basic user and password. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
