// OpenAPI parameter serialization, read back: path (simple, label, matrix), query (form,
// spaceDelimited, pipeDelimited, deepObject; explode or not), header (simple) and cookie (form), into
// strings, arrays of strings and objects of strings that ajv then coerces to the schema's types.
// Hand-written because no maintained library reads all of OpenAPI's styles from an already-split
// request (express-openapi-validator keeps its own too); each style is a few lines.

/** Where a parameter is. */
export type Location = 'path' | 'query' | 'header' | 'cookie';

/** The shape a parameter's schema gives it, which decides how its text is split. */
export type Shape = 'primitive' | 'array' | 'object';

/** One declared parameter, compiled. */
export interface ParamSpec {
  /** As declared. */
  readonly name: string;
  /** The key in the request: lower case for headers. */
  readonly key: string;
  readonly location: Location;
  readonly style: string;
  readonly explode: boolean;
  readonly shape: Shape;
  /** Declared with `content: { 'application/json': … }`: the value is JSON text. */
  readonly json: boolean;
  readonly required: boolean;
  /** For an exploded form object: the query keys that are its properties (undefined: any key). */
  readonly propertyKeys: readonly string[] | undefined;
  /** For a path parameter: its key in the router's match (`p0`, `p1`, … in template order). */
  readonly routeKey?: string;
}

/** The value handed to ajv, or undefined when the parameter is absent. */
export type Raw = string | string[] | Record<string, string> | undefined;

/** The first value of a query key, or all of them. */
export interface QuerySource {
  getAll(name: string): string[];
  has(name: string): boolean;
  keys(): Iterable<string>;
}

const splitList = (text: string, separator: string): string[] => (text === '' ? [] : text.split(separator));

/** `a,1,b,2` → `{ a: '1', b: '2' }`; an odd count leaves the last key empty. */
function pairs(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < items.length; i += 2) out[items[i]!] = items[i + 1] ?? '';
  return out;
}

/** `a=1,b=2` (split already) → `{ a: '1', b: '2' }`. */
function assignments(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === -1) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** A simple-style value (path, header): `1,2,3`, `a,1,b,2`, or exploded `a=1,b=2`. */
function simple(text: string, spec: ParamSpec): Raw {
  if (spec.shape === 'primitive') return text;
  const items = splitList(text, ',');
  if (spec.shape === 'array') return items;
  return spec.explode ? assignments(items) : pairs(items);
}

/** A path parameter's value as it appears in the (decoded) path segment. */
export function readPath(text: string, spec: ParamSpec): Raw {
  if (spec.style === 'label') {
    // `.5`, `.3.4.5` (explode) or `.3,4,5`; objects `.a,1,b,2` or `.a=1.b=2`.
    if (!text.startsWith('.')) return text;
    const body = text.slice(1);
    if (spec.shape === 'primitive') return body;
    const items = splitList(body, spec.explode ? '.' : ',');
    if (spec.shape === 'array') return items;
    return spec.explode ? assignments(items) : pairs(items);
  }
  if (spec.style === 'matrix') {
    // `;id=5`, `;id=3;id=4` (explode) or `;id=3,4`; objects `;a=1;b=2` or `;id=a,1,b,2`.
    const parts = text.split(';').filter((p) => p !== '');
    if (spec.shape === 'object' && spec.explode) return assignments(parts);
    const values: string[] = [];
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq === -1 ? part !== spec.name : part.slice(0, eq) !== spec.name) continue;
      values.push(eq === -1 ? '' : part.slice(eq + 1));
    }
    if (spec.shape === 'primitive') return values[0];
    if (spec.shape === 'array') return spec.explode ? values : splitList(values[0] ?? '', ',');
    return pairs(splitList(values[0] ?? '', ','));
  }
  return simple(text, spec);
}

/** A header value (simple style). */
export function readHeader(value: string | string[] | undefined, spec: ParamSpec): Raw {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  return simple(text, spec);
}

/** A query parameter, by style. */
export function readQuery(query: QuerySource, spec: ParamSpec): Raw {
  const { name } = spec;
  if (spec.shape === 'object') {
    if (spec.style === 'deepObject') {
      const out: Record<string, string> = Object.create(null);
      let found = false;
      const prefix = `${name}[`;
      for (const key of query.keys()) {
        if (!key.startsWith(prefix) || !key.endsWith(']')) continue;
        found = true;
        out[key.slice(prefix.length, -1)] = query.getAll(key)[0] ?? '';
      }
      return found ? out : undefined;
    }
    if (spec.style === 'form' && spec.explode) {
      // The object's properties are query keys of their own.
      const out: Record<string, string> = Object.create(null);
      let found = false;
      if (spec.propertyKeys === undefined) return undefined;
      for (const key of spec.propertyKeys) {
        if (!query.has(key)) continue;
        found = true;
        out[key] = query.getAll(key)[0] ?? '';
      }
      return found ? out : undefined;
    }
    if (!query.has(name)) return undefined;
    const separator = spec.style === 'spaceDelimited' ? ' ' : spec.style === 'pipeDelimited' ? '|' : ',';
    return pairs(splitList(query.getAll(name)[0] ?? '', separator));
  }
  if (!query.has(name)) return undefined;
  const all = query.getAll(name);
  if (spec.shape === 'primitive') return all.length === 1 ? all[0] : all;
  if (spec.explode && spec.style === 'form') return all;
  const separator = spec.style === 'spaceDelimited' ? ' ' : spec.style === 'pipeDelimited' ? '|' : ',';
  return all.flatMap((value) => splitList(value, separator));
}

/**
 * Cookies of a `Cookie` header (RFC 6265 §5.4: `a=1; b=2`), first occurrence wins. Values are taken
 * as sent (no percent-decoding: OpenAPI says nothing of cookie encoding).
 */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  const text = Array.isArray(header) ? header.join('; ') : header;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || out.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.set(name, value);
  }
  return out;
}

/** A cookie parameter (form style: `id=1,2,3` for arrays, `id=a,1,b,2` for objects). */
export function readCookie(cookies: Map<string, string>, spec: ParamSpec): Raw {
  const value = cookies.get(spec.name);
  if (value === undefined) return undefined;
  if (spec.shape === 'primitive') return value;
  const items = splitList(value, ',');
  return spec.shape === 'array' ? items : pairs(items);
}
