// The JSON Schema (draft 2020-12) of the whole configuration, generated from the valibot schema the
// validator uses (schema.ts), for editors: completion, hover text and checks of every key. What only
// code can give (functions, objects built in code, Buffers, Dates) is left out, so an editor flags it
// where the validator would refuse it too. Checks a JSON Schema cannot state (a service a route names
// exists, cycles between calls, a route that can never match) are the validator's alone.
import { fileJsonSchema } from '@gatehousejs/core';
import { keyDoc } from './descriptions.js';
import { gatehouseConfigSchema } from './schema.js';

/** Where the published schema lives; `$id` of {@link configJsonSchema}. */
export const GATEHOUSE_SCHEMA_ID = 'https://unpkg.com/@gatehousejs/gateway/gatehouse.schema.json';

type Json = Record<string, unknown>;

function build(): Json {
  const generated = fileJsonSchema(gatehouseConfigSchema);
  describe(generated, []);
  // Service names core reserves or refuses (the record's key schema checks them in a check).
  const services = (generated.properties as Json).services as Json;
  const names = services.propertyNames as Json;
  const reserved = { enum: ['local', '__proto__', 'constructor', 'prototype'] };
  services.propertyNames = {
    ...names,
    not: names.not === undefined ? reserved : { anyOf: [names.not, reserved] },
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
