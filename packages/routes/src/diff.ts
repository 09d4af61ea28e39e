// Shadow diffing: compares the local handler's response with the remote service's, as Twitter's Diffy
// does, and learns from pairs of local samples which fields are noise (timestamps, generated ids) so
// that only real behaviour changes are reported. Runs on every shadowed request, so it is written to
// be cheap (byte-equal bodies are never parsed; paths are built only for recorded differences) and
// bounded (counters, stored records, recursion depth and value previews all have caps).
import { parseOptions } from '@gatehousejs/core';
import { parse as parseMediaType } from 'content-type';
import { diffOptionsSchema } from './options.js';

/** One response as captured for comparison. `body` undefined = no body; `truncated` = capture hit the cap. */
export interface ResponseSample {
  status: number;
  /** Response headers; names are expected in lower case but matched case-insensitively. */
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer | undefined;
  truncated?: boolean;
}

/** Options of {@link createDiffer}. */
export interface DiffOptions {
  /**
   * Response headers compared, by meaning (names matched case-insensitively): media types by type,
   * subtype and parameters (`application/json; charset=utf-8` equals `application/json`), lists such
   * as `Cache-Control` and `Allow` as sets. The default is what a client acts on: how to read the body,
   * where a redirect goes, how to cache, how to authenticate, which methods are allowed, the language,
   * and whether to download ({@link DEFAULT_DIFF_HEADERS}); framework noise (`Date`, `ETag`,
   * `X-Powered-By`, `Content-Length`, `Vary` from a compression middleware) is left out.
   * @default DEFAULT_DIFF_HEADERS
   */
  headers?: readonly string[];
  /**
   * Field paths never compared: JSON-pointer-like strings with '*' for any one key or index, and header
   * paths. A path covers its descendants. Keys containing '~' or '/' are escaped as in RFC 6901.
   * @example ['/meta/requestId', '/items/*\/updatedAt', 'header:etag']
   */
  ignore?: readonly string[];
  /**
   * Field paths whose values are replaced by '[redacted]' in stored differences (they are still
   * compared). Headers authorization, cookie, set-cookie and proxy-authorization are always redacted.
   * @example ['/user/token', 'header:x-api-key']
   */
  redact?: readonly string[];
  /**
   * Query parameters whose values stored differences show; the others keep their name with the value
   * `[redacted]` (a query often carries search terms, emails, tokens). `'*'` shows every value.
   * @default []
   */
  revealQuery?: readonly string[];
  /** Latest differing comparisons kept for inspection (at most 10,000). @default 50 */
  keep?: number;
  /** A field becomes noise after it differed in this many local/local sample pairs. @default 1 */
  noiseThreshold?: number;
  /** Max differences recorded per comparison; the rest are only counted (at most 1,000). @default 20 */
  maxDifferencesPerResponse?: number;
}

/** One difference between two responses. */
export interface Difference {
  /** 'status', 'header:<name>', or a body field path like '/items/0/id' (concrete indices) or '' for the whole body */
  path: string;
  /** The path with array indices replaced by '*', used for counting and noise: '/items/*\/id'. */
  field: string;
  kind: 'status' | 'header' | 'value' | 'type' | 'missing' | 'extra' | 'body';
  /** The local value: redacted where asked, long strings shortened to 200 chars, large values abridged. */
  local?: unknown;
  /** The remote value, shortened like `local`. */
  remote?: unknown;
}

/** The outcome of one {@link Differ.compare}. */
export interface Comparison {
  /** True when no difference was found (false when `skipped`: nothing was proved equal). */
  equal: boolean;
  /** The first `maxDifferencesPerResponse` differences. */
  differences: Difference[];
  /** Differences found beyond `maxDifferencesPerResponse`, counted but not recorded. */
  omitted: number;
  /** Differences not reported because their field is learned noise. */
  ignoredNoise: number;
  /** Why the comparison was not made, e.g. 'body too large'. */
  skipped?: string;
}

