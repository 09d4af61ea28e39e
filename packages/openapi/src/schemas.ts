// The JSON Schema side: one set of ajv instances per document, the document added to them whole (so
// its `$ref`s, recursive ones included, resolve inside ajv), and every validator compiled at start.
// OpenAPI 3.1 schemas are JSON Schema 2020-12 (Ajv2020). OpenAPI 3.0 schemas are draft-04 with
// extensions: ajv reads `nullable` itself, and the draft-04 forms of `exclusiveMinimum`/`Maximum`
// (booleans beside `minimum`/`maximum`) are rewritten to the numeric form for ajv's default (draft-07)
// class. Not ajv-draft-04 for this: it takes any `id` member in the document (an example's
// `{ "id": 12 }`) for a schema id and refuses GitHub's document as ambiguous.
import type { AnySchema, ErrorObject, ValidateFunction } from 'ajv';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { atPointer, escapePointer, type JsonObject, pointer } from './document.js';

// ajv-formats is CommonJS with a default export property.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: unknown) => void;

type AnyAjv = Ajv | Ajv2020;

/** A compiled validator; `errors` holds the first error after a failed call (allErrors is off). */
export type Validator = ValidateFunction;
export type { ErrorObject };

/** Which copy of the document a schema is read from: requests ignore readOnly, responses writeOnly. */
export type Direction = 'request' | 'response';

/** Compiles validators for one document; collects compile failures as problems at JSON pointers. */
export class SchemaCompiler {
  readonly #plain: AnyAjv;
  readonly #coercing: AnyAjv;
  readonly #ids: Record<Direction, string>;
  readonly problems: Array<{ pointer: string; message: string }> = [];
  readonly #document: JsonObject;
  readonly #memo = new Map<string, Validator>();
  #count = 0;

