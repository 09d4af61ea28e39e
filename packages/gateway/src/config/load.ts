// Reading and checking the whole gateway's configuration: YAML or JSON text (a file, an etcd key) or
// an object, `${…}` references substituted, the composed schema, then the checks only the whole can
// make (services routes and compositions name, routes that can never match, cycles between calls,
// method names in auth rules). Every problem is reported at once, each with its path and, from a
// file, its line and column; values that came from references are never shown, only the reference.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { aggregateOptionsSchema, compileComposition } from '@gatehousejs/aggregate';
import {
  ConfigError,
  type ConfigFinding,
  type ConfigLocate,
  type ConfigPathSegment,
  type ConfigProblem,
  didYouMean,
  formatPath,
  parseOptions,
  type ResolvedConfig,
  readConfigText,
  resolveConfig,
} from '@gatehousejs/core';
import { defaultRouteName } from '@gatehousejs/routes';
import * as v from 'valibot';
import { configText, isPlainObject } from './code-values.js';
import { unreachableRoutes } from './reachable.js';
import { AUTH_METHODS, type GatehouseConfig, gatehouseConfigSchema, RESTART_ONLY } from './schema.js';
import { literalOf, type Substitution, substitute } from './substitute.js';

/** A checked configuration, ready to build a gateway from. */
export interface LoadedConfig {
  /** The configuration: references substituted, defaults of the package schemas filled in, `to` read. */
  readonly config: GatehouseConfig;
  /** Core's part of it, resolved (what `new Gateway()` is given). */
  readonly core: ResolvedConfig;
  /** Where it came from: the file as given, `etcd:<key>`, or `code`. */
  readonly origin: string;
  /** Relative paths in it (an OpenAPI document, a key file, `${file:…}`) are read from here. */
  readonly baseDir: string;
  /** What is allowed but should change (the old route format), with positions. */
  readonly warnings: readonly ConfigProblem[];
  /** The configuration as written, secrets redacted: what `/config` shows. */
  readonly shown: unknown;
  /**
   * A digest per top-level key of `config` (secrets included, so a rotated secret counts as a change;
   * with the content of the files a section names, so a changed OpenAPI document does too).
   */
  readonly digests: Readonly<Record<string, string>>;
  /**
   * The local files the configuration names and Gatehouse reads when it builds a generation, absolute:
   * the OpenAPI document, API-key files, `${file:…}` secrets. A file source follows them with the
   * configuration file itself. (TLS files are followed by the client that reads them.)
   */
  readonly files: readonly string[];
}

export type { LoadOptions } from './types.js';

import type { LoadOptions } from './types.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Reads and checks a configuration file (`.yaml`, `.yml` or `.json`).
 *
 * @throws ConfigError listing every problem with its file:line:col
 * @example const loaded = await loadGatehouseConfig('gatehouse.yaml');
 */
export async function loadGatehouseConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  if (!EXTENSIONS.includes(extname(file).toLowerCase())) {
    throw new ConfigError([
      { path: '', message: `cannot read '${file}': configuration files end in .yaml, .yml or .json` },
    ]);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([{ path: '', message: `cannot read '${file}': ${reason}` }], { cause: error });
  }
  return parseGatehouseConfig(text, file, { baseDir: dirname(resolve(file)), ...options });
}

/**
 * Checks configuration text: JSON when `file` ends in `.json` (or the text starts with `{`), YAML
 * otherwise. `file` names the text in problems (`etcd:/gatehouse/config` for a key).
 *
 * @throws ConfigError listing every problem with its file:line:col
 */