/** A differing comparison, as kept for inspection. */
export interface DiffRecord {
  /** ISO time of the comparison. */
  at: string;
  method: string;
  path: string;
  /**
   * The request's query string as received (without `?`), values redacted except the parameters
   * `revealQuery` names: `tag=dragons&email=[redacted]`. Left out when the request had none.
   */
  query?: string;
  requestId?: string;
  differences: Difference[];
  /** Differences found beyond those recorded. */
  omitted: number;
}

/** Counters since creation or the last {@link Differ.resetStats}. */
export interface DiffStats {
  compared: number;
  equal: number;
  different: number;
  skipped: number;
  /** different / compared, 0 when none */
  rate: number;
  /** per field: how many comparisons differed on it (at most 1,000 fields, the rest under '(other)') */
  fields: Record<string, number>;
  /** learned noise fields (those at or above the threshold) and how many local pairs they differed in */
  noise: Record<string, number>;
  /** How many local pairs were learned from. */
  noiseSamples: number;
  /**
   * Of those pairs, how many still differed once the noise learned before them was ignored: the noise
   * baseline (how often two answers of the application itself differ as compared), which gated
   * promotion compares the shadow diff rate with.
   */
  noiseDifferent: number;
}

/** Compares local and remote responses of shadowed requests, and keeps the evidence. */
export interface Differ {
  /** Compare and record (stats + latest store when different). `request` describes the request for the store. */
  compare(
    local: ResponseSample,
    remote: ResponseSample,
    request: { method: string; path: string; query?: string; requestId?: string },
  ): Comparison;
  /** Learn noise from two local samples of the same request. */
  learn(a: ResponseSample, b: ResponseSample): void;
  stats(): DiffStats;
  /** Newest first, bounded by `keep`. */
  latest(): readonly DiffRecord[];
  /** Clears stats and store, keeps learned noise (used when a route's mode changes). */
  resetStats(): void;
}

/**
 * Response headers compared when a route names none: the ones a client acts on. `Content-Length`,
 * `Date`, `ETag`, `Vary`, `X-Powered-By` and `Connection` differ between frameworks for the same
 * answer (or are checked by the body comparison), so they would only ever report false differences.
 */
export const DEFAULT_DIFF_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'location',
  'cache-control',
  'www-authenticate',
  'allow',
  'content-language',
  'content-disposition',
]);
/** Headers whose value is a comma-separated list whose order and case carry no meaning. */
const SET_HEADERS = new Set(['cache-control', 'allow', 'content-language', 'vary', 'accept-ranges']);
const ALWAYS_REDACTED: readonly string[] = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'];
/** Distinct fields counted, per comparison and in the long-lived counters. */
const MAX_FIELDS = 1_000;
const MAX_DEPTH = 64;
const MAX_STRING = 200;
/** Preview limits: a stored value is a sample for a human, not a copy of the response. */
const PREVIEW_DEPTH = 4;
const PREVIEW_ENTRIES = 20;
const PREVIEW_NODES = 100;
const OTHER = '(other)';
const REDACTED = '[redacted]';

/**
 * A trie of path segments. In pattern tries (ignore, redact) `star` matches any one segment; in the
 * noise trie fields are stored as they are, array indices as the literal segment '*'.
 */
interface TrieNode {
  end: boolean;
  kids: Map<string, TrieNode> | undefined;
  star: TrieNode | undefined;
}
type States = readonly TrieNode[];
const NONE: States = Object.freeze([]);

function trieNode(): TrieNode {
  return { end: false, kids: undefined, star: undefined };
}

function unescapeSegment(segment: string): string {
  return segment.includes('~') ? segment.replaceAll('~1', '/').replaceAll('~0', '~') : segment;
}

function escapeSegment(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key;
}

/** '' → [], '/a/b' → ['a', 'b'] (unescaped). */
function segmentsOf(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map(unescapeSegment);
}

