// Everything the request path needs, built once at start from the document: per operation, its
// parameter groups (one coercing validator per location), its request media types, its responses,
// and its mock answer. Nothing here runs on a request.
import {
  atPointer,
  deref,
  type JsonObject,
  type LoadedDocument,
  METHODS,
  pointer,
  templateNames,
} from './document.js';
import type { Location, ParamSpec, Shape } from './parameters.js';
import { SchemaCompiler, type Validator } from './schemas.js';

/** What a media type's body is read as. */
export type BodyKind = 'json' | 'form' | 'multipart' | 'text' | 'binary';

/** One entry of a `content` map. */
export interface MediaSpec {
  /** The key as written, lower case, parameters dropped (`application/json`, `image/*`, `*\/*`). */
  readonly range: string;
  /** The schema's validator; undefined when the media type has no schema. */
  readonly validate: Validator | undefined;
  /** Form and multipart: the validator that coerces field text to the schema's types. */
  readonly validateFields: Validator | undefined;
  /** Form and multipart: the properties whose schema is an array (repeated fields collect). */
  readonly arrays: ReadonlySet<string>;
  /** The media type's example (or first of its examples), for mocks. */
  readonly example: { value: unknown } | undefined;
  readonly pointer: string;
}

/** The parameters of one location, validated together as one object. */
export interface ParamGroup {
  readonly location: Location;
  readonly specs: readonly ParamSpec[];
  readonly validate: Validator | undefined;
}

/** A documented response (one status code, range or default). */
export interface ResponseSpec {
  readonly key: string;
  readonly media: readonly MediaSpec[];
  /** Its headers (Content-Type excluded) as one group, names lower case. */
  readonly headers: ParamGroup | undefined;
}

/** One operation, ready for requests. */
export interface Operation {
  readonly method: string;
  readonly template: string;
  readonly operationId: string | undefined;
  /** `operationId`, or `METHOD /template` when there is none (built once, for state, events and spans). */
  readonly name: string;
  readonly pointer: string;
  readonly groups: readonly ParamGroup[];
  /** Query keys the operation declares; undefined when an open object parameter accepts any key. */
  readonly queryKeys: ReadonlySet<string> | undefined;
  /** Query parameters in deepObject style (their keys are `name[prop]`). */
  readonly deepObjects: readonly string[];
  readonly body: { readonly required: boolean; readonly media: readonly MediaSpec[] } | undefined;
  readonly responses: ReadonlyMap<string, ResponseSpec>;
  /** Path parameter names in template order (the router's p0, p1, …). */
  readonly pathNames: readonly string[];
  readonly mock: MockAnswer | undefined;
}

/** What `mock` answers for an operation. */
export interface MockAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** A path template with its operations. */
export interface PathEntry {
  readonly template: string;
  readonly operations: ReadonlyMap<string, Operation>;
  /** The `Allow` header value for this path. */
  readonly allow: string;
}

