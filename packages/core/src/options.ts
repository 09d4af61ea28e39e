// Option checking shared by every capability factory (auth, rate limiting, …): collect every
// problem, then throw one ConfigError that lists them all with a path to each
// (`rateLimit.limits[0].points: must be a positive integer`).
import { suggest } from './config/suggest.js';
import { ConfigError, type ConfigProblem } from './config/validate.js';

/** Collects option problems under a path prefix; {@link Problems.throwIfAny} reports them together. */
export class Problems {
  readonly #list: ConfigProblem[] = [];
  readonly #prefix: string;

  /** @param prefix - the options' own path, e.g. `'auth.jwt'` */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Records a problem at `path` (relative to the prefix; '' for the options object itself). */
  add(path: string, message: string): void {
    const full =
      path === ''
        ? this.#prefix
        : path.startsWith('[')
          ? `${this.#prefix}${path}`
          : `${this.#prefix}.${path}`;
    this.#list.push({ path: full, message });
  }

  /** Records the problems of a nested check (a caught ConfigError); rethrows anything else. */
  merge(error: unknown): void {
    if (error instanceof ConfigError) this.#list.push(...error.problems);
    else throw error;
  }

  get count(): number {
    return this.#list.length;
  }

  /** Throws a ConfigError listing every recorded problem, if there is any. */
  throwIfAny(): void {
    if (this.#list.length > 0) throw new ConfigError(this.#list);
  }
}

/** A positive finite integer, else a problem; returns the value or the default. */
export function positiveInt(problems: Problems, path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    problems.add(path, `must be a positive integer, got ${JSON.stringify(value) ?? String(value)}`);
    return fallback;
  }
  return value;
}

/** A non-empty string, else a problem. */
export function nonEmptyString(problems: Problems, path: string, value: unknown): value is string {
  if (typeof value === 'string' && value.length > 0) return true;
  problems.add(path, value === undefined ? 'is required' : 'must be a non-empty string');
  return false;
}

/**
 * Records every key of `value` that is not in `known`: a misspelt option (`role` for `roles`,
 * `point` for `points`) must fail at start-up, never silently weaken a policy.
 */
export function unknownKeys(problems: Problems, path: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const at = path === '' ? key : `${path}.${key}`;
    const near = suggest(key, known)[0];
    problems.add(
      at,
      near === undefined
        ? `unknown option; expected one of ${known.join(', ')}`
        : `unknown option; did you mean '${near}'?`,
    );
  }
}