function insert(root: TrieNode, segments: readonly string[], starIsWildcard: boolean): void {
  let node = root;
  for (const segment of segments) {
    if (starIsWildcard && segment === '*') {
      node.star ??= trieNode();
      node = node.star;
      continue;
    }
    node.kids ??= new Map();
    let next = node.kids.get(segment);
    if (next === undefined) {
      next = trieNode();
      node.kids.set(segment, next);
    }
    node = next;
  }
  node.end = true;
}

/** The pattern-trie states after one more segment (a key, or an index as a decimal string). */
function stepPattern(states: States, segment: string): States {
  if (states.length === 0) return NONE;
  const out: TrieNode[] = [];
  for (const state of states) {
    const kid = state.kids?.get(segment);
    if (kid !== undefined) out.push(kid);
    if (state.star !== undefined) out.push(state.star);
  }
  return out.length === 0 ? NONE : out;
}

/** The pattern-trie states shared by every index of an array, or undefined when a pattern names an index. */
function stepAnyIndex(states: States): States | undefined {
  if (states.length === 0) return NONE;
  const out: TrieNode[] = [];
  for (const state of states) {
    if (state.kids !== undefined && state.kids.size > 0) return undefined;
    if (state.star !== undefined) out.push(state.star);
  }
  return out.length === 0 ? NONE : out;
}

/** The noise-trie states after one more field segment; null (covered by noise) when one ends there. */
function stepField(states: States, segment: string): States | null {
  if (states.length === 0) return NONE;
  const out: TrieNode[] = [];
  for (const state of states) {
    const kid = state.kids?.get(segment);
    if (kid === undefined) continue;
    if (kid.end) return null;
    out.push(kid);
  }
  return out.length === 0 ? NONE : out;
}

function anyEnd(states: States): boolean {
  for (const state of states) if (state.end) return true;
  return false;
}

/** Header names a set of 'header:' paths selects; 'header:*' selects all. */
interface HeaderRule {
  all: boolean;
  names: Set<string>;
}

function headerRule(names: Iterable<string>): HeaderRule {
  const rule: HeaderRule = { all: false, names: new Set() };
  for (const name of names) {
    if (name === '*') rule.all = true;
    else rule.names.add(name.toLowerCase());
  }
  return rule;
}

function selects(rule: HeaderRule, name: string): boolean {
  return rule.all || rule.names.has(name);
}

interface Compiled {
  headers: readonly string[];
  ignore: TrieNode | undefined;
  ignoreHeaders: HeaderRule;
  redact: TrieNode | undefined;
  redactHeaders: HeaderRule;
  keep: number;
  noiseThreshold: number;
  maxDifferences: number;
  /** Query parameters shown with their values; `true`: all of them. */
  revealQuery: ReadonlySet<string> | true;
}

function compile(options: DiffOptions): Compiled {
  const split = (paths: readonly string[] | undefined) => {
    let body: TrieNode | undefined;
    const headers: string[] = [];
    for (const path of paths ?? []) {
      if (path.startsWith('header:')) headers.push(path.slice('header:'.length));
      else {
        body ??= trieNode();
        insert(body, segmentsOf(path), true);
      }
    }
    return { body, headers };
  };
  const ignore = split(options.ignore);
  const redact = split(options.redact);
  return {
    headers: [...new Set((options.headers ?? DEFAULT_DIFF_HEADERS).map((name) => name.toLowerCase()))],
    ignore: ignore.body,
    ignoreHeaders: headerRule(ignore.headers),
    redact: redact.body,
    redactHeaders: headerRule([...ALWAYS_REDACTED, ...redact.headers]),
    revealQuery: options.revealQuery?.includes('*') ? true : new Set(options.revealQuery ?? []),
    keep: options.keep ?? 50,
    noiseThreshold: options.noiseThreshold ?? 1,
    maxDifferences: options.maxDifferencesPerResponse ?? 20,
  };
}

