// What an API version is: a number (`1`, `1.2`) or a date (`2026-01-15`), read from text once and
// ordered by one integer key; and the ranges routes and handler tables are written with (`2`, `2+`).
// Hand-written: semver's grammar (three parts, pre-releases) is not this one, and parsing a request's
// version is one short scan that must never throw on what a client sends.

/** A version as Gatehouse compares it. Immutable. */
export interface ApiVersion {
  /** `'number'` (`1`, `1.2`) or `'date'` (`2026-01-15`); versions of different kinds never compare equal. */
  readonly kind: 'number' | 'date';
  /** The canonical spelling: `1` for `v1`, `1.0` and `01`; `1.2`; `2026-01-15`. */
  readonly text: string;
  /** Orders versions of one kind: `major * 1e6 + minor`, or `yyyymmdd`. */
  readonly key: number;
}

const MAX_PART = 999_999;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const DOT = 0x2e;
const DASH = 0x2d;

const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;

/** Reads the digits `[start, end)` as an integer, or -1 when empty, not all digits or above {@link MAX_PART}. */
function digits(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - DIGIT_0);
    if (n > MAX_PART) return -1;
  }
  return n;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}

/**
 * Parses a version as a client or a configuration writes it: `1`, `1.2`, `v2`, `V1.0`, `2026-01-15`
 * (surrounding white space ignored). Numbers have one or two parts of at most six digits; a
 * date is a real calendar date. Anything else is `undefined`; this never throws.
 *
 * @example parseVersion('v1.0'); // { kind: 'number', text: '1', key: 1000000 }
 */
export function parseVersion(input: string): ApiVersion | undefined {
  if (typeof input !== 'string') return undefined;
  const text = input.trim();
  // 'v', six digits, '.', six digits: nothing longer is a version.
  if (text.length === 0 || text.length > 14) return undefined;
  const first = text.charCodeAt(0);
  const start = first === 0x76 || first === 0x56 ? 1 : 0; // 'v' / 'V'
  const end = text.length;
  if (start >= end) return undefined;

  // A date: yyyy-mm-dd exactly.
  if (end - start === 10 && text.charCodeAt(start + 4) === DASH && text.charCodeAt(start + 7) === DASH) {
    const year = digits(text, start, start + 4);
    const month = digits(text, start + 5, start + 7);
    const day = digits(text, start + 8, start + 10);
    if (year < 1 || month < 0 || day < 0 || !isCalendarDate(year, month, day)) return undefined;
    return { kind: 'date', text: text.slice(start), key: year * 10_000 + month * 100 + day };
  }

  let dot = -1;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === DOT) {
      dot = i;
      break;
    }
  }
  const major = digits(text, start, dot === -1 ? end : dot);
  if (major < 0) return undefined;
  let minor = 0;
  if (dot !== -1) {
    minor = digits(text, dot + 1, end);
    if (minor < 0) return undefined;
  }
  return {
    kind: 'number',
    text: minor === 0 ? String(major) : `${major}.${minor}`,
    key: major * 1e6 + minor,
  };
}

/** Orders two versions of one kind (negative when `a` is older); dates after numbers otherwise. */
export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  if (a.kind !== b.kind) return a.kind === 'number' ? -1 : 1;
  return a.key - b.key;
}

/** Whether two versions are the same version (`1` and `v1.0` are). */
export function sameVersion(a: ApiVersion, b: ApiVersion): boolean {
  return a.kind === b.kind && a.key === b.key;
}

/**
 * A set of versions a route or a handler serves: one version (`'2'`), or a baseline and every later
 * version of its kind (`'2+'`, `'2026-01-15+'`).
 */
export interface VersionRange {
  /** As written, trimmed: `'2+'`. */
  readonly text: string;
  /** The version, or the baseline of a `+` range. */
  readonly from: ApiVersion;
  /** True for a `+` range. */
  readonly orLater: boolean;
  includes(version: ApiVersion): boolean;
}

/**
 * Parses `'2'`, `'1.2'`, `'2026-01-15'` (exactly that version) or `'2+'` (that version and every
 * later one of its kind); `undefined` when it is neither.
 *
 * @example parseVersionRange('2+')!.includes(parseVersion('3')!); // true
 */
export function parseVersionRange(input: string | number): VersionRange | undefined {
  const text = String(input).trim();
  const orLater = text.endsWith('+');
  const from = parseVersion(orLater ? text.slice(0, -1) : text);
  if (from === undefined) return undefined;
  return {
    text,
    from,
    orLater,
    includes: orLater
      ? (v) => v.kind === from.kind && v.key >= from.key
      : (v) => v.kind === from.kind && v.key === from.key,
  };
}
