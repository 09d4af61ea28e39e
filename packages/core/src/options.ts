// Option checking shared by every capability factory (auth, rate limiting, tracing, the client, …):
// each package describes its options once, as a zod schema it exports, and its factory calls
// parseOptions() when it runs. Every problem is reported at once in one ConfigError, each with its
// path (`client.breaker`, `rateLimit.routes[2].path`) and a did-you-mean, the same way the
// configuration file is checked (config/validate.ts does the work for both). The same schemas are
// what a JSON Schema for editors can be generated from.
import { z } from 'zod';
import { describeValue, quote } from './config/schema.js';
import { didYouMean, suggest } from './config/suggest.js';
import {
  ConfigError,
  type ConfigProblem,
  type ConfigSourceInfo,
  validateAgainst,
} from './config/validate.js';
import { createPathMatcher } from './path.js';

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
 * Checks a factory's options against its schema and returns zod's output (defaults filled in), or
 * throws one {@link ConfigError} listing every problem with its path and, where one is close, a
 * suggestion (`unknown option — did you mean 'breaker'?`, `expected one of 'local', 'shadow', …,
 * received the string 'shadw' — did you mean 'shadow'?`).
 *
 * Call it once, when the factory runs, never per request. Build the schema with `z.strictObject`
 * (a plain `z.object` silently drops unknown keys), {@link functionOption} for callbacks and
 * {@link objectOption} for objects built in code (stores, meter providers, resolvers). Messages
 * come from the schema when it sets one (`{ error: … }`), else from Gatehouse's defaults, which say
 * what was expected and what was received.
 *
 * @example
 *   export const deadlineOptionsSchema = z.strictObject({
 *     header: z.string().min(1).optional(),
 *     maxMs: z.int().positive().optional(),
 *   });
 *   export function deadline(options: DeadlineOptions = {}): Middleware {
 *     const { header = 'x-deadline-ms', maxMs = 60_000 } =
 *       parseOptions(deadlineOptionsSchema, options, { name: 'deadline' });
 *     …
 *   }
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  settings: ParseOptionsSettings,
): z.output<S> {
  return validateAgainst(schema, value, {
    name: settings.name,
    error: optionMessage,
    more: (input) => runCrossChecks(schema, input),
    ...(settings.source === undefined ? {} : { source: settings.source }),
  });
}

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

const crossChecks = new WeakMap<z.core.$ZodType, CrossCheck>();

/**
 * Attaches a check across options (`limits` and `tiers` not both; `defaultTier` one of `tiers`) to an
 * object schema. zod runs a refinement only while every value below it has the right type, so
 * {@link parseOptions} also runs the check itself, on the input as given, wherever the schema sits
 * (at the top, in arrays, records and objects): a wrong type elsewhere never hides it. A direct
 * `schema.safeParse()` still runs it as a refinement.
 *
 * @example
 *   export const windowSchema = withCrossCheck(
 *     z.strictObject({ points: z.int().positive(), duration: durationSchema.optional(), per: periodSchema.optional() }),
 *     (w, report) => {
 *       if (isObject(w) && (w.duration === undefined) === (w.per === undefined))
 *         report([], "give exactly one of 'duration' or 'per'");
 *     },
 *   );
 */
export function withCrossCheck<S extends z.ZodType>(schema: S, check: CrossCheck): S {
  const checked = schema.check(
    z.superRefine(
      (value, ctx) =>
        check(value, (path, message) =>
          ctx.addIssue({ code: 'custom', path: [...path], input: value, message }),
        ),
      { when: () => true },
    ),
  ) as S;
  crossChecks.set(checked, check);
  return checked;
}

/**
 * An object schema with some options replaced or added (a configuration file's form of a factory's
 * options, where an object built in code becomes its declarative description), keeping its checks:
 * the refinements (zod's `safeExtend`) and the check across options {@link parseOptions} runs on the
 * raw input.
 *
 * @example extendOptions(rateLimitOptionsSchema, { store: storeFileSchema.optional() })
 */