export function parseGatehouseConfig(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const json =
    extname(file).toLowerCase() === '.json' || (!EXTENSIONS.includes(extname(file)) && /^\s*\{/.test(text));
  // The name only chooses the reader; problems name `file`.
  const read = readConfigText(text, json ? 'config.json' : 'config.yaml');
  const place = (finding: ConfigFinding): ConfigProblem =>
    placed(finding, { file, ...(read.locate === undefined ? {} : { locate: read.locate }) });
  if (read.fatal) {
    // After the first syntax error a YAML parser mostly reports its own confusion: one line per token.
    const [first, ...rest] = read.findings;
    const more =
      rest.length === 0
        ? ''
        : ` (and ${rest.length} more syntax error${rest.length === 1 ? '' : 's'} after it)`;
    throw new ConfigError(
      first === undefined ? [] : [{ ...place(first), message: `${first.message}${more}` }],
    );
  }
  return check(read.value, {
    file,
    ...(read.locate === undefined ? {} : { locate: read.locate }),
    findings: read.findings,
    baseDir: options.baseDir ?? process.cwd(),
    env: options.env,
  });
}

/**
 * Checks a configuration given as an object (the same shape as a file). Problems have paths, no
 * positions.
 *
 * @throws ConfigError listing every problem
 */
export function checkGatehouseConfig(value: unknown, options: LoadOptions = {}): LoadedConfig {
  return check(value, { findings: [], baseDir: options.baseDir ?? process.cwd(), env: options.env });
}

// ---------------------------------------------------------------------------------------------

interface CheckContext {
  file?: string;
  locate?: ConfigLocate;
  findings: readonly ConfigFinding[];
  baseDir: string;
  env: LoadOptions['env'];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function check(written: unknown, ctx: CheckContext): LoadedConfig {
  const origin = ctx.file ?? 'code';
  const substituted = substitute(written ?? {}, { baseDir: ctx.baseDir, env: ctx.env });
  let value = substituted.value;
  const source =
    ctx.file === undefined
      ? undefined
      : {
          file: ctx.file,
          ...(ctx.locate === undefined ? {} : { locate: ctx.locate }),
          findings: ctx.findings,
        };

  // The schema; then once more with `${PORT}` read as the number it spells where a key takes no string.
  let schemaProblems = runSchema(value, source);
  const coerced = coerceLiterals(value, schemaProblems, substituted.substitutions);
  if (coerced !== undefined) {
    value = coerced;
    schemaProblems = runSchema(value, source);
  }
  // A reference that could not be read leaves an empty value behind: its own problem says why, and
  // what the schema says about the empty value would only be noise.
  const unread = new Set(substituted.findings.map((f) => formatPath(f.path)));
  schemaProblems = {
    ...schemaProblems,
    problems: schemaProblems.problems.filter((p) => !unread.has(p.path)),
  };
  const extra: ConfigFinding[] = [...substituted.findings];
  if (ctx.file === undefined) extra.push(...ctx.findings);
  const warnings: ConfigFinding[] = [];
  const coreResolved = wholeChecks(value, ctx, extra, warnings);
  const schemaPaths = new Set(schemaProblems.problems.map((p) => p.path));
  const whole = extra.filter((f) => !(coreFindings.has(f) && schemaPaths.has(formatPath(f.path))));

  const where = {
    ...(ctx.file === undefined ? {} : { file: ctx.file }),
    ...(ctx.locate ? { locate: ctx.locate } : {}),
  };
  const problems = dedupe([...schemaProblems.problems, ...whole.map((f) => placed(f, where))]);
  const hide = hider(substituted.substitutions, written);
  if (problems.length > 0 || coreResolved === undefined) {
    throw new ConfigError(sortProblems(problems.map((p) => ({ ...p, message: hide(p.message) }))));
  }
  const config = readLegacyRoutes(schemaProblems.output as GatehouseConfig);
  const named = namedFiles(config, ctx.baseDir);
  return {
    config,
    core: coreResolved,
    origin,
    baseDir: ctx.baseDir,
    warnings: sortProblems(warnings.map((w) => placed(w, where))),
    shown: redactForDisplay(written ?? {}),
    digests: configDigests(config, named),
    files: [...new Set([...substituted.files, ...Object.values(named).flat()])].sort(),
  };
}

/** The files each section names that its part reads when built (not `${file:…}`: those are values). */
function namedFiles(config: GatehouseConfig, baseDir: string): Record<string, string[]> {
  const local = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const named: Record<string, string[]> = {};
  const document = config.openapi?.document;
  if (typeof document === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(document))
    named.openapi = [local(document)];
  const keyFiles = (config.auth?.methods ?? []).flatMap((m) =>
    typeof m.apiKey?.file === 'string' ? [local(m.apiKey.file)] : [],
  );
  if (keyFiles.length > 0) named.auth = keyFiles;
  return named;
}

/** What a file holds now, as a digest ('missing' when it cannot be read). */
function contentDigest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('base64url');
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
}

/**
 * A digest per top-level key, and per dotted restart-only key (`admin.dashboard`), whose part is left
 * out of its section's digest: a reload that changes only that part changes nothing else.
 */
function configDigests(
  config: GatehouseConfig,
  named: Readonly<Record<string, readonly string[]>>,
): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [key, section] of Object.entries(config)) {
    const files = named[key];
    if (files !== undefined) {
      digests[key] = digest({ section, files: files.map(contentDigest) });
      continue;
    }
    const parts = RESTART_ONLY.filter((k) => k.startsWith(`${key}.`)).map((k) => k.slice(key.length + 1));
    if (parts.length === 0 || !isObject(section)) {
      digests[key] = digest(section);
      continue;
    }
    const rest: Record<string, unknown> = { ...section };
    for (const part of parts) {
      if (rest[part] !== undefined) digests[`${key}.${part}`] = digest(rest[part]);
      delete rest[part];
    }
    digests[key] = digest(rest);
  }
  return digests;
}

