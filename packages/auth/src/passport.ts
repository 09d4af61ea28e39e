// Runs a passport strategy (passport-jwt, passport-http-bearer, passport-headerapikey, …) as a
// Gatehouse authentication method on any framework, without passport or koa-passport: the strategy
// gets a per-request object carrying passport's five actions, and the first action it takes decides.
import type { IncomingMessage } from 'node:http';
import {
  type Exchange,
  functionOption,
  isGatehouseError,
  isHeaderName,
  isSafeHeaderValue,
  objectOption,
  parseOptions,
  withCrossCheck,
} from '@gatehousejs/core';
import * as v from 'valibot';
import { AuthExpired, AuthFailed, AuthInvalid, refuse } from './errors.js';
import { Problems } from './options.js';
import { type Authenticator, type Principal, scopeList } from './principal.js';

/**
 * The request a strategy sees: the framework's own request object underneath (its prototype), with
 * `headers`, `query`, `url`, `method` and `body` always present, whichever framework runs.
 */
export type PassportRequest = IncomingMessage & {
  /** The query string, first value per name, in an object without a prototype. */
  query: Record<string, string>;
  /** The parsed body when the application parsed one (Express `req.body`, Koa `ctx.request.body`). */
  body: unknown;
};

/**
 * What Gatehouse needs of a passport strategy: an `authenticate(req, options)` that eventually calls
 * one of `this.success`, `this.fail`, `this.error`, `this.redirect` or `this.pass`. Any object
 * built on `passport-strategy` fits.
 */
export interface PassportStrategy {
  /** The strategy's name (`'jwt'`, `'bearer'`, `'headerapikey'`); used in the authenticator's name. */
  name?: string;
  /**
   * Inspects `req` and calls exactly one of the actions on `this`; may do so later (a lookup), and may
   * return a promise (its rejection counts as `error()`).
   */
  authenticate(req: PassportRequest, options?: unknown): unknown;
}

/**
 * Where a credential for this strategy can be, so that a request carrying none is treated as
 * anonymous (`undefined`) instead of as a rejected credential. A location counts when it holds a
 * non-empty value.
 *
 * - `{ header: 'authorization', scheme: 'Bearer' }`: the header, and with `scheme`, only when its value
 *   starts with that scheme (case-insensitive), so `Basic …` is left to another method;
 * - `{ query: 'access_token' }`: a query parameter;
 * - `{ body: 'access_token' }`: a member of the parsed body (when the application parses bodies);
 * - `{ cookie: 'session' }`: a cookie.
 */
export type CredentialLocation =
  | { readonly header: string; readonly scheme?: string }
  | { readonly query: string }
  | { readonly body: string }
  | { readonly cookie: string };

/** Options of {@link passportAuthenticator}. */
export interface PassportOptions {
  /**
   * Passed as the second argument of the strategy's `authenticate(req, options)`, as
   * `passport.authenticate(name, options)` would. Default: `{}`.
   */
  strategyOptions?: unknown;
  /**
   * Turns what the strategy passed to `success(user, info)` into the principal. Throwing a Gatehouse
   * error refuses the request with it; any other throw is an `AuthFailed`.
   *
   * Default: `id` from `user.id`, else `user.sub`, else `user.username` (the first that is a non-empty
   * string or a number), or `user` itself when it is a string; `scopes` from `info.scope` (string or
   * array); `roles` from `user.roles` (array of strings); `method: 'passport'`; `claims: { strategy }`.
   * The user object itself is never copied into the principal: it may hold secrets (password hashes).
   *
   * @example
   *   toPrincipal: (user) => ({ id: user.email, method: 'passport', scopes: [], roles: user.groups, tier: user.plan })
   */
  toPrincipal?: (user: unknown, info: unknown, exchange: Exchange) => Principal | Promise<Principal>;
  /**
   * Where this strategy's credential can be; when a strategy calls `fail()` and the request carries
   * none of these, the request has no credential of this kind (`undefined`: the next method is tried,
   * or 401 "authentication required"). When it carries one, `fail()` is a rejected credential.
   *
   * Default: `{ header: 'authorization', scheme }` with this method's {@link PassportOptions.scheme}.
   *
   * @example
   *   credentials: { header: 'x-api-key' }
   *   credentials: [{ header: 'authorization', scheme: 'Bearer' }, { query: 'access_token' }]
   */
  credentials?: CredentialLocation | readonly CredentialLocation[];
  /** The `WWW-Authenticate` scheme of this method. Default: `'Bearer'`. */
  scheme?: string;
  /**
   * How long the strategy may take to call one of its actions before the request fails with
   * `AuthFailed` (a verify callback that never calls back). Default: `10_000`.
   */
  timeoutMs?: number;
}