export interface CompiledDocument {
  readonly loaded: LoadedDocument;
  readonly paths: readonly PathEntry[];
  readonly validators: number;
  /** Every operation by `METHOD template`, for the contract guard and tests. */
  readonly operations: readonly Operation[];
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `Application/JSON; charset=utf-8` → `application/json`. */
export const mediaRange = (type: string): string => {
  const semi = type.indexOf(';');
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase();
};

/** How a body of this (concrete) media type is read. */
export function bodyKind(range: string): BodyKind {
  const slash = range.indexOf('/');
  const subtype = range.slice(slash + 1);
  if (subtype === 'json' || subtype.endsWith('+json')) return 'json';
  if (range === 'application/x-www-form-urlencoded') return 'form';
  if (range === 'multipart/form-data') return 'multipart';
  if (range.startsWith('text/')) return 'text';
  return 'binary';
}

/** The best entry for a concrete media type: exact, then `type/*`, then `*\/*`. */
export function pickMedia(media: readonly MediaSpec[], range: string): MediaSpec | undefined {
  let wildcardType: MediaSpec | undefined;
  let any: MediaSpec | undefined;
  const slash = range.indexOf('/');
  const typeWildcard = `${range.slice(0, slash)}/*`;
  for (const m of media) {
    if (m.range === range) return m;
    if (m.range === typeWildcard) wildcardType ??= m;
    else if (m.range === '*/*') any ??= m;
  }
  return wildcardType ?? any;
}

/** The type of a schema, through refs: 'array', 'object' or a primitive; 3.1 type lists without 'null'. */
function shapeOf(document: JsonObject, schema: unknown): { shape: Shape; properties: string[] | undefined } {
  const s = deref(document, schema);
  if (s === undefined) return { shape: 'primitive', properties: undefined };
  let type = s.type;
  if (Array.isArray(type)) type = type.filter((t) => t !== 'null')[0];
  if (type === 'array' || (type === undefined && s.items !== undefined))
    return { shape: 'array', properties: undefined };
  if (type === 'object' || (type === undefined && s.properties !== undefined)) {
    const open =
      s.additionalProperties !== undefined && s.additionalProperties !== false
        ? true
        : s.patternProperties !== undefined;
    const props = isObject(s.properties) ? Object.keys(s.properties) : [];
    // allOf members contribute properties too (a common way to compose filters).
    if (Array.isArray(s.allOf)) {
      for (const member of s.allOf) {
        const m = deref(document, member);
        if (m !== undefined && isObject(m.properties)) props.push(...Object.keys(m.properties));
      }
    }
    return { shape: 'object', properties: open ? undefined : props };
  }
  return { shape: 'primitive', properties: undefined };
}

const DEFAULT_STYLE: Record<Location, string> = {
  path: 'simple',
  query: 'form',
  header: 'simple',
  cookie: 'form',
};

/** A compiler over one loaded document. Throws nothing: problems are collected for one ConfigError. */
export function compileDocument(
  loaded: LoadedDocument,
  options: { responses?: boolean } = {},
): CompiledDocument & {
  problems: Array<{ pointer: string; message: string }>;
} {
  const { document } = loaded;
  const compiler = new SchemaCompiler(document, loaded.version);
  // Keyed by the template's shape (`/a/{}`): templates that differ only in parameter names share
  // one router entry (the document check refused any method on both).
  const byShape = new Map<string, { template: string; operations: Map<string, Operation> }>();
  const operations: Operation[] = [];
  const documentPaths = isObject(document.paths) ? document.paths : {};
  for (const [template, rawItem] of Object.entries(documentPaths)) {
    const item = deref(document, rawItem);
    if (item === undefined) continue;
    const itemSegments = itemLocation(rawItem, template);
    const shape = template.replace(/\{[^}]*\}/g, '{}');
    let shared = byShape.get(shape);
    if (shared === undefined) {
      shared = { template, operations: new Map() };
      byShape.set(shape, shared);
    }
    const byMethod = shared.operations;
    for (const method of METHODS) {
      const rawOperation = item[method];
      if (rawOperation === undefined) continue;
      const op = deref(document, rawOperation);
      if (op === undefined) continue;
      const opSegments = [...itemSegments, method];
      const operation = compileOperation(compiler, document, options.responses !== false, {
        method: method.toUpperCase(),
        template,
        item,
        itemSegments,
        op,
        opSegments,
      });
      byMethod.set(operation.method, operation);
      operations.push(operation);
    }
  }
  const paths: PathEntry[] = [];
  for (const { template, operations: byMethod } of byShape.values()) {
    if (byMethod.size === 0) continue;
    // HEAD is answered wherever GET is (both frameworks do), so a documented GET allows HEAD.
    const allowed = [...byMethod.keys()];
    if (byMethod.has('GET') && !byMethod.has('HEAD')) allowed.push('HEAD');
    paths.push({ template, operations: byMethod, allow: allowed.join(', ') });
  }
  return { loaded, paths, operations, validators: compiler.count, problems: compiler.problems };
}

/** Where a path item really is (a `$ref`'d item is compiled at its target, which ajv reads). */
function itemLocation(rawItem: unknown, template: string): Array<string | number> {
  if (isObject(rawItem) && typeof rawItem.$ref === 'string' && rawItem.$ref.startsWith('#/'))
    return refSegments(rawItem.$ref);
  return ['paths', template];
}