function runSchema(
  value: unknown,
  source: { file: string; locate?: ConfigLocate; findings: readonly ConfigFinding[] } | undefined,
): { problems: ConfigProblem[]; output?: unknown } {
  try {
    const output = parseOptions(gatehouseConfigSchema, value, {
      name: '',
      ...(source === undefined ? {} : { source }),
    });
    return { problems: [], output };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: [...error.problems] };
    throw error;
  }
}

/**
 * A value that is one reference (`port: ${PORT}`) is text after substitution; where that text was
 * refused and spells a number or true/false, it is read as that. Undefined when nothing changes.
 */
function coerceLiterals(
  value: unknown,
  result: { problems: readonly ConfigProblem[] },
  substitutions: ReadonlyMap<string, Substitution>,
): unknown {
  if (result.problems.length === 0) return undefined;
  const refused = new Set(result.problems.map((p) => p.path));
  let copy: unknown;
  for (const [key, substitution] of substitutions) {
    if (!substitution.whole) continue;
    const literal = literalOf(substitution.value);
    const path = JSON.parse(key) as ConfigPathSegment[];
    if (literal === undefined || !refused.has(formatPath(path))) continue;
    copy = withAt(copy ?? value, path, literal);
  }
  return copy;
}

/**
 * `root` with `value` at `path`: only the arrays and objects on the path are copied (shallowly), so
 * whatever else the configuration holds — code values such as a logger or a KeyObject, which no
 * clone could copy faithfully — stays the same object. The path leads to a substituted string, so
 * every container on it is an array or a plain object.
 */
function withAt(root: unknown, path: readonly ConfigPathSegment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [segment, ...rest] = path as [ConfigPathSegment, ...ConfigPathSegment[]];
  if (Array.isArray(root)) {
    const copy = [...root];
    copy[segment as number] = withAt(root[segment as number], rest, value);
    return copy;
  }
  const node = root as Record<string, unknown>;
  return { ...node, [segment]: withAt(node[segment], rest, value) };
}

// ---------------------------------------------------------------------------------------------
// Checks across the whole configuration
// ---------------------------------------------------------------------------------------------

const CORE_KEYS = ['paths', 'clientIp', 'headers', 'requestId', 'problems', 'admin', 'limits', 'shutdown'];

/**
 * Problems core's own check found on its part. The schema checks core's keys too, so a problem it
 * also found at the same path (an unknown key, worded apart) is listed once, as the schema words it.
 */
const coreFindings = new WeakSet<ConfigFinding>();