/** Adds one to `key`, or to '(other)' once `max` distinct keys are counted: memory stays bounded. */
function bump(counts: Map<string, number>, key: string, max: number): string {
  const current = counts.get(key);
  if (current === undefined && counts.size >= max) key = OTHER;
  const next = (counts.get(key) ?? 0) + 1;
  counts.set(key, next);
  return key;
}

/** Learned noise: per-field counters, and a trie of the body fields at or above the threshold. */
class Noise {
  readonly counts = new Map<string, number>();
  readonly trie = trieNode();
  fields = 0;
  samples = 0;
  /** Pairs that differed on a field not (yet) learned as noise. */
  different = 0;
  readonly #threshold: number;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  add(field: string): void {
    const key = bump(this.counts, field, MAX_FIELDS);
    if (key === OTHER || this.counts.get(key) !== this.#threshold) return;
    this.fields++;
    if (key.startsWith('/') || key === '') insert(this.trie, segmentsOf(key), false);
  }

  /** For 'status' and 'header:…' fields. */
  has(field: string): boolean {
    return field !== OTHER && (this.counts.get(field) ?? 0) >= this.#threshold;
  }

  learned(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [field, count] of this.counts) if (this.has(field)) out[field] = count;
    return out;
  }
}

interface Side {
  status: unknown;
  headers: Record<string, unknown>;
  body: Buffer;
  truncated: boolean;
}

/** Tolerates whatever a caller hands over: comparing must never throw. */
function side(sample: unknown): Side {
  const s = (typeof sample === 'object' && sample !== null ? sample : {}) as Partial<Record<string, unknown>>;
  const headers = typeof s.headers === 'object' && s.headers !== null ? s.headers : {};
  const raw = s.body;
  const body = Buffer.isBuffer(raw)
    ? raw
    : raw instanceof Uint8Array
      ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
      : typeof raw === 'string'
        ? Buffer.from(raw)
        : Buffer.alloc(0);
  return {
    status: s.status,
    headers: headers as Record<string, unknown>,
    body,
    truncated: s.truncated === true,
  };
}

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  let value = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.length === name.length && key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String).join(', ');
  return String(value).trim();
}

/**
 * A media type as a client reads it: type, subtype and parameter names in lower case, parameters in
 * order of name with quotes removed, and a `charset` in lower case; JSON's `charset` left out, because
 * JSON is UTF-8 by definition (RFC 8259 §8.1: the parameter has no meaning for `application/json`).
 * Anything that does not parse is compared as it is.
 */
export function canonicalMediaType(value: string): string {
  let parsed: ReturnType<typeof parseMediaType>;
  try {
    parsed = parseMediaType(value);
  } catch {
    return value.trim();
  }
  const type = parsed.type;
  const json = type === 'application/json' || type.endsWith('+json');
  let out = type;
  for (const name of Object.keys(parsed.parameters).sort()) {
    let param = parsed.parameters[name]!;
    if (name === 'charset') {
      param = param.toLowerCase();
      if (json && param === 'utf-8') continue;
    }
    out += `;${name}=${param}`;
  }
  return out;
}

/** A header value as compared: media types by meaning, lists as sets, other values trimmed. */
function headerMeaning(name: string, value: string): string {
  if (name === 'content-type') return canonicalMediaType(value);
  if (SET_HEADERS.has(name)) {
    const items = new Set<string>();
    for (const item of value.split(',')) {
      const trimmed = item
        .trim()
        .replace(/\s*=\s*/, '=')
        .toLowerCase();
      if (trimmed !== '') items.add(trimmed);
    }
    return [...items].sort().join(', ');
  }
  return value.replace(/\s+/g, ' ');
}

function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.endsWith('+json') && type.includes('/'));
}

const UNPARSED = Symbol('unparsed');

function parseJson(body: Buffer): unknown {
  try {
    let text = body.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return JSON.parse(text) as unknown;
  } catch {
    return UNPARSED;
  }
}

type JsonType = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'other';

function typeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'object' || type === 'string' || type === 'number' || type === 'boolean' ? type : 'other';
}

