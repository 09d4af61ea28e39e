// The options schemas every package exports are the definitions a configuration-wide JSON Schema can
// be generated from (issue 19): each converts, and what only code can give (functions, objects built in
// code) is marked so a generator leaves it out of configuration files.
import * as auth from '@gatehousejs/auth';
import * as client from '@gatehousejs/client';
import { fileJsonSchema, type OptionSchema, requestIdOptionsSchema } from '@gatehousejs/core';
import * as discovery from '@gatehousejs/discovery';
import * as rateLimit from '@gatehousejs/rate-limit';
import * as routes from '@gatehousejs/routes';
import * as tracing from '@gatehousejs/tracing';
import { describe, expect, test } from 'vitest';

/** Every export named `…Schema` of a package (a valibot schema: an object with `~run`). */
const schemasOf = (module: Record<string, unknown>) =>
  Object.entries(module).filter(
    ([name, value]) =>
      name.endsWith('Schema') && typeof value === 'object' && value !== null && '~run' in value,
  ) as [string, OptionSchema][];

/** JSON Schema for configuration files: code-only options dropped (core's fileJsonSchema). */
const fileSchema = (schema: OptionSchema): Record<string, unknown> => fileJsonSchema(schema);

const packages = { auth, client, discovery, rateLimit, routes, tracing } as const;

describe('every exported options schema converts to a JSON Schema', () => {
  for (const [pkg, module] of Object.entries(packages)) {
    test(pkg, () => {
      const schemas = schemasOf(module as Record<string, unknown>);
      expect(schemas.length, `${pkg} exports options schemas`).toBeGreaterThan(0);
      for (const [name, schema] of schemas) {
        const json = fileSchema(schema);
        expect(json.$schema, name).toBe('https://json-schema.org/draft/2020-12/schema');
      }
    });
  }

  test('unknown keys are refused by the JSON Schema too, and code-only options are left out', () => {
    const json = fileSchema(rateLimit.rateLimitOptionsSchema);
    expect(json.additionalProperties).toBe(false);
    const properties = json.properties as Record<string, unknown>;
    expect(Object.keys(properties)).toEqual(
      expect.arrayContaining(['limits', 'tiers', 'routes', 'headers', 'failure', 'concurrency', 'shed']),
    );
    for (const codeOnly of ['tier', 'store', 'meterProvider'])
      expect(properties).not.toHaveProperty(codeOnly);
    expect(fileSchema(requestIdOptionsSchema).properties).not.toHaveProperty('generate');
    const route = fileSchema(routes.routeSpecSchema);
    expect((route.properties as Record<string, { enum?: string[] }>).mode?.enum).toEqual([
      'local',
      'shadow',
      'split',
      'fallback',
      'remote',
    ]);
  });
});