  constructor(document: JsonObject, version: '3.0' | '3.1') {
    this.#document = document;
    const make = (coerce: boolean): AnyAjv => {
      const options = {
        strict: false,
        allErrors: false,
        coerceTypes: coerce ? ('array' as const) : false,
        useDefaults: false,
        validateSchema: false,
        addUsedSchema: false,
        logger: false as const,
        // Error messages name the keyword's parameters; the instance path is enough for us.
        messages: true,
        inlineRefs: false,
      };
      const ajv = version === '3.0' ? new Ajv(options) : new Ajv2020(options);
      addFormats(ajv);
      // OpenAPI's own keywords, and annotations ajv does not know: accepted, ignored.
      for (const keyword of ['example', 'xml', 'externalDocs', 'discriminator']) {
        if (ajv.getKeyword(keyword) === false) ajv.addKeyword(keyword);
      }
      return ajv;
    };
    this.#plain = make(false);
    this.#coercing = make(true);
    const variants = directedCopies(document, version);
    this.#ids = { request: 'openapi-request', response: 'openapi-response' };
    for (const ajv of [this.#plain, this.#coercing]) {
      ajv.addSchema(variants.request as AnySchema, this.#ids.request, undefined, false);
      ajv.addSchema(variants.response as AnySchema, this.#ids.response, undefined, false);
    }
  }

  /** How many validators were compiled. */
  get count(): number {
    return this.#count;
  }

  /**
   * A reference to the schema at `segments` of the document, for use inside a composed schema. A
   * schema that is itself only a `$ref` is referred to at its target, so operations sharing a
   * component share one compiled validator (see {@link compile}).
   */
  ref(direction: Direction, segments: readonly (string | number)[]): { $ref: string } {
    let target: readonly (string | number)[] = segments;
    for (let hops = 0; hops < 16; hops++) {
      const node = atPointer(this.#document, pointer(target));
      if (typeof node !== 'object' || node === null) break;
      const ref = (node as JsonObject).$ref;
      if (typeof ref !== 'string' || !ref.startsWith('#/')) break;
      target = ref
        .slice(2)
        .split('/')
        .map((s) => decodeURIComponent(s).replaceAll('~1', '/').replaceAll('~0', '~'));
    }
    const fragment = target.map((s) => `/${encodeURIComponent(escapePointer(s))}`).join('');
    return { $ref: `${this.#ids[direction]}#${fragment}` };
  }

  /**
   * Compiles `schema` (which refers into the document through {@link ref}); strings are coerced to
   * the schema's types when `coerce` (parameters, form fields). On failure records a problem at
   * `at` and returns undefined.
   */
  compile(schema: AnySchema, coerce: boolean, at: string): Validator | undefined {
    // The same schema (by content, its refs at their targets) compiles once: GitHub's and most real
    // documents share components and path-level parameters across many operations, and an ajv
    // compile costs 2–7 ms (a 200-operation document: 3.3 s → see bench/RESULTS.md).
    const key = `${coerce ? 'c' : 'p'}${JSON.stringify(schema)}`;
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    try {
      const validate = (coerce ? this.#coercing : this.#plain).compile(schema);
      this.#count++;
      this.#memo.set(key, validate);
      return validate;
    } catch (error) {
      this.problems.push({ pointer: at, message: `schema does not compile: ${(error as Error).message}` });
      return undefined;
    }
  }
}

/**
 * The document as requests see it (readOnly properties not required) and as responses see it
 * (writeOnly properties not required). When the document uses neither, both are the same object.
 */
function directedCopies(document: JsonObject, version: '3.0' | '3.1'): Record<Direction, JsonObject> {
  let uses = false;
  walk(document, (node) => {
    if (node.readOnly === true || node.writeOnly === true) uses = true;
  });
  if (!uses) {
    if (version === '3.1') return { request: document, response: document };
    // The original stays as written: it is served on the reference page and gives the mocks.
    const copy = structuredClone(document);
    numericBounds(copy);
    return { request: copy, response: copy };
  }
  const request = structuredClone(document);
  const response = structuredClone(document);
  dropRequired(request, 'readOnly');
  dropRequired(response, 'writeOnly');
  if (version === '3.0') {
    numericBounds(request);
    numericBounds(response);
  }
  return { request, response };
}

/**
 * Draft-04 `{ minimum: 5, exclusiveMinimum: true }` → `{ exclusiveMinimum: 5 }` (and for maximum);
 * `nullable` without `type` dropped.
 */
function numericBounds(document: JsonObject): void {
  walk(document, (node) => {
    // 3.0.3: `nullable` adds null to the types given by `type` in the same schema; without a `type`
    // it means nothing (ajv refuses it there).
    if (node.nullable !== undefined && node.type === undefined) delete node.nullable;
    for (const [bound, exclusive] of [
      ['minimum', 'exclusiveMinimum'],
      ['maximum', 'exclusiveMaximum'],
    ] as const) {
      const flag = node[exclusive];
      if (typeof flag !== 'boolean') continue;
      if (flag && typeof node[bound] === 'number') {
        node[exclusive] = node[bound];
        delete node[bound];
      } else delete node[exclusive];
    }
  });
}

function dropRequired(document: JsonObject, flag: 'readOnly' | 'writeOnly'): void {
  walk(document, (node) => {
    if (!Array.isArray(node.required) || typeof node.properties !== 'object' || node.properties === null)
      return;
    const properties = node.properties as Record<string, unknown>;
    node.required = (node.required as unknown[]).filter((name) => {
      const schema = resolveLocal(document, properties[String(name)]);
      return !(schema !== undefined && schema[flag] === true);
    });
  });
}

function resolveLocal(document: JsonObject, node: unknown): JsonObject | undefined {
  let current = node;
  for (let i = 0; i < 16; i++) {
    if (typeof current !== 'object' || current === null) return undefined;
    const ref = (current as JsonObject).$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return current as JsonObject;
    let value: unknown = document;
    for (const raw of ref.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
      value = typeof value === 'object' && value !== null ? (value as JsonObject)[key] : undefined;
    }
    current = value;
  }
  return undefined;
}

/** Visits every object in the document once (the bundled document is a tree: refs are strings). */
function walk(root: unknown, visit: (node: JsonObject) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    visit(node as JsonObject);
    for (const key of Object.keys(node)) stack.push((node as JsonObject)[key]);
  }
}