/** Records every problem only the whole can show; returns core's resolved part when it is valid. */
function wholeChecks(
  value: unknown,
  ctx: CheckContext,
  found: ConfigFinding[],
  warnings: ConfigFinding[],
): ResolvedConfig | undefined {
  const root = isObject(value) ? value : {};
  const services = isObject(root.services) ? Object.keys(root.services) : [];
  const known = new Set(services);
  const routes = Array.isArray(root.routes) ? root.routes : [];
  const paths = isObject(root.paths) ? root.paths : {};

  routeChecks(routes, known, found, warnings);
  for (const problem of unreachableRoutes(routes.map(readLegacyRoute), {
    caseSensitive: paths.caseSensitive === true,
    versioning: root.versioning !== undefined,
  })) {
    found.push({ path: ['routes', problem.index, 'path'], message: problem.message });
  }
  aggregateChecks(root.aggregate, known, found);
  authChecks(root.auth, found);
  rateLimitChecks(root.rateLimit, found);
  const access = isObject(root.admin) && isObject(root.admin.access) ? root.admin.access : undefined;
  if (access !== undefined && root.auth === undefined) {
    const write = isObject(access.write) ? access.write : undefined;
    for (const [at, given] of [
      [['admin', 'access', 'require'], access.require],
      [['admin', 'access', 'write', 'require'], write?.require],
    ] as const) {
      if (given !== undefined)
        found.push({
          path: [...at],
          message: "needs 'auth': the requirement is checked on the principal gw.auth() finds",
        });
    }
  }
  const openapi = root.openapi;
  if (
    isObject(openapi) &&
    typeof openapi.document === 'string' &&
    !/^[a-z][a-z0-9+.-]*:/i.test(openapi.document)
  ) {
    const file = isAbsolute(openapi.document) ? openapi.document : resolve(ctx.baseDir, openapi.document);
    if (!existsSync(file))
      found.push({
        path: ['openapi', 'document'],
        message: `no such file: '${openapi.document}' (read from ${ctx.baseDir})`,
      });
  }

  // Core's own checks across its keys (limits.headersTimeoutMs ≤ requestTimeoutMs, …) on its part.
  const corePart: Record<string, unknown> = {};
  for (const key of CORE_KEYS) if (root[key] !== undefined) corePart[key] = root[key];
  if (isObject(corePart.admin)) {
    const { access, ...rest } = corePart.admin;
    // The gateway's own admin keys (the dashboard, auth requirements) are not core's.
    const { dashboard: _dashboard, ...own } = rest;
    const core = isObject(access) ? withoutKey(access, 'require') : undefined;
    if (core !== undefined && isObject(core.write)) core.write = withoutKey(core.write, 'require');
    corePart.admin = core === undefined ? own : { ...own, access: core };
  }
  try {
    return resolveConfig(corePart);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      const finding = { path: parsePath(problem.path), message: problem.message };
      coreFindings.add(finding);
      found.push(finding);
    }
    return undefined;
  }
}

function withoutKey(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = object;
  return rest;
}

/** Services named by routes, modes that need one, duplicate names, the old `to`. */
function routeChecks(
  routes: readonly unknown[],
  known: ReadonlySet<string>,
  found: ConfigFinding[],
  warnings: ConfigFinding[],
): void {
  const list = [...known];
  const names = new Map<string, number>();
  routes.forEach((raw, index) => {
    if (!isObject(raw)) return;
    const at = (key: string): ConfigPathSegment[] => ['routes', index, key];
    if (raw.to !== undefined) {
      if (raw.service !== undefined || raw.mode !== undefined) {
        found.push({
          path: at('to'),
          at: 'key',
          message: "'to' is the old form of 'service' and 'mode': give either 'to' or 'service'/'mode'",
        });
        return;
      }
      if (typeof raw.to === 'string') {
        warnings.push({
          path: at('to'),
          at: 'key',
          message:
            raw.to === 'local'
              ? "'to: local' is the old route format: write 'mode: local'"
              : `'to: ${raw.to}' is the old route format: write 'service: ${raw.to}' and 'mode: remote'`,
        });
      }
    }
    const route = readLegacyRoute(raw) as Record<string, unknown>;
    const { service, mode } = route;
    if (typeof service === 'string' && service !== '' && !known.has(service)) {
      found.push({
        path: raw.to !== undefined && raw.service === undefined ? at('to') : at('service'),
        message:
          list.length === 0
            ? `unknown service '${service}': no services are configured (add it under 'services')`
            : `unknown service '${service}'${didYouMean(service, list)} (services: ${list.join(', ')})`,
      });
    }
    if (service === undefined && typeof mode === 'string' && mode !== 'local') {
      found.push({ path: at('mode'), message: `'${mode}' needs a 'service' to send requests to` });
    }
    const name = typeof route.name === 'string' ? route.name : defaultRouteName(route, index);
    if (name === undefined) return;
    const first = names.get(name);
    if (first === undefined) names.set(name, index);
    else
      found.push({
        path: typeof route.name === 'string' ? at('name') : ['routes', index],
        message:
          typeof route.name === 'string'
            ? `duplicate route name '${name}' (already at routes[${first}])`
            : `two routes are named '${name}' (already at routes[${first}]): give one a 'name'`,
      });
  });
}

