// A JSON Schema (draft 2020-12) for configuration files from an options schema, for editors:
// completion, hover text and checks of every key. Converted by @valibot/to-json-schema; what only
// code can give (functions, objects built in code, Buffers, Dates) is left out, so an editor flags it
// where the validator would refuse it too, and what JSON Schema cannot state (a check across options,
// a transformation) is the validator's alone: the schema is never stricter than the validator.
import { type ConversionConfig, type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { isCodeOnly, type OptionSchema } from './introspect.js';

/** Schemas of values only code can give. */
const UNREPRESENTABLE: ReadonlySet<string> = new Set([
  'custom',
  'instance',
  'date',
  'function',
  'symbol',
  'promise',
  'map',
  'set',
  'bigint',
  'blob',
  'file',
]);

/** What the converter sees of a schema: its kind, and what it wraps, pipes or unites. */
type Node = v.GenericSchema & {
  readonly wrapped?: Node;
  readonly pipe?: readonly [Node, ...unknown[]];
  readonly options?: readonly unknown[];
  readonly entries?: Readonly<Record<string, Node>>;
};

/** Only code can give it: a function, an object built in code, a Buffer, a Date (or a union of those). */
function codeOnly(schema: Node): boolean {
  let current = schema;
  for (let i = 0; i < 16; i++) {
    if (isCodeOnly(current)) return true;
    if (current.wrapped !== undefined) current = current.wrapped;
    else if (current.pipe !== undefined && current.pipe[0] !== current) current = current.pipe[0];
    else break;
  }
  if ((current.type === 'union' || current.type === 'variant') && Array.isArray(current.options))
    return current.options.length > 0 && (current.options as Node[]).every(codeOnly);
  return UNREPRESENTABLE.has(current.type);
}

type Json = Record<string, unknown>;

/** The formats of JSON Schema 2020-12 (editors and validators know them). */
const STANDARD_FORMATS: ReadonlySet<string> = new Set([
  'date-time',
  'date',
  'time',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'uuid',
  'regex',
]);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Actions that state a `pattern`, and the pattern each states. */
const PATTERNS: Readonly<Record<string, (requirement: unknown) => string>> = {
  regex: (re) => (re as RegExp).source,
  starts_with: (text) => `^${escapeRegExp(String(text))}`,
  ends_with: (text) => `${escapeRegExp(String(text))}$`,
  includes: (text) => escapeRegExp(String(text)),
};

/** Removes what a standard validator (and an editor) would not know: formats of its own. */
function standardFormats(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Json;
  if (typeof schema.format === 'string' && !STANDARD_FORMATS.has(schema.format)) delete schema.format;
  for (const key of ['items', 'additionalProperties', 'propertyNames', 'not']) standardFormats(schema[key]);
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems'])
    for (const child of (schema[key] as unknown[] | undefined) ?? []) standardFormats(child);
  for (const key of ['properties', '$defs'])
    for (const child of Object.values((schema[key] as Json | undefined) ?? {})) standardFormats(child);
}

/** What a caller adds to the conversion: an action of its own that JSON Schema can state. */
export interface FileJsonSchemaOptions {
  /** Returns the JSON Schema with what `action` states, or undefined to leave it as converted. */
  overrideAction?: (
    action: { type: string; requirement?: unknown },
    jsonSchema: JsonSchema,
  ) => JsonSchema | undefined;
}

/**
 * The JSON Schema (draft 2020-12) of what a configuration file may hold for `schema`: the input side
 * (before defaults and transformations), without the options only code can give ({@link isCodeOnlyOption}
 * in core's options), every check JSON Schema cannot state left to the validator.
 *
 * @example fileJsonSchema(rateLimitOptionsSchema).properties // limits, tiers, routes, … (no `store`)
 */
export function fileJsonSchema(schema: OptionSchema, options: FileJsonSchemaOptions = {}): Json {
  const config: ConversionConfig = {
    target: 'draft-2020-12',
    typeMode: 'input',
    errorMode: 'ignore',
    overrideSchema: ({ valibotSchema, jsonSchema }) => {
      const node = valibotSchema as Node;
      // Dropped by the object or union that holds it (below); {} elsewhere.
      if (UNREPRESENTABLE.has(node.type)) return {};
      if (node.entries !== undefined && jsonSchema.properties !== undefined) {
        for (const [key, child] of Object.entries(node.entries)) {
          if (!codeOnly(child)) continue;
          delete jsonSchema.properties[key];
          if (jsonSchema.required !== undefined)
            jsonSchema.required = jsonSchema.required.filter((k) => k !== key);
        }
      }
      if (jsonSchema.required?.length === 0) delete jsonSchema.required;
      const branches = jsonSchema.anyOf ?? jsonSchema.oneOf;
      if (Array.isArray(node.options) && branches !== undefined) {
        const nodeOptions = node.options as Node[];
        const keyword = jsonSchema.anyOf !== undefined ? 'anyOf' : 'oneOf';
        // A union in a union (`'ip' | { cookie } | { header }` written in two steps): one list.
        const kept = branches
          .filter((_, i) => !codeOnly(nodeOptions[i]!))
          .flatMap((b) =>
            typeof b === 'object' && Object.keys(b).length === 1 && b[keyword] !== undefined
              ? b[keyword]
              : [b],
          );
        if (kept.length === 0) return {};
        if (kept.length === 1 && Object.keys(jsonSchema).length === 1) return kept[0] as JsonSchema;
        // `string | number`: one list of types, as editors show it.
        const types = kept.map((b) =>
          typeof b === 'object' && Object.keys(b).length === 1 && typeof b.type === 'string'
            ? b.type
            : undefined,
        );
        if (Object.keys(jsonSchema).length === 1 && types.every((t) => t !== undefined))
          return { type: [...new Set(types)] };
        jsonSchema[keyword] = kept;
      }
      return undefined;
    },
    overrideAction: ({ valibotAction, jsonSchema }) => {
      const action = valibotAction as { type: string; requirement?: unknown };
      const own = options.overrideAction?.(action, jsonSchema);
      if (own !== undefined) return own;
      const pattern = PATTERNS[action.type];
      if (pattern === undefined) return undefined;
      const stated = pattern(action.requirement);
      const flags = action.requirement instanceof RegExp ? action.requirement.flags.replace('u', '') : '';
      // Flags JSON Schema has not (i, m, s): the pattern would refuse what the validator accepts.
      if (flags !== '') {
        if (jsonSchema.pattern === stated) delete jsonSchema.pattern;
        return { ...jsonSchema };
      }
      // A second pattern on one string: every one must match.
      if (jsonSchema.pattern !== undefined && jsonSchema.pattern !== stated)
        return { ...jsonSchema, allOf: [...(jsonSchema.allOf ?? []), { type: 'string', pattern: stated }] };
      return undefined;
    },
  };
  const generated = toJsonSchema(schema, config) as Json;
  standardFormats(generated);
  return generated;
}