export function extendOptions<S extends z.ZodObject, T extends z.core.$ZodLooseShape>(
  schema: S,
  shape: T,
): z.ZodObject<z.util.Extend<S['shape'], T>, S['_zod']['config']> {
  const extended = schema.safeExtend(shape as never) as unknown as z.ZodObject<
    z.util.Extend<S['shape'], T>,
    S['_zod']['config']
  >;
  const check = crossChecks.get(schema);
  if (check !== undefined) crossChecks.set(extended, check);
  return extended;
}

type Finding = { path: (string | number)[]; message: string };

/** Runs every cross-check attached in `schema` on the matching parts of `input`. */
function runCrossChecks(schema: z.core.$ZodType, input: unknown): Finding[] {
  const found: Finding[] = [];
  const visit = (node: z.core.$ZodType, value: unknown, path: (string | number)[], depth: number) => {
    if (depth > 32 || value === undefined) return;
    let current: z.core.$ZodType | undefined = node;
    for (let i = 0; i < 16 && current !== undefined; i++) {
      const check = crossChecks.get(current);
      if (check !== undefined) {
        try {
          check(value, (at, message) => found.push({ path: [...path, ...at], message }));
        } catch {
          // A check confused by a value of the wrong type: that type is reported by zod already.
        }
      }
      const def = current._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
      if (
        ['optional', 'default', 'prefault', 'nullable', 'readonly', 'nonoptional', 'catch'].includes(def.type)
      ) {
        current = def['innerType'] as z.core.$ZodType;
      } else if (def.type === 'pipe') {
        current = def['in'] as z.core.$ZodType;
      } else break;
    }
    if (current === undefined || typeof value !== 'object' || value === null) return;
    const def = current._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    if (def.type === 'object' && !Array.isArray(value)) {
      const shape = def['shape'] as Record<string, z.core.$ZodType>;
      for (const [key, child] of Object.entries(shape)) {
        if (Object.hasOwn(value, key))
          visit(child, (value as Record<string, unknown>)[key], [...path, key], depth + 1);
      }
    } else if (def.type === 'array' && Array.isArray(value)) {
      const element = def['element'] as z.core.$ZodType;
      for (const [i, item] of (value as unknown[]).entries()) visit(element, item, [...path, i], depth + 1);
    } else if (def.type === 'record' && !Array.isArray(value)) {
      const valueType = def['valueType'] as z.core.$ZodType;
      for (const [key, item] of Object.entries(value)) visit(valueType, item, [...path, key], depth + 1);
    }
  };
  visit(schema, input, [], 0);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Schemas for what only code can give: functions and objects with methods
// ---------------------------------------------------------------------------------------------

const codeOnly = new WeakSet<z.core.$ZodType>();

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
): z.ZodType<T, T> {
  const schema = z.custom<T>((value) => typeof value === 'function', { params: { expected: what } });
  codeOnly.add(schema);
  return schema;
}

/**
 * An object built in code (a store, a meter provider, a resolver, an authenticator): an object (or
 * a function object) that has every method in `methods`. Code only, as {@link functionOption}.
 *
 * @param what - what is expected, for the message: `'a store such as memoryStore()'`.
 * @param methods - names of methods it must have. Default none.
 */
export function objectOption<T>(what: string, methods: readonly string[] = []): z.ZodType<T, T> {
  const schema = z.custom<T>(
    (value) =>
      ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { params: { expected: what } },
  );
  codeOnly.add(schema);
  return schema;
}

/**
 * Whether `schema` was made by {@link functionOption} or {@link objectOption} (through `.optional()`,
 * `.default()`, …): such options exist only in code and have no place in a configuration file.
 */
