// The auth middleware: picks the route's requirement (on the normalized path), authenticates with
// the configured methods, authorizes, puts the principal on the exchange and forwards it upstream.
import {
  didYouMean,
  type Exchange,
  errorCodes,
  GatehouseError,
  isGatehouseError,
  isThenable,
  type Middleware,
  parseOptions,
  type RequestResult,
  withCrossCheck,
} from '@gatehousejs/core';
import { type Attributes, type MeterProvider, metrics, type ObservableResult } from '@opentelemetry/api';
import {
  AuthFailed,
  AuthForbidden,
  AuthRequired,
  AuthUnavailable,
  bearerError,
  isMonitored,
  type RefusalReason,
  refusalReason,
  refuse,
} from './errors.js';
import { createForwarder, type ForwardOptions, type IdentityForwarder } from './forward.js';
import { authOptionsSchema, requirementSchema } from './options.js';
import type { Authenticator, Principal } from './principal.js';
import {
  type AuthRule,
  type CompiledRule,
  compileRules,
  hasRole,
  matchRule,
  missingScopes,
  type Requirement,
} from './rules.js';

/** Options of {@link auth}. */
export interface AuthOptions {
  /** Authentication methods, tried in order (see `combine`). At least one unless every route is anonymous. */
  methods: readonly Authenticator[];
  /**
   * `'first'`: the first method that finds a credential decides (a presented but invalid credential is
   * refused, never passed on to the next method). `'all'`: every method must authenticate the request
   * (e.g. mTLS and a token); the principal comes from the first.
   * @default 'first'
   */
  combine?: 'first' | 'all';
  /** Per-route requirements on the normalized path; the first matching rule applies. @default [] */
  rules?: readonly AuthRule[];
  /**
   * For requests no rule matches: `'authenticated'` (any valid principal), `'anonymous'` (credentials
   * optional, verified when present) or `'deny'` (403 for everything not listed: deny by default).
   * An object gives a full requirement (scopes, roles, …).
   * @default 'authenticated'
   */
  default?: 'authenticated' | 'anonymous' | 'deny' | Requirement;
  /** `realm` in `WWW-Authenticate` challenges. @default 'gatehouse' */
  realm?: string;
  /** Forward the principal to upstreams as a signed token and/or headers. Default: nothing is forwarded. */
  forward?: ForwardOptions;
  /** Where outcome counters are reported. Default: the global OpenTelemetry meter provider. */
  meterProvider?: MeterProvider;
}

/** Request counts by outcome since start. */
export interface AuthStats {
  /** Authenticated requests per method name. */
  readonly authenticated: Readonly<Record<string, number>>;
  /** Requests let through without a principal (anonymous routes). */
  readonly anonymous: number;
  /** Refused requests per reason. */
  readonly refused: Readonly<Partial<Record<RefusalReason, number>>>;
}

/** The auth middleware, plus what the gateway and route-level checks need from it. */
export interface Auth extends Middleware {
  /** A route-level middleware enforcing one more requirement on the principal `auth()` found. */
  require(requirement: Requirement): Middleware;
  /** Identity headers for a principal, for outbound calls made by hand (empty without `forward`). */
  identityHeaders(principal: Principal): Promise<Record<string, string>>;
  /** Counts since start. */
  stats(): AuthStats;
  /** Closes every method (timers, connections). */
  close(): Promise<void>;
}

interface Resolved {
  readonly methods: readonly Authenticator[];
  readonly all: boolean;
  readonly rules: readonly CompiledRule[];
  readonly fallback: Requirement;
  readonly realm: string;
  readonly forwarder: IdentityForwarder | undefined;
  /** The methods of each requirement that restricts them, filtered once at start-up. */
  readonly restricted: WeakMap<Requirement, readonly Authenticator[]>;
}

/**
 * Authentication and authorization as one Gatehouse middleware. Mount it after tracing and request
 * ids, before rate limiting (which keys on the principal).
 *
 * @throws ConfigError listing every problem in the options.
 * @example
 *   app.use(gw.auth({
 *     methods: [jwtAuthenticator({ jwks: { url }, issuer, audience }), apiKeyAuthenticator({ keys })],
 *     rules: [{ path: '/health', anonymous: true }, { path: '/admin/*', roles: ['admin'] }],
 *     default: 'authenticated',
 *   }));
 */
