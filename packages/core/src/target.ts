// One path, by construction: the request target the framework's router dispatches on is the canonical
// spelling of the normalized path Gatehouse decides on, so no spelling of a path can be routed to a
// handler while a rule written for that handler's path misses it.
//
// Express and Koa route on the RAW path (`parseurl(req).pathname`, percent-encoded, dot segments and
// all, ASCII case folded), while Gatehouse decides on `normalizePath`'s decoded form. The two agree
// exactly when the raw path is the canonical encoding of the normalized one: then the router's
// regular expressions see what the matchers see, letter for letter, with every non-ASCII or reserved
// character as `%XX`. So a target that is not canonical is rewritten to it before routing, or refused.
import { classifyPath, NOT_PLAIN, type PathPolicy, PLAIN } from './path.js';

const SLASH = 0x2f;
const PERCENT = 0x25;
const SEMICOLON = 0x3b;
const HEX = '0123456789ABCDEF';

/**
 * The canonical spelling of a path produced by `normalizePath` under `policy`: every character other
 * than `/`, RFC 3986 unreserved, sub-delims (except `;` and `'`), `:` and `@` percent-encoded as UTF-8
 * with upper-case hex (`#` → `%23`, `?` → `%3F`, `%` → `%25`, `é` → `%C3%A9`). Under
 * `encodedSlashes: 'keep'` a `%` is kept (it already starts `%2F`, `%5C` or `%25`), and under
 * `pathParams: 'keep'` a `;` is kept. `normalizePath` of the result is `normalized` again, and
 * Node's legacy URL parser leaves it unchanged, so both routers and Gatehouse read the same path.
 *
 * @example
 *   canonicalPath('/été/a b'); // '/%C3%A9t%C3%A9/a%20b'
 */
export function canonicalPath(normalized: string, policy: PathPolicy): string {
  const keepPercent = policy.encodedSlashes === 'keep';
  const keepSemicolon = policy.pathParams === 'keep';
  let out = '';
  let copied = 0;
  for (let i = 0; i < normalized.length; i++) {
    const c = normalized.charCodeAt(i);
    if (c < 0x80) {
      if (
        PLAIN[c] === 1 ||
        c === SLASH ||
        (c === PERCENT && keepPercent) ||
        (c === SEMICOLON && keepSemicolon)
      ) {
        continue;
      }
      out += `${normalized.slice(copied, i)}%${HEX[c >> 4]}${HEX[c & 15]}`;
    } else {
      // A surrogate pair is one code point; normalizePath never leaves a lone surrogate.
      const wide = c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      out += normalized.slice(copied, i) + encodeURIComponent(normalized.slice(i, i + wide));
      i += wide - 1;
    }
    copied = i + 1;
  }
  return copied === 0 ? normalized : out + normalized.slice(copied);
}

/**
 * `undefined` when the raw path (the request target before `?`) may reach the router as it is, else
 * the canonical path it must be replaced by. `normalized` is `normalizePath(rawPath, policy)`.
 *
 * A raw path may stay when it is the canonical spelling of `normalized`, or (trailing slashes
 * stripped) that spelling plus one `/`: Express and `@koa/router` match `/a/` as `/a` unless strict.
 * The common case, a path of plain segments, costs one scan and no allocation.
 */
export function canonicalTarget(rawPath: string, normalized: string, policy: PathPolicy): string | undefined {
  if (classifyPath(rawPath) !== NOT_PLAIN) return undefined;
  const canonical = canonicalPath(normalized, policy);
  if (rawPath === canonical) return undefined;
  if (
    policy.trailingSlash === 'strip' &&
    canonical !== '/' &&
    rawPath.length === canonical.length + 1 &&
    rawPath.charCodeAt(canonical.length) === SLASH &&
    rawPath.startsWith(canonical)
  ) {
    return undefined;
  }
  return canonical;
}