export function isCodeOnlyOption(schema: z.core.$ZodType): boolean {
  let current: z.core.$ZodType = schema;
  for (let depth = 0; depth < 16; depth++) {
    if (codeOnly.has(current)) return true;
    const def = current._zod.def as { innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    const next = def.innerType ?? def.in;
    if (next === undefined) return false;
    current = next;
  }
  return false;
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

/**
 * A path pattern option (`/orders`, `/orders/*`, `/orders/:id`), checked with {@link pathPatternProblem}.
 * It is a plain string in a JSON Schema.
 */
export function pathPatternOption(): z.ZodType<string, string> {
  return z.string().check(
    z.superRefine((value, ctx) => {
      const problem = pathPatternProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', input: value, message: problem });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Default messages: what was expected, what was received, and a suggestion when one is close
// ---------------------------------------------------------------------------------------------

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  bigint: 'a bigint',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  function: 'a function',
  date: 'a date',
  map: 'a Map',
  set: 'a Set',
  symbol: 'a symbol',
  null: 'null',
  undefined: 'nothing',
  nan: 'NaN',
  never: 'nothing',
  record: 'an object',
  tuple: 'an array',
};

const WORDY_BOOLEANS: Readonly<Record<string, string>> = {
  yes: 'true',
  on: 'true',
  true: 'true',
  no: 'false',
  off: 'false',
  false: 'false',
};

type RawIssue = z.core.$ZodRawIssue;

const INTEGER_FORMATS: ReadonlySet<unknown> = new Set(['safeint', 'int32', 'uint32']);

/** What a schema accepts, in words (`an integer`, `'a' or 'b'`, `a function`), or undefined. */
function describeSchema(schema: z.core.$ZodType | undefined, depth = 0): string | undefined {
  if (schema === undefined || depth > 8) return undefined;
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'optional':
    case 'nonoptional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return describeSchema(def['innerType'] as z.core.$ZodType, depth + 1);
    case 'pipe':
      return describeSchema(def['in'] as z.core.$ZodType, depth + 1);
    case 'number':
      return INTEGER_FORMATS.has(def['format']) ? 'an integer' : 'a number';
    case 'literal':
      return valuesOf(def['values'] as readonly unknown[]);
    case 'enum':
      return valuesOf(Object.values(def['entries'] as Record<string, unknown>));
    case 'custom': {
      const expected = (def['params'] as Record<string, unknown> | undefined)?.['expected'];
      return typeof expected === 'string' ? expected : undefined;
    }
    case 'union': {
      // `'p2c', 'ewma' or a Balancer`: the values of literal and enum branches listed one by one.
      const parts = (def['options'] as readonly z.core.$ZodType[]).flatMap((o) => {
        const values = valuesIn(o);
        return values === undefined ? [describeSchema(o, depth + 1)] : values.map(shown);
      });
      if (parts.some((p) => p === undefined)) return undefined;
      return alternatives([...new Set(parts as string[])]);
    }
    default:
      return TYPE_WORDS[def.type];
  }
}

/** The values a literal or enum schema (through wrappers) accepts, or undefined for other schemas. */
function valuesIn(schema: z.core.$ZodType, depth = 0): readonly unknown[] | undefined {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  if (def.type === 'literal') return def['values'] as readonly unknown[];
  if (def.type === 'enum') return Object.values(def['entries'] as Record<string, unknown>);
  if (depth < 8 && (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')) {
    return valuesIn(def['innerType'] as z.core.$ZodType, depth + 1);
  }
  return undefined;
}

/** Every string value the literal and enum branches of a union accept, for a suggestion. */
function unionStrings(schema: z.core.$ZodType | undefined): string[] {
  if (schema === undefined) return [];
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  if (def.type !== 'union') return [];
  return (def['options'] as readonly z.core.$ZodType[]).flatMap((o) =>
    (valuesIn(o) ?? []).filter((v): v is string => typeof v === 'string'),
  );
}

/** `a`, `a or b`, `a, b or c`. */
function alternatives(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}`;
}

/** What a value should have been, in words, or undefined when the issue does not say. */
function expectedOf(issue: RawIssue): string | undefined {
  const described = describeSchema(issue.inst as z.core.$ZodType | undefined);
  if (described !== undefined) return described;
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_WORDS[issue.expected] ?? issue.expected;
    case 'invalid_value':
      return valuesOf(issue.values);
    case 'custom': {
      const expected = issue.params?.['expected'];
      return typeof expected === 'string' ? expected : undefined;
    }
    default:
      return undefined;
  }
}

function shown(value: unknown): string {
  return typeof value === 'string' ? quote(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}

function valuesOf(values: readonly unknown[]): string {
  if (values.length === 1) return shown(values[0]);
  return `one of ${alternatives(values.map(shown))}`;
}

function received(input: unknown): string {
  return `received ${describeValue(input)}`;
}

function boundOf(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, small: boolean) {
  const bound = small ? issue.minimum : issue.maximum;
  const sign = small ? (issue.inclusive === false ? '>' : '≥') : issue.inclusive === false ? '<' : '≤';
  return { bound: bound as number | bigint, sign };
}

function formatOf(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>): string {
  switch (issue.format) {
    case 'regex':
      return `a string matching ${issue.pattern ?? 'the pattern'}`;
    case 'starts_with':
      return `a string starting with ${quote(String((issue as { prefix?: unknown }).prefix))}`;
    case 'ends_with':
      return `a string ending with ${quote(String((issue as { suffix?: unknown }).suffix))}`;
    case 'includes':
      return `a string containing ${quote(String((issue as { includes?: unknown }).includes))}`;
    case 'lowercase':
    case 'uppercase':
      return `a ${issue.format} string`;
    default:
      return `a valid ${issue.format}`;
  }
}

/** The default message of every issue a schema does not word itself. */
export function optionMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      const what = expectedOf(issue)!;
      if (issue.input === undefined) return `required: expected ${what}`;
      const meant =
        issue.expected === 'boolean' && typeof issue.input === 'string'
          ? WORDY_BOOLEANS[issue.input.toLowerCase()]
          : undefined;
      const hint = meant === undefined ? '' : ` — did you mean ${meant} (without quotes)?`;
      return `expected ${what}, ${received(issue.input)}${hint}`;
    }
    case 'invalid_value': {
      const strings = issue.values.filter((v): v is string => typeof v === 'string');
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, strings) : '';
      return `expected ${valuesOf(issue.values)}, ${received(issue.input)}${hint}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const { bound, sign } = boundOf(issue, small);
      if (issue.origin === 'array' || issue.origin === 'set') {
        if (small && Number(bound) === 1) return 'must not be empty';
        return `must have ${small ? 'at least' : 'at most'} ${bound} item${Number(bound) === 1 ? '' : 's'}`;
      }
      if (issue.origin === 'string') {
        if (small && Number(bound) === 1) return 'must not be empty';
        return `must be ${small ? 'at least' : 'at most'} ${bound} character${Number(bound) === 1 ? '' : 's'} long`;
      }
      return `expected a number ${sign} ${bound}, ${received(issue.input)}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, ${received(issue.input)}`;
    case 'invalid_format':
      return `expected ${formatOf(issue)}, ${received(issue.input)}`;
    case 'invalid_union': {
      const what = expectedOf(issue);
      const hint =
        typeof issue.input === 'string'
          ? didYouMean(issue.input, unionStrings(issue.inst as z.core.$ZodType | undefined))
          : '';
      return what === undefined
        ? `not a valid value, ${received(issue.input)}${hint}`
        : `expected ${what}, ${received(issue.input)}${hint}`;
    }
    case 'custom': {
      const what = expectedOf(issue);
      return what === undefined ? undefined : `expected ${what}, ${received(issue.input)}`;
    }
    default:
      return undefined;
  }
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
