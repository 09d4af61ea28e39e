// What a valibot schema accepts, read from the schema itself: the walk below objects, arrays, records
// and wrappers that validate.ts follows to place a problem, and the words a default message uses
// (`an integer`, `one of 'a' or 'b'`, `a function of the exchange`). valibot's own messages name
// its types (`Expected string but received 5`); Gatehouse's say what was meant and what was received,
// with a suggestion when one is close, the same for factory options and configuration files.
import type * as v from 'valibot';
import { didYouMean } from './suggest.js';
import { booleanHint, describeValue, quote } from './words.js';

/** Any valibot schema, as Gatehouse's option and configuration schemas are written. */
export type OptionSchema = v.GenericSchema;

/** The parts of a schema object Gatehouse reads (valibot keeps them as plain properties). */
export interface SchemaNode {
  readonly type: string;
  readonly kind?: string;
  readonly message?: unknown;
  readonly wrapped?: SchemaNode;
  readonly entries?: Readonly<Record<string, SchemaNode>>;
  readonly item?: SchemaNode;
  readonly key?: SchemaNode;
  readonly value?: SchemaNode;
  readonly options?: readonly (SchemaNode | unknown)[];
  readonly literal?: unknown;
  readonly class?: { name?: string };
  readonly pipe?: readonly { kind: string; type: string; requirement?: unknown }[];
}

/** A schema's parts, to read. */
export const node = (schema: unknown): SchemaNode => schema as SchemaNode;

/** Wrappers whose inner schema is `wrapped`: optional values, defaults, nullables. */
const WRAPPERS: ReadonlySet<string> = new Set([
  'optional',
  'exact_optional',
  'nullable',
  'nullish',
  'undefinedable',
  'non_optional',
  'non_nullable',
  'non_nullish',
]);

/** The schema under its optional/nullable wrappers (a piped schema is its first schema already). */
export function unwrap(schema: OptionSchema): OptionSchema {
  let current = node(schema);
  for (let i = 0; i < 16 && WRAPPERS.has(current.type) && current.wrapped !== undefined; i++) {
    current = current.wrapped;
  }
  return current as unknown as OptionSchema;
}

/** The schemas a wrapper or pipe leads to, outermost first (for registries keyed by schema object). */
export function* layers(schema: OptionSchema): Generator<OptionSchema> {
  let current: SchemaNode | undefined = node(schema);
  for (let i = 0; i < 16 && current !== undefined; i++) {
    yield current as unknown as OptionSchema;
    if (WRAPPERS.has(current.type)) current = current.wrapped;
    else if (current.pipe !== undefined && current.pipe[0] !== (current as unknown)) {
      current = current.pipe[0] as unknown as SchemaNode;
    } else current = undefined;
  }
}

/** What walks below a schema read of it, under its wrappers: its kind and its children. */
export interface SchemaParts {
  readonly type: string;
  readonly entries?: Readonly<Record<string, OptionSchema>>;
  readonly item?: OptionSchema;
  readonly value?: OptionSchema;
  readonly options?: readonly OptionSchema[];
  readonly message?: unknown;
}

/** `schema` under its optional/nullable wrappers, as {@link SchemaParts}. */
export const partsOf = (schema: OptionSchema): SchemaParts => unwrap(schema) as unknown as SchemaParts;

export const isObjectSchema = (schema: OptionSchema | undefined): boolean =>
  schema !== undefined &&
  (node(schema).type === 'strict_object' ||
    node(schema).type === 'loose_object' ||
    node(schema).type === 'object');

export type Segment = string | number;

/** The schema at a path below `schema` (through objects, records and arrays), unwrapped. */
export function schemaAt(schema: OptionSchema, path: readonly Segment[]): OptionSchema | undefined {
  let current: OptionSchema | undefined = unwrap(schema);
  for (const segment of path) {
    const n = node(current);
    if (isObjectSchema(current)) current = n.entries?.[segment] as OptionSchema | undefined;
    else if (n.type === 'record') current = n.value as OptionSchema | undefined;
    else if (n.type === 'array') current = n.item as OptionSchema | undefined;
    else return undefined;
    if (current === undefined) return undefined;
    current = unwrap(current);
  }
  return current;
}

/** The keys an object schema (or a union of them) allows. */
export function objectKeys(schema: OptionSchema | undefined): string[] {
  if (schema === undefined) return [];
  const inner = unwrap(schema);
  if (isObjectSchema(inner)) return Object.keys(node(inner).entries ?? {});
  if (node(inner).type === 'union')
    return (node(inner).options as OptionSchema[]).flatMap((o) => objectKeys(o));
  return [];
}

// ---------------------------------------------------------------------------------------------
// Code-only options and their descriptions
// ---------------------------------------------------------------------------------------------

const described = new WeakMap<object, string>();
const codeOnly = new WeakSet<object>();

/** Records what a custom schema expects, in words (`a function of the exchange`). */
export function describeAs<S extends OptionSchema>(schema: S, what: string, onlyInCode = false): S {
  described.set(schema, what);
  if (onlyInCode) codeOnly.add(schema);
  return schema;
}