/**
 * Structural equality without recursion, for subtrees deeper than MAX_DEPTH: key order is
 * irrelevant as above, and no nesting depth can overflow the stack.
 */
function deepEqual(a: unknown, b: unknown): boolean {
  const stack: unknown[] = [a, b];
  while (stack.length > 0) {
    const y = stack.pop();
    const x = stack.pop();
    if (x === y) continue;
    const type = typeOf(x);
    if (type !== typeOf(y)) return false;
    if (type === 'array') {
      const xs = x as unknown[];
      const ys = y as unknown[];
      if (xs.length !== ys.length) return false;
      for (let i = 0; i < xs.length; i++) stack.push(xs[i], ys[i]);
    } else if (type === 'object') {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      const keys = Object.keys(xo);
      if (keys.length !== Object.keys(yo).length) return false;
      for (const key of keys) {
        if (!Object.hasOwn(yo, key)) return false;
        stack.push(xo[key], yo[key]);
      }
    } else return false;
  }
  return true;
}

/** Shortens to MAX_STRING characters without splitting a surrogate pair. */
function shorten(text: string, max = MAX_STRING): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * A bounded, redacted copy of a value for a stored difference. Objects are built without a prototype
 * so that a '__proto__' key stays an ordinary key.
 */
class Preview {
  #nodes = PREVIEW_NODES;

  value(value: unknown, states: States, depth: number): unknown {
    if (anyEnd(states)) return REDACTED;
    if (typeof value === 'string') return shorten(value);
    if (typeof value !== 'object' || value === null) return value;
    const array = Array.isArray(value);
    const size = array ? value.length : Object.keys(value).length;
    if (depth >= PREVIEW_DEPTH || this.#nodes <= 0) return array ? `[array(${size})]` : `[object(${size})]`;
    if (array) {
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        if (i >= PREVIEW_ENTRIES || this.#nodes-- <= 0) {
          out.push(`… ${value.length - i} more`);
          break;
        }
        out.push(this.value(value[i], stepPattern(states, String(i)), depth + 1));
      }
      return out;
    }
    const out = Object.create(null) as Record<string, unknown>;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (i >= PREVIEW_ENTRIES || this.#nodes-- <= 0) {
        out['…'] = `${keys.length - i} more`;
        break;
      }
      out[key] = this.value(record[key], stepPattern(states, key), depth + 1);
    }
    return out;
  }
}

/** Where the walk stands in the body: the field so far, and the ignore and noise matches there. */
interface Frame {
  field: string;
  ignore: States;
  /** null: this subtree is learned noise, differences in it are only counted. */
  noise: States | null;
  depth: number;
}

type Kind = Difference['kind'];
const ABSENT = Symbol('absent');
/** A difference's two values (ABSENT where a side has none), or how to get them when needed. */
type Values = readonly [unknown, unknown] | (() => readonly [unknown, unknown]);

/**
 * One comparison of two samples. With `limit` 0 it only collects the differing fields (learning);
 * without `noise` nothing is suppressed.
 */
class Walk {
  readonly differences: Difference[] = [];
  readonly fields = new Set<string>();
  count = 0;
  omitted = 0;
  ignoredNoise = 0;
  readonly #options: Compiled;
  readonly #noise: Noise | undefined;
  readonly #limit: number;
  readonly #segments: Array<string | number> = [];

  constructor(options: Compiled, noise: Noise | undefined, limit: number) {
    this.#options = options;
    this.#noise = noise;
    this.#limit = limit;
  }

