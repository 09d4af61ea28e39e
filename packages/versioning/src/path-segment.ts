// The version segment of a normalized path (`/v2/orders`): found without allocating unless the
// segment starts like a version, and removed for `strip`.

/** Where segment `index` of `path` starts and ends (`[start, end)`), or undefined when there is none. */
function bounds(path: string, index: number): [number, number] | undefined {
  let start = 1;
  for (let i = 0; i < index; i++) {
    const slash = path.indexOf('/', start);
    if (slash === -1) return undefined;
    start = slash + 1;
  }
  if (start >= path.length) return undefined;
  const slash = path.indexOf('/', start);
  return [start, slash === -1 ? path.length : slash];
}

/**
 * The version written in segment `index` of a normalized path after `prefix` (lower case, compared
 * case-insensitively): `'2'` for `/v2/orders`. Only a segment whose text after the prefix starts with
 * a digit names a version (`/vendors` does not); its text is returned as is, to be parsed and checked.
 */
export function versionSegment(path: string, index: number, prefix: string): string | undefined {
  const at = bounds(path, index);
  if (at === undefined) return undefined;
  const [start, end] = at;
  const digitAt = start + prefix.length;
  if (digitAt >= end) return undefined;
  const c = path.charCodeAt(digitAt);
  if (c < 0x30 || c > 0x39) return undefined;
  for (let i = 0; i < prefix.length; i++) {
    let ch = path.charCodeAt(start + i);
    if (ch >= 0x41 && ch <= 0x5a) ch |= 0x20; // ASCII upper case to lower case
    if (ch !== prefix.charCodeAt(i)) return undefined;
  }
  return path.slice(digitAt, end);
}

/** `path` without segment `index` (`/v2/orders` → `/orders`, `/v2` → `/`). */
export function removePathSegment(path: string, index: number): string {
  const at = bounds(path, index);
  if (at === undefined) return path;
  const [start, end] = at;
  const out = path.slice(0, start - 1) + path.slice(end);
  return out === '' ? '/' : out;
}