interface StrategyActions {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: unknown): void;
  error(err: unknown): void;
  redirect(url: unknown, status?: unknown): void;
  pass(): void;
}

type Outcome = () => Principal | undefined | Promise<Principal | undefined>;
type Presence = (exchange: Exchange, req: PassportRequest) => boolean;

const DEFAULT_TIMEOUT_MS = 10_000;
const CHALLENGE_MAX_LENGTH = 1024;

/**
 * Runs a passport strategy as a Gatehouse authentication method, on Express and Koa alike.
 *
 * What the strategy does decides the outcome, first call wins and later calls are ignored:
 * - `success(user, info)`: the principal from {@link PassportOptions.toPrincipal};
 * - `fail(challenge?, status?)`: `undefined` when the request carries none of the
 *   {@link PassportOptions.credentials}, else `AuthInvalid` (`AuthExpired` for an expired or not yet
 *   valid JWT from passport-jwt); a string challenge is sent as `WWW-Authenticate`;
 * - `error(err)`, `redirect()`, `pass()`, a synchronous throw, a rejected promise or no call within
 *   {@link PassportOptions.timeoutMs}: `AuthFailed` (500, nothing exposed, the cause kept for logs).
 *
 * The strategy gets a request object whose prototype is the framework's request (so helpers such as
 * Express's `req.get()` still work) and that adds `query` and `body` on Koa; nothing is written to
 * the framework's request. Strategies that read `req.user`, sessions or `req.logIn` are not
 * supported: a gateway has no session.
 *
 * Throws a `ConfigError` listing every problem with the options.
 *
 * @example
 *   import { Strategy as BearerStrategy } from 'passport-http-bearer';
 *   const bearer = passportAuthenticator(
 *     new BearerStrategy((token, done) => users.byToken(token).then((u) => done(null, u ?? false), done)),
 *   );
 */
export function passportAuthenticator(
  strategy: PassportStrategy,
  options: PassportOptions = {},
): Authenticator {
  // One ConfigError for the strategy and the options.
  const problems = new Problems('auth.passport');
  try {
    parseOptions(strategySchema, strategy, { name: 'auth.passport.strategy' });
  } catch (error) {
    problems.merge(error);
  }
  let o: v.InferOutput<typeof passportOptionsSchema> | undefined;
  try {
    o = parseOptions(passportOptionsSchema, options, { name: 'auth.passport' });
  } catch (error) {
    problems.merge(error);
  }
  problems.throwIfAny();
  const checked = o!;
  const scheme = checked.scheme ?? 'Bearer';
  const timeoutMs = checked.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Checked by the schema: exactly one kind per location.
  const presence = compileCredentials(
    (checked.credentials as CredentialLocation | readonly CredentialLocation[] | undefined) ?? {
      header: 'authorization',
      scheme,
    },
  );

  const label = typeof strategy.name === 'string' && strategy.name.length > 0 ? strategy.name : 'strategy';
  const strategyOptions = options.strategyOptions === undefined ? {} : options.strategyOptions;
  const toPrincipal =
    checked.toPrincipal ?? ((user: unknown, info: unknown) => defaultPrincipal(user, info, label));

  const failed = (message: string, cause?: unknown) =>
    refuse(
      new AuthFailed(`Passport strategy '${label}': ${message}`, cause === undefined ? undefined : { cause }),
      'error',
    );

  const succeeded = async (user: unknown, info: unknown, exchange: Exchange): Promise<Principal> => {
    let principal: Principal;
    try {
      principal = await toPrincipal(user, info, exchange);
    } catch (error) {
      if (isGatehouseError(error)) throw error;
      throw failed('toPrincipal threw', error);
    }
    if (!isPrincipal(principal)) {
      throw failed(
        'toPrincipal must return a principal with a non-empty string id, a method, scopes and roles',
      );
    }
    return principal;
  };

  const rejected = (exchange: Exchange, req: PassportRequest, challenge: unknown, status: unknown) => {
    if (!presence(exchange, req)) return undefined;
    throw rejection(challenge, status);
  };

  return {
    name: `passport:${label}`,
    scheme,
    authenticate(exchange) {
      const req = requestView(exchange);
      return new Promise<Principal | undefined>((resolve, reject) => {
        let settled = false;
        let timer: NodeJS.Timeout | undefined;
        const decide = (outcome: Outcome): void => {
          if (settled) return;
          settled = true;
          if (timer !== undefined) clearTimeout(timer);
          try {
            resolve(outcome());
          } catch (error) {
            reject(error);
          }
        };
        // The actions live on a fresh object whose prototype is the strategy, as passport does, so
        // concurrent requests never see each other's callbacks and the strategy's own state is shared.
        const actions = Object.create(strategy) as PassportStrategy & StrategyActions;
        actions.success = (user, info) => decide(() => succeeded(user, info, exchange));
        actions.fail = (challenge, status) => {
          // passport accepts fail(status) as a shorthand (passport-http-bearer's fail(400)).
          if (typeof challenge === 'number') decide(() => rejected(exchange, req, undefined, challenge));
          else decide(() => rejected(exchange, req, challenge, status));
        };
        actions.error = (err) =>
          decide(() => {
            throw failed('error()', err);
          });
        actions.redirect = () =>
          decide(() => {
            throw failed('redirect() is not supported in a gateway (no browser flows)');
          });
        actions.pass = () =>
          decide(() => {
            throw failed('pass() is not supported in a gateway (no sessions)');
          });
        try {
          const returned: unknown = actions.authenticate(req, strategyOptions);
          if (isThenable(returned)) {
            returned.then(undefined, (error: unknown) =>
              decide(() => {
                throw failed('authenticate() rejected', error);
              }),
            );
          }
        } catch (error) {
          decide(() => {
            throw failed('authenticate() threw', error);
          });
        }
        // Armed only when the strategy did not answer synchronously: most verify callbacks are.
        if (!settled) {
          timer = setTimeout(
            () =>
              decide(() => {
                throw failed(`no answer within ${timeoutMs} ms`);
              }),
            timeoutMs,
          );
        }
      });
    },
  };
}