  status(a: Side, b: Side): void {
    if (a.status === b.status) return;
    if (this.#noise?.has('status')) this.ignoredNoise++;
    else this.#add({ path: 'status', field: 'status', kind: 'status', local: a.status, remote: b.status });
  }

  headers(a: Side, b: Side): void {
    const options = this.#options;
    for (const name of options.headers) {
      if (selects(options.ignoreHeaders, name)) continue;
      const x = headerValue(a.headers, name);
      const y = headerValue(b.headers, name);
      if (x === y) continue;
      if (x !== undefined && y !== undefined && headerMeaning(name, x) === headerMeaning(name, y)) continue;
      const field = `header:${name}`;
      if (this.#noise?.has(field)) {
        this.ignoredNoise++;
        continue;
      }
      const redact = selects(options.redactHeaders, name);
      const difference: Difference = { path: field, field, kind: 'header' };
      if (x !== undefined) difference.local = redact ? REDACTED : shorten(x);
      if (y !== undefined) difference.remote = redact ? REDACTED : shorten(y);
      this.#add(difference);
    }
  }

  body(a: Side, b: Side): void {
    if (a.body.equals(b.body)) return;
    const noise = this.#noise;
    const root: Frame = {
      field: '',
      ignore: this.#options.ignore === undefined ? NONE : [this.#options.ignore],
      noise: noise === undefined || noise.fields === 0 ? NONE : noise.trie.end ? null : [noise.trie],
      depth: 0,
    };
    if (anyEnd(root.ignore)) return;
    const x = isJsonType(headerValue(a.headers, 'content-type')) ? parseJson(a.body) : UNPARSED;
    const y =
      x !== UNPARSED && isJsonType(headerValue(b.headers, 'content-type')) ? parseJson(b.body) : UNPARSED;
    if (x !== UNPARSED && y !== UNPARSED) this.#node(x, y, root);
    else this.#report(root, 'body', () => [bodyValue(a.body, x), bodyValue(b.body, y)]);
  }

  #node(a: unknown, b: unknown, f: Frame): void {
    if (a === b) return;
    const type = typeOf(a);
    if (type !== typeOf(b)) this.#report(f, 'type', [a, b]);
    else if (type === 'array' || type === 'object') {
      if (f.depth >= MAX_DEPTH) {
        if (!deepEqual(a, b)) this.#report(f, 'value', [a, b]);
      } else if (type === 'array') this.#array(a as unknown[], b as unknown[], f);
      else this.#object(a as Record<string, unknown>, b as Record<string, unknown>, f);
    } else this.#report(f, 'value', [a, b]);
  }

