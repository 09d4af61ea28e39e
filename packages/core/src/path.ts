// Request-path normalization: the one canonical form that routing and authorization both look at, so
// no spelling of a path (`%2e`, `//`, `;x`, `\`) can reach a route that a rule written for it misses.
// target.ts makes the framework's router dispatch on that same form.
import { PathEncodedSlash, PathInvalid, PathInvalidEncoding, PathNulByte, PathParams } from './errors.js';

/** How {@link normalizePath} treats the ambiguous parts of a request path, and how matchers compare. */
export interface PathPolicy {
  /**
   * `%2F`, `%5C` and a raw `\` in a path: `'reject'` answers 400 `GH_PATH_ENCODED_SLASH`; `'decode'`
   * turns each into a `/` separator; `'keep'` leaves them encoded (uppercase, `%2F` / `%5C`) inside the
   * segment, and then also keeps `%25` encoded so that every `%` in the result starts one of those three.
   *
   * @default 'reject'
   */
  encodedSlashes: 'reject' | 'decode' | 'keep';
  /**
   * Collapse `//` into `/`. Merging happens before dot-segment removal, so `/a//../b` is `/b`.
   *
   * @default true
   */
  mergeSlashes: boolean;
  /**
   * `'strip'`: `/a/` becomes `/a` (the root stays `/`); `'keep'`: a trailing slash is significant.
   *
   * @default 'strip'
   */
  trailingSlash: 'strip' | 'keep';
  /**
   * `;params` in a segment (`/admin;x=1/users`): `'strip'` removes them (`/admin/users`), before
   * dot-segment removal so `/a/..;x/b` is `/b`; `'reject'` answers 400 `GH_PATH_PARAMS`; `'keep'`
   * leaves them in the segment. Only a literal `;` starts parameters; `%3B` decodes to data. A segment
   * that would still read `.;…` or `..;…` (kept parameters, `%3B`) is ambiguous and answers 400
   * `GH_PATH_PARAMS` in every mode, so `;` can never hide a `..`.
   *
   * @default 'strip'
   */
  pathParams: 'strip' | 'reject' | 'keep';
  /**
   * Whether matchers compare case-sensitively. {@link normalizePath} always preserves case.
   * Insensitive comparison folds ASCII letters only, exactly as Express and `@koa/router` do: they
   * match the percent-encoded target, where every other letter is `%XX`. Keep it equal to your
   * router's setting (Express `caseSensitive`, `@koa/router` `sensitive`).
   *
   * @default false
   */
  caseSensitive: boolean;
  /**
   * A request whose path is not in canonical form (`/a/../b`, `/%61dmin`, `//a`, `/a;p`, lower-case
   * hex; see `canonicalPath`): `'rewrite'` sets `req.url` to the canonical form before the
   * framework's router sees it, so the router dispatches on exactly the path Gatehouse decided on;
   * `'reject'` answers 400 `GH_PATH_NOT_CANONICAL`. Where the router has already matched (Gatehouse
   * first runs inside a mounted router or a route), such a request is refused in both modes.
   *
   * @default 'rewrite'
   */
  nonCanonical: 'rewrite' | 'reject';
}

/** The policy used when none is given: the strictest spelling rules, case-insensitive matching. */
export const DEFAULT_PATH_POLICY: Readonly<PathPolicy> = Object.freeze({
  encodedSlashes: 'reject',
  mergeSlashes: true,
  trailingSlash: 'strip',
  pathParams: 'strip',
  caseSensitive: false,
  nonCanonical: 'rewrite',
});

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const PERCENT = 0x25;

/**
 * Characters that need no decoding, play no part in normalization and stay as they are in the
 * canonical form: RFC 3986 unreserved and sub-delims, ':' and '@', except ';' (path parameters) and
 * "'" (Node's legacy URL parser, which Express and Koa fall back to for some targets, escapes it).
 * A path made only of these, with no empty or dot segment and no trailing slash, is already
 * canonical under every policy.
 */
/** @internal */
export const PLAIN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*+,=:@') {
  PLAIN[c.charCodeAt(0)] = 1;
}

/** @internal {@link classifyPath}: not made only of plain segments. */
export const NOT_PLAIN = 0;
/** @internal {@link classifyPath}: canonical as it is. */
export const PLAIN_PATH = 1;
/** @internal {@link classifyPath}: canonical but for one trailing slash. */
export const PLAIN_WITH_TRAILING_SLASH = 2;

