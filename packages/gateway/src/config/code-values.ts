// What code can give a configuration object that a file cannot: functions and objects built in code (a
// logger, a KeyObject, a store, a Redis client). The configuration machinery walks, copies and compares
// what a file holds (strings, numbers, arrays, plain objects) and passes these on as they are: never
// copied (a copy loses their prototype and private state; structuredClone refuses functions), never
// walked (a client holds cycles), compared by identity.

/** An object literal or parsed YAML/JSON (no class instance, no function): what a file can hold. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/**
 * A configuration value as text, for digests: JSON for what a file can hold (a URL as its href), and
 * for a code value its identity (the same logger twice is the same text, another logger is not).
 */
export function configText(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v instanceof URL) return v.href;
      if (
        typeof v === 'function' ||
        (typeof v === 'object' && v !== null && !Array.isArray(v) && !isPlainObject(v))
      ) {
        let id = identities.get(v);
        if (id === undefined) {
          id = ++nextIdentity;
          identities.set(v, id);
        }
        return `[code ${id}]`;
      }
      return v;
    }) ?? 'undefined'
  );
}
