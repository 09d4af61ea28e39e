// OAuth 2.0 token introspection (RFC 7662) for opaque bearer tokens: the authorization server says
// whether a token is active and whose it is; answers are cached, never past the token's expiry.
import { createHash } from 'node:crypto';
import {
  DependencyMonitor,
  dependencyName,
  type Exchange,
  isHeaderName,
  isSafeHeaderValue,
} from '@gatehousejs/core';
import { LRUCache } from 'lru-cache';
import { readBearer } from './bearer.js';
import { AuthExpired, AuthInvalid, AuthUnavailable, monitored, refuse } from './errors.js';
import { nonEmptyString, Problems, positiveInt, unknownKeys } from './options.js';
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
const KNOWN_OPTIONS = new Set([
  'endpoint',
  'clientId',
  'clientSecret',
  'headers',
  'tokenTypeHint',
  'timeoutMs',
  'audience',
  'issuer',
  'cache',
  'query',
  'scopesClaim',
  'rolesClaim',
  'tierClaim',
  'maxTokenBytes',
  'fetch',
]);
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
      : new LRUCache<string, Answer>({
          max: resolved.cache.max,
          // Wall-clock time, the clock `exp` is measured on.
          perf: { now: () => Date.now() },
        });
  const pending = new Map<string, Promise<Answer>>();
  // An endpoint that cannot be asked is reported once, with the cause, to the gateways whose
  // requests this method sees, and once more when it answers again; not once per request.
  const monitor = new DependencyMonitor('introspection', dependencyName(resolved.endpoint));
  let reporter: Exchange['runtime'] | undefined;

  function remember(key: string, answer: Answer): void {
    if (cache === undefined || resolved.cache === undefined || answer.kind === 'unavailable') return;
    if (answer.kind === 'refused') {
      cache.set(key, answer, { ttl: resolved.cache.negativeTtlMs });
      return;
    }
    const expiresAt = answer.principal.expiresAt;
    const ttl =
      expiresAt === undefined
        ? resolved.cache.maxTtlMs
        : Math.min(resolved.cache.maxTtlMs, expiresAt - Date.now());
    if (ttl >= 1) cache.set(key, answer, { ttl: Math.floor(ttl) });
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

function resolveOptions(options: IntrospectionOptions): Resolved {
  const problems = new Problems(PREFIX);
  if (typeof options !== 'object' || options === null) {
    problems.add('', 'options must be an object');
    problems.throwIfAny();
  }
  unknownKeys(problems, '', options, [...KNOWN_OPTIONS]);

  const endpoint = endpointOption(problems, options.endpoint);
  const headers: Record<string, string> = {};
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null) {
      problems.add('headers', 'must be an object of header names to values');
    } else {
      for (const [name, value] of Object.entries(options.headers)) {
        const lower = name.toLowerCase();
        if (!isHeaderName(name)) problems.add(`headers.${name}`, 'is not a valid header name');
        else if (RESERVED_HEADERS.has(lower)) problems.add(`headers.${name}`, 'is set by the authenticator');
        else if (typeof value !== 'string' || !isSafeHeaderValue(value)) {
          problems.add(`headers.${name}`, 'must be a string without control characters');
        } else headers[lower] = value;
      }
    }
  }
  const { clientId, clientSecret } = options;
  if (clientId !== undefined || clientSecret !== undefined) {
    const idOk = nonEmptyString(problems, 'clientId', clientId);
    const secretOk = nonEmptyString(problems, 'clientSecret', clientSecret);
    if (headers.authorization !== undefined) {
      problems.add('headers.authorization', 'conflicts with clientId/clientSecret (HTTP Basic)');
    }
    if (idOk && secretOk) {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
    }
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  headers.accept = 'application/json';

  let tokenTypeHint: string | undefined = 'access_token';
  if (options.tokenTypeHint === false) tokenTypeHint = undefined;
  else if (
    options.tokenTypeHint !== undefined &&
    nonEmptyString(problems, 'tokenTypeHint', options.tokenTypeHint)
  ) {
    tokenTypeHint = options.tokenTypeHint;
  }

  let audience: readonly string[] | undefined;
  if (options.audience !== undefined) {
    const list = typeof options.audience === 'string' ? [options.audience] : options.audience;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((item) => typeof item === 'string' && item.length > 0)
    ) {
      problems.add('audience', 'must be a non-empty string or a non-empty array of them');
    } else audience = Object.freeze([...list]);
  }
  const optionalString = (name: 'issuer' | 'scopesClaim' | 'rolesClaim' | 'tierClaim'): string | undefined =>
    options[name] !== undefined && nonEmptyString(problems, name, options[name]) ? options[name] : undefined;

  let query: string | false = false;
  if (
    options.query !== undefined &&
    options.query !== false &&
    nonEmptyString(problems, 'query', options.query)
  ) {
    query = options.query;
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    problems.add('fetch', 'must be a function');

  let cache: Resolved['cache'];
  if (options.cache !== false) {
    if (options.cache !== undefined && (typeof options.cache !== 'object' || options.cache === null)) {
      problems.add('cache', 'must be an object or false');
    }
    const c = (
      typeof options.cache === 'object' && options.cache !== null ? options.cache : {}
    ) as IntrospectionCacheOptions;
    cache = {
      max: positiveInt(problems, 'cache.max', c.max, 10_000),
      maxTtlMs: positiveInt(problems, 'cache.maxTtlMs', c.maxTtlMs, 300_000),
      negativeTtlMs: positiveInt(problems, 'cache.negativeTtlMs', c.negativeTtlMs, 5_000),
    };
  }

  const resolved: Resolved = {
    endpoint: endpoint ?? new URL('http://invalid.invalid'),
    headers,
    tokenTypeHint,
    timeoutMs: positiveInt(problems, 'timeoutMs', options.timeoutMs, 3000),
    audience,
    issuer: optionalString('issuer'),
    query,
    scopesClaim: optionalString('scopesClaim') ?? 'scope',
    rolesClaim: optionalString('rolesClaim'),
    tierClaim: optionalString('tierClaim'),
    maxTokenBytes: positiveInt(problems, 'maxTokenBytes', options.maxTokenBytes, 8192),
    fetch: typeof options.fetch === 'function' ? options.fetch : globalThis.fetch,
    cache,
  };
  problems.throwIfAny();
  return resolved;
}

function endpointOption(problems: Problems, value: unknown): URL | undefined {
  if (value === undefined) {
    problems.add('endpoint', 'is required');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value instanceof URL ? value.href : String(value));
  } catch {
    problems.add('endpoint', 'must be an absolute http or https URL');
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.add('endpoint', `must be an http or https URL, not ${url.protocol}`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the URL: it carries a secret.
    problems.add('endpoint', 'must not carry credentials; use clientId and clientSecret, or headers');
    return undefined;
  }
  return url;
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks for the Basic user and password. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
