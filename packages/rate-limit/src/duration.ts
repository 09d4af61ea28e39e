// Durations in options: a number of seconds or a short text ('500ms', '30s', '15m', '1h', '1d').

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** A duration option: seconds as a number, or text with a unit (`'1s'`, `'15m'`, `'1h'`, `'1d'`). */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** Milliseconds for a duration option; `undefined` when it is not one (negative, NaN, bad unit). */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION.exec(value.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}