  #array(a: unknown[], b: unknown[], f: Frame): void {
    const field = `${f.field}/*`;
    const noise = f.noise === null ? null : stepField(f.noise, '*');
    const shared = stepAnyIndex(f.ignore);
    // One frame serves every index unless an ignore pattern names a specific index.
    const common: Frame | undefined =
      shared === undefined ? undefined : { field, ignore: shared, noise, depth: f.depth + 1 };
    if (common !== undefined && anyEnd(common.ignore)) return;
    const segments = this.#segments;
    const length = Math.max(a.length, b.length);
    for (let i = 0; i < length; i++) {
      const x = i < a.length ? a[i] : ABSENT;
      const y = i < b.length ? b[i] : ABSENT;
      if (x === y) continue;
      let frame = common;
      if (frame === undefined) {
        const ignore = stepPattern(f.ignore, String(i));
        if (anyEnd(ignore)) continue;
        frame = { field, ignore, noise, depth: f.depth + 1 };
      }
      segments.push(i);
      if (x === ABSENT) this.#report(frame, 'extra', [ABSENT, y]);
      else if (y === ABSENT) this.#report(frame, 'missing', [x, ABSENT]);
      else this.#node(x, y, frame);
      segments.pop();
    }
  }

  #object(a: Record<string, unknown>, b: Record<string, unknown>, f: Frame): void {
    for (const key of Object.keys(a)) {
      const inB = Object.hasOwn(b, key);
      if (inB && a[key] === b[key]) continue;
      this.#key(key, f, inB ? [a[key], b[key]] : [a[key], ABSENT]);
    }
    for (const key of Object.keys(b)) {
      if (!Object.hasOwn(a, key)) this.#key(key, f, [ABSENT, b[key]]);
    }
  }

  #key(key: string, f: Frame, values: readonly [unknown, unknown]): void {
    const ignore = stepPattern(f.ignore, key);
    if (anyEnd(ignore)) return;
    const frame: Frame = {
      field: `${f.field}/${escapeSegment(key)}`,
      ignore,
      noise: f.noise === null ? null : stepField(f.noise, key),
      depth: f.depth + 1,
    };
    this.#segments.push(key);
    const [x, y] = values;
    if (x === ABSENT) this.#report(frame, 'extra', values);
    else if (y === ABSENT) this.#report(frame, 'missing', values);
    else this.#node(x, y, frame);
    this.#segments.pop();
  }

  /** Records a body difference at the current path; values may be ABSENT. */
  #report(f: Frame, kind: Kind, values: Values): void {
    if (f.noise === null) {
      this.ignoredNoise++;
      return;
    }
    if (this.count >= this.#limit) {
      this.count++;
      this.omitted++;
      this.#field(f.field);
      return;
    }
    const segments = this.#segments;
    let path = '';
    let redact: States = this.#options.redact === undefined ? NONE : [this.#options.redact];
    for (const segment of segments) {
      const text = String(segment);
      path += `/${typeof segment === 'number' ? text : escapeSegment(text)}`;
      // Once a pattern has matched, everything below it stays redacted.
      if (!anyEnd(redact)) redact = stepPattern(redact, text);
    }
    const difference: Difference = { path, field: f.field, kind };
    const [x, y] = typeof values === 'function' ? values() : values;
    if (x !== ABSENT) difference.local = new Preview().value(x, redact, 0);
    if (y !== ABSENT) difference.remote = new Preview().value(y, redact, 0);
    this.#add(difference);
  }

  #add(difference: Difference): void {
    this.#field(difference.field);
    if (this.count++ < this.#limit) this.differences.push(difference);
    else this.omitted++;
  }

  #field(field: string): void {
    if (this.fields.has(field)) return;
    this.fields.add(this.fields.size < MAX_FIELDS ? field : OTHER);
  }
}

/**
 * A query string as a stored difference shows it: every parameter's name, and its value only when
 * `reveal` names it. Names and values stay as the client encoded them.
 */
function redactQuery(query: string, reveal: ReadonlySet<string> | true): string {
  if (reveal === true) return query;
  let out = '';
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const raw = eq === -1 ? part : part.slice(0, eq);
    let name = raw;
    try {
      name = decodeURIComponent(raw.replaceAll('+', ' '));
    } catch {
      // kept as received
    }
    out += `${out === '' ? '' : '&'}${raw}${eq === -1 ? '' : `=${reveal.has(name) ? part.slice(eq + 1) : REDACTED}`}`;
  }
  return out;
}

/**
 * What a 'body' difference shows of one side: the parsed JSON, so that configured redaction applies,
 * else the start of the text. A side is parsed here even when its content-type is not JSON: a
 * mislabelled JSON body must not carry a redacted field into the store.
 */
function bodyValue(body: Buffer, parsed: unknown): unknown {
  if (body.length === 0) return '';
  const value = parsed === UNPARSED ? parseJson(body) : parsed;
  if (value !== UNPARSED) return value;
  const head = body.subarray(0, MAX_STRING * 4).toString('utf8');
  return body.length > MAX_STRING * 4 ? `${head}…` : head;
}

/**
 * Creates a {@link Differ}: compares local and remote responses of shadowed requests, learns noise
 * from pairs of local responses, and keeps stats and the latest differences.
 *
 * @throws ConfigError listing every problem in the options (checked against `diffOptionsSchema`)
 * @example
 * const differ = createDiffer({ ignore: ['/meta/requestId'], redact: ['/user/email'] });
 * const result = differ.compare(localSample, remoteSample, { method: 'GET', path: '/orders/1' });
 */