export function auth(options: AuthOptions): Auth {
  const resolved = resolve(options);
  const counts = new Counts();
  observe(options.meterProvider, counts);
  const { methods, rules, fallback, forwarder } = resolved;

  const refusal = (
    exchange: Exchange,
    error: unknown,
    scheme: string | undefined,
    requirement?: Requirement,
  ): unknown => withChallenge(exchange, error, { scheme, requirement }, resolved, counts);
  const denied = () => refuse(new AuthForbidden('Access to this resource is denied'), 'forbidden');
  const required = () => new AuthRequired('This resource needs authentication');

  const admit = (
    exchange: Exchange,
    requirement: Requirement,
    principal: Principal | undefined,
  ): RequestResult | Promise<RequestResult> => {
    if (principal === undefined) {
      if (requirement.anonymous === true) {
        counts.anonymous++;
        return forwarder === undefined ? undefined : voidOf(forwarder.apply(exchange, undefined));
      }
      throw refusal(exchange, required(), undefined, requirement);
    }
    const decided = authorize(principal, requirement, exchange);
    if (decided === true) return accept(exchange, principal);
    if (decided === false) throw refusal(exchange, forbidden(requirement), schemeOf(principal, exchange));
    return decided.then((allowed) => {
      if (!allowed) throw refusal(exchange, forbidden(requirement), schemeOf(principal, exchange));
      return accept(exchange, principal);
    });
  };

  const accept = (exchange: Exchange, principal: Principal): RequestResult | Promise<RequestResult> => {
    exchange.state.principal = principal;
    exchange.annotate('gatehouse.principal.id', principal.id);
    exchange.annotate('gatehouse.auth.method', principal.method);
    counts.authenticate(principal.method);
    return forwarder === undefined ? undefined : voidOf(forwarder.apply(exchange, principal));
  };

  const middleware: Auth = {
    name: 'auth',
    onRequest(exchange) {
      const requirement = matchRule(rules, exchange)?.requirement ?? fallback;
      if (requirement.deny === true) throw refusal(exchange, denied(), undefined);
      let found: Principal | undefined | Promise<Principal | undefined>;
      try {
        found = authenticate(exchange, requirement, resolved);
      } catch (error) {
        throw refusal(exchange, error, failedScheme(exchange));
      }
      if (!isThenable(found)) return admit(exchange, requirement, found);
      return found.then(
        (principal) => admit(exchange, requirement, principal),
        (error: unknown) => {
          throw refusal(exchange, error, failedScheme(exchange));
        },
      );
    },
    require(given) {
      // Checked once, when the route is set up; the parsed copy is what runs.
      const requirement = parseOptions(
        withCrossCheck(requirementSchema, (value, report) => {
          const listed =
            typeof value === 'object' && value !== null ? (value as Requirement).methods : undefined;
          for (const name of Array.isArray(listed) ? listed : []) {
            if (!methods.some((m) => m.name === name))
              report(
                ['methods'],
                `unknown method '${name}'${didYouMean(
                  String(name),
                  methods.map((m) => m.name),
                )}`,
              );
          }
        }),
        given,
        { name: 'auth.require()' },
      ) as Requirement;
      return {
        name: 'auth.require',
        onRequest(exchange) {
          const principal = exchange.state.principal;
          if (requirement.deny === true) throw refusal(exchange, denied(), undefined);
          if (principal === undefined) {
            if (requirement.anonymous === true) return undefined;
            throw refusal(exchange, required(), undefined, requirement);
          }
          const decided = authorize(principal, requirement, exchange);
          if (decided === true) return undefined;
          if (decided === false)
            throw refusal(exchange, forbidden(requirement), schemeOf(principal, exchange));
          return decided.then((allowed) => {
            if (!allowed) throw refusal(exchange, forbidden(requirement), schemeOf(principal, exchange));
            return undefined;
          });
        },
      };
    },
    identityHeaders(principal) {
      return forwarder === undefined ? Promise.resolve({}) : forwarder.headersFor(principal);
    },
    stats: () => counts.snapshot(),
    async close() {
      await Promise.all(methods.map((m) => m.close?.()));
    },
  };
  return middleware;
}

function resolve(options: AuthOptions): Resolved {
  const checked = parseOptions(authOptionsSchema, options, { name: 'auth' });
  const forwarder = checked.forward === undefined ? undefined : createForwarder(checked.forward);
  const methods = checked.methods;
  const rules = compileRules(checked.rules ?? []);
  const preset = checked.default ?? 'authenticated';
  const fallback: Requirement =
    preset === 'authenticated'
      ? {}
      : preset === 'anonymous'
        ? { anonymous: true }
        : preset === 'deny'
          ? { deny: true }
          : preset;
  const restricted = new WeakMap<Requirement, readonly Authenticator[]>();
  for (const requirement of [fallback, ...rules.map((r) => r.requirement)]) {
    const only = requirement.methods;
    if (only !== undefined)
      restricted.set(
        requirement,
        methods.filter((m) => only.includes(m.name)),
      );
  }
  return {
    methods,
    all: checked.combine === 'all',
    rules,
    fallback,
    realm: checked.realm ?? 'gatehouse',
    forwarder,
    restricted,
  };
}

