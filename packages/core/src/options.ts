// Option checking shared by every capability factory (auth, rate limiting, tracing, the client, …):
// each package describes its options once, as a valibot schema it exports, and its factory calls
// parseOptions() when it runs. Every problem is reported at once in one ConfigError, each with its
// path (`client.breaker`, `rateLimit.routes[2].path`) and a did-you-mean, the same way the
// configuration file is checked (config/validate.ts does the work for both). The same schemas are
// what a JSON Schema for editors is generated from.
import * as v from 'valibot';
import {
  describeAs,
  isCodeOnly,
  isObjectSchema,
  layers,
  type OptionSchema,
  partsOf,
  unwrap,
} from './config/introspect.js';
import { suggest } from './config/suggest.js';
import {
  ConfigError,
  type ConfigProblem,
  type ConfigSourceInfo,
  validateAgainst,
} from './config/validate.js';
import { quote } from './config/words.js';
import { createPathMatcher } from './path.js';

export type { OptionSchema };

/** How {@link parseOptions} reports problems. */
export interface ParseOptionsSettings {
  /**
   * The factory's name, the path every problem is placed under: `'auth'` gives
   * `auth.rules[0].path: …`. Use the name users call (`'rateLimit'`, `'client'`, `'tracing'`).
   */
  name: string;
  /**
   * When the options were read from a configuration file: problems get the file's line and column,
   * unknown keys are worded for files, and problems found while reading it are listed with the rest.
   * Give `name: ''` for a whole file, whose paths start at its top level.
   */
  source?: ConfigSourceInfo;
}

/**
 * Checks a factory's options against its schema and returns the schema's output (defaults filled
 * in), or throws one {@link ConfigError} listing every problem with its path and, where one is close,
 * a suggestion (`unknown option — did you mean 'breaker'?`, `expected one of 'local', 'shadow', …,
 * received the string 'shadw' — did you mean 'shadow'?`).
 *
 * Call it once, when the factory runs, never per request. Build the schema with valibot's
 * `v.strictObject` (a plain `v.object` silently drops unknown keys), {@link functionOption} for
 * callbacks and {@link objectOption} for objects built in code (stores, meter providers, resolvers).
 * A message a schema or action words itself (`v.regex(re, 'a header name')`) is used as it is; every
 * other problem gets Gatehouse's wording, which says what was expected and what was received.
 *
 * @example
 *   export const deadlineOptionsSchema = v.strictObject({
 *     header: v.optional(v.pipe(v.string(), v.minLength(1))),
 *     maxMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
 *   });
 *   export function deadline(options: DeadlineOptions = {}): Middleware {
 *     const { header = 'x-deadline-ms', maxMs = 60_000 } =
 *       parseOptions(deadlineOptionsSchema, options, { name: 'deadline' });
 *     …
 *   }
 */
export function parseOptions<S extends OptionSchema>(
  schema: S,
  value: unknown,
  settings: ParseOptionsSettings,
): v.InferOutput<S> {
  return validateAgainst(schema, value, {
    name: settings.name,
    more: (input) => runCrossChecks(schema, input),
    ...(settings.source === undefined ? {} : { source: settings.source }),
  });
}

/** What valibot's inference keeps of a type: readonly is a type matter only (arrays, properties). */
type Mutable<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends Uint8Array
    ? T
    : T extends readonly (infer E)[]
      ? Mutable<E>[]
      : T extends object
        ? { -readonly [K in keyof T]: Mutable<T[K]> }
        : T;

/**
 * `true` when a hand-written option type and a schema's input type accept the same values, readonly
 * aside (valibot infers mutable arrays where the types say `readonly T[]`); `never` otherwise, so a
 * `const check: TypesAgree<v.InferInput<typeof schema>, Options> = true` fails to compile when they
 * drift apart.
 */
export type TypesAgree<A, B> = [Mutable<A>] extends [Mutable<B>]
  ? [Mutable<B>] extends [Mutable<A>]
    ? true
    : never
  : never;

// ---------------------------------------------------------------------------------------------
// Checks across options
// ---------------------------------------------------------------------------------------------

