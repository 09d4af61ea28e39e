// Configuration from YAML and JSON text: syntax errors and duplicate keys as problems with
// positions, and every validation problem mapped back to the line and column it came from.

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { quote, type ResolvedConfig } from './schema.js';
import { ConfigError, type Finding, type Locate, type Segment, validateConfig } from './validate.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Validates a configuration object (the object API) and returns it resolved: defaults filled in,
 * deeply frozen. Throws a {@link ConfigError} listing every problem. Pure; a config this function
 * returned is returned as is.
 *
 * @param origin - the file `input` was read from and its text, to add line:column to problems;
 *   input with an origin is treated as file content (no functions).
 */
export function resolveConfig(input: unknown, origin?: { file: string; text: string }): ResolvedConfig {
  if (origin === undefined) return validateConfig(input);
  const parsed = parseYaml(stripBom(origin.text));
  return validateConfig(input, {
    file: origin.file,
    locate: parsed.errors.length === 0 ? parsed.locate : undefined,
  });
}

/**
 * Parses and validates configuration text: JSON when `file` ends in `.json`, YAML otherwise.
 * `file` names the source in problems. Throws a {@link ConfigError} listing every problem.
 */
export function parseConfigText(text: string, file: string): ResolvedConfig {
  const body = stripBom(text);
  const source = extname(file).toLowerCase() === '.json' ? readJson(body) : readYaml(body);
  if (source.fatal) {
    throw new ConfigError(
      source.findings.map((f) => ({
        path: '',
        message: f.message,
        ...(f.position === undefined ? {} : { source: { file, ...f.position } }),
      })),
    );
  }
  return validateConfig(source.value, { file, locate: source.locate, findings: source.findings });
}

/** Configuration text read into a value, before any validation. */
export interface ConfigSourceText {
  /** The parsed value (`{}` for an empty YAML document); undefined when `fatal`. */
  value: unknown;
  /** Problems found while reading (syntax errors, duplicate keys), with their positions. */
  findings: Finding[];
  /** The value cannot be trusted (a syntax error): validate nothing, report `findings`. */
  fatal: boolean;
  /** Maps a path in `value` to its line and column in the text. */
  locate?: Locate;
}

/**
 * Reads YAML or JSON configuration text (JSON when `file` ends in `.json`) without validating it,
 * for a configuration that is checked against another schema than core's (the whole gateway's, in
 * `@gatehousejs/gateway`): syntax errors and duplicate keys are `findings` with positions, and
 * `locate` places any later problem.
 */
export function readConfigText(text: string, file: string): ConfigSourceText {
  const body = stripBom(text);
  return extname(file).toLowerCase() === '.json' ? readJson(body) : readYaml(body);
}

/** Reads a `.yaml`, `.yml` or `.json` configuration file and validates it (see {@link parseConfigText}). */
export async function loadConfigFile(file: string): Promise<ResolvedConfig> {
  const extension = extname(file).toLowerCase();
  if (!EXTENSIONS.includes(extension)) {
    throw new ConfigError([
      {
        path: '',
        message: `cannot read ${quote(file)}: configuration files end in .yaml, .yml or .json`,
      },
    ]);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([{ path: '', message: `cannot read ${quote(file)}: ${reason}` }], { cause: error });
  }
  return parseConfigText(text, file);
}

// ---------------------------------------------------------------------------------------------