/** `to: local` → `mode: local`; `to: orders` → `service: orders, mode: remote`. */
function readLegacyRoute(route: unknown): unknown {
  if (
    !isObject(route) ||
    typeof route.to !== 'string' ||
    route.service !== undefined ||
    route.mode !== undefined
  )
    return route;
  const { to, ...rest } = route;
  return to === 'local' ? { ...rest, mode: 'local' } : { ...rest, service: to, mode: 'remote' };
}

function readLegacyRoutes(config: GatehouseConfig): GatehouseConfig {
  if (config.routes === undefined || !config.routes.some((r) => r.to !== undefined)) return config;
  return {
    ...config,
    routes: config.routes.map((r) => readLegacyRoute(r) as (typeof config.routes)[number]),
  };
}

/** Each composition compiled as gw.aggregate() compiles it: unknown services, calls, cycles. */
function aggregateChecks(value: unknown, known: ReadonlySet<string>, found: ConfigFinding[]): void {
  if (!Array.isArray(value)) return;
  const names = new Map<string, number>();
  value.forEach((entry: unknown, index) => {
    const parsed = v.safeParse(aggregateOptionsSchema, entry);
    if (!parsed.success) return; // the schema reported it
    const name = parsed.output.name;
    const first = names.get(name);
    if (first !== undefined)
      found.push({
        path: ['aggregate', index, 'name'],
        message: `duplicate composition name '${name}' (already at aggregate[${first}])`,
      });
    else names.set(name, index);
    try {
      compileComposition(parsed.output, (service) => known.has(service), `aggregate[${index}]`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) {
        const message = problem.message.startsWith('unknown service')
          ? `${problem.message}${didYouMean(String(/'([^']*)'/.exec(problem.message)?.[1] ?? ''), [...known])}`
          : problem.message;
        found.push({ path: parsePath(problem.path), message });
      }
    }
  });
}

/** Method kinds used once each; rules name methods that exist. */
function authChecks(value: unknown, found: ConfigFinding[]): void {
  if (!isObject(value) || !Array.isArray(value.methods)) return;
  const names = new Map<string, number>();
  value.methods.forEach((method: unknown, index) => {
    if (!isObject(method)) return;
    for (const [kind, name] of Object.entries(AUTH_METHODS)) {
      if (method[kind] === undefined) continue;
      const first = names.get(name);
      if (first !== undefined)
        found.push({
          path: ['auth', 'methods', index, kind],
          at: 'key',
          message: `'${kind}' is already auth.methods[${first}]: one method of each kind`,
        });
      else names.set(name, index);
    }
  });
  const requirements: [ConfigPathSegment[], unknown][] = [[['auth', 'default'], value.default]];
  if (Array.isArray(value.rules))
    for (const [i, rule] of value.rules.entries()) requirements.push([['auth', 'rules', i], rule]);
  for (const [at, requirement] of requirements) {
    if (!isObject(requirement) || !Array.isArray(requirement.methods)) continue;
    requirement.methods.forEach((name: unknown, i) => {
      if (typeof name === 'string' && !names.has(name))
        found.push({
          path: [...at, 'methods', i],
          message: `no method '${name}' in auth.methods${didYouMean(name, [...names.keys()])} (configured: ${[...names.keys()].join(', ') || 'none'})`,
        });
    });
  }
}

/** Several limiters need distinct names (their counters are kept by name). */
function rateLimitChecks(value: unknown, found: ConfigFinding[]): void {
  if (!Array.isArray(value)) return;
  const names = new Map<string, number>();
  value.forEach((limiter: unknown, index) => {
    if (!isObject(limiter)) return;
    const name = typeof limiter.name === 'string' ? limiter.name : 'default';
    const first = names.get(name);
    if (first !== undefined)
      found.push({
        path: ['rateLimit', index, 'name'],
        message: `two limiters are named '${name}' (already rateLimit[${first}]): give each its own 'name'`,
      });
    else names.set(name, index);
  });
}