/** The refusal for a `fail()` on a request that did carry a credential. */
function rejection(challenge: unknown, status: unknown) {
  // passport-jwt fails with jsonwebtoken's errors; their names are that library's stable API, and an
  // expired token deserves its own code so clients know to refresh rather than re-authenticate.
  if (challenge instanceof Error && challenge.name === 'TokenExpiredError') {
    return refuse(new AuthExpired('Token expired', { cause: challenge }), 'expired');
  }
  if (challenge instanceof Error && challenge.name === 'NotBeforeError') {
    return refuse(new AuthExpired('Token not yet valid', { cause: challenge }), 'not_yet_valid');
  }
  // The strategy's own message may echo what the client sent or the verify callback's wording: it is
  // kept as the cause (logged, never rendered) rather than shown.
  const headers =
    typeof challenge === 'string' &&
    challenge.length > 0 &&
    challenge.length <= CHALLENGE_MAX_LENGTH &&
    isSafeHeaderValue(challenge)
      ? { 'www-authenticate': challenge }
      : undefined;
  const cause = typeof challenge === 'string' || challenge == null ? undefined : challenge;
  return refuse(
    new AuthInvalid(status === 400 ? 'Malformed credentials' : 'Credentials rejected', { headers, cause }),
    status === 400 ? 'malformed' : 'unknown_credential',
  );
}

// A derived object rather than a Proxy or writes to the real request: reads fall through to the
// framework's request (and its prototype's helpers), while the properties added here and anything
// the strategy assigns stay on the view, so the application never sees a changed request.
function requestView(exchange: Exchange): PassportRequest {
  const req = exchange.req;
  let query: Record<string, string> | undefined;
  const data = (value: unknown): PropertyDescriptor => ({
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return Object.create(req, {
    headers: data(req.headers),
    url: data(req.url ?? '/'),
    method: data(exchange.method),
    body: data(bodyOf(exchange)),
    // Built on first read: most strategies look only at headers.
    query: {
      get: () => {
        query ??= firstValues(exchange.query);
        return query;
      },
      set(value: Record<string, string>) {
        query = value;
      },
      enumerable: true,
      configurable: true,
    },
  }) as PassportRequest;
}

function firstValues(params: URLSearchParams): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [name, value] of params) if (!(name in out)) out[name] = value;
  return out;
}

