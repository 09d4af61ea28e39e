// The options of auth() and its per-route requirements as zod schemas (exported for a
// configuration-wide JSON Schema), checked once through core's parseOptions: every problem, at every
// depth, in one ConfigError with its path and a did-you-mean. The authentication methods' schemas sit
// beside their factories (jwtOptionsSchema in jwt.ts, …) and are checked the same way; the helpers
// they share are here.
import {
  didYouMean,
  type Exchange,
  functionOption,
  objectOption,
  pathPatternOption,
  withCrossCheck,
} from '@gatehousejs/core';
import type { MeterProvider } from '@opentelemetry/api';
import { z } from 'zod';
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
export function httpUrlOption(withoutCredentials = false): z.ZodType<string, string> {
  return z.string().check(
    z.superRefine((value, ctx) => {
      const url = URL.canParse(value) ? new URL(value) : undefined;
      const message =
        url === undefined
          ? 'expected an absolute http or https URL'
          : url.protocol !== 'http:' && url.protocol !== 'https:'
            ? `expected an http or https URL, not ${url.protocol}`
            : withoutCredentials && (url.username !== '' || url.password !== '')
              ? 'must not carry credentials; use clientId and clientSecret, or headers'
              : undefined;
      if (message !== undefined) ctx.addIssue({ code: 'custom', input: value, message });
    }),
  );
}

/** One non-empty string or a non-empty list of them (`issuer`, `audience`). */
export function oneOrMany(what: string) {
  return z.union([z.string().min(1), z.array(z.string().min(1)).min(1).readonly()], {
    error: (issue) => (issue.input === undefined ? `required: expected ${what}` : undefined),
  });
}

/** A name of a query parameter, or `false` for none. */
export const queryOption = () => z.union([z.string().min(1), z.literal(false)]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;

const words = () =>
  z.array(z.string().min(1).regex(/^\S+$/, { error: 'must not contain spaces' })).readonly();

const requirementShape = {
  anonymous: z.boolean().optional(),
  deny: z.boolean().optional(),
  scopes: words().optional(),
  roles: words().optional(),
  methods: words().optional(),
  allow: functionOption<(principal: Principal, exchange: Exchange) => boolean | Promise<boolean>>(
    'a function (principal, exchange) => boolean',
  ).optional(),
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
export const requirementSchema = withCrossCheck(z.strictObject(requirementShape), checkRequirement);

/** A requirement for the requests matching `path` (and `httpMethods`). */
export const authRuleSchema = withCrossCheck(
  z.strictObject({
    ...requirementShape,
    path: pathPatternOption(),
    httpMethods: z
      .array(
        z.string().regex(METHOD, {
          error: (issue) => {
            const input = String(issue.input);
            const upper = input.toUpperCase();
            return `must be an upper-case method name, received ${JSON.stringify(issue.input)}${upper !== input && METHOD.test(upper) ? ` — did you mean '${upper}'?` : ''}`;
          },
        }),
      )
      .min(1, { error: 'must be a non-empty array of upper-case method names' })
      .readonly()
      .optional(),
  }),
  checkRequirement,
);

/** Every option of `auth()` / `gw.auth()`. */
export const authOptionsSchema = withCrossCheck(
  z.strictObject({
    methods: z
      .array(
        objectOption<Authenticator>('an authenticator (an object with authenticate(exchange))', [
          'authenticate',
        ]),
      )
      .readonly(),
    combine: z.enum(['first', 'all']).optional(),
    rules: z.array(authRuleSchema).readonly().optional(),
    default: z.union([z.enum(['authenticated', 'anonymous', 'deny']), requirementSchema]).optional(),
    realm: z
      .string()
      .regex(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/, {
        error: 'must be printable ASCII without quotes or backslashes',
      })
      .optional(),
    // The key (a KeyObject, bytes) and header functions pass through as given.
    forward: (forwardOptionsSchema as unknown as z.ZodType<ForwardOptions, ForwardOptions>).optional(),
    meterProvider: objectOption<MeterProvider>('an OpenTelemetry MeterProvider', ['getMeter']).optional(),
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
// in step: what the types allow, the schemas accept, and the other way round.
type Agree<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const typesAgree: [
  Agree<z.input<typeof requirementSchema>, Requirement>,
  Agree<z.input<typeof authRuleSchema>, AuthRule>,
  Agree<z.input<typeof authOptionsSchema>, AuthOptions>,
] = [true, true, true];
void typesAgree;
