// Validation of a configuration value: every problem at once, each with its path and, where
// possible, a suggestion; the resolved result deeply frozen.

import * as v from 'valibot';
import { ConfigInvalid, GatehouseError } from '../errors.js';
import {
  defaultMessage,
  describeSchema,
  isObjectSchema,
  type OptionSchema,
  objectKeys,
  partsOf,
  type Segment,
  schemaAt,
  unwrap,
} from './introspect.js';
import {
  configSchema,
  defaultGenerateRequestId,
  describeValue,
  FORBIDDEN_NAMES,
  quote,
  type ResolvedConfig,
  routePathProblem,
} from './schema.js';
import { didYouMean, suggest } from './suggest.js';

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** Where, as `routes[2].to`, `services.orders.url` or `services["my.svc"]`; '' for the whole file. */
  path: string;
  /** What is wrong, and a suggestion when there is one. */
  message: string;
  /** Where in the file, when the configuration came from one. Line and column start at 1. */
  source?: { file: string; line: number; column: number };
}

/** The configuration is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends GatehouseError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    const frozen = Object.freeze(
      problems.map((p) =>
        Object.freeze(p.source === undefined ? { ...p } : { ...p, source: Object.freeze({ ...p.source }) }),
      ),
    );
    super(ConfigInvalid.spec, formatProblems(frozen), options);
    this.name = 'ConfigError';
    this.problems = frozen;
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return `Invalid Gatehouse configuration (${count}):${problems.map((p) => `\n  - ${formatProblem(p)}`).join('')}`;
}

/** `gatehouse.yaml:12:9 routes[2].to: unknown service 'ordrs' — did you mean 'orders'?` */
export function formatProblem(problem: ConfigProblem): string {
  const { source, path, message } = problem;
  const where = source === undefined ? '' : `${source.file}:${source.line}:${source.column} `;
  return `${where}${path === '' ? '' : `${path}: `}${message}`;
}

