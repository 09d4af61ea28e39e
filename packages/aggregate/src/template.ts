// Upstream requests built from templates so that no inserted value can change their shape: a value
// becomes part of exactly one path segment, percent-encoded (so '/', '?', '#' and '%' are data), and a
// segment that would read as '.' or '..' is refused; query values are encoded by URLSearchParams (a
// '&' cannot add a parameter); header values with control characters are refused.
import { isSafeHeaderValue } from '@gatehousejs/core';
import { parsePointer, resolveTokens } from './pointer.js';

/** A reference inside a template: `{/params/id}`, `{/order/customerId}`, `{/item}`. */
const REFERENCE = /\{([^{}]*)\}/g;

/** One piece of a compiled template: literal text or a pointer into the context. */
type Part = string | { readonly pointer: string; readonly tokens: readonly string[] };

/** A template compiled once, at start. */
export interface Template {
  readonly source: string;
  readonly parts: readonly Part[];
  /** The first token of every reference: the sources (`params`, a call's name) it reads. */
  readonly sources: ReadonlySet<string>;
}

/** A value that cannot be placed in the request (why, and which reference). */
export class UnsafeValue extends Error {
  constructor(
    readonly pointer: string,
    reason: string,
  ) {
    super(`${pointer}: ${reason}`);
    this.name = 'UnsafeValue';
  }
}

/** Compiles `source`; throws TypeError on a malformed reference. */
export function compileTemplate(source: string): Template {
  const parts: Part[] = [];
  const sources = new Set<string>();
  let at = 0;
  for (const match of source.matchAll(REFERENCE)) {
    if (match.index > at) parts.push(source.slice(at, match.index));
    const pointer = match[1]!;
    const tokens = parsePointer(pointer);
    if (tokens.length === 0 || tokens[0] === '') throw new TypeError(`'{${pointer}}' names no source`);
    sources.add(tokens[0]!);
    parts.push({ pointer, tokens });
    at = match.index + match[0].length;
  }
  if (at < source.length) parts.push(source.slice(at));
  const rest = parts.filter((p): p is string => typeof p === 'string').join('');
  if (rest.includes('{') || rest.includes('}')) throw new TypeError(`unbalanced braces in '${source}'`);
  return { source, parts, sources };
}

/** A scalar as text; anything else (an object, null, absent) is refused. */
function scalar(value: unknown, pointer: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  throw new UnsafeValue(pointer, value === undefined ? 'is absent' : `is not a string, number or boolean`);
}

/**
 * The path of a compiled path template (no query: queries go in `query`). Each reference's value is
 * encoded as segment data; a segment holding a reference must not come out empty, '.' or '..'.
 */
export function renderPath(template: Template, context: unknown): string {
  let out = '';
  let segment = '';
  let dynamic = false;
  const close = () => {
    if (
      dynamic &&
      (segment === '' || segment === '.' || segment === '..' || /^(%2e|\.){1,2}$/i.test(segment))
    ) {
      throw new UnsafeValue(template.source, `would make the segment '${segment}'`);
    }
  };
  for (const part of template.parts) {
    if (typeof part === 'string') {
      for (const char of part) {
        if (char === '/') {
          close();
          out += `${segment}/`;
          segment = '';
          dynamic = false;
        } else segment += char;
      }
    } else {
      const value = scalar(resolveTokens(context, part.tokens), part.pointer);
      // encodeURIComponent leaves '.', '!', "'", '(', ')', '*', '~' alone: all harmless in a segment.
      segment += encodeURIComponent(value);
      dynamic = true;
    }
  }
  close();
  return out + segment;
}

/** A text value (a query parameter or a header) from a template. */
export function renderText(template: Template, context: unknown): string {
  let out = '';
  for (const part of template.parts) {
    out += typeof part === 'string' ? part : scalar(resolveTokens(context, part.tokens), part.pointer);
  }
  return out;
}

/** A header value from a template; refused when it would carry CR, LF or NUL. */
export function renderHeader(template: Template, context: unknown): string {
  const value = renderText(template, context);
  if (!isSafeHeaderValue(value)) throw new UnsafeValue(template.source, 'is not a safe header value');
  return value;
}
