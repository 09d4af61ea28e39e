// Loading documents: RealWorld's 3.1 YAML, a 3.0 document split across YAML and JSON files, GitHub's
// published 3.0 document (13 MB, 1,000+ operations, from the @octokit/openapi package), and broken
// documents whose every problem must be listed at its JSON pointer.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@gatehousejs/core';
import { describe, expect, test } from 'vitest';
import { compileDocument } from './compile.js';
import { loadDocument } from './document.js';
import { OperationRouter } from './router.js';
import { serverPaths } from './validator.js';

const CONDUIT = fileURLToPath(
  new URL('../../../examples/realworld-core/conduit/openapi.yml', import.meta.url),
);
const SPLIT = fileURLToPath(new URL('../test-fixtures/split/openapi.yaml', import.meta.url));
const BROKEN = fileURLToPath(new URL('../test-fixtures/broken.yaml', import.meta.url));
const GITHUB = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');

const POLICY = { caseSensitive: false, encodedSlashes: 'reject' } as const;

async function problemsOf(input: Parameters<typeof loadDocument>[0]): Promise<string[]> {
  try {
    await loadDocument(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('the document loaded');
}

describe('RealWorld Conduit (OpenAPI 3.1, YAML)', () => {
  test('loads, compiles every operation, and mounts under the servers path', async () => {
    const loaded = await loadDocument(CONDUIT);
    expect(loaded.version).toBe('3.1');
    const compiled = compileDocument(loaded);
    expect(compiled.problems).toEqual([]);
    expect(compiled.operations.map((o) => o.operationId).sort()).toContain('CreateArticle');
    expect(compiled.operations).toHaveLength(19);
    expect(serverPaths(loaded.document)).toEqual(['/api']);
    const router = new OperationRouter(compiled.paths, ['/api'], POLICY);
    const match = router.match('/api/articles/how-to-train/comments/3');
    expect(match?.entry.template).toBe('/articles/{slug}/comments/{id}');
    expect(match?.params).toEqual({ p0: 'how-to-train', p1: '3' });
    expect(router.match('/articles/how-to-train')).toBeUndefined();
    // Bodies validate through the document's $refs (NewUserRequest → NewUser).
    const create = compiled.operations.find((o) => o.operationId === 'CreateUser')!;
    const json = create.body!.media.find((m) => m.range === 'application/json')!;
    expect(json.validate!({ user: { username: 'u', email: 'u@example.com', password: 'p' } })).toBe(true);
    expect(json.validate!({ user: { username: 'u' } })).toBe(false);
    expect(json.validate!.errors?.[0]).toMatchObject({ instancePath: '/user', keyword: 'required' });
  });
});

describe('a document split across files (OpenAPI 3.0)', () => {
  test('$refs to YAML and JSON files are bundled; 3.0 semantics hold', async () => {
    const loaded = await loadDocument(SPLIT);
    expect(loaded.version).toBe('3.0');
    expect(serverPaths(loaded.document)).toEqual(['/v2']);
    const compiled = compileDocument(loaded);
    expect(compiled.problems).toEqual([]);
    const create = compiled.operations.find((o) => o.operationId === 'createPet')!;
    const body = create.body!.media[0]!.validate!;
    // draft-04 exclusiveMinimum (boolean) and nullable, through a file reference.
    expect(body({ name: 'rex', weight: 0 })).toBe(false);
    expect(body.errors?.[0]).toMatchObject({ instancePath: '/weight', keyword: 'exclusiveMinimum' });
    expect(body({ name: 'rex', weight: 0.1, tag: null })).toBe(true);
    // Recursive schema across the file boundary.
    expect(body({ name: 'a', children: [{ name: 'b', children: [{ name: '' }] }] })).toBe(false);
    expect(body.errors?.[0]?.instancePath).toBe('/children/0/children/0/name');
    // The path parameter came from parameters.json, as an int32.
    const get = compiled.operations.find((o) => o.operationId === 'getPet')!;
    const path = get.groups.find((g) => g.location === 'path')!.validate!;
    expect(path({ petId: '12' })).toBe(true);
    expect(path({ petId: '99999999999' })).toBe(false);
  });

  test('readOnly is not required in requests, writeOnly not in responses', async () => {
    const compiled = compileDocument(await loadDocument(SPLIT));
    const get = compiled.operations.find((o) => o.operationId === 'getPet')!;
    const response = get.responses.get('200')!.media[0]!.validate!;
    // The Pet response requires id (readOnly); NewPet's writeOnly secret is never required anyway.
    expect(response({ name: 'rex' })).toBe(false);
    expect(response({ name: 'rex', id: 1 })).toBe(true);
    const create = compiled.operations.find((o) => o.operationId === 'createPet')!;
    const created = create.responses.get('201')!;
    expect(created.headers?.specs.map((s) => s.name)).toEqual(['Location']);
  });
});

describe('a broken document', () => {
  test('every problem is listed, each at its JSON pointer', async () => {
    const problems = await problemsOf(BROKEN);
    const at = (fragment: string) => problems.filter((p) => p.includes(fragment));
    expect(at('#/paths/~1missing/get/responses/200/content/application~1json/schema')).toHaveLength(1);
    expect(at('unresolvable $ref')).toHaveLength(1);
    expect(at("#/paths/~1users~1{id}/get/parameters/0: must have required property 'in'")).toHaveLength(1);
    expect(at("#/paths/~1users~1{id}/put/operationId: operationId 'getUser' is also used at")).toHaveLength(
      1,
    );
    expect(
      at("#/paths/~1users~1{id}/put/parameters/1: path parameter 'other' is not in the path"),
    ).toHaveLength(1);
    for (const p of problems) expect(p).toMatch(/^\S+broken\.yaml #\//);
  });

  test('not OpenAPI 3.x', async () => {
    expect(await problemsOf({ swagger: '2.0', info: {}, paths: {} })).toEqual([
      'object #/openapi: must be an OpenAPI 3.0.x or 3.1.x version string, got null',
    ]);
  });

  test('a path parameter not declared, and two paths that are one', async () => {
    const problems = await problemsOf({
      openapi: '3.0.3',
      info: { title: 't', version: '1' },
      paths: {
        '/a/{x}': { get: { responses: { 200: { description: 'ok' } } } },
        '/b/{x}': {
          get: {
            parameters: [{ name: 'x', in: 'path', required: true, schema: {} }],
            responses: { 200: { description: 'ok' } },
          },
        },
        '/b/{y}': {
          get: {
            parameters: [{ name: 'y', in: 'path', required: true }],
            responses: { 200: { description: 'ok' } },
          },
        },
        '/c/{': { get: { responses: { 200: { description: 'ok' } } } },
      },
    });
    expect(problems).toEqual([
      "object #/paths/~1b~1{y}/get/parameters/0: must have required property 'schema' or 'content'",
      "object #/paths/~1a~1{x}/get: path parameter 'x' of '/a/{x}' is not declared in parameters",
      "object #/paths/~1b~1{y}: equivalent to '/b/{x}' (paths that differ only in parameter names are the same path), and both have get",
      'object #/paths/~1c~1{: malformed path template (unbalanced or empty {})',
    ]);
  });

  test('a schema ajv cannot compile is a problem at its pointer', async () => {
    const loaded = await loadDocument({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/x': {
          post: {
            requestBody: { content: { 'application/json': { schema: { type: 'strin' } } } },
            responses: { 200: { description: 'ok' } },
          },
        },
      },
    });
    const compiled = compileDocument(loaded);
    expect(compiled.problems).toHaveLength(1);
    expect(compiled.problems[0]!.pointer).toBe(
      '#/paths/~1x/post/requestBody/content/application~1json/schema',
    );
  });

  test('a file that does not parse says where', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = `${mkdtempSync(`${tmpdir()}/oas-`)}/bad.yaml`;
    writeFileSync(file, 'openapi: 3.0.0\ninfo: [\n');
    const problems = await problemsOf(file);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/not YAML or JSON: .*line 3/);
  });
});