// Koa keeps the parsed body on ctx.request (exchange.native is the ctx); Express on req itself.
function bodyOf(exchange: Exchange): unknown {
  const native = exchange.native as { request?: { body?: unknown } } | undefined;
  if (
    typeof native === 'object' &&
    native !== null &&
    typeof native.request === 'object' &&
    native.request !== null
  ) {
    const body = native.request.body;
    if (body !== undefined) return body;
  }
  return (exchange.req as { body?: unknown }).body;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function defaultPrincipal(user: unknown, info: unknown, strategy: string): Principal {
  const id = principalId(user);
  if (id === undefined) {
    throw refuse(
      new AuthFailed(
        `Passport strategy '${strategy}': the user has no usable id (id, sub or username); pass toPrincipal`,
      ),
      'error',
    );
  }
  const roles = (user as { roles?: unknown } | null)?.roles;
  return Object.freeze({
    id,
    method: 'passport',
    scopes: Object.freeze(scopeList((info as { scope?: unknown } | null | undefined)?.scope)),
    roles: Object.freeze(Array.isArray(roles) ? scopeList(roles) : []),
    claims: Object.freeze({ strategy }),
  });
}

function principalId(user: unknown): string | undefined {
  if (typeof user === 'string') return user.length > 0 ? user : undefined;
  if (typeof user !== 'object' || user === null) return undefined;
  const record = user as Record<string, unknown>;
  for (const key of ['id', 'sub', 'username']) {
    const value = record[key];
    if (typeof value === 'string' && value.length > 0) return value;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint')
      return String(value);
  }
  return undefined;
}

function isPrincipal(value: unknown): value is Principal {
  const p = value as Partial<Principal> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.id === 'string' &&
    p.id.length > 0 &&
    typeof p.method === 'string' &&
    Array.isArray(p.scopes) &&
    Array.isArray(p.roles)
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const LOCATION_KINDS = ['header', 'query', 'body', 'cookie'] as const;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// An empty scheme is only "non-empty": the pattern lets it pass, so that it is reported once.
const schemeToken = () =>
  v.pipe(
    v.string(),
    v.minLength(1, 'must be a non-empty string'),
    v.regex(new RegExp(`^$|${TOKEN.source}`), 'must be a single token without spaces'),
  );

/** The valibot schema of one {@link CredentialLocation}: exactly one of header, query, body or cookie. */
export const credentialLocationSchema = withCrossCheck(
  v.strictObject({
    header: v.optional(v.pipe(v.string(), v.check(isHeaderName, 'is not a valid header name'))),
    scheme: v.optional(schemeToken()),
    query: v.optional(v.pipe(v.string(), v.minLength(1))),
    body: v.optional(v.pipe(v.string(), v.minLength(1))),
    cookie: v.optional(v.pipe(v.string(), v.minLength(1))),
  }),
  (location, report) => {
    if (!isObject(location)) return;
    const kinds = LOCATION_KINDS.filter((k) => location[k] !== undefined);
    if (kinds.length !== 1) report([], 'must have exactly one of header, query, body or cookie');
    else if (location.scheme !== undefined && kinds[0] !== 'header')
      report(['scheme'], 'applies to header only');
  },
);

const strategySchema = objectOption<PassportStrategy>(
  'a passport strategy (an object with an authenticate(req, options) method)',
  ['authenticate'],
);

/**
 * The valibot schema of {@link PassportOptions}, checked by {@link passportAuthenticator} (paths under
 * `auth.passport`). `toPrincipal` and `strategyOptions` are code only.
 */
export const passportOptionsSchema = v.strictObject({
  strategyOptions: v.optional(v.unknown()),
  toPrincipal: v.optional(
    functionOption<NonNullable<PassportOptions['toPrincipal']>>(
      'a function (user, info, exchange) => Principal',
    ),
  ),
  credentials: v.optional(
    v.union([credentialLocationSchema, v.pipe(v.array(credentialLocationSchema), v.minLength(1))]),
  ),
  scheme: v.optional(schemeToken()),
  timeoutMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
});

/** Compiles checked credential locations into one presence test. */
function compileCredentials(value: CredentialLocation | readonly CredentialLocation[]): Presence {
  const list: readonly CredentialLocation[] = Array.isArray(value) ? value : [value as CredentialLocation];
  const tests = list.map(compileLocation);
  return (exchange, req) => tests.some((test) => test(exchange, req));
}

function compileLocation(location: CredentialLocation): Presence {
  if ('header' in location && location.header !== undefined) {
    const header = location.header.toLowerCase();
    const scheme = location.scheme;
    if (scheme === undefined) return (exchange) => (exchange.header(header)?.trim() ?? '') !== '';
    const prefix = scheme.toLowerCase();
    return (exchange) => {
      const sent = exchange.header(header)?.trimStart().toLowerCase();
      if (sent === undefined || !sent.startsWith(prefix)) return false;
      // 'Bearer' alone is a (malformed) credential of this scheme; 'Bearerx' is another scheme.
      return sent.length === prefix.length || sent[prefix.length] === ' ' || sent[prefix.length] === '\t';
    };
  }
  if ('query' in location && location.query !== undefined) {
    const name = location.query;
    return (exchange) => exchange.query.getAll(name).some((v) => v !== '');
  }
  if ('body' in location && location.body !== undefined) {
    const name = location.body;
    return (_exchange, req) => {
      const body = req.body;
      if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return false;
      const member = (body as Record<string, unknown>)[name];
      return member !== undefined && member !== null && member !== '';
    };
  }
  const name = (location as { cookie: string }).cookie;
  return (exchange) => hasCookie(exchange.header('cookie'), name);
}

// Only presence matters here, so a full cookie parser (decoding, attributes) would be wasted.
function hasCookie(header: string | undefined, name: string): boolean {
  if (header === undefined) return false;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name && pair.slice(eq + 1).trim() !== '') return true;
  }
  return false;
}
