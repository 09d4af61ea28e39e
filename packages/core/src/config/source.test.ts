// readConfigText + parseOptions({ source }): any schema checked against a file, problems placed at
// their line and column (what @gatehousejs/gateway's whole-gateway configuration is built on).

import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { parseOptions } from '../options.js';
import { readConfigText } from './load.js';
import { ConfigError } from './validate.js';

const schema = v.strictObject({
  server: v.optional(
    v.strictObject({
      port: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(65_535)),
      host: v.optional(v.string()),
    }),
  ),
  mode: v.optional(v.picklist(['local', 'shadow', 'remote'])),
});

function problemsOf(text: string, file = 'gatehouse.yaml') {
  const read = readConfigText(text, file);
  try {
    parseOptions(schema, read.value, {
      name: '',
      source: { file, locate: read.locate, findings: read.findings },
    });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('a schema checked against configuration text', () => {
  test('every problem with its path, file, line and column, and file wording for unknown keys', () => {
    const text = ['server:', '  port: 99999', '  hots: a', 'mode: shadw', ''].join('\n');
    expect(problemsOf(text)).toEqual([
      {
        path: 'server.port',
        message: 'expected a number ≤ 65535, received the number 99999',
        source: { file: 'gatehouse.yaml', line: 2, column: 9 },
      },
      {
        path: 'server.hots',
        message: "unknown key — did you mean 'host'?",
        source: { file: 'gatehouse.yaml', line: 3, column: 3 },
      },
      {
        path: 'mode',
        message:
          "expected one of 'local', 'shadow' or 'remote', received the string 'shadw' — did you mean 'shadow'?",
        source: { file: 'gatehouse.yaml', line: 4, column: 7 },
      },
    ]);
  });

  test('duplicate keys found while reading are listed with the rest', () => {
    const problems = problemsOf('mode: local\nmode: remote\nserver: { port: 0 }\n');
    expect(problems.map((p) => [p.path, p.source?.line])).toEqual([
      ['mode', 2],
      ['server.port', 3],
    ]);
    expect(problems[0]!.message).toMatch(/^duplicate key \(first defined on line 1\)/);
  });

  test('a syntax error is fatal and has a position; JSON files are read as JSON', () => {
    const yaml = readConfigText('server: [1, 2\n', 'x.yaml');
    expect(yaml.fatal).toBe(true);
    expect(yaml.findings[0]!.position?.line).toBeGreaterThanOrEqual(1);
    const json = readConfigText('{ "mode": "local", }', 'x.json');
    expect(json.fatal).toBe(true);
    expect(json.findings[0]!.message).toMatch(/^syntax error/);
    expect(readConfigText('{ "mode": "local" }', 'x.json').value).toEqual({ mode: 'local' });
  });

  test('without a source, options keep their wording', () => {
    expect(() => parseOptions(schema, { mod: 'local' }, { name: 'x' })).toThrow(
      "x.mod: unknown option; did you mean 'mode'?",
    );
  });
});
