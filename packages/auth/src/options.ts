// The options of auth() and its per-route requirements as valibot schemas (exported for a
// configuration-wide JSON Schema), checked once through core's parseOptions: every problem, at every
// depth, in one ConfigError with its path and a did-you-mean. The authentication methods' schemas sit
// beside their factories (jwtOptionsSchema in jwt.ts, …) and are checked the same way; the helpers
// they share are here.
import {
  didYouMean,
  type Exchange,
  functionOption,
  httpMethodsOption,
  objectOption,
  pathPatternOption,
  type TypesAgree,
  withCrossCheck,
} from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import * as v from 'valibot';
import type { AuthOptions } from './auth.js';
import { type ForwardOptions, forwardOptionsSchema } from './forward.js';
import type { Authenticator, Principal } from './principal.js';
import type { AuthRule, Requirement } from './rules.js';

export { Problems } from '@gatehousejs/core';

/**
 * An absolute http or https URL, as text. Problems never quote the URL, which may carry credentials.
 *
 * @param withoutCredentials - refuse a user or password in the URL (the introspection endpoint: its
 *   credentials belong in `clientId`/`clientSecret`).
 */
export function httpUrlOption(withoutCredentials = false): v.GenericSchema<string> {
  return v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const value = dataset.value;
      const url = URL.canParse(value) ? new URL(value) : undefined;
      const message =
        url === undefined
          ? 'expected an absolute http or https URL'
          : url.protocol !== 'http:' && url.protocol !== 'https:'
            ? `expected an http or https URL, not ${url.protocol}`
            : withoutCredentials && (url.username !== '' || url.password !== '')
              ? 'must not carry credentials; use clientId and clientSecret, or headers'
              : undefined;
      if (message !== undefined) addIssue({ message });
    }),
  );
}

/**
 * A message that depends on the issue and, by giving `undefined`, leaves some issues to core's
 * default wording (`expected one of …, received …`).
 */
export const messageOr = (
  message: (issue: {
    readonly input: unknown;
    readonly path?: readonly unknown[] | undefined;
  }) => string | undefined,
) => message as (issue: v.BaseIssue<unknown>) => string;

/** One non-empty string or a non-empty list of them (`issuer`, `audience`). */
export function oneOrMany(what: string) {
  return v.union(
    [v.pipe(v.string(), v.minLength(1)), v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))],
    messageOr((issue) => (issue.input === undefined ? `required: expected ${what}` : undefined)),
  );
}

/** A name of a query parameter, or `false` for none. */
export const queryOption = () => v.union([v.pipe(v.string(), v.minLength(1)), v.literal(false)]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const words = () => v.array(v.pipe(v.string(), v.minLength(1), v.regex(/^\S+$/, 'must not contain spaces')));

const requirementShape = {
  anonymous: v.optional(v.boolean()),
  deny: v.optional(v.boolean()),
  scopes: v.optional(words()),
  roles: v.optional(words()),
  methods: v.optional(words()),
  allow: v.optional(
    functionOption<(principal: Principal, exchange: Exchange) => boolean | Promise<boolean>>(
      'a function (principal, exchange) => boolean',
    ),
  ),
};

/** A requirement that contradicts itself. */
function checkRequirement(
  value: unknown,
  report: (path: (string | number)[], message: string) => void,
): void {
  if (!isObject(value)) return;
  if (value.anonymous === true && value.deny === true)
    report([], "'anonymous' and 'deny' cannot both be set");
  const demands =
    (Array.isArray(value.scopes) && value.scopes.length > 0) ||
    (Array.isArray(value.roles) && value.roles.length > 0) ||
    value.allow !== undefined;
  if (value.anonymous === true && demands) {
    report([], "an 'anonymous' route cannot also require scopes, roles or 'allow'");
  }
}

/** What a route requires of the caller (`default`, `gw.authorize()`, and every rule). */
export const requirementSchema = withCrossCheck(v.strictObject(requirementShape), checkRequirement);

/** A requirement for the requests matching `path` (and `httpMethods`). */
export const authRuleSchema = withCrossCheck(
  v.strictObject({
    ...requirementShape,
    path: pathPatternOption(),
    httpMethods: v.optional(httpMethodsOption()),
  }),
  checkRequirement,
);

/** Every option of `auth()` / `gw.auth()`. */
export const authOptionsSchema = withCrossCheck(
  v.strictObject({
    methods: v.array(
      objectOption<Authenticator>('an authenticator (an object with authenticate(exchange))', [
        'authenticate',
      ]),
    ),
    combine: v.optional(v.picklist(['first', 'all'])),
    rules: v.optional(v.array(authRuleSchema)),
    default: v.optional(v.union([v.picklist(['authenticated', 'anonymous', 'deny']), requirementSchema])),
    realm: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/, 'must be printable ASCII without quotes or backslashes'),
      ),
    ),
    // The key (a KeyObject, bytes) and header functions pass through as given.
    forward: v.optional(forwardOptionsSchema as unknown as v.GenericSchema<ForwardOptions>),
    meterProvider: v.optional(objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter'])),
  }),
  (options, report) => {
    if (!isObject(options)) return;
    const methods = Array.isArray(options.methods) ? options.methods : [];
    const names = new Set<string>();
    for (const [i, method] of methods.entries()) {
      if (!isObject(method) || typeof method.name !== 'string') continue;
      if (names.has(method.name)) report(['methods', i], `method name '${method.name}' is used twice`);
      names.add(method.name);
    }
    const preset = options.default ?? 'authenticated';
    const fallback: unknown =
      preset === 'anonymous'
        ? { anonymous: true }
        : preset === 'deny'
          ? { deny: true }
          : preset === 'authenticated'
            ? {}
            : preset;
    const rules = Array.isArray(options.rules) ? options.rules : [];
    const requirements: [(string | number)[], unknown][] = [
      [['default'], fallback],
      ...rules.map((rule, i): [(string | number)[], unknown] => [['rules', i], rule]),
    ];
    for (const [at, requirement] of requirements) {
      if (!isObject(requirement) || !Array.isArray(requirement.methods)) continue;
      for (const name of requirement.methods) {
        if (typeof name === 'string' && !names.has(name)) {
          report([...at, 'methods'], `unknown method '${name}'${didYouMean(name, names)}`);
        }
      }
    }
    const needsMethods = requirements.some(([, r]) => isObject(r) && r.anonymous !== true && r.deny !== true);
    if (Array.isArray(options.methods) && methods.length === 0 && needsMethods) {
      report(['methods'], 'at least one authentication method is needed for routes that are not anonymous');
    }
  },
);

// The hand-written types are what users read (with their TSDoc); these lines keep them and the schemas
// in step: what the types allow, the schemas accept, and the other way round. valibot's arrays are
// never readonly, so both sides are compared with readonly taken off their arrays.
const typesAgree: [
  TypesAgree<v.InferInput<typeof requirementSchema>, Requirement>,
  TypesAgree<v.InferInput<typeof authRuleSchema>, AuthRule>,
  TypesAgree<v.InferInput<typeof authOptionsSchema>, AuthOptions>,
] = [true, true, true];
void typesAgree;