/** Reports a problem at `path`, relative to the object the check is attached to. */
export type CrossCheckReport = (path: readonly (string | number)[], message: string) => void;

/**
 * A check across the options of one object: `value` is whatever the caller gave (check its types
 * before use), `report` records a problem.
 */
export type CrossCheck = (value: unknown, report: CrossCheckReport) => void;

const crossChecks = new WeakMap<object, CrossCheck>();

/**
 * Attaches a check across options (`limits` and `tiers` not both; `defaultTier` one of `tiers`) to a
 * schema. valibot runs a schema's checks only once every value below it has the right type, so
 * {@link parseOptions} runs this one itself, on the input as given, wherever the schema sits (at the
 * top, in arrays, records and objects): a wrong type elsewhere never hides it. A direct
 * `v.safeParse()` still runs it, as a check of the typed value.
 *
 * @example
 *   export const windowSchema = withCrossCheck(
 *     v.strictObject({ points: positiveInt, duration: v.optional(durationSchema), per: v.optional(periodSchema) }),
 *     (w, report) => {
 *       if (isObject(w) && (w.duration === undefined) === (w.per === undefined))
 *         report([], "give exactly one of 'duration' or 'per'");
 *     },
 *   );
 */
export function withCrossCheck<S extends OptionSchema>(schema: S, check: CrossCheck): S {
  // valibot's pipe keeps the schema's own properties (`type`, `entries`, …) on the piped schema.
  const checked = v.pipe(
    schema,
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      check(dataset.value, (path, message) => {
        if (path.length === 0) addIssue({ message });
        else
          addIssue({
            message,
            path: pathItems(dataset.value, path),
          });
      });
    }),
  ) as unknown as S;
  crossChecks.set(checked, check);
  return checked;
}

/** valibot's path items for `path` below `value`, for an issue a check reports there. */
function pathItems(
  value: unknown,
  path: readonly (string | number)[],
): [v.IssuePathItem, ...v.IssuePathItem[]] {
  const items: v.IssuePathItem[] = [];
  let current: unknown = value;
  for (const key of path) {
    const next =
      typeof current === 'object' && current !== null
        ? (current as Record<string | number, unknown>)[key]
        : undefined;
    items.push(
      Array.isArray(current)
        ? ({
            type: 'array',
            origin: 'value',
            input: current,
            key: key as number,
            value: next,
          } as v.IssuePathItem)
        : ({
            type: 'object',
            origin: 'value',
            input: current as Record<string, unknown>,
            key: String(key),
            value: next,
          } as v.IssuePathItem),
    );
    current = next;
  }
  return items as [v.IssuePathItem, ...v.IssuePathItem[]];
}

/** An object schema's entries. */
type EntriesOf<S> = S extends { entries: infer E extends v.ObjectEntries } ? E : never;

/**
 * An object schema with some options replaced or added (a configuration file's form of a factory's
 * options, where an object built in code becomes its declarative description), keeping its checks:
 * those piped after it and the check across options {@link parseOptions} runs on the raw input.
 *
 * @example extendOptions(rateLimitOptionsSchema, { store: v.optional(storeFileSchema) })
 */
export function extendOptions<
  S extends OptionSchema & { entries: v.ObjectEntries },
  E extends v.ObjectEntries,
>(schema: S, entries: E): v.StrictObjectSchema<Omit<EntriesOf<S>, keyof E> & E, undefined> {
  let extended: OptionSchema = v.strictObject({ ...schema.entries, ...entries });
  const pipe = (schema as { pipe?: readonly unknown[] }).pipe;
  if (pipe !== undefined && pipe.length > 1) {
    extended = (v.pipe as unknown as (...items: unknown[]) => OptionSchema)(extended, ...pipe.slice(1));
  }
  const check = crossChecks.get(schema);
  if (check !== undefined) crossChecks.set(extended, check);
  return extended as unknown as v.StrictObjectSchema<Omit<EntriesOf<S>, keyof E> & E, undefined>;
}

type Finding = { path: (string | number)[]; message: string };

