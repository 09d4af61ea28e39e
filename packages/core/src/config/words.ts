// Values in words, for problems: `'text'` quoted and shortened, `the number 3`, `an empty array`.

/** `'text'`, escaped and shortened, for messages. */
export function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  return `'${JSON.stringify(shown).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** What a value is, for "received …": `the string '5s'`, `the number 3`, `true`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  switch (typeof value) {
    case 'undefined':
      return 'nothing';
    case 'string':
      return `the string ${quote(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return String(value);
    case 'bigint':
      return `the bigint ${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default: {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return 'an object';
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
    }
  }
}

const WORDY_BOOLEANS: Readonly<Record<string, string>> = {
  yes: 'true',
  on: 'true',
  true: 'true',
  no: 'false',
  off: 'false',
  false: 'false',
};

/** ` — did you mean true (without quotes)?` for `'yes'`, `'off'`, …; '' for anything else. */
export function booleanHint(input: unknown): string {
  const meant = typeof input === 'string' ? WORDY_BOOLEANS[input.toLowerCase()] : undefined;
  return meant === undefined ? '' : ` — did you mean ${meant} (without quotes)?`;
}