// ---------------------------------------------------------------------------------------------
// Problems: placed, ordered, deduplicated, secrets hidden
// ---------------------------------------------------------------------------------------------

function placed(finding: ConfigFinding, where: { file?: string; locate?: ConfigLocate }): ConfigProblem {
  const problem: ConfigProblem = { path: formatPath(finding.path), message: finding.message };
  if (where.file !== undefined) {
    const position = finding.position ?? where.locate?.(finding.path, finding.at ?? 'value');
    if (position !== undefined) problem.source = { file: where.file, ...position };
  }
  return problem;
}

function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.path}\n${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** In the file's order; problems without a position keep their order, after the others. */
function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((problem, i) => ({ problem, i }))
    .sort((a, b) => {
      const x = a.problem.source;
      const y = b.problem.source;
      if (x === undefined || y === undefined)
        return (x === undefined ? 1 : 0) - (y === undefined ? 1 : 0) || a.i - b.i;
      return x.line - y.line || x.column - y.column || a.i - b.i;
    })
    .map(({ problem }) => problem);
}

/** `routes[2].to`, `services["my.svc"].url` → segments (the inverse of core's formatPath). */
export function parsePath(path: string): ConfigPathSegment[] {
  const segments: ConfigPathSegment[] = [];
  const pattern = /([^.[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const match of path.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(JSON.parse(match[3]) as string);
  }
  return segments;
}

/** Keys whose values are secrets wherever they appear. */
const SECRET_KEY =
  /^(?:secret|clientsecret|password|passphrase|key|token|privatekey|authorization|cookie|x-api-key)$/i;
/** Secret keys whose whole value is hidden even when it is an object (a private JWK). */
const SECRET_OBJECT_KEY = /^(?:secret|key|privatekey)$/i;

/** Values substituted and written under secret keys, to hide in problem messages. */
function hider(
  substitutions: ReadonlyMap<string, Substitution>,
  written: unknown,
): (message: string) => string {
  const hidden: [string, string][] = [];
  for (const s of substitutions.values()) if (s.value.length >= 3) hidden.push([s.value, s.written]);
  const visit = (node: unknown, key: string, depth: number) => {
    if (depth > 64) return;
    if (typeof node === 'string' && SECRET_KEY.test(key) && node.length >= 3)
      hidden.push([node, '[redacted]']);
    else if (Array.isArray(node)) for (const item of node) visit(item, key, depth + 1);
    else if (isPlainObject(node)) for (const [k, v] of Object.entries(node)) visit(v, k, depth + 1);
  };
  visit(written, '', 0);
  hidden.sort((a, b) => b[0].length - a[0].length);
  return (message) => {
    let out = message;
    for (const [secret, shown] of hidden) {
      out = out.split(secret).join(shown);
      // Messages shorten long values to 77 characters and an ellipsis.
      if (secret.length > 77) out = out.split(`${secret.slice(0, 77)}…`).join(shown);
    }
    return out;
  };
}

/**
 * The configuration as written, for people: `${…}` references as they are (their values never), values
 * of secret keys (`clientSecret`, `password`, `key`, `secret`, `token`, …) and passwords in URLs
 * replaced by `[redacted]`.
 */
export function redactForDisplay(value: unknown, key = '', depth = 0): unknown {
  if (depth > 64) return '[too deep]';
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && !/^\$\{[^}]*\}$/.test(value)) return '[redacted]';
    return value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/gi, (_, scheme: string, userinfo: string) =>
      userinfo.includes(':') ? `${scheme}${userinfo.split(':')[0]}:[redacted]@` : `${scheme}[redacted]@`,
    );
  }
  if (Array.isArray(value)) return value.map((item) => redactForDisplay(item, key, depth + 1));
  // A logger, a key, a store given in code: named, never walked (it may hold secrets and cycles).
  if (typeof value === 'function' || (isObject(value) && !isPlainObject(value))) return '[code]';
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isObject(v) && SECRET_OBJECT_KEY.test(k) ? '[redacted]' : redactForDisplay(v, k, depth + 1);
    }
    return out;
  }
  return value;
}

function digest(value: unknown): string {
  return createHash('sha256').update(configText(value)).digest('base64url');
}