/** Runs every cross-check attached in `schema` on the matching parts of `input`. */
function runCrossChecks(schema: OptionSchema, input: unknown): Finding[] {
  const found: Finding[] = [];
  const visit = (node: OptionSchema, value: unknown, path: (string | number)[], depth: number) => {
    if (depth > 32 || value === undefined) return;
    for (const layer of layers(node)) {
      const check = crossChecks.get(layer);
      if (check === undefined) continue;
      try {
        check(value, (at, message) => found.push({ path: [...path, ...at], message }));
      } catch {
        // A check confused by a value of the wrong type: that type is reported by the schema already.
      }
    }
    const current = partsOf(node);
    if (typeof value !== 'object' || value === null) return;
    if (current.type === 'union') {
      // Every branch of the value's shape (an object's checks for an object): a check that does not
      // apply says nothing, and a problem found twice is reported once.
      for (const option of current.options ?? []) {
        const type = (unwrap(option) as { type: string }).type;
        const fits = Array.isArray(value)
          ? type === 'array'
          : isObjectSchema(unwrap(option)) || type === 'record';
        if (fits) visit(option, value, path, depth + 1);
      }
      return;
    }
    if (isObjectSchema(current as unknown as OptionSchema) && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(current.entries ?? {})) {
        if (Object.hasOwn(value, key))
          visit(child, (value as Record<string, unknown>)[key], [...path, key], depth + 1);
      }
    } else if (current.type === 'array' && Array.isArray(value) && current.item !== undefined) {
      for (const [i, item] of (value as unknown[]).entries())
        visit(current.item, item, [...path, i], depth + 1);
    } else if (current.type === 'record' && !Array.isArray(value) && current.value !== undefined) {
      for (const [key, item] of Object.entries(value)) visit(current.value, item, [...path, key], depth + 1);
    }
  };
  visit(schema, input, [], 0);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Schemas for what only code can give: functions and objects with methods
// ---------------------------------------------------------------------------------------------

/**
 * A function-valued option (a key function, a predicate, a logger callback): anything but a
 * function is a problem (`expected a function, received the string 'ip'`). Its type is `T`.
 * Code only: a JSON Schema generated for configuration files leaves it out ({@link isCodeOnlyOption}).
 *
 * @param what - what is expected, for the message. Default `'a function'`.
 * @example functionOption<(exchange: Exchange) => string>('a function of the exchange')
 */
export function functionOption<T extends (...args: never[]) => unknown>(
  what = 'a function',
): v.GenericSchema<T> {
  return describeAs(
    v.custom<T>((value) => typeof value === 'function'),
    what,
    true,
  );
}

/**
 * An object built in code (a store, a meter provider, a resolver, an authenticator): an object (or
 * a function object) that has every method in `methods`. Code only, as {@link functionOption}.
 *
 * @param what - what is expected, for the message: `'a store such as memoryStore()'`.
 * @param methods - names of methods it must have. Default none.
 */
export function objectOption<T>(what: string, methods: readonly string[] = []): v.GenericSchema<T> {
  return describeAs(
    v.custom<T>(
      (value) =>
        ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
        methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    ),
    what,
    true,
  );
}

/**
 * Whether `schema` was made by {@link functionOption} or {@link objectOption} (through `v.optional`,
 * pipes, …): such options exist only in code and have no place in a configuration file.
 */
export function isCodeOnlyOption(schema: OptionSchema): boolean {
  return isCodeOnly(schema);
}

/**
 * The problem with a path pattern as `createPathMatcher` reads it (auth rules, rate-limit routes, the
 * route table), or undefined when it is fine. A trailing slash is refused: normalized paths never end
 * in '/' (with the default `trailingSlash: 'strip'`), so `/orders/` would never match, and reading it
 * as `/orders` or as `/orders/*` would be a guess about which requests a rule covers.
 */