describe("GitHub's REST API description (@octokit/openapi)", () => {
  test('13 MB, 1,000+ operations: loads, compiles, and routes every documented path', async () => {
    const loaded = await loadDocument(GITHUB);
    const compiled = compileDocument(loaded);
    expect(compiled.problems).toEqual([]);
    expect(compiled.operations.length).toBeGreaterThan(1000);
    const router = new OperationRouter(compiled.paths, [''], POLICY);
    expect(router.problems).toEqual([]);
    // Every template routes to itself (parameters filled with a sample value).
    for (const entry of compiled.paths) {
      const path = entry.template.replace(/\{[^}]+\}/g, 'x1');
      expect(router.match(path)?.entry.template, path).toBe(entry.template);
    }
    const list = router.match('/repos/octo/hello/issues')!.entry.operations.get('GET')!;
    const query = list.groups.find((g) => g.location === 'query')!.validate!;
    expect(query({ per_page: '30', state: 'open' })).toBe(true);
    expect(query({ per_page: 'many' })).toBe(false);
    expect(query({ state: 'sideways' })).toBe(false);
    // GitHub's twin templates (/orgs/{org}/attestations/{subject_digest} and …/{attestation_id})
    // share one router entry, each method with its own parameter names.
    const twin = router.match('/orgs/acme/attestations/sha256:abc')!.entry;
    expect([...twin.operations.values()].map((o) => o.template).sort()).toEqual([
      '/orgs/{org}/attestations/{attestation_id}',
      '/orgs/{org}/attestations/{subject_digest}',
    ]);
  }, 120_000);
});