export function createDiffer(options: DiffOptions = {}): Differ {
  parseOptions(diffOptionsSchema, options, { name: 'diff' });
  const config = compile(options);
  const noise = new Noise(config.noiseThreshold);
  let counts = { compared: 0, equal: 0, different: 0, skipped: 0 };
  let fields = new Map<string, number>();
  let store: DiffRecord[] = [];
  let next = 0;

  /** Learning: every differing field, noise or not; `'baseline'`: only whether a non-noise field differs. */
  const run = (a: Side, b: Side, learning: boolean | 'baseline'): { walk: Walk; skipped?: string } => {
    const walk = new Walk(
      config,
      learning === true ? undefined : noise,
      learning === false ? config.maxDifferences : 0,
    );
    walk.status(a, b);
    walk.headers(a, b);
    if (!a.truncated && !b.truncated) walk.body(a, b);
    // A difference already found is evidence enough; otherwise an unread body proves nothing.
    else if (walk.count === 0) return { walk, skipped: 'body too large' };
    return { walk };
  };

  const keepRecord = (record: DiffRecord): void => {
    if (config.keep === 0) return;
    if (store.length < config.keep) store.push(record);
    else store[next] = record;
    next = (next + 1) % config.keep;
  };

  return {
    compare(local, remote, request) {
      let outcome: { walk: Walk; skipped?: string };
      try {
        outcome = run(side(local), side(remote), false);
      } catch {
        // Not expected; a gateway must not fail a request because evidence could not be gathered.
        counts.skipped++;
        return { equal: false, differences: [], omitted: 0, ignoredNoise: 0, skipped: 'comparison failed' };
      }
      const { walk, skipped } = outcome;
      if (skipped !== undefined) {
        counts.skipped++;
        return { equal: false, differences: [], omitted: 0, ignoredNoise: walk.ignoredNoise, skipped };
      }
      counts.compared++;
      const differences = Object.freeze(walk.differences) as Difference[];
      const result: Comparison = {
        equal: walk.count === 0,
        differences,
        omitted: walk.omitted,
        ignoredNoise: walk.ignoredNoise,
      };
      if (result.equal) {
        counts.equal++;
        return result;
      }
      counts.different++;
      for (const field of walk.fields) bump(fields, field, MAX_FIELDS);
      const req = (typeof request === 'object' && request !== null ? request : {}) as Partial<
        Record<string, unknown>
      >;
      const record: DiffRecord = {
        at: new Date().toISOString(),
        method: shorten(String(req.method ?? ''), 20),
        path: shorten(String(req.path ?? ''), 2_000),
        differences,
        omitted: walk.omitted,
      };
      if (typeof req.query === 'string' && req.query !== '')
        record.query = shorten(redactQuery(req.query, config.revealQuery), 2_000);
      if (typeof req.requestId === 'string') record.requestId = shorten(req.requestId);
      keepRecord(Object.freeze(record));
      return result;
    },

    learn(a, b) {
      let walk: Walk;
      let residual: { walk: Walk; skipped?: string };
      try {
        const x = side(a);
        const y = side(b);
        // Compared as a shadow answer would be, before this pair teaches anything: the baseline.
        residual = run(x, y, 'baseline');
        walk = run(x, y, true).walk;
      } catch {
        return;
      }
      noise.samples++;
      if (residual.skipped === undefined && residual.walk.count > 0) noise.different++;
      for (const field of walk.fields) noise.add(field);
    },

    stats() {
      return {
        ...counts,
        rate: counts.compared === 0 ? 0 : counts.different / counts.compared,
        fields: Object.fromEntries(fields),
        noise: noise.learned(),
        noiseSamples: noise.samples,
        noiseDifferent: noise.different,
      };
    },

    latest() {
      const out: DiffRecord[] = [];
      for (let i = 1; i <= store.length; i++) out.push(store[(next - i + store.length) % store.length]!);
      return out;
    },

    resetStats() {
      counts = { compared: 0, equal: 0, different: 0, skipped: 0 };
      fields = new Map();
      store = [];
      next = 0;
    },
  };
}
