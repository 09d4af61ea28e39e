// Durations in options: a whole number of seconds, or a short text with a unit ('30s', '15m', '1h',
// '1d'). Every window a rate limit counts in is a whole number of seconds (the `w` of RateLimit-Policy
// and the Redis counters' TTL are), so the type, the parser and the schema accept exactly that.

type NonZeroDigit = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type Digit = '0' | NonZeroDigit;
/** The units a duration text may end in. */
export type DurationUnit = 's' | 'm' | 'h' | 'd';

/**
 * A duration option: seconds as a positive integer (`60`), or 1 to 999 whole seconds, minutes, hours
 * or days as text (`'1s'`, `'15m'`, `'1h'`, `'1d'`). The text form is spelt out digit by digit so that
 * TypeScript refuses what the parser refuses (`'1.5s'`, `'500ms'`, `'0s'`, `'-1s'`, `'01s'`); a number
 * that is not a positive integer (`1.5`) cannot be told apart by type and is refused when the options
 * are checked.
 */
export type Duration = number | DurationText;

/** The text form of a {@link Duration} (`'15m'`). */
export type DurationText = `${NonZeroDigit}${'' | Digit}${'' | Digit}${DurationUnit}`;

const UNIT_MS: Readonly<Record<DurationUnit, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^([1-9]\d*)(s|m|h|d)$/;

/**
 * Milliseconds for a duration option, or `undefined` when it is not one: a number must be a positive
 * integer (seconds), a text a positive whole number without leading zeros followed by `s`, `m`, `h`
 * or `d`. Accepts everything {@link Duration} allows (and longer texts, such as `'3600s'`).
 */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** What is wrong with a duration that {@link durationMs} refused, with the value it might have meant. */
export function durationProblem(value: unknown): string {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  const base = `expected a whole number of seconds (60) or of s, m, h or d ('30s', '15m', '1h', '1d'), received ${typeof value === 'string' ? `the string ${shown}` : shown}`;
  const meant = suggestDuration(value);
  return meant === undefined ? base : `${base} — did you mean ${meant}?`;
}

/** A whole-seconds spelling of a near miss (`'1500ms'` → none, `'2000ms'` → `'2s'`, `' 1m '` → `'1m'`). */
function suggestDuration(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 1 && !Number.isInteger(value)
      ? `${Math.round(value)} (whole seconds)`
      : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase().replace(/\s+/g, '');
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * (match[2] === 'ms' ? 1 : UNIT_MS[(match[2] ?? 's') as DurationUnit]);
  if (!(ms >= 1000) || ms % 1000 !== 0) return undefined;
  const seconds = ms / 1000;
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `'${seconds / size}${unit}'`;
  }
  return `'${seconds}s'`;
}
