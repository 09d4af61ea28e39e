// Validation of a configuration value: every problem at once, each with its path and, where
// possible, a suggestion; the resolved result deeply frozen.

import { z } from 'zod';
import { ConfigInvalid, GatehouseError } from '../errors.js';
import {
  configSchema,
  defaultGenerateRequestId,
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

export type Segment = string | number;

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

  const result = configSchema.safeParse(root);
  if (!result.success) {
    for (const issue of result.error.issues) translate(issue, [], configSchema, { root, findings });
  }
  crossCheck(root, findings);
  limitsCheck(root, findings);
  if (!result.success && findings.length === 0) findings.push({ path: [], message: result.error.message });

  if (findings.length > 0) {
    throw new ConfigError(placeFindings(findings, input, options));
  }
  const { $schema: _ignored, ...data } = result.data!;
  const resolved: ResolvedConfig = {
    ...data,
    requestId: { ...data.requestId, generate: data.requestId.generate ?? defaultGenerateRequestId },
  };
  deepFreeze(resolved);
  resolvedConfigs.add(resolved);
  return resolved;
}

/** How {@link validateAgainst} reports: under which name, with which default messages. */
export interface ValidateAgainstOptions {
  /** The path every problem is placed under: `'auth'` gives `auth.rules[0].path`. */
  name: string;
  /** Messages for issues whose schema sets none (see `parseOptions` in options.ts). */
  error?: z.core.$ZodErrorMap;
  /**
   * Problems found outside zod, on the input as given (checks across options, which zod skips once
   * any value below has the wrong type), reported with the rest; duplicates of zod's are dropped.
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

/**
 * Validates `input` against any zod schema exactly as {@link validateConfig} validates the
 * configuration (the prototype-pollution guard, unknown keys with a suggestion, unions restated per
 * branch, every problem at once, in the input's order) and returns zod's output, or throws one
 * {@link ConfigError}. The engine behind `parseOptions`.
 */
export function validateAgainst<S extends z.ZodType>(
  schema: S,
  input: unknown,
  options: ValidateAgainstOptions,
): z.output<S> {
  const findings: Finding[] = [...(options.source?.findings ?? [])];
  const noun = options.source === undefined ? 'option' : 'key';
  // Options hold objects built in code (stores, providers) that must reach the factory as they are:
  // the guarded copy is parsed only when the guard found a forbidden key, to report it with the rest.
  const copy = guard(input, [], { findings, ancestors: new Set(), budget: 100_000 });
  const root = findings.length === 0 ? input : copy;
  const result = schema.safeParse(root, options.error === undefined ? undefined : { error: options.error });
  if (!result.success) {
    for (const issue of result.error.issues) translate(issue, [], schema, { root, findings, noun });
    if (findings.length === 0) findings.push({ path: [], message: result.error.message });
  }
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
  return result.data as z.output<S>;
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
// zod issues → findings
// ---------------------------------------------------------------------------------------------

interface TranslateContext {
  root: unknown;
  findings: Finding[];
  /** Key candidates for unknown keys inside a union branch: every branch's keys. */
  candidates?: readonly string[];
  /** What an unknown key is called: 'key' in configuration files, 'option' in factory options. */
  noun?: 'key' | 'option';
}

function translate(
  issue: z.core.$ZodIssue,
  prefix: readonly Segment[],
  base: z.core.$ZodType,
  ctx: TranslateContext,
) {
  const relative = issue.path.map(toSegment);
  const path = [...prefix, ...relative];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const candidates = ctx.candidates ?? objectKeys(schemaAt(base, relative));
      for (const key of issue.keys) {
        ctx.findings.push({
          path: [...path, key],
          at: 'key',
          message: unknownKeyMessage(key, candidates, ctx.noun ?? 'key'),
        });
      }
      return;
    }
    case 'invalid_union': {
      const union = schemaAt(base, relative);
      if (union instanceof z.ZodUnion) translateUnion(issue, path, union, ctx);
      else ctx.findings.push({ path, message: issue.message });
      return;
    }
    case 'invalid_key': {
      for (const keyIssue of issue.issues) ctx.findings.push({ path, at: 'key', message: keyIssue.message });
      // zod skips the value of a bad key; check it anyway so nothing is left for a second round.
      const record = schemaAt(base, relative.slice(0, -1));
      if (record instanceof z.ZodRecord) {
        const valueSchema = record.valueType as z.ZodType;
        const checked = valueSchema.safeParse(valueAt(ctx.root, path));
        if (!checked.success) {
          for (const sub of checked.error.issues)
            translate(sub, path, valueSchema, { ...ctx, candidates: undefined });
        }
      }
      return;
    }
    default:
      ctx.findings.push({ path, message: issue.message });
  }
}

function translateUnion(
  issue: z.core.$ZodIssueInvalidUnion,
  path: readonly Segment[],
  union: z.ZodUnion,
  ctx: TranslateContext,
) {
  const options = union.options as readonly z.core.$ZodType[];
  const branches = issue.errors;
  const input = valueAt(ctx.root, path);
  const recurse = (index: number, keep: (sub: z.core.$ZodIssue) => boolean = () => true) => {
    const option = options[index];
    if (option === undefined) return;
    const candidates = options.flatMap((o) => objectKeys(o));
    for (const sub of branches[index] ?? []) {
      if (keep(sub)) translate(sub, path, option, { ...ctx, candidates });
    }
  };

  // A union of objects (a service: 'url' or 'endpoints'): the keys present choose the branch.
  if (isPlainObject(input) && options.every((o) => o instanceof z.ZodObject)) {
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
      recurse(index, (sub) => sub.code !== 'unrecognized_keys' || sub.path.length > 0);
    return;
  }

  // Otherwise the branch whose type the input has; if none (or several), the union's own message.
  const matching = branches.flatMap((branch, i) =>
    branch.some((sub) => sub.path.length === 0 && isTypeMismatch(sub)) ? [] : [i],
  );
  if (matching.length === 1) recurse(matching[0]!);
  else ctx.findings.push({ path, message: issue.message });
}

/**
 * The input is not of the branch's type at all: a wrong type, a wrong literal, or a custom check that
 * says what it expected (`params.expected`, as the option schemas' function and object checks do).
 */
function isTypeMismatch(issue: z.core.$ZodIssue): boolean {
  if (issue.code === 'invalid_type' || issue.code === 'invalid_value') return true;
  return issue.code === 'custom' && typeof issue.params?.['expected'] === 'string';
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

function toSegment(key: PropertyKey): Segment {
  return typeof key === 'number' ? key : String(key);
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodReadonly
    ) {
      current = current.unwrap() as z.core.$ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.core.$ZodType;
    } else {
      return current;
    }
  }
}

/** The schema at a path below `schema` (through objects, records and arrays). */
function schemaAt(schema: z.core.$ZodType, path: readonly Segment[]): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.core.$ZodType>)[segment];
    else if (current instanceof z.ZodRecord) current = current.valueType as z.core.$ZodType;
    else if (current instanceof z.ZodArray) current = current.element as z.core.$ZodType;
    else return undefined;
    if (current === undefined) return undefined;
    current = unwrap(current);
  }
  return current;
}

/** The keys an object schema (or a union of them) allows. */
function objectKeys(schema: z.core.$ZodType | undefined): string[] {
  const inner = schema === undefined ? undefined : unwrap(schema);
  if (inner instanceof z.ZodObject) return Object.keys(inner.shape);
  if (inner instanceof z.ZodUnion) return (inner.options as readonly z.core.$ZodType[]).flatMap(objectKeys);
  return [];
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