interface Source {
  value: unknown;
  /** Problems found while reading; `fatal` when the value cannot be trusted (syntax errors). */
  findings: Finding[];
  fatal: boolean;
  locate?: Locate;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

interface ParsedYaml {
  doc: Document.Parsed;
  lineCounter: LineCounter;
  errors: Finding[];
  locate: Locate;
}

function parseYaml(body: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by walkKeys below, which knows their path.
  const doc = parseDocument(body, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const at = (offset: number) => position(lineCounter, offset);
  const errors = doc.errors.map((error) => ({
    path: [],
    message: `syntax error: ${firstLine(error.message)}`,
    position: at(error.pos[0]),
  }));
  return { doc, lineCounter, errors, locate: locator(doc, at) };
}

function readYaml(body: string): Source {
  const { doc, errors, locate, lineCounter } = parseYaml(body);
  if (errors.length > 0) return { value: undefined, findings: errors, fatal: true };
  const findings: Finding[] = doc.warnings.map((warning) => ({
    path: [],
    message: firstLine(warning.message),
    position: position(lineCounter, warning.pos[0]),
  }));
  walkKeys(doc, doc.contents, [], { findings, lineCounter });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { value: undefined, findings: [{ path: [], message: firstLine(String(error)) }], fatal: true };
  }
  // An empty file (or one with only comments) is the empty configuration.
  return { value: value ?? {}, findings, fatal: false, locate };
}

function readJson(body: string): Source {
  const { doc, errors, locate, lineCounter } = parseYaml(body);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const message = String((error as Error).message);
    const offset = /position (\d+)/.exec(message)?.[1];
    let where: { line: number; column: number } | undefined;
    let reason = message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/^Unexpected end of JSON input$/, 'unexpected end of input');
    if (offset !== undefined) {
      where = position(lineCounter, Number(offset));
    } else if (/end of JSON input/.test(message)) {
      where = position(lineCounter, body.length);
    } else if (errors[0]?.position !== undefined) {
      where = errors[0].position;
    } else {
      // V8 gives no position for some tokens; find the first bare word JSON does not allow.
      const bad = firstNonJsonScalar(doc, body);
      if (bad !== undefined) {
        where = position(lineCounter, bad.offset);
        reason = `${quote(bad.text)} is not a JSON value`;
      }
    }
    reason = reason.replace(
      /^Unexpected token '(.*)', ".*" is not valid JSON$/s,
      (_, token: string) => `unexpected ${quote(token)}`,
    );
    return {
      value: undefined,
      findings: [
        { path: [], message: `syntax error: ${reason}`, ...(where === undefined ? {} : { position: where }) },
      ],
      fatal: true,
    };
  }
  const findings: Finding[] = [];
  // Valid JSON is valid YAML 1.2; should the YAML parser still disagree, go without positions.
  if (errors.length > 0) return { value, findings, fatal: false };
  walkKeys(doc, doc.contents, [], { findings, lineCounter });
  return { value, findings, fatal: false, locate };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function position(lineCounter: LineCounter, offset: number) {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** Duplicate and non-string keys, with their paths. */
function walkKeys(
  doc: Document.Parsed,
  node: unknown,
  path: readonly Segment[],
  ctx: { findings: Finding[]; lineCounter: LineCounter },
) {
  if (isMap(node)) {
    const firstAt = new Map<string, number>();
    for (const pair of node.items) {
      const key = pair.key;
      const keyOffset = (key as Node | null)?.range?.[0];
      const where = keyOffset === undefined ? undefined : position(ctx.lineCounter, keyOffset);
      if (!isScalar(key) || (typeof key.value === 'object' && key.value !== null)) {
        ctx.findings.push({
          path,
          message: 'keys must be strings',
          ...(where === undefined ? {} : { position: where }),
        });
        continue;
      }
      const name = String(key.value);
      const first = firstAt.get(name);
      if (first !== undefined) {
        ctx.findings.push({
          path: [...path, name],
          message: `duplicate key (first defined on line ${position(ctx.lineCounter, first).line})`,
          ...(where === undefined ? {} : { position: where }),
        });
      } else if (keyOffset !== undefined) {
        firstAt.set(name, keyOffset);
      }
      walkKeys(doc, pair.value, [...path, name], ctx);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      walkKeys(doc, item, [...path, i], ctx);
    });
  }
}

const JSON_PLAIN = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

/** Where JSON.parse gave no position: the first bare word JSON does not allow (`tru`, `'a'`, `key:`). */
function firstNonJsonScalar(
  doc: Document.Parsed,
  body: string,
): { offset: number; text: string } | undefined {
  let found: { offset: number; text: string } | undefined;
  const visit = (node: unknown) => {
    if (found !== undefined) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        visit(pair.key);
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    } else if (isScalar(node) && node.range !== undefined && node.range !== null) {
      const [start, end] = node.range;
      const text = body.slice(start, end);
      if (node.type !== 'QUOTE_DOUBLE' && !JSON_PLAIN.test(text)) found = { offset: start, text };
    }
  };
  visit(doc.contents);
  return found;
}

/** Looks paths up in the YAML document; a path that does not exist maps to its deepest existing part. */
function locator(doc: Document.Parsed, at: (offset: number) => { line: number; column: number }): Locate {
  return (path, target) => {
    let node: unknown = doc.contents;
    let found: Node | null = doc.contents;
    for (const [i, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.findLast((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair === undefined) break;
        const value = pair.value as Node | null;
        const empty =
          value === null ||
          (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1]);
        if ((i === path.length - 1 && target === 'key') || empty) {
          found = pair.key as Node;
          break;
        }
        node = value;
        found = value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (item === undefined) break;
        node = item;
        found = item;
      } else {
        break;
      }
    }
    const offset = found?.range?.[0];
    return offset === undefined ? undefined : at(offset);
  };
}
