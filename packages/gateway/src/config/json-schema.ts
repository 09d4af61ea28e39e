// The JSON Schema (draft 2020-12) of the whole configuration, generated from the zod schema the
// validator uses (schema.ts), for editors: completion, hover text and checks of every key. What only
// code can give (functions, objects built in code, Buffers, Dates) is left out, so an editor flags it
// where the validator would refuse it too. Checks a JSON Schema cannot state (a service a route names
// exists, cycles between calls, a route that can never match) are the validator's alone.
import { isCodeOnlyOption } from '@gatehousejs/core';
import { z } from 'zod';
import { keyDoc } from './descriptions.js';
import { gatehouseConfigSchema } from './schema.js';

/** Where the published schema lives; `$id` of {@link configJsonSchema}. */
export const GATEHOUSE_SCHEMA_ID = 'https://unpkg.com/@gatehousejs/gateway/gatehouse.schema.json';

const UNREPRESENTABLE = new Set(['custom', 'date', 'function', 'symbol', 'promise', 'map', 'set', 'bigint']);
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** Only code can give it: a function, an object built in code, a Buffer, a Date. */
function codeOnly(schema: z.core.$ZodType): boolean {
  if (isCodeOnlyOption(schema)) return true;
  let current = schema;
  for (let i = 0; i < 16; i++) {
    const def = current._zod.def as z.core.$ZodTypeDef & {
      innerType?: z.core.$ZodType;
      in?: z.core.$ZodType;
    };
    if (WRAPPERS.has(def.type) && def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) current = def.in;
    else return UNREPRESENTABLE.has(def.type);
  }
  return false;
}

type Json = Record<string, unknown>;

/** The formats of JSON Schema 2020-12 (editors and validators know them). */
const STANDARD_FORMATS = new Set([
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

function build(): Json {
  const generated = z.toJSONSchema(gatehouseConfigSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as z.core.$ZodTypeDef & {
        shape?: Record<string, z.core.$ZodType>;
        options?: readonly z.core.$ZodType[];
      };
      // zod names its string checks as formats (starts_with, …) beside the pattern that states them.
      if (typeof jsonSchema.format === 'string' && !STANDARD_FORMATS.has(jsonSchema.format))
        delete jsonSchema.format;
      if (def.type === 'object' && def.shape !== undefined) {
        const properties = jsonSchema.properties as Json | undefined;
        for (const [key, child] of Object.entries(def.shape)) {
          if (!codeOnly(child)) continue;
          delete properties?.[key];
          if (Array.isArray(jsonSchema.required))
            jsonSchema.required = jsonSchema.required.filter((k) => k !== key);
        }
      }
      if (def.type === 'union' && def.options !== undefined && Array.isArray(jsonSchema.anyOf)) {
        const kept = jsonSchema.anyOf.filter((_, i) => !codeOnly(def.options![i]!));
        if (kept.length === 1 && Object.keys(jsonSchema).length === 1) {
          delete jsonSchema.anyOf;
          Object.assign(jsonSchema, kept[0]);
        } else jsonSchema.anyOf = kept;
      }
    },
  }) as Json;
  describe(generated, []);
  // Service names core reserves or refuses (the record's key schema checks them in a refinement).
  const services = (generated.properties as Json).services as Json;
  services.propertyNames = {
    ...(services.propertyNames as Json),
    not: { enum: ['local', '__proto__', 'constructor', 'prototype'] },
  };
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: GATEHOUSE_SCHEMA_ID,
    title: 'Gatehouse configuration',
    description:
      'The whole configuration of a Gatehouse gateway (Express or Koa): services, routes and their migration, auth, rate limits, tracing, versioning, OpenAPI validation, compositions and caching, the admin. In YAML, reference this schema with `# yaml-language-server: $schema=<url or path>`.',
    ...rest,
  };
}

/** Defaults of descriptions.ts that contradict the one a package schema states (a test lists them). */
export const contradictedDefaults: string[] = [];

/**
 * Adds the hover text and the default of keys whose package schema states neither (descriptions.ts),
 * by path: `services.*` for any service, `routes[]` for any route. A default in words (what leaving
 * the key out means) is the reference's alone: JSON Schema's `default` is a value.
 */
function describe(node: unknown, path: readonly string[]): void {
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Json;
  const key = path.join('.');
  const found = path.length === 0 ? undefined : keyDoc(key);
  if (found !== undefined) {
    if (schema.description === undefined) schema.description = found.description;
    const given = found.default;
    if (given !== undefined && 'value' in given) {
      if (schema.default === undefined) schema.default = given.value;
      else if (JSON.stringify(schema.default) !== JSON.stringify(given.value))
        contradictedDefaults.push(
          `${key}: ${JSON.stringify(schema.default)} in the schema, ${JSON.stringify(given.value)} in descriptions.ts`,
        );
    }
  }
  const properties = schema.properties as Json | undefined;
  if (properties !== undefined)
    for (const [name, child] of Object.entries(properties)) describe(child, [...path, name]);
  if (typeof schema.additionalProperties === 'object') describe(schema.additionalProperties, [...path, '*']);
  if (typeof schema.items === 'object')
    describe(schema.items, [...path.slice(0, -1), `${path.at(-1) ?? ''}[]`]);
  for (const branch of (schema.anyOf as unknown[] | undefined) ?? []) describe(branch, path);
  for (const branch of (schema.oneOf as unknown[] | undefined) ?? []) describe(branch, path);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The JSON Schema of configuration files (draft 2020-12), frozen. */
export const configJsonSchema: Readonly<Json> = deepFreeze(build());

/** The schema as the committed file holds it (packages/gateway/gatehouse.schema.json). */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema, null, 2)}\n`;
}