export type { Segment };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['routes', 2, 'to']` → `routes[2].to`; keys that are not identifiers as `["my.svc"]`. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A problem before it is placed: `at: 'key'` points at the key in a file rather than its value. */
export interface Finding {
  path: readonly Segment[];
  message: string;
  at?: 'key' | 'value';
  /** A position known directly (syntax errors), instead of one looked up by path. */
  position?: { line: number; column: number };
}

/** Maps a path in the configuration to a line and column of the file it came from. */
export type Locate = (
  path: readonly Segment[],
  at: 'key' | 'value',
) => { line: number; column: number } | undefined;

export interface ValidateOptions {
  /** From a file: functions cannot appear, and positions are looked up with `locate`. */
  file?: string;
  locate?: Locate;
  /** Problems already found (duplicate keys, warnings), reported together with the rest. */
  findings?: readonly Finding[];
}

const resolvedConfigs = new WeakSet<object>();

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(FORBIDDEN_NAMES);

/**
 * Validates `input` and returns it resolved (defaults filled in, frozen), or throws a
 * {@link ConfigError} listing every problem.
 */
export function validateConfig(input: unknown, options: ValidateOptions = {}): ResolvedConfig {
  if (typeof input === 'object' && input !== null && resolvedConfigs.has(input))
    return input as ResolvedConfig;
  const fromFile = options.file !== undefined;
  const findings: Finding[] = [...(options.findings ?? [])];

  const root = guard(input, [], { findings, ancestors: new Set(), budget: 100_000 });
  if (
    fromFile &&
    isPlainObject(root) &&
    isPlainObject(root['requestId']) &&
    'generate' in root['requestId']
  ) {
    findings.push({
      path: ['requestId', 'generate'],
      at: 'key',
      message: 'functions can only be set in code (the object API), not in a configuration file',
    });
    delete root['requestId']['generate'];
  }

  const result = v.safeParse(configSchema, root, PARSE_CONFIG);
  if (!result.success) {
    for (const issue of result.issues) translate(issue, [], configSchema, { root, findings });
  }
  withLaxValues(findings, laxValues(configSchema, root));
  crossCheck(root, findings);
  limitsCheck(root, findings);
  if (!result.success && findings.length === 0)
    findings.push({ path: [], message: firstMessage(result.issues) });

  if (findings.length > 0 || !result.success) {
    throw new ConfigError(placeFindings(findings, input, options));
  }
  const { $schema: _ignored, ...data } = result.output;
  const resolved: ResolvedConfig = {
    ...data,
    requestId: { ...data.requestId, generate: data.requestId.generate ?? defaultGenerateRequestId },
  };
  deepFreeze(resolved);
  resolvedConfigs.add(resolved);
  return resolved;
}

/** How {@link validateAgainst} reports: under which name, with which extra checks. */
export interface ValidateAgainstOptions {
  /** The path every problem is placed under: `'auth'` gives `auth.rules[0].path`. */
  name: string;
  /**
   * Problems found outside the schema, on the input as given (checks across options, which valibot
   * skips once any value below has the wrong type), reported with the rest; duplicates are dropped.
   */
  more?: (input: unknown) => readonly Finding[];
  /**
   * The file the input was read from: problems get its line and column (through `locate`), unknown
   * keys are worded for files (`unknown key — did you mean …`), and `findings` found while reading it
   * (duplicate keys) are reported with the rest.
   */
  source?: ConfigSourceInfo;
}

/** Where a value checked by {@link validateAgainst} was read from. */
export interface ConfigSourceInfo {
  /** Names the file in problems (`gatehouse.yaml`). */
  file: string;
  /** Maps a path in the value to its line and column in the file. */
  locate?: Locate;
  /** Problems already found while reading the file. */
  findings?: readonly Finding[];
}

function firstMessage(issues: readonly v.BaseIssue<unknown>[]): string {
  const message = issues[0]?.message;
  return message === undefined || message === NO_MESSAGE ? 'not a valid value' : message;
}

/**
 * Validates `input` against any valibot schema exactly as {@link validateConfig} validates the
 * configuration (the prototype-pollution guard, every unknown key with a suggestion, unions restated
 * per branch, every problem at once, in the input's order, Gatehouse's wording where the schema words
 * nothing itself) and returns the schema's output, or throws one {@link ConfigError}. The engine
 * behind `parseOptions`.
 */
export function validateAgainst<S extends OptionSchema>(
  schema: S,
  input: unknown,
  options: ValidateAgainstOptions,
): v.InferOutput<S> {
  const findings: Finding[] = [...(options.source?.findings ?? [])];
  const noun = options.source === undefined ? 'option' : 'key';
  // Options hold objects built in code (stores, providers) that must reach the factory as they are:
  // the guarded copy is parsed only when the guard found a forbidden key, to report it with the rest.
  const copy = guard(input, [], { findings, ancestors: new Set(), budget: 100_000 });
  const root = findings.length === 0 ? input : copy;
  const result = v.safeParse(schema, root, PARSE_CONFIG);
  if (!result.success) {
    for (const issue of result.issues) translate(issue, [], schema, { root, findings, noun });
    if (findings.length === 0) findings.push({ path: [], message: firstMessage(result.issues) });
  }
  withLaxValues(findings, laxValues(schema, root));
  if (options.more !== undefined) findings.push(...options.more(root));
  if (findings.length > 0) {
    const place =
      options.source === undefined ? {} : { file: options.source.file, locate: options.source.locate };
    const problems = placeFindings(findings, input, place).map((problem) => ({
      ...problem,
      path: problem.path === '' ? options.name : joinPath(options.name, problem.path),
    }));
    throw new ConfigError(problems);
  }
  return result.output as v.InferOutput<S>;
}

/** `auth` + `rules[0].path` → `auth.rules[0].path`; `auth` + `[0]` → `auth[0]`. */
function joinPath(prefix: string, path: string): string {
  if (prefix === '') return path;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

// ---------------------------------------------------------------------------------------------
// Prototype-pollution guard: a copy of the input without '__proto__', 'constructor', 'prototype'
// ---------------------------------------------------------------------------------------------

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

interface GuardState {
  findings: Finding[];
  ancestors: Set<object>;
  /** Objects left to copy: shared references could otherwise make the copy exponential. */
  budget: number;
}

function guard(value: unknown, path: readonly Segment[], state: GuardState): unknown {
  // The schema is a few levels deep; deeper input is never copied into the result.
  if (path.length > 32 || typeof value !== 'object' || value === null || state.ancestors.has(value))
    return value;
  if (--state.budget < 0) {
    if (state.budget === -1)
      state.findings.push({ path, message: 'too many objects to check (over 100000)' });
    return undefined;
  }
  if (Array.isArray(value)) {
    state.ancestors.add(value);
    const copy = Array.from(value, (item: unknown, i) => guard(item, [...path, i], state));
    state.ancestors.delete(value);
    return copy;
  }
  if (!isPlainObject(value)) return value;
  state.ancestors.add(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      state.findings.push({
        path: [...path, key],
        at: 'key',
        message: `'${key}' is not allowed as a key (it could alter object prototypes)`,
      });
      continue;
    }
    copy[key] = guard(value[key], [...path, key], state);
  }
  state.ancestors.delete(value);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// valibot issues → findings
// ---------------------------------------------------------------------------------------------

/**
 * Stands for "no message of its own": valibot gives it to every issue whose schema or action words
 * none, so Gatehouse's default (introspect.ts) is used instead. The language is one no one registers
 * messages for, so an application's own valibot settings (`setGlobalMessage`) never reach these.
 */
const NO_MESSAGE = '\u0000gatehouse:default';
export const PARSE_CONFIG = { lang: 'x-gatehouse', message: NO_MESSAGE, abortEarly: false } as const;

/** A message the schema worded (a message function may answer undefined: "use the default"). */
function hasOwnMessage(issue: Issue): boolean {
  return typeof issue.message === 'string' && issue.message !== NO_MESSAGE;
}

type Issue = v.BaseIssue<unknown>;

interface TranslateContext {
  root: unknown;
  findings: Finding[];
  /** Key candidates for unknown keys inside a union branch: every branch's keys. */
  candidates?: readonly string[];
  /** What an unknown key is called: 'key' in configuration files, 'option' in factory options. */
  noun?: 'key' | 'option';
}

const OBJECT_TYPES: ReadonlySet<string> = new Set(['strict_object', 'loose_object', 'object']);

function relativePath(issue: Issue): Segment[] {
  return (issue.path ?? []).map((item) => (typeof item.key === 'number' ? item.key : String(item.key)));
}

/** An object's key that its schema does not have (valibot reports the first one only). */
function isUnknownKeyIssue(issue: Issue): boolean {
  const last = issue.path?.at(-1);
  return OBJECT_TYPES.has(issue.type) && last?.origin === 'key' && issue.expected === 'never';
}

/** The issue's own message, or Gatehouse's default for it (`schema`: the one at the issue's path). */
function messageOf(issue: Issue, schema: OptionSchema | undefined): string {
  if (hasOwnMessage(issue)) return issue.message;
  return defaultMessage(issue, schema) ?? `not a valid value, received ${describeValue(issue.input)}`;
}

/** What a field's own schema says about nothing given: `required: expected a service name`. */
function missingMessage(field: OptionSchema | undefined): string {
  if (field !== undefined) {
    const result = v.safeParse(field, undefined, PARSE_CONFIG);
    const issue = result.issues?.[0];
    if (issue !== undefined && (issue.path ?? []).length === 0) {
      if (hasOwnMessage(issue)) return issue.message;
      const what = describeSchema(field);
      if (what !== undefined) return `required: expected ${what}`;
    }
  }
  return 'required';
}

/** A number schema, or a union with one, which a non-finite number reaches. */
function takesNumber(schema: OptionSchema): boolean {
  const inner = unwrap(schema) as unknown as { type: string; options?: readonly OptionSchema[] };
  if (inner.type === 'number') return true;
  if (inner.type !== 'union') return false;
  const types = (inner.options ?? []).map((o) => (unwrap(o) as { type: string }).type);
  return types.includes('number') && !types.some((t) => ANY_TYPES.has(t));
}

/**
 * Adds `arrayed` to `findings`, dropping what valibot said at or below them (indices as keys); a
 * non-finite number only where nothing else was said of it (a range check may have worded it).
 */
function withLaxValues(findings: Finding[], gaps: readonly (Finding & { finite?: boolean })[]): void {
  const said = new Set(findings.map((f) => JSON.stringify(f.path)));
  const arrayed: Finding[] = [];
  for (const { finite, ...gap } of gaps) {
    if (finite !== true) arrayed.push(gap);
    else if (!said.has(JSON.stringify(gap.path))) findings.push(gap);
  }
  if (arrayed.length === 0) return;
  const below = (path: readonly Segment[], prefix: readonly Segment[]) =>
    path.length >= prefix.length && prefix.every((segment, i) => path[i] === segment);
  const kept = findings.filter((f) => !arrayed.some((a) => below(f.path, a.path)));
  findings.length = 0;
  findings.push(...kept, ...arrayed);
}

const ARRAY_TYPES: ReadonlySet<string> = new Set([
  'array',
  'tuple',
  'strict_tuple',
  'loose_tuple',
  'tuple_with_rest',
]);
const ANY_TYPES: ReadonlySet<string> = new Set(['unknown', 'any', 'custom']);

/**
 * valibot's object and record schemas take an array for an object (an array is an object to
 * `typeof`); a configuration or an options object never means one. Every place where an array
 * stands for an object is a problem, worded as the schema words a wrong type.
 */
function laxValues(schema: OptionSchema, input: unknown): (Finding & { finite?: boolean })[] {
  const found: (Finding & { finite?: boolean })[] = [];
  const visit = (node: OptionSchema, value: unknown, path: Segment[], depth: number) => {
    if (typeof value === 'number' && !Number.isFinite(value) && takesNumber(node)) {
      // valibot's numbers take Infinity (not NaN); no option means it.
      found.push({
        path,
        message: `expected a finite number, received ${describeValue(value)}`,
        finite: true,
      });
      return;
    }
    if (depth > 32 || typeof value !== 'object' || value === null) return;
    const inner = partsOf(node);
    const objectLike = isObjectSchema(inner as unknown as OptionSchema) || inner.type === 'record';
    if (Array.isArray(value)) {
      const refused =
        objectLike ||
        (inner.type === 'union' &&
          (inner.options ?? []).some((o) => {
            const t = (unwrap(o) as { type: string }).type;
            return isObjectSchema(unwrap(o)) || t === 'record';
          }) &&
          !(inner.options ?? []).some((o) => {
            const t = (unwrap(o) as { type: string }).type;
            return ARRAY_TYPES.has(t) || ANY_TYPES.has(t);
          }));
      if (refused) {
        const own = inner.message;
        const issue = {
          kind: 'schema',
          type: inner.type,
          input: value,
          expected: 'Object',
          received: 'Array',
          message: '',
        };
        const worded: unknown = typeof own === 'function' ? own(issue) : own;
        const message =
          typeof worded === 'string'
            ? worded
            : (defaultMessage(issue, inner as unknown as OptionSchema) ??
              `expected an object, received ${describeValue(value)}`);
        found.push({ path, message });
        return;
      }
      if (inner.type === 'array' && inner.item !== undefined) {
        for (const [i, item] of value.entries()) visit(inner.item, item, [...path, i], depth + 1);
      }
      return;
    }
    if (inner.type === 'union') {
      // The object branch that takes the value, if one does.
      const taken = (inner.options ?? []).find(
        (o) => isObjectSchema(unwrap(o)) && v.safeParse(o, value, PARSE_CONFIG).success,
      );
      if (taken !== undefined) visit(taken, value, path, depth + 1);
      return;
    }
    if (isObjectSchema(inner as unknown as OptionSchema)) {
      for (const [key, child] of Object.entries(inner.entries ?? {})) {
        if (Object.hasOwn(value, key))
          visit(child, (value as Record<string, unknown>)[key], [...path, key], depth + 1);
      }
    } else if (inner.type === 'record' && inner.value !== undefined) {
      for (const [key, item] of Object.entries(value)) visit(inner.value, item, [...path, key], depth + 1);
    }
  };
  visit(schema, input, [], 0);
  return found;
}

/** How deep along `path` below `schema` the first union sits, or undefined when none does. */
function unionDepth(schema: OptionSchema, path: readonly Segment[]): number | undefined {
  for (let depth = 0; depth <= path.length; depth++) {
    const at = schemaAt(schema, path.slice(0, depth));
    if (at === undefined) return undefined;
    if ((at as { type: string }).type === 'union') return depth;
  }
  return undefined;
}

/** A union's own message for `input` (a string, or a function of the issue), or NO_MESSAGE. */
function unionMessage(union: OptionSchema, input: unknown): string {
  const own = (union as { message?: unknown }).message;
  if (typeof own === 'string') return own;
  if (typeof own === 'function') {
    const worded: unknown = own({
      kind: 'schema',
      type: 'union',
      input,
      expected: union.expects,
      received: typeof input,
      message: '',
    });
    if (typeof worded === 'string') return worded;
  }
  return NO_MESSAGE;
}

function translate(issue: Issue, prefix: readonly Segment[], base: OptionSchema, ctx: TranslateContext) {
  const relative = relativePath(issue);
  const path = [...prefix, ...relative];
  const last = issue.path?.at(-1);
  // valibot answers a union with the issues of its one branch of the right type, without a word of
  // the union: the union is judged here as a whole, as for any failed union.
  // A check's own words (a check across options reporting here) stand as they are.
  const worded = (issue.type === 'check' || issue.type === 'raw_check') && hasOwnMessage(issue);
  const depth = last?.origin === 'key' || worded ? undefined : unionDepth(base, relative);
  const unionPath = depth === undefined ? [] : relative.slice(0, depth);
  const union = depth === undefined ? undefined : schemaAt(base, unionPath);
  const input = union === undefined ? undefined : valueAt(ctx.root, [...prefix, ...unionPath]);
  if (
    union !== undefined &&
    !(issue.type === 'union' && depth === relative.length) &&
    // A check of a parent reporting here, or one piped on the union: a branch takes the value.
    !(union as unknown as { options: readonly OptionSchema[] }).options.some(
      (option) => v.safeParse(option, input, PARSE_CONFIG).success && !isArrayForObject(option, input),
    )
  ) {
    const whole = { kind: 'schema', type: 'union', input, message: unionMessage(union, input) } as Issue;
    translateUnion(whole, [...prefix, ...unionPath], union, ctx);
    return;
  }
  if (issue.kind === 'schema' && OBJECT_TYPES.has(issue.type) && last?.origin === 'key') {
    const objectPath = relative.slice(0, -1);
    const objectSchema = schemaAt(base, objectPath);
    const entries = (objectSchema as { entries?: Record<string, OptionSchema> } | undefined)?.entries ?? {};
    if (isUnknownKeyIssue(issue)) {
      // Every unknown key of that object, not only the first.
      const candidates = ctx.candidates ?? objectKeys(objectSchema);
      const value = valueAt(ctx.root, [...prefix, ...objectPath]);
      const keys = isPlainObject(value)
        ? Object.keys(value).filter((key) => !Object.hasOwn(entries, key))
        : [String(last.key)];
      for (const key of keys) {
        ctx.findings.push({
          path: [...prefix, ...objectPath, key],
          at: 'key',
          message: unknownKeyMessage(key, candidates, ctx.noun ?? 'key'),
        });
      }
      return;
    }
    ctx.findings.push({ path, message: missingMessage(entries[String(last.key)]) });
    return;
  }
  if (issue.kind === 'schema' && issue.type === 'union') {
    const union = schemaAt(base, relative);
    if (union !== undefined && (union as { type: string }).type === 'union')
      translateUnion(issue, path, union, ctx);
    else ctx.findings.push({ path, message: messageOf(issue, union) });
    return;
  }
  if (last?.origin === 'key') {
    // A record's key that its key schema refuses.
    const record = schemaAt(base, relative.slice(0, -1)) as { type: string; key?: OptionSchema } | undefined;
    ctx.findings.push({
      path,
      at: 'key',
      message: messageOf(issue, record?.type === 'record' ? record.key : undefined),
    });
    return;
  }
  ctx.findings.push({ path, message: messageOf(issue, schemaAt(base, relative)) });
}

function translateUnion(issue: Issue, path: readonly Segment[], union: OptionSchema, ctx: TranslateContext) {
  const options = (union as unknown as { options: readonly OptionSchema[] }).options;
  const input = valueAt(ctx.root, path);
  // valibot lists the branches' issues in one array; each branch is checked again for its own.
  const branches = options.map((option) => v.safeParse(option, input, PARSE_CONFIG).issues ?? []);
  const recurse = (index: number, keep: (sub: Issue) => boolean = () => true) => {
    const option = options[index];
    if (option === undefined) return;
    const candidates = options.flatMap((o) => objectKeys(o));
    for (const sub of branches[index] ?? []) {
      if (keep(sub)) translate(sub, path, option, { ...ctx, candidates });
    }
  };

  // A union of objects (a service: 'url' or 'endpoints'): the keys present choose the branch.
  if (isPlainObject(input) && options.every((o) => isObjectSchema(unwrap(o)))) {
    const shapes = options.map((o) => objectKeys(o));
    const present = Object.keys(input);
    const chosen = shapes.flatMap((keys, i) => (keys.some((k) => present.includes(k)) ? [i] : []));
    if (chosen.length === 1) return recurse(chosen[0]!);
    const all = shapes.flat();
    for (const key of present.filter((k) => !all.includes(k))) {
      ctx.findings.push({
        path: [...path, key],
        at: 'key',
        message: unknownKeyMessage(key, all, ctx.noun ?? 'key'),
      });
    }
    const names = shapes.map((keys) => keys.map((k) => `'${k}'`).join(' + ')).join(' or ');
    if (chosen.length === 0) {
      ctx.findings.push({ path, message: `required: expected ${names}` });
      return;
    }
    ctx.findings.push({ path, message: `set only one of ${names}, not both` });
    for (const index of chosen)
      recurse(index, (sub) => !isUnknownKeyIssue(sub) || (sub.path?.length ?? 0) > 1);
    return;
  }

  // Otherwise the branch whose type the input has; if none (or several), the union's own message.
  const matching = branches.flatMap((branch, i) =>
    branch.some((sub) => isTypeMismatch(sub)) || isArrayForObject(options[i]!, input) ? [] : [i],
  );
  if (matching.length === 1) recurse(matching[0]!);
  else ctx.findings.push({ path, message: messageOf(issue, union) });
}

/** An array given where `schema` wants an object (valibot's objects and records take arrays). */
function isArrayForObject(schema: OptionSchema, input: unknown): boolean {
  if (!Array.isArray(input)) return false;
  const inner = unwrap(schema);
  return isObjectSchema(inner) || (inner as { type: string }).type === 'record';
}

/**
 * The input is not of the branch's type at all: a wrong type, a wrong literal, or a custom check that
 * says what it expected (the option schemas' function and object checks), at the branch's own level.
 */
function isTypeMismatch(issue: Issue): boolean {
  if ((issue.path?.length ?? 0) > 0) return false;
  // A fraction where an integer belongs is a wrong type, as JSON Schema's `integer` has it.
  return issue.kind === 'schema' || issue.type === 'integer' || issue.type === 'safe_integer';
}

/**
 * `unknown key — did you mean 'x'?` in files; for factory options the wording `Problems` has always
 * used, `unknown option; did you mean 'x'?`, with the allowed names when nothing is close.
 */
function unknownKeyMessage(key: string, candidates: readonly string[], noun: 'key' | 'option'): string {
  if (noun === 'key') return `unknown key${didYouMean(key, candidates)}`;
  const [near] = suggest(key, candidates);
  if (near !== undefined) return `unknown option; did you mean '${near}'?`;
  return candidates.length === 0
    ? 'unknown option'
    : `unknown option; expected one of ${candidates.join(', ')}`;
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isPlainObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// Checks across fields: route targets and duplicate routes
// ---------------------------------------------------------------------------------------------

function crossCheck(root: unknown, findings: Finding[]) {
  if (!isPlainObject(root) || !Array.isArray(root['routes'])) return;
  const services = isPlainObject(root['services']) ? Object.keys(root['services']) : [];
  // Only valid names are offered as suggestions; an invalid one has its own problem already.
  const suggestible = services.filter((name) => /^[a-z][a-z0-9-]*$/.test(name) && name !== 'local');
  const paths = root['paths'];
  const caseSensitive = isPlainObject(paths) && paths['caseSensitive'] === true;
  const seen: { key: string; methods: ReadonlySet<string> | undefined; index: number }[] = [];

  root['routes'].forEach((route: unknown, index) => {
    if (!isPlainObject(route)) return;
    const { to, path, methods } = route;
    if (typeof to === 'string' && to !== '' && to !== 'local' && !services.includes(to)) {
      const none =
        services.length === 0 ? " (no services are defined; use 'local' for the application itself)" : '';
      findings.push({
        path: ['routes', index, 'to'],
        message: `unknown service ${quote(to)}${didYouMean(to, [...suggestible, 'local'])}${none}`,
      });
    }
    if (typeof path !== 'string' || routePathProblem(path) !== undefined) return;
    let methodSet: ReadonlySet<string> | undefined;
    if (methods !== undefined) {
      if (!Array.isArray(methods) || !methods.every((m) => typeof m === 'string')) return;
      methodSet = new Set(methods);
    }
    const key = routeKey(path, caseSensitive);
    for (const earlier of seen) {
      if (earlier.key !== key) continue;
      const shared = overlap(earlier.methods, methodSet);
      if (shared === undefined) continue;
      findings.push({
        path: ['routes', index, 'path'],
        message: `duplicate route: routes[${earlier.index}] already matches ${quote(path)} for ${shared}`,
      });
      break;
    }
    seen.push({ key, methods: methodSet, index });
  });
}

// Node measures the request timeout from the same start as the headers timeout, so a longer headers
// timeout could never fire (Node's own createServer() refuses it too).
function limitsCheck(root: unknown, findings: Finding[]) {
  if (!isPlainObject(root) || !isPlainObject(root['limits'])) return;
  const { headersTimeoutMs, requestTimeoutMs = 60_000 } = root['limits'];
  if (typeof headersTimeoutMs !== 'number' || typeof requestTimeoutMs !== 'number') return;
  if (headersTimeoutMs > requestTimeoutMs) {
    findings.push({
      path: ['limits', 'headersTimeoutMs'],
      message: `must not exceed limits.requestTimeoutMs (${requestTimeoutMs})`,
    });
  }
}

/** Patterns that match the same requests get the same key: parameter names do not matter. */
function routeKey(path: string, caseSensitive: boolean): string {
  const key = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? ':' : segment))
    .join('/');
  return caseSensitive ? key : key.toLowerCase();
}

/** The methods two routes share, in words, or undefined when they share none. */
function overlap(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): string | undefined {
  if (a === undefined && b === undefined) return 'every method';
  const shared = a === undefined ? [...b!] : b === undefined ? [...a] : [...a].filter((m) => b.has(m));
  return shared.length === 0 ? undefined : shared.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Findings → problems, in the order of the input (the file's order for files)
// ---------------------------------------------------------------------------------------------

function placeFindings(
  findings: readonly Finding[],
  input: unknown,
  options: ValidateOptions,
): ConfigProblem[] {
  const order = documentOrder(input);
  const rank = (finding: Finding): number => {
    for (let n = finding.path.length; n >= 0; n--) {
      const found = order.get(JSON.stringify(finding.path.slice(0, n)));
      if (found !== undefined) return found;
    }
    return Number.MAX_SAFE_INTEGER;
  };
  const unique = new Map<string, Finding>();
  for (const finding of findings) {
    const id = JSON.stringify([finding.path, finding.message]);
    if (!unique.has(id)) unique.set(id, finding);
  }
  const placed = [...unique.values()].map((finding, i) => {
    const problem: ConfigProblem = { path: formatPath(finding.path), message: finding.message };
    if (options.file !== undefined) {
      const position = finding.position ?? options.locate?.(finding.path, finding.at ?? 'value');
      if (position !== undefined) problem.source = { file: options.file, ...position };
    }
    return { problem, rank: rank(finding), i };
  });
  // The file's order when every problem has a position, otherwise the input's order.
  if (placed.every(({ problem }) => problem.source !== undefined)) {
    placed.sort(
      (x, y) =>
        x.problem.source!.line - y.problem.source!.line ||
        x.problem.source!.column - y.problem.source!.column ||
        x.i - y.i,
    );
  } else {
    placed.sort((x, y) => x.rank - y.rank || x.i - y.i);
  }
  return placed.map(({ problem }) => problem);
}

/** Every path in `input`, numbered in depth-first (document) order. */
function documentOrder(input: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const visited = new Set<object>();
  const visit = (value: unknown, path: Segment[], depth: number) => {
    order.set(JSON.stringify(path), order.size);
    if (depth > 32 || typeof value !== 'object' || value === null || visited.has(value)) return;
    visited.add(value);
    if (Array.isArray(value)) {
      for (const [i, item] of (value as unknown[]).entries()) visit(item, [...path, i], depth + 1);
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) {
        visit(FORBIDDEN_KEYS.has(key) ? undefined : value[key], [...path, key], depth + 1);
      }
    }
  };
  visit(input, [], 0);
  return order;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