/** The document location of a node that may be a `$ref` (the target's location), for ajv refs. */
function locate(
  document: JsonObject,
  node: unknown,
  at: Array<string | number>,
): { value: JsonObject; segments: Array<string | number> } | undefined {
  let current = node;
  let segments = at;
  for (let hops = 0; hops < 32; hops++) {
    if (!isObject(current)) return undefined;
    const ref = current.$ref;
    if (typeof ref !== 'string') return { value: current, segments };
    if (!ref.startsWith('#/')) return undefined;
    segments = refSegments(ref);
    current = atPointer(document, ref);
  }
  return undefined;
}

const refSegments = (ref: string): string[] =>
  ref
    .slice(2)
    .split('/')
    .map((s) => decodeURIComponent(s).replaceAll('~1', '/').replaceAll('~0', '~'));

interface OperationInput {
  method: string;
  template: string;
  item: JsonObject;
  itemSegments: Array<string | number>;
  op: JsonObject;
  opSegments: Array<string | number>;
}

function compileOperation(
  compiler: SchemaCompiler,
  document: JsonObject,
  withResponses: boolean,
  input: OperationInput,
): Operation {
  const { method, template, item, itemSegments, op, opSegments } = input;
  const opPointer = pointer(opSegments);
  // Operation-level parameters override path-level ones of the same name and location.
  const declared = new Map<string, { value: JsonObject; segments: Array<string | number> }>();
  for (const [list, base] of [
    [item.parameters, [...itemSegments, 'parameters']],
    [op.parameters, [...opSegments, 'parameters']],
  ] as const) {
    if (!Array.isArray(list)) continue;
    for (const [i, raw] of list.entries()) {
      const found = locate(document, raw, [...base, i]);
      if (found === undefined) continue;
      const p = found.value;
      if (typeof p.name !== 'string' || typeof p.in !== 'string') continue;
      const key = `${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`;
      declared.set(key, found);
    }
  }
  const byLocation = new Map<Location, Array<{ spec: ParamSpec; schema: object }>>();
  const queryKeys = new Set<string>();
  let openQuery = false;
  const deepObjects: string[] = [];
  for (const { value: p, segments } of declared.values()) {
    const location = p.in as Location;
    if (!['path', 'query', 'header', 'cookie'].includes(location)) continue;
    const name = p.name as string;
    // Headers the HTTP layer owns are not parameters (OpenAPI: Accept, Content-Type, Authorization are ignored).
    if (location === 'header' && ['accept', 'content-type', 'authorization'].includes(name.toLowerCase()))
      continue;
    let schemaSegments: Array<string | number> | undefined;
    let rawSchema: unknown;
    let json = false;
    if (p.schema !== undefined) {
      schemaSegments = [...segments, 'schema'];
      rawSchema = p.schema;
    } else if (isObject(p.content)) {
      const first = Object.keys(p.content)[0];
      if (first !== undefined) {
        json = bodyKind(mediaRange(first)) === 'json';
        const media = p.content[first];
        if (isObject(media) && media.schema !== undefined) {
          schemaSegments = [...segments, 'content', first, 'schema'];
          rawSchema = media.schema;
        }
      }
    }
    // A JSON-encoded parameter is parsed whole, never split.
    const { shape, properties } = json
      ? { shape: 'primitive' as Shape, properties: undefined }
      : shapeOf(document, rawSchema);
    const style = typeof p.style === 'string' ? p.style : DEFAULT_STYLE[location];
    const explode = typeof p.explode === 'boolean' ? p.explode : style === 'form';
    const spec: ParamSpec = {
      name,
      key: location === 'header' ? name.toLowerCase() : name,
      location,
      style,
      explode,
      shape,
      json,
      required: p.required === true || location === 'path',
      propertyKeys: properties,
      ...(location === 'path' ? { routeKey: `p${(templateNames(template) ?? []).indexOf(name)}` } : {}),
    };
    if (location === 'query') {
      if (shape === 'object' && style === 'form' && explode) {
        if (properties === undefined) openQuery = true;
        else for (const k of properties) queryKeys.add(k);
      } else if (shape === 'object' && style === 'deepObject') deepObjects.push(name);
      else queryKeys.add(name);
    }
    const schema = schemaSegments === undefined ? {} : compiler.ref('request', schemaSegments);
    const list = byLocation.get(location) ?? [];
    list.push({ spec, schema });
    byLocation.set(location, list);
  }
  const groups: ParamGroup[] = [];
  for (const location of ['path', 'query', 'header', 'cookie'] as const) {
    const list = byLocation.get(location);
    if (list === undefined) continue;
    const properties: Record<string, object> = {};
    const required: string[] = [];
    for (const { spec, schema } of list) {
      properties[spec.key] = schema;
      if (spec.required) required.push(spec.key);
    }
    const validate = compiler.compile(
      { type: 'object', properties, required },
      true,
      `${opPointer} (${location} parameters)`,
    );
    groups.push({ location, specs: list.map((x) => x.spec), validate });
  }

  let body: Operation['body'];
  const requestBody = locate(document, op.requestBody, [...opSegments, 'requestBody']);
  if (requestBody !== undefined && isObject(requestBody.value.content)) {
    body = {
      required: requestBody.value.required === true,
      media: compileContent(
        compiler,
        document,
        requestBody.value.content,
        [...requestBody.segments, 'content'],
        'request',
      ),
    };
  }

  const responses = new Map<string, ResponseSpec>();
  if (isObject(op.responses)) {
    for (const key of Object.keys(op.responses)) {
      const found = locate(document, op.responses[key], [...opSegments, 'responses', key]);
      if (found === undefined) continue;
      const r = found.value;
      // Without response checks (mode off, no contract guard) only what mocks need: no validators.
      const media = isObject(r.content)
        ? compileContent(
            compiler,
            document,
            r.content,
            [...found.segments, 'content'],
            'response',
            withResponses,
          )
        : [];
      let headers: ParamGroup | undefined;
      if (withResponses && isObject(r.headers)) {
        const specs: ParamSpec[] = [];
        const properties: Record<string, object> = {};
        const required: string[] = [];
        for (const name of Object.keys(r.headers)) {
          const lower = name.toLowerCase();
          if (lower === 'content-type') continue;
          const h = locate(document, r.headers[name], [...found.segments, 'headers', name]);
          if (h === undefined) continue;
          const { shape } = shapeOf(document, h.value.schema);
          specs.push({
            name,
            key: lower,
            location: 'header',
            style: 'simple',
            explode: h.value.explode === true,
            shape,
            json: false,
            required: h.value.required === true,
            propertyKeys: undefined,
          });
          properties[lower] =
            h.value.schema === undefined ? {} : compiler.ref('response', [...h.segments, 'schema']);
          if (h.value.required === true) required.push(lower);
        }
        if (specs.length > 0) {
          headers = {
            location: 'header',
            specs,
            validate: compiler.compile(
              { type: 'object', properties, required },
              true,
              `${pointer([...found.segments, 'headers'])}`,
            ),
          };
        }
      }
      responses.set(key.toUpperCase(), { key, media, headers });
    }
  }

  const pathNames = templateNames(template) ?? [];
  return {
    method,
    template,
    operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
    name: typeof op.operationId === 'string' ? op.operationId : `${method} ${template}`,
    pointer: opPointer,
    groups,
    queryKeys: openQuery ? undefined : queryKeys,
    deepObjects,
    body,
    responses,
    pathNames,
    mock: mockAnswer(responses),
  };
}