// Runs the methods the requirement allows. Synchronous methods keep the whole path synchronous.
function authenticate(
  exchange: Exchange,
  requirement: Requirement,
  resolved: Resolved,
): Principal | undefined | Promise<Principal | undefined> {
  // Filtered at start-up: a rule's method list is not rebuilt per request.
  const methods =
    requirement.methods === undefined ? resolved.methods : resolved.restricted.get(requirement)!;
  return resolved.all ? everyMethod(exchange, methods, 0, undefined) : firstMethod(exchange, methods, 0);
}

function firstMethod(
  exchange: Exchange,
  methods: readonly Authenticator[],
  from: number,
): Principal | undefined | Promise<Principal | undefined> {
  for (let i = from; i < methods.length; i++) {
    const method = methods[i]!;
    const result = call(method, exchange);
    if (result === undefined) continue;
    if (!isThenable(result)) return result;
    return result.then((principal) => principal ?? firstMethod(exchange, methods, i + 1));
  }
  return undefined;
}

function everyMethod(
  exchange: Exchange,
  methods: readonly Authenticator[],
  from: number,
  first: Principal | undefined,
): Principal | undefined | Promise<Principal | undefined> {
  for (let i = from; i < methods.length; i++) {
    const result = call(methods[i]!, exchange);
    if (result === undefined) return undefined;
    if (!isThenable(result)) {
      first ??= result;
      continue;
    }
    return result.then((principal) =>
      principal === undefined ? undefined : everyMethod(exchange, methods, i + 1, first ?? principal),
    );
  }
  return first;
}

// The method whose refusal answers each exchange: the first method that throws decides, so one per
// exchange. Kept per exchange, not on the error: concurrent requests may share one rejected
// verification (the same error object) yet have sent different schemes.
const failedBy = new WeakMap<Exchange, Authenticator>();

// Calls one method, tagging what it throws with the method's challenge scheme and turning anything
// that is not a Gatehouse error (a bug, a library throwing) into a 500 that is reported, not shown.
function call(
  method: Authenticator,
  exchange: Exchange,
): Principal | undefined | Promise<Principal | undefined> {
  try {
    const result = method.authenticate(exchange);
    if (!isThenable(result)) return remember(method, result);
    return (result as Promise<Principal | undefined>).then(
      (principal) => remember(method, principal),
      (error: unknown) => {
        throw tag(method, exchange, error);
      },
    );
  } catch (error) {
    throw tag(method, exchange, error);
  }
}

function tag(method: Authenticator, exchange: Exchange, error: unknown): unknown {
  let err = error;
  if (!isGatehouseError(err)) {
    exchange.runtime.report(error, exchange, `auth:${method.name}`);
    err = refuse(new AuthFailed(`Authentication method '${method.name}' failed`, { cause: error }), 'error');
  } else if (
    (err.code === AuthFailed.spec.code || err.code === AuthUnavailable.spec.code) &&
    err.cause !== undefined &&
    !isMonitored(err)
  ) {
    // A method's own 5xx (a passport strategy's error(), Redis or the introspection endpoint down):
    // core reports only errors that are not Gatehouse errors, so hand the cause to onError here.
    exchange.runtime.report(err.cause, exchange, `auth:${method.name}`);
  }
  failedBy.set(exchange, method);
  return err;
}

function failedScheme(exchange: Exchange): string | undefined {
  const method = failedBy.get(exchange);
  return method === undefined ? undefined : schemeUsed(method, exchange);
}

/**
 * The scheme a challenge names for a method: the one of its schemes the client used in
 * `Authorization` (spelt as configured), else its first.
 */
function schemeUsed(method: Authenticator, exchange: Exchange): string | undefined {
  const schemes = method.schemes;
  if (schemes === undefined || schemes.length < 2) return method.scheme;
  const sent = exchange.rawHeader('authorization');
  if (typeof sent === 'string') {
    const name = sent.split(/[ \t]/, 1)[0]!.toLowerCase();
    const used = schemes.find((s) => s.toLowerCase() === name);
    if (used !== undefined) return used;
  }
  return method.scheme;
}

// The method that authenticated each principal: its challenge scheme answers a 403, and a route-level
// requirement's `methods` is checked against its name.
const authenticatedBy = new WeakMap<Principal, Authenticator>();

function remember(method: Authenticator, principal: Principal | undefined): Principal | undefined {
  if (principal !== undefined && typeof principal === 'object') authenticatedBy.set(principal, method);
  return principal;
}

function schemeOf(principal: Principal, exchange: Exchange): string | undefined {
  const method = authenticatedBy.get(principal);
  return method === undefined ? undefined : schemeUsed(method, exchange);
}