/** @internal Classifies a path in one scan of its char codes, without allocating. */
export function classifyPath(path: string): number {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== SLASH) return NOT_PLAIN;
  let segStart = 1;
  for (let i = 1; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === SLASH) {
      const len = i - segStart;
      if (len === 0 || (len <= 2 && path.charCodeAt(segStart) === DOT && path.charCodeAt(i - 1) === DOT)) {
        return NOT_PLAIN;
      }
      segStart = i + 1;
    } else if (c > 0x7f || PLAIN[c] === 0) {
      return NOT_PLAIN;
    }
  }
  const len = n - segStart;
  if (len === 0) return n === 1 ? PLAIN_PATH : PLAIN_WITH_TRAILING_SLASH;
  if (len <= 2 && path.charCodeAt(segStart) === DOT && path.charCodeAt(n - 1) === DOT) return NOT_PLAIN;
  return PLAIN_PATH;
}

/**
 * Normalizes the path part of a request target (the caller splits off the query at the first `?`).
 *
 * Returns the canonical, percent-decoded (UTF-8) path with case preserved: dot segments removed (`..`
 * stops at the root), and encoded slashes, `//`, `;params` and a trailing slash handled per `policy`.
 * Order: split on literal `/`, handle `;params`, decode (so `%2e%2E` is `..`), merge slashes, remove dot
 * segments, then the trailing slash. A path that is already canonical is returned as the same string.
 *
 * @param policy - defaults to {@link DEFAULT_PATH_POLICY}
 * @throws `GH_PATH_INVALID` (not starting with `/`, e.g. `*` or `http://h/x`; control characters),
 *   `GH_PATH_INVALID_ENCODING`, `GH_PATH_NUL_BYTE`, `GH_PATH_ENCODED_SLASH`, `GH_PATH_PARAMS`; all 400.
 * @example
 *   normalizePath('/api/%2E%2e/admin;x=1/'); // '/admin'
 */
export function normalizePath(rawPath: string, policy: PathPolicy = DEFAULT_PATH_POLICY): string {
  const kind = classifyPath(rawPath);
  if (kind === PLAIN_PATH) return rawPath;
  if (kind === PLAIN_WITH_TRAILING_SLASH && policy.trailingSlash === 'strip') return rawPath.slice(0, -1);
  if (rawPath.charCodeAt(0) !== SLASH) throw new PathInvalid("request path must start with '/'");

  return new PathReader(rawPath, policy).read();
}

// '..;x' is '..' to servers that strip parameters and a name to those that do not; with parameters
// kept (or written as %3B) no single reading is safe, so it is refused.
function checkDotParams(segment: string): string {
  if (
    segment.charCodeAt(0) === DOT &&
    (segment.charCodeAt(1) === 0x3b || (segment.charCodeAt(1) === DOT && segment.charCodeAt(2) === 0x3b))
  ) {
    throw new PathParams('dot segment with parameters');
  }
  return segment;
}

// The only characters outside ASCII that Unicode simple case folding turns into ASCII letters: U+017F
// (long s → s) and U+212A (Kelvin sign → k). Gatehouse and the frameworks' routers fold ASCII only,
// but a service behind a proxied route (Java's equalsIgnoreCase, a .NET router) may fold them, and
// read '/ſecret' as '/secret' where no rule for '/secret' applied. No real path needs them.
const LONG_S = 0x17f;
const KELVIN = 0x212a;

function refuseFolding(cp: number, offset: number): never {
  throw new PathInvalid(`U+${cp.toString(16).toUpperCase()} (case-folds to ASCII) at offset ${offset}`);
}

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -1;
}

function decodedAscii(b: number, offset: number, policy: PathPolicy): string {
  if (b === 0) throw new PathNulByte(`%00 at offset ${offset}`);
  if (b < 0x20 || b === 0x7f) throw new PathInvalid(`encoded control character at offset ${offset}`);
  if (b === SLASH || b === BACKSLASH) {
    if (policy.encodedSlashes === 'reject') {
      throw new PathEncodedSlash(`encoded ${b === SLASH ? 'slash' : 'backslash'} at offset ${offset}`);
    }
    if (policy.encodedSlashes === 'keep') return b === SLASH ? '%2F' : '%5C';
    return '/';
  }
  if (b === PERCENT && policy.encodedSlashes === 'keep') return '%25';
  return String.fromCharCode(b);
}

/** The slow path: one instance per path that is not already canonical. */
class PathReader {
  readonly #raw: string;
  readonly #policy: PathPolicy;
  readonly #segments: string[] = [];
  /** Where the UTF-8 sequence last decoded by {@link PathReader.#utf8} ends. */
  #after = 0;

