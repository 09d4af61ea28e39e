// Options are checked when the factory runs: every problem in one ConfigError, with its path and a
// suggestion; defaults filled in otherwise.
import { ConfigError } from '@gatehousejs/core';
import { expect, test } from 'vitest';
import { resolveOptions } from './options.js';

const problems = (input: unknown): string[] => {
  try {
    resolveOptions(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('accepted');
};

test('defaults', () => {
  const o = resolveOptions({ document: 'openapi.yaml' });
  expect(o).toMatchObject({
    name: 'openapi',
    basePath: undefined,
    requests: {
      unknownPath: 'pass',
      unknownMethod: 'reject',
      unknownQuery: 'reject',
      maxBodyBytes: 1_048_576,
      maxParts: 100,
      maxErrors: 10,
    },
    responses: { mode: 'off', sampleRate: 1, maxBodyBytes: 1_048_576 },
    contractGuard: true,
    mock: 'off',
    reference: undefined,
  });
  expect(resolveOptions({ document: {}, reference: true, basePath: '/api/' }).reference).toEqual({
    path: '/reference',
    renderer: 'swagger-ui',
    title: undefined,
  });
  expect(resolveOptions({ document: {}, basePath: '/api/' }).basePath).toEqual(['/api']);
  expect(resolveOptions({ document: {}, requests: false }).requests).toBe(false);
});

test('every problem at once, with paths and suggestions', () => {
  const found = problems({
    documnet: 'x.yaml',
    requests: { unknownPath: 'drop', maxBodyBytes: -1, maxErors: 3 },
    responses: { mode: 'enforced', sampleRate: 2 },
    basePath: 'api',
    mock: true,
  });
  const text = found.join('\n');
  expect(found.length).toBeGreaterThanOrEqual(8);
  expect(text).toMatch(/^validate\.documnet: .*did you mean 'document'/m);
  expect(text).toMatch(/^validate\.document: /m);
  expect(text).toMatch(/^validate\.requests\.unknownPath: .*'pass'.*'reject'/m);
  expect(text).toMatch(/^validate\.requests\.maxBodyBytes: /m);
  expect(text).toMatch(/^validate\.requests\.maxErors: .*did you mean 'maxErrors'/m);
  expect(text).toMatch(/^validate\.responses\.mode: .*did you mean 'enforce'/m);
  expect(text).toMatch(/^validate\.responses\.sampleRate: /m);
  expect(text).toMatch(/^validate\.basePath: /m);
  expect(text).toMatch(/^validate\.mock: /m);
});

test('not an object at all', () => {
  expect(problems(undefined)[0]).toMatch(/^validate: /);
  expect(problems('openapi.yaml')[0]).toMatch(/^validate: /);
});