function authorize(
  principal: Principal,
  requirement: Requirement,
  exchange: Exchange,
): boolean | Promise<boolean> {
  const only = requirement.methods;
  if (only !== undefined && !only.includes(authenticatedBy.get(principal)?.name ?? principal.method))
    return false;
  if (missingScopes(principal, requirement).length > 0) return false;
  if (!hasRole(principal, requirement)) return false;
  if (requirement.allow === undefined) return true;
  const allowed = requirement.allow(principal, exchange);
  return isThenable(allowed) ? Promise.resolve(allowed).then((v) => v === true) : allowed === true;
}

function forbidden(requirement: Requirement): GatehouseError {
  const error = new AuthForbidden('The credentials do not grant access to this resource', {
    extensions: requirement.scopes?.length ? { required_scopes: [...requirement.scopes] } : undefined,
  });
  return refuse(error, 'forbidden');
}

// Rebuilds a refusal with its `WWW-Authenticate` challenge (RFC 6750 §3 for Bearer) and counts it.
function withChallenge(
  exchange: Exchange,
  error: unknown,
  context: { scheme: string | undefined; requirement: Requirement | undefined },
  resolved: Resolved,
  counts: Counts,
): unknown {
  const { scheme, requirement } = context;
  counts.refuse(refusalReason(error));
  if (!isGatehouseError(error)) return error;
  // A refusal answered on this route: forget any identity the client tried to hand upstream.
  if (resolved.forwarder !== undefined) void resolved.forwarder.apply(exchange, undefined);
  if (error.status !== 401 && error.status !== 403 && error.status !== 400) return error;
  if (error.headers?.['www-authenticate'] !== undefined) return error;
  const realm = `realm="${resolved.realm}"`;
  let challenge: string | undefined;
  const code = bearerError(error.code);
  if (error.status === 401 && code === undefined) {
    // Only the schemes the route accepts: a client should not be invited to use a refused method.
    const only = requirement?.methods;
    const offered =
      only === undefined ? resolved.methods : resolved.methods.filter((m) => only.includes(m.name));
    const schemes = challengeSchemes(offered);
    challenge = schemes.map((s) => `${s} ${realm}`).join(', ');
  } else if (scheme !== undefined) {
    const params = [realm];
    if (code !== undefined && scheme.toLowerCase() === 'bearer') {
      params.push(`error="${code}"`);
      const required = (error.extensions?.required_scopes as string[] | undefined) ?? [];
      if (code === 'insufficient_scope' && required.length > 0) params.push(`scope="${required.join(' ')}"`);
      else params.push(`error_description="${quotable(error.title)}"`);
    }
    challenge = `${scheme} ${params.join(', ')}`;
  }
  if (challenge === undefined || challenge === '') return error;
  const spec = errorCodes().get(error.code);
  if (spec === undefined) return error;
  const rebuilt = new GatehouseError(spec, error.message, {
    headers: { ...error.headers, 'www-authenticate': challenge },
    extensions: error.extensions,
    cause: error.cause,
  });
  return refuse(rebuilt, refusalReason(error));
}

/** Every scheme the methods accept, in order, each once (compared case-insensitively). */
function challengeSchemes(methods: readonly Authenticator[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const method of methods) {
    const schemes = method.schemes ?? (method.scheme === undefined ? [] : [method.scheme]);
    for (const scheme of schemes) {
      const key = scheme.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(scheme);
    }
  }
  return out;
}

// RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E only.
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

function voidOf(result: void | Promise<void>): RequestResult | Promise<RequestResult> {
  return result === undefined ? undefined : result.then(() => undefined);
}

class Counts {
  readonly authenticated = new Map<string, number>();
  readonly refused = new Map<RefusalReason, number>();
  anonymous = 0;

  authenticate(method: string): void {
    this.authenticated.set(method, (this.authenticated.get(method) ?? 0) + 1);
  }

  refuse(reason: RefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  snapshot(): AuthStats {
    return {
      authenticated: Object.fromEntries(this.authenticated),
      anonymous: this.anonymous,
      refused: Object.fromEntries(this.refused),
    };
  }
}

// Outcomes are reported as an observable counter read at collection time, so the request path only
// increments a number (no attribute object per request).
function observe(provider: MeterProvider | undefined, counts: Counts): void {
  const meter = (provider ?? metrics).getMeter('@gatehousejs/auth');
  const counter = meter.createObservableCounter('gatehouse.auth.requests', {
    description: 'Requests seen by auth(), by outcome (authenticated, anonymous, refused), method and reason',
    unit: '{request}',
  });
  counter.addCallback((result: ObservableResult<Attributes>) => {
    for (const [method, n] of counts.authenticated)
      result.observe(n, { outcome: 'authenticated', 'gatehouse.auth.method': method });
    if (counts.anonymous > 0) result.observe(counts.anonymous, { outcome: 'anonymous' });
    for (const [reason, n] of counts.refused)
      result.observe(n, { outcome: 'refused', 'gatehouse.auth.reason': reason });
  });
}