  constructor(raw: string, policy: PathPolicy) {
    this.#raw = raw;
    this.#policy = policy;
  }

  read(): string {
    const raw = this.#raw;
    const splitOnBackslash = this.#policy.encodedSlashes === 'decode';
    let start = 1;
    let semi = -1;
    for (let i = 1; i <= raw.length; i++) {
      const c = i === raw.length ? SLASH : raw.charCodeAt(i);
      if (c === SLASH || (c === BACKSLASH && splitOnBackslash)) {
        this.#addSegment(start, i, semi);
        start = i + 1;
        semi = -1;
      } else if (c === 0x3b && semi === -1) {
        // Remembered here rather than searched for later, which would rescan the rest per segment.
        semi = i;
      }
    }
    return this.#removeDotSegments();
  }

  /** Adds the segment `raw[start, end)`, whose first literal ';' is at `semi` (-1: none). */
  #addSegment(start: number, end: number, semi: number): void {
    const policy = this.#policy;
    let decoded: string;
    if (semi === -1) {
      decoded = this.#decode(start, end);
    } else if (policy.pathParams === 'reject') {
      throw new PathParams(`';' at offset ${semi}`);
    } else {
      decoded = this.#decode(start, policy.pathParams === 'strip' ? semi : end);
    }
    if (policy.encodedSlashes === 'decode' && decoded.includes('/')) {
      for (const part of decoded.split('/')) this.#segments.push(checkDotParams(part));
    } else {
      this.#segments.push(checkDotParams(decoded));
    }
  }

  #removeDotSegments(): string {
    const segments = this.#segments;
    const merge = this.#policy.mergeSlashes;
    const out: string[] = [];
    const last = segments.length - 1;
    for (let i = 0; i <= last; i++) {
      const seg = segments[i]!;
      if (seg === '.' || seg === '..') {
        if (seg === '..') out.pop();
        // RFC 3986 §5.2.4: a final dot segment leaves the path ending in '/'.
        if (i === last) out.push('');
      } else if (seg === '' && merge) {
        if (i === last) out.push('');
      } else {
        out.push(seg);
      }
    }
    if (this.#policy.trailingSlash === 'strip' && out.length > 1 && out[out.length - 1] === '') out.pop();
    return `/${out.join('/')}`;
  }

  /** The octet percent-encoded at `i` (which must hold '%' and lie before `end`), or -1. */
  #octetAt(i: number, end: number): number {
    const raw = this.#raw;
    if (i + 3 > end || raw.charCodeAt(i) !== PERCENT) return -1;
    const hi = hex(raw.charCodeAt(i + 1));
    const lo = hex(raw.charCodeAt(i + 2));
    return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
  }

  #decode(start: number, end: number): string {
    const raw = this.#raw;
    const policy = this.#policy;
    let out = '';
    let copied = start;
    for (let i = start; i < end; i++) {
      const c = raw.charCodeAt(i);
      let replacement: string;
      let next = i + 1;
      if (c === PERCENT) {
        const b = this.#octetAt(i, end);
        if (b < 0) throw new PathInvalidEncoding(`malformed percent-escape at offset ${i}`);
        if (b < 0x80) {
          replacement = decodedAscii(b, i, policy);
          next = i + 3;
        } else {
          const cp = this.#utf8(i, b, end);
          if (cp === LONG_S || cp === KELVIN) refuseFolding(cp, i);
          replacement = String.fromCodePoint(cp);
          next = this.#after;
        }
      } else if (c < 0x20 || c === 0x7f) {
        if (c === 0) throw new PathNulByte(`NUL at offset ${i}`);
        throw new PathInvalid(`control character at offset ${i}`);
      } else if (c === BACKSLASH) {
        // Only reached in 'reject' and 'keep' mode: 'decode' splits on '\' before decoding.
        if (policy.encodedSlashes === 'reject') throw new PathEncodedSlash(`'\\' at offset ${i}`);
        replacement = '%5C';
      } else if (c === LONG_S || c === KELVIN) {
        refuseFolding(c, i);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < end ? raw.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) {
          throw new PathInvalidEncoding(`lone surrogate at offset ${i}`);
        }
        i++;
        continue;
      } else {
        continue;
      }
      out += raw.slice(copied, i) + replacement;
      copied = next;
      i = next - 1;
    }
    return copied === start ? raw.slice(start, end) : out + raw.slice(copied, end);
  }

  /**
   * Decodes the UTF-8 sequence whose lead octet `lead` is encoded at `i`, returns its code point and
   * sets `#after`. Only well-formed UTF-8 (RFC 3629) passes: no overlong forms, no encoded surrogates,
   * nothing above U+10FFFF, and every octet of the sequence percent-encoded.
   */
  #utf8(i: number, lead: number, end: number): number {
    let count: number;
    let min = 0x80;
    let max = 0xbf;
    let cp: number;
    if (lead >= 0xc2 && lead <= 0xdf) {
      count = 1;
      cp = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      count = 2;
      cp = lead & 0x0f;
      if (lead === 0xe0) min = 0xa0;
      else if (lead === 0xed) max = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      count = 3;
      cp = lead & 0x07;
      if (lead === 0xf0) min = 0x90;
      else if (lead === 0xf4) max = 0x8f;
    } else {
      throw new PathInvalidEncoding(`invalid UTF-8 octet at offset ${i}`);
    }
    let at = i + 3;
    for (let k = 0; k < count; k++) {
      const b = this.#octetAt(at, end);
      if (b < min || b > max) throw new PathInvalidEncoding(`invalid UTF-8 sequence at offset ${i}`);
      cp = (cp << 6) | (b & 0x3f);
      min = 0x80;
      max = 0xbf;
      at += 3;
    }
    this.#after = at;
    return cp;
  }
}