export function pathPatternProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('/')) {
    const fixed = `/${pattern.replace(/^\/*/, '')}`;
    return `must start with '/'${/^[A-Za-z0-9:*._~-]/.test(pattern) ? ` — did you mean ${quote(fixed)}?` : ''}`;
  }
  if (pattern.length > 1 && pattern.endsWith('/')) {
    const bare = pattern.replace(/\/+$/, '') || '/';
    const below = bare === '/' ? '/*' : `${bare}/*`;
    return `must not end with '/': a normalized path never does, so it would never match — did you mean ${quote(bare)} (that path) or ${quote(below)} (it and everything below)?`;
  }
  if (/[?#]/.test(pattern)) return 'must not contain a query or fragment: rules match the path only';
  try {
    createPathMatcher(pattern);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

const HTTP_METHOD = /^[!#$%&'*+.^_`|~0-9A-Z-]+$/;

/**
 * A non-empty list of upper-case HTTP method names (an auth rule's `httpMethods`, a rate-limit route's
 * `methods`): `'get'` is refused with a suggestion (`— did you mean 'GET'?`), as paths and methods are
 * matched exactly.
 */
export function httpMethodsOption(): v.GenericSchema<string[]> {
  return v.pipe(
    v.array(
      v.pipe(
        v.string(),
        v.regex(HTTP_METHOD, (issue) => {
          const input = String(issue.input);
          const upper = input.toUpperCase();
          const hint = upper !== input && HTTP_METHOD.test(upper) ? ` — did you mean '${upper}'?` : '';
          return `must be an upper-case method name, received ${JSON.stringify(issue.input)}${hint}`;
        }),
      ),
    ),
    v.minLength(1, 'must be a non-empty array of upper-case method names'),
  );
}

/**
 * A path pattern option (`/orders`, `/orders/*`, `/orders/:id`), checked with {@link pathPatternProblem}.
 * It is a plain string in a JSON Schema.
 */
export function pathPatternOption(): v.GenericSchema<string> {
  return v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const problem = pathPatternProblem(dataset.value);
      if (problem !== undefined) addIssue({ message: problem });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Hand-written checks, for what a schema cannot say (a check that compiles something, a check
// across options that needs the compiled result). Prefer a schema; these report the same way.
// ---------------------------------------------------------------------------------------------

/** Collects option problems under a path prefix; {@link Problems.throwIfAny} reports them together. */
export class Problems {
  readonly #list: ConfigProblem[] = [];
  readonly #prefix: string;

  /** @param prefix - the options' own path, e.g. `'auth.jwt'` */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Records a problem at `path` (relative to the prefix; '' for the options object itself). */
  add(path: string, message: string): void {
    const full =
      path === ''
        ? this.#prefix
        : path.startsWith('[')
          ? `${this.#prefix}${path}`
          : `${this.#prefix}.${path}`;
    this.#list.push({ path: full, message });
  }

  /** Records the problems of a nested check (a caught ConfigError); rethrows anything else. */
  merge(error: unknown): void {
    if (error instanceof ConfigError) this.#list.push(...error.problems);
    else throw error;
  }

  get count(): number {
    return this.#list.length;
  }

  /** Throws a ConfigError listing every recorded problem, if there is any. */
  throwIfAny(): void {
    if (this.#list.length > 0) throw new ConfigError(this.#list);
  }
}

/** A positive finite integer, else a problem; returns the value or the default. */
export function positiveInt(problems: Problems, path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    problems.add(path, `must be a positive integer, got ${JSON.stringify(value) ?? String(value)}`);
    return fallback;
  }
  return value;
}

/** A non-empty string, else a problem. */
export function nonEmptyString(problems: Problems, path: string, value: unknown): value is string {
  if (typeof value === 'string' && value.length > 0) return true;
  problems.add(path, value === undefined ? 'is required' : 'must be a non-empty string');
  return false;
}

/**
 * Records every key of `value` that is not in `known`, worded as {@link parseOptions} words it: a
 * misspelt option (`role` for `roles`, `point` for `points`) must fail at start-up, never silently
 * weaken a policy.
 */
export function unknownKeys(problems: Problems, path: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const at = path === '' ? key : `${path}.${key}`;
    const near = suggest(key, known)[0];
    problems.add(
      at,
      near === undefined
        ? `unknown option; expected one of ${known.join(', ')}`
        : `unknown option; did you mean '${near}'?`,
    );
  }
}