function compileContent(
  compiler: SchemaCompiler,
  document: JsonObject,
  content: JsonObject,
  at: Array<string | number>,
  direction: 'request' | 'response',
  validators = true,
): MediaSpec[] {
  const out: MediaSpec[] = [];
  for (const key of Object.keys(content)) {
    const media = content[key];
    const range = mediaRange(key);
    const segments = [...at, key];
    const here = pointer(segments);
    if (!isObject(media)) {
      out.push({
        range,
        validate: undefined,
        validateFields: undefined,
        arrays: new Set(),
        example: undefined,
        pointer: here,
      });
      continue;
    }
    const hasSchema = media.schema !== undefined;
    const kind = bodyKind(range.includes('*') ? 'application/octet-stream' : range);
    const ref = compiler.ref(direction, [...segments, 'schema']);
    const validate =
      validators && hasSchema && kind !== 'binary'
        ? compiler.compile(ref, false, `${here}/schema`)
        : undefined;
    let validateFields: Validator | undefined;
    const arrays = new Set<string>();
    if (hasSchema && (kind === 'form' || kind === 'multipart')) {
      validateFields = compiler.compile(ref, true, `${here}/schema`);
      const s = deref(document, media.schema);
      if (s !== undefined && isObject(s.properties)) {
        for (const [name, prop] of Object.entries(s.properties)) {
          if (shapeOf(document, prop).shape === 'array') arrays.add(name);
        }
      }
    }
    out.push({ range, validate, validateFields, arrays, example: exampleOf(document, media), pointer: here });
  }
  return out;
}