// Escapes every character that has a meaning in a regular expression under the 'u' flag.
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

// A literal segment as a case-sensitive expression in which each ASCII letter is a class ('[aA]').
// Not the 'i' flag: with 'u' it folds 'ſ' to 's', 'K' (Kelvin) to 'k' and 'é' to 'É', spellings that a
// router never folds (it matches the percent-encoded target, where they are '%XX'), so a rule could
// take a request whose handler belongs to a later rule.
function literal(segment: string, caseSensitive: boolean): string {
  const escaped = escapeRegExp(segment);
  if (caseSensitive) return escaped;
  return escaped.replace(/[A-Za-z]/g, (ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`);
}

const PARAM = /^:[A-Za-z_$][\w$]*$/;

/**
 * Compiles a route pattern once into a matcher of paths produced by {@link normalizePath}.
 *
 * - `/orders` matches exactly that path;
 * - `/orders/:id` matches one non-empty segment in place of `:id`;
 * - `/orders/*` (only as the last segment) matches `/orders` and every path below it, not `/ordersx`.
 *
 * Literal segments are compared with the decoded path, so write them decoded (`/été`). Pattern text is
 * escaped, never interpreted as a regular expression. Unless `caseSensitive`, ASCII letters match in
 * either case and nothing else is folded, exactly as the frameworks' routers compare.
 *
 * @param policy - `caseSensitive` defaults to false ({@link DEFAULT_PATH_POLICY})
 * @throws TypeError for a pattern not starting with `/`, a `*` before the last segment, an invalid
 *   parameter name, or a `.`/`..` segment (which no normalized path contains).
 * @example
 *   const isOrder = createPathMatcher('/orders/:id');
 *   isOrder(normalizePath('/Orders/42/')); // true
 */
export function createPathMatcher(
  pattern: string,
  policy: Pick<PathPolicy, 'caseSensitive'> = DEFAULT_PATH_POLICY,
): (normalizedPath: string) => boolean {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== SLASH) {
    throw new TypeError(`path pattern must start with '/': ${JSON.stringify(pattern)}`);
  }
  const segments = pattern.slice(1).split('/');
  let source = '^';
  let dynamic = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '*') {
      if (!last) throw new TypeError(`'*' must be the last segment of path pattern '${pattern}'`);
      // [\s\S] rather than '.', which would stop at U+2028 and let '/orders/\u2028' slip past the rule.
      source += '(?:/[\\s\\S]*)?';
      dynamic = true;
    } else if (seg.charCodeAt(0) === 0x3a) {
      if (!PARAM.test(seg)) throw new TypeError(`invalid parameter '${seg}' in path pattern '${pattern}'`);
      source += '/[^/]+';
      dynamic = true;
    } else if (seg === '.' || seg === '..') {
      throw new TypeError(`path pattern '${pattern}' has a dot segment and can never match`);
    } else {
      source += `/${literal(seg, policy.caseSensitive)}`;
    }
  }
  if (!dynamic && policy.caseSensitive) return (path) => path === pattern;
  const re = new RegExp(`${source}$`, 'u');
  return (path) => re.test(path);
}
