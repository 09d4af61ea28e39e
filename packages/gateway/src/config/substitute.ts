// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} references are what this file is about
// `${NAME}` and `${file:/run/secrets/x}` in configuration values. Substitution happens in the parsed
// values, never in the text: a value can hold anything (a newline, `: `, `#`) without changing the
// document's structure, and every line:column stays where the file has it. What was substituted is
// remembered, so that problems and the admin's /config show the reference, never the value.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigFinding, ConfigPathSegment } from '@gatehousejs/core';
import { isPlainObject } from './code-values.js';

/** Where references are looked up. */
export interface SubstituteOptions {
  /** Environment variables. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Relative `${file:…}` paths are read from here (the configuration file's directory). */
  baseDir: string;
}

/** One substituted value. */
export interface Substitution {
  /** The value as written: `'${DB_URL}'`, `'redis://${REDIS_HOST}:6379'`. */
  readonly written: string;
  /** The value after substitution. */
  readonly value: string;
  /** It read a file (`${file:…}`): a secret, by definition. */
  readonly secret: boolean;
  /** The whole value was one reference: its text may stand for a number or true/false. */
  readonly whole: boolean;
}

/** The result: the value with references replaced, and what was replaced where. */
export interface Substituted {
  readonly value: unknown;
  /** By path (`JSON.stringify(segments)`). */
  readonly substitutions: ReadonlyMap<string, Substitution>;
  /** Unset variables and unreadable files, at their values' paths. */
  readonly findings: readonly ConfigFinding[];
  /** The files `${file:…}` references named (absolute), read or not: a file source follows them. */
  readonly files: readonly string[];
}

// `$${` is a literal `${`. A name is a shell-style identifier; `:-` gives a default.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A secret file larger than this is not a secret but a mistake (a directory of certificates?). */
const MAX_SECRET_BYTES = 65_536;

/** `${…}` references in `value` (strings at any depth), replaced. Never throws. */
export function substitute(value: unknown, options: SubstituteOptions): Substituted {
  const env = options.env ?? process.env;
  const substitutions = new Map<string, Substitution>();
  const findings: ConfigFinding[] = [];
  const files = new Set<string>();
  // Only what a file can hold is visited (strings, arrays, plain objects), and a container is copied
  // only when something in it was replaced: what code gives (a logger, a KeyObject, a store, a
  // function) is passed on as it is, the same object, never a copy of its own properties.
  const visit = (node: unknown, path: ConfigPathSegment[], depth: number): unknown => {
    if (depth > 64) return node;
    if (typeof node === 'string') return replaceIn(node, path);
    if (Array.isArray(node)) {
      let out: unknown[] | undefined;
      node.forEach((item, i) => {
        const next = visit(item, [...path, i], depth + 1);
        if (next === item) return;
        out ??= [...node];
        out[i] = next;
      });
      return out ?? node;
    }
    if (isPlainObject(node)) {
      let out: Record<string, unknown> | undefined;
      for (const [key, child] of Object.entries(node)) {
        const next = visit(child, [...path, key], depth + 1);
        if (next === child) continue;
        out ??= { ...node };
        out[key] = next;
      }
      return out ?? node;
    }
    return node;
  };
  const replaceIn = (text: string, path: ConfigPathSegment[]): string => {
    if (!text.includes('${')) return text;
    let secret = false;
    let count = 0;
    let failed = false;
    const result = text.replace(REFERENCE, (match, body: string | undefined) => {
      if (match === '$${') return '${';
      count++;
      const reference = body ?? '';
      if (reference.startsWith('file:')) {
        secret = true;
        const named = reference.slice('file:'.length).trim();
        if (named !== '') files.add(isAbsolute(named) ? named : resolve(options.baseDir, named));
        const read = readSecret(named, options.baseDir);
        if (typeof read === 'string') return read;
        failed = true;
        findings.push({ path, message: read.problem });
        return '';
      }
      const dash = reference.indexOf(':-');
      const name = dash === -1 ? reference : reference.slice(0, dash);
      if (!NAME.test(name)) {
        failed = true;
        findings.push({
          path,
          message: `'\${${reference}}' is not a reference: write \${NAME}, \${NAME:-default} or \${file:/path} ($\${ for a literal \${)`,
        });
        return '';
      }
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (dash !== -1) return reference.slice(dash + 2);
      failed = true;
      findings.push({
        path,
        message: `the environment variable ${name} is not set (give it a value, or a default: \${${name}:-value})`,
      });
      return '';
    });
    if (count > 0 && !failed) {
      const whole = /^\$\{[^}]*\}$/.test(text);
      substitutions.set(JSON.stringify(path), { written: text, value: result, secret, whole });
    } else if (count === 0 && result !== text) {
      // Only `$${` escapes: not a substitution, but the value is what the escapes spell.
      return result;
    }
    return result;
  };
  const result = visit(value, [], 0);
  return { value: result, substitutions, findings, files: [...files] };
}

function readSecret(given: string, baseDir: string): string | { problem: string } {
  const path = given.trim();
  if (path === '') return { problem: "'${file:}' names no file: write ${file:/run/secrets/name}" };
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_SECRET_BYTES)
      return { problem: `the secret file '${path}' is larger than ${MAX_SECRET_BYTES} bytes` };
    // One trailing newline is how editors and `echo` end a file; it is never part of the secret.
    return bytes.toString('utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { problem: `cannot read the secret file '${path}' (${code})` };
  }
}

/**
 * A reference's text read as the number or boolean it spells (`${PORT}` → 8080), for a key that does
 * not take a string; undefined when it spells neither.
 */
export function literalOf(text: string): number | boolean | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) return Number(text);
  return undefined;
}