function exampleOf(document: JsonObject, media: JsonObject): { value: unknown } | undefined {
  if (media.example !== undefined) return { value: media.example };
  if (isObject(media.examples)) {
    for (const name of Object.keys(media.examples)) {
      const e = deref(document, media.examples[name]);
      if (e !== undefined && e.value !== undefined) return { value: e.value };
    }
  }
  if (media.schema !== undefined) {
    const generated = exampleFromSchema(document, media.schema, 0);
    if (generated !== undefined) return { value: generated };
  }
  return undefined;
}

/** A value built from a schema's examples, defaults and types, for operations without an example. */
export function exampleFromSchema(document: JsonObject, node: unknown, depth: number): unknown {
  if (depth > 8) return undefined;
  const s = deref(document, node);
  if (s === undefined) return undefined;
  if (s.example !== undefined) return s.example;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    if (!Array.isArray(s[key])) continue;
    if (key === 'allOf') {
      const merged: JsonObject = {};
      for (const member of s[key] as unknown[]) {
        const v = exampleFromSchema(document, member, depth + 1);
        if (isObject(v)) Object.assign(merged, v);
      }
      return merged;
    }
    return exampleFromSchema(document, (s[key] as unknown[])[0], depth + 1);
  }
  let type = s.type;
  if (Array.isArray(type)) type = type.filter((t) => t !== 'null')[0];
  if (type === 'object' || (type === undefined && isObject(s.properties))) {
    const out: JsonObject = {};
    if (isObject(s.properties)) {
      for (const [name, prop] of Object.entries(s.properties)) {
        const p = deref(document, prop);
        if (p?.writeOnly === true) continue;
        const v = exampleFromSchema(document, prop, depth + 1);
        if (v !== undefined) out[name] = v;
      }
    }
    return out;
  }
  if (type === 'array') {
    const v = exampleFromSchema(document, s.items, depth + 1);
    return v === undefined ? [] : [v];
  }
  if (type === 'string') {
    switch (s.format) {
      case 'date-time':
        return '2026-01-01T00:00:00Z';
      case 'date':
        return '2026-01-01';
      case 'email':
        return 'user@example.com';
      case 'uuid':
        return '00000000-0000-4000-8000-000000000000';
      case 'uri':
      case 'url':
        return 'https://example.com/';
      default:
        return 'string';
    }
  }
  if (type === 'integer') return typeof s.minimum === 'number' ? Math.ceil(s.minimum) : 0;
  if (type === 'number') return typeof s.minimum === 'number' ? s.minimum : 0;
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  return undefined;
}

/** The operation's first documented success, with its example (or one built from its schema). */
function mockAnswer(responses: ReadonlyMap<string, ResponseSpec>): MockAnswer | undefined {
  const success = [...responses.keys()]
    .filter((k) => /^2(\d\d|XX)$/.test(k))
    .sort()
    .map((k) => responses.get(k)!);
  const chosen = success[0];
  if (chosen === undefined) return undefined;
  const status = /^\d{3}$/.test(chosen.key) ? Number(chosen.key) : 200;
  const media = chosen.media.find((m) => bodyKind(m.range) === 'json') ?? chosen.media[0];
  if (media === undefined) return { status, contentType: undefined, body: undefined };
  const contentType = media.range.includes('*') ? 'application/json' : media.range;
  return { status, contentType, body: media.example?.value };
}