/** Whether `schema` (through wrappers and pipes) was marked as given only in code. */
export function isCodeOnly(schema: OptionSchema): boolean {
  for (const layer of layers(schema)) if (codeOnly.has(layer)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------------

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  bigint: 'a bigint',
  boolean: 'true or false',
  strict_object: 'an object',
  loose_object: 'an object',
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
  strict_tuple: 'an array',
};

function shown(value: unknown): string {
  return typeof value === 'string' ? quote(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}

/** `a`, `a or b`, `a, b or c`. */
export function alternatives(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}`;
}

function valuesOf(values: readonly unknown[]): string {
  if (values.length === 1) return shown(values[0]);
  return `one of ${alternatives(values.map(shown))}`;
}

/** The values a literal or picklist schema (through wrappers) accepts, or undefined for others. */
function valuesIn(schema: OptionSchema): readonly unknown[] | undefined {
  const n = node(unwrap(schema));
  if (n.type === 'literal') return [n.literal];
  if (n.type === 'picklist' || n.type === 'enum') return n.options as readonly unknown[];
  return undefined;
}

/** Every string value the literal and picklist branches of a union accept, for a suggestion. */
function unionStrings(schema: OptionSchema | undefined): string[] {
  if (schema === undefined) return [];
  const n = node(unwrap(schema));
  if (n.type !== 'union') return [];
  return (n.options as OptionSchema[]).flatMap((o) =>
    (valuesIn(o) ?? []).filter((v): v is string => typeof v === 'string'),
  );
}

const isInteger = (n: SchemaNode): boolean =>
  n.pipe?.some((a) => a.type === 'integer' || a.type === 'safe_integer') === true;

/** What a schema accepts, in words (`an integer`, `'a' or 'b'`, `a function`), or undefined. */
export function describeSchema(schema: OptionSchema | undefined, depth = 0): string | undefined {
  if (schema === undefined || depth > 8) return undefined;
  for (const layer of layers(schema)) {
    const words = described.get(layer);
    if (words !== undefined) return words;
  }
  const n = node(unwrap(schema));
  switch (n.type) {
    case 'number':
      return isInteger(n) ? 'an integer' : 'a number';
    case 'literal':
      return shown(n.literal);
    case 'picklist':
    case 'enum':
      return valuesOf(n.options as readonly unknown[]);
    case 'instance':
      return n.class?.name ? `an instance of ${n.class.name}` : 'an object';
    case 'union': {
      // `'p2c', 'ewma' or a Balancer`: the values of literal and picklist branches listed one by one.
      const parts = (n.options as OptionSchema[]).flatMap((o) => {
        const values = valuesIn(o);
        return values === undefined ? [describeSchema(o, depth + 1)] : values.map(shown);
      });
      if (parts.some((p) => p === undefined)) return undefined;
      return alternatives([...new Set(parts as string[])]);
    }
    default:
      return TYPE_WORDS[n.type];
  }
}

function received(input: unknown): string {
  return `received ${describeValue(input)}`;
}

/** The parts of a valibot issue the default messages read. */
export interface IssueLike {
  readonly kind: string;
  readonly type: string;
  readonly input: unknown;
  readonly requirement?: unknown;
}

/**
 * The default message of an issue no schema worded itself, given the schema the issue is about
 * (`schema`: the one at the issue's path), or undefined when there is nothing better to say than
 * "not a valid value".
 */
export function defaultMessage(issue: IssueLike, schema: OptionSchema | undefined): string | undefined {
  const input = issue.input;
  if (issue.kind === 'schema') {
    if (issue.type === 'union') {
      const what = describeSchema(schema);
      const hint = typeof input === 'string' ? didYouMean(input, unionStrings(schema)) : '';
      return what === undefined
        ? `not a valid value, ${received(input)}${hint}`
        : `expected ${what}, ${received(input)}${hint}`;
    }
    const what = describeSchema(schema) ?? TYPE_WORDS[issue.type];
    if (what === undefined) return undefined;
    if (input === undefined) return `required: expected ${what}`;
    const values = schema === undefined ? undefined : valuesIn(schema);
    if (values !== undefined) {
      const strings = values.filter((v): v is string => typeof v === 'string');
      const hint = typeof input === 'string' ? didYouMean(input, strings) : '';
      return `expected ${what}, ${received(input)}${hint}`;
    }
    const hint = issue.type === 'boolean' ? booleanHint(input) : '';
    return `expected ${what}, ${received(input)}${hint}`;
  }
  const requirement = issue.requirement;
  switch (issue.type) {
    case 'min_length':
    case 'max_length':
    case 'non_empty': {
      const small = issue.type !== 'max_length';
      const bound = issue.type === 'non_empty' ? 1 : Number(requirement);
      if (small && bound === 1) return 'must not be empty';
      if (Array.isArray(input) || input instanceof Set)
        return `must have ${small ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`;
      return `must be ${small ? 'at least' : 'at most'} ${bound} character${bound === 1 ? '' : 's'} long`;
    }
    case 'min_value':
      return `expected a number ≥ ${shown(requirement)}, ${received(input)}`;
    case 'gt_value':
      return `expected a number > ${shown(requirement)}, ${received(input)}`;
    case 'max_value':
      return `expected a number ≤ ${shown(requirement)}, ${received(input)}`;
    case 'lt_value':
      return `expected a number < ${shown(requirement)}, ${received(input)}`;
    case 'integer':
    case 'safe_integer':
      return `expected an integer, ${received(input)}`;
    case 'multiple_of':
      return `expected a multiple of ${shown(requirement)}, ${received(input)}`;
    case 'regex':
      return `expected a string matching ${String(requirement)}, ${received(input)}`;
    case 'starts_with':
      return `expected a string starting with ${quote(String(requirement))}, ${received(input)}`;
    case 'ends_with':
      return `expected a string ending with ${quote(String(requirement))}, ${received(input)}`;
    case 'includes':
      return `expected a string containing ${quote(String(requirement))}, ${received(input)}`;
    case 'to_lower_case':
    case 'to_upper_case':
    case 'check':
    case 'raw_check':
      return undefined;
    default:
      return `expected a valid ${issue.type.replaceAll('_', ' ')}, ${received(input)}`;
  }
}
